package dashboard

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
)

//go:embed ui
var files embed.FS

// AssetPrefix is the path under which the page's assets are served.
const AssetPrefix = "/ui/"

// indexFile is the page served at GET /.
const indexFile = "index.html"

// asset is one embedded file, ready to serve.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// Handler serves the dashboard: GET or HEAD of "/" is the page, of
// AssetPrefix+name an asset; anything else is 404. It is safe for
// concurrent use.
type Handler struct {
	assets map[string]asset // by path under ui/
}

// New returns the handler over the embedded files. It fails only if a
// file has no known content type, which a test rules out.
func New() (*Handler, error) {
	h := &Handler{assets: make(map[string]asset)}
	err := fs.WalkDir(files, "ui", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := files.ReadFile(p)
		if err != nil {
			return fmt.Errorf("dashboard: read %s: %w", p, err)
		}
		ct := contentType(p)
		if ct == "" {
			return fmt.Errorf("dashboard: %s: %w", p, ErrUnknownType)
		}
		sum := sha256.Sum256(body)
		h.assets[strings.TrimPrefix(p, "ui/")] = asset{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, ok := h.assets[indexFile]; !ok {
		return nil, fmt.Errorf("dashboard: %s not embedded", indexFile)
	}
	return h, nil
}

// ErrUnknownType means an embedded file's extension has no content type.
var ErrUnknownType = errors.New("no content type for this extension")

// contentType returns the type to serve the file p with, by extension; ""
// for an extension the dashboard does not use.
func contentType(p string) string {
	switch path.Ext(p) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".txt":
		return "text/plain; charset=utf-8"
	}
	return ""
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := indexFile
	if r.URL.Path != "/" {
		rest, ok := strings.CutPrefix(r.URL.Path, AssetPrefix)
		if !ok || rest == indexFile {
			http.NotFound(w, r)
			return
		}
		name = rest
	}
	a, ok := h.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.contentType)
	hd.Set("Content-Security-Policy", csp(r.Host))
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", a.etag)
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Length", fmt.Sprint(len(a.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := w.Write(a.body); err != nil {
		return // the client went away; nothing to tell it
	}
}

// etagMatches reports whether the If-None-Match header lists etag (or *).
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), "W/"))
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// hostPattern is a Host header safe to write into the policy: a name or
// an IPv4 or bracketed IPv6 address, with an optional port. Anything else
// (a header an attacker chose, with spaces or semicolons) gets the policy
// without the explicit websocket source.
var hostPattern = regexp.MustCompile(`^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$`)

// csp returns the Content-Security-Policy of every answer: everything of
// the node's own origin only, no inline script or style, no frames, no
// forms. connect-src names the node's websocket explicitly, since older
// browsers do not count ws:// of the same host as 'self'.
func csp(host string) string {
	connect := "'self'"
	if hostPattern.MatchString(host) {
		connect += " ws://" + host + " wss://" + host
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src " + connect +
		"; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}
