package node

import (
	"time"

	"github.com/quorumchain/quorumchain/consensus"
)

// clock is the engine's only source of time: its reading for block times,
// sync decisions and finality timestamps, and its timers for consensus
// timeouts. Tests substitute a fake one.
type clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has elapsed, unless
	// the returned timer is stopped first.
	AfterFunc(d time.Duration, f func()) timer
}

type timer interface{ Stop() bool }

// wallClock is the real clock.
type wallClock struct{}

func (wallClock) Now() time.Time                            { return time.Now() }
func (wallClock) AfterFunc(d time.Duration, f func()) timer { return time.AfterFunc(d, f) }

// timerKey identifies a consensus timeout: the Machine schedules at most
// one per (height, round, step), and a later one of the same key replaces
// the earlier (a WAL replay re-arms timers that were running).
type timerKey struct {
	height uint64
	round  uint32
	step   consensus.RoundStep
}

// schedule arms a consensus timeout; when it fires, its TimeoutFired
// reaches the engine's goroutine through e.timeouts.
func (e *engine) schedule(a consensus.ScheduleTimeout) {
	key := timerKey{a.Height, a.Round, a.Step}
	if old, ok := e.timers[key]; ok {
		old.Stop()
	}
	t := consensus.TimeoutFired{Height: a.Height, Round: a.Round, Step: a.Step}
	ctx := e.ctx
	e.timers[key] = e.clock.AfterFunc(a.Duration, func() {
		select {
		case e.timeouts <- t:
		case <-ctx.Done():
		}
	})
}

// fired forgets a timeout that has fired.
func (e *engine) fired(t consensus.TimeoutFired) {
	delete(e.timers, timerKey{t.Height, t.Round, t.Step})
}

// stopTimers stops every timeout of heights below height: they can only
// be stale there.
func (e *engine) stopTimers(height uint64) {
	for k, t := range e.timers {
		if k.height < height {
			t.Stop()
			delete(e.timers, k)
		}
	}
}
