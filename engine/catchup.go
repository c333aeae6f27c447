package engine

import (
	"bytes"
	"slices"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/p2p"
	"github.com/quorumchain/quorumchain/staking"
)

// Consensus catch-up (see package p2p, RoundStatus). On every RoundTick
// (the node calls it every 500 ms) the driver tells each peer which round it is at and
// which proposals and votes of its height it holds. A peer at the same
// height answers with what the engine lacks, within a budget:
//
//  1. the proposals of the rounds that matter now (the peer's round, the
//     POL rounds, our locked and valid rounds);
//  2. the prevotes of our locked and valid rounds and of the POL round of
//     the proposal at the peer's round: the votes that justify a lock, so
//     that no validator's lock stays hidden from the others (a stall the
//     consensus simulator found, seed 707870);
//  3. the votes of every block for which we hold more than two thirds of
//     the stake's prevotes (a polka) or precommits, when the peer's status
//     does not show it holding them (see below);
//  4. the other votes it lacks, newest and oldest alternately, so that a
//     stream of new rounds never starves an old round's votes.
//
// Hidden polkas. A status lists at most p2p.MaxStatusBlocks block hashes
// per round, those with the most votes, and a peer reading a full list
// takes a hash left out as held. Equivocators that spread votes over more
// blocks than that can push a real polka's block out of the list of a
// validator that holds few of its votes, and then nobody sends it the
// rest: the polka stays hidden from it (CometBFT answers this with
// VoteSetMaj23 claims and VoteSetBits). Here the claim needs no message of
// its own: a node that holds a two-thirds quorum for a block knows it, and
// sends its votes to any peer whose status does not list that block,
// as priority votes; a peer that holds the quorum itself always lists the
// block, since a status ranks quorum blocks first.
const (
	catchupVoteBudget    = 128
	catchupProposalLimit = 2
)

// roundHas is what the driver holds of one round of its height: the
// proposal, and who voted for each block hash (zero: nil).
type roundHas struct {
	proposal bool
	blocks   map[chain.Hash]*blockHas
}

type blockHas struct {
	prevotes, precommits []byte
	count                int
	// prevoteStake and precommitStake add up the voters' stakes.
	prevoteStake, precommitStake uint64
}

// quorum reports whether the block's prevotes (or precommits) carry more
// than two thirds of total.
func (bh *blockHas) quorum(t chain.VoteType, total uint64) bool {
	if t == chain.Precommit {
		return staking.HasQuorum(bh.precommitStake, total)
	}
	return staking.HasQuorum(bh.prevoteStake, total)
}

func (bh *blockHas) anyQuorum(total uint64) bool {
	return bh.quorum(chain.Prevote, total) || bh.quorum(chain.Precommit, total)
}

// catchupState tracks, for the current height, what the engine holds.
// total is the height's total stake (set with reset).
type catchupState struct {
	rounds map[uint32]*roundHas
	total  uint64
}

func (c *catchupState) reset(total uint64) {
	c.rounds = make(map[uint32]*roundHas)
	c.total = total
}

func (c *catchupState) round(r uint32) *roundHas {
	if c.rounds == nil {
		c.rounds = make(map[uint32]*roundHas)
	}
	rh := c.rounds[r]
	if rh == nil {
		rh = &roundHas{blocks: make(map[chain.Hash]*blockHas, 2)}
		c.rounds[r] = rh
	}
	return rh
}

// addVote records validator idx's vote v; stake is the validator's. Every
// vote is added once (the driver keeps only accepted votes), so the stakes
// add up without double counting.
func (c *catchupState) addVote(idx int, stake uint64, v *chain.Vote) {
	rh := c.round(v.Round)
	bh := rh.blocks[v.BlockHash]
	if bh == nil {
		bh = &blockHas{}
		rh.blocks[v.BlockHash] = bh
	}
	if v.Type == chain.Precommit {
		bh.precommits = p2p.SetVote(bh.precommits, idx)
		bh.precommitStake += stake // at most the set's total
	} else {
		bh.prevotes = p2p.SetVote(bh.prevotes, idx)
		bh.prevoteStake += stake
	}
	bh.count++
}

// quorum reports whether we hold more than two thirds of the stake's votes
// of type t for block at round r.
func (c *catchupState) quorum(r uint32, t chain.VoteType, block chain.Hash) bool {
	rh := c.rounds[r]
	if rh == nil {
		return false
	}
	bh := rh.blocks[block]
	return bh != nil && bh.quorum(t, c.total)
}

func (c *catchupState) addProposal(round uint32) { c.round(round).proposal = true }

// status is the RoundStatus of height at round: the priority rounds and
// then the newest, at most p2p.MaxStatusRounds, in increasing order.
func (c *catchupState) status(height uint64, round uint32, prio []uint32) *p2p.RoundStatus {
	keys := make([]uint32, 0, len(c.rounds))
	for r := range c.rounds {
		keys = append(keys, r)
	}
	slices.Sort(keys)
	if len(keys) > p2p.MaxStatusRounds {
		keep := make([]uint32, 0, p2p.MaxStatusRounds)
		for _, r := range prio {
			if _, ok := c.rounds[r]; ok && !slices.Contains(keep, r) {
				keep = append(keep, r)
			}
		}
		for i := len(keys) - 1; i >= 0 && len(keep) < p2p.MaxStatusRounds; i-- {
			if !slices.Contains(keep, keys[i]) {
				keep = append(keep, keys[i])
			}
		}
		slices.Sort(keep)
		keys = keep
	}
	st := &p2p.RoundStatus{Height: height, Round: round, Rounds: make([]p2p.RoundHas, 0, len(keys))}
	for _, r := range keys {
		rh := c.rounds[r]
		st.Rounds = append(st.Rounds, p2p.RoundHas{Round: r, Proposal: rh.proposal, Blocks: rh.statusBlocks(c.total)})
	}
	return st
}

// statusBlocks lists the round's votes by block: the hashes with a quorum
// of prevotes or precommits, then those with the most votes, at most
// p2p.MaxStatusBlocks, in increasing hash order.
func (rh *roundHas) statusBlocks(total uint64) []p2p.BlockVotes {
	hashes := make([]chain.Hash, 0, len(rh.blocks))
	for h := range rh.blocks {
		hashes = append(hashes, h)
	}
	byHash := func(a, b chain.Hash) int { return bytes.Compare(a[:], b[:]) }
	if len(hashes) > p2p.MaxStatusBlocks {
		slices.SortFunc(hashes, func(a, b chain.Hash) int {
			if qa, qb := rh.blocks[a].anyQuorum(total), rh.blocks[b].anyQuorum(total); qa != qb {
				if qa {
					return -1
				}
				return 1
			}
			if d := rh.blocks[b].count - rh.blocks[a].count; d != 0 {
				return d
			}
			return byHash(a, b)
		})
		hashes = hashes[:p2p.MaxStatusBlocks]
	}
	slices.SortFunc(hashes, byHash)
	out := make([]p2p.BlockVotes, len(hashes))
	for i, h := range hashes {
		bh := rh.blocks[h]
		out[i] = p2p.BlockVotes{Hash: h, Prevotes: bh.prevotes, Precommits: bh.precommits}
	}
	return out
}

// peerView answers what a peer's RoundStatus says it holds.
type peerView struct {
	st      *p2p.RoundStatus
	byRnd   map[uint32]*p2p.RoundHas
	highest uint32 // with a full status, rounds below it not listed were left out
	full    bool
}

func newPeerView(st *p2p.RoundStatus) *peerView {
	pv := &peerView{st: st, byRnd: make(map[uint32]*p2p.RoundHas, len(st.Rounds))}
	for i := range st.Rounds {
		pv.byRnd[st.Rounds[i].Round] = &st.Rounds[i]
	}
	if len(st.Rounds) == p2p.MaxStatusRounds {
		pv.full, pv.highest = true, st.Rounds[len(st.Rounds)-1].Round
	}
	return pv
}

// lacksVote reports whether the peer lacks validator idx's vote v. A full
// status lists the peer's priority rounds and its newest; a round below
// its highest that it left out counts as held, unless it is one of our
// priority rounds. Likewise a block hash a full round left out.
func (pv *peerView) lacksVote(idx int, v *chain.Vote, prio bool) bool {
	rh := pv.byRnd[v.Round]
	if rh == nil {
		return prio || !pv.full || v.Round > pv.highest
	}
	for i := range rh.Blocks {
		if b := &rh.Blocks[i]; b.Hash == v.BlockHash {
			bm := b.Prevotes
			if v.Type == chain.Precommit {
				bm = b.Precommits
			}
			return !p2p.HasVote(bm, idx)
		}
	}
	return prio || len(rh.Blocks) < p2p.MaxStatusBlocks
}

// lacksQuorumVote is lacksVote for a vote of a block we hold a quorum for:
// a round the peer's status lists without that block counts as lacking it,
// since a peer holding the quorum lists the block first (statusBlocks); a
// round a full status left out counts as held, as for any vote.
func (pv *peerView) lacksQuorumVote(idx int, v *chain.Vote) bool {
	if pv.byRnd[v.Round] == nil {
		return !pv.full || v.Round > pv.highest
	}
	return pv.lacksVote(idx, v, true)
}

func (pv *peerView) lacksProposal(r uint32) bool {
	rh := pv.byRnd[r]
	return rh == nil || !rh.Proposal
}

// catchupFor selects what a peer lacks, in the order described above:
// proposals (at most catchupProposalLimit) and votes (at most budget).
// votes are the height's accepted votes in the order they were accepted;
// index gives a voter's index in the height's validator set; quorum
// whether we hold a two-thirds quorum of a round's votes of a type for a
// block (nil: none).
func catchupFor(pv *peerView, rs consensus.RoundState, proposals []consensus.ProposalReceived, votes []*chain.Vote,
	index func(chain.Address) (int, bool), quorum func(uint32, chain.VoteType, chain.Hash) bool, budget int) ([]consensus.ProposalReceived, []*chain.Vote) {
	prio := priorityRounds(rs, proposals, pv.st.Round)
	var props []consensus.ProposalReceived
	for _, r := range append([]uint32{pv.st.Round}, prio...) {
		if len(props) == catchupProposalLimit {
			break
		}
		for _, p := range proposals {
			if p.Proposal.Round == r && pv.lacksProposal(r) && !slices.ContainsFunc(props, func(q consensus.ProposalReceived) bool { return q.Proposal.Round == r }) {
				props = append(props, p)
			}
		}
	}
	var out []*chain.Vote
	sent := make(map[*chain.Vote]bool)
	lacks := func(v *chain.Vote, prio bool) bool {
		idx, ok := index(v.Validator)
		return ok && !sent[v] && pv.lacksVote(idx, v, prio)
	}
	for _, v := range votes {
		if len(out) == budget {
			return props, out
		}
		if v.Type == chain.Prevote && slices.Contains(prio, v.Round) && lacks(v, true) {
			sent[v] = true
			out = append(out, v)
		}
	}
	if quorum != nil {
		for _, v := range votes {
			if len(out) == budget {
				return props, out
			}
			if idx, ok := index(v.Validator); ok && !sent[v] && quorum(v.Round, v.Type, v.BlockHash) && pv.lacksQuorumVote(idx, v) {
				sent[v] = true
				out = append(out, v)
			}
		}
	}
	// Newest and oldest alternate by what is sent, not by what is looked
	// at: the oldest end is mostly held already, and must not lose its
	// turns to that.
	lo, hi := 0, len(votes)-1
	next := func(newest bool) *chain.Vote {
		for lo <= hi {
			var v *chain.Vote
			if newest {
				v, hi = votes[hi], hi-1
			} else {
				v, lo = votes[lo], lo+1
			}
			if lacks(v, false) {
				return v
			}
		}
		return nil
	}
	for newest := true; len(out) < budget; newest = !newest {
		v := next(newest)
		if v == nil {
			break
		}
		sent[v] = true
		out = append(out, v)
	}
	return props, out
}

// priorityRounds lists the rounds whose prevotes justify a lock or a
// re-proposal: our locked and valid rounds and the POL round of the
// proposal at the peer's round.
func priorityRounds(rs consensus.RoundState, proposals []consensus.ProposalReceived, peerRound uint32) []uint32 {
	var out []uint32
	for _, r := range []int32{rs.LockedRound, rs.ValidRound} {
		if r >= 0 && !slices.Contains(out, uint32(r)) {
			out = append(out, uint32(r))
		}
	}
	for _, p := range proposals {
		if p.Proposal.Round == peerRound && p.Proposal.POLRound >= 0 && !slices.Contains(out, uint32(p.Proposal.POLRound)) {
			out = append(out, uint32(p.Proposal.POLRound))
		}
	}
	return out
}

// sendRoundStatus tells every peer what the engine holds of its height.
func (e *Driver) RoundTick() {
	rs := e.machine.RoundState()
	if rs.Height != e.height {
		return
	}
	e.net.SendRoundStatus(e.have.status(e.height, rs.Round, priorityRounds(rs, e.heightProposals, rs.Round)))
}

// peerRoundStatus sends a peer at the engine's height what it lacks.
func (e *Driver) PeerRoundStatus(peer p2p.NodeID, st *p2p.RoundStatus) {
	if st.Height != e.height {
		return // another height: block sync serves a peer behind, and we are the one behind otherwise
	}
	props, votes := catchupFor(newPeerView(st), e.machine.RoundState(), e.heightProposals, e.heightVotes, e.vals.Index, e.have.quorum, catchupVoteBudget)
	for _, p := range props {
		e.net.SendProposal(peer, p.Proposal, p.Block)
	}
	for len(votes) > 0 {
		n := min(len(votes), p2p.MaxVotesPerMessage)
		e.net.SendVotes(peer, votes[:n])
		votes = votes[n:]
	}
}
