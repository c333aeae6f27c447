package rpc

import (
	"context"
	"errors"
	"fmt"

	"github.com/quorumchain/quorumchain/chain"
)

// Error is a JSON-RPC error object. The server sends one for every failed
// request; the Client returns one (as *Error) for every error response.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return fmt.Sprintf("rpc error %d: %s", e.Code, e.Message) }

// Error codes. The JSON-RPC 2.0 codes are standard; the application codes
// (-32000 to -32099) are stable: clients and scripts may match on them.
const (
	CodeParseError     = -32700 // the message is not valid JSON
	CodeInvalidRequest = -32600 // valid JSON but not a JSON-RPC 2.0 request (or an empty or oversized batch)
	CodeMethodNotFound = -32601 // no such method (or a subscription method over HTTP)
	CodeInvalidParams  = -32602 // missing, malformed or unknown params fields
	CodeInternal       = -32603 // the node failed; the message says how

	CodeNotFound             = -32000 // no such block, transaction, validator set or subscription
	CodeInvalidTx            = -32001 // transaction malformed or badly signed; also a bad signature in consensus_submitSigned
	CodeWrongChain           = -32002 // transaction signed for another chain id
	CodeBadNonce             = -32003 // nonce is not the account's next one, or the transaction is already known
	CodeMempoolFull          = -32004 // mempool full: retry later
	CodeTooManySubscriptions = -32005 // the connection has Config.MaxSubscriptionsPerConn subscriptions
	CodeUnknownTopic         = -32006 // chain_subscribe topic is not one of Topics
	CodeMessageTooLarge      = -32007 // the message exceeds Config.MaxMessageBytes (the websocket is then closed)
	CodeTooManyConnections   = -32008 // Config.MaxConnections websockets are open (HTTP 503 at upgrade)
	CodeDutyNotFound         = -32009 // consensus_submitSigned: no pending sign request with that id
	CodeInsufficientFunds    = -32010 // balance too low for the transaction's amount
	CodeUnavailable          = -32011 // this node cannot serve it (syncing, no remote signer for that validator)

	// Refusals of the server's defences. Each is also counted in
	// quorumchain_rpc_refusals_total with the reason in brackets.
	CodeForbiddenOrigin  = -32012 // [origin] a browser Origin not in Config.AllowedOrigins (HTTP 403)
	CodeBusy             = -32013 // [http_busy] Config.MaxHTTPRequests are being served: retry later (HTTP 503)
	CodeRateLimited      = -32014 // [rate] the connection exceeded Config.RequestsPerSecond: slow down
	CodeResponseTooLarge = -32015 // [response_size] the answer would exceed Config.MaxResponseBytes
	CodeTimeout          = -32016 // [timeout] not answered within Config.RequestTimeout
)

// Sentinel errors for Backend implementations: wrap them (fmt.Errorf("...:
// %w", rpc.ErrBadNonce)) and the server answers with their code and the
// wrapped message. The chain package's validation errors map too:
// chain.ErrWrongChain to CodeWrongChain; chain.ErrMalformed, ErrOversized,
// ErrUnknownKind, ErrInvalidFields, ErrBadSignature and ErrWrongSigner to
// CodeInvalidTx. Any other error is CodeInternal.
var (
	ErrNotFound            = errors.New("not found")
	ErrInvalidTx           = errors.New("invalid transaction")
	ErrInvalidSignature    = errors.New("invalid signature")
	ErrWrongChain          = errors.New("wrong chain id")
	ErrBadNonce            = errors.New("bad nonce")
	ErrMempoolFull         = errors.New("mempool full")
	ErrDutyNotFound        = errors.New("no pending sign request with that id")
	ErrInsufficientBalance = errors.New("insufficient balance")
	ErrUnavailable         = errors.New("unavailable on this node")
)

var errorCodes = []struct {
	err  error
	code int
}{
	{ErrNotFound, CodeNotFound},
	{ErrInvalidTx, CodeInvalidTx},
	{ErrInvalidSignature, CodeInvalidTx},
	{ErrWrongChain, CodeWrongChain},
	{ErrBadNonce, CodeBadNonce},
	{ErrMempoolFull, CodeMempoolFull},
	{ErrDutyNotFound, CodeDutyNotFound},
	{ErrInsufficientBalance, CodeInsufficientFunds},
	{ErrUnavailable, CodeUnavailable},
	{chain.ErrWrongChain, CodeWrongChain},
	{chain.ErrMalformed, CodeInvalidTx},
	{chain.ErrOversized, CodeInvalidTx},
	{chain.ErrUnknownKind, CodeInvalidTx},
	{chain.ErrInvalidFields, CodeInvalidTx},
	{chain.ErrBadSignature, CodeInvalidTx},
	{chain.ErrWrongSigner, CodeInvalidTx},
}

// toError turns a handler or Backend error into the JSON-RPC error sent.
func toError(err error) *Error {
	var rerr *Error
	if errors.As(err, &rerr) {
		return rerr
	}
	for _, ec := range errorCodes {
		if errors.Is(err, ec.err) {
			return &Error{Code: ec.code, Message: err.Error()}
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: CodeTimeout, Message: "request timed out: " + err.Error()}
	}
	return &Error{Code: CodeInternal, Message: "internal error: " + err.Error()}
}

func invalidParams(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidParams, Message: "invalid params: " + fmt.Sprintf(format, args...)}
}
