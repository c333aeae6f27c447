package p2p

import (
	"sync"
	"time"
)

// sendQueue is a peer's queue of encoded outgoing messages, bounded both in
// messages and in bytes, so that a peer that reads slowly (or not at all)
// while it asks for big blocks holds at most maxBytes of our memory. push
// never blocks: a message that does not fit is refused. One writer pops.
type sendQueue struct {
	maxMsgs, maxBytes int

	mu        sync.Mutex
	msgs      [][]byte // FIFO: msgs[head:] are queued
	head      int
	bytes     int
	fullSince time.Time // when a push was first refused since the queue last had room; zero if none
	ready     chan struct{}
}

func newSendQueue(maxMsgs, maxBytes int) *sendQueue {
	return &sendQueue{maxMsgs: maxMsgs, maxBytes: maxBytes, ready: make(chan struct{}, 1)}
}

// push queues b and reports whether it fitted. When it did not, full is how
// long the queue has been refusing messages without draining to half its
// byte bound (zero on the first refusal).
func (q *sendQueue) push(b []byte, now time.Time) (ok bool, full time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.msgs)-q.head >= q.maxMsgs || q.bytes+len(b) > q.maxBytes {
		if q.fullSince.IsZero() {
			q.fullSince = now
		}
		return false, now.Sub(q.fullSince)
	}
	if q.head > 0 && q.head == len(q.msgs) {
		q.msgs, q.head = q.msgs[:0], 0
	}
	q.msgs = append(q.msgs, b)
	q.bytes += len(b)
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true, 0
}

// pop removes the oldest message; false if the queue is empty.
func (q *sendQueue) pop() ([]byte, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.msgs) {
		return nil, false
	}
	b := q.msgs[q.head]
	q.msgs[q.head] = nil // release the message once written
	q.head++
	q.bytes -= len(b)
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
	return b, true
}

// size returns the queued messages and bytes.
func (q *sendQueue) size() (msgs, bytes int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.msgs) - q.head, q.bytes
}
