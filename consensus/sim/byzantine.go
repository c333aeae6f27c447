package sim

import (
	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

// byzNode is a Byzantine validator. It runs no driver: it signs whatever
// its behaviour calls for with its raw key (no double-sign protection) and
// it is omniscient, as the adversary of the BFT model is: the simulator
// tells it when each honest validator enters a round (onEnter), and it
// builds valid blocks on an honest validator's committed state.
type byzNode struct {
	s   *sim
	id  int
	beh Behaviour

	votes   map[voteKey]*chain.Vote
	props   map[propKey]*proposalMsg
	reacted map[hr]bool
}

type hr struct {
	h uint64
	r uint32
}

type voteKey struct {
	t    chain.VoteType
	h    uint64
	r    uint32
	hash chain.Hash
}

type propKey struct {
	h       uint64
	r       uint32
	variant uint8
	parent  chain.Hash
}

// proposalMsg is a signed proposal with its block.
type proposalMsg struct {
	p *chain.Proposal
	b *chain.Block
}

func newByzNode(s *sim, id int, beh Behaviour) *byzNode {
	return &byzNode{s: s, id: id, beh: beh,
		votes: make(map[voteKey]*chain.Vote), props: make(map[propKey]*proposalMsg), reacted: make(map[hr]bool)}
}

func (b *byzNode) addr() chain.Address { return b.s.vals[b.id].addr }

// vote returns this validator's signed vote, made once and cached.
func (b *byzNode) vote(t chain.VoteType, h uint64, r uint32, hash chain.Hash) *chain.Vote {
	k := voteKey{t, h, r, hash}
	if v := b.votes[k]; v != nil {
		return v
	}
	v := &chain.Vote{Type: t, Height: h, Round: r, BlockHash: hash, Validator: b.addr()}
	sig, err := chain.Sign(b.s.vals[b.id].key, v.SignHash(ChainID))
	if err != nil {
		panic("sim: byzantine sign: " + err.Error())
	}
	v.Signature = sig
	b.s.rep.ByzantineSigned++
	b.s.check.knownSig(v.SignHash(ChainID), sig, v.Validator)
	b.votes[k] = v
	return v
}

// proposal returns this validator's proposal variant (0 or 1) for (h, r)
// on top of target's committed chain, or nil when target has not
// committed height h-1 yet. Variants differ in block time, so they are two
// different valid blocks.
func (b *byzNode) proposal(target *node, h uint64, r uint32, variant uint8) *proposalMsg {
	if target.driver == nil {
		return nil
	}
	snap := target.driver.Snapshot()
	if snap.Height != h-1 {
		return nil
	}
	k := propKey{h: h, r: r, variant: variant, parent: snap.Hash}
	if p := b.props[k]; p != nil {
		return p
	}
	s := b.s
	blk, err := s.buildBlock(target, snap.State, snap.Header, snap.Validators, b.addr(), uint64(variant))
	if err != nil {
		panic("sim: byzantine block: " + err.Error())
	}
	p := chain.Proposal{Height: h, Round: r, POLRound: chain.NoPOLRound, BlockHash: blk.Hash(), Proposer: b.addr()}
	sig, err := chain.Sign(s.vals[b.id].key, p.SignHash(ChainID))
	if err != nil {
		panic("sim: byzantine sign: " + err.Error())
	}
	p.Signature = sig
	s.rep.ByzantineSigned++
	pm := &proposalMsg{p: &p, b: blk}
	b.props[k] = pm
	return pm
}

// buildBlock builds an empty block for proposer on target's committed
// chain (state, its last header and the set of the next height), executed
// as an honest proposer's would be, with its time bumped by skew
// milliseconds.
func (s *sim) buildBlock(target *node, state *staking.State, last *chain.Header, set *staking.ValidatorSet, proposer chain.Address, skew uint64) (*chain.Block, error) {
	h := uint64(1)
	t := uint64(s.clock().UnixMilli())
	if last != nil {
		h = last.Height + 1
		t = max(t, last.Time+1)
	}
	blk := &chain.Block{Header: chain.Header{ChainID: ChainID, Height: h}}
	if last != nil {
		cert, err := target.disk.store.Certificate(last.Height)
		if err != nil {
			return nil, err
		}
		blk.LastCertificate = cert
	}
	senders := chain.RecoverSenders(nil, nil)
	res, err := chain.Execute(state.Fork(), ChainID, blk, senders, func(eh uint64) (chain.StakeSet, error) {
		return target.disk.store.ValidatorSet(eh)
	})
	if err != nil {
		return nil, err
	}
	blk.Header = chain.Header{
		ChainID: ChainID, Height: h, Time: t + skew, Proposer: proposer,
		TxRoot: chain.MerkleRoot(nil), EvidenceRoot: chain.MerkleRoot(nil),
		StateHash: res.StateHash, ValidatorsHash: set.Hash(), NextValidatorsHash: res.NextValidators.Hash(),
	}
	if last != nil {
		blk.Header.ParentHash = last.Hash()
		blk.Header.LastCertHash = blk.LastCertificate.Hash()
	}
	return blk, nil
}

func (b *byzNode) sendVote(to int, v *chain.Vote) {
	b.s.send(&message{kind: msgVote, from: b.id, vote: v}, to)
}

func (b *byzNode) sendVotes(to int, h uint64, r uint32, hash chain.Hash) {
	b.sendVote(to, b.vote(chain.Prevote, h, r, hash))
	b.sendVote(to, b.vote(chain.Precommit, h, r, hash))
}

func (b *byzNode) sendProposal(to int, pm *proposalMsg) {
	b.s.send(&message{kind: msgProposal, from: b.id, proposal: pm.p, block: pm.b}, to)
}

// half assigns validator i to one of two halves at (h, r), pseudo-randomly
// but reproducibly from the run's seed.
func (s *sim) half(h uint64, r uint32, i int) uint8 {
	x := s.cfg.Seed ^ h*0x9e3779b97f4a7c15 ^ uint64(r)*0xbf58476d1ce4e5b9 ^ uint64(i)*0x94d049bb133111eb
	x ^= x >> 31
	x *= 0xd6e8feb8ecfb58d5
	x ^= x >> 29
	return uint8(x & 1)
}

// onEnter is called when honest validator n enters round r of height h,
// whose proposer is proposer.
func (b *byzNode) onEnter(n *node, h uint64, r uint32, proposer chain.Address) {
	s := b.s
	switch b.beh {
	case NilVoter:
		b.sendVotes(n.id, h, r, chain.Hash{})
	case Equivocator:
		if proposer == b.addr() {
			pm := b.proposal(n, h, r, s.half(h, r, n.id))
			if pm == nil {
				return
			}
			b.sendProposal(n.id, pm)
			b.sendVotes(n.id, h, r, pm.p.BlockHash)
		}
	case Coalition:
		pi, ok := s.byIdx[proposer]
		if !ok || !s.vals[pi].byz {
			b.sendVotes(n.id, h, r, chain.Hash{})
			return
		}
		variant := uint8(0)
		if s.vals[n.id].group == 2 {
			variant = 1
		}
		pm := s.byz[pi].proposal(n, h, r, variant)
		if pm == nil {
			return
		}
		if pi == b.id {
			b.sendProposal(n.id, pm)
		}
		b.sendVotes(n.id, h, r, pm.p.BlockHash)
	}
}

// receive handles a message sent to this Byzantine validator. Only the
// equivocator reacts: to the first proposal of each (h, r) it prevotes and
// precommits that block to one half of the network and another block (nil
// or a made-up hash) to the other half, and sends both to some validators so
// that the double sign is detected.
func (b *byzNode) receive(m *message, _ int) {
	if b.beh != Equivocator || m.kind != msgProposal {
		return
	}
	p := m.proposal
	k := hr{p.Height, p.Round}
	if b.reacted[k] {
		return
	}
	b.reacted[k] = true
	s := b.s
	other := chain.Hash{}
	if s.rng.IntN(2) == 0 {
		for i := 0; i < 4; i++ {
			x := s.rng.Uint64()
			for j := 0; j < 8; j++ {
				other[i*8+j] = byte(x >> (8 * j))
			}
		}
	}
	hashes := [2]chain.Hash{p.BlockHash, other}
	for to := range s.vals {
		if to == b.id {
			continue
		}
		side := s.half(p.Height, p.Round, to)
		b.sendVotes(to, p.Height, p.Round, hashes[side])
		if s.rng.IntN(4) == 0 {
			b.sendVotes(to, p.Height, p.Round, hashes[1-side])
		}
	}
}
