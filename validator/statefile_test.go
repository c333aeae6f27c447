package validator

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
)

// signStep is one signature of a scripted signer.
type signStep struct {
	height uint64
	round  uint32
	step   SignStep
	digest chain.Hash
}

// tornScript is signed in order; the test tears the write of each record.
var tornScript = []signStep{
	{5, 0, StepPrevote, chain.Hash{0xa1}},
	{5, 0, StepPrecommit, chain.Hash{0xa1}},
	{5, 1, StepPrevote, chain.Hash{0xb2}},
	{6, 0, StepProposal, chain.Hash{0xc3}},
	{6, 0, StepPrevote, chain.Hash{0xc3}},
}

// memoryTempDir is a temporary directory on /dev/shm when there is one:
// the torn-write test fsyncs thousands of times, which costs nothing on
// tmpfs. Elsewhere it is t.TempDir().
func memoryTempDir(t *testing.T) string {
	t.Helper()
	if info, err := os.Stat("/dev/shm"); err == nil && info.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "quorumchain-guard-"); err == nil {
			t.Cleanup(func() {
				if err := os.RemoveAll(dir); err != nil {
					t.Error(err)
				}
			})
			return dir
		}
	}
	return t.TempDir()
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFileStateTornWriteAtEveryOffset tears the write of each record of
// tornScript at every byte offset, both ways (the first k bytes reached the
// disk, or all but the first k), restarts from the torn file and checks
// that the signer starts, never signs anything conflicting with what it
// had released, and can go on signing.
func TestFileStateTornWriteAtEveryOffset(t *testing.T) {
	k := testKey(t, 7)
	sign := func(h chain.Hash) (chain.Signature, error) { return chain.Sign(k, h) }
	dir := memoryTempDir(t)
	path := filepath.Join(dir, "signer_state.json")
	g, err := NewGuard(FileState{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	released := make([]chain.Signature, len(tornScript))
	if released[0], err = g.Sign(tornScript[0].height, tornScript[0].round, tornScript[0].step, tornScript[0].digest, sign); err != nil {
		t.Fatal(err)
	}
	tornPath := filepath.Join(dir, "torn.json")
	cases := 0
	for n := 1; n < len(tornScript); n++ {
		prev, next := tornScript[n-1], tornScript[n]
		before := readFile(t, path)
		if released[n], err = g.Sign(next.height, next.round, next.step, next.digest, sign); err != nil {
			t.Fatal(err)
		}
		after := readFile(t, path)
		if len(before) != len(after) {
			t.Fatalf("record %d: file size changed from %d to %d", n, len(before), len(after))
		}
		lo := 0
		for lo < len(after) && before[lo] == after[lo] {
			lo++
		}
		hi := len(after)
		for hi > lo && before[hi-1] == after[hi-1] {
			hi--
		}
		if hi-lo > stateSlotSize {
			t.Fatalf("record %d: save rewrote bytes %d..%d, more than one slot", n, lo, hi)
		}
		for cut := lo; cut <= hi; cut++ {
			for _, prefix := range []bool{true, false} {
				torn := bytes.Clone(before)
				if prefix {
					copy(torn[lo:cut], after[lo:cut])
				} else {
					copy(torn[cut:hi], after[cut:hi])
				}
				complete := bytes.Equal(torn, after)
				if err := os.WriteFile(tornPath, torn, 0o600); err != nil {
					t.Fatal(err)
				}
				checkRestart(t, tornPath, prev, next, released[n-1], released[n], complete, n, cut, prefix)
				cases++
			}
		}
	}
	if cases < 4*stateSlotSize {
		t.Fatalf("only %d torn files checked", cases)
	}
}

// checkRestart restarts a Guard from a torn file. prev was released with
// sig prevSig; next's write was torn (complete: it was not).
func checkRestart(t *testing.T, path string, prev, next signStep, prevSig, nextSig chain.Signature, complete bool, n, cut int, prefix bool) {
	t.Helper()
	key := testKey(t, 7)
	sign := func(h chain.Hash) (chain.Signature, error) { return chain.Sign(key, h) }
	where := func() string {
		half := "suffix"
		if prefix {
			half = "prefix"
		}
		return fmt.Sprintf("record %d torn at byte %d (%s written)", n, cut, half)
	}
	g, err := NewGuard(FileState{Path: path})
	if err != nil {
		t.Fatalf("%s: restart failed: %v", where(), err)
	}
	last := g.Last()
	switch {
	case last.Height == prev.height && last.Round == prev.round && last.Step == prev.step && last.SignHash == prev.digest:
		if last.Signature != prevSig {
			t.Fatalf("%s: restored record has another signature", where())
		}
	case complete && last.Height == next.height && last.Round == next.round && last.Step == next.step && last.SignHash == next.digest:
		if last.Signature != nextSig {
			t.Fatalf("%s: restored record has another signature", where())
		}
	default:
		t.Fatalf("%s: restored %+v, want the previous record %+v (or the new one if the write completed)", where(), last, prev)
	}
	// The released prev can never be contradicted.
	if _, err := g.Sign(prev.height, prev.round, prev.step, chain.Hash{0xee}, sign); !errors.Is(err, ErrConflict) && !errors.Is(err, ErrRegression) {
		t.Fatalf("%s: signed a conflict with the released record: %v", where(), err)
	}
	// Signing goes on: the torn (unreleased) record may be replaced, and
	// the file takes the new record.
	alt := chain.Hash{0xdd}
	if complete {
		alt = next.digest
	}
	sig, err := g.Sign(next.height, next.round, next.step, alt, sign)
	if err != nil {
		t.Fatalf("%s: signing after restart: %v", where(), err)
	}
	g2, err := NewGuard(FileState{Path: path})
	if err != nil {
		t.Fatalf("%s: second restart: %v", where(), err)
	}
	if got := g2.Last(); got.SignHash != alt || got.Signature != sig {
		t.Fatalf("%s: after second restart last is %+v, want digest %x", where(), got, alt)
	}
}

func TestFileStateRefusesBothSlotsCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signer_state.json")
	g, err := NewGuard(FileState{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	k := testKey(t, 8)
	sign := func(h chain.Hash) (chain.Signature, error) { return chain.Sign(k, h) }
	if _, err := g.Sign(3, 0, StepPrevote, chain.Hash{1}, sign); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Sign(3, 0, StepPrecommit, chain.Hash{1}, sign); err != nil {
		t.Fatal(err)
	}
	b := readFile(t, path)
	b[stateSlot0+20] ^= 0x01
	b[stateSlot1+20] ^= 0x01
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewGuard(FileState{Path: path}); !errors.Is(err, ErrStateCorrupt) {
		t.Fatalf("both slots damaged: got %v, want %v", err, ErrStateCorrupt)
	}
}

func TestFileStateReadsLegacyRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signer_state.json")
	k := testKey(t, 9)
	digest := chain.Hash{0x42}
	sig, err := chain.Sign(k, digest)
	if err != nil {
		t.Fatal(err)
	}
	legacy := []byte(`{"height":"12","round":1,"step":3,"signHash":"` + chain.FormatHash(digest) + `","signature":"` + encodeHex(sig[:]) + `"}`)
	legacy = append(legacy, bytes.Repeat([]byte{' '}, legacyFileSize-1-len(legacy))...)
	legacy = append(legacy, '\n')
	if err := os.WriteFile(path, legacy, 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := NewGuard(FileState{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if last := g.Last(); last.Height != 12 || last.Round != 1 || last.Step != StepPrecommit || last.Signature != sig {
		t.Fatalf("legacy record read as %+v", last)
	}
	signFn := func(h chain.Hash) (chain.Signature, error) { return chain.Sign(k, h) }
	if _, err := g.Sign(12, 1, StepPrecommit, chain.Hash{0x43}, signFn); !errors.Is(err, ErrConflict) {
		t.Fatalf("conflict with the legacy record: %v", err)
	}
	if _, err := g.Sign(13, 0, StepPrevote, chain.Hash{0x44}, signFn); err != nil {
		t.Fatal(err)
	}
	if b := readFile(t, path); len(b) != stateFileSize {
		t.Fatalf("legacy file not rewritten in the slot format: %d bytes", len(b))
	}
	g2, err := NewGuard(FileState{Path: path})
	if err != nil || g2.Last().Height != 13 {
		t.Fatalf("after migration: %+v (%v)", g2.Last(), err)
	}
}
