package rpc

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// ErrEventTopic means an event was published to a topic it does not
// belong to.
var ErrEventTopic = errors.New("event does not belong to topic")

// Hub fans events out to subscriptions. The node publishes; each websocket
// subscription drains its own bounded queue. Publish never blocks and never
// waits for a client: a subscription whose queue is full is cut off (it
// receives one lagged result after what it had queued) and removed.
type Hub struct {
	buffer int

	mu     sync.RWMutex
	topics map[Topic]map[*hubSub]struct{}

	lastHeight map[Topic]*atomic.Uint64 // highest height published per topic
	published  atomic.Uint64
	lagged     atomic.Uint64
}

// NewHub returns a hub whose subscriptions queue at most
// cfg.SubscriberBuffer events.
func NewHub(cfg Config) *Hub {
	cfg = cfg.withDefaults()
	h := &Hub{
		buffer:     cfg.SubscriberBuffer,
		topics:     make(map[Topic]map[*hubSub]struct{}, len(Topics)),
		lastHeight: make(map[Topic]*atomic.Uint64, len(Topics)),
	}
	for _, t := range Topics {
		h.topics[t] = make(map[*hubSub]struct{})
		h.lastHeight[t] = new(atomic.Uint64)
	}
	return h
}

// Publish queues ev for every matching subscription of topic and returns
// at once. Events of one topic must be published in increasing height
// order, and finalized and txs events only after the Backend serves them
// (see Backend). It fails only if topic is unknown or ev belongs to
// another topic.
func (h *Hub) Publish(topic Topic, ev Event) error {
	if ev == nil || !topic.valid() {
		return fmt.Errorf("hub: publish to %q: %w", topic, errUnknownTopic(topic))
	}
	if ev.Topic() != topic {
		return fmt.Errorf("hub: publish %T to %q: %w", ev, topic, ErrEventTopic)
	}
	p := &published{ev: ev}
	p.height, p.hasHeight = ev.eventHeight()
	last := h.lastHeight[topic]
	if p.hasHeight {
		for {
			cur := last.Load()
			if p.height <= cur || last.CompareAndSwap(cur, p.height) {
				break
			}
		}
	}
	h.published.Add(1)

	var cut []*hubSub
	h.mu.RLock()
	for s := range h.topics[topic] {
		if !s.filter.match(ev) {
			continue
		}
		if s.push(p, last) {
			cut = append(cut, s)
		}
	}
	h.mu.RUnlock()
	if len(cut) > 0 {
		h.lagged.Add(uint64(len(cut)))
		h.mu.Lock()
		for _, s := range cut {
			delete(h.topics[topic], s)
		}
		h.mu.Unlock()
	}
	return nil
}

// Subscribers returns the number of subscriptions to topic.
func (h *Hub) Subscribers(topic Topic) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.topics[topic])
}

// HubStats counts a hub's activity since it was made.
type HubStats struct {
	Subscriptions int    // current subscriptions, all topics
	Published     uint64 // events published
	Lagged        uint64 // subscriptions cut off as lagged
}

// Stats returns the hub's counters.
func (h *Hub) Stats() HubStats {
	h.mu.RLock()
	n := 0
	for _, subs := range h.topics {
		n += len(subs)
	}
	h.mu.RUnlock()
	return HubStats{Subscriptions: n, Published: h.published.Load(), Lagged: h.lagged.Load()}
}

// newSub returns an unregistered subscription to topic.
func (h *Hub) newSub(topic Topic, f Filter) *hubSub {
	return &hubSub{topic: topic, filter: f, limit: h.buffer, wake: make(chan struct{}, 1)}
}

// add registers s; events published from now on are queued for it. It does
// nothing once s was removed.
func (h *Hub) add(s *hubSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != subActive {
		return
	}
	h.topics[s.topic][s] = struct{}{}
}

// remove unregisters s for good and drops its queue.
func (h *Hub) remove(s *hubSub) {
	h.mu.Lock()
	delete(h.topics[s.topic], s)
	h.mu.Unlock()
	s.mu.Lock()
	if s.state == subActive {
		s.state = subClosed
	}
	s.queue = nil
	s.mu.Unlock()
}

// published is one event shared by every subscription it is queued for; it
// is encoded once, by the first writer that needs it.
type published struct {
	ev        Event
	height    uint64
	hasHeight bool

	once sync.Once
	raw  []byte
	err  error
}

func (p *published) json() ([]byte, error) {
	p.once.Do(func() { p.raw, p.err = json.Marshal(p.ev) })
	return p.raw, p.err
}

type subState uint8

const (
	subActive subState = iota
	subLagged          // cut off: deliver the queue, then the lagged result
	subClosed          // removed
)

// hubSub is the hub's side of one subscription: a bounded FIFO of events
// and a wake-up signal for its consumer.
type hubSub struct {
	topic  Topic
	filter Filter
	limit  int
	wake   chan struct{} // capacity 1: "the queue or the state changed"

	mu     sync.Mutex
	queue  []*published
	state  subState
	resume uint64 // lagged: the height to resubscribe from
}

// push queues p and reports whether this push cut s off. When the queue is
// full, s is marked lagged with ResumeFromHeight = p's height: every
// earlier event is queued and will be delivered. An event without a height
// (a pending transaction) resumes from the topic's latest height, which
// may repeat that height's events but never skips one.
func (s *hubSub) push(p *published, topicHeight *atomic.Uint64) (cut bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != subActive {
		return false
	}
	if len(s.queue) >= s.limit {
		s.state = subLagged
		if p.hasHeight {
			s.resume = p.height
		} else {
			s.resume = topicHeight.Load()
		}
		s.queue = slices.Clip(s.queue)
		cut = true
	} else {
		s.queue = append(s.queue, p)
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return cut
}

// take moves the queued events into dst[:0] and returns them, with the
// lagged state: when lagged is true, these are the last events.
func (s *hubSub) take(dst []*published) (evs []*published, lagged bool, resume uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dst = append(dst[:0], s.queue...)
	clear(s.queue)
	if cap(s.queue) > 64 {
		s.queue = nil // let an idle subscription shrink back
	} else {
		s.queue = s.queue[:0]
	}
	return dst, s.state == subLagged, s.resume
}

// match reports whether ev passes f. Filters are validated per topic when
// the subscription is made (validateFilter).
func (f Filter) match(ev Event) bool {
	switch ev := ev.(type) {
	case TxEvent:
		if f.Hash != nil && ev.Hash != *f.Hash {
			return false
		}
		if f.Address != nil && !slices.Contains(ev.Addresses, *f.Address) {
			return false
		}
	case DutyEvent:
		if f.Validator != nil && ev.Validator != *f.Validator {
			return false
		}
	}
	return true
}

// validateFilter checks that f suits topic.
func validateFilter(topic Topic, f *Filter) *Error {
	if f == nil {
		if topic == TopicDuties {
			return invalidParams("the duties topic needs filter {validator}")
		}
		return nil
	}
	switch topic {
	case TopicTxs:
		if f.Validator != nil {
			return invalidParams("the txs topic filters by {hash} or {address}")
		}
		if f.Hash != nil && f.Address != nil {
			return invalidParams("filter by {hash} or by {address}, not both")
		}
	case TopicDuties:
		if f.Validator == nil || f.Hash != nil || f.Address != nil {
			return invalidParams("the duties topic needs filter {validator}")
		}
	default:
		if f.Hash != nil || f.Address != nil || f.Validator != nil {
			return invalidParams("the %s topic takes no filter", topic)
		}
	}
	return nil
}

func errUnknownTopic(t Topic) *Error {
	return &Error{Code: CodeUnknownTopic, Message: fmt.Sprintf("unknown topic %q: want one of finalized, blocks, votes, txs, validators, duties", string(t))}
}
