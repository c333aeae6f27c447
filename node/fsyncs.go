package node

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quorumchain/quorumchain/chain/store"
	"github.com/quorumchain/quorumchain/engine"
	"github.com/quorumchain/quorumchain/validator"
)

// The node's durable writes on the consensus path each end in one fsync:
// the write-ahead log's Sync before every signature, the signer's record of
// what it signed, and the store's synced batch of each final block. They
// are counted by file in quorumchain_fsyncs_total so that fsyncs per height
// can be read off the node (`quorumchain bench` reports them).

// Labels of quorumchain_fsyncs_total.
const (
	fsyncWAL    = "wal"
	fsyncSigner = "signer"
	fsyncStore  = "store"
)

func newFsyncCounter() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "quorumchain_fsyncs_total",
		Help: "fsyncs on the consensus path, by file: wal (before each signature), signer (its double-sign record), store (each final block)."},
		[]string{"file"})
	for _, f := range []string{fsyncWAL, fsyncSigner, fsyncStore} {
		c.WithLabelValues(f) // present from the start, at zero
	}
	return c
}

// syncCountingLog counts the Syncs of the driver's write-ahead log.
type syncCountingLog struct {
	engine.Log
	syncs prometheus.Counter
}

func (l syncCountingLog) Sync() error {
	l.syncs.Inc()
	return l.Log.Sync()
}

// commitCountingStore counts the synced block commits of the driver's store.
type commitCountingStore struct {
	engine.Store
	syncs prometheus.Counter
}

func (s commitCountingStore) CommitBlock(fb *store.FinalBlock) error {
	s.syncs.Inc()
	return s.Store.CommitBlock(fb)
}

// saveCountingState counts the saves of the signer's double-sign record.
type saveCountingState struct {
	validator.StateStore
	syncs prometheus.Counter
}

func (s saveCountingState) Save(l validator.LastSigned) error {
	s.syncs.Inc()
	return s.StateStore.Save(l)
}
