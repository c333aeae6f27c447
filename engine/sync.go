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
//
// Each height is asked of one peer at a time, and only that peer's answer
// is taken: an answer for a height not asked, or from another peer, is
// dropped, so a peer cannot push blocks nobody requested nor race the
// honest answer with a bogus one. A request unanswered after syncRetry is
// asked of another peer that has the height. An answer whose certificate
// the Machine rejects is reported (Gossip.Misbehaved: the network
// disconnects the sender) and the height is asked of another peer.
const (
	syncWindow = 128
	syncRetry  = 2 * time.Second
	syncGrace  = 500 * time.Millisecond
)

// syncRequest is an outstanding block request: whom it was sent to, when.
type syncRequest struct {
	peer p2p.NodeID
	at   time.Time
}

// syncAnswer is a requested block with its certificate, and who sent it.
type syncAnswer struct {
	peer p2p.NodeID
	in   consensus.CommitReceived
}

type syncer struct {
	peers     map[p2p.NodeID]uint64 // latest final height each peer announced
	requested map[uint64]syncRequest
	buffer    map[uint64]syncAnswer
	next      int // round-robin over peers
}

func newSyncer() *syncer {
	return &syncer{peers: make(map[p2p.NodeID]uint64), requested: make(map[uint64]syncRequest), buffer: make(map[uint64]syncAnswer)}
}

func (s *syncer) peerHeight(peer p2p.NodeID, h uint64) { s.peers[peer] = h }

func (s *syncer) peerGone(peer p2p.NodeID) { delete(s.peers, peer) }

// received keeps the answer for height h if it comes from the peer that
// was asked for h; it reports whether it did.
func (s *syncer) received(peer p2p.NodeID, h uint64, in consensus.CommitReceived) bool {
	r, ok := s.requested[h]
	if !ok || r.peer != peer {
		return false
	}
	s.buffer[h] = syncAnswer{peer: peer, in: in}
	delete(s.requested, h)
	return true
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

// peerFor picks a peer that has height h, round-robin, other than avoid
// unless it is the only one.
func (s *syncer) peerFor(h uint64, avoid *p2p.NodeID) (p2p.NodeID, bool) {
	ids := make([]p2p.NodeID, 0, len(s.peers))
	for id, ph := range s.peers {
		if ph >= h && (avoid == nil || id != *avoid) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		if avoid != nil {
			if ph, ok := s.peers[*avoid]; ok && ph >= h {
				return *avoid, true
			}
		}
		return p2p.NodeID{}, false
	}
	slices.SortFunc(ids, func(a, b p2p.NodeID) int { return bytes.Compare(a[:], b[:]) })
	s.next++
	return ids[s.next%len(ids)], true
}

// SyncTick feeds buffered blocks of the current height to the Machine and
// requests missing ones.
func (e *Driver) SyncTick() error {
	s := e.sync
	for {
		ans, ok := s.buffer[e.height]
		if !ok {
			break
		}
		delete(s.buffer, e.height)
		before := e.height
		e.syncRejected = nil
		if err := e.step(ans.in); err != nil {
			return err
		}
		if err := e.syncRejected; err != nil {
			// A certificate that does not verify, or a block that is not
			// the certified one: the peer sent what no honest node has.
			e.syncRejected = nil
			e.log.Info("block sync: bad answer", "peer", ans.peer, "height", before, "err", err)
			e.net.Misbehaved(ans.peer, err)
			s.peerGone(ans.peer)
		}
		if e.height == before {
			// Not decided (the block awaits its check, or the Machine had
			// decided otherwise): re-requested below, from another peer.
			e.log.Info("block sync: answer did not decide the height", "peer", ans.peer, "height", before,
				"round", e.machine.RoundState().Round)
			break
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
		var avoid *p2p.NodeID
		if r, ok := s.requested[h]; ok {
			if now.Sub(r.at) < syncRetry {
				continue
			}
			avoid = &r.peer // timed out: ask someone else
		}
		peer, ok := s.peerFor(h, avoid)
		if !ok {
			break
		}
		if e.net.RequestBlock(peer, h) {
			s.requested[h] = syncRequest{peer: peer, at: now}
		}
	}
	for h := range s.requested {
		if h < e.height {
			delete(s.requested, h)
		}
	}
	return nil
}
