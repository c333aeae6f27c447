package node

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
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
