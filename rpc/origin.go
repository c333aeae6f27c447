package rpc

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// ErrBadOrigin means an entry of Config.AllowedOrigins is not an origin.
var ErrBadOrigin = errors.New("not an origin: want \"*\" or scheme://host[:port]")

// originPolicy decides which browser origins may use the RPC. A browser
// attaches Origin to every websocket handshake and to every cross-site
// POST; without a check, any page its user visits could subscribe, submit
// and hold connections on the node. Requests without Origin come from
// programs, not from pages, and are served.
type originPolicy struct {
	any     bool
	allowed map[string]struct{} // normalized origins
}

// newOriginPolicy builds the policy of Config.AllowedOrigins; entries that
// do not parse (CheckOrigins reports them) allow nothing.
func newOriginPolicy(origins []string) originPolicy {
	p := originPolicy{allowed: make(map[string]struct{}, len(origins))}
	for _, o := range origins {
		if o == "*" {
			p.any = true
			continue
		}
		if n, err := normalizeOrigin(o); err == nil {
			p.allowed[n] = struct{}{}
		}
	}
	return p
}

// CheckOrigins reports the first entry of origins (Config.AllowedOrigins)
// that is neither "*" nor an origin scheme://host[:port] without path,
// query or user, wrapping ErrBadOrigin.
func CheckOrigins(origins []string) error {
	for i, o := range origins {
		if o == "*" {
			continue
		}
		if _, err := normalizeOrigin(o); err != nil {
			return fmt.Errorf("allowed origin %d %q: %w", i, o, err)
		}
	}
	return nil
}

// normalizeOrigin returns o as a browser writes it in Origin: lowercase
// scheme and host, no default port.
func normalizeOrigin(o string) (string, error) {
	u, err := url.Parse(o)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadOrigin, err)
	}
	if u.Scheme == "" || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", ErrBadOrigin
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if h, port, err := net.SplitHostPort(host); err == nil {
		if port == "" || (scheme == "http" || scheme == "ws") && port == "80" || (scheme == "https" || scheme == "wss") && port == "443" {
			host = h
			if strings.Contains(h, ":") {
				host = "[" + h + "]"
			}
		}
	}
	return scheme + "://" + host, nil
}

// sameOrigin reports whether origin names the host the request was sent
// to: a page the node serves itself. The host must be an IP address or
// localhost: a page of evil.example whose name an attacker points at
// 127.0.0.1 (DNS rebinding) sends Origin and Host both evil.example, and is
// not the node's own. A node served under a DNS name lists its origin in
// [rpc] allowed_origins.
func sameOrigin(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host) && literalHost(u.Hostname())
}

// literalHost reports whether host is an IP address or localhost, names no
// DNS lookup can point elsewhere.
func literalHost(host string) bool {
	return strings.EqualFold(host, "localhost") || net.ParseIP(host) != nil
}

// check returns nil when r may be served: no Origin, the node's own, or an
// allowed one; otherwise the -32012 error to refuse it with.
func (p originPolicy) check(r *http.Request) *Error {
	origin := r.Header.Get("Origin")
	if origin == "" || p.any || sameOrigin(origin, r) {
		return nil
	}
	if n, err := normalizeOrigin(origin); err == nil {
		if _, ok := p.allowed[n]; ok {
			return nil
		}
	}
	return &Error{Code: CodeForbiddenOrigin, Message: fmt.Sprintf(
		"origin %q is not allowed: the node serves browser pages of its own origin and of [rpc] allowed_origins only", clip(origin, 200))}
}

// crossOrigin reports whether r carries an Origin other than the node's
// own, which then needs CORS headers in the answer.
func crossOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	return origin != "" && !sameOrigin(origin, r)
}

// withOrigin guards an HTTP handler: a request from a refused origin gets
// HTTP 403 with a -32012 error; an allowed cross-origin request gets the
// CORS headers that let its page read the answer.
func (s *Server) withOrigin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if e := s.origins.check(r); e != nil {
			s.refuseHTTP(w, http.StatusForbidden, refusedOrigin, e)
			return
		}
		if crossOrigin(r) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
			h.Add("Vary", "Origin")
		}
		next(w, r)
	}
}

// servePreflight answers a browser's CORS preflight (OPTIONS /) for an
// allowed origin: POST with a JSON body may follow.
func (s *Server) servePreflight(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", corsMaxAge)
	w.WriteHeader(http.StatusNoContent)
}

// clip shortens s to at most n bytes for an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
