package consensus

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

// ConflictingVoteError reports that a validator signed two different votes
// of one type at one height and round (CometBFT types/vote_set.go AddVote).
// Existing is the vote that stays the validator's counted vote; Conflicting
// counts only toward its own block (see voteSet.addConflicting).
type ConflictingVoteError struct {
	Existing, Conflicting *chain.Vote
}

func (e *ConflictingVoteError) Error() string {
	return fmt.Sprintf("conflicting %s votes at h=%d r=%d by %s: %s and %s",
		e.Existing.Type, e.Existing.Height, e.Existing.Round, chain.FormatAddress(e.Existing.Validator),
		chain.FormatHash(e.Existing.BlockHash), chain.FormatHash(e.Conflicting.BlockHash))
}

// Evidence returns the double-sign evidence the two votes make.
func (e *ConflictingVoteError) Evidence() *chain.Evidence {
	return chain.NewEvidence(e.Existing, e.Conflicting)
}

// voteSet holds the votes of one type at one (height, round): one counted
// vote per validator plus a few conflicting votes of equivocators, with a
// running stake tally per block hash (the zero hash is nil).
// Adding a vote is O(1): the tally is updated in place, never re-summed.
// voteSet does not verify signatures; the Machine does before adding.
type voteSet struct {
	typ    chain.VoteType
	height uint64
	round  uint32
	stakes []uint64 // stake by validator index, shared with heightVoteSet

	votes        []*chain.Vote // by validator index; nil: no vote
	stakeByBlock map[chain.Hash]uint64
	blocks       []chain.Hash // hashes in stakeByBlock, in first-vote order
	stakeVoted   uint64
	stakeTotal   uint64

	// maj23 is the first hash (zero: nil) whose stake exceeded two thirds.
	// A validator counts at most once per hash, so a second hash can exceed
	// two thirds too only if more than a third of the stake equivocates;
	// maj23 keeps the first.
	maj23    chain.Hash
	hasMaj23 bool
	// extra holds conflicting votes of equivocators, each counted toward
	// its own block (see addConflicting), at most maxConflictingVotes per
	// validator.
	extra []*chain.Vote
}

func newVoteSet(typ chain.VoteType, height uint64, round uint32, stakes []uint64, total uint64) *voteSet {
	return &voteSet{
		typ: typ, height: height, round: round, stakes: stakes, stakeTotal: total,
		votes:        make([]*chain.Vote, len(stakes)),
		stakeByBlock: make(map[chain.Hash]uint64, 2),
	}
}

// get returns the counted vote of validator idx, or nil.
func (s *voteSet) get(idx int) *chain.Vote { return s.votes[idx] }

// maxConflictingVotes bounds the conflicting votes of one validator counted
// in one vote set, so an equivocator cannot grow a set without bound, yet
// one that splits its votes among several blocks cannot hide a polka from
// an honest validator that heard a few of its other votes first.
const maxConflictingVotes = 3

// hasConflicting reports whether validator's conflicting vote for block is
// counted.
func (s *voteSet) hasConflicting(validator chain.Address, block chain.Hash) bool {
	for _, e := range s.extra {
		if e.Validator == validator && e.BlockHash == block {
			return true
		}
	}
	return false
}

// conflicting counts validator's conflicting votes in the set.
func (s *voteSet) conflicting(validator chain.Address) int {
	n := 0
	for _, e := range s.extra {
		if e.Validator == validator {
			n++
		}
	}
	return n
}

// addConflicting counts an equivocator's further vote toward its own block.
// The paper counts the senders of each value separately: a polka for B made
// with an equivocator's vote for B must be visible to a validator that got
// the equivocator's other vote first, or honest validators can disagree
// forever about whether B is valid at its POL round (a liveness failure the
// simulator found). Each validator counts at most once per block, so no
// block's stake is inflated by one sender, and two blocks can both reach
// more than two thirds only if more than a third of the stake equivocates.
func (s *voteSet) addConflicting(idx int, v *chain.Vote) {
	if s.hasConflicting(v.Validator, v.BlockHash) || s.conflicting(v.Validator) >= maxConflictingVotes {
		return
	}
	s.extra = append(s.extra, v)
	s.credit(v.BlockHash, s.stakes[idx])
}

// credit adds stake to block's tally and records block as maj23 if it is
// the first to exceed two thirds.
func (s *voteSet) credit(block chain.Hash, stake uint64) {
	st, seen := s.stakeByBlock[block]
	if !seen {
		s.blocks = append(s.blocks, block)
	}
	st += stake
	s.stakeByBlock[block] = st
	if !s.hasMaj23 && staking.HasQuorum(st, s.stakeTotal) {
		s.maj23, s.hasMaj23 = block, true
	}
}

// debit takes stake off block's tally, dropping the block once it has none.
func (s *voteSet) debit(block chain.Hash, stake uint64) {
	st := s.stakeByBlock[block] - stake
	if st > 0 {
		s.stakeByBlock[block] = st
		return
	}
	delete(s.stakeByBlock, block)
	s.blocks = slices.DeleteFunc(s.blocks, func(h chain.Hash) bool { return h == block })
}

// add counts v, whose signature the caller verified, as the vote of validator
// idx. A vote identical in block hash to the counted one returns (false, nil);
// a vote for another hash returns a *ConflictingVoteError and the first vote
// stays counted.
func (s *voteSet) add(idx int, v *chain.Vote) (bool, error) {
	if v.Type != s.typ || v.Height != s.height || v.Round != s.round {
		panic(fmt.Sprintf("consensus: invariant vote-set-key: %s h=%d r=%d added to %s set h=%d r=%d",
			v.Type, v.Height, v.Round, s.typ, s.height, s.round))
	}
	if old := s.votes[idx]; old != nil {
		if old.BlockHash == v.BlockHash {
			return false, nil
		}
		s.addConflicting(idx, v)
		return false, &ConflictingVoteError{Existing: old, Conflicting: v}
	}
	s.votes[idx] = v
	s.stakeVoted += s.stakes[idx]
	s.credit(v.BlockHash, s.stakes[idx])
	return true, nil
}

// remove uncounts every vote of validator idx, its counted vote and its
// conflicting ones (used to evict a validator's votes in a far-future
// round). It never removes a vote that made maj23.
func (s *voteSet) remove(idx int) {
	v := s.votes[idx]
	if v == nil {
		return
	}
	if s.hasMaj23 {
		panic("consensus: invariant vote-set-remove-after-quorum")
	}
	s.votes[idx] = nil
	stake := s.stakes[idx]
	s.stakeVoted -= stake
	s.debit(v.BlockHash, stake)
	s.extra = slices.DeleteFunc(s.extra, func(e *chain.Vote) bool {
		if e.Validator != v.Validator {
			return false
		}
		s.debit(e.BlockHash, stake)
		return true
	})
}

// twoThirdsMajority returns the hash with more than two thirds of the stake
// (the zero hash for nil), if any: a polka for prevotes.
func (s *voteSet) twoThirdsMajority() (chain.Hash, bool) { return s.maj23, s.hasMaj23 }

// hasTwoThirdsFor reports whether hash has more than two thirds of the stake.
func (s *voteSet) hasTwoThirdsFor(hash chain.Hash) bool { return s.hasMaj23 && s.maj23 == hash }

// hasTwoThirdsAny reports whether the votes, whatever they are for, carry
// more than two thirds of the stake (the paper's "2f+1 ⟨·, h, r, ∗⟩").
func (s *voteSet) hasTwoThirdsAny() bool { return staking.HasQuorum(s.stakeVoted, s.stakeTotal) }

// commitSigs returns the precommits for hash in validator-index order.
func (s *voteSet) commitSigs(hash chain.Hash) []chain.CommitSig {
	out := make([]chain.CommitSig, 0, len(s.votes))
	for _, v := range s.votes {
		if v != nil && v.BlockHash == hash {
			out = append(out, chain.CommitSig{Validator: v.Validator, Signature: v.Signature})
		}
	}
	for _, v := range s.extra {
		if v.BlockHash == hash {
			out = append(out, chain.CommitSig{Validator: v.Validator, Signature: v.Signature})
		}
	}
	out = chain.NewCertificate(0, 0, hash, out).Precommits
	return out
}

// tally returns a snapshot of the set, block hashes sorted for determinism.
func (s *voteSet) tally() VoteTally {
	t := VoteTally{
		VotedStake: s.stakeVoted, TotalStake: s.stakeTotal,
		Quorum: s.hasMaj23, QuorumBlock: s.maj23,
		Blocks: make([]BlockStake, 0, len(s.blocks)),
	}
	for _, h := range s.blocks {
		t.Blocks = append(t.Blocks, BlockStake{Hash: h, Stake: s.stakeByBlock[h]})
	}
	slices.SortFunc(t.Blocks, func(a, b BlockStake) int { return bytes.Compare(a.Hash[:], b.Hash[:]) })
	return t
}

// roundVotes holds both vote sets of a round and which validators sent any
// message in it (a vote of either type or the proposal), for the round skip
// of line 55.
type roundVotes struct {
	prevotes, precommits *voteSet
	senders              []bool
	senderStake          uint64
}

func (r *roundVotes) set(t chain.VoteType) *voteSet {
	if t == chain.Prevote {
		return r.prevotes
	}
	return r.precommits
}

// markSender records a message from validator idx; stake is its stake.
func (r *roundVotes) markSender(idx int, stake uint64) {
	if !r.senders[idx] {
		r.senders[idx] = true
		r.senderStake += stake
	}
}

// heightVoteSet holds every round's votes of one height. Rounds up to
// current+futureRoundWindow are kept in full; beyond that each validator has
// one far-round slot (its highest far round), so a Byzantine validator
// cannot make the Machine store votes for unboundedly many rounds.
type heightVoteSet struct {
	height     uint64
	stakes     []uint64
	stakeTotal uint64
	rounds     map[uint32]*roundVotes
	farRound   []int64 // by validator index: its far-round slot, -1 if none

	// senders at any round of the height, for ending the new-height wait
	senders     []bool
	senderStake uint64

	// precommitQuorums lists rounds where a block (not nil) got more than
	// two thirds of the precommits, in the order it happened (line 49).
	precommitQuorums []uint32
	// prevotePolkas lists rounds where a block (not nil) got more than two
	// thirds of the prevotes, in the order it happened (see uponPolkaValid).
	prevotePolkas []uint32
}

// futureRoundWindow is how many rounds past the current one are stored in
// full. Further rounds use the per-validator far-round slot.
const futureRoundWindow = 4

func newHeightVoteSet(height uint64, stakes []uint64, total uint64) *heightVoteSet {
	far := make([]int64, len(stakes))
	for i := range far {
		far[i] = -1
	}
	return &heightVoteSet{
		height: height, stakes: stakes, stakeTotal: total,
		rounds:   make(map[uint32]*roundVotes),
		farRound: far,
		senders:  make([]bool, len(stakes)),
	}
}

// round returns the votes of round r, or nil if none were stored.
func (h *heightVoteSet) round(r uint32) *roundVotes { return h.rounds[r] }

// ensureRound returns the votes of round r, creating them.
func (h *heightVoteSet) ensureRound(r uint32) *roundVotes {
	rv := h.rounds[r]
	if rv == nil {
		rv = &roundVotes{
			prevotes:   newVoteSet(chain.Prevote, h.height, r, h.stakes, h.stakeTotal),
			precommits: newVoteSet(chain.Precommit, h.height, r, h.stakes, h.stakeTotal),
			senders:    make([]bool, len(h.stakes)),
		}
		h.rounds[r] = rv
	}
	return rv
}

// admissible reports whether a message of validator idx at round r may be
// stored while the Machine is at round current: rounds within the window
// always, a far round only if it is not older than idx's far-round slot
// (and that slot holds no quorum). It changes nothing, so the Machine asks
// before verifying a signature.
func (h *heightVoteSet) admissible(idx int, r, current uint32) bool {
	limit := uint64(current) + futureRoundWindow
	if uint64(r) <= limit {
		return true
	}
	slot := h.farRound[idx]
	if slot < 0 || uint64(slot) <= limit || uint32(slot) == r {
		return true
	}
	if uint32(slot) > r {
		return false
	}
	old := h.rounds[uint32(slot)]
	return old == nil || !(old.prevotes.hasMaj23 || old.precommits.hasMaj23)
}

// admit returns the votes of round r for a verified message of validator
// idx, evicting idx's votes in an older far round if r is a newer one. It
// returns nil if the message is not admissible.
func (h *heightVoteSet) admit(idx int, r, current uint32) *roundVotes {
	if !h.admissible(idx, r, current) {
		return nil
	}
	limit := uint64(current) + futureRoundWindow
	if uint64(r) > limit {
		if slot := h.farRound[idx]; slot >= 0 && uint64(slot) > limit && uint32(slot) != r {
			h.evict(idx, uint32(slot))
		}
		h.farRound[idx] = int64(r)
	}
	return h.ensureRound(r)
}

// evict removes every vote of validator idx at far round r.
func (h *heightVoteSet) evict(idx int, r uint32) {
	rv := h.rounds[r]
	if rv == nil {
		return
	}
	rv.prevotes.remove(idx)
	rv.precommits.remove(idx)
	if rv.senders[idx] {
		rv.senders[idx] = false
		rv.senderStake -= h.stakes[idx]
	}
	if rv.senderStake == 0 {
		delete(h.rounds, r)
	}
}

// markSender records a message of validator idx at round rv of the height.
func (h *heightVoteSet) markSender(rv *roundVotes, idx int) {
	stake := h.stakes[idx]
	rv.markSender(idx, stake)
	if !h.senders[idx] {
		h.senders[idx] = true
		h.senderStake += stake
	}
}

// add counts a verified vote of validator idx in rv and records a precommit
// quorum or a prevote polka for a block. Results are those of voteSet.add.
func (h *heightVoteSet) add(rv *roundVotes, idx int, v *chain.Vote) (bool, error) {
	s := rv.set(v.Type)
	had := s.hasMaj23
	added, err := s.add(idx, v)
	if added {
		h.markSender(rv, idx)
	}
	if !had && s.hasMaj23 && s.maj23 != (chain.Hash{}) {
		if v.Type == chain.Precommit {
			h.precommitQuorums = append(h.precommitQuorums, v.Round)
		} else {
			h.prevotePolkas = append(h.prevotePolkas, v.Round)
		}
	}
	return added, err
}

// highestSkipRound returns the highest round above current in which senders
// hold more than one third of the stake (line 55), if any. The result does
// not depend on map order.
func (h *heightVoteSet) highestSkipRound(current uint32) (uint32, bool) {
	var best uint32
	found := false
	for r, rv := range h.rounds {
		if r > current && staking.HasOneThird(rv.senderStake, h.stakeTotal) && (!found || r > best) {
			best, found = r, true
		}
	}
	return best, found
}
