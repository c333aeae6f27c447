package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/store"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/p2p"
)

// network adapts the p2p Switch to the engine: it implements the engine's
// gossip interface and the Switch's Handler. Transactions are admitted to
// the mempool on the peer's own goroutine (signature recovery runs in
// parallel across peers); block requests are served from the store
// directly; votes and proposals have their signatures verified there too
// (a peer that sends a bad one is disconnected and banned) and then go to
// the consensus loop's inbox lanes, whose Machine finds them in the shared
// signature cache.
type network struct {
	ctx     context.Context
	chainID string
	sigs    *sigCache // verified consensus signatures, shared with the Machine
	sw      *p2p.Switch
	txOut   chan *chain.Tx // locally submitted transactions waiting to be gossiped
	loop    *loop
	mempool *txPool
	store   *store.Store
	log     *slog.Logger
	metrics *metrics

	// statuses limits how often each peer's RoundStatus reaches the loop.
	statuses statusLimiter
	// heights are the peers' last reported final heights (net_getPeers).
	heights peerHeights
	// proposals are the last proposal messages received, for relaying
	// them as they arrived.
	proposals receivedProposals
}

var _ p2p.Handler = (*network)(nil)

// Receive implements p2p.Handler.
func (n *network) Receive(from p2p.NodeID, msg p2p.Message) error {
	switch m := msg.(type) {
	case *p2p.TxMessage:
		return n.receiveTx(m)
	case *p2p.TxsMessage:
		return n.receiveTxs(m)
	case *p2p.ProposalMessage:
		p := m.Proposal
		if !n.admissible(p.Height, p.Proposer) {
			return nil
		}
		if err := n.sigs.verify(p.SignHash(n.chainID), &p.Signature, p.Proposer); err != nil {
			return fmt.Errorf("%w: proposal h=%d r=%d: %v", p2p.ErrInvalidPeerData, p.Height, p.Round, err)
		}
		n.proposals.remember(m)
		return n.deliver(inbound{peer: from, in: consensus.ProposalReceived{Proposal: p, Block: m.Block}})
	case *p2p.VoteMessage:
		v := m.Vote
		if !n.admissibleVote(v) {
			return nil
		}
		if err := n.sigs.verify(v.SignHash(n.chainID), &v.Signature, v.Validator); err != nil {
			return fmt.Errorf("%w: vote h=%d r=%d: %v", p2p.ErrInvalidPeerData, v.Height, v.Round, err)
		}
		return n.deliver(inbound{peer: from, in: consensus.VoteReceived{Vote: v}})
	case *p2p.VotesMessage:
		for _, v := range m.Votes {
			if !n.admissibleVote(v) {
				continue
			}
			if err := n.sigs.verify(v.SignHash(n.chainID), &v.Signature, v.Validator); err != nil {
				return fmt.Errorf("%w: catch-up vote h=%d r=%d: %v", p2p.ErrInvalidPeerData, v.Height, v.Round, err)
			}
			if err := n.deliver(inbound{peer: from, in: consensus.VoteReceived{Vote: v}}); err != nil {
				return err
			}
		}
	case *p2p.RoundStatus:
		if !n.statuses.allow(from, time.Now()) {
			n.metrics.inboxDropped.Inc()
			return nil
		}
		if m.Height > 0 {
			n.heights.record(from, m.Height-1) // deciding Height: Height-1 is final there
		}
		return n.deliver(inbound{peer: from, roundStatus: m})
	case *p2p.EvidenceMessage:
		return n.receiveEvidence(from, m.Evidence)
	case *p2p.Status:
		n.heights.record(from, m.Height)
		return n.deliver(inbound{peer: from, status: &peerStatus{height: m.Height}})
	case *p2p.BlockRequest:
		n.serveBlock(from, m.Height)
	case *p2p.BlockResponse:
		return n.deliver(inbound{peer: from, in: consensus.CommitReceived{Block: m.Block, Certificate: m.Certificate}})
	}
	return nil
}

// deliver queues m for the consensus loop. A full lane drops it, counts the
// drop and answers p2p.ErrBusy, so that the Switch does not mark a gossip
// message seen that the loop never got: an honest copy from another peer
// still comes through.
func (n *network) deliver(m inbound) error {
	if !n.loop.push(n.ctx, m) {
		n.metrics.inboxDropped.Inc()
		return fmt.Errorf("%w: %s lane full", p2p.ErrBusy, laneOf(m))
	}
	return nil
}

func (n *network) receiveTx(m *p2p.TxMessage) error {
	fresh, err := n.admit(m.Tx)
	if fresh {
		n.sw.Relay(m)
	}
	return err
}

// receiveTxs admits a batch and, if any of it was new here, relays the
// identical batch, as the bytes it arrived in: peers that already have it
// drop the copy by its hash, before decoding it.
func (n *network) receiveTxs(m *p2p.TxsMessage) error {
	anyFresh := false
	var busy error
	for _, tx := range m.Txs {
		fresh, err := n.admit(tx)
		switch {
		case errors.Is(err, p2p.ErrBusy):
			busy = err
		case err != nil:
			return err
		}
		anyFresh = anyFresh || fresh
	}
	if anyFresh {
		n.sw.Relay(m)
	}
	return busy
}

// admit offers a peer's transaction to the mempool and reports whether it
// was new here. A transaction the peer could not have admitted itself (bad
// signature, wrong chain, malformed) is invalid peer data; one that is
// merely stale or known is not. A full mempool answers p2p.ErrBusy: the
// transaction was not taken, and a later copy may be.
func (n *network) admit(tx *chain.Tx) (fresh bool, err error) {
	_, err = n.mempool.Add(tx)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, errPoolFull):
		return false, fmt.Errorf("%w: %v", p2p.ErrBusy, err)
	case errors.Is(err, chain.ErrBadSignature), errors.Is(err, chain.ErrWrongChain), errors.Is(err, chain.ErrInvalidFields), errors.Is(err, chain.ErrUnknownKind):
		return false, fmt.Errorf("%w: tx: %v", p2p.ErrInvalidPeerData, err)
	}
	return false, nil
}

// Gossip of locally submitted transactions is batched: up to txBatchMax
// transactions, or whatever arrived within txBatchDelay of the first, go
// out as one TxsMessage.
const (
	txBatchMax   = 512
	txBatchDelay = 2 * time.Millisecond
	txOutQueue   = 16384
)

// gossipTx queues a locally admitted transaction for gossip; it never
// blocks (a full queue drops the gossip, not the transaction: the node's
// own proposals still include it).
func (n *network) gossipTx(tx *chain.Tx) {
	select {
	case n.txOut <- tx:
	default:
		n.metrics.txGossipDropped.Inc()
	}
}

// runTxGossip batches queued transactions until ctx is done.
func (n *network) runTxGossip(ctx context.Context) error {
	batch := make([]*chain.Tx, 0, txBatchMax)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() {
		if len(batch) > 0 {
			n.sw.Broadcast(&p2p.TxsMessage{Txs: batch})
			batch = make([]*chain.Tx, 0, txBatchMax)
		}
	}
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case tx := <-n.txOut:
			batch = append(batch, tx)
			if len(batch) == 1 {
				timer.Reset(txBatchDelay)
			}
			if len(batch) >= txBatchMax {
				timer.Stop()
				flush()
			}
		case <-timer.C:
			flush()
		}
	}
}

func (n *network) serveBlock(to p2p.NodeID, h uint64) {
	if h == 0 || h > n.store.Height() {
		return
	}
	b, err := n.store.Block(h)
	if err != nil {
		n.log.Warn("block sync: read block", "height", h, "err", err)
		return
	}
	c, err := n.store.Certificate(h)
	if err != nil {
		n.log.Warn("block sync: read certificate", "height", h, "err", err)
		return
	}
	n.SendBlock(to, b, c)
}

// PeerConnected implements p2p.Handler.
func (n *network) PeerConnected(p p2p.PeerInfo) {
	n.sw.Send(p.ID, &p2p.Status{Height: n.store.Height(), BaseHeight: min(1, n.store.Height())})
	if err := n.deliver(inbound{peer: p.ID, connected: true}); err != nil {
		n.log.Debug("peer connected: not queued", "peer", p.ID.String(), "err", err)
	}
	n.metrics.peers.Set(float64(len(n.sw.Peers())))
}

// PeerDisconnected implements p2p.Handler.
func (n *network) PeerDisconnected(id p2p.NodeID) {
	n.statuses.forget(id)
	n.heights.forget(id)
	if err := n.deliver(inbound{peer: id, gone: true}); err != nil {
		n.log.Debug("peer disconnected: not queued", "peer", id.String(), "err", err)
	}
	n.metrics.peers.Set(float64(len(n.sw.Peers())))
}

// BroadcastProposal implements gossip. A proposal received from a peer
// (the driver relays those its Machine accepted) goes out as the bytes it
// arrived in: a block is not encoded again.
func (n *network) BroadcastProposal(p *chain.Proposal, b *chain.Block) {
	if m := n.proposals.take(p, b); m != nil {
		n.sw.Relay(m)
		return
	}
	n.sw.Broadcast(&p2p.ProposalMessage{Proposal: p, Block: b})
}

// BroadcastVote implements gossip.
func (n *network) BroadcastVote(v *chain.Vote) { n.sw.Broadcast(&p2p.VoteMessage{Vote: v}) }

// BroadcastEvidence implements gossip.
func (n *network) BroadcastEvidence(e *chain.Evidence) {
	n.sw.Broadcast(&p2p.EvidenceMessage{Evidence: e})
}

// BroadcastStatus implements gossip.
func (n *network) BroadcastStatus(height uint64) {
	n.sw.Broadcast(&p2p.Status{Height: height, BaseHeight: min(1, height)})
}

// RequestBlock implements gossip.
func (n *network) RequestBlock(peer p2p.NodeID, height uint64) bool {
	return n.sw.Send(peer, &p2p.BlockRequest{Height: height})
}

// SendBlock implements gossip.
func (n *network) SendBlock(peer p2p.NodeID, b *chain.Block, c *chain.Certificate) bool {
	return n.sw.Send(peer, &p2p.BlockResponse{Block: b, Certificate: c})
}

// SendConsensus implements gossip.
func (n *network) SendConsensus(peer p2p.NodeID, proposals []consensus.ProposalReceived, votes []*chain.Vote) {
	for _, p := range proposals {
		n.sw.Send(peer, &p2p.ProposalMessage{Proposal: p.Proposal, Block: p.Block})
	}
	for _, v := range votes {
		n.sw.Send(peer, &p2p.VoteMessage{Vote: v})
	}
}

// Misbehaved implements gossip: the driver found a peer's data invalid
// (a block-sync answer whose certificate does not verify).
func (n *network) Misbehaved(peer p2p.NodeID, err error) { n.penalize(peer, err) }

// penalize bans a peer that sent invalid data only the node can see
// (a forged block-sync certificate, bad evidence); the Switch's receive
// path penalizes an ErrInvalidPeerData error by itself. A peer already gone
// is banned all the same, so that it cannot come straight back.
func (n *network) penalize(peer p2p.NodeID, err error) {
	n.log.Info("banning misbehaving peer", "peer", peer, "err", err)
	if !n.sw.Penalize(peer, err.Error(), p2p.PenaltyFatal) {
		n.sw.Ban(peer, err.Error(), 0)
	}
}

// SendRoundStatus implements gossip. Each peer gets its own Send: a
// Broadcast would skip peers that already got identical bytes.
func (n *network) SendRoundStatus(st *p2p.RoundStatus) {
	for _, p := range n.sw.Peers() {
		n.sw.Send(p.ID, st)
	}
}

// SendProposal implements gossip.
func (n *network) SendProposal(peer p2p.NodeID, p *chain.Proposal, b *chain.Block) {
	n.sw.Send(peer, &p2p.ProposalMessage{Proposal: p, Block: b})
}

// SendVotes implements gossip.
func (n *network) SendVotes(peer p2p.NodeID, votes []*chain.Vote) {
	n.sw.Send(peer, &p2p.VotesMessage{Votes: votes})
}

// statusLimiter passes at most one RoundStatus per peer per
// minStatusInterval. Each one costs the consensus goroutine a selection
// and the node up to catch-up's budget of votes sent, so a peer sending
// them back to back would otherwise amplify its traffic and fill the
// inbox. Honest peers send one every roundStatusInterval.
type statusLimiter struct {
	mu   sync.Mutex
	last map[p2p.NodeID]time.Time
}

const minStatusInterval = roundStatusInterval / 2

func (l *statusLimiter) allow(peer p2p.NodeID, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if at, ok := l.last[peer]; ok && now.Sub(at) < minStatusInterval {
		return false
	}
	if l.last == nil {
		l.last = make(map[p2p.NodeID]time.Time)
	}
	l.last[peer] = now
	return true
}

func (l *statusLimiter) forget(peer p2p.NodeID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.last, peer)
}
