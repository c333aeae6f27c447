package sim

import (
	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/p2p"
)

// gossipOf is a validator's peer network as its driver sees it: every send
// passes a fault point and goes through the simulated network (see
// network.go), which delays, drops, duplicates and partitions it.
type gossipOf struct{ n *node }

func (g gossipOf) all(m *message) {
	_ = g.n.fault(false)
	m.from = g.n.id
	for to := range g.n.s.vals {
		if to != g.n.id {
			g.n.s.send(m, to)
		}
	}
}

func (g gossipOf) one(peer p2p.NodeID, m *message) bool {
	_ = g.n.fault(false)
	to, ok := g.n.s.byIdx[chain.Address(peer)]
	if !ok || to == g.n.id {
		return false
	}
	m.from = g.n.id
	g.n.s.send(m, to)
	return true
}

func (g gossipOf) BroadcastProposal(p *chain.Proposal, b *chain.Block) {
	g.all(&message{kind: msgProposal, proposal: p, block: b})
}

func (g gossipOf) BroadcastVote(v *chain.Vote) { g.all(&message{kind: msgVote, vote: v}) }

func (g gossipOf) BroadcastEvidence(e *chain.Evidence) {
	g.n.s.check.evidence(g.n, e)
	g.all(&message{kind: msgEvidence, evidence: e})
}

func (g gossipOf) BroadcastStatus(height uint64) { g.all(&message{kind: msgStatus, height: height}) }

func (g gossipOf) RequestBlock(peer p2p.NodeID, height uint64) bool {
	g.n.s.rep.SyncRequests++
	return g.one(peer, &message{kind: msgSyncRequest, height: height})
}

// Misbehaved counts a block-sync answer the driver rejected among the
// rejected inputs; the simulated network has no connection to drop.
func (g gossipOf) Misbehaved(p2p.NodeID, error) { g.n.s.rep.RejectedInputs++ }

func (g gossipOf) SendRoundStatus(st *p2p.RoundStatus) {
	g.all(&message{kind: msgRoundStatus, status: st})
}

func (g gossipOf) SendProposal(peer p2p.NodeID, p *chain.Proposal, b *chain.Block) {
	g.one(peer, &message{kind: msgProposal, proposal: p, block: b})
}

func (g gossipOf) SendVotes(peer p2p.NodeID, votes []*chain.Vote) {
	g.one(peer, &message{kind: msgVotes, votes: votes})
}

func (g gossipOf) SendConsensus(peer p2p.NodeID, proposals []consensus.ProposalReceived, votes []*chain.Vote) {
	for _, p := range proposals {
		g.SendProposal(peer, p.Proposal, p.Block)
	}
	if len(votes) > 0 {
		g.SendVotes(peer, votes)
	}
}

// receive hands a message to the validator's driver, as the node's peer
// layer does.
func (n *node) receive(m *message) {
	s := n.s
	from := s.nodeID(m.from)
	switch m.kind {
	case msgVote:
		n.event(func() error { return n.driver.Receive(from, consensus.VoteReceived{Vote: m.vote}) })
	case msgProposal:
		n.event(func() error {
			return n.driver.Receive(from, consensus.ProposalReceived{Proposal: m.proposal, Block: m.block})
		})
	case msgVotes:
		n.event(func() error {
			for _, v := range m.votes {
				if err := n.driver.Receive(from, consensus.VoteReceived{Vote: v}); err != nil {
					return err
				}
			}
			return nil
		})
	case msgEvidence:
		n.event(func() error { n.driver.Evidence(m.evidence); return nil })
	case msgStatus:
		n.event(func() error { return n.driver.PeerStatus(from, m.height) })
	case msgRoundStatus:
		n.event(func() error { n.driver.PeerRoundStatus(from, m.status); return nil })
	case msgSyncRequest:
		st := n.disk.store
		if m.height < 1 || m.height > st.Height() {
			return // not here: the asker tries another peer later
		}
		b, err := st.Block(m.height)
		if err != nil {
			s.violate(Violation{Kind: "store", Node: n.id, Height: m.height, Detail: err.Error()})
			return
		}
		c, err := st.Certificate(m.height)
		if err != nil {
			s.violate(Violation{Kind: "store", Node: n.id, Height: m.height, Detail: err.Error()})
			return
		}
		s.rep.SyncServed++
		n.event(func() error {
			gossipOf{n}.one(from, &message{kind: msgSyncResponse, block: b, cert: c})
			return nil
		})
	case msgSyncResponse:
		n.event(func() error {
			return n.driver.Receive(from, consensus.CommitReceived{Block: m.block, Certificate: m.cert})
		})
	}
}
