package node

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/rlp"
	"github.com/pelletier/go-toml/v2"

	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/internal/fuzztest"
)

// FuzzParseConfig: config.toml parsing never panics, and anything accepted
// validates and survives an encode/parse round trip unchanged. The encoding
// is the one Save writes, kept in memory: the file I/O around it is
// LoadConfig's and Save's, tested in their own tests, and cost the target
// two thirds of its speed.
func FuzzParseConfig(f *testing.F) {
	// The default config, one section per seed: together they hold every
	// key, and short inputs parse several times faster than the whole file.
	def := DefaultConfig()
	b, err := toml.Marshal(&def)
	if err != nil {
		f.Fatal(err)
	}
	for _, section := range strings.SplitAfter(string(b), "\n\n") {
		if _, err := ParseConfig([]byte(section)); err != nil {
			f.Fatalf("section %q of the default config: %v", section, err)
		}
		f.Add([]byte(section))
	}
	f.Add([]byte("moniker = 'x'\n[consensus]\ntimeout_propose = '250ms'\n"))
	f.Add([]byte("[p2p]\nunknown_key = 1\n"))
	f.Add([]byte("[db]\nbackend = 'rocksdb'\n"))
	f.Add([]byte("[rpc]\nping_interval = '-1s'\n"))
	f.Add([]byte("[rpc]\nallowed_origins = ['https://a.example', '*']\nrequests_per_second = 1.5\nmax_replay_heights = 9\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted config does not validate: %v", err)
		}
		enc, err := toml.Marshal(c)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		again, err := ParseConfig(enc)
		if err != nil {
			t.Fatalf("encoded config does not parse: %v\n%s", err, enc)
		}
		// Printed, so that an empty list equals an absent one.
		if fmt.Sprintf("%+v", *again) != fmt.Sprintf("%+v", *c) {
			t.Fatalf("round trip changed the config:\n%+v\n%+v", *c, *again)
		}
	})
}

// walBound is what decoding a WAL record may allocate: the input it holds
// is a small multiple of its bytes, plus a fixed amount for the reader.
var walBound = fuzztest.Bound{PerByte: 16, Fixed: 16 << 10}

// FuzzWALRecord: a record body read back from arbitrary bytes never panics,
// allocates within walBound, and a decoded input re-encodes to the same
// kind and body, and decodes again to an equal input.
func FuzzWALRecord(f *testing.F) {
	for _, in := range walInputs() {
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
		fuzztest.CheckAllocs(t, walBound, body, func() { in, err = decodeInput(kind, body) })
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

// FuzzWALFile: reading a log of arbitrary bytes never panics, allocates
// within walBound of the log's size whatever its headers claim, yields only
// whole records, and stops at the end of the log or at a torn or corrupt
// record.
func FuzzWALFile(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0, 0xc0})
	// A log of three records, written once by the WAL itself.
	path := filepath.Join(f.TempDir(), "cs.wal")
	w, err := openWALFile(path)
	if err != nil {
		f.Fatal(err)
	}
	for _, in := range walInputs()[1:4] {
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
		fuzztest.CheckAllocs(t, walBound, b, func() {
			r := bufio.NewReader(bytes.NewReader(b))
			total = 0
			for i := 0; i < 1000; i++ {
				_, _, n, err := readRecord(r)
				if err != nil {
					if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, errCorruptRecord) {
						t.Errorf("read record: unexpected error %v", err)
					}
					return
				}
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
