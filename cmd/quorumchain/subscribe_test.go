package main

import (
	"context"
	"encoding/json"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/rpc"
)

// finalizedLines decodes subscribe's output of finalized events.
func finalizedLines(t *testing.T, out string) []rpc.FinalizedEvent {
	t.Helper()
	var evs []rpc.FinalizedEvent
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var ev rpc.FinalizedEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("line %q is not a finalized event: %v", line, err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// checkFinalized checks heights first, first+1, ... and a quorum in every
// certificate.
func checkFinalized(t *testing.T, evs []rpc.FinalizedEvent, first uint64) {
	t.Helper()
	for i, ev := range evs {
		if want := first + uint64(i); ev.Height != want {
			t.Errorf("event %d: height %d, want %d", i, ev.Height, want)
		}
		signed := new(big.Int).Mul(big.NewInt(3), new(big.Int).SetUint64(uint64(ev.Certificate.SignedStake)))
		total := new(big.Int).Mul(big.NewInt(2), new(big.Int).SetUint64(uint64(ev.Certificate.TotalStake)))
		if signed.Cmp(total) <= 0 || len(ev.Certificate.Signers) == 0 {
			t.Errorf("height %d: certificate signed stake %s of %s: not more than two thirds", ev.Height, ev.Certificate.SignedStake, ev.Certificate.TotalStake)
		}
	}
}

func TestSubscribe(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	n := startCLINode(t)

	t.Run("finalized --count 3", func(t *testing.T) {
		r := n.cli(t, "subscribe", "--count", "3", "--topics", "finalized")
		out := r.ok(t)
		if strings.Count(out, "\n") != 3 {
			t.Fatalf("want 3 lines:\n%s", out)
		}
		evs := finalizedLines(t, out)
		checkFinalized(t, evs, evs[0].Height)
	})

	t.Run("replay --from-height", func(t *testing.T) {
		evs := finalizedLines(t, n.cli(t, "subscribe", "--from-height", "1", "--count", "4").ok(t))
		checkFinalized(t, evs, 1)
	})

	t.Run("txs by hash from a height", func(t *testing.T) {
		_, bob := n.newAccountKey(t, "bob")
		var r rpc.TxResult
		decodeJSON(t, n.cli(t, "transfer", "--from", n.KeyFile, "--password-file", n.PasswordFile, "--to", chain.FormatAddress(bob), "--amount", "3", "--wait", "-o", "json").ok(t), &r)
		out := n.cli(t, "subscribe", "--topics", "txs", "--from-height", "1", "--filter-address", chain.FormatAddress(bob), "--count", "1").ok(t)
		var got rpc.TxResult
		decodeJSON(t, out, &got)
		if got.Hash != r.Hash || got.Status != rpc.TxFinal || got.Height == nil || *got.Height != *r.Height {
			t.Errorf("txs event = %s, want %+v", out, r)
		}
	})

	t.Run("resumes without gap or duplicate after a node restart", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), cliEventTimeout)
		defer cancel()
		cl, err := rpc.Dial(ctx, n.URL)
		if err != nil {
			t.Fatal(err)
		}
		st, err := cl.Status(ctx)
		cl.Close()
		if err != nil {
			t.Fatal(err)
		}
		// Replay up to the current height, then live events across a restart.
		count := st.Height + 8
		var stdout, stderr syncBuffer
		done := make(chan int, 1)
		go func() {
			done <- run([]string{"quorumchain", "subscribe", "--rpc", n.URL, "--from-height", "1", "--count", strconv.FormatUint(count, 10)}, &stdout, &stderr)
		}()
		// Stop the node once the replay is printed: no event says so.
		for strings.Count(stdout.String(), "\n") < int(st.Height) {
			select {
			case code := <-done:
				t.Fatalf("subscribe exited %d early\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
			case <-ctx.Done():
				t.Fatalf("replay not printed within %s:\n%s", cliEventTimeout, stdout.String())
			case <-time.After(20 * time.Millisecond):
			}
		}
		n.stop(t)
		n.start(t)
		select {
		case code := <-done:
			if code != 0 {
				t.Fatalf("subscribe exited %d\nstderr: %s", code, stderr.String())
			}
		case <-ctx.Done():
			t.Fatalf("subscribe did not print %d events within %s\nstdout: %s\nstderr: %s", count, cliEventTimeout, stdout.String(), stderr.String())
		}
		checkFinalized(t, finalizedLines(t, stdout.String()), 1)
		if !strings.Contains(stderr.String(), "reconnected to "+n.URL+", resuming finalized from height") {
			t.Errorf("stderr does not report the reconnection:\n%s", stderr.String())
		}
	})
}

func TestTopicCursorAdmit(t *testing.T) {
	fin := func(h uint64) json.RawMessage { return json.RawMessage(`{"height":` + strconv.FormatUint(h, 10) + `}`) }
	tx := func(h uint64, hash byte) json.RawMessage {
		return json.RawMessage(`{"hash":"` + chain.FormatHash(chain.Hash{hash}) + `","status":"final","height":` + strconv.FormatUint(h, 10) + `}`)
	}
	tests := []struct {
		name   string
		cur    topicCursor
		events []json.RawMessage
		want   []bool
	}{
		{"finalized drops what was printed", topicCursor{topic: rpc.TopicFinalized, replay: true, next: 5},
			[]json.RawMessage{fin(4), fin(5), fin(5), fin(6), fin(3), fin(7)}, []bool{false, true, false, true, false, true}},
		{"txs of the resumed block come again", topicCursor{topic: rpc.TopicTxs, replay: true, next: 5},
			[]json.RawMessage{tx(5, 1), tx(5, 2), tx(4, 9), tx(5, 1), tx(5, 2), tx(5, 3), tx(6, 1), tx(5, 4)}, []bool{true, true, false, false, false, true, true, false}},
		{"pending txs have no height", topicCursor{topic: rpc.TopicTxs, replay: true, next: 5},
			[]json.RawMessage{json.RawMessage(`{"hash":"0x` + strings.Repeat("11", 32) + `","status":"pending"}`)}, []bool{true}},
		{"live topics are not deduplicated", topicCursor{topic: rpc.TopicVotes},
			[]json.RawMessage{fin(5), fin(5), fin(4)}, []bool{true, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := tt.cur
			for i, ev := range tt.events {
				got, err := cur.admit(ev)
				if err != nil {
					t.Fatal(err)
				}
				if got != tt.want[i] {
					t.Errorf("event %d %s: admitted %t, want %t", i, ev, got, tt.want[i])
				}
			}
		})
	}
}
