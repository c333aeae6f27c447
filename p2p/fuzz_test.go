package p2p

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds are valid encodings of every kind, the seeds of FuzzDecodeMessage
// and its checked-in corpus.
func fuzzSeeds(t testing.TB) [][]byte {
	var out [][]byte
	for _, m := range append(sampleMessages(t), controlMessages(t)...) {
		out = append(out, Encode(m))
	}
	return out
}

// TestWriteFuzzCorpus regenerates testdata/fuzz when QUORUM_WRITE_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("QUORUM_WRITE_CORPUS") != "1" {
		t.Skip("set QUORUM_WRITE_CORPUS=1 to regenerate testdata/fuzz")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeMessage")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range fuzzSeeds(t) {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzDecodeMessage checks that Decode never panics, that every error marks
// invalid peer data, and that whatever it accepts re-encodes to the same
// bytes (so a message's hash identifies it).
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidPeerData) {
				t.Fatalf("error %q does not wrap ErrInvalidPeerData", err)
			}
			return
		}
		re := Encode(m)
		if !bytes.Equal(re, b) {
			t.Fatalf("%s: decode→encode changed the bytes:\n got %x\nwant %x", m.Kind(), re, b)
		}
		if _, err := Decode(re); err != nil {
			t.Fatalf("%s: re-encoding does not decode: %v", m.Kind(), err)
		}
	})
}
