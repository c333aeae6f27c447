package wal

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum/rlp"

	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/internal/fuzztest"
)

// recordBound is what decoding a WAL record may allocate: the input it holds
// is a small multiple of its bytes, plus a fixed amount for the reader.
var recordBound = fuzztest.Bound{PerByte: 16, Fixed: 16 << 10}

// FuzzRecord: a record body read back from arbitrary bytes never panics,
// allocates within recordBound, and a decoded input re-encodes to the same
// kind and body, and decodes again to an equal input.
func FuzzRecord(f *testing.F) {
	for _, in := range sampleInputs() {
		kind, body, _ := encodeInput(in)
		b, err := rlp.EncodeToBytes(body)
		if err != nil {
			f.Fatal(err)
		}
		if _, err := decodeInput(kind, b); err != nil { // also fills rlp's type cache
			f.Fatal(err)
		}
		f.Add(kind, b)
	}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		var in consensus.Input
		var err error
		fuzztest.CheckAllocs(t, recordBound, body, func() { in, err = decodeInput(kind, body) })
		if err != nil {
			return
		}
		k2, body2, ok := encodeInput(in)
		if !ok || k2 != kind {
			t.Fatalf("kind %d decoded to %T, which logs as kind %d", kind, in, k2)
		}
		enc, err := rlp.EncodeToBytes(body2)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		again, err := decodeInput(kind, enc)
		if err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		if !reflect.DeepEqual(again, in) {
			t.Fatalf("decode→encode→decode changed the input:\n got %+v\nwant %+v", again, in)
		}
	})
}

// FuzzFile: reading a log of arbitrary bytes never panics, allocates
// within recordBound of the log's size whatever its headers claim, yields only
// whole records, and stops at the end of the log or at a torn or corrupt
// record.
func FuzzFile(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0, 0xc0})
	// A log of three records, written once by the WAL itself.
	path := filepath.Join(f.TempDir(), "cs.wal")
	w, err := Open(path)
	if err != nil {
		f.Fatal(err)
	}
	for _, in := range sampleInputs()[1:4] {
		if err := w.Append(7, in); err != nil {
			f.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	log, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(log)
	f.Fuzz(func(t *testing.T, b []byte) {
		var total int64
		fuzztest.CheckAllocs(t, recordBound, b, func() {
			r := bufio.NewReader(bytes.NewReader(b))
			total = 0
			for i := 0; i < 1000; i++ {
				rec, payload, err := readRecord(r)
				if err != nil {
					if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, errCorruptRecord) {
						t.Errorf("read record: unexpected error %v", err)
					}
					return
				}
				// A body that does not decode is an error, never a panic.
				_, _ = decodeInput(rec.Kind, rec.Body)
				n := int64(8 + len(payload))
				if n <= 8 {
					t.Errorf("record of %d bytes, header included", n)
					return
				}
				total += n
			}
		})
		if total > int64(len(b)) {
			t.Fatalf("read %d bytes of records from %d bytes", total, len(b))
		}
	})
}
