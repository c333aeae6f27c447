package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// subscription is the server's side of one chain_subscribe: it sends the
// replay (fromHeight), then the live events of its hub queue, and ends with
// a lagged result if the queue overflowed.
type subscription struct {
	id     string
	conn   *wsConn
	hs     *hubSub
	ctx    context.Context // done on unsubscribe or connection close
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns

	// replay subscriptions track next, the lowest height not yet sent:
	// for finalized every height below next was sent; for txs every event
	// of the blocks below next was sent (events at next may follow).
	replay bool
	next   uint64
	// The replay's scan budget left (Config.MaxReplayHeights and
	// MaxReplayTxEvents): stored heights, and transaction events of them,
	// it may still read before it reaches the live stream.
	heightsLeft  uint64
	txEventsLeft int
}

// Reasons of a lagged result (LaggedResult.Reason).
const (
	LaggedSlow         = "slow"          // the subscriber read too slowly; its queue overflowed
	LaggedReplayBudget = "replay_budget" // the replay reached its scan budget
	LaggedReplayFailed = "replay_failed" // the node could not read its stored events
)

var (
	// errReplay means the backend could not serve a replay; the
	// subscription ends with a lagged result so that the client retries
	// from there.
	errReplay = errors.New("replay failed")
	// errReplayBudget means the replay scanned all it may for one
	// request; the subscription ends with a lagged result from where it
	// stopped.
	errReplayBudget = errors.New("replay budget spent")
)

// discard drops a subscription whose id was never sent (its request ran
// out of time or of response budget): it never starts.
func (sub *subscription) discard() {
	sub.conn.srv.hub.remove(sub.hs)
	sub.conn.forget(sub)
	sub.cancel()
}

// activate starts the subscription; the server calls it once the
// subscription id has been written.
func (sub *subscription) activate() {
	sub.conn.subWG.Add(1)
	go func() {
		defer sub.conn.subWG.Done()
		defer close(sub.done)
		err := sub.run()
		sub.conn.srv.hub.remove(sub.hs)
		sub.conn.forget(sub)
		switch {
		case err == nil, sub.ctx.Err() != nil:
		case errors.Is(err, errReplay):
			sub.conn.logger.Warn("rpc: subscription replay failed", "topic", sub.hs.topic, "height", sub.next, "err", err)
		default:
			sub.conn.logger.Debug("rpc: subscription ended", "topic", sub.hs.topic, "err", err)
		}
	}()
}

// run sends until the subscription ends. It returns nil after sending the
// lagged result.
func (sub *subscription) run() error {
	hub, backend := sub.conn.srv.hub, sub.conn.srv.backend
	if sub.replay {
		// Catch up on stored events before registering with the hub, so a
		// long replay does not fill the live queue ...
		half := uint64(sub.hs.limit / 2)
		for latest := backend.LatestHeight(); latest >= sub.next && latest-sub.next >= half; latest = backend.LatestHeight() {
			if err := sub.replayTo(latest, true); err != nil {
				return sub.endReplay(err)
			}
		}
		// ... then register, and replay what was stored before. Every
		// event published after add is in the queue; every event before
		// it is stored at a height <= LatestHeight() (Backend contract).
		hub.add(sub.hs)
		if err := sub.replayTo(backend.LatestHeight(), true); err != nil {
			return sub.endReplay(err)
		}
	}
	var batch []*published
	for {
		select {
		case <-sub.ctx.Done():
			return sub.ctx.Err()
		case <-sub.hs.wake:
		}
		var lagged bool
		var resume uint64
		batch, lagged, resume = sub.hs.take(batch)
		for i, p := range batch {
			batch[i] = nil
			if err := sub.sendLive(p); err != nil {
				return err
			}
		}
		if lagged {
			if sub.replay {
				resume = max(resume, sub.next)
			}
			sub.conn.srv.metrics.lagged.Inc()
			sub.conn.srv.metrics.refuse(refusedSlow)
			return sub.sendResult(LaggedResult{Lagged: true, ResumeFromHeight: resume, Reason: LaggedSlow})
		}
	}
}

// sendLive sends one queued event, skipping what the replay already sent
// and filling a gap in finalized heights from the backend.
func (sub *subscription) sendLive(p *published) error {
	if sub.replay && p.hasHeight {
		if p.height < sub.next {
			return nil // replayed already
		}
		if sub.hs.topic == TopicFinalized && p.height > sub.next {
			if err := sub.replayTo(p.height-1, false); err != nil {
				return sub.endReplay(err)
			}
		}
	}
	raw, err := p.json()
	if err != nil {
		return fmt.Errorf("encode %s event: %w", sub.hs.topic, err)
	}
	if err := sub.conn.write(notification(sub.id, raw)); err != nil {
		return err
	}
	if sub.replay && p.hasHeight {
		sub.advance(p.height)
	}
	return nil
}

// advance records that an event at height was sent.
func (sub *subscription) advance(height uint64) {
	if sub.hs.topic == TopicFinalized {
		sub.next = height + 1
	} else {
		sub.next = height // more transactions of this block may follow
	}
}

// replayTo sends the stored events of heights sub.next..to. A budgeted
// replay (the catch-up of chain_subscribe, not the filling of a gap in the
// live stream) spends the scan budget and fails with errReplayBudget when
// it is spent. Each event is written before the next is read, so the
// replay goes at the pace the client reads.
func (sub *subscription) replayTo(to uint64, budgeted bool) error {
	backend := sub.conn.srv.backend
	for sub.next <= to {
		if err := sub.ctx.Err(); err != nil {
			return err
		}
		if budgeted && (sub.heightsLeft == 0 || sub.txEventsLeft <= 0) {
			return errReplayBudget
		}
		switch sub.hs.topic {
		case TopicFinalized:
			end := to
			if to-sub.next >= replayPageHeights {
				end = sub.next + replayPageHeights - 1
			}
			if budgeted && end-sub.next >= sub.heightsLeft {
				end = sub.next + sub.heightsLeft - 1
			}
			evs, err := backend.FinalizedEvents(sub.ctx, sub.next, end)
			if err != nil {
				return fmt.Errorf("%w: finalized events %d..%d: %w", errReplay, sub.next, end, err)
			}
			if len(evs) == 0 {
				return fmt.Errorf("%w: no finalized events %d..%d", errReplay, sub.next, end)
			}
			for _, ev := range evs {
				switch {
				case ev.Height < sub.next:
					continue
				case ev.Height > sub.next:
					return fmt.Errorf("%w: finalized event %d missing (got %d)", errReplay, sub.next, ev.Height)
				}
				if err := sub.sendResult(ev); err != nil {
					return err
				}
				sub.next = ev.Height + 1
				if budgeted {
					sub.heightsLeft--
				}
			}
		case TopicTxs:
			evs, err := backend.TxEvents(sub.ctx, sub.next)
			if err != nil {
				return fmt.Errorf("%w: tx events at %d: %w", errReplay, sub.next, err)
			}
			if budgeted {
				sub.heightsLeft--
				sub.txEventsLeft -= len(evs)
			}
			for _, ev := range evs {
				if !sub.hs.filter.match(ev) {
					continue
				}
				if err := sub.sendResult(ev); err != nil {
					return err
				}
			}
			sub.next++
		default:
			return fmt.Errorf("%w: topic %s has no replay", errReplay, sub.hs.topic)
		}
	}
	return nil
}

// endReplay ends a subscription whose replay stopped: with a lagged result
// from the next unsent height when the backend failed or the scan budget
// is spent (the client subscribes again from there), or silently when the
// connection or subscription ended.
func (sub *subscription) endReplay(err error) error {
	if sub.ctx.Err() != nil {
		return err
	}
	reason := LaggedReplayFailed
	switch {
	case errors.Is(err, errReplayBudget):
		reason = LaggedReplayBudget
		sub.conn.srv.metrics.refuse(refusedReplayBudget)
	case !errors.Is(err, errReplay):
		return err
	}
	if serr := sub.sendResult(LaggedResult{Lagged: true, ResumeFromHeight: sub.next, Reason: reason}); serr != nil {
		return serr
	}
	if reason == LaggedReplayBudget {
		return nil
	}
	return err
}

func (sub *subscription) sendResult(v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s result: %w", sub.hs.topic, err)
	}
	return sub.conn.write(notification(sub.id, raw))
}
