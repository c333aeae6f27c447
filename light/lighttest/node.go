package lighttest

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/light"
	"github.com/quorumchain/quorumchain/rpc"
)

// Node is an rpc.Backend that serves a Source's chain as a node would,
// with the duties of one remote-signed validator: a fake node for tests of
// light clients and remote signers. It is safe for concurrent use.
type Node struct {
	NodeID string

	hub    *rpc.Hub
	signed chan uint64

	mu        sync.Mutex
	src       *Source
	duties    []rpc.DutyResult
	submitted map[uint64]chain.Signature
}

// NewNode returns a node serving src.
func NewNode(src *Source) *Node {
	return &Node{NodeID: "0x00000000000000000000000000000000000000aa", src: src, submitted: map[uint64]chain.Signature{},
		hub: rpc.NewHub(rpc.Config{}), signed: make(chan uint64, 64)}
}

// Serve starts an HTTP server for n on 127.0.0.1 (TLS when tls is set)
// and returns its websocket URL; the server stops at the end of the test.
func (n *Node) Serve(tb testing.TB, tls bool) (wsURL string, srv *httptest.Server) {
	tb.Helper()
	h := rpc.NewServer(rpc.Config{}, n, n.hub, nil, nil).Handler()
	srv = httptest.NewUnstartedServer(h)
	// Handshakes that tests make fail on purpose are not worth a log line.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	tb.Cleanup(srv.Close)
	u := strings.Replace(srv.URL, "http", "ws", 1) + "/ws"
	return u, srv
}

// SetDuties replaces the pending duties.
func (n *Node) SetDuties(ds ...rpc.DutyResult) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.duties = append([]rpc.DutyResult(nil), ds...)
}

// AddDuty adds a pending duty and publishes it on the duties topic.
func (n *Node) AddDuty(d rpc.DutyResult) error {
	n.mu.Lock()
	n.duties = append(n.duties, d)
	n.mu.Unlock()
	return n.hub.Publish(rpc.TopicDuties, rpc.DutyEvent{DutyResult: d})
}

// Signed yields the id of each duty answered with SubmitSigned (the
// first 64 are buffered).
func (n *Node) Signed() <-chan uint64 { return n.signed }

// Submitted returns the signature submitted for duty id.
func (n *Node) Submitted(id uint64) (chain.Signature, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	sig, ok := n.submitted[id]
	return sig, ok
}

func (n *Node) block(h uint64) (*light.SignedHeader, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	sh, err := n.src.SignedHeader(context.Background(), h)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", rpc.ErrNotFound, err)
	}
	return sh, nil
}

// Faults implements rpc.Backend: a light client's test node has none.
func (n *Node) Faults(context.Context) (rpc.FaultsResult, error) { return rpc.FaultsResult{}, nil }

// ChainStatus implements rpc.Backend.
func (n *Node) ChainStatus(context.Context) (rpc.StatusResult, error) {
	st := rpc.StatusResult{ChainID: ChainID, NodeID: n.NodeID, Time: GenesisTime}
	if sh, err := n.block(0); err == nil {
		st.Height, st.Hash, st.ValidatorsHash = sh.Header.Height, sh.Hash(), sh.Header.ValidatorsHash
		st.Time = time.UnixMilli(int64(sh.Header.Time)).UTC()
	}
	return st, nil
}

// Health implements rpc.Backend.
func (n *Node) Health(context.Context) error { return nil }

// LatestHeight implements rpc.Backend.
func (n *Node) LatestHeight() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return uint64(len(n.src.Blocks))
}

// Block implements rpc.Backend (by height only).
func (n *Node) Block(_ context.Context, ref rpc.BlockRef) (rpc.BlockResult, error) {
	if ref.Hash != nil {
		return rpc.BlockResult{}, fmt.Errorf("%w: lighttest serves blocks by height", rpc.ErrNotFound)
	}
	sh, err := n.block(ref.Height)
	if err != nil {
		return rpc.BlockResult{}, err
	}
	n.mu.Lock()
	set := n.src.Sets[sh.Header.Height]
	n.mu.Unlock()
	return rpc.BlockResult{Header: light.HeaderToRPC(&sh.Header), Txs: []rpc.BlockTxResult{}, Certificate: light.CertificateToRPC(sh.Certificate, set)}, nil
}

// Validators implements rpc.Backend.
func (n *Node) Validators(ctx context.Context, height *uint64) (rpc.ValidatorsResult, error) {
	h := n.LatestHeight() + 1
	if height != nil {
		h = *height
	}
	n.mu.Lock()
	set, err := n.src.Validators(ctx, h)
	n.mu.Unlock()
	if err != nil {
		return rpc.ValidatorsResult{}, fmt.Errorf("%w: %v", rpc.ErrNotFound, err)
	}
	r := rpc.ValidatorsResult{Height: h, TotalStake: rpc.Amount(set.TotalStake()), QuorumStake: rpc.Amount(set.QuorumStake())}
	for _, v := range set.Validators() {
		r.Validators = append(r.Validators, rpc.ValidatorResult{Address: v.Address, Stake: rpc.Amount(v.Stake), ProposerPriority: v.ProposerPriority})
	}
	return r, nil
}

// Account implements rpc.Backend.
func (n *Node) Account(_ context.Context, a chain.Address) (rpc.AccountResult, error) {
	return rpc.AccountResult{Address: a}, nil
}

// Tx implements rpc.Backend.
func (n *Node) Tx(_ context.Context, h chain.Hash) (rpc.TxResult, error) {
	return rpc.TxResult{}, fmt.Errorf("%w: tx %s", rpc.ErrNotFound, chain.FormatHash(h))
}

// SubmitTx implements rpc.Backend.
func (n *Node) SubmitTx(context.Context, []byte) (chain.Hash, error) {
	return chain.Hash{}, fmt.Errorf("%w: lighttest takes no transactions", rpc.ErrUnavailable)
}

// RoundState implements rpc.Backend.
func (n *Node) RoundState(context.Context) (rpc.RoundStateResult, error) {
	return rpc.RoundStateResult{Height: n.LatestHeight() + 1, Step: "propose", LockedRound: -1, ValidRound: -1}, nil
}

// Duties implements rpc.Backend.
func (n *Node) Duties(_ context.Context, v chain.Address) ([]rpc.DutyResult, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []rpc.DutyResult
	for _, d := range n.duties {
		if d.Validator == v {
			out = append(out, d)
		}
	}
	return out, nil
}

// SubmitSigned implements rpc.Backend: it records the signature and
// removes the duty.
func (n *Node) SubmitSigned(_ context.Context, id uint64, sig chain.Signature) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, d := range n.duties {
		if d.ID == id {
			n.submitted[id] = sig
			n.duties = append(n.duties[:i:i], n.duties[i+1:]...)
			select {
			case n.signed <- id:
			default:
			}
			return nil
		}
	}
	return fmt.Errorf("%w: request %d", rpc.ErrDutyNotFound, id)
}

// FinalizedEvents implements rpc.Backend.
func (n *Node) FinalizedEvents(_ context.Context, from, to uint64) ([]rpc.FinalizedEvent, error) {
	var out []rpc.FinalizedEvent
	for h := from; h <= to; h++ {
		sh, err := n.block(h)
		if err != nil {
			return nil, err
		}
		out = append(out, rpc.FinalizedEvent{Height: h, Hash: sh.Hash(), ParentHash: sh.Header.ParentHash,
			Time: time.UnixMilli(int64(sh.Header.Time)).UTC(), Proposer: sh.Header.Proposer, StateHash: sh.Header.StateHash,
			Certificate: rpc.CertificateResult{Round: sh.Certificate.Round, Signers: sh.Certificate.Signers()}})
	}
	return out, nil
}

// Peers implements rpc.Backend: a test node has no peers.
func (n *Node) Peers(context.Context) ([]rpc.PeerResult, error) { return nil, nil }

// TxEvents implements rpc.Backend: blocks built here carry no events.
func (n *Node) TxEvents(context.Context, uint64) ([]rpc.TxEvent, error) { return nil, nil }

var _ rpc.Backend = (*Node)(nil)
