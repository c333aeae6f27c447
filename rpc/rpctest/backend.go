// Package rpctest provides an in-memory rpc.Backend for tests of the rpc
// server, its clients and the CLI: a chain of finalized events stored
// before they are published (the order the node follows), with settable
// accounts, validators, round state, duties and injectable errors.
package rpctest

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/rpc"
)

// ChainID is the chain id the Backend reports.
const ChainID = "quorum-test"

// Backend is an in-memory rpc.Backend. Its zero value is not usable; call
// NewBackend. All methods are safe for concurrent use.
type Backend struct {
	mu         sync.Mutex
	finalized  []rpc.FinalizedEvent // finalized[h-1] is height h
	txEvents   map[uint64][]rpc.TxEvent
	txs        map[chain.Hash]rpc.TxResult
	accounts   map[chain.Address]rpc.AccountResult
	validators rpc.ValidatorsResult
	round      rpc.RoundStateResult
	duties     map[chain.Address][]rpc.DutyResult
	peers      []rpc.PeerResult
	submitted  [][]byte
	submitErr  error
	healthErr  error
	replayErr  error
	signers    int
	faults     []rpc.FaultResult
	hook       func()

	gate         <-chan struct{} // ChainStatus waits for it to close
	gateStuck    bool            // ... ignoring its context
	gated, peak  int             // ChainStatus calls at the gate now, and at most
	arrivals     chan struct{}   // one token per ChainStatus reaching the gate
	scanned      uint64          // heights asked of FinalizedEvents and TxEvents
	txEventsRead int             // events returned by TxEvents
}

// NewBackend returns a backend with an empty chain (height 0) and a
// validator set of one validator.
func NewBackend() *Backend {
	v := Address(1)
	return &Backend{
		txEvents: make(map[uint64][]rpc.TxEvent),
		txs:      make(map[chain.Hash]rpc.TxResult),
		accounts: make(map[chain.Address]rpc.AccountResult),
		duties:   make(map[chain.Address][]rpc.DutyResult),
		validators: rpc.ValidatorsResult{TotalStake: 100, QuorumStake: 67,
			Validators: []rpc.ValidatorResult{{Address: v, Stake: 100}}},
		round:    rpc.RoundStateResult{Height: 1, Step: "propose", Proposer: v, LockedRound: -1, ValidRound: -1},
		signers:  1,
		arrivals: make(chan struct{}, 4096),
	}
}

// Address returns a deterministic test address.
func Address(n uint64) chain.Address {
	var a chain.Address
	binary.BigEndian.PutUint64(a[12:], n)
	a[0] = 0xa0
	return a
}

// Hash returns a deterministic test hash.
func Hash(kind string, n uint64) chain.Hash {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return crypto.Keccak256Hash([]byte(kind), b[:])
}

// FinalizedEvent returns the deterministic finalized event of height h;
// signers pads its certificate (to make events large).
func FinalizedEvent(h uint64, signers int) rpc.FinalizedEvent {
	t := time.Unix(1_700_000_000+int64(h), 0).UTC()
	cert := rpc.CertificateResult{SignedStake: 100, TotalStake: 100, Signers: []chain.Address{Address(1)}}
	for i := 1; i < signers; i++ {
		cert.Signers = append(cert.Signers, Address(uint64(i)+1))
	}
	return rpc.FinalizedEvent{
		Height: h, Hash: Hash("block", h), ParentHash: Hash("block", h-1), Time: t,
		Proposer: Address(1), TxCount: 0, StateHash: Hash("state", h),
		Certificate: cert, FinalizedAt: t.Add(time.Second),
	}
}

// TxEvent returns a final transaction event at height from sender from.
func TxEvent(n, height uint64, from chain.Address) rpc.TxEvent {
	h := height
	return rpc.TxEvent{
		TxResult:  rpc.TxResult{Hash: Hash("tx", n), Status: rpc.TxFinal, Height: &h},
		Addresses: []chain.Address{from, Address(999)},
	}
}

// Finalize appends the next height with txs (their heights are set), stores
// it, then publishes its finalized event and its transactions' events to
// hub (which may be nil). It returns the finalized event.
func (b *Backend) Finalize(hub *rpc.Hub, txs ...rpc.TxEvent) (rpc.FinalizedEvent, error) {
	b.mu.Lock()
	h := uint64(len(b.finalized)) + 1
	ev := FinalizedEvent(h, b.signers)
	ev.TxCount = len(txs)
	for i := range txs {
		height := h
		txs[i].Height = &height
		b.txs[txs[i].Hash] = txs[i].TxResult
	}
	b.finalized = append(b.finalized, ev)
	if len(txs) > 0 {
		b.txEvents[h] = txs
	}
	b.mu.Unlock()
	if hub == nil {
		return ev, nil
	}
	if err := hub.Publish(rpc.TopicFinalized, ev); err != nil {
		return ev, err
	}
	for _, tx := range txs {
		if err := hub.Publish(rpc.TopicTxs, tx); err != nil {
			return ev, err
		}
	}
	return ev, nil
}

// SetSigners sets how many signers the certificates of later heights
// list (default 1); more makes larger events.
func (b *Backend) SetSigners(n int) { b.mu.Lock(); b.signers = max(n, 1); b.mu.Unlock() }

// SetHook makes LatestHeight, FinalizedEvents and TxEvents call hook first
// (outside the backend's lock), so that a test can publish while the server
// replays.
func (b *Backend) SetHook(hook func()) { b.mu.Lock(); b.hook = hook; b.mu.Unlock() }

func (b *Backend) runHook() {
	b.mu.Lock()
	hook := b.hook
	b.mu.Unlock()
	if hook != nil {
		hook()
	}
}

// SetSubmitError makes SubmitTx fail with err (nil: succeed).
func (b *Backend) SetSubmitError(err error) { b.mu.Lock(); b.submitErr = err; b.mu.Unlock() }

// SetHealth makes Health report err.
func (b *Backend) SetHealth(err error) { b.mu.Lock(); b.healthErr = err; b.mu.Unlock() }

// SetReplayError makes FinalizedEvents and TxEvents fail with err.
func (b *Backend) SetReplayError(err error) { b.mu.Lock(); b.replayErr = err; b.mu.Unlock() }

// SetAccount stores an account.
func (b *Backend) SetAccount(a rpc.AccountResult) {
	b.mu.Lock()
	b.accounts[a.Address] = a
	b.mu.Unlock()
}

// SetPeers sets the peers that Peers returns.
func (b *Backend) SetPeers(peers []rpc.PeerResult) {
	b.mu.Lock()
	b.peers = append([]rpc.PeerResult(nil), peers...)
	b.mu.Unlock()
}

// Peers implements rpc.Backend.
func (b *Backend) Peers(context.Context) ([]rpc.PeerResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]rpc.PeerResult(nil), b.peers...), nil
}

// SetRoundState sets the round state.
func (b *Backend) SetRoundState(rs rpc.RoundStateResult) { b.mu.Lock(); b.round = rs; b.mu.Unlock() }

// AddDuty adds a pending sign request.
func (b *Backend) AddDuty(d rpc.DutyResult) {
	b.mu.Lock()
	b.duties[d.Validator] = append(b.duties[d.Validator], d)
	b.mu.Unlock()
}

// Submitted returns the transactions accepted by SubmitTx.
func (b *Backend) Submitted() [][]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([][]byte(nil), b.submitted...)
}

// SetGate makes ChainStatus a slow method: each call waits until gate is
// closed, or its context ends, before it answers (with stuck, it ignores
// its context, as a call blocked in I/O would). nil answers at once.
func (b *Backend) SetGate(gate <-chan struct{}, stuck bool) {
	b.mu.Lock()
	b.gate, b.gateStuck = gate, stuck
	b.mu.Unlock()
}

// Arrivals receives one value per ChainStatus call that reaches the gate.
func (b *Backend) Arrivals() <-chan struct{} { return b.arrivals }

// Gated returns the ChainStatus calls waiting at the gate now, and the
// most that ever waited at once.
func (b *Backend) Gated() (now, peak int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.gated, b.peak
}

// Scanned returns the heights asked of FinalizedEvents and TxEvents, and
// the events TxEvents returned, since the backend was made.
func (b *Backend) Scanned() (heights uint64, txEvents int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.scanned, b.txEventsRead
}

// waitGate holds a ChainStatus call at the gate, if there is one.
func (b *Backend) waitGate(ctx context.Context) error {
	b.mu.Lock()
	gate, stuck := b.gate, b.gateStuck
	if gate == nil {
		b.mu.Unlock()
		return nil
	}
	b.gated++
	b.peak = max(b.peak, b.gated)
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.gated--
		b.mu.Unlock()
	}()
	select {
	case b.arrivals <- struct{}{}:
	default: // nobody counts this many
	}
	if stuck {
		<-gate
		return nil
	}
	select {
	case <-gate:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("chain status: %w", ctx.Err())
	}
}

// SetFaults sets what Faults returns.
func (b *Backend) SetFaults(f []rpc.FaultResult) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults = f
}

// Faults implements rpc.Backend.
func (b *Backend) Faults(context.Context) (rpc.FaultsResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return rpc.FaultsResult{Faults: b.faults}, nil
}

// ChainStatus implements rpc.Backend. See SetGate.
func (b *Backend) ChainStatus(ctx context.Context) (rpc.StatusResult, error) {
	if err := b.waitGate(ctx); err != nil {
		return rpc.StatusResult{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st := rpc.StatusResult{ChainID: ChainID, TotalStake: b.validators.TotalStake, NodeID: "node0", Peers: 3}
	if n := len(b.finalized); n > 0 {
		last := b.finalized[n-1]
		st.Height, st.Hash, st.Time = last.Height, last.Hash, last.Time
	}
	return st, nil
}

// Health implements rpc.Backend.
func (b *Backend) Health(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.healthErr
}

// LatestHeight implements rpc.Backend.
func (b *Backend) LatestHeight() uint64 {
	b.runHook()
	b.mu.Lock()
	defer b.mu.Unlock()
	return uint64(len(b.finalized))
}

// Block implements rpc.Backend.
func (b *Backend) Block(_ context.Context, ref rpc.BlockRef) (rpc.BlockResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h := ref.Height
	if ref.Hash != nil {
		h = 0
		for _, ev := range b.finalized {
			if ev.Hash == *ref.Hash {
				h = ev.Height
			}
		}
	}
	if h == 0 || h > uint64(len(b.finalized)) {
		return rpc.BlockResult{}, fmt.Errorf("block %d: %w", h, rpc.ErrNotFound)
	}
	ev := b.finalized[h-1]
	res := rpc.BlockResult{
		Header: rpc.HeaderResult{Hash: ev.Hash, ChainID: ChainID, Height: h, Time: ev.Time,
			ParentHash: ev.ParentHash, Proposer: ev.Proposer, StateHash: ev.StateHash},
		Certificate: &rpc.CertificateResult{Height: h, Round: ev.Round, BlockHash: &ev.Hash,
			SignedStake: ev.Certificate.SignedStake, TotalStake: ev.Certificate.TotalStake,
			Signers: ev.Certificate.Signers},
	}
	for _, tx := range b.txEvents[h] {
		res.Txs = append(res.Txs, rpc.BlockTxResult{Hash: tx.Hash, Kind: "transfer", From: tx.Addresses[0],
			To: tx.Addresses[len(tx.Addresses)-1], Amount: 1, Status: tx.Status})
	}
	return res, nil
}

// Validators implements rpc.Backend.
func (b *Backend) Validators(_ context.Context, height *uint64) (rpc.ValidatorsResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v := b.validators
	v.Height = uint64(len(b.finalized))
	if height != nil {
		if *height == 0 || *height > v.Height+2 {
			return rpc.ValidatorsResult{}, fmt.Errorf("validators at %d: %w", *height, rpc.ErrNotFound)
		}
		v.Height = *height
	}
	return v, nil
}

// Account implements rpc.Backend.
func (b *Backend) Account(_ context.Context, addr chain.Address) (rpc.AccountResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.accounts[addr]
	if !ok {
		a = rpc.AccountResult{Address: addr}
	}
	return a, nil
}

// Tx implements rpc.Backend.
func (b *Backend) Tx(_ context.Context, hash chain.Hash) (rpc.TxResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.txs[hash]
	if !ok {
		return rpc.TxResult{}, fmt.Errorf("tx %s: %w", chain.FormatHash(hash), rpc.ErrNotFound)
	}
	return t, nil
}

// SubmitTx implements rpc.Backend: it records raw as pending under its
// Keccak-256 hash.
func (b *Backend) SubmitTx(_ context.Context, raw []byte) (chain.Hash, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.submitErr != nil {
		return chain.Hash{}, b.submitErr
	}
	h := crypto.Keccak256Hash(raw)
	b.submitted = append(b.submitted, append([]byte(nil), raw...))
	b.txs[h] = rpc.TxResult{Hash: h, Status: rpc.TxPending}
	return h, nil
}

// RoundState implements rpc.Backend.
func (b *Backend) RoundState(context.Context) (rpc.RoundStateResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.round, nil
}

// Duties implements rpc.Backend.
func (b *Backend) Duties(_ context.Context, validator chain.Address) ([]rpc.DutyResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]rpc.DutyResult(nil), b.duties[validator]...), nil
}

// SubmitSigned implements rpc.Backend: it removes the duty, whatever the
// signature (an all-zero signature is refused as invalid).
func (b *Backend) SubmitSigned(_ context.Context, id uint64, sig chain.Signature) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if sig == (chain.Signature{}) {
		return fmt.Errorf("request %d: %w", id, rpc.ErrInvalidSignature)
	}
	for v, ds := range b.duties {
		for i, d := range ds {
			if d.ID == id {
				b.duties[v] = append(ds[:i:i], ds[i+1:]...)
				return nil
			}
		}
	}
	return fmt.Errorf("request %d: %w", id, rpc.ErrDutyNotFound)
}

// FinalizedEvents implements rpc.Backend.
func (b *Backend) FinalizedEvents(_ context.Context, from, to uint64) ([]rpc.FinalizedEvent, error) {
	b.runHook()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.replayErr != nil {
		return nil, b.replayErr
	}
	n := uint64(len(b.finalized))
	if from == 0 || from > to || to > n {
		return nil, fmt.Errorf("finalized events %d..%d of %d: %w", from, to, n, rpc.ErrNotFound)
	}
	b.scanned += to - from + 1
	return append([]rpc.FinalizedEvent(nil), b.finalized[from-1:to]...), nil
}

// TxEvents implements rpc.Backend.
func (b *Backend) TxEvents(_ context.Context, height uint64) ([]rpc.TxEvent, error) {
	b.runHook()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.replayErr != nil {
		return nil, b.replayErr
	}
	if height == 0 || height > uint64(len(b.finalized)) {
		return nil, fmt.Errorf("tx events at %d: %w", height, rpc.ErrNotFound)
	}
	b.scanned++
	b.txEventsRead += len(b.txEvents[height])
	return append([]rpc.TxEvent(nil), b.txEvents[height]...), nil
}

var _ rpc.Backend = (*Backend)(nil)
