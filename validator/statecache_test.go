package validator

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
)

// TestWriterFileStateWritesWhatFileStateWould: saves through the writer's
// remembered slot leave, byte for byte, the file FileState's read-first
// saves leave, whether the file was new, already there, or in the legacy
// format; and a failed save makes the next one read the file again.
func TestWriterFileStateWritesWhatFileStateWould(t *testing.T) {
	dir := memoryTempDir(t)
	plain, cached := FileState{Path: filepath.Join(dir, "plain.json")}, filepath.Join(dir, "cached.json")
	w := NewWriterFileState(cached)
	script := append(append([]signStep(nil), tornScript...), signStep{7, 2, StepPrecommit, chain.Hash{0xd4}})
	for i, s := range script {
		l := LastSigned{Height: s.height, Round: s.round, Step: s.step, SignHash: s.digest, Signature: chain.Signature{byte(i + 1)}}
		if err := plain.Save(l); err != nil {
			t.Fatal(err)
		}
		if err := w.Save(l); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(readFile(t, plain.Path), readFile(t, cached)) {
			t.Fatalf("after save %d the files differ:\nFileState: %s\nWriterFileState: %s", i, readFile(t, plain.Path), readFile(t, cached))
		}
		if got, err := (FileState{Path: cached}).Load(); err != nil || got != l {
			t.Fatalf("after save %d: Load %+v, %v; want %+v", i, got, err, l)
		}
		if i == 2 {
			// A second writer on an existing file learns its place by
			// reading it once.
			w = NewWriterFileState(cached)
		}
	}

	// The file goes away under the writer: the save fails, and the next
	// one reads again (finds nothing) and creates the file afresh.
	if err := os.Remove(cached); err != nil {
		t.Fatal(err)
	}
	l := LastSigned{Height: 9, Step: StepPrevote, SignHash: chain.Hash{0xe5}, Signature: chain.Signature{0xee}}
	if err := w.Save(l); err == nil {
		t.Fatal("save into a removed file succeeded")
	}
	if err := w.Save(l); err != nil {
		t.Fatalf("save after a failed one: %v", err)
	}
	if got, err := (FileState{Path: cached}).Load(); err != nil || got != l {
		t.Fatalf("after re-creation: Load %+v, %v; want %+v", got, err, l)
	}
	next := LastSigned{Height: 10, Step: StepPrevote, SignHash: chain.Hash{0xf6}, Signature: chain.Signature{0xff}}
	if err := w.Save(next); err != nil {
		t.Fatal(err)
	}
	if got, err := w.Load(); err != nil || got != next {
		t.Fatalf("Load %+v, %v; want %+v", got, err, next)
	}
}
