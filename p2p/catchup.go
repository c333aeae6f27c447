package p2p

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/rlp"

	"github.com/quorumchain/quorumchain/chain"
)

// Consensus catch-up. Votes and proposals are flooded once, when a node
// first accepts them, and a flood can lose a copy: a full send queue or
// inbox drops it, and a node that was down misses it. A lost vote can
// matter long after its round, since the prevotes that justify a
// validator's lock are what lets any other proposer's block unlock it. So
// every node tells its peers, every few hundred milliseconds, where it is
// and which votes and proposals of its height it holds (RoundStatus), and
// a peer answers with what the node lacks (VotesMessage and
// ProposalMessage), most important first. Neither kind is flooded, so
// neither is dropped as a duplicate of a copy that was lost.

// Bounds on a RoundStatus.
const (
	// MaxStatusRounds bounds the rounds one RoundStatus describes.
	MaxStatusRounds = 64
	// MaxStatusBitmapBytes bounds one vote bitmap: 1,024 validators.
	MaxStatusBitmapBytes = 128
	// MaxStatusBlocks bounds the block hashes (nil included) one round of
	// a RoundStatus lists votes for.
	MaxStatusBlocks = 8
	// MaxVotesPerMessage bounds the votes of one VotesMessage.
	MaxVotesPerMessage = 256
)

// RoundStatus tells a peer where the sender's consensus is (Height, Round)
// and what it holds of that height: per round, whether it has the round's
// proposal and, per block hash voted for, bitmaps of the validators (by
// index in the height's validator set) whose prevote and precommit for
// that block it has. Votes are told apart by block so that an
// equivocator's second vote, which may be what completes a polka, still
// reaches a peer that holds its first. Rounds are strictly increasing; a
// round not listed is one the sender holds nothing of, or one it left out
// to stay within MaxStatusRounds (then the oldest go first).
type RoundStatus struct {
	Height uint64
	Round  uint32
	Rounds []RoundHas
}

// RoundHas is what a RoundStatus sender holds of one round. Blocks are
// strictly increasing by hash, at most MaxStatusBlocks; when a sender holds
// votes for more blocks it lists those with the most votes.
type RoundHas struct {
	Round    uint32
	Proposal bool
	Blocks   []BlockVotes
}

// BlockVotes is who voted for one block hash (zero: nil) in a round.
type BlockVotes struct {
	Hash       chain.Hash
	Prevotes   []byte // bit i (byte i/8, bit i%8): validator i's prevote
	Precommits []byte
}

// HasVote reports whether the bitmap marks validator index i.
func HasVote(bitmap []byte, i int) bool {
	return i >= 0 && i/8 < len(bitmap) && bitmap[i/8]&(1<<(i%8)) != 0
}

// SetVote marks validator index i in bitmap, growing it as needed, and
// returns it.
func SetVote(bitmap []byte, i int) []byte {
	for len(bitmap) <= i/8 {
		bitmap = append(bitmap, 0)
	}
	bitmap[i/8] |= 1 << (i % 8)
	return bitmap
}

// VotesMessage sends a peer votes it lacks, as its RoundStatus showed. It
// is not flooded: the receiver does not relay the batch (it relays each
// vote it accepts for the first time, as a VoteMessage).
type VotesMessage struct{ Votes []*chain.Vote }

func (*RoundStatus) Kind() Kind  { return KindRoundStatus }
func (*VotesMessage) Kind() Kind { return KindVotes }

func (m *RoundStatus) payload() [][]byte { return one(mustEncodeRLP(m)) }

func (m *VotesMessage) payload() [][]byte { return listPayload(m.Votes, (*chain.Vote).Encode) }

func decodeRoundStatus(p []byte) (Message, error) {
	m := new(RoundStatus)
	if err := rlp.DecodeBytes(p, m); err != nil {
		return nil, err
	}
	if m.Height == 0 {
		return nil, errors.New("height 0")
	}
	if len(m.Rounds) > MaxStatusRounds {
		return nil, fmt.Errorf("%d rounds, limit %d", len(m.Rounds), MaxStatusRounds)
	}
	for i, r := range m.Rounds {
		if i > 0 && r.Round <= m.Rounds[i-1].Round {
			return nil, fmt.Errorf("round %d after round %d: rounds must increase", r.Round, m.Rounds[i-1].Round)
		}
		if len(r.Blocks) > MaxStatusBlocks {
			return nil, fmt.Errorf("round %d: %d blocks, limit %d", r.Round, len(r.Blocks), MaxStatusBlocks)
		}
		for j, b := range r.Blocks {
			if j > 0 && bytes.Compare(b.Hash[:], r.Blocks[j-1].Hash[:]) <= 0 {
				return nil, fmt.Errorf("round %d: block hashes must increase", r.Round)
			}
			if len(b.Prevotes) > MaxStatusBitmapBytes || len(b.Precommits) > MaxStatusBitmapBytes {
				return nil, fmt.Errorf("round %d: bitmap over %d bytes", r.Round, MaxStatusBitmapBytes)
			}
		}
	}
	return m, nil
}

func decodeVotes(p []byte) (Message, error) {
	votes, err := decodeList(p, MaxVotesPerMessage, list{"vote", "votes", "vote"}, chain.DecodeVote)
	if err != nil {
		return nil, err
	}
	return &VotesMessage{Votes: votes}, nil
}
