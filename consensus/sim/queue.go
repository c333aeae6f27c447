package sim

import (
	"container/heap"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/p2p"
)

// eventKind says what an event does when its time comes.
type eventKind uint8

const (
	evDeliver   eventKind = iota // a message arrives at node
	evTimeout                    // a consensus timeout of node fires
	evTick                       // a periodic task of node runs
	evRestart                    // a crashed or halted node restarts
	evJoin                       // a late validator starts for the first time
	evPartition                  // the network changes partition (or heals at GST)
)

// tick is a periodic task of a validator process.
type tick uint8

const (
	tickStatus tick = iota // Driver.StatusTick: announce the final height, advance block sync
	tickRound              // Driver.RoundTick: send peers a RoundStatus (catch-up gossip)
)

// msgKind is the kind of a network message.
type msgKind uint8

const (
	msgVote msgKind = iota
	msgProposal
	msgVotes        // a batch of votes answering a RoundStatus
	msgEvidence     // a double sign
	msgStatus       // the sender's final height
	msgRoundStatus  // what the sender holds of its height (p2p.RoundStatus)
	msgSyncRequest  // "send me the final block and certificate of height"
	msgSyncResponse // a final block with its certificate
)

// message is what travels between validators. Its contents are shared by
// every recipient and never modified (the driver does not modify its
// inputs).
type message struct {
	kind     msgKind
	from     int
	vote     *chain.Vote
	proposal *chain.Proposal
	block    *chain.Block
	cert     *chain.Certificate
	votes    []*chain.Vote
	evidence *chain.Evidence
	status   *p2p.RoundStatus
	height   uint64 // status and sync request
}

// event is one entry of the virtual-time queue. Events run in (at, seq)
// order; seq is the insertion order, so equal times are deterministic.
type event struct {
	at   time.Duration
	seq  uint64
	kind eventKind
	node int
	inc  uint32 // incarnation of node the event belongs to (timeouts, ticks)
	msg  *message
	tmo  consensus.TimeoutFired
	// timer identifies the arming of tmo: a timeout re-armed or stopped
	// since does not fire.
	timer uint64
	tick  tick
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
