package p2p

import (
	"sync"

	"github.com/quorumchain/quorumchain/chain"
)

// knownSet is a bounded set of message hashes: the messages a peer has sent
// us or we have sent it. When full, adding a hash evicts the oldest one (a
// ring), so memory stays at capacity*~80 bytes however much is gossiped.
type knownSet struct {
	mu       sync.Mutex
	capacity int
	set      map[chain.Hash]int // hash -> its ring slot
	ring     []chain.Hash       // grows to capacity, then wraps; a removed hash's slot holds the zero hash
	next     int                // once full, the ring slot the next hash goes into
}

// newKnownSet returns an empty set of at most capacity (>= 1) hashes; memory
// grows with use.
func newKnownSet(capacity int) *knownSet {
	return &knownSet{capacity: capacity, set: make(map[chain.Hash]int)}
}

// add records h; it reports whether h was new.
func (k *knownSet) add(h chain.Hash) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.addLocked(h)
}

func (k *knownSet) addLocked(h chain.Hash) bool {
	if _, ok := k.set[h]; ok {
		return false
	}
	if len(k.ring) < k.capacity {
		k.set[h] = len(k.ring)
		k.ring = append(k.ring, h)
		return true
	}
	if old := k.ring[k.next]; old != (chain.Hash{}) {
		delete(k.set, old)
	}
	k.ring[k.next] = h
	k.set[h] = k.next
	k.next = (k.next + 1) % len(k.ring)
	return true
}

// remove forgets h, if present.
func (k *knownSet) remove(h chain.Hash) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if slot, ok := k.set[h]; ok {
		delete(k.set, h)
		k.ring[slot] = chain.Hash{}
	}
}

func (k *knownSet) has(h chain.Hash) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, ok := k.set[h]
	return ok
}

// addIf records h and runs send, atomically, unless h is already known; send
// reports whether the message was accepted (enqueued), and h is recorded only
// then. addIf reports (known before, accepted).
func (k *knownSet) addIf(h chain.Hash, send func() bool) (known, accepted bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.set[h]; ok {
		return true, false
	}
	if !send() {
		return false, false
	}
	k.addLocked(h)
	return false, true
}
