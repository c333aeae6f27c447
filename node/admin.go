package node

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/quorumchain/quorumchain/p2p"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/validator"
)

// The admin endpoint of a test network node (p2p.testnet_faults): a small
// JSON API on its own loopback listener that sets and clears the faults
// injected into this node. Every request carries
//
//	Authorization: Bearer <token>
//
// where token is the 64 hex digits (32 random bytes) of the testnet's
// admin token file; a missing or wrong token is answered 401 and nothing
// else. Every answer but an error is the node's FaultsResult (the shape of
// net_getFaults); an error is {"error": "..."}.
//
//	GET    /faults                                      list
//	PUT    /faults/partition {"peers": ["0x<nodeId>"]}  neither send to nor accept from these peers
//	DELETE /faults/partition                            heal
//	PUT    /faults/delay     {"delayMs": 200, "jitterMs": 50}
//	DELETE /faults/delay
//	PUT    /faults/drop      {"rate": 0.2}
//	DELETE /faults/drop
//	PUT    /faults/byzantine {"mode": "equivocate"}      or double-propose, nil-votes, silent, off
//	DELETE /faults/byzantine                            off
//	DELETE /faults                                      clear everything

// Admin endpoint limits.
const (
	// AdminTokenBytes is the size of the admin token (hex in its file).
	AdminTokenBytes = 32
	// MaxAdminBodyBytes bounds an admin request body (a partition of
	// p2p.MaxPartitionPeers NodeIDs fits).
	MaxAdminBodyBytes = 64 << 10
	adminTimeout      = 10 * time.Second
)

// Admin request bodies.
type (
	// AdminPartition is the body of PUT /faults/partition.
	AdminPartition struct {
		Peers []string `json:"peers"`
	}
	// AdminDelay is the body of PUT /faults/delay.
	AdminDelay struct {
		DelayMs  int64 `json:"delayMs"`
		JitterMs int64 `json:"jitterMs"`
	}
	// AdminDrop is the body of PUT /faults/drop.
	AdminDrop struct {
		Rate *float64 `json:"rate"`
	}
	// AdminByzantine is the body of PUT /faults/byzantine.
	AdminByzantine struct {
		Mode string `json:"mode"`
	}
	// AdminError is the body of every error answer.
	AdminError struct {
		Error string `json:"error"`
	}
)

// ReadAdminToken reads a token file: 64 hex digits and an optional
// newline, in a file only its owner may read or write.
func ReadAdminToken(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("admin token: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("admin token %s: mode %v, want 0600 (only the owner may read it)", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("admin token: %w", err)
	}
	tok, err := hex.DecodeString(strings.TrimRight(string(b), "\r\n"))
	if err != nil || len(tok) != AdminTokenBytes {
		return nil, fmt.Errorf("admin token %s: want %d hex digits", path, 2*AdminTokenBytes)
	}
	return tok, nil
}

// adminServer serves the admin endpoint over a faultControl.
type adminServer struct {
	faults *faultControl
	token  []byte
	log    *slog.Logger
	now    func() time.Time
}

func (a *adminServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, _ *http.Request) { a.reply(w) })
	mux.HandleFunc("DELETE /faults", func(w http.ResponseWriter, _ *http.Request) {
		a.faults.layer.Clear()
		if a.faults.signer != nil {
			a.done(w, a.faults.setByzantine(validator.ByzantineOff, a.now()), "clear")
			return
		}
		a.done(w, nil, "clear")
	})
	mux.HandleFunc("PUT /faults/partition", func(w http.ResponseWriter, r *http.Request) {
		var req AdminPartition
		if !a.decode(w, r, &req) {
			return
		}
		ids := make([]p2p.NodeID, len(req.Peers))
		for i, s := range req.Peers {
			id, err := p2p.ParseNodeID(s)
			if err != nil {
				a.fail(w, http.StatusBadRequest, fmt.Errorf("peers[%d]: %w", i, err))
				return
			}
			ids[i] = id
		}
		a.done(w, a.faults.layer.Partition(ids, a.now()), "partition")
	})
	mux.HandleFunc("DELETE /faults/partition", func(w http.ResponseWriter, _ *http.Request) {
		a.faults.layer.Heal()
		a.done(w, nil, "heal")
	})
	mux.HandleFunc("PUT /faults/delay", func(w http.ResponseWriter, r *http.Request) {
		var req AdminDelay
		if !a.decode(w, r, &req) {
			return
		}
		maxMs := p2p.MaxFaultDelay.Milliseconds()
		if req.DelayMs < 0 || req.JitterMs < 0 || req.DelayMs > maxMs || req.JitterMs > maxMs {
			a.fail(w, http.StatusBadRequest, fmt.Errorf("%w: delayMs %d, jitterMs %d: each 0 to %d", p2p.ErrBadFault, req.DelayMs, req.JitterMs, maxMs))
			return
		}
		a.done(w, a.faults.layer.SetDelay(time.Duration(req.DelayMs)*time.Millisecond, time.Duration(req.JitterMs)*time.Millisecond, a.now()), "delay")
	})
	mux.HandleFunc("DELETE /faults/delay", func(w http.ResponseWriter, _ *http.Request) {
		a.done(w, a.faults.layer.SetDelay(0, 0, a.now()), "clear delay")
	})
	mux.HandleFunc("PUT /faults/drop", func(w http.ResponseWriter, r *http.Request) {
		var req AdminDrop
		if !a.decode(w, r, &req) {
			return
		}
		if req.Rate == nil {
			a.fail(w, http.StatusBadRequest, errors.New("rate is required"))
			return
		}
		a.done(w, a.faults.layer.SetDropRate(*req.Rate, a.now()), "drop")
	})
	mux.HandleFunc("DELETE /faults/drop", func(w http.ResponseWriter, _ *http.Request) {
		a.done(w, a.faults.layer.SetDropRate(0, a.now()), "clear drop")
	})
	mux.HandleFunc("PUT /faults/byzantine", func(w http.ResponseWriter, r *http.Request) {
		var req AdminByzantine
		if !a.decode(w, r, &req) {
			return
		}
		m, err := validator.ParseByzantineMode(req.Mode)
		if err != nil {
			a.fail(w, http.StatusBadRequest, err)
			return
		}
		a.done(w, a.faults.setByzantine(m, a.now()), "byzantine "+m.String())
	})
	mux.HandleFunc("DELETE /faults/byzantine", func(w http.ResponseWriter, _ *http.Request) {
		a.done(w, a.faults.setByzantine(validator.ByzantineOff, a.now()), "byzantine off")
	})
	return a.authorize(mux)
}

// authorize answers 401 to a request without the token, compared in
// constant time, and bounds the body of the others.
func (a *adminServer) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		tok, err := hex.DecodeString(strings.TrimSpace(got))
		if !ok || err != nil || subtle.ConstantTimeCompare(tok, a.token) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="quorumchain admin"`)
			a.fail(w, http.StatusUnauthorized, errors.New("missing or wrong admin token"))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxAdminBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// decode reads a JSON body strictly (no unknown fields, nothing after it);
// it answers the error and returns false when it cannot.
func (a *adminServer) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON object")
	}
	if err == nil {
		if _, rerr := io.Copy(io.Discard, r.Body); rerr != nil {
			err = rerr
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		a.fail(w, http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d bytes", tooBig.Limit))
		return false
	case err != nil:
		a.fail(w, http.StatusBadRequest, fmt.Errorf("body: %w", err))
		return false
	}
	return true
}

// done answers the outcome of a change: the faults now active, or why the
// change was refused.
func (a *adminServer) done(w http.ResponseWriter, err error, what string) {
	switch {
	case errors.Is(err, ErrNoByzantine):
		a.fail(w, http.StatusConflict, err)
	case err != nil:
		a.fail(w, http.StatusBadRequest, err)
	default:
		a.log.Warn("test network fault changed", "change", what)
		a.reply(w)
	}
}

func (a *adminServer) reply(w http.ResponseWriter) { a.write(w, http.StatusOK, a.faults.list()) }

func (a *adminServer) fail(w http.ResponseWriter, status int, err error) {
	a.write(w, status, AdminError{Error: err.Error()})
}

func (a *adminServer) write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		a.log.Debug("admin: write answer", "err", err)
	}
}

// serve runs the admin endpoint on ln until ctx is done.
func (a *adminServer) serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.handler(),
		ReadHeaderTimeout: adminTimeout,
		ReadTimeout:       adminTimeout,
		WriteTimeout:      adminTimeout,
		MaxHeaderBytes:    8 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.log.Info("test network admin endpoint", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("admin: serve: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		a.log.Debug("admin: shutdown", "err", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("admin: serve: %w", err)
	}
	return nil
}

// Faults implements rpc.Backend.
func (b *backend) Faults(context.Context) (rpc.FaultsResult, error) { return b.faults.list(), nil }
