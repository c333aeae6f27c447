package node

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/quorumchain/quorumchain/p2p"
)

// metrics are the node's Prometheus metrics, in its own registry (served at
// GET /metrics).
type metrics struct {
	registry *prometheus.Registry

	height          prometheus.Gauge
	round           prometheus.Gauge
	rounds          prometheus.Histogram // rounds needed per height
	votes           *prometheus.CounterVec
	peers           prometheus.Gauge
	mempoolSize     prometheus.Gauge
	finalityLatency prometheus.Histogram // block time → local finalization
	txsFinalized    *prometheus.CounterVec
	blockTxs        prometheus.Histogram
	txsPerSecond    prometheus.Gauge
	inboxDropped    prometheus.Counter
	txGossipDropped prometheus.Counter
	evidence        prometheus.Counter
	rejected        *prometheus.CounterVec
	fsyncs          *prometheus.CounterVec // by file: wal, signer, store
}

func newMetrics() *metrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &metrics{
		registry: r,
		height:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "quorumchain_height", Help: "Latest final height."}),
		round:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "quorumchain_consensus_round", Help: "Current consensus round."}),
		rounds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "quorumchain_consensus_rounds_per_height",
			Help: "Rounds needed to finalize a height (0 = first round).", Buckets: []float64{0, 1, 2, 3, 5, 8}}),
		votes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "quorumchain_consensus_votes_total",
			Help: "Votes counted, by type."}, []string{"type"}),
		peers:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "quorumchain_p2p_peers", Help: "Connected peers."}),
		mempoolSize: prometheus.NewGauge(prometheus.GaugeOpts{Name: "quorumchain_mempool_size", Help: "Pending transactions."}),
		finalityLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "quorumchain_finality_latency_seconds",
			Help:    "From a block's header time to its finalization on this node.",
			Buckets: []float64{.005, .01, .02, .03, .05, .075, .1, .2, .3, .5, 1, 2, 5}}),
		txsFinalized: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "quorumchain_txs_finalized_total",
			Help: "Transactions in final blocks, by status (accepted or rejected)."}, []string{"status"}),
		blockTxs: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "quorumchain_block_txs",
			Help: "Transactions per final block.", Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
		txsPerSecond: prometheus.NewGauge(prometheus.GaugeOpts{Name: "quorumchain_txs_per_second",
			Help: "Transactions finalized per second over the last final block interval."}),
		inboxDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "quorumchain_consensus_inbox_dropped_total",
			Help: "Peer messages dropped because their lane of the consensus inbox was full."}),
		txGossipDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "quorumchain_tx_gossip_dropped_total",
			Help: "Locally submitted transactions not gossiped because the gossip queue was full."}),
		evidence: prometheus.NewCounter(prometheus.CounterOpts{Name: "quorumchain_evidence_total",
			Help: "Double signs detected."}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "quorumchain_consensus_rejected_inputs_total",
			Help: "Inputs the consensus Machine rejected, by kind (vote, proposal, commit, other) and whether during WAL replay."}, []string{"kind", "replay"}),
		fsyncs: newFsyncCounter(),
	}
	r.MustRegister(m.height, m.round, m.rounds, m.votes, m.peers, m.mempoolSize, m.finalityLatency,
		m.txsFinalized, m.blockTxs, m.txsPerSecond, m.inboxDropped, m.txGossipDropped, m.evidence, m.rejected, m.fsyncs)
	return m
}

// gaugeInterval is how often sampled gauges are refreshed.
const gaugeInterval = time.Second

// updateGauges refreshes gauges that are sampled rather than event-driven.
func (n *Node) updateGauges(ctx context.Context) error {
	t := time.NewTicker(gaugeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			n.metrics.mempoolSize.Set(float64(n.mempool.Size()))
			n.metrics.peers.Set(float64(len(n.sw.Peers())))
		}
	}
}

// registerP2P exposes the Switch's traffic (messages and bytes each way,
// gossip copies that arrived again or were not sent because the peer had
// them) and its defence counters: what the per-peer budgets and send
// queues dropped, and the bans.
func (m *metrics) registerP2P(stats func() p2p.Stats) {
	counters := []struct {
		name, help string
		value      func(p2p.Stats) uint64
	}{
		{"quorumchain_p2p_messages_sent_total", "Messages written to peers.", func(s p2p.Stats) uint64 { return s.MessagesSent }},
		{"quorumchain_p2p_messages_received_total", "Messages read from peers.", func(s p2p.Stats) uint64 { return s.MessagesReceived }},
		{"quorumchain_p2p_sent_bytes_total", "Bytes written to peers.", func(s p2p.Stats) uint64 { return s.BytesSent }},
		{"quorumchain_p2p_received_bytes_total", "Bytes read from peers.", func(s p2p.Stats) uint64 { return s.BytesReceived }},
		{"quorumchain_p2p_duplicates_dropped_total", "Gossip messages received again (from another peer, or our own coming back) and dropped before decoding.",
			func(s p2p.Stats) uint64 { return s.DuplicatesDropped }},
		{"quorumchain_p2p_known_skipped_total", "Gossip messages not sent to a peer that already had them.", func(s p2p.Stats) uint64 { return s.KnownSkipped }},
		{"quorumchain_p2p_budget_dropped_total", "Peer messages dropped for exceeding their class's per-peer budget.", func(s p2p.Stats) uint64 { return s.BudgetDropped }},
		{"quorumchain_p2p_send_dropped_total", "Outgoing messages dropped because a peer's send queue was full.", func(s p2p.Stats) uint64 { return s.SendDropped }},
		{"quorumchain_p2p_bans_total", "Peers banned (bad data, bad signatures, exceeded budgets).", func(s p2p.Stats) uint64 { return s.Bans }},
	}
	for _, c := range counters {
		m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help},
			func() float64 { return float64(c.value(stats())) }))
	}
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "quorumchain_p2p_send_queued_bytes",
		Help: "Bytes waiting in the peers' send queues."}, func() float64 { return float64(stats().SendQueuedBytes) }))
}

// registerFaults exposes the test network fault layer: the faults active
// now, and the messages it delayed and dropped (all zero without
// p2p.testnet_faults).
func (m *metrics) registerFaults(f *faultControl) {
	m.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "quorumchain_testnet_faults_active",
			Help: "Faults injected into this node by its test network (partition, delay, drop, byzantine)."},
			func() float64 { return float64(f.active()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "quorumchain_testnet_fault_delayed_messages_total",
			Help: "Outgoing peer messages held back by an injected delay."},
			func() float64 { return float64(f.stats().Delayed) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "quorumchain_testnet_fault_dropped_messages_total",
			Help: "Peer messages dropped by an injected fault (drop rate, partition, full delay queue)."},
			func() float64 { return float64(f.stats().Dropped) }),
	)
}
