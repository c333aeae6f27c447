package validator

import (
	"path/filepath"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
)

// BenchmarkFileStateSave is the cost of persisting one signature: one
// slot write and one fsync (on the test's temporary directory).
func BenchmarkFileStateSave(b *testing.B) {
	benchSave(b, FileState{Path: filepath.Join(b.TempDir(), "signer_state.json")})
}

// BenchmarkWriterFileStateSave is the same through WriterFileState, which
// does not read the file before each write.
func BenchmarkWriterFileStateSave(b *testing.B) {
	benchSave(b, NewWriterFileState(filepath.Join(b.TempDir(), "signer_state.json")))
}

// benchSave saves a record one height later than the last, each time.
func benchSave(b *testing.B, s StateStore) {
	l := LastSigned{Height: 1, Step: StepPrevote, SignHash: chain.Hash{1}}
	b.ReportAllocs()
	for b.Loop() {
		l.Height++
		if err := s.Save(l); err != nil {
			b.Fatal(err)
		}
	}
}
