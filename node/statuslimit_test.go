package node

import (
	"context"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/p2p"
)

// TestRoundStatusFloodDropped: a peer that sends RoundStatus back to back
// gets one through to the consensus loop, not one per message (each costs
// the loop a catch-up selection and the node up to 128 votes sent); other
// peers are not affected.
func TestRoundStatusFloodDropped(t *testing.T) {
	l := &loop{inbox: newInbox()}
	n := &network{ctx: context.Background(), chainID: testChainID, sigs: newSigCache(), loop: l, metrics: newMetrics()}
	flooder, other := p2p.NodeID{1}, p2p.NodeID{2}
	for range 10 {
		if err := n.Receive(flooder, &p2p.RoundStatus{Height: 3}); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.Receive(other, &p2p.RoundStatus{Height: 3}); err != nil {
		t.Fatal(err)
	}
	got := map[p2p.NodeID]int{}
	for m, ok := l.inbox.pop(); ok; m, ok = l.inbox.pop() {
		got[m.peer]++
	}
	if got[flooder] != 1 || got[other] != 1 {
		t.Fatalf("reached the loop: %d of the flooder's 10, %d of the other peer's 1; want 1 and 1", got[flooder], got[other])
	}
}

// TestStatusLimiterInterval: a peer's next RoundStatus passes once
// minStatusInterval has gone by, and at once after it reconnects.
func TestStatusLimiterInterval(t *testing.T) {
	var s statusLimiter
	p := p2p.NodeID{7}
	t0 := time.Unix(1_700_000_000, 0)
	steps := []struct {
		at   time.Duration
		want bool
	}{{0, true}, {minStatusInterval / 2, false}, {minStatusInterval, true}, {minStatusInterval + 1, false}}
	for _, st := range steps {
		if got := s.allow(p, t0.Add(st.at)); got != st.want {
			t.Fatalf("at +%v: allowed %v, want %v", st.at, got, st.want)
		}
	}
	s.forget(p)
	if !s.allow(p, t0.Add(minStatusInterval+2)) {
		t.Fatal("a reconnected peer's first RoundStatus was refused")
	}
}
