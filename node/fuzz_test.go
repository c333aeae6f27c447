package node

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/rlp"
)

// FuzzParseConfig: config.toml parsing never panics, and anything accepted
// validates and survives a save/parse round trip unchanged.
func FuzzParseConfig(f *testing.F) {
	def := DefaultConfig()
	path := filepath.Join(f.TempDir(), "config.toml")
	if err := def.Save(path); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
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
		path := filepath.Join(t.TempDir(), "config.toml")
		if err := c.Save(path); err != nil {
			t.Fatalf("save: %v", err)
		}
		again, err := LoadConfig(path)
		if err != nil {
			t.Fatalf("saved config does not load: %v", err)
		}
		if fmt.Sprintf("%+v", *again) != fmt.Sprintf("%+v", *c) {
			t.Fatalf("round trip changed the config:\n%+v\n%+v", *c, *again)
		}
	})
}

// FuzzWALRecord: a record read back from arbitrary bytes never panics, and
// a decoded input re-encodes to the same body.
func FuzzWALRecord(f *testing.F) {
	for _, in := range walInputs() {
		kind, body, _ := encodeInput(in)
		b, err := rlp.EncodeToBytes(body)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(kind, b)
	}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		in, err := decodeInput(kind, body)
		if err != nil {
			return
		}
		k2, body2, ok := encodeInput(in)
		if !ok || k2 != kind {
			t.Fatalf("kind %d decoded to %T, which logs as kind %d", kind, in, k2)
		}
		if _, err := rlp.EncodeToBytes(body2); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
	})
}

// FuzzWALFile: reading a log of arbitrary bytes never panics and yields
// only whole records.
func FuzzWALFile(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0, 0xc0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		for i := 0; i < 1000; i++ {
			if _, _, n, err := readRecord(r); err != nil || n <= 8 {
				return
			}
		}
	})
}
