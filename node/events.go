package node

import (
	"log/slog"
	"strconv"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/engine"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/staking"
)

// events turns what the engine does into RPC events and metrics. Its
// methods run on the consensus goroutine and never block: the Hub cuts off
// slow subscribers instead of waiting for them.
type events struct {
	hub       *rpc.Hub
	metrics   *metrics
	log       *slog.Logger
	recent    *recentReceipts // nil: not kept
	lastFinal time.Time
}

var _ engine.Sink = (*events)(nil)

func (ev *events) publish(topic rpc.Topic, e rpc.Event) {
	if err := ev.hub.Publish(topic, e); err != nil {
		ev.log.Error("publish event", "topic", topic, "err", err)
	}
}

func (ev *events) ProposalSeen(p *chain.Proposal, b *chain.Block) {
	ev.publish(rpc.TopicBlocks, rpc.BlockEvent{Height: p.Height, Round: p.Round, Hash: p.BlockHash, Proposer: p.Proposer, TxCount: len(b.Txs)})
}

func (ev *events) VoteCounted(v *chain.Vote, stake uint64, tally consensus.VoteTally) {
	ev.metrics.votes.WithLabelValues(v.Type.String()).Inc()
	var voted uint64
	for _, bs := range tally.Blocks {
		if bs.Hash == v.BlockHash {
			voted = bs.Stake
		}
	}
	e := rpc.VoteEvent{Height: v.Height, Round: v.Round, Type: v.Type.String(), Validator: v.Validator, Stake: rpc.Amount(stake),
		Tally: rpc.TallyResult{VotedStake: rpc.Amount(voted), TotalStake: rpc.Amount(tally.TotalStake), Quorum: staking.HasQuorum(voted, tally.TotalStake)}}
	if !v.IsNil() {
		h := v.BlockHash
		e.Block = &h
	}
	ev.publish(rpc.TopicVotes, e)
}

// finalized publishes a final block. The store has committed it, so the
// Backend already serves it (the Hub's replay contract).
func (ev *events) Finalized(b *chain.Block, c *chain.Certificate, signedStake, totalStake uint64, res *chain.ExecResult, rounds uint32, at time.Time) {
	h := &b.Header
	blockTime := time.UnixMilli(int64(h.Time))
	ev.metrics.height.Set(float64(h.Height))
	ev.metrics.rounds.Observe(float64(rounds))
	ev.metrics.blockTxs.Observe(float64(len(b.Txs)))
	ev.metrics.finalityLatency.Observe(at.Sub(blockTime).Seconds())
	var accepted, rejected int
	for i := range res.Receipts {
		if res.Receipts[i].Status == chain.TxAccepted {
			accepted++
		} else {
			rejected++
		}
	}
	ev.metrics.txsFinalized.WithLabelValues("accepted").Add(float64(accepted))
	ev.metrics.txsFinalized.WithLabelValues("rejected").Add(float64(rejected))
	if !ev.lastFinal.IsZero() {
		if d := at.Sub(ev.lastFinal).Seconds(); d > 0 {
			ev.metrics.txsPerSecond.Set(float64(len(b.Txs)) / d)
		}
	}
	ev.lastFinal = at
	if ev.recent != nil {
		ev.recent.put(h.Height, res.Receipts)
	}
	ev.publish(rpc.TopicFinalized, finalizedEvent(b, c, signedStake, totalStake, at))
	for _, te := range txEvents(b, res.Receipts) {
		ev.publish(rpc.TopicTxs, te)
	}
}

func (ev *events) ValidatorsChanged(height uint64, set *staking.ValidatorSet) {
	ev.publish(rpc.TopicValidators, rpc.ValidatorsEvent{ValidatorsResult: validatorsResult(height, set)})
}

func (ev *events) Stepped(rs consensus.RoundState) { ev.metrics.round.Set(float64(rs.Round)) }

func finalizedEvent(b *chain.Block, c *chain.Certificate, signedStake, totalStake uint64, at time.Time) rpc.FinalizedEvent {
	h := &b.Header
	return rpc.FinalizedEvent{
		Height: h.Height, Hash: h.Hash(), ParentHash: h.ParentHash, Time: time.UnixMilli(int64(h.Time)).UTC(),
		Proposer: h.Proposer, Round: c.Round, TxCount: len(b.Txs), StateHash: h.StateHash,
		Certificate: rpc.CertificateResult{Round: c.Round, SignedStake: rpc.Amount(signedStake), TotalStake: rpc.Amount(totalStake), Signers: c.Signers()},
		FinalizedAt: at.UTC(),
	}
}

func txEvents(b *chain.Block, receipts []chain.Receipt) []rpc.TxEvent {
	out := make([]rpc.TxEvent, len(receipts))
	height := b.Header.Height
	for i := range receipts {
		r := &receipts[i]
		out[i] = rpc.TxEvent{TxResult: txResult(r, height), Addresses: []chain.Address{r.From, b.Txs[i].To}}
	}
	return out
}

func txResult(r *chain.Receipt, height uint64) rpc.TxResult {
	h := height
	fee := rpc.Amount(r.Fee)
	res := rpc.TxResult{Hash: r.TxHash, Status: "final", Height: &h, Fee: &fee}
	if r.Status == chain.TxRejected {
		res.Status, res.Code, res.Error = "rejected", r.Code, r.Error
	}
	return res
}

func validatorsResult(height uint64, set *staking.ValidatorSet) rpc.ValidatorsResult {
	vals := set.Validators()
	out := rpc.ValidatorsResult{Height: height, TotalStake: rpc.Amount(set.TotalStake()), QuorumStake: rpc.Amount(set.QuorumStake()),
		Validators: make([]rpc.ValidatorResult, len(vals))}
	for i, v := range vals {
		out.Validators[i] = rpc.ValidatorResult{Address: v.Address, Stake: rpc.Amount(v.Stake), ProposerPriority: v.ProposerPriority}
	}
	return out
}

func (ev *events) Rejected(in consensus.Input, _ error, replay bool) {
	kind := "other"
	switch in.(type) {
	case consensus.VoteReceived:
		kind = "vote"
	case consensus.ProposalReceived:
		kind = "proposal"
	case consensus.CommitReceived:
		kind = "commit"
	}
	ev.metrics.rejected.WithLabelValues(kind, strconv.FormatBool(replay)).Inc()
}
