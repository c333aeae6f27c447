package p2p

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Fault kinds, as the admin endpoint and net_getFaults name them.
const (
	FaultPartition = "partition"
	FaultDelay     = "delay"
	FaultDrop      = "drop"
)

// Bounds of the faults a FaultLayer accepts.
const (
	// MaxFaultDelay bounds a delay plus its jitter.
	MaxFaultDelay = time.Minute
	// MaxPartitionPeers bounds the NodeIDs of one partition.
	MaxPartitionPeers = 1024
	// DefaultFaultDelayBytes bounds, per peer, the bytes of outgoing
	// messages held back by a delay (Config.FaultDelayBytes).
	DefaultFaultDelayBytes = 4 << 20
)

// ErrBadFault is the error, wrapped, of a fault a FaultLayer refuses.
var ErrBadFault = errors.New("p2p: bad fault")

// Fault is one active fault of a FaultLayer.
type Fault struct {
	Kind  string    // FaultPartition, FaultDelay or FaultDrop
	Since time.Time // when it was set
	// Peers are the partitioned peers, ordered by NodeID (partition).
	Peers []NodeID
	// Delay and Jitter: each outgoing message waits Delay plus up to
	// Jitter (delay).
	Delay, Jitter time.Duration
	// Rate is the probability that an outgoing message is dropped (drop).
	Rate float64
}

// FaultStats are a FaultLayer's counters.
type FaultStats struct {
	// Delayed counts outgoing messages held back by a delay.
	Delayed uint64
	// Dropped counts messages dropped by a fault: the random drop rate, a
	// partition (both directions), or a full delay queue.
	Dropped uint64
}

// FaultLayer injects network faults into this node's peer links, for test
// networks: a partition from a set of peers (nothing sent to them, nothing
// they send delivered), a delay with jitter on outgoing messages, and a
// random drop rate on outgoing messages. A Switch has one only when
// Config.Faults is set (see Switch.Faults); without one, the send and
// receive paths test a nil pointer and nothing else.
//
// The faults are applied where every message passes: a peer's enqueue for
// sends (Broadcast, Send, and so gossip, catch-up and block sync alike)
// and its reader for receipts. Because they are keyed by NodeID, not by
// connection, a partition holds against redials: the connection may come
// up again, but nothing crosses it. A delayed message waits in the peer's
// send queue, which keeps the order of one peer's messages.
//
// Its methods are safe for concurrent use.
type FaultLayer struct {
	delayBytes int
	state      atomic.Pointer[faultState] // nil: no fault

	mu  sync.Mutex // serialises setters and guards rng
	rng *rand.Rand

	delayed, dropped atomic.Uint64
}

// faultState is an immutable set of active faults.
type faultState struct {
	partition      map[NodeID]struct{}
	partitionPeers []NodeID
	partitionSince time.Time

	delay, jitter time.Duration
	delaySince    time.Time

	dropRate  float64
	dropSince time.Time
}

func (s *faultState) empty() bool {
	return len(s.partition) == 0 && s.delay == 0 && s.jitter == 0 && s.dropRate == 0
}

func newFaultLayer(seed uint64, delayBytes int) *FaultLayer {
	return &FaultLayer{delayBytes: delayBytes, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// update replaces the state with fn's change of a copy of it.
func (f *FaultLayer) update(fn func(s *faultState)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var next faultState
	if cur := f.state.Load(); cur != nil {
		next = *cur
	}
	fn(&next)
	if next.empty() {
		f.state.Store(nil)
		return
	}
	f.state.Store(&next)
}

// Partition stops all traffic with peers, in both directions, until Heal;
// it replaces an earlier partition. An empty list heals.
func (f *FaultLayer) Partition(peers []NodeID, now time.Time) error {
	if len(peers) > MaxPartitionPeers {
		return fmt.Errorf("%w: %d peers in a partition, at most %d", ErrBadFault, len(peers), MaxPartitionPeers)
	}
	set := make(map[NodeID]struct{}, len(peers))
	for _, id := range peers {
		set[id] = struct{}{}
	}
	list := make([]NodeID, 0, len(set))
	for id := range set {
		list = append(list, id)
	}
	slices.SortFunc(list, func(a, b NodeID) int { return bytes.Compare(a[:], b[:]) })
	f.update(func(s *faultState) {
		if len(set) == 0 {
			s.partition, s.partitionPeers, s.partitionSince = nil, nil, time.Time{}
			return
		}
		s.partition, s.partitionPeers, s.partitionSince = set, list, now
	})
	return nil
}

// Heal ends the partition.
func (f *FaultLayer) Heal() {
	f.update(func(s *faultState) { s.partition, s.partitionPeers, s.partitionSince = nil, nil, time.Time{} })
}

// SetDelay holds each outgoing message back for delay plus a uniformly
// random part of jitter; zero for both clears the delay. Messages already
// queued keep their release times.
func (f *FaultLayer) SetDelay(delay, jitter time.Duration, now time.Time) error {
	if delay < 0 || jitter < 0 || delay+jitter > MaxFaultDelay {
		return fmt.Errorf("%w: delay %v and jitter %v: each at least 0, together at most %v", ErrBadFault, delay, jitter, MaxFaultDelay)
	}
	f.update(func(s *faultState) {
		s.delay, s.jitter, s.delaySince = delay, jitter, now
		if delay == 0 && jitter == 0 {
			s.delaySince = time.Time{}
		}
	})
	return nil
}

// SetDropRate drops each outgoing message with probability rate, in
// [0, 1]; zero clears it.
func (f *FaultLayer) SetDropRate(rate float64, now time.Time) error {
	if !(rate >= 0 && rate <= 1) { // also refuses NaN
		return fmt.Errorf("%w: drop rate %v outside [0, 1]", ErrBadFault, rate)
	}
	f.update(func(s *faultState) {
		s.dropRate, s.dropSince = rate, now
		if rate == 0 {
			s.dropSince = time.Time{}
		}
	})
	return nil
}

// Clear ends every fault.
func (f *FaultLayer) Clear() { f.update(func(s *faultState) { *s = faultState{} }) }

// Active lists the active faults: partition, delay, drop, in that order.
func (f *FaultLayer) Active() []Fault {
	s := f.state.Load()
	if s == nil {
		return nil
	}
	var out []Fault
	if len(s.partition) > 0 {
		out = append(out, Fault{Kind: FaultPartition, Since: s.partitionSince, Peers: slices.Clone(s.partitionPeers)})
	}
	if s.delay > 0 || s.jitter > 0 {
		out = append(out, Fault{Kind: FaultDelay, Since: s.delaySince, Delay: s.delay, Jitter: s.jitter})
	}
	if s.dropRate > 0 {
		out = append(out, Fault{Kind: FaultDrop, Since: s.dropSince, Rate: s.dropRate})
	}
	return out
}

// Stats returns the counters.
func (f *FaultLayer) Stats() FaultStats {
	return FaultStats{Delayed: f.delayed.Load(), Dropped: f.dropped.Load()}
}

// outgoing decides the fate of a message to peer to: send reports whether
// it goes at all, and due, when not zero, is when it may leave.
func (f *FaultLayer) outgoing(to NodeID, now time.Time) (send bool, due time.Time) {
	s := f.state.Load()
	if s == nil {
		return true, time.Time{}
	}
	if _, ok := s.partition[to]; ok {
		f.dropped.Add(1)
		return false, time.Time{}
	}
	if s.dropRate == 0 && s.delay == 0 && s.jitter == 0 {
		return true, time.Time{}
	}
	f.mu.Lock()
	drop := s.dropRate > 0 && f.rng.Float64() < s.dropRate
	var jitter time.Duration
	if !drop && s.jitter > 0 {
		jitter = time.Duration(f.rng.Int64N(int64(s.jitter) + 1))
	}
	f.mu.Unlock()
	if drop {
		f.dropped.Add(1)
		return false, time.Time{}
	}
	if d := s.delay + jitter; d > 0 {
		f.delayed.Add(1)
		return true, now.Add(d)
	}
	return true, time.Time{}
}

// blocksFrom reports whether messages from peer from are dropped (a
// partition), counting the drop.
func (f *FaultLayer) blocksFrom(from NodeID) bool {
	s := f.state.Load()
	if s == nil {
		return false
	}
	if _, ok := s.partition[from]; ok {
		f.dropped.Add(1)
		return true
	}
	return false
}
