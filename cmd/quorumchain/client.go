package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quorumchain/quorumchain/rpc"
)

// Defaults of the commands that talk to a node.
const (
	envRPC     = "QUORUMCHAIN_RPC"
	defaultRPC = "ws://127.0.0.1:26657/ws"

	// callTimeout bounds connecting to the node and each query, so that a
	// node that accepts connections but never answers cannot hang a command.
	callTimeout = 30 * time.Second
)

func rpcFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    "rpc",
		Usage:   "node JSON-RPC endpoint: ws://HOST:PORT/ws, or http://HOST:PORT for commands that need no subscription",
		EnvVars: []string{envRPC},
		Value:   defaultRPC,
	}
}

// signalContext is done on SIGINT or SIGTERM: commands that wait stop
// cleanly on Ctrl-C.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// nodeClient is an rpc.Client that turns transport failures and JSON-RPC
// errors into one-line errors saying what to do.
type nodeClient struct {
	*rpc.Client
	url string
}

// rpcURL checks --rpc; needWS says the command subscribes, which needs a
// websocket.
func rpcURL(c *cli.Context, needWS bool) (string, error) {
	raw := c.String("rpc")
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("--rpc %q: want a URL such as %s", raw, defaultRPC)
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http", "https":
		if needWS {
			return "", fmt.Errorf("--rpc %s: this command subscribes to events and needs a websocket URL such as ws://%s/ws", raw, u.Host)
		}
	default:
		return "", fmt.Errorf("--rpc %q: want a ws://, wss://, http:// or https:// URL such as %s", raw, defaultRPC)
	}
	return raw, nil
}

// dialNode connects to --rpc. For an http:// URL nothing is sent until the
// first call.
func dialNode(ctx context.Context, c *cli.Context, needWS bool) (*nodeClient, error) {
	u, err := rpcURL(c, needWS)
	if err != nil {
		return nil, err
	}
	return dialURL(ctx, u)
}

func dialURL(ctx context.Context, u string) (*nodeClient, error) { return dialTLS(ctx, u, nil) }

// dialTLS is dialURL with a TLS configuration for wss:// and https://
// (nil: Go's defaults).
func dialTLS(ctx context.Context, u string, tlsConfig *tls.Config) (*nodeClient, error) {
	dctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	cl, err := rpc.DialTLS(dctx, u, tlsConfig)
	if err != nil {
		return nil, (&nodeClient{url: u}).explain("", err)
	}
	return &nodeClient{Client: cl, url: u}, nil
}

// explain rewrites an error of the rpc client. A JSON-RPC error keeps the
// node's message and code (*nodeError); a transport error says how to reach
// the node. An error explained already is returned as it is.
func (n *nodeClient) explain(method string, err error) error {
	var rerr *rpc.Error
	var nerr *nodeError
	var xerr *explainedError
	var ferr *fatalError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &nerr), errors.As(err, &xerr), errors.As(err, &ferr), errors.Is(err, errInterrupted):
		return err
	case errors.As(err, &rerr):
		return &nodeError{method: method, err: rerr}
	case errors.Is(err, context.Canceled):
		return errInterrupted
	case errors.Is(err, context.DeadlineExceeded):
		return explained(err, "node at %s did not answer within %s (is it overloaded or stuck?)", n.url, callTimeout)
	}
	var opErr *net.OpError
	switch msg := err.Error(); {
	case errors.As(err, &opErr):
		return explained(err, "cannot reach node at %s: %s (is the node running? set --rpc or %s)", n.url, rootCause(err), envRPC)
	case strings.Contains(msg, "bad handshake"):
		return explained(err, "cannot open a websocket at %s: %s (is it a quorumchain node's RPC endpoint, ws://HOST:PORT/ws?)", n.url, rootCause(err))
	case strings.Contains(msg, "connection lost"), errors.Is(err, rpc.ErrClientClosed):
		return explained(err, "lost connection to node at %s: %s (is the node still running?)", n.url, rootCause(err))
	}
	return explained(err, "node at %s: %s", n.url, err)
}

// explainedError is an error that explain rewrote; it wraps the original.
type explainedError struct {
	msg string
	err error
}

func explained(err error, format string, args ...any) error {
	return &explainedError{msg: fmt.Sprintf(format, args...), err: err}
}

func (e *explainedError) Error() string { return e.msg }
func (e *explainedError) Unwrap() error { return e.err }

// nodeError is a JSON-RPC error answered by the node, with a hint saying
// what to do. errors.As finds the *rpc.Error.
type nodeError struct {
	method string
	err    *rpc.Error
}

func (e *nodeError) Error() string {
	prefix := ""
	if e.method != "" {
		prefix = e.method + ": "
	}
	return fmt.Sprintf("%snode answered: %s (code %d)%s", prefix, e.err.Message, e.err.Code, errorHint(e.err.Code))
}

func (e *nodeError) Unwrap() error { return e.err }

// rpcCode is the JSON-RPC error code in err, or 0.
func rpcCode(err error) int {
	var rerr *rpc.Error
	if errors.As(err, &rerr) {
		return rerr.Code
	}
	return 0
}

// errInterrupted ends a command stopped by SIGINT before it finished.
var errInterrupted = errors.New("interrupted")

// errorHint says what to do about some JSON-RPC errors.
func errorHint(code int) string {
	switch code {
	case rpc.CodeBadNonce:
		return "; omit --nonce to use the account's next nonce, or check 'quorumchain account ADDR'"
	case rpc.CodeInsufficientFunds:
		return "; check the balance with 'quorumchain account ADDR'"
	case rpc.CodeWrongChain:
		return "; is --rpc the node of the right chain?"
	case rpc.CodeMempoolFull:
		return "; retry later"
	case rpc.CodeTooManyConnections, rpc.CodeBusy, rpc.CodeTimeout:
		return "; retry later"
	case rpc.CodeRateLimited:
		return "; slow down, or raise [rpc] requests_per_second on the node"
	case rpc.CodeResponseTooLarge:
		return "; the node's [rpc] max_response_bytes bounds an answer"
	}
	return ""
}

// rootCause is the innermost wrapped error's message: "connection
// refused" rather than the whole chain of dial contexts.
func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// call calls method and decodes its result into result.
func (n *nodeClient) call(ctx context.Context, method string, params, result any) error {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return n.explain(method, n.Call(cctx, method, params, result))
}

// query calls method, then prints its result object exactly as the node
// sent it when --output json was given, else decodes it into result and
// prints text.
func (n *nodeClient) query(ctx context.Context, c *cli.Context, method string, params, result any, text func(io.Writer) error) error {
	asJSON, err := outputJSON(c)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := n.call(ctx, method, params, &raw); err != nil {
		return err
	}
	if asJSON {
		return writeRawJSON(c.App.Writer, raw)
	}
	if err := json.Unmarshal(raw, result); err != nil {
		return fmt.Errorf("%s: unexpected result from node at %s: %w", method, n.url, err)
	}
	return text(c.App.Writer)
}

// writeRawJSON prints a JSON value from the node indented, without
// changing its fields.
func writeRawJSON(w io.Writer, raw json.RawMessage) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return fmt.Errorf("node sent malformed JSON: %w", err)
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// parseHeight parses a block height argument or flag value: decimal
// digits, at least 1.
func parseHeight(what, s string) (uint64, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%s %q: want a block height (a positive decimal integer)", what, s)
	}
	h, err := strconv.ParseUint(s, 10, 64)
	if err != nil || h == 0 {
		return 0, fmt.Errorf("%s %q: want a block height (a positive decimal integer)", what, s)
	}
	return h, nil
}

// Reconnection backoff of subscribe and vote --follow: it doubles from
// reconnectDelayMin after every failed attempt, up to reconnectDelayMax.
const (
	reconnectDelayMin = 200 * time.Millisecond
	reconnectDelayMax = 5 * time.Second
)

// redial reports why a connection was lost and dials url again (with
// tlsConfig, may be nil), waiting between attempts with a backoff that
// doubles up to reconnectDelayMax. It returns nil once ctx is done.
func redial(ctx context.Context, url string, tlsConfig *tls.Config, warn io.Writer, cause error) *nodeClient {
	delay := reconnectDelayMin
	fmt.Fprintf(warn, "quorumchain: warning: %s; reconnecting in %s\n", oneLine(cause.Error()), delay)
	for {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		n, err := dialTLS(ctx, url, tlsConfig)
		if err == nil {
			return n
		}
		if ctx.Err() != nil {
			return nil
		}
		delay = min(2*delay, reconnectDelayMax)
		fmt.Fprintf(warn, "quorumchain: warning: %s; retrying in %s\n", oneLine(err.Error()), delay)
	}
}

// retryable reports whether a failed session is worth reconnecting for: a
// lost connection, or a node that cannot serve yet. Other JSON-RPC errors
// (a bad filter, too many subscriptions) would fail again, and a
// *fatalError says to stop.
func retryable(err error) bool {
	if isFatal(err) {
		return false
	}
	var rerr *rpc.Error
	if !errors.As(err, &rerr) {
		return true
	}
	switch rerr.Code {
	case rpc.CodeUnavailable, rpc.CodeTooManyConnections, rpc.CodeBusy, rpc.CodeRateLimited, rpc.CodeTimeout:
		return true
	}
	return false
}

// fatalError stops subscribe and vote --follow instead of reconnecting.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

func isFatal(err error) bool {
	var f *fatalError
	return errors.As(err, &f)
}
