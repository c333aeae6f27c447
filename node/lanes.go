package node

import (
	"sync"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
)

// lane is one class of the consensus loop's inbox. Each lane is bounded on
// its own, so a flood of one class (status, evidence, block responses)
// fills only its lane and never crowds out a vote or a proposal.
type lane int

const (
	laneConsensus lane = iota // peers' proposals and votes
	laneSync                  // block-sync answers (blocks with certificates)
	laneEvidence              // peers' evidence
	laneStatus                // Status and RoundStatus
	laneControl               // peers connecting and leaving
	numLanes
)

var laneNames = [numLanes]string{"consensus", "sync", "evidence", "status", "control"}

func (l lane) String() string { return laneNames[l] }

// laneLimit bounds a lane in messages and in estimated bytes (see
// inboundBytes); 0 bytes: messages of the lane are small and fixed-size, the
// count bounds them.
type laneLimit struct{ msgs, bytes int }

// laneLimits: the consensus and sync lanes hold blocks, up to
// chain.MaxBlockBytes each, so they are bounded in bytes (room for a few
// of the largest); evidence and status messages are small.
var laneLimits = [numLanes]laneLimit{
	laneConsensus: {msgs: 8192, bytes: 48 << 20},
	laneSync:      {msgs: 512, bytes: 48 << 20},
	laneEvidence:  {msgs: 1024},
	laneStatus:    {msgs: 1024},
	laneControl:   {msgs: 1024},
}

// consensusBurst is how many consensus-lane messages the loop takes in a
// row while other lanes wait; then it takes one from each other lane that
// has any. Votes and proposals go first, and nothing starves.
const consensusBurst = 16

// inbox is the consensus loop's lanes. push never blocks; the loop waits
// on ready and takes messages with pop. Safe for concurrent use.
type inbox struct {
	mu     sync.Mutex
	lanes  [numLanes]laneQueue
	streak int  // consensus messages taken in a row while others waited
	next   lane // the other lane to serve next (round robin)
	ready  chan struct{}
}

type laneQueue struct {
	msgs  []inbound
	head  int
	bytes int
}

func newInbox() *inbox { return &inbox{ready: make(chan struct{}, 1), next: laneSync} }

// laneOf says which lane m belongs to.
func laneOf(m inbound) lane {
	switch {
	case m.connected || m.gone:
		return laneControl
	case m.status != nil || m.roundStatus != nil:
		return laneStatus
	case m.evidence != nil:
		return laneEvidence
	}
	if _, ok := m.in.(consensus.CommitReceived); ok {
		return laneSync
	}
	return laneConsensus
}

// Estimated encoded sizes, for the byte bounds of the lanes: an estimate
// from the counts of a block's parts is enough to bound memory, and costs
// no encoding.
const (
	txBytesEstimate        = 128 // plus the chain id; chain.MaxTxBytes bounds one
	evidenceBytesEstimate  = 512
	commitSigBytesEstimate = 96
	blockOverheadEstimate  = 1024
)

func blockBytes(b *chain.Block) int {
	if b == nil {
		return 0
	}
	n := blockOverheadEstimate + len(b.Txs)*(txBytesEstimate+len(b.Header.ChainID)) + len(b.Evidence)*evidenceBytesEstimate
	if c := b.LastCertificate; c != nil {
		n += len(c.Precommits) * commitSigBytesEstimate
	}
	return n
}

// inboundBytes estimates what m holds in memory.
func inboundBytes(m inbound) int {
	switch in := m.in.(type) {
	case consensus.ProposalReceived:
		return blockOverheadEstimate + blockBytes(in.Block)
	case consensus.CommitReceived:
		n := blockBytes(in.Block)
		if in.Certificate != nil {
			n += len(in.Certificate.Precommits) * commitSigBytesEstimate
		}
		return n
	}
	return 256
}

// push queues m on its lane; false if the lane is full (the message is
// dropped: catch-up gossip and block sync recover it).
func (q *inbox) push(m inbound) bool {
	l := laneOf(m)
	size := inboundBytes(m)
	lim := laneLimits[l]
	q.mu.Lock()
	lq := &q.lanes[l]
	if lq.len() >= lim.msgs || (lim.bytes > 0 && lq.bytes+size > lim.bytes && lq.len() > 0) {
		q.mu.Unlock()
		return false
	}
	if lq.head > 0 && lq.head == len(lq.msgs) {
		lq.msgs, lq.head = lq.msgs[:0], 0
	}
	lq.msgs = append(lq.msgs, m)
	lq.bytes += size
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true
}

// pop takes the next message: from the consensus lane first, but after
// consensusBurst of those in a row, one from the next other lane that has
// any. It re-arms ready when more remain.
func (q *inbox) pop() (inbound, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	l, ok := q.pick()
	if !ok {
		return inbound{}, false
	}
	lq := &q.lanes[l]
	m := lq.msgs[lq.head]
	lq.msgs[lq.head] = inbound{}
	lq.head++
	lq.bytes -= inboundBytes(m)
	if lq.head == len(lq.msgs) {
		lq.msgs, lq.head = lq.msgs[:0], 0
	} else if lq.head >= 1024 && 2*lq.head >= len(lq.msgs) {
		n := copy(lq.msgs, lq.msgs[lq.head:])
		clear(lq.msgs[n:])
		lq.msgs, lq.head = lq.msgs[:n], 0
	}
	for i := range q.lanes {
		if q.lanes[i].len() > 0 {
			select {
			case q.ready <- struct{}{}:
			default:
			}
			break
		}
	}
	return m, true
}

// pick chooses the lane to take from; mu held.
func (q *inbox) pick() (lane, bool) {
	other, waiting := q.nextOther()
	if q.lanes[laneConsensus].len() > 0 && (!waiting || q.streak < consensusBurst) {
		if waiting {
			q.streak++
		}
		return laneConsensus, true
	}
	if !waiting {
		return 0, false
	}
	q.streak = 0
	q.next = other + 1
	if q.next == numLanes {
		q.next = laneSync
	}
	return other, true
}

// nextOther returns the first non-empty lane other than consensus, in
// round-robin order from q.next.
func (q *inbox) nextOther() (lane, bool) {
	const others = int(numLanes - laneSync)
	for i := range others {
		l := laneSync + (q.next-laneSync+lane(i))%lane(others)
		if q.lanes[l].len() > 0 {
			return l, true
		}
	}
	return 0, false
}

func (lq *laneQueue) len() int { return len(lq.msgs) - lq.head }

// len returns the messages queued in every lane.
func (q *inbox) len() int {
	n := 0
	for _, k := range q.sizes() {
		n += k
	}
	return n
}

// sizes returns each lane's queued messages (for tests and metrics).
func (q *inbox) sizes() [numLanes]int {
	q.mu.Lock()
	defer q.mu.Unlock()
	var n [numLanes]int
	for i := range q.lanes {
		n[i] = q.lanes[i].len()
	}
	return n
}
