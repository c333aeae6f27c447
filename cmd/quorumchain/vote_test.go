package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/node"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/validator"
)

func TestSignerStateLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	unlock, err := lockSignerState(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockSignerState(path); err == nil || !strings.Contains(err.Error(), "another vote process") {
		t.Fatalf("second lock: %v, want another vote process", err)
	}
	unlock()
	unlock, err = lockSignerState(path)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock()
}

// TestVoteDrivesRemoteSignerNode runs `vote` (without --follow) against a
// node whose only validator signs remotely, once per duty event: the chain
// makes progress only through it.
func TestVoteDrivesRemoteSignerNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	n := newCLINode(t, func(cfg *node.Config, addr chain.Address) {
		cfg.Signer = node.SignerConfig{Mode: "remote", Address: chain.FormatAddress(addr)}
	})
	ctx, cancel := context.WithTimeout(context.Background(), cliEventTimeout)
	defer cancel()
	cl, err := rpc.Dial(ctx, n.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	duties, err := cl.Subscribe(ctx, rpc.TopicDuties, &rpc.Filter{Validator: &n.Validator}, 0)
	if err != nil {
		t.Fatal(err)
	}
	finalized, err := cl.Subscribe(ctx, rpc.TopicFinalized, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	var outputs []string
	vote := func() {
		r := n.cli(t, "vote", "--key", n.KeyFile, "--password-file", n.PasswordFile)
		outputs = append(outputs, r.ok(t))
	}
	vote() // what was asked before the subscription
	for done := false; !done; {
		select {
		case _, ok := <-duties.Results():
			if !ok {
				t.Fatalf("duties subscription ended: %v", <-duties.Err())
			}
			vote()
		case <-finalized.Results():
			done = true
		case <-ctx.Done():
			t.Fatalf("height 2 not final within %s; vote printed:\n%s", cliEventTimeout, strings.Join(outputs, ""))
		}
	}
	all := strings.Join(outputs, "")
	for _, want := range []string{"proposal  h=1 r=0 block=0x", "prevote   h=1 r=0 block=0x", "precommit h=1 r=0 block=0x", "  signed\n"} {
		if !strings.Contains(all, want) {
			t.Errorf("vote output lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "refused") {
		t.Errorf("vote refused a duty:\n%s", all)
	}
	state := filepath.Join(filepath.Dir(n.KeyFile), chain.FormatAddress(n.Validator)+"-signer_state.json")
	last, err := validator.FileState{Path: state}.Load()
	if err != nil || last.Height < 2 {
		t.Errorf("signer state %s: %+v (%v), want height 2 or more", state, last, err)
	}
}

// TestVoteFollow runs the --follow loop against a node whose only
// validator signs remotely, across a restart of the node.
func TestVoteFollow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	n := newCLINode(t, func(cfg *node.Config, addr chain.Address) {
		cfg.Signer = node.SignerConfig{Mode: "remote", Address: chain.FormatAddress(addr)}
	})
	key, _, err := validator.LoadKeyFileAddress(n.KeyFile, n.password)
	if err != nil {
		t.Fatal(err)
	}
	guard, err := validator.NewGuard(validator.FileState{Path: filepath.Join(t.TempDir(), "state.json")})
	if err != nil {
		t.Fatal(err)
	}
	pins, err := newNodePins("", "", "")
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	v := newVoter(key, guard, nil, pins, n.URL, &stdout, &stderr, true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cl, err := dialURL(ctx, n.URL)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- v.follow(ctx, cl) }()

	n.waitHeight(t, 3)
	n.stop(t)
	n.start(t)
	n.waitHeight(t, 6)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("follow returned %v, want nil after cancel", err)
		}
	case <-time.After(cliNodeStopTimeout):
		t.Fatal("follow did not return after cancel")
	}
	if !strings.Contains(stderr.String(), "reconnected to "+n.URL) {
		t.Errorf("stderr does not report the reconnection:\n%s", stderr.String())
	}
	heights := map[uint64]bool{}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var l dutyLine
		decodeJSON(t, line, &l)
		if l.Result != "signed" {
			t.Errorf("duty %s: want signed", line)
		}
		heights[l.Height] = true
	}
	for h := uint64(1); h <= 6; h++ {
		if !heights[h] {
			t.Errorf("no duty signed at height %d:\n%s", h, stdout.String())
		}
	}
}
