package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClientBadInput checks that bad flags, keys, amounts, addresses and
// endpoints of the commands that talk to a node fail with one line on
// stderr and exit 1, without needing a node.
func TestClientBadInput(t *testing.T) {
	f := newKeyFixture(t)
	quorumchain(t, "keys", "new", "--dir", f.dir, "--name", "k", "--password-file", f.password, "--light-kdf").ok(t)
	key := filepath.Join(f.dir, "k.json")
	tmp := t.TempDir()
	wrong := writeFile(t, tmp, "wrong.txt", "wrong password")
	t.Setenv(envPassword, "")
	os.Unsetenv(envPassword)
	t.Setenv(envRPC, "")
	os.Unsetenv(envRPC)
	closed := closedRPC(t)
	to := testKeyAddr
	send := func(extra ...string) []string {
		return append([]string{"transfer", "--from", key, "--password-file", f.password, "--rpc", closed}, extra...)
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"transfer", "--bogus"}, "flag provided but not defined: -bogus (see 'quorumchain transfer --help')"},
		{"unknown flag of a query", []string{"status", "--bogus"}, "flag provided but not defined: -bogus (see 'quorumchain status --help')"},
		{"missing --from", []string{"transfer", "--to", to, "--amount", "1"}, "missing --from (see 'quorumchain transfer --help')"},
		{"missing --to", send("--amount", "1"), "missing --to"},
		{"missing --amount", send("--to", to), "missing --amount"},
		{"missing --validator", []string{"stake", "--from", key, "--amount", "1"}, "missing --validator"},
		{"missing key file", []string{"transfer", "--from", filepath.Join(tmp, "missing.json"), "--password-file", f.password, "--to", to, "--amount", "1", "--rpc", closed}, "no such file or directory"},
		{"wrong password", []string{"transfer", "--from", key, "--password-file", wrong, "--to", to, "--amount", "1", "--rpc", closed}, "could not decrypt key with given password"},
		{"no password", []string{"unjail", "--from", key, "--rpc", closed}, "no password: give --password-file or set QUORUMCHAIN_PASSWORD"},
		{"unreachable rpc", send("--to", to, "--amount", "1"), "cannot reach node at " + closed + ": connection refused (is the node running? set --rpc or QUORUMCHAIN_RPC)"},
		{"unreachable rpc with wait", send("--to", to, "--amount", "1", "--wait"), "cannot reach node at " + closed},
		{"malformed address", send("--to", "0x1234", "--amount", "1"), `--to: `},
		{"non-hex address", send("--to", "0x"+strings.Repeat("zz", 20), "--amount", "1"), `--to: `},
		{"negative amount", send("--to", to, "--amount", "-5"), `--amount: invalid amount "-5"`},
		{"non-numeric amount", send("--to", to, "--amount", "ten"), `--amount: invalid amount "ten"`},
		{"exponent amount", send("--to", to, "--amount", "1e3"), `--amount: invalid amount "1e3"`},
		{"overflowing amount", send("--to", to, "--amount", "18446744073709551616"), "--amount: invalid amount"},
		{"zero amount", send("--to", to, "--amount", "0"), "--amount: must be positive"},
		{"bad nonce flag", send("--to", to, "--amount", "1", "--nonce", "-1"), `--nonce "-1": want a decimal integer`},
		{"bad timeout", send("--to", to, "--amount", "1", "--wait", "--timeout", "0s"), "--timeout 0s: must be positive"},
		{"bad fee", send("--to", to, "--amount", "1", "--fee", "-1"), `--fee: invalid amount "-1"`},
		{"missing --rate", []string{"set-commission", "--from", key, "--rpc", closed}, "missing --rate"},
		{"rate above one", []string{"set-commission", "--from", key, "--rate", "1.5", "--rpc", closed}, "--rate: invalid fraction"},
		{"rate not exact in 18 places", []string{"set-commission", "--from", key, "--rate", "1/3", "--rpc", closed}, "--rate 1/3: not exact in 18 decimal places"},
		{"claim from a malformed validator", []string{"claim", "--from", key, "--validator", "0x12", "--rpc", closed}, "--validator: "},
		{"claim takes no amount", []string{"claim", "--from", key, "--amount", "1", "--rpc", closed}, "flag provided but not defined: -amount"},
		{"wait needs a websocket", []string{"transfer", "--from", key, "--to", to, "--amount", "1", "--wait", "--rpc", "http://127.0.0.1:1"}, "needs a websocket URL such as ws://127.0.0.1:1/ws"},
		{"bad rpc url", []string{"status", "--rpc", "127.0.0.1:26657"}, `--rpc "127.0.0.1:26657": want`},
		{"bad output", send("--to", to, "--amount", "1", "--output", "yaml"), `--output: unknown format "yaml": want text or json`},
		{"bad global output", []string{"--output", "yaml", "status", "--rpc", closed}, `--output: unknown format "yaml"`},
		{"transfer argument", []string{"transfer", "extra"}, "want no arguments"},
		{"status unreachable", []string{"status", "--rpc", closed}, "cannot reach node at " + closed + ": connection refused"},
		{"status unreachable over http", []string{"status", "--rpc", strings.Replace(strings.TrimSuffix(closed, "/ws"), "ws:", "http:", 1)}, "cannot reach node at http://"},
		{"account malformed address", []string{"account", "--rpc", closed, "0xnope"}, `malformed address "0xnope"`},
		{"account without address", []string{"account", "--rpc", closed}, "want ADDR"},
		{"tx malformed hash", []string{"tx", "--rpc", closed, "0x12"}, `malformed hash "0x12"`},
		{"block negative", []string{"block", "--rpc", closed, "-1"}, "flag provided but not defined: -1"},
		{"block non-numeric", []string{"block", "--rpc", closed, "tip"}, `block "tip": want a block height (a positive decimal integer) or latest`},
		{"block flag after argument", []string{"block", "1", "--rpc", closed}, "flag --rpc after an argument"},
		{"validators bad height", []string{"validators", "--rpc", closed, "--height", "x"}, `--height "x": want a block height`},
		{"subscribe unknown topic", []string{"subscribe", "--rpc", closed, "--topics", "finalized,nope"}, `--topics: unknown topic "nope"`},
		{"subscribe bad count", []string{"subscribe", "--rpc", closed, "--count", "0"}, "--count 0: must be positive"},
		{"subscribe filter without txs", []string{"subscribe", "--rpc", closed, "--filter-hash", "0x" + strings.Repeat("ab", 32)}, "apply to the txs topic"},
		{"subscribe from-height without replay", []string{"subscribe", "--rpc", closed, "--topics", "votes", "--from-height", "3"}, "--from-height applies to the finalized and txs topics"},
		{"subscribe duties without validator", []string{"subscribe", "--rpc", closed, "--topics", "duties"}, "--topics duties needs --filter-validator ADDR"},
		{"subscribe http", []string{"subscribe", "--rpc", "http://127.0.0.1:1"}, "needs a websocket URL"},
		{"subscribe unreachable", []string{"subscribe", "--rpc", closed}, "cannot reach node at " + closed + ": connection refused"},
		{"vote without key", []string{"vote", "--rpc", closed}, "missing --key (see 'quorumchain vote --help')"},
		{"vote wrong password", []string{"vote", "--key", key, "--password-file", wrong, "--rpc", closed}, "could not decrypt key with given password"},
		{"vote unreachable", []string{"vote", "--key", key, "--password-file", f.password, "--rpc", closed, "--state", filepath.Join(tmp, "state.json")}, "cannot reach node at " + closed},
		{"vote follow over http", []string{"vote", "--key", key, "--follow", "--rpc", "http://127.0.0.1:1"}, "needs a websocket URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := quorumchain(t, tt.args...)
			r.fails(t, tt.want)
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}
}

// TestClientRPCFromEnv checks that $QUORUMCHAIN_RPC sets the endpoint.
func TestClientRPCFromEnv(t *testing.T) {
	closed := closedRPC(t)
	t.Setenv(envRPC, closed)
	quorumchain(t, "status").fails(t, "cannot reach node at "+closed)
}

// TestClientHelp checks that every command of this file group has a usage,
// a description and documented flags.
func TestClientHelp(t *testing.T) {
	app := newApp(nil, nil)
	for _, name := range []string{"stake", "unstake", "transfer", "unjail", "claim", "set-commission", "vote", "subscribe", "status", "block", "validators", "account", "tx"} {
		c := app.Command(name)
		if c == nil {
			t.Errorf("no command %s", name)
			continue
		}
		if c.Usage == "" || c.Description == "" {
			t.Errorf("%s: usage %q, description %q: want both", name, c.Usage, c.Description)
		}
		for _, fl := range c.Flags {
			if u, ok := fl.(interface{ GetUsage() string }); !ok || u.GetUsage() == "" {
				t.Errorf("%s: flag %v has no usage", name, fl.Names())
			}
		}
		out := quorumchain(t, name, "--help").ok(t)
		if !strings.Contains(out, "--rpc") {
			t.Errorf("%s --help does not mention --rpc:\n%s", name, out)
		}
	}
}
