package sim

import (
	"github.com/quorumchain/quorumchain/chain/store"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/validator"
)

// disk is what an honest validator keeps across crashes: the chain store,
// the signer's record and the consensus log. The store commits a block
// atomically and the signer's record is replaced atomically (as their
// production backends do), so a crash keeps or loses each such write
// whole; the log loses whatever was appended after its last Sync.
type disk struct {
	store  *store.Store
	signer *validator.MemoryState
	synced []logRecord
	// pending are the records appended since the last Sync, lost in a crash.
	pending []logRecord
}

type logRecord struct {
	height uint64
	in     consensus.Input
}

// crash drops what a crash loses.
func (d *disk) crash(*sim) { d.pending = nil }

// restart prepares the disk for a new process.
func (d *disk) restart(*sim) {}

// logged counts the log records of height h.
func (d *disk) logged(h uint64) int {
	k := 0
	for _, r := range d.synced {
		if r.height == h {
			k++
		}
	}
	return k
}

// logOf is the consensus log as the driver sees it; every write passes a
// fault point.
type logOf struct{ n *node }

func (l logOf) Append(h uint64, in consensus.Input) error {
	if err := l.n.fault(true); err != nil {
		return err
	}
	d := l.n.disk
	d.pending = append(d.pending, logRecord{h, in})
	return nil
}

func (l logOf) Sync() error {
	if err := l.n.fault(true); err != nil {
		return err
	}
	d := l.n.disk
	d.synced = append(d.synced, d.pending...)
	d.pending = nil
	return l.n.fault(false)
}

func (l logOf) Reset(committed uint64) error {
	if err := l.n.fault(true); err != nil {
		return err
	}
	d := l.n.disk
	var keep []logRecord
	for _, r := range append(d.synced, d.pending...) {
		if r.height > committed {
			keep = append(keep, r)
		}
	}
	d.synced, d.pending = keep, nil
	return nil
}

func (l logOf) ReadAll(h uint64) ([]consensus.Input, error) {
	var out []consensus.Input
	for _, r := range l.n.disk.synced {
		if r.height == h {
			out = append(out, r.in)
		}
	}
	for _, r := range l.n.disk.pending {
		if r.height == h {
			out = append(out, r.in)
		}
	}
	return out, nil
}
