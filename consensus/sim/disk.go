package sim

import (
	"github.com/quorumchain/quorumchain/chain/store"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/engine/wal"
	"github.com/quorumchain/quorumchain/internal/crashfile"
	"github.com/quorumchain/quorumchain/validator"
)

// disk is what an honest validator keeps across crashes: the chain store,
// the signer's record and the consensus log file. The store commits a
// block atomically and the signer's record is replaced atomically, as
// their production backends do, so a crash keeps or loses each such write
// whole. The log is the node's own (engine/wal) over a simulated file
// whose unsynced writes a crash loses, keeps in part, or tears with
// garbage (internal/crashfile), so the log's recovery of a torn tail runs
// at every restart.
type disk struct {
	store  *store.Store
	signer *validator.MemoryState
	file   *crashfile.File
	log    *wal.Log // the running process's handle on file
}

func newDisk(st *store.Store) *disk {
	return &disk{store: st, signer: &validator.MemoryState{}, file: crashfile.New(nil)}
}

// crash leaves on the log file what a crash could leave of it.
func (d *disk) crash(s *sim) {
	d.file.Crash(s.rng)
	d.log = nil
}

// restart opens the log for a new process.
func (d *disk) restart(*sim) { d.log = wal.New(d.file) }

// logOf is the consensus log as the driver sees it: the node's log, each
// write behind fault points.
type logOf struct{ n *node }

func (l logOf) Append(h uint64, in consensus.Input) error {
	if err := l.n.fault(true); err != nil {
		return err
	}
	return l.n.disk.log.Append(h, in)
}

func (l logOf) Sync() error {
	if err := l.n.fault(true); err != nil {
		return err
	}
	if err := l.n.disk.log.Sync(); err != nil {
		return err
	}
	return l.n.fault(false)
}

func (l logOf) Reset(committed uint64) error {
	if err := l.n.fault(true); err != nil {
		return err
	}
	if err := l.n.disk.log.Reset(committed); err != nil {
		return err
	}
	return l.n.fault(false)
}

func (l logOf) ReadAll(h uint64) ([]consensus.Input, error) { return l.n.disk.log.ReadAll(h) }
