package sim

import (
	"container/heap"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
)

// eventKind says what an event does when its time comes.
type eventKind uint8

const (
	evDeliver   eventKind = iota // a message arrives at msg.to
	evTimeout                    // a Machine timeout fires
	evGossip                     // an honest node re-sends its latest messages
	evRestart                    // a crashed node restarts
	evPartition                  // the network changes partition (or heals at GST)
)

var eventNames = [...]string{"deliver", "timeout", "gossip", "restart", "partition"}

// msgKind is the kind of a network message.
type msgKind uint8

const (
	msgVote msgKind = iota
	msgProposal
	msgSyncRequest  // "send me the final block and certificate of height"
	msgSyncResponse // a final block with its certificate
)

var msgNames = [...]string{"vote", "proposal", "sync-req", "sync-resp"}

// message is what travels between validators. Its vote, proposal, block
// and certificate are shared by every recipient and never modified (the
// Machine does not modify its inputs).
type message struct {
	kind     msgKind
	from     int
	vote     *chain.Vote
	proposal *chain.Proposal
	block    *chain.Block
	cert     *chain.Certificate
	height   uint64 // sync request
}

// event is one entry of the virtual-time queue. Events run in (at, seq)
// order; seq is the insertion order, so equal times are deterministic.
type event struct {
	at   time.Duration
	seq  uint64
	kind eventKind
	node int
	inc  uint32 // incarnation of node the event belongs to (timeouts, gossip)
	msg  *message
	tmo  consensus.TimeoutFired
}

type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return e
}

func (s *sim) schedule(e *event) {
	s.seq++
	e.seq = s.seq
	heap.Push(&s.queue, e)
}

func (s *sim) next() *event { return heap.Pop(&s.queue).(*event) }
