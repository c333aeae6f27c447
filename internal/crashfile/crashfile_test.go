package crashfile

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// The file behaves as an os.File does for every operation a log uses: the
// same random sequence of writes, reads, seeks and truncations, run on
// both, gives the same results and contents.
func TestMatchesOSFile(t *testing.T) {
	osf, err := os.OpenFile(filepath.Join(t.TempDir(), "f"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer osf.Close()
	mem := new(File)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		switch r.IntN(6) {
		case 0, 1:
			p := make([]byte, r.IntN(300))
			for j := range p {
				p[j] = byte(r.Uint32())
			}
			n1, err1 := osf.Write(p)
			n2, err2 := mem.Write(p)
			if n1 != n2 || (err1 == nil) != (err2 == nil) {
				t.Fatalf("op %d write: os %d %v, mem %d %v", i, n1, err1, n2, err2)
			}
		case 2:
			n := 1 + r.IntN(400)
			p1, p2 := make([]byte, n), make([]byte, n)
			n1, err1 := osf.Read(p1)
			n2, err2 := mem.Read(p2)
			if n1 != n2 || err1 != err2 || !bytes.Equal(p1[:n1], p2[:n2]) {
				t.Fatalf("op %d read: os %d %v, mem %d %v", i, n1, err1, n2, err2)
			}
		case 3:
			whence := r.IntN(3)
			off := int64(r.IntN(2000)) - 1000
			o1, err1 := osf.Seek(off, whence)
			o2, err2 := mem.Seek(off, whence)
			if (err1 == nil) != (err2 == nil) || err1 == nil && o1 != o2 {
				t.Fatalf("op %d seek(%d, %d): os %d %v, mem %d %v", i, off, whence, o1, err1, o2, err2)
			}
			if err1 != nil && !errors.Is(err2, ErrNegative) {
				t.Fatalf("op %d seek(%d, %d): mem error %v, want ErrNegative", i, off, whence, err2)
			}
		case 4:
			size := int64(r.IntN(3000))
			if err1, err2 := osf.Truncate(size), mem.Truncate(size); err1 != nil || err2 != nil {
				t.Fatalf("op %d truncate(%d): os %v, mem %v", i, size, err1, err2)
			}
		case 5:
			if err := mem.Sync(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(mem.Durable(), mem.Bytes()) {
				t.Fatalf("op %d: after sync the durable image differs from the current one", i)
			}
		}
	}
	want, err := os.ReadFile(osf.Name())
	if err != nil {
		t.Fatal(err)
	}
	if got := mem.Bytes(); !bytes.Equal(got, want) {
		t.Fatalf("contents differ: mem %d bytes, os %d bytes", len(got), len(want))
	}
	if err := mem.Truncate(-1); !errors.Is(err, ErrNegative) {
		t.Fatalf("truncate(-1): %v, want ErrNegative", err)
	}
}

func mustWrite(t *testing.T, f *File, p []byte) {
	t.Helper()
	if _, err := f.Write(p); err != nil {
		t.Fatal(err)
	}
}

func pattern(n int, seed byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = seed + byte(i*7)
	}
	return p
}

// Every crash mode is reached, and each leaves what it should: the durable
// image, a prefix of the current one no shorter than their common prefix,
// or such a prefix with garbage in the unsynced part only.
func TestCrashModes(t *testing.T) {
	synced, unsynced := pattern(100, 1), pattern(200, 50)
	cur := append(bytes.Clone(synced), unsynced...)
	var durableImage, tornWrite, tornSector int
	for seed := range uint64(300) {
		f := New(synced)
		if _, err := f.Seek(0, io.SeekEnd); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, f, unsynced)
		f.Crash(rand.New(rand.NewPCG(seed, 0)))
		got := f.Bytes()
		if !bytes.HasPrefix(got, synced) {
			t.Fatalf("seed %d: synced bytes lost: %d bytes left", seed, len(got))
		}
		switch {
		case bytes.Equal(got, synced):
			durableImage++
		case bytes.HasPrefix(cur, got):
			tornWrite++
		default:
			if len(got) > len(cur) {
				t.Fatalf("seed %d: %d bytes after a crash, %d ever written", seed, len(got), len(cur))
			}
			tornSector++
		}
		if !bytes.Equal(f.Durable(), got) {
			t.Fatalf("seed %d: the crash left contents that are not durable", seed)
		}
		if p, err := f.Seek(0, io.SeekCurrent); err != nil || p != 0 {
			t.Fatalf("seed %d: position %d (%v) after a crash, want 0", seed, p, err)
		}
	}
	t.Logf("durable image %d, torn write %d, torn sector %d", durableImage, tornWrite, tornSector)
	if durableImage == 0 || tornWrite == 0 || tornSector == 0 {
		t.Fatalf("a crash mode was never reached: durable image %d, torn write %d, torn sector %d", durableImage, tornWrite, tornSector)
	}
}

// A crash after Sync, or after changes that leave the contents as they
// were synced, loses nothing.
func TestCrashAfterSyncKeepsEverything(t *testing.T) {
	for seed := range uint64(100) {
		f := new(File)
		mustWrite(t, f, pattern(500, 3))
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		// Rewriting the same bytes changes nothing.
		if _, err := f.Seek(10, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, f, pattern(500, 3)[10:20])
		f.Crash(rand.New(rand.NewPCG(seed, 1)))
		if got := f.Bytes(); !bytes.Equal(got, pattern(500, 3)) {
			t.Fatalf("seed %d: a crash after sync changed the file (%d bytes)", seed, len(got))
		}
	}
}

// An unsynced truncation is lost in a crash or kept, never half-done, and
// data synced before it comes back when it is lost.
func TestCrashAfterUnsyncedTruncate(t *testing.T) {
	data := pattern(300, 9)
	var lost, kept int
	for seed := range uint64(100) {
		f := New(data)
		if err := f.Truncate(120); err != nil {
			t.Fatal(err)
		}
		f.Crash(rand.New(rand.NewPCG(seed, 2)))
		switch got := f.Bytes(); {
		case bytes.Equal(got, data):
			lost++
		case bytes.Equal(got, data[:120]):
			kept++
		default:
			t.Fatalf("seed %d: %d bytes after a crash, want the 300 synced or the 120 kept", seed, len(got))
		}
	}
	if lost == 0 || kept == 0 {
		t.Fatalf("truncation lost %d times, kept %d times: want both", lost, kept)
	}
}

// Whatever the history of writes, truncations, syncs and crashes, a crash
// leaves the durable image, or the common prefix of the durable and current
// images followed by part of the rest of the current image, possibly with
// garbage in that part; never a byte of the common prefix changed.
func TestCrashNeverLosesSyncedPrefix(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	f := new(File)
	crashes := 0
	for i := range 5000 {
		switch r.IntN(6) {
		case 0, 1:
			mustWrite(t, f, pattern(1+r.IntN(200), byte(i)))
		case 2:
			if _, err := f.Seek(int64(r.IntN(len(f.Bytes())+1)), io.SeekStart); err != nil {
				t.Fatal(err)
			}
		case 3:
			if err := f.Truncate(int64(r.IntN(len(f.Bytes()) + 1))); err != nil {
				t.Fatal(err)
			}
		case 4:
			if err := f.Sync(); err != nil {
				t.Fatal(err)
			}
		case 5:
			durable, cur := f.Durable(), f.Bytes()
			lcp := commonPrefix(durable, cur)
			f.Crash(r)
			crashes++
			got := f.Bytes()
			if bytes.Equal(got, durable) {
				continue
			}
			if len(got) < lcp || len(got) > len(cur) || !bytes.Equal(got[:lcp], cur[:lcp]) {
				t.Fatalf("op %d: crash left %d bytes from durable %d / current %d (common prefix %d)", i, len(got), len(durable), len(cur), lcp)
			}
		}
	}
	if crashes < 100 {
		t.Fatalf("only %d crashes", crashes)
	}
}

// The same history and seed give the same contents after a crash; other
// seeds give others.
func TestCrashIsDeterministic(t *testing.T) {
	run := func(seed uint64) []byte {
		f := New(pattern(64, 1))
		if _, err := f.Seek(0, io.SeekEnd); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, f, pattern(4096, 2))
		f.Crash(rand.New(rand.NewPCG(seed, 3)))
		return f.Bytes()
	}
	outcomes := map[string]bool{}
	for seed := range uint64(20) {
		a, b := run(seed), run(seed)
		if !bytes.Equal(a, b) {
			t.Fatalf("seed %d: two runs left %d and %d bytes", seed, len(a), len(b))
		}
		outcomes[string(a)] = true
	}
	if len(outcomes) < 2 {
		t.Fatalf("20 seeds gave %d distinct outcomes", len(outcomes))
	}
}

// A closed file refuses every operation; Reopen brings back the current
// contents at position 0, and a crash reopens it too.
func TestCloseReopen(t *testing.T) {
	f := new(File)
	mustWrite(t, f, []byte("abc"))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("x")); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	if _, err := f.Read(make([]byte, 1)); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if err := f.Sync(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("sync after close: %v", err)
	}
	if err := f.Close(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("second close: %v", err)
	}
	f.Reopen()
	b, err := io.ReadAll(f)
	if err != nil || string(b) != "abc" {
		t.Fatalf("after reopen read %q, %v", b, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	f.Crash(rand.New(rand.NewPCG(1, 1)))
	if _, err := f.Write([]byte("d")); err != nil {
		t.Fatalf("write after crash: %v", err)
	}
}
