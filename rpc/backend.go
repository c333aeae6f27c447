package rpc

import (
	"context"

	"github.com/quorumchain/quorumchain/chain"
)

// Backend is what the server needs from a node. The node implements it
// over immutable snapshots and its store; every method may be called from
// many goroutines at once and must not wait on consensus.
//
// Errors: wrap the sentinels of this package (ErrNotFound, ErrInvalidTx,
// ErrWrongChain, ErrBadNonce, ErrMempoolFull, ErrDutyNotFound, ...) with
// %w; the server maps them to stable codes (see toError). Anything else is
// reported as an internal error.
//
// Ordering contract with the Hub: a height's finalized and txs events are
// published only after the Backend serves them (LatestHeight >= H,
// FinalizedEvents and TxEvents return them), and in increasing height
// order. Replay relies on it for "no gap, no duplicate".
type Backend interface {
	// ChainStatus returns the node's view of the chain.
	ChainStatus(ctx context.Context) (StatusResult, error)
	// Health returns nil when the node is fit to serve (GET /health 200),
	// otherwise why not (503).
	Health(ctx context.Context) error
	// LatestHeight returns the latest final height (0 before the first
	// block). It must be cheap: subscriptions call it while replaying.
	LatestHeight() uint64

	// Block returns the final block at height, or with hash; ErrNotFound
	// if there is none.
	Block(ctx context.Context, ref BlockRef) (BlockResult, error)
	// Validators returns the validator set of height, or of the latest
	// final height when height is nil; ErrNotFound for an unknown height.
	Validators(ctx context.Context, height *uint64) (ValidatorsResult, error)
	// Account returns the state of addr at the latest final height.
	Account(ctx context.Context, addr chain.Address) (AccountResult, error)
	// Tx returns the status of a transaction; ErrNotFound if the node
	// neither holds it in its mempool nor has it in a final block.
	Tx(ctx context.Context, hash chain.Hash) (TxResult, error)
	// SubmitTx admits a signed, encoded transaction into the mempool and
	// returns its hash. Errors: ErrInvalidTx (or chain's decode and
	// signature errors), ErrWrongChain, ErrBadNonce, ErrInsufficientBalance,
	// ErrMempoolFull.
	SubmitTx(ctx context.Context, raw []byte) (chain.Hash, error)

	// RoundState returns a snapshot of the consensus round.
	RoundState(ctx context.Context) (RoundStateResult, error)
	// Duties returns the pending sign requests of validator, oldest first;
	// ErrUnavailable if this node has no remote signer for it.
	Duties(ctx context.Context, validator chain.Address) ([]DutyResult, error)
	// SubmitSigned answers sign request id. Errors: ErrDutyNotFound,
	// ErrInvalidSignature.
	SubmitSigned(ctx context.Context, id uint64, sig chain.Signature) error

	// Faults returns the faults a test network injected into the node;
	// an empty result when there are none or faults are disabled.
	Faults(ctx context.Context) (FaultsResult, error)
	// Peers lists the connected peers, ordered by NodeID (net_getPeers).
	Peers(ctx context.Context) ([]PeerResult, error)

	// FinalizedEvents returns the finalized events of heights from..to
	// (inclusive, from <= to <= LatestHeight()) in height order. It may
	// return a shorter prefix (at least one event); the server asks again.
	FinalizedEvents(ctx context.Context, from, to uint64) ([]FinalizedEvent, error)
	// TxEvents returns the events of the transactions in the final block
	// at height, in block order, with status final or rejected and
	// Addresses filled; nil for a block without transactions.
	TxEvents(ctx context.Context, height uint64) ([]TxEvent, error)
}

// BlockRef selects a block: by Hash when it is not nil, else by Height.
type BlockRef struct {
	Height uint64
	Hash   *chain.Hash
}
