package p2p

import (
	"errors"
	"math"
	"testing"
	"time"
)

// statusHeights returns the heights of the Status messages rec got from id,
// in arrival order.
func statusHeights(rec *recorder, from NodeID) []uint64 {
	var out []uint64
	for _, m := range rec.messages() {
		if s, ok := m.msg.(*Status); ok && m.from == from {
			out = append(out, s.Height)
		}
	}
	return out
}

// pollFor waits, bounded by waitTimeout, until cond holds, checking it
// every few milliseconds (for conditions no signal reports).
func pollFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
		<-tick.C
	}
}

func hasHeight(hs []uint64, h uint64) bool {
	for _, x := range hs {
		if x == h {
			return true
		}
	}
	return false
}

// TestFaultPartitionBothDirections: a node partitioned from a peer neither
// sends to it (Send, Broadcast) nor delivers what it sends, the partition
// holds across a reconnection (the peer is a persistent peer and redials),
// and healing restores both directions at once over the same links.
func TestFaultPartitionBothDirections(t *testing.T) {
	sig := newSignal()
	a := startNode(t, sig, "a", 1, func(c *Config) { c.Faults = true })
	b := startNode(t, sig, "b", 2, func(c *Config) { c.PersistentPeers = []string{a.addr()} })
	waitFor(t, sig, "a and b connected", func() bool { return a.connectedTo(b.id()) && b.connectedTo(a.id()) })
	if err := a.sw.Faults().Partition([]NodeID{b.id()}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if a.sw.Send(b.id(), &Status{Height: 5}) {
		t.Error("Send to a partitioned peer reported the message queued")
	}
	a.sw.Broadcast(&Status{Height: 6})
	b.sw.Send(a.id(), &Status{Height: 7}) // b has no fault: it sends, a must drop
	drops := func(n uint64) func() bool {
		return func() bool { return a.sw.Faults().Stats().Dropped >= n }
	}
	// Stats changes fire no signal: the Status b sent and a dropped is
	// awaited by polling within the usual bound.
	pollFor(t, "a dropped what b sent", drops(3))

	// The peer reconnects (b redials): the partition is by NodeID and holds.
	connects := func() int {
		c, _ := a.rec.events()
		n := 0
		for _, p := range c {
			if p.ID == b.id() {
				n++
			}
		}
		return n
	}
	before := connects()
	a.sw.StopPeer(b.id(), "test: reconnect")
	waitFor(t, sig, "b reconnected to a", func() bool { return connects() > before && a.connectedTo(b.id()) && b.connectedTo(a.id()) })
	a.sw.Broadcast(&Status{Height: 8})
	if !b.sw.Send(a.id(), &Status{Height: 9}) {
		t.Fatal("b could not queue to a")
	}

	pollFor(t, "a dropped what b sent after the reconnection", drops(5))
	a.sw.Faults().Heal()
	if got := a.sw.Faults().Active(); len(got) != 0 {
		t.Fatalf("faults after heal: got %v, want none", got)
	}
	// Markers after the heal: once they arrive, whatever was sent before
	// on the same connection has arrived too, had it been let through.
	if !a.sw.Send(b.id(), &Status{Height: 100}) {
		t.Fatal("Send after heal not queued")
	}
	if !b.sw.Send(a.id(), &Status{Height: 101}) {
		t.Fatal("b could not queue to a after heal")
	}
	waitFor(t, sig, "markers delivered both ways", func() bool {
		return hasHeight(statusHeights(b.rec, a.id()), 100) && hasHeight(statusHeights(a.rec, b.id()), 101)
	})
	for _, h := range []uint64{5, 6, 8} {
		if hasHeight(statusHeights(b.rec, a.id()), h) {
			t.Errorf("b received status %d that a sent while partitioned", h)
		}
	}
	for _, h := range []uint64{7, 9} {
		if hasHeight(statusHeights(a.rec, b.id()), h) {
			t.Errorf("a delivered status %d that b sent while partitioned", h)
		}
	}
	if st := a.sw.Faults().Stats(); st.Dropped != 5 {
		t.Errorf("fault drops: got %d, want 5 (three sent, two received)", st.Dropped)
	}
}

// TestFaultDelayKeepsOrder: with a delay and jitter, every message arrives,
// in the order it was sent, and none before the delay.
func TestFaultDelayKeepsOrder(t *testing.T) {
	sig := newSignal()
	a := startNode(t, sig, "a", 1, func(c *Config) { c.Faults = true; c.FaultSeed = 7 })
	b := startNode(t, sig, "b", 2, func(c *Config) { c.PersistentPeers = []string{a.addr()} })
	waitFor(t, sig, "a and b connected", func() bool { return a.connectedTo(b.id()) && b.connectedTo(a.id()) })
	const delay, jitter, n = 60 * time.Millisecond, 40 * time.Millisecond, 40
	if err := a.sw.Faults().SetDelay(delay, jitter, time.Now()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for h := uint64(1); h <= n; h++ {
		if !a.sw.Send(b.id(), &Status{Height: h}) {
			t.Fatalf("status %d not queued", h)
		}
	}
	var firstAt time.Duration
	waitFor(t, sig, "the first delayed status", func() bool {
		if len(statusHeights(b.rec, a.id())) > 0 {
			firstAt = time.Since(start)
			return true
		}
		return false
	})
	if firstAt < delay {
		t.Errorf("first message arrived after %v, before the delay %v", firstAt, delay)
	}
	waitFor(t, sig, "every delayed status", func() bool { return len(statusHeights(b.rec, a.id())) >= n })
	got := statusHeights(b.rec, a.id())
	for i, h := range got {
		if h != uint64(i+1) {
			t.Fatalf("arrival order: got %v, want 1..%d", got, n)
		}
	}
	if st := a.sw.Faults().Stats(); st.Delayed != n {
		t.Errorf("delayed: got %d, want %d", st.Delayed, n)
	}
	if err := a.sw.Faults().SetDelay(0, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := a.sw.Faults().Active(); len(got) != 0 {
		t.Errorf("faults after clearing the delay: got %v, want none", got)
	}
}

// TestFaultDelayByteBound: messages held back by a delay occupy at most
// Config.FaultDelayBytes of a peer's queue; beyond it they are dropped and
// counted, not queued.
func TestFaultDelayByteBound(t *testing.T) {
	sig := newSignal()
	const bound = 4 << 10
	a := startNode(t, sig, "a", 1, func(c *Config) { c.Faults = true; c.FaultDelayBytes = bound })
	b := startNode(t, sig, "b", 2, func(c *Config) { c.PersistentPeers = []string{a.addr()} })
	waitFor(t, sig, "a and b connected", func() bool { return a.connectedTo(b.id()) && b.connectedTo(a.id()) })
	if err := a.sw.Faults().SetDelay(MaxFaultDelay, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	msgBytes := len(Encode(&Status{Height: 1 << 40}))
	queued, refused := 0, 0
	for h := uint64(1 << 40); queued+refused < 2*bound/msgBytes; h++ {
		if a.sw.Send(b.id(), &Status{Height: h}) {
			queued++
		} else {
			refused++
		}
	}
	if queued != bound/msgBytes {
		t.Errorf("queued under delay: got %d messages of %d bytes, want %d (bound %d bytes)", queued, msgBytes, bound/msgBytes, bound)
	}
	if q := a.sw.Stats().SendQueuedBytes; q > bound {
		t.Errorf("queued bytes: got %d, want at most %d", q, bound)
	}
	if st := a.sw.Faults().Stats(); st.Dropped != uint64(refused) || refused == 0 {
		t.Errorf("fault drops: got %d, want %d (> 0)", st.Dropped, refused)
	}
	if d := a.sw.Stats().SendDropped; d != 0 {
		t.Errorf("send queue drops: got %d, want 0 (the fault layer's drops are its own)", d)
	}
}

// TestSendQueueReleaseTimes: a message with a release time leaves no
// earlier, and holds back what was queued after it.
func TestSendQueueReleaseTimes(t *testing.T) {
	q := newSendQueue(100, 1<<20)
	now := time.Unix(1000, 0)
	if ok, _ := q.push([]byte("late"), now, now.Add(time.Second), 1<<20); !ok {
		t.Fatal("push refused")
	}
	if ok, _ := q.push([]byte("prompt"), now, time.Time{}, 1<<20); !ok {
		t.Fatal("push refused")
	}
	if _, wait, ok := q.pop(now.Add(400 * time.Millisecond)); ok || wait != 600*time.Millisecond {
		t.Fatalf("pop before due: got ok=%v wait=%v, want not ok, wait 600ms", ok, wait)
	}
	for _, want := range []string{"late", "prompt"} {
		b, _, ok := q.pop(now.Add(time.Second))
		if !ok || string(b) != want {
			t.Fatalf("pop: got %q %v, want %q", b, ok, want)
		}
	}
}

// TestFaultDropRate: a drop rate drops about that fraction of outgoing
// messages (fixed seed: the count is reproducible, and within five
// standard deviations of the mean).
func TestFaultDropRate(t *testing.T) {
	f := newFaultLayer(42, DefaultFaultDelayBytes)
	const n, rate = 20000, 0.2
	if err := f.SetDropRate(rate, time.Now()); err != nil {
		t.Fatal(err)
	}
	sent := 0
	for range n {
		if ok, due := f.outgoing(NodeID{1}, time.Now()); ok {
			sent++
			if !due.IsZero() {
				t.Fatal("a drop rate alone delayed a message")
			}
		}
	}
	dropped := n - sent
	mean, sd := n*rate, math.Sqrt(n*rate*(1-rate))
	if math.Abs(float64(dropped)-mean) > 5*sd {
		t.Errorf("dropped %d of %d at rate %v: want %v ± %v", dropped, n, rate, mean, 5*sd)
	}
	if got := f.Stats().Dropped; got != uint64(dropped) {
		t.Errorf("drop counter: got %d, want %d", got, dropped)
	}
	if err := f.SetDropRate(0, time.Now()); err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		if ok, _ := f.outgoing(NodeID{1}, time.Now()); !ok {
			t.Fatal("dropped with the rate cleared")
		}
	}
}

// TestFaultRejectsBadValues: out-of-range faults are refused with
// ErrBadFault and leave the layer unchanged.
func TestFaultRejectsBadValues(t *testing.T) {
	f := newFaultLayer(1, DefaultFaultDelayBytes)
	now := time.Now()
	for name, err := range map[string]error{
		"rate above 1":     f.SetDropRate(1.5, now),
		"negative rate":    f.SetDropRate(-0.1, now),
		"NaN rate":         f.SetDropRate(math.NaN(), now),
		"negative delay":   f.SetDelay(-time.Second, 0, now),
		"negative jitter":  f.SetDelay(time.Second, -time.Second, now),
		"delay too long":   f.SetDelay(MaxFaultDelay, time.Millisecond, now),
		"too many in part": f.Partition(make([]NodeID, MaxPartitionPeers+1), now),
	} {
		if !errors.Is(err, ErrBadFault) {
			t.Errorf("%s: got %v, want ErrBadFault", name, err)
		}
	}
	if got := f.Active(); len(got) != 0 {
		t.Errorf("faults after refusals: got %v, want none", got)
	}
}

// TestFaultLayerOffByDefault: without Config.Faults a Switch has no fault
// layer at all.
func TestFaultLayerOffByDefault(t *testing.T) {
	sig := newSignal()
	a := startNode(t, sig, "a", 1, nil)
	if a.sw.Faults() != nil {
		t.Fatal("a switch without Config.Faults has a fault layer")
	}
}
