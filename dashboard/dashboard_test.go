package dashboard_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/quorumchain/quorumchain/dashboard"
)

func newHandler(t *testing.T) *dashboard.Handler {
	t.Helper()
	h, err := dashboard.New()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func get(t *testing.T, h http.Handler, method, path string, hdr map[string]string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	r.Host = "127.0.0.1:26657"
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

// TestServesPageAndAssets: the page and each asset it references come with
// their content type, the strict policy and revalidation headers.
func TestServesPageAndAssets(t *testing.T) {
	h := newHandler(t)
	res := get(t, h, http.MethodGet, "/", nil)
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: got %d %q, want 200 text/html", res.StatusCode, res.Header.Get("Content-Type"))
	}
	refs := regexp.MustCompile(`(?:src|href)="(/ui/[^"]+)"`).FindAllStringSubmatch(string(body), -1)
	if len(refs) < 2 {
		t.Fatalf("page references %d assets, want the stylesheet and the script", len(refs))
	}
	want := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
	paths := []string{"/ui/rpc.js", "/ui/views.js", "/ui/rotation.js", "/ui/chart.js"}
	for _, m := range refs {
		paths = append(paths, m[1])
	}
	for _, p := range paths {
		res := get(t, h, http.MethodGet, p, nil)
		ext := p[strings.LastIndex(p, "."):]
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != want[ext] {
			t.Errorf("GET %s: got %d %q, want 200 %q", p, res.StatusCode, res.Header.Get("Content-Type"), want[ext])
		}
		checkHeaders(t, p, res)
	}
	checkHeaders(t, "/", res)
}

func checkHeaders(t *testing.T, path string, res *http.Response) {
	t.Helper()
	csp := res.Header.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'",
		"connect-src 'self' ws://127.0.0.1:26657 wss://127.0.0.1:26657", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("%s: policy %q lacks %q", path, csp, d)
		}
	}
	if strings.Contains(csp, "unsafe") || strings.Contains(csp, "http:") || strings.Contains(csp, "https:") {
		t.Errorf("%s: policy %q allows more than the node itself", path, csp)
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Cache-Control") != "no-cache" || res.Header.Get("ETag") == "" {
		t.Errorf("%s: got nosniff %q, cache %q, etag %q; want nosniff, no-cache and an ETag", path,
			res.Header.Get("X-Content-Type-Options"), res.Header.Get("Cache-Control"), res.Header.Get("ETag"))
	}
}

// TestRevalidationAnswersNotModified: a browser holding the current ETag
// gets 304 without a body; a stale one gets the file.
func TestRevalidationAnswersNotModified(t *testing.T) {
	h := newHandler(t)
	etag := get(t, h, http.MethodGet, "/ui/app.js", nil).Header.Get("ETag")
	res := get(t, h, http.MethodGet, "/ui/app.js", map[string]string{"If-None-Match": etag})
	if b, _ := io.ReadAll(res.Body); res.StatusCode != http.StatusNotModified || len(b) != 0 {
		t.Fatalf("current etag: got %d with %d bytes, want 304 and no body", res.StatusCode, len(b))
	}
	res = get(t, h, http.MethodGet, "/ui/app.js", map[string]string{"If-None-Match": `"stale"`})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("stale etag: got %d, want 200", res.StatusCode)
	}
}

// TestRefusesOtherPathsAndMethods: only the page and embedded assets are
// served; a path outside ui/ (traversal included) is 404, a write is 405.
func TestRefusesOtherPathsAndMethods(t *testing.T) {
	h := newHandler(t)
	for _, p := range []string{"/ui/", "/ui/missing.js", "/ui/../dashboard.go", "/ui/index.html", "/index.html", "/ui/%2e%2e/doc.go"} {
		if res := get(t, h, http.MethodGet, p, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: got %d, want 404", p, res.StatusCode)
		}
	}
	if res := get(t, h, http.MethodPut, "/", nil); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT /: got %d, want 405", res.StatusCode)
	}
	res := get(t, h, http.MethodHead, "/", nil)
	if b, _ := io.ReadAll(res.Body); res.StatusCode != http.StatusOK || len(b) != 0 || res.Header.Get("Content-Length") == "" {
		t.Errorf("HEAD /: got %d with %d bytes, want 200, a length and no body", res.StatusCode, len(b))
	}
}

// TestHostileHostKeptOutOfPolicy: a Host header that is not a plain host
// cannot add sources to the policy.
func TestHostileHostKeptOutOfPolicy(t *testing.T) {
	h := newHandler(t)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Host = "evil.example; script-src *"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	csp := w.Result().Header.Get("Content-Security-Policy")
	if strings.Contains(csp, "evil") || strings.Contains(csp, "*") {
		t.Fatalf("policy %q took sources from the Host header", csp)
	}
}
