package consensus_test

import (
	"fmt"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	ct "github.com/quorumchain/quorumchain/consensus/consensustest"
)

// BenchmarkHeight measures the consensus CPU of one height for one
// validator that receives the proposal and every other validator's prevote
// and precommit, including signature verification (about two recoveries
// per validator). Signing is done beforehand; the validator's own votes are
// answered with pre-signed ones.
func BenchmarkHeight(b *testing.B) {
	for _, n := range []int{4, 100} {
		b.Run(fmt.Sprintf("validators=%d", n), func(b *testing.B) {
			vals := ct.Equal(n, 10)
			proposer := vals.Proposer(0)
			self := (proposer + 1) % n
			blk := vals.Block(proposer, 1, 1)
			hash := blk.Hash()
			proposal := vals.Proposal(proposer, 1, 0, chain.NoPOLRound, hash)
			var inputs []consensus.Input
			for _, t := range []chain.VoteType{chain.Prevote, chain.Precommit} {
				for i := range vals.List {
					if i != self {
						inputs = append(inputs, consensus.VoteReceived{Vote: vals.Vote(i, t, 1, 0, hash)})
					}
				}
			}
			own := map[chain.VoteType]*chain.Vote{
				chain.Prevote:   vals.Vote(self, chain.Prevote, 1, 0, hash),
				chain.Precommit: vals.Vote(self, chain.Precommit, 1, 0, hash),
			}
			cfg := testConfig()
			cfg.Self = vals.List[self].Address

			b.ReportAllocs()
			for b.Loop() {
				m := consensus.NewMachine(cfg)
				finalized := false
				var feed func(in consensus.Input)
				feed = func(in consensus.Input) {
					for _, a := range m.Step(in) {
						switch a := a.(type) {
						case consensus.CheckBlock:
							feed(consensus.BlockChecked{Height: 1, Hash: hash, Valid: true})
						case consensus.SignVote:
							feed(consensus.OwnVote{Vote: own[a.Vote.Type]})
						case consensus.Finalize:
							finalized = true
						}
					}
				}
				feed(consensus.NewHeight{Height: 1, Validators: vals.Set, LastBlockTime: t0, Now: t0})
				feed(consensus.ProposalReceived{Proposal: proposal, Block: blk})
				for _, in := range inputs {
					feed(in)
				}
				if !finalized {
					b.Fatal("height not finalized")
				}
			}
		})
	}
}
