package validator

import "sync"

// WriterFileState is FileState for the file's only writer (a node's own
// signer, or `quorumchain vote`): after its first read or save it knows
// which slot holds the current record and under what sequence number, so
// a save is one write in place and one fsync, without reading the file
// first. The on-disk format and the guarantees are FileState's. A save
// that fails leaves the file's state unknown, so the next one reads it
// again. It is safe for concurrent use.
type WriterFileState struct {
	file FileState

	mu  sync.Mutex
	cur *stateCursor // nil: unknown, read the file
}

// stateCursor is the current record's place in the file.
type stateCursor struct {
	seq  uint64
	slot int
}

// NewWriterFileState returns the state in the file at path.
func NewWriterFileState(path string) *WriterFileState {
	return &WriterFileState{file: FileState{Path: path}}
}

// Load implements StateStore.
func (w *WriterFileState) Load() (LastSigned, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st, err := w.file.read()
	if err != nil {
		return LastSigned{}, err
	}
	w.remember(st)
	return st.last, nil
}

// Save implements StateStore: it returns once l is on stable storage.
func (w *WriterFileState) Save(l LastSigned) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cur == nil {
		st, err := w.file.read()
		if err != nil {
			return err
		}
		if !st.exists || st.legacy {
			if err := w.file.create(l); err != nil {
				return err
			}
			w.cur = &stateCursor{seq: 1, slot: 0} // create's layout
			return nil
		}
		w.remember(st)
	}
	next := stateCursor{seq: w.cur.seq + 1, slot: 1 - w.cur.slot}
	if err := w.file.writeSlot(next.seq, next.slot, l); err != nil {
		w.cur = nil
		return err
	}
	w.cur = &next
	return nil
}

// remember keeps the place of a two-slot file's current record.
func (w *WriterFileState) remember(st stateFile) {
	if st.exists && !st.legacy {
		w.cur = &stateCursor{seq: st.seq, slot: st.slot}
	} else {
		w.cur = nil
	}
}
