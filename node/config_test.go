package node

import (
	"strings"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/p2p"
)

// TestRPCConfig: the [rpc] hardening keys reach rpc.Config, and bad values
// are refused with the key's name.
func TestRPCConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`[rpc]
allowed_origins = ["https://app.example", "http://localhost:3000"]
request_timeout = "5s"
max_response_bytes = 4194304
max_http_requests = 8
max_inflight_per_conn = 4
requests_per_second = 50.5
request_burst = 100
max_replay_heights = 1000
max_replay_tx_events = 5000
`))
	if err != nil {
		t.Fatal(err)
	}
	r := c.RPCServerConfig()
	if len(r.AllowedOrigins) != 2 || r.AllowedOrigins[1] != "http://localhost:3000" || r.RequestTimeout != 5*time.Second ||
		r.MaxResponseBytes != 4<<20 || r.MaxHTTPRequests != 8 || r.MaxInflightPerConn != 4 || r.RequestsPerSecond != 50.5 ||
		r.RequestBurst != 100 || r.MaxReplayHeights != 1000 || r.MaxReplayTxEvents != 5000 {
		t.Fatalf("got %+v", r)
	}
	def := DefaultConfig()
	if d := def.RPCServerConfig(); len(d.AllowedOrigins) != 0 || d.MaxResponseBytes <= 0 || d.RequestsPerSecond <= 0 {
		t.Fatalf("defaults: got %+v; want no extra origin and positive limits", d)
	}
	for _, tc := range []struct{ toml, want string }{
		{`allowed_origins = ["app.example"]`, "rpc.allowed_origins"},
		{`allowed_origins = ["https://app.example/page"]`, "rpc.allowed_origins"},
		{`requests_per_second = 0.0`, "rpc.requests_per_second"},
		{`requests_per_second = inf`, "rpc.requests_per_second"},
		{`requests_per_second = nan`, "rpc.requests_per_second"},
		{`max_response_bytes = 0`, "rpc.max_response_bytes"},
		{`max_http_requests = -1`, "rpc.max_http_requests"},
		{`max_inflight_per_conn = 0`, "rpc.max_inflight_per_conn"},
		{`request_burst = 0`, "rpc.request_burst"},
		{`max_replay_heights = 0`, "rpc.max_replay_heights"},
		{`max_replay_tx_events = 0`, "rpc.max_replay_tx_events"},
		{`request_timeout = "0s"`, "rpc.request_timeout"},
	} {
		if _, err := ParseConfig([]byte("[rpc]\n" + tc.toml + "\n")); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error naming %s", tc.toml, err, tc.want)
		}
	}
}

// TestP2PConfig: the [p2p] budget, queue and ban keys reach p2p.Config; a
// config file written before they existed keeps the defaults; bad values
// are refused with the key's name.
func TestP2PConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`[p2p]
listen_addr = "127.0.0.1:26656"
send_queue_bytes = 33554432
send_full_timeout = "10s"
ban_threshold = 50
ban_duration = "1m"
[p2p.budgets.status]
messages_per_second = 20.0
message_burst = 40
bytes_per_second = 65536.0
byte_burst = 131072
`))
	if err != nil {
		t.Fatal(err)
	}
	p := c.P2P
	if p.SendQueueBytes != 32<<20 || p.SendFullTimeout.Std() != 10*time.Second || p.BanThreshold != 50 || p.BanDuration.Std() != time.Minute {
		t.Fatalf("got %+v", p)
	}
	b := p.Budgets.p2p()
	if b.Status != (p2p.Budget{MessagesPerSecond: 20, MessageBurst: 40, BytesPerSecond: 65536, ByteBurst: 131072}) {
		t.Fatalf("status budget: got %+v", b.Status)
	}
	if b.Consensus != p2p.DefaultBudgets().Consensus {
		t.Fatalf("consensus budget not set in the file: got %+v, want the default", b.Consensus)
	}
	old, err := ParseConfig([]byte("[p2p]\nlisten_addr = \"127.0.0.1:26656\"\nmax_message_bytes = 10485760\nsend_queue = 4096\n"))
	if err != nil {
		t.Fatalf("a config without the new keys: %v", err)
	}
	if old.P2P.Budgets.p2p() != p2p.DefaultBudgets() || old.P2P.SendQueueBytes != p2p.DefaultSendQueueBytes || old.P2P.BanDuration.Std() != p2p.DefaultBanDuration {
		t.Fatalf("old config: got %+v, want the defaults", old.P2P)
	}
	for _, tc := range []struct{ toml, want string }{
		{"[p2p]\nsend_queue_bytes = 1024", "p2p.send_queue_bytes"},
		{"[p2p]\nban_threshold = 0", "p2p.ban_threshold"},
		{"[p2p]\nban_duration = \"0s\"", "p2p.ban_duration"},
		{"[p2p.budgets.evidence]\nmessage_burst = 0", "p2p.budgets.evidence"},
		{"[p2p.budgets.tx]\nbytes_per_second = inf", "p2p.budgets.tx"},
	} {
		if _, err := ParseConfig([]byte(tc.toml + "\n")); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error naming %s", tc.toml, err, tc.want)
		}
	}
}

// TestTestnetDoubleProposeConfig: the test-network switch is off by
// default, parses, and is refused with a remote signer (which has no key
// to double-propose with).
func TestTestnetDoubleProposeConfig(t *testing.T) {
	if DefaultConfig().Signer.TestnetDoublePropose {
		t.Fatal("double proposing is on by default")
	}
	c, err := ParseConfig([]byte("[signer]\ntestnet_double_propose = true\n"))
	if err != nil || !c.Signer.TestnetDoublePropose {
		t.Fatalf("got (%+v, %v), want the switch on", c, err)
	}
	_, err = ParseConfig([]byte("[signer]\nmode = \"remote\"\naddress = \"0x0000000000000000000000000000000000000001\"\ntestnet_double_propose = true\n"))
	if err == nil || !strings.Contains(err.Error(), "signer.testnet_double_propose") {
		t.Fatalf("remote signer with the switch: got %v, want an error naming signer.testnet_double_propose", err)
	}
}
