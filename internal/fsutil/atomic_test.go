package fsutil

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// tempFiles lists the files in dir other than the named ones.
func tempFiles(t *testing.T, dir string, names ...string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
outer:
	for _, e := range entries {
		for _, n := range names {
			if e.Name() == n {
				continue outer
			}
		}
		out = append(out, e.Name())
	}
	return out
}

func TestWriteFileAtomicCreatesAndReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	for i, data := range [][]byte{[]byte("first version, the longer one\n"), []byte("second\n")} {
		if err := WriteFileAtomic(path, data, 0o600); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("write %d: read %q, want %q", i, got, data)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("write %d: mode %v, want 0600", i, fi.Mode().Perm())
		}
	}
	if left := tempFiles(t, dir, "state.json"); len(left) != 0 {
		t.Fatalf("temporary files left behind: %v", left)
	}
}

// TestWriteFileAtomicFailureKeepsOld: when the final rename fails (here the
// path is a non-empty directory), the path keeps its old contents and the
// temporary file is removed.
func TestWriteFileAtomicFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "target")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "inside"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, []byte("new"), 0o644); err == nil {
		t.Fatal("replacing a non-empty directory succeeded")
	}
	if got, err := os.ReadFile(filepath.Join(path, "inside")); err != nil || string(got) != "old" {
		t.Fatalf("old contents changed: %q, %v", got, err)
	}
	if left := tempFiles(t, dir, "target"); len(left) != 0 {
		t.Fatalf("temporary files left behind: %v", left)
	}
}

func TestWriteFileAtomicMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent", "file")
	if err := WriteFileAtomic(path, []byte("x"), 0o644); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("write into a missing directory: %v, want a not-exist error", err)
	}
}
