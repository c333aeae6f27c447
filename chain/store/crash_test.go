package store

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

var errCrash = errors.New("simulated crash")

// failAt returns a fail point hook that fails at point only.
func failAt(point string) func(string) error {
	return func(p string) error {
		if p == point {
			return errCrash
		}
		return nil
	}
}

// checkConsistentAt checks that the store holds exactly heights 1..h of the
// fixture: nothing of the blocks above h, and the ledger state of h.
func checkConsistentAt(t *testing.T, s *Store, f *fixture, h uint64) {
	t.Helper()
	if s.Height() != h {
		t.Fatalf("Height() = %d, want %d", s.Height(), h)
	}
	for i := uint64(1); i <= h; i++ {
		checkHeight(t, s, f, i)
	}
	checkState(t, s, f, h)
	for lost := h + 1; lost < uint64(len(f.finals)); lost++ {
		fb := f.finals[lost]
		if _, err := s.Block(lost); !errors.Is(err, ErrNotFound) {
			t.Errorf("block %d of the lost commit: err = %v, want ErrNotFound", lost, err)
		}
		if _, err := s.BlockByHash(fb.Block.Hash()); !errors.Is(err, ErrNotFound) {
			t.Errorf("hash index of lost block %d: err = %v, want ErrNotFound", lost, err)
		}
		if _, err := s.Certificate(lost); !errors.Is(err, ErrNotFound) {
			t.Errorf("certificate %d of the lost commit: err = %v, want ErrNotFound", lost, err)
		}
		if _, err := s.StateHash(lost); !errors.Is(err, ErrNotFound) {
			t.Errorf("state hash %d of the lost commit: err = %v, want ErrNotFound", lost, err)
		}
		if _, err := s.ValidatorSet(lost + 1); !errors.Is(err, ErrNotFound) {
			t.Errorf("validator set %d of the lost commit: err = %v, want ErrNotFound", lost+1, err)
		}
		for i, tx := range fb.Block.Txs {
			if _, err := s.Tx(tx.Hash()); !errors.Is(err, ErrNotFound) {
				t.Errorf("tx %d of lost block %d is indexed: err = %v", i, lost, err)
			}
		}
	}
}

// TestFailBeforeWrite interrupts a commit after its batch is built and
// before it is written, then reopens the store.
func TestFailBeforeWrite(t *testing.T) {
	for _, backend := range []string{BackendMemDB, BackendGoLevelDB} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			f := newFixture(t, 8)
			s := openStore(t, dir, backend)
			f.initStore(s)
			mustCommit(t, s, f.next(4))
			mustCommit(t, s, f.next(4))
			fb := f.next(6)

			s.SetFailPoint(failAt(FailBeforeWrite))
			if err := s.CommitBlock(fb); !errors.Is(err, errCrash) {
				t.Fatalf("CommitBlock with a fail point = %v, want the simulated crash", err)
			}
			checkConsistentAt(t, s, f, 2)
			if backend == BackendGoLevelDB {
				closeStore(t, s)
				s = openStore(t, dir, backend)
				checkConsistentAt(t, s, f, 2)
			}
			s.SetFailPoint(nil)
			mustCommit(t, s, fb) // the block can be committed again
			checkConsistentAt(t, s, f, 3)
			closeStore(t, s)
		})
	}
}

// TestFailAfterWrite interrupts a commit after its batch is durably written.
func TestFailAfterWrite(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, 8)
	s := openStore(t, dir, BackendGoLevelDB)
	f.initStore(s)
	mustCommit(t, s, f.next(4))
	s.SetFailPoint(failAt(FailAfterWrite))
	if err := s.CommitBlock(f.next(5)); !errors.Is(err, errCrash) {
		t.Fatalf("CommitBlock with a fail point = %v, want the simulated crash", err)
	}
	checkConsistentAt(t, s, f, 2)
	closeStore(t, s)
	s = openStore(t, dir, BackendGoLevelDB)
	defer closeStore(t, s)
	checkConsistentAt(t, s, f, 2)
}

// crashEnv names the directory and fail point of TestCrashProcessChild.
const (
	crashDirEnv   = "QUORUMCHAIN_STORE_CRASH_DIR"
	crashPointEnv = "QUORUMCHAIN_STORE_CRASH_POINT"
	crashExitCode = 3
)

// TestCrashProcess kills a real process at each fail point of its third
// commit, without closing the database, and checks what a reopened store
// holds: the previous height and nothing of the lost block, or the whole
// block.
func TestCrashProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	for point, want := range map[string]uint64{FailBeforeWrite: 2, FailAfterWrite: 3} {
		t.Run(point, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashProcessChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashPointEnv+"="+point)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != crashExitCode {
				t.Fatalf("child: %v, want exit code %d; output:\n%s", err, crashExitCode, out)
			}
			f := newFixture(t, 8)
			crashChain(f)
			s := openStore(t, dir, BackendGoLevelDB)
			defer closeStore(t, s)
			checkConsistentAt(t, s, f, want)
		})
	}
}

// crashChain builds the three blocks the crash child commits.
func crashChain(f *fixture) []*FinalBlock {
	return []*FinalBlock{f.next(4), f.next(4), f.next(6)}
}

// TestCrashProcessChild is the process TestCrashProcess kills: it commits
// two blocks, then dies at the fail point of the third commit.
func TestCrashProcessChild(t *testing.T) {
	dir, point := os.Getenv(crashDirEnv), os.Getenv(crashPointEnv)
	if dir == "" {
		t.Skip("run by TestCrashProcess")
	}
	f := newFixture(t, 8)
	blocks := crashChain(f)
	s := openStore(t, dir, BackendGoLevelDB)
	f.initStore(s)
	mustCommit(t, s, blocks[0])
	mustCommit(t, s, blocks[1])
	s.SetFailPoint(func(p string) error {
		if p == point {
			os.Exit(crashExitCode) // die without closing the database
		}
		return nil
	})
	err := s.CommitBlock(blocks[2])
	fmt.Fprintf(os.Stderr, "fail point %q never fired: CommitBlock = %v\n", point, err)
	os.Exit(1)
}
