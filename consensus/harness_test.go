package consensus_test

import (
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	ct "github.com/quorumchain/quorumchain/consensus/consensustest"
)

// t0 is the logical clock origin of the tests.
var t0 = time.Unix(1_700_000_000, 0)

func testConfig() consensus.Config {
	return consensus.Config{
		ChainID:               ct.ChainID,
		TimeoutPropose:        3 * time.Second,
		TimeoutProposeDelta:   500 * time.Millisecond,
		TimeoutPrevote:        1 * time.Second,
		TimeoutPrevoteDelta:   250 * time.Millisecond,
		TimeoutPrecommit:      1 * time.Second,
		TimeoutPrecommitDelta: 250 * time.Millisecond,
	}
}

// harness drives one Machine and, by default, answers its requests the way a
// node does: SignVote and SignProposal are signed with the local key and fed
// back, BuildBlock gets a fresh block, CheckBlock is answered valid unless
// the block is in invalid.
type harness struct {
	t      testing.TB
	vals   *ct.Validators
	self   int // key index of the local validator, -1 for a follower
	cfg    consensus.Config
	m      *consensus.Machine
	height uint64

	autoSign  bool
	autoBuild bool
	autoCheck bool
	invalid   map[chain.Hash]bool
	salt      uint64
	onInput   func(consensus.Input) // sees every input before it is stepped, as a WAL does
}

func newHarness(t testing.TB, vals *ct.Validators, self int, tweak ...func(*consensus.Config)) *harness {
	cfg := testConfig()
	if self >= 0 {
		cfg.Self = vals.List[self].Address
	}
	for _, f := range tweak {
		f(&cfg)
	}
	return &harness{
		t: t, vals: vals, self: self, cfg: cfg, m: consensus.NewMachine(cfg),
		autoSign: true, autoBuild: true, autoCheck: true, invalid: map[chain.Hash]bool{}, salt: 1000,
	}
}

// step feeds in and the automatic answers to the requests it causes, and
// returns every action emitted, in order.
func (h *harness) step(in consensus.Input) []consensus.Action {
	h.t.Helper()
	var all []consensus.Action
	queue := []consensus.Input{in}
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		if h.onInput != nil {
			h.onInput(next)
		}
		acts := h.m.Step(next)
		all = append(all, acts...)
		for _, a := range acts {
			switch a := a.(type) {
			case consensus.SignVote:
				if h.autoSign {
					queue = append(queue, consensus.OwnVote{Vote: ct.Signed(h.vals.List[h.self].Key, h.cfg.ChainID, a.Vote)})
				}
			case consensus.SignProposal:
				if h.autoSign {
					queue = append(queue, consensus.OwnProposal{Proposal: ct.SignedProposal(h.vals.List[h.self].Key, h.cfg.ChainID, a.Proposal), Block: a.Block})
				}
			case consensus.BuildBlock:
				if h.autoBuild {
					h.salt++
					queue = append(queue, consensus.BlockBuilt{Height: a.Height, Round: a.Round, Block: h.vals.Block(h.self, a.Height, h.salt)})
				}
			case consensus.CheckBlock:
				if h.autoCheck {
					hash := a.Block.Hash()
					queue = append(queue, consensus.BlockChecked{Height: a.Height, Hash: hash, Valid: !h.invalid[hash]})
				}
			}
		}
	}
	return all
}

// start begins height with no block interval (round 0 starts at once).
func (h *harness) start(height uint64) []consensus.Action {
	h.t.Helper()
	h.height = height
	return h.step(consensus.NewHeight{Height: height, Validators: h.vals.Set, NextValidators: h.vals.Set, LastBlockTime: t0, Now: t0})
}

// propose delivers the proposal of round r (by its proposer) for b.
func (h *harness) propose(r uint32, pol int32, b *chain.Block) []consensus.Action {
	h.t.Helper()
	p := h.vals.Proposal(h.vals.Proposer(r), h.height, r, pol, b.Hash())
	return h.step(consensus.ProposalReceived{Proposal: p, Block: b})
}

// votes delivers votes of validators idx for block at round r.
func (h *harness) votes(t chain.VoteType, r uint32, block chain.Hash, idx ...int) []consensus.Action {
	h.t.Helper()
	var all []consensus.Action
	for _, v := range h.vals.Votes(t, h.height, r, block, idx...) {
		all = append(all, h.step(consensus.VoteReceived{Vote: v})...)
	}
	return all
}

func (h *harness) timeout(s consensus.RoundStep, r uint32) []consensus.Action {
	h.t.Helper()
	return h.step(consensus.TimeoutFired{Height: h.height, Round: r, Step: s})
}

// others returns the key indices of every validator but the local one and excluded ones.
func (h *harness) others(exclude ...int) []int {
	var out []int
next:
	for i := range h.vals.List {
		if i == h.self {
			continue
		}
		for _, e := range exclude {
			if i == e {
				continue next
			}
		}
		out = append(out, i)
	}
	return out
}

func (h *harness) rs() consensus.RoundState { return h.m.RoundState() }

// ownVote returns the local validator's broadcast vote of type t in acts.
func ownVote(acts []consensus.Action, t chain.VoteType) (*chain.Vote, bool) {
	for _, b := range ct.FindAll[consensus.BroadcastVote](acts) {
		if b.Vote.Type == t {
			return b.Vote, true
		}
	}
	return nil, false
}

// mustOwnVote fails unless acts broadcast the local vote of type t for want.
func mustOwnVote(t testing.TB, acts []consensus.Action, typ chain.VoteType, want chain.Hash) {
	t.Helper()
	v, ok := ownVote(acts, typ)
	if !ok {
		t.Fatalf("no own %s broadcast; want one for %s; actions:\n%s", typ, ct.ShortHash(want), ct.Describe(acts))
	}
	if v.BlockHash != want {
		t.Fatalf("own %s for %s, want %s; actions:\n%s", typ, ct.ShortHash(v.BlockHash), ct.ShortHash(want), ct.Describe(acts))
	}
}

func mustNoOwnVote(t testing.TB, acts []consensus.Action, typ chain.VoteType) {
	t.Helper()
	if v, ok := ownVote(acts, typ); ok {
		t.Fatalf("own %s for %s broadcast, want none; actions:\n%s", typ, ct.ShortHash(v.BlockHash), ct.Describe(acts))
	}
}

func mustFind[T any](t testing.TB, acts []consensus.Action) T {
	t.Helper()
	a, ok := ct.Find[T](acts)
	if !ok {
		var zero T
		t.Fatalf("no %T among actions:\n%s", zero, ct.Describe(acts))
	}
	return a
}

func mustNone[T any](t testing.TB, acts []consensus.Action) {
	t.Helper()
	if a, ok := ct.Find[T](acts); ok {
		t.Fatalf("unexpected %T (%+v) among actions:\n%s", a, a, ct.Describe(acts))
	}
}

func mustRound(t testing.TB, h *harness, round uint32, step consensus.RoundStep) {
	t.Helper()
	rs := h.rs()
	if rs.Round != round || rs.Step != step {
		t.Fatalf("at h=%d r=%d %s, want r=%d %s", rs.Height, rs.Round, rs.Step, round, step)
	}
}

// nonProposer returns a key index that proposes none of rounds.
func nonProposer(vals *ct.Validators, rounds ...uint32) int {
next:
	for i := range vals.List {
		for _, r := range rounds {
			if vals.Proposer(r) == i {
				continue next
			}
		}
		return i
	}
	panic("every validator proposes one of the rounds")
}
