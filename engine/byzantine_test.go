package engine_test

import (
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/chaintest"
	"github.com/quorumchain/quorumchain/validator"
)

// ownVotes returns the votes validator i broadcast itself.
func ownVotes(c *cluster, i int) []*chain.Vote {
	addr := chaintest.Addr(c.nw.keys[i])
	var out []*chain.Vote
	for _, v := range c.procs[i].net.votes {
		if v.Validator == addr {
			out = append(out, v)
		}
	}
	return out
}

type slot struct {
	t chain.VoteType
	h uint64
	r uint32
}

// conflicts returns, per slot, the distinct blocks of the votes.
func conflicts(votes []*chain.Vote) map[slot]map[chain.Hash]*chain.Vote {
	out := map[slot]map[chain.Hash]*chain.Vote{}
	for _, v := range votes {
		k := slot{v.Type, v.Height, v.Round}
		if out[k] == nil {
			out[k] = map[chain.Hash]*chain.Vote{}
		}
		out[k][v.BlockHash] = v
	}
	return out
}

// TestByzantineModes: with three honest validators of four the chain goes
// on whatever the fourth does; switched at run time, a nil-voter votes only
// nil, a silent one sends nothing, and an equivocator sends two different
// votes for a slot (a pair that is evidence), until switched off, after
// which it signs one vote per slot again (the equivocator, jailed through
// its evidence, has left the set by then).
func TestByzantineModes(t *testing.T) {
	const byz = 3
	for _, tc := range []struct {
		mode  validator.ByzantineMode
		check func(t *testing.T, nw *network, own []*chain.Vote, proposals int)
	}{
		{validator.ByzantineNilVotes, func(t *testing.T, _ *network, own []*chain.Vote, _ int) {
			if len(own) == 0 {
				t.Fatal("the nil-voter sent no votes")
			}
			for _, v := range own {
				if !v.IsNil() {
					t.Fatalf("nil-voter voted for block %s at h=%d r=%d", chain.FormatHash(v.BlockHash), v.Height, v.Round)
				}
			}
		}},
		{validator.ByzantineSilent, func(t *testing.T, _ *network, own []*chain.Vote, proposals int) {
			if len(own) != 0 || proposals != 0 {
				t.Fatalf("silent validator sent %d votes and %d proposals", len(own), proposals)
			}
		}},
		{validator.ByzantineEquivocate, func(t *testing.T, nw *network, own []*chain.Vote, _ int) {
			pairs := 0
			for k, blocks := range conflicts(own) {
				if len(blocks) != 2 {
					t.Fatalf("%v: %d different votes, want 2", k, len(blocks))
				}
				var vs []*chain.Vote
				for _, v := range blocks {
					vs = append(vs, v)
				}
				if err := chain.NewEvidence(vs[0], vs[1]).Verify(testChainID, nw.set); err != nil {
					t.Fatalf("%v: the pair is not evidence: %v", k, err)
				}
				pairs++
			}
			if pairs == 0 {
				t.Fatal("the equivocator sent no conflicting votes")
			}
		}},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			nw := newNetwork(t)
			c := newCluster(t, nw, []int{0, 1, 2, 3}, nil)
			if err := c.procs[byz].signer.SetByzantine(tc.mode); err != nil {
				t.Fatal(err)
			}
			c.runUntil("height 4", c.allAt(4, 0, 1, 2))
			addr := chaintest.Addr(nw.keys[byz])
			proposals := 0
			for _, p := range c.procs[byz].net.proposals {
				if p.Proposer == addr {
					proposals++
				}
			}
			tc.check(t, nw, ownVotes(c, byz), proposals)

			// Off: honest again, one vote per slot from here on.
			if err := c.procs[byz].signer.SetByzantine(validator.ByzantineOff); err != nil {
				t.Fatal(err)
			}
			from := len(ownVotes(c, byz))
			c.runUntil("height 7", c.allAt(7, 0, 1, 2, 3))
			after := ownVotes(c, byz)[from:]
			if tc.mode == validator.ByzantineEquivocate {
				// Its evidence went into a block: jailed, it has left the set.
				set, err := c.disks[0].store.ValidatorSet(c.heightOf(0))
				if err != nil {
					t.Fatal(err)
				}
				if _, in := set.Index(addr); in {
					t.Fatal("the equivocator is still in the validator set")
				}
			} else if len(after) == 0 {
				t.Fatal("no votes after switching off")
			}
			before := conflicts(ownVotes(c, byz)[:from])
			for k, blocks := range conflicts(after) {
				if len(blocks) > 1 {
					t.Fatalf("after off, %d different votes for %v", len(blocks), k)
				}
				for b := range blocks {
					if prev := before[k]; prev != nil && prev[b] == nil {
						t.Fatalf("after off, the vote for %v conflicts with what was signed before", k)
					}
				}
			}
		})
	}
}

// TestSilentHalfHaltsThenResumes: with two of four equal validators
// silent, no round can end (half the stake never votes, so no timeout
// after the prevote fires): the height stalls. Switched off, the two sign
// the requests they held back at their next status tick, and the height
// is decided.
func TestSilentHalfHaltsThenResumes(t *testing.T) {
	nw := newNetwork(t)
	c := newCluster(t, nw, []int{0, 1, 2, 3}, nil)
	for _, i := range []int{2, 3} {
		if err := c.procs[i].signer.SetByzantine(validator.ByzantineSilent); err != nil {
			t.Fatal(err)
		}
	}
	start := c.heightOf(0)
	// Deliver and fire every timeout until none is left: the height stalls.
	for iter := 0; ; iter++ {
		if iter == 1000 {
			t.Fatal("timeouts kept firing with half the stake silent")
		}
		if c.deliver() {
			continue
		}
		fired := false
		for _, p := range c.procs {
			if to, ok := p.timers.next(); ok {
				delete(p.timers.armed, to)
				if err := p.d.Timeout(to); err != nil {
					t.Fatal(err)
				}
				fired = true
				break
			}
		}
		if !fired {
			break
		}
	}
	if h := c.heightOf(0); h != start {
		t.Fatalf("height %d decided with half the stake silent (from %d)", h, start)
	}
	for _, i := range []int{2, 3} {
		if err := c.procs[i].signer.SetByzantine(validator.ByzantineOff); err != nil {
			t.Fatal(err)
		}
		if err := c.procs[i].d.StatusTick(); err != nil {
			t.Fatal(err)
		}
	}
	c.runUntil("the stalled height decided", c.allAt(start+2, 0, 1, 2, 3))
}
