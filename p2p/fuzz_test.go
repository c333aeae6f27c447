package p2p

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/quorumchain/quorumchain/internal/fuzztest"
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

// decodeBound is what Decode may allocate: the typed message is a small
// multiple of its encoding (see chain's fuzz targets), plus a fixed amount
// for the error or the message's skeleton.
var decodeBound = fuzztest.Bound{PerByte: 8, Fixed: 8 << 10}

// FuzzDecodeMessage checks that Decode never panics, allocates within
// decodeBound, that every error marks invalid peer data, and that whatever
// it accepts re-encodes to the same bytes (so a message's hash identifies
// it) and decodes again to an equal message.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		if _, err := Decode(s); err != nil { // also fills rlp's type cache
			f.Fatal(err)
		}
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message
		var err error
		fuzztest.CheckAllocs(t, decodeBound, b, func() { m, err = Decode(b) })
		if err != nil {
			fuzztest.CheckError(t, err, ErrInvalidPeerData)
			return
		}
		// The budget is charged by the kind read before decoding: it
		// must be the kind Decode finds.
		if k, ok := peekKind(b); !ok || k != m.Kind() {
			t.Fatalf("peekKind: got (%s, %v), want (%s, true)", k, ok, m.Kind())
		}
		re := Encode(m)
		if !bytes.Equal(re, b) {
			t.Fatalf("%s: decode→encode changed the bytes:\n got %x\nwant %x", m.Kind(), re, b)
		}
		again, err := Decode(re)
		if err != nil {
			t.Fatalf("%s: re-encoding does not decode: %v", m.Kind(), err)
		}
		if !reflect.DeepEqual(again, m) {
			t.Fatalf("%s: decode→encode→decode changed the message:\n got %+v\nwant %+v", m.Kind(), again, m)
		}
	})
}
