package p2p

import (
	"sync"
	"time"
)

// sendQueue is a peer's queue of encoded outgoing messages, bounded both in
// messages and in bytes, so that a peer that reads slowly (or not at all)
// while it asks for big blocks holds at most maxBytes of our memory. push
// never blocks: a message that does not fit is refused. One writer pops.
//
// A message may carry a release time (the fault layer's delay): the writer
// does not take it, nor anything queued behind it, before then, so one
// peer's messages leave in the order they were queued.
type sendQueue struct {
	maxMsgs, maxBytes int

	mu        sync.Mutex
	msgs      []queued // FIFO: msgs[head:] are queued
	head      int
	bytes     int
	fullSince time.Time // when a push was first refused since the queue last had room; zero if none
	ready     chan struct{}
}

type queued struct {
	b   []byte
	due time.Time // zero: at once
}

func newSendQueue(maxMsgs, maxBytes int) *sendQueue {
	return &sendQueue{maxMsgs: maxMsgs, maxBytes: maxBytes, ready: make(chan struct{}, 1)}
}

// push queues b, to leave at due or at once if due is zero, and reports
// whether it fitted. A delayed message fits only while the queue holds at
// most delayBytes (and maxBytes) with it. When it did not fit, full is how
// long the queue has been refusing messages without draining to half its
// byte bound (zero on the first refusal).
func (q *sendQueue) push(b []byte, now, due time.Time, delayBytes int) (ok bool, full time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	limit := q.maxBytes
	if !due.IsZero() {
		limit = min(limit, delayBytes)
	}
	if len(q.msgs)-q.head >= q.maxMsgs || q.bytes+len(b) > limit {
		if q.fullSince.IsZero() {
			q.fullSince = now
		}
		return false, now.Sub(q.fullSince)
	}
	if q.head > 0 && q.head == len(q.msgs) {
		q.msgs, q.head = q.msgs[:0], 0
	}
	q.msgs = append(q.msgs, queued{b: b, due: due})
	q.bytes += len(b)
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true, 0
}

// pop removes the oldest message if it is due at now; ok is false if the
// queue is empty, or if the oldest is not yet due, and then wait is how
// long until it is.
func (q *sendQueue) pop(now time.Time) (b []byte, wait time.Duration, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.msgs) {
		return nil, 0, false
	}
	m := q.msgs[q.head]
	if !m.due.IsZero() && m.due.After(now) {
		return nil, m.due.Sub(now), false
	}
	q.msgs[q.head] = queued{} // release the message once written
	q.head++
	q.bytes -= len(m.b)
	if q.head == len(q.msgs) {
		q.msgs, q.head = q.msgs[:0], 0
	} else if q.head >= 1024 && q.head*2 >= len(q.msgs) {
		n := copy(q.msgs, q.msgs[q.head:])
		clear(q.msgs[n:])
		q.msgs, q.head = q.msgs[:n], 0
	}
	if q.bytes <= q.maxBytes/2 {
		q.fullSince = time.Time{}
	}
	return m.b, 0, true
}

// size returns the queued messages and bytes.
func (q *sendQueue) size() (msgs, bytes int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.msgs) - q.head, q.bytes
}
