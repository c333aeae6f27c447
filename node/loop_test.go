package node

import (
	"context"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/consensus"
)

// fakeClock is a manual clock: timers fire only when Advance passes them.
type fakeClock struct {
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
	fired   bool
}

func (t *fakeTimer) Stop() bool {
	was := !t.stopped && !t.fired
	t.stopped = true
	return was
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) AfterFunc(d time.Duration, f func()) timer {
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

// Advance moves the clock and runs the timers due, in the caller's goroutine.
func (c *fakeClock) Advance(d time.Duration) {
	c.now = c.now.Add(d)
	for _, t := range c.timers {
		if !t.stopped && !t.fired && !t.at.After(c.now) {
			t.fired = true
			t.f()
		}
	}
}

func (c *fakeClock) live() int {
	n := 0
	for _, t := range c.timers {
		if !t.stopped && !t.fired {
			n++
		}
	}
	return n
}

// TestTimersReplacedAndStopped: a timeout re-armed for the same (height,
// round, step) replaces the earlier timer, a new height stops the timers of
// the heights before it, and a fired timeout reaches the engine once.
func TestTimersReplacedAndStopped(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	l := &loop{ctx: context.Background(), clock: clk, timers: make(map[timerKey]timer), timeouts: make(chan consensus.TimeoutFired, 8)}
	prop := consensus.ScheduleTimeout{Height: 5, Round: 0, Step: consensus.StepPropose, Duration: time.Second}
	l.Schedule(prop)
	l.Schedule(prop) // a WAL replay re-arms a running timer
	l.Schedule(consensus.ScheduleTimeout{Height: 5, Round: 0, Step: consensus.StepPrevote, Duration: 3 * time.Second})
	l.Schedule(consensus.ScheduleTimeout{Height: 6, Round: 0, Step: consensus.StepNewHeight, Duration: 3 * time.Second})
	if n := clk.live(); n != 3 {
		t.Fatalf("%d live timers, want 3 (the re-armed one replaced)", n)
	}
	clk.Advance(time.Second)
	select {
	case got := <-l.timeouts:
		if got != (consensus.TimeoutFired{Height: 5, Round: 0, Step: consensus.StepPropose}) {
			t.Fatalf("fired %+v", got)
		}
		delete(l.timers, timerKey{got.Height, got.Round, got.Step})
	default:
		t.Fatal("the propose timeout did not fire")
	}
	if len(l.timeouts) != 0 {
		t.Fatalf("%d more timeouts fired, want the propose timeout once", len(l.timeouts))
	}
	l.StopBelow(6)
	if n := clk.live(); n != 1 || len(l.timers) != 1 {
		t.Fatalf("after height 6 started: %d live timers, %d tracked; want only height 6's", n, len(l.timers))
	}
	clk.Advance(5 * time.Second)
	if got := <-l.timeouts; got.Height != 6 {
		t.Fatalf("fired %+v, want height 6's timer only", got)
	}
	if len(l.timeouts) != 0 {
		t.Fatal("a stopped timer of height 5 fired")
	}
}

// TestProposeTimeoutFollowsLateProposals: the propose timeout stretches to
// twice the longest delay of the latest proposals, at most eight times the
// configured one, and shrinks back once proposals come on time again; a
// round whose proposal never comes, or a proposal seen before the round,
// adds no delay.
func TestProposeTimeoutFollowsLateProposals(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	l := &loop{ctx: context.Background(), clock: clk, timers: make(map[timerKey]timer),
		timeouts: make(chan consensus.TimeoutFired, 64), propose: newProposeWait()}
	const base = 400 * time.Millisecond
	armed := func(h uint64, r uint32) time.Duration {
		t.Helper()
		l.Schedule(consensus.ScheduleTimeout{Height: h, Round: r, Step: consensus.StepPropose, Duration: base})
		last := clk.timers[len(clk.timers)-1]
		return last.at.Sub(clk.now)
	}
	arrive := func(h uint64, r uint32, after time.Duration) {
		clk.now = clk.now.Add(after)
		l.propose.arrived(h, r, clk.now)
	}
	if d := armed(1, 0); d != base {
		t.Fatalf("first propose timeout %v, want the configured %v", d, base)
	}
	arrive(1, 0, 700*time.Millisecond)
	if d := armed(2, 0); d != 1400*time.Millisecond {
		t.Fatalf("after a proposal 700 ms late: %v, want 1.4 s", d)
	}
	l.Schedule(consensus.ScheduleTimeout{Height: 2, Round: 0, Step: consensus.StepPropose, Duration: base}) // a replay re-arms it
	arrive(2, 0, 3*time.Second)
	if d := armed(3, 0); d != 8*base {
		t.Fatalf("after a proposal 3 s late: %v, want the cap %v", d, 8*base)
	}
	// Round 0 of height 3 times out: no proposal, no delay. Round 1's
	// proposal arrives before the round starts here.
	arrive(3, 1, 0)
	for h := uint64(3); h < 3+proposalDelays; h++ {
		if h > 3 {
			armed(h, 0)
		}
		arrive(h, 0, 10*time.Millisecond)
	}
	if d := armed(20, 0); d != base {
		t.Fatalf("after %d proposals on time: %v, want the configured %v", proposalDelays, d, base)
	}
	l.StopBelow(21)
	if len(l.propose.armed) != 0 {
		t.Fatalf("%d rounds of finished heights still remembered", len(l.propose.armed))
	}
}
