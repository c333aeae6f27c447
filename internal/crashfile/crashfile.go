package crashfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sync"
)

// ErrNegative is returned for a seek to a negative position and a
// truncation to a negative size.
var ErrNegative = errors.New("crashfile: negative position or size")

// File is an in-memory file with a page cache; see the package comment.
// The zero value is an empty, open file.
type File struct {
	mu      sync.Mutex
	cur     []byte // the current image: what reads see
	durable []byte // the image the last Sync made durable; never shares cur's array
	// same is how many leading bytes of cur are known to equal durable's:
	// no write or truncation reached below it since the last Sync.
	same   int64
	pos    int64
	closed bool
}

// New returns an open file whose current and durable contents are b.
func New(b []byte) *File {
	return &File{cur: bytes.Clone(b), durable: bytes.Clone(b), same: int64(len(b))}
}

// Read reads from the current image at the file position.
func (f *File) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, fmt.Errorf("crashfile: read: %w", os.ErrClosed)
	}
	if f.pos >= int64(len(f.cur)) {
		return 0, io.EOF
	}
	n := copy(p, f.cur[f.pos:])
	f.pos += int64(n)
	return n, nil
}

// Write writes to the current image at the file position, extending it
// (with zeros over any gap past the end) as needed.
func (f *File) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, fmt.Errorf("crashfile: write: %w", os.ErrClosed)
	}
	if len(p) == 0 {
		return 0, nil
	}
	f.same = min(f.same, f.pos, int64(len(f.cur)))
	end := f.pos + int64(len(p))
	if end > int64(len(f.cur)) {
		f.cur = append(f.cur, make([]byte, end-int64(len(f.cur)))...)
	}
	copy(f.cur[f.pos:], p)
	f.pos = end
	return len(p), nil
}

// Seek sets the file position as io.Seeker does; it may lie past the end.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, fmt.Errorf("crashfile: seek: %w", os.ErrClosed)
	}
	var base int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = f.pos
	case io.SeekEnd:
		base = int64(len(f.cur))
	default:
		return 0, fmt.Errorf("crashfile: seek: invalid whence %d", whence)
	}
	if base+offset < 0 {
		return 0, fmt.Errorf("crashfile: seek to %d: %w", base+offset, ErrNegative)
	}
	f.pos = base + offset
	return f.pos, nil
}

// Truncate changes the size of the current image, cutting it or extending
// it with zeros. The file position is unchanged, as for os.File.
func (f *File) Truncate(size int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return fmt.Errorf("crashfile: truncate: %w", os.ErrClosed)
	}
	if size < 0 {
		return fmt.Errorf("crashfile: truncate to %d: %w", size, ErrNegative)
	}
	f.same = min(f.same, size, int64(len(f.cur)))
	if size <= int64(len(f.cur)) {
		f.cur = f.cur[:size]
	} else {
		f.cur = append(f.cur, make([]byte, size-int64(len(f.cur)))...)
	}
	return nil
}

// Sync makes the current image durable.
func (f *File) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return fmt.Errorf("crashfile: sync: %w", os.ErrClosed)
	}
	// Only what changed since the last Sync is copied.
	k := min(f.same, int64(len(f.durable)), int64(len(f.cur)))
	f.durable = append(f.durable[:k], f.cur[k:]...)
	f.same = int64(len(f.cur))
	return nil
}

// Close closes the file: later calls but Reopen, Crash and Bytes fail with
// os.ErrClosed. Like closing an os.File it syncs nothing: the page cache
// keeps the current image.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return fmt.Errorf("crashfile: close: %w", os.ErrClosed)
	}
	f.closed = true
	return nil
}

// Reopen opens the file again after a clean shutdown, with the current
// image as it is (nothing is lost without a crash) and the position at 0.
func (f *File) Reopen() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = false
	f.pos = 0
}

// Bytes returns a copy of the current image.
func (f *File) Bytes() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bytes.Clone(f.cur)
}

// Durable returns a copy of the durable image: what the last Sync (or
// Crash, or New) left on the disk.
func (f *File) Durable() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bytes.Clone(f.durable)
}

// Crash replaces the contents with what a crash could leave (see the
// package comment), drawing every choice from r, so that the same r state
// and the same file give the same result. Afterwards the file is open, its
// position is 0, and the contents are durable: a restarted process finds
// them, and a second crash keeps them.
func (f *File) Crash(r *rand.Rand) {
	f.mu.Lock()
	defer f.mu.Unlock()
	known := min(f.same, int64(len(f.durable)), int64(len(f.cur)))
	f.cur = crashImage(f.durable, f.cur, int(known), r)
	f.durable = bytes.Clone(f.cur)
	f.same = int64(len(f.cur))
	f.pos = 0
	f.closed = false
}

// crashImage returns what a crash leaves of a disk whose last synced image
// is durable and whose page cache holds cur; their first known bytes are
// equal.
func crashImage(durable, cur []byte, known int, r *rand.Rand) []byte {
	if bytes.Equal(durable, cur) {
		return bytes.Clone(durable)
	}
	mode := r.IntN(3)
	if mode == 0 {
		return bytes.Clone(durable) // nothing unsynced reached the disk
	}
	lcp := known + commonPrefix(durable[known:], cur[known:])
	rest := len(cur) - lcp
	n := r.IntN(rest + 1) // how much of the unsynced tail reached the disk
	if mode == 2 && rest > 0 {
		n = 1 + r.IntN(rest) // a torn sector has a tail to tear
	}
	out := bytes.Clone(cur[:lcp+n])
	if mode == 2 && n > 0 {
		// A run of garbage inside the unsynced tail: each byte differs
		// from the one written.
		start := lcp + r.IntN(n)
		length := 1 + r.IntN(min(lcp+n-start, 512))
		for i := start; i < start+length; i++ {
			out[i] ^= byte(1 + r.IntN(255))
		}
	}
	return out
}

// commonPrefix is the length of the longest common prefix of a and b.
func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
