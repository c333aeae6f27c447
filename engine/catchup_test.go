package engine

import (
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	ct "github.com/quorumchain/quorumchain/consensus/consensustest"
	"github.com/quorumchain/quorumchain/p2p"
)

// catchupFixture is a height's accepted votes, as an engine keeps them.
type catchupFixture struct {
	vals  *ct.Validators
	votes []*chain.Vote
	have  catchupState
}

func newCatchupFixture(vals *ct.Validators) *catchupFixture {
	f := &catchupFixture{vals: vals}
	f.have.reset(vals.Set.TotalStake())
	return f
}

// addRound adds every validator's prevote and precommit of round r for block.
func (f *catchupFixture) addRound(r uint32, prevote, precommit chain.Hash) {
	for _, typ := range []chain.VoteType{chain.Prevote, chain.Precommit} {
		block := prevote
		if typ == chain.Precommit {
			block = precommit
		}
		for i, v := range f.vals.Votes(typ, 1, r, block, 0, 1, 2, 3) {
			f.votes = append(f.votes, v)
			f.have.addVote(i, f.vals.List[i].Stake, v)
		}
	}
}

func (f *catchupFixture) index(a chain.Address) (int, bool) { return f.vals.IndexOf(a) }

// peerHolding is the RoundStatus of a peer at round that holds votes.
func (f *catchupFixture) peerHolding(round uint32, votes []*chain.Vote) *p2p.RoundStatus {
	var c catchupState
	c.reset(f.vals.Set.TotalStake())
	for _, v := range votes {
		idx, _ := f.vals.IndexOf(v.Validator)
		c.addVote(idx, f.vals.List[idx].Stake, v)
	}
	return c.status(1, round, nil)
}

func noLock() consensus.RoundState {
	return consensus.RoundState{Height: 1, LockedRound: -1, ValidRound: -1}
}

// TestCatchupSendsLockJustificationFirst: a peer that lacks everything gets
// the prevotes of our locked round before any of the many newer (and
// older) votes, however small the budget.
func TestCatchupSendsLockJustificationFirst(t *testing.T) {
	f := newCatchupFixture(ct.Equal(4, 10))
	locked := chain.Hash{0xb}
	for r := range uint32(40) {
		pv := chain.Hash{}
		if r == 17 {
			pv = locked
		}
		f.addRound(r, pv, chain.Hash{})
	}
	rs := noLock()
	rs.LockedRound, rs.ValidRound = 17, 17
	_, got := catchupFor(newPeerView(f.peerHolding(39, nil)), rs, nil, f.votes, f.index, f.have.quorum, 6)
	if len(got) != 6 {
		t.Fatalf("sent %d votes, want the budget of 6", len(got))
	}
	for i, v := range got[:4] {
		if v.Round != 17 || v.Type != chain.Prevote || v.BlockHash != locked {
			t.Fatalf("vote %d sent is %s r=%d, want the prevotes of locked round 17 first", i, v.Type, v.Round)
		}
	}
}

// TestCatchupSendsOnlyWhatPeerLacks: the peer's bitmaps are honoured.
func TestCatchupSendsOnlyWhatPeerLacks(t *testing.T) {
	f := newCatchupFixture(ct.Equal(4, 10))
	for r := range uint32(5) {
		f.addRound(r, chain.Hash{}, chain.Hash{})
	}
	missing := f.votes[13] // round 1, a precommit
	held := append(append([]*chain.Vote{}, f.votes[:13]...), f.votes[14:]...)
	_, got := catchupFor(newPeerView(f.peerHolding(4, held)), noLock(), nil, f.votes, f.index, f.have.quorum, catchupVoteBudget)
	if len(got) != 1 || got[0] != missing {
		t.Fatalf("sent %d votes, want only the one the peer lacks (%s r=%d)", len(got), missing.Type, missing.Round)
	}
	_, got = catchupFor(newPeerView(f.peerHolding(4, f.votes)), noLock(), nil, f.votes, f.index, f.have.quorum, catchupVoteBudget)
	if len(got) != 0 {
		t.Fatalf("sent %d votes to a peer that holds them all", len(got))
	}
}

// TestCatchupOldVotesNeverStarve: while every exchange brings a whole new
// round of votes, as many as the budget, the old rounds' votes still
// reach the peer.
func TestCatchupOldVotesNeverStarve(t *testing.T) {
	f := newCatchupFixture(ct.Equal(4, 10))
	for r := range uint32(10) {
		f.addRound(r, chain.Hash{}, chain.Hash{})
	}
	old := append([]*chain.Vote{}, f.votes...)
	var peerHas []*chain.Vote
	for r := uint32(10); r < 40; r++ {
		f.addRound(r, chain.Hash{}, chain.Hash{})
		_, got := catchupFor(newPeerView(f.peerHolding(r, peerHas)), noLock(), nil, f.votes, f.index, f.have.quorum, 8)
		peerHas = append(peerHas, got...)
	}
	holds := make(map[*chain.Vote]bool)
	for _, v := range peerHas {
		holds[v] = true
	}
	for _, v := range old {
		if !holds[v] {
			t.Fatalf("after 30 exchanges the peer still lacks %s r=%d of %s", v.Type, v.Round, ct.ShortAddr(v.Validator))
		}
	}
}

// TestCatchupSendsProposals: the proposal of the peer's round and of the
// POL round it names go first, within the proposal limit, and only when
// the peer lacks them.
func TestCatchupSendsProposals(t *testing.T) {
	vals := ct.Equal(4, 10)
	b3, b5 := vals.Block(0, 1, 3), vals.Block(1, 1, 5)
	props := []consensus.ProposalReceived{
		{Proposal: vals.Proposal(vals.Proposer(1), 1, 1, -1, vals.Block(2, 1, 1).Hash()), Block: vals.Block(2, 1, 1)},
		{Proposal: vals.Proposal(vals.Proposer(3), 1, 3, -1, b3.Hash()), Block: b3},
		{Proposal: vals.Proposal(vals.Proposer(5), 1, 5, 3, b5.Hash()), Block: b5},
	}
	st := &p2p.RoundStatus{Height: 1, Round: 5}
	got, _ := catchupFor(newPeerView(st), noLock(), props, nil, vals.IndexOf, nil, catchupVoteBudget)
	if len(got) != 2 || got[0].Proposal.Round != 5 || got[1].Proposal.Round != 3 {
		t.Fatalf("sent proposals of rounds %v, want [5 3]", proposalRounds(got))
	}
	st.Rounds = []p2p.RoundHas{{Round: 5, Proposal: true}}
	got, _ = catchupFor(newPeerView(st), noLock(), props, nil, vals.IndexOf, nil, catchupVoteBudget)
	if len(got) != 1 || got[0].Proposal.Round != 3 {
		t.Fatalf("sent proposals of rounds %v to a peer holding round 5's, want [3]", proposalRounds(got))
	}
}

func proposalRounds(ps []consensus.ProposalReceived) []uint32 {
	var out []uint32
	for _, p := range ps {
		out = append(out, p.Proposal.Round)
	}
	return out
}

// TestRoundStatusBounded: a status never lists more than the protocol's
// round limit; it keeps the priority rounds and the newest, and a peer
// reading it does not ask again for the old rounds left out.
func TestRoundStatusBounded(t *testing.T) {
	f := newCatchupFixture(ct.Equal(4, 10))
	for r := range uint32(100) {
		f.addRound(r, chain.Hash{}, chain.Hash{})
	}
	st := f.have.status(1, 99, []uint32{7})
	if len(st.Rounds) != p2p.MaxStatusRounds {
		t.Fatalf("status lists %d rounds, want %d", len(st.Rounds), p2p.MaxStatusRounds)
	}
	if st.Rounds[0].Round != 7 || st.Rounds[1].Round != 100-p2p.MaxStatusRounds+1 || st.Rounds[len(st.Rounds)-1].Round != 99 {
		t.Fatalf("status rounds start %d, %d and end %d; want priority round 7, then the newest up to 99",
			st.Rounds[0].Round, st.Rounds[1].Round, st.Rounds[len(st.Rounds)-1].Round)
	}
	if _, err := p2p.Decode(p2p.Encode(st)); err != nil {
		t.Fatalf("the status does not decode: %v", err)
	}
	_, got := catchupFor(newPeerView(st), noLock(), nil, f.votes, f.index, f.have.quorum, catchupVoteBudget)
	if len(got) != 0 {
		t.Fatalf("sent %d votes (first r=%d) to a peer whose full status left old rounds out", len(got), got[0].Round)
	}
}

// TestCatchupSendsConflictingVotes: a peer that holds an equivocator's
// prevote for one block still gets its prevote for another, which may be
// the vote that completes that block's polka.
func TestCatchupSendsConflictingVotes(t *testing.T) {
	f := newCatchupFixture(ct.Equal(4, 10))
	a, b := chain.Hash{0xa}, chain.Hash{0xb}
	forA := f.vals.Votes(chain.Prevote, 1, 0, a, 0, 1, 3)
	forB := f.vals.Votes(chain.Prevote, 1, 0, b, 2, 3) // validator 3 equivocates
	for _, v := range append(append([]*chain.Vote{}, forA...), forB...) {
		idx, _ := f.vals.IndexOf(v.Validator)
		f.votes = append(f.votes, v)
		f.have.addVote(idx, f.vals.List[idx].Stake, v)
	}
	peer := f.peerHolding(0, append(append([]*chain.Vote{}, forA...), forB[0]))
	_, got := catchupFor(newPeerView(peer), noLock(), nil, f.votes, f.index, f.have.quorum, catchupVoteBudget)
	if len(got) != 1 || got[0] != forB[1] {
		t.Fatalf("sent %d votes, want only the equivocator's prevote for the second block", len(got))
	}
}

// TestCatchupRevealsHiddenPolka: two equivocators spread prevotes over
// eight blocks, so a peer that holds one prevote for the polka block B
// (whose hash sorts last) lists eight other blocks in its full status and
// leaves B out. We hold the polka for B: its prevotes go to the peer
// anyway (without the two-thirds claim they would count as held, and the
// polka stay hidden from it). A peer that holds the polka lists B first
// and gets nothing more.
func TestCatchupRevealsHiddenPolka(t *testing.T) {
	f := newCatchupFixture(ct.Equal(7, 10)) // 5 and 6 equivocate: 20 of 70
	b := chain.Hash{0xff}
	honest := f.vals.Votes(chain.Prevote, 1, 0, b, 0, 1, 2, 3, 4)
	var junk []*chain.Vote
	for i := range 4 {
		junk = append(junk, f.vals.Votes(chain.Prevote, 1, 0, chain.Hash{byte(0x10 + i)}, 5)...)
		junk = append(junk, f.vals.Votes(chain.Prevote, 1, 0, chain.Hash{byte(0x20 + i)}, 6)...)
	}
	for _, v := range append(append([]*chain.Vote{}, honest...), junk...) {
		idx, _ := f.vals.IndexOf(v.Validator)
		f.votes = append(f.votes, v)
		f.have.addVote(idx, f.vals.List[idx].Stake, v)
	}
	peer := f.peerHolding(0, append([]*chain.Vote{honest[0]}, junk...))
	for _, bv := range peer.Rounds[0].Blocks {
		if bv.Hash == b {
			t.Fatal("fixture: the peer's status lists B; want it pushed out by the equivocators' blocks")
		}
	}
	if len(peer.Rounds[0].Blocks) != p2p.MaxStatusBlocks {
		t.Fatalf("fixture: the peer lists %d blocks, want a full list of %d", len(peer.Rounds[0].Blocks), p2p.MaxStatusBlocks)
	}
	_, got := catchupFor(newPeerView(peer), noLock(), nil, f.votes, f.index, f.have.quorum, catchupVoteBudget)
	sent := make(map[*chain.Vote]bool)
	for _, v := range got {
		sent[v] = true
	}
	for _, v := range honest[1:] {
		if !sent[v] {
			t.Fatalf("the peer did not get %s's prevote for the polka block (sent %d votes)", ct.ShortAddr(v.Validator), len(got))
		}
	}
	// Its status cannot show that it holds honest[0]'s prevote, so that
	// one goes again; nothing else does.
	if len(got) != len(honest) {
		t.Fatalf("sent %d votes, want the %d polka prevotes", len(got), len(honest))
	}

	// A peer holding the polka lists B and is sent nothing.
	full := f.peerHolding(0, f.votes)
	if _, got := catchupFor(newPeerView(full), noLock(), nil, f.votes, f.index, f.have.quorum, catchupVoteBudget); len(got) != 0 {
		t.Fatalf("sent %d votes to a peer that holds them all", len(got))
	}
}
