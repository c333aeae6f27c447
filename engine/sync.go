package engine

import (
	"bytes"
	"slices"
	"time"

	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/p2p"
)

// Block sync. Every node announces its latest final height to its peers
// (Status, on every StatusTick). A node that sees a peer ahead of it
// requests the final blocks it lacks, with their certificates, up to
// syncWindow heights ahead, and feeds them to its Machine in order as
// CommitReceived: the Machine verifies each certificate against the
// validator set of its height and the engine executes each block before it
// is committed. A node one height behind waits syncGrace first, since
// consensus itself usually delivers that height a moment later.
const (
	syncWindow = 128
	syncRetry  = 2 * time.Second
	syncGrace  = 500 * time.Millisecond
)

type syncer struct {
	peers     map[p2p.NodeID]uint64 // latest final height each peer announced
	requested map[uint64]time.Time
	buffer    map[uint64]consensus.CommitReceived
	next      int // round-robin over peers
}

func newSyncer() *syncer {
	return &syncer{peers: make(map[p2p.NodeID]uint64), requested: make(map[uint64]time.Time), buffer: make(map[uint64]consensus.CommitReceived)}
}

func (s *syncer) peerHeight(peer p2p.NodeID, h uint64) { s.peers[peer] = h }

func (s *syncer) peerGone(peer p2p.NodeID) { delete(s.peers, peer) }

func (s *syncer) received(h uint64, in consensus.CommitReceived) {
	if _, ok := s.requested[h]; ok {
		s.buffer[h] = in
		delete(s.requested, h)
	}
}

func (s *syncer) maxPeerHeight() uint64 {
	var m uint64
	for _, h := range s.peers {
		m = max(m, h)
	}
	return m
}

// syncing reports that some peer is more than one height ahead of height.
func (s *syncer) syncing(height uint64) bool { return s.maxPeerHeight() > height }

// peerFor picks a peer that has height h, round-robin.
func (s *syncer) peerFor(h uint64) (p2p.NodeID, bool) {
	ids := make([]p2p.NodeID, 0, len(s.peers))
	for id, ph := range s.peers {
		if ph >= h {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return p2p.NodeID{}, false
	}
	slices.SortFunc(ids, func(a, b p2p.NodeID) int { return bytes.Compare(a[:], b[:]) })
	s.next++
	return ids[s.next%len(ids)], true
}

// syncTick feeds buffered blocks of the current height to the Machine and
// requests missing ones.
func (e *Driver) SyncTick() error {
	s := e.sync
	for {
		in, ok := s.buffer[e.height]
		if !ok {
			break
		}
		delete(s.buffer, e.height)
		before := e.height
		if err := e.step(in); err != nil {
			return err
		}
		if e.height == before {
			break // not decided (e.g. invalid certificate): re-request later
		}
	}
	for h := range s.buffer {
		if h < e.height {
			delete(s.buffer, h)
		}
	}
	top := s.maxPeerHeight()
	if top < e.height || (top == e.height && e.clock.Now().Sub(e.startedAt) < syncGrace) {
		return nil
	}
	now := e.clock.Now()
	for h := e.height; h <= top && h < e.height+syncWindow; h++ {
		if _, ok := s.buffer[h]; ok {
			continue
		}
		if at, ok := s.requested[h]; ok && now.Sub(at) < syncRetry {
			continue
		}
		peer, ok := s.peerFor(h)
		if !ok {
			break
		}
		if e.net.RequestBlock(peer, h) {
			s.requested[h] = now
		}
	}
	for h := range s.requested {
		if h < e.height {
			delete(s.requested, h)
		}
	}
	return nil
}
