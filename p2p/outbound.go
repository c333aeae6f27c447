package p2p

import "github.com/quorumchain/quorumchain/chain"

// Broadcast queues msg to every connected peer that has neither sent us msg
// nor been sent it. A gossip message is also marked seen, so that copies
// coming back are not passed to the Handler. It never blocks: a peer whose send queue is full misses
// the message, and the drop is counted. Control kinds are ignored.
func (s *Switch) Broadcast(msg Message) {
	if msg.Kind().control() {
		return
	}
	b := Encode(msg)
	s.broadcast(msg.Kind(), b, MessageHash(b))
}

// Relay is Broadcast for a message the Handler received and did not
// modify: it sends the bytes the message arrived in, under the hash the
// receive path computed, so relaying costs neither an encoding nor a hash.
// The peer it came from is skipped (it is known to have it). A message
// that did not arrive from a peer, or of a kind whose encoding is not
// kept (only transaction and proposal messages keep theirs), is broadcast
// as Broadcast does.
func (s *Switch) Relay(msg Message) {
	if r, ok := msg.(relayable); ok {
		if w := r.arrived(); w.enc != nil {
			s.broadcast(msg.Kind(), w.enc, w.hash)
			return
		}
	}
	s.Broadcast(msg)
}

// broadcast queues b, the encoding of a message of kind with hash h, to
// every connected peer that does not know it.
func (s *Switch) broadcast(kind Kind, b []byte, h chain.Hash) {
	if kind.gossip() {
		s.seen.add(h)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, p := range s.peers {
		if p.closing.Load() {
			continue
		}
		// A refusal to queue is counted by enqueue.
		if known, _ := p.known.addIf(h, func() bool { return p.enqueue(b) }); known {
			s.stats.knownSkipped.Add(1)
		}
	}
}

// Send queues msg to peer to, whether or not it has the message, and
// reports whether it was queued: false if to is not connected or its send
// queue is full (the drop is counted). It never blocks. Control kinds are
// not sent.
func (s *Switch) Send(to NodeID, msg Message) bool {
	if msg.Kind().control() {
		return false
	}
	s.mu.RLock()
	p := s.peers[to]
	s.mu.RUnlock()
	if p == nil || p.closing.Load() {
		return false
	}
	b := Encode(msg)
	// A request is recorded before it can leave, so that its answer is
	// never read first.
	request := msg.Kind() == KindBlockRequest
	if request {
		p.requestSent()
	}
	if !p.enqueue(b) { // counted by enqueue
		if request {
			p.requestUnsent()
		}
		return false
	}
	p.known.add(MessageHash(b))
	return true
}
