package p2p

import (
	"fmt"
	"time"

	"golang.org/x/time/rate"
)

// Class groups message kinds that share a per-peer budget.
type Class uint8

// Message classes. Control kinds (Hello, Auth, Disconnect) belong to none:
// the handshake has its own limits and a Disconnect ends the connection.
const (
	ClassTx        Class = iota // Tx, Txs
	ClassConsensus              // Proposal, Vote, Votes
	ClassEvidence               // Evidence
	ClassStatus                 // Status, RoundStatus
	ClassSync                   // BlockRequest, BlockResponse
	numClasses
)

var classNames = [numClasses]string{"tx", "consensus", "evidence", "status", "sync"}

func (c Class) String() string {
	if c < numClasses {
		return classNames[c]
	}
	return fmt.Sprintf("Class(%d)", uint8(c))
}

// class is the budget class of a non-control kind.
func (k Kind) class() Class {
	switch k {
	case KindTx, KindTxs:
		return ClassTx
	case KindProposal, KindVote, KindVotes:
		return ClassConsensus
	case KindEvidence:
		return ClassEvidence
	case KindStatus, KindRoundStatus:
		return ClassStatus
	default: // KindBlockRequest, KindBlockResponse
		return ClassSync
	}
}

// Budget is one class's allowance per peer: two token buckets, one counted
// in messages and one in bytes (encoded envelopes). A message passes only
// if both buckets have room; one that does not is dropped and costs the
// peer PenaltyBudget. A message larger than ByteBurst passes when the byte
// bucket is full, and empties it.
type Budget struct {
	MessagesPerSecond float64
	MessageBurst      int
	BytesPerSecond    float64
	ByteBurst         int
}

// Budgets holds the budget of each class. A zero field of a Budget takes
// the class's default (DefaultBudgets).
type Budgets struct {
	Tx, Consensus, Evidence, Status, Sync Budget
}

// DefaultBudgets are sized for honest peers with margin. In a 4-validator
// network one peer sends us per second: transaction batches of its own
// (one per 2 ms at most, so up to 500) and the batches of the other nodes
// it relays, up to ~1,500 in all, some hundreds of KiB at 3,000+ tx/s; a
// proposal and up to 8 votes (plus catch-up answers) per height, at up to
// ~60 heights a second under light load, so ~500 consensus messages; one
// Status every 250 ms and one RoundStatus every 500 ms; and, when syncing,
// up to 128 block requests or answers per 250 ms status tick. Each default
// allows several times that, and each byte burst fits the largest message
// of its class.
func DefaultBudgets() Budgets {
	return Budgets{
		Tx:        Budget{MessagesPerSecond: 10000, MessageBurst: 20000, BytesPerSecond: 32 << 20, ByteBurst: 64 << 20},
		Consensus: Budget{MessagesPerSecond: 5000, MessageBurst: 10000, BytesPerSecond: 64 << 20, ByteBurst: 128 << 20},
		Evidence:  Budget{MessagesPerSecond: 200, MessageBurst: 1000, BytesPerSecond: 1 << 20, ByteBurst: 4 << 20},
		Status:    Budget{MessagesPerSecond: 50, MessageBurst: 200, BytesPerSecond: 1 << 20, ByteBurst: 2 << 20},
		Sync:      Budget{MessagesPerSecond: 2000, MessageBurst: 4000, BytesPerSecond: 64 << 20, ByteBurst: 128 << 20},
	}
}

func (b *Budgets) byClass() [numClasses]*Budget {
	return [numClasses]*Budget{&b.Tx, &b.Consensus, &b.Evidence, &b.Status, &b.Sync}
}

// applyDefaults fills zero fields and rejects negative ones.
func (b *Budgets) applyDefaults() error {
	def := DefaultBudgets()
	defs := def.byClass()
	for c, bud := range b.byClass() {
		if bud.MessagesPerSecond < 0 || bud.MessageBurst < 0 || bud.BytesPerSecond < 0 || bud.ByteBurst < 0 {
			return fmt.Errorf("p2p: config: %s budget: negative limit", Class(c))
		}
		if bud.MessagesPerSecond == 0 {
			bud.MessagesPerSecond = defs[c].MessagesPerSecond
		}
		if bud.MessageBurst == 0 {
			bud.MessageBurst = defs[c].MessageBurst
		}
		if bud.BytesPerSecond == 0 {
			bud.BytesPerSecond = defs[c].BytesPerSecond
		}
		if bud.ByteBurst == 0 {
			bud.ByteBurst = defs[c].ByteBurst
		}
	}
	return nil
}

// peerBudget is one peer's buckets. Only the peer's reader uses it.
type peerBudget struct {
	msgs, bytes [numClasses]*rate.Limiter
	burst       [numClasses]int // byte bursts
}

func newPeerBudget(b Budgets, now time.Time) *peerBudget {
	pb := &peerBudget{}
	for c, bud := range b.byClass() {
		pb.msgs[c] = rate.NewLimiter(rate.Limit(bud.MessagesPerSecond), bud.MessageBurst)
		pb.bytes[c] = rate.NewLimiter(rate.Limit(bud.BytesPerSecond), bud.ByteBurst)
		pb.burst[c] = bud.ByteBurst
		// Buckets start full.
		pb.msgs[c].AllowN(now, 0)
		pb.bytes[c].AllowN(now, 0)
	}
	return pb
}

// allow takes one message of size bytes of class c from the buckets at now;
// false if either bucket is short (then neither is charged).
func (pb *peerBudget) allow(c Class, size int, now time.Time) bool {
	n := min(size, pb.burst[c])
	if pb.msgs[c].TokensAt(now) < 1 || pb.bytes[c].TokensAt(now) < float64(n) {
		return false
	}
	return pb.msgs[c].AllowN(now, 1) && pb.bytes[c].AllowN(now, n)
}
