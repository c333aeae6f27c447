package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/store"
	ct "github.com/quorumchain/quorumchain/consensus/consensustest"
	"github.com/quorumchain/quorumchain/genesis"
	"github.com/quorumchain/quorumchain/p2p"
)

// evidenceNetwork is a network over a genesis store of four validators
// (ct.Key(0..3)) whose loop's inbox the test reads.
func evidenceNetwork(t *testing.T) (*network, *loop) {
	t.Helper()
	doc := genesis.New(testChainID, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	for i := range 4 {
		if err := doc.AddValidator(ct.Address(i), 10, fmt.Sprintf("node%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	state, set, err := doc.InitialState()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open("", store.BackendMemDB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.InitGenesis(testChainID, doc.Hash(), state.Entries(), set); err != nil {
		t.Fatal(err)
	}
	l := &loop{inbox: newInbox()}
	n := &network{ctx: context.Background(), chainID: testChainID, sigs: newSigCache(), loop: l,
		metrics: newMetrics(), store: st, log: slog.New(slog.DiscardHandler)}
	return n, l
}

func doubleSign(i int, height uint64, round uint32) *chain.Evidence {
	a := ct.SignVote(ct.Key(i), testChainID, chain.Prevote, height, round, chain.Hash{1})
	b := ct.SignVote(ct.Key(i), testChainID, chain.Prevote, height, round, chain.Hash{2})
	return chain.NewEvidence(a, b)
}

// TestEvidenceFloodStaysOffConsensusLoop: evidence a peer sends is verified
// on the peer's goroutine; a flood of evidence that does not verify (signed
// by no validator, or with a forged signature) never reaches the consensus
// loop and each message is an error that disconnects the sender, while
// valid evidence still gets through.
func TestEvidenceFloodStaysOffConsensusLoop(t *testing.T) {
	n, l := evidenceNetwork(t)
	flooder, honest := p2p.NodeID{1}, p2p.NodeID{2}
	for i := range 100 {
		bad := doubleSign(50+i, 1, 0) // not a validator
		if i%2 == 1 {
			bad = doubleSign(1, 1, uint32(i))
			bad.B.Signature[5] ^= 0xff // forged
		}
		if err := n.Receive(flooder, &p2p.EvidenceMessage{Evidence: bad}); !errors.Is(err, p2p.ErrInvalidPeerData) {
			t.Fatalf("invalid evidence %d: error %v, want one wrapping ErrInvalidPeerData", i, err)
		}
	}
	if l.inbox.len() != 0 {
		t.Fatalf("%d pieces of invalid evidence reached the consensus loop", l.inbox.len())
	}
	if err := n.Receive(honest, &p2p.EvidenceMessage{Evidence: doubleSign(2, 1, 0)}); err != nil {
		t.Fatalf("valid evidence: %v", err)
	}
	if err := n.Receive(honest, &p2p.EvidenceMessage{Evidence: doubleSign(2, 9, 0)}); err != nil {
		t.Fatalf("evidence of a height beyond the store blamed the peer: %v", err)
	}
	if l.inbox.len() != 1 {
		t.Fatalf("%d messages reached the loop, want the one valid piece of evidence", l.inbox.len())
	}
	if m, _ := l.inbox.pop(); m.peer != honest || m.evidence == nil {
		t.Fatalf("the loop got %+v", m)
	}
}

func doublePropose(i int, height uint64, round uint32) *chain.Evidence {
	a := ct.SignProposal(ct.Key(i), testChainID, height, round, chain.NoPOLRound, chain.Hash{1})
	b := ct.SignProposal(ct.Key(i), testChainID, height, round, chain.NoPOLRound, chain.Hash{2})
	return chain.NewProposalEvidence(a, b)
}

// TestProposalEvidenceFromPeer: evidence of a double proposal a peer sends
// reaches the consensus loop when it verifies; a forged one is an error
// that disconnects the sender and goes no further.
func TestProposalEvidenceFromPeer(t *testing.T) {
	n, l := evidenceNetwork(t)
	forged := doublePropose(1, 1, 0)
	forged.PB.Signature[5] ^= 0xff
	if err := n.Receive(p2p.NodeID{1}, &p2p.EvidenceMessage{Evidence: forged}); !errors.Is(err, p2p.ErrInvalidPeerData) {
		t.Fatalf("forged proposal evidence: error %v, want one wrapping ErrInvalidPeerData", err)
	}
	if err := n.Receive(p2p.NodeID{2}, &p2p.EvidenceMessage{Evidence: doublePropose(1, 1, 0)}); err != nil {
		t.Fatalf("valid proposal evidence: %v", err)
	}
	if l.inbox.len() != 1 {
		t.Fatalf("%d messages reached the loop, want the one valid piece of evidence", l.inbox.len())
	}
	if m, _ := l.inbox.pop(); m.evidence == nil || m.evidence.Kind != chain.DoubleProposal {
		t.Fatalf("the loop got %+v", m)
	}
}
