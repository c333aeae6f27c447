package node

import (
	"errors"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	ct "github.com/quorumchain/quorumchain/consensus/consensustest"
	"github.com/quorumchain/quorumchain/p2p"
)

// TestStatusFloodDoesNotDropVotes: peers flood the node with Status
// messages and evidence, far more than any inbox holds. The flood fills
// only the status and evidence lanes (and is refused as busy beyond them);
// a vote that arrives afterwards is still taken, and it is the first thing
// the consensus loop handles.
func TestStatusFloodDoesNotDropVotes(t *testing.T) {
	n, l := evidenceNetwork(t) // a store whose validators are ct.Key(0..3)
	const flood = 20_000       // more than the old single inbox (8192) held
	busy := 0
	for i := range flood {
		peer := p2p.NodeID{byte(i % 200), byte(i / 200)}
		err := n.Receive(peer, &p2p.Status{Height: uint64(i)})
		switch {
		case errors.Is(err, p2p.ErrBusy):
			busy++
		case err != nil:
			t.Fatalf("flood message %d: %v", i, err)
		}
	}
	if want := flood - laneLimits[laneStatus].msgs; busy != want {
		t.Errorf("flood messages refused as busy: got %d, want %d (everything over the status lane's bound)", busy, want)
	}
	vote := ct.SignVote(ct.Key(1), testChainID, chain.Prevote, 1, 1, chain.Hash{7})
	if err := n.Receive(p2p.NodeID{0xee}, &p2p.VoteMessage{Vote: vote}); err != nil {
		t.Fatalf("vote after the flood: got %v, want it taken", err)
	}
	m, ok := l.inbox.pop()
	if !ok {
		t.Fatal("inbox empty")
	}
	if v, ok := m.in.(consensus.VoteReceived); !ok || v.Vote != vote {
		t.Fatalf("first message the loop handles: got %+v, want the vote", m)
	}
}

// TestConsensusLaneFullIsBusy: when the consensus lane itself is full, a
// vote is refused with p2p.ErrBusy (so the Switch does not mark it seen and
// an honest copy can come later) and counted, not silently lost.
func TestConsensusLaneFullIsBusy(t *testing.T) {
	n, l := evidenceNetwork(t) // a store whose validators are ct.Key(0..3)
	vote := ct.SignVote(ct.Key(1), testChainID, chain.Prevote, 1, 1, chain.Hash{7})
	for range laneLimits[laneConsensus].msgs {
		if !l.inbox.push(inbound{in: consensus.VoteReceived{Vote: vote}}) {
			t.Fatal("consensus lane full before its bound")
		}
	}
	err := n.Receive(p2p.NodeID{1}, &p2p.VoteMessage{Vote: vote})
	if !errors.Is(err, p2p.ErrBusy) || errors.Is(err, p2p.ErrInvalidPeerData) {
		t.Fatalf("vote into a full lane: got %v, want p2p.ErrBusy and no blame on the peer", err)
	}
	l.inbox.pop()
	if err := n.Receive(p2p.NodeID{1}, &p2p.VoteMessage{Vote: vote}); err != nil {
		t.Fatalf("vote once there is room: %v", err)
	}
}

// TestConsensusLaneBoundedInBytes: proposals carrying big blocks fill the
// consensus lane by bytes long before its message bound, and a single
// block larger than the bound is still taken into an empty lane.
func TestConsensusLaneBoundedInBytes(t *testing.T) {
	q := newInbox()
	blk := &chain.Block{Header: chain.Header{ChainID: testChainID}, Txs: make([]*chain.Tx, 40_000)}
	m := inbound{in: consensus.ProposalReceived{Proposal: &chain.Proposal{}, Block: blk}}
	size := inboundBytes(m)
	taken := 0
	for q.push(m) {
		taken++
		if taken > laneLimits[laneConsensus].msgs {
			t.Fatal("consensus lane not bounded")
		}
	}
	if want := max(1, laneLimits[laneConsensus].bytes/size); taken != want {
		t.Errorf("big proposals taken: got %d of %d bytes each, want %d", taken, size, want)
	}
	huge := inbound{in: consensus.ProposalReceived{Proposal: &chain.Proposal{}, Block: &chain.Block{Txs: make([]*chain.Tx, 1_000_000)}}}
	if inboundBytes(huge) <= laneLimits[laneConsensus].bytes {
		t.Fatal("test block not over the lane bound")
	}
	if !newInbox().push(huge) {
		t.Error("a block over the lane's byte bound refused by an empty lane")
	}
}

// TestInboxConsensusFirstAndFair: the loop takes votes before anything
// else, but after consensusBurst of them in a row one message of each
// waiting lane, so no lane starves while votes keep coming.
func TestInboxConsensusFirstAndFair(t *testing.T) {
	q := newInbox()
	for i := range 100 {
		q.push(inbound{status: &peerStatus{height: uint64(i)}})
		q.push(inbound{evidence: &chain.Evidence{}})
		q.push(inbound{in: consensus.VoteReceived{Vote: &chain.Vote{Height: uint64(i)}}})
	}
	q.push(inbound{peer: p2p.NodeID{1}, gone: true})
	var order []lane
	for m, ok := q.pop(); ok; m, ok = q.pop() {
		order = append(order, laneOf(m))
	}
	if len(order) != 301 {
		t.Fatalf("popped %d messages, want 301", len(order))
	}
	for i := range consensusBurst {
		if order[i] != laneConsensus {
			t.Fatalf("message %d: got lane %s, want consensus first (order %v)", i, order[i], order[:consensusBurst+1])
		}
	}
	firstOther := map[lane]int{}
	for i, l := range order {
		if _, ok := firstOther[l]; !ok {
			firstOther[l] = i
		}
	}
	for _, l := range []lane{laneEvidence, laneStatus, laneControl} {
		if at, ok := firstOther[l]; !ok || at > 3*(consensusBurst+1) {
			t.Errorf("first %s message at %d, want within %d while votes wait", l, at, 3*(consensusBurst+1))
		}
	}
	// Once the votes are gone the other lanes share the loop round robin.
	if sizes := q.sizes(); sizes != [numLanes]int{} {
		t.Errorf("lanes not drained: %v", sizes)
	}
}
