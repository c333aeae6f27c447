package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/node"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/validator"
)

const voteTestChain = "quorum-vote-test"

// newDutySigner returns a signer with a fresh key whose double-sign
// protection lives in a file of a temporary directory.
func newDutySigner(t *testing.T) (*dutySigner, string) {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "signer_state.json")
	return reopenDutySigner(t, &dutySigner{key: key, addr: chain.PubkeyAddress(&key.PublicKey)}, path), path
}

// reopenDutySigner is s with its Guard loaded again from path, as after a
// restart of vote.
func reopenDutySigner(t *testing.T, s *dutySigner, path string) *dutySigner {
	t.Helper()
	g, err := validator.NewGuard(validator.FileState{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	return &dutySigner{chainID: voteTestChain, addr: s.addr, key: s.key, guard: g}
}

// voteDuty is the request a node makes for a vote, with its digest.
func voteDuty(addr chain.Address, t chain.VoteType, height uint64, round uint32, block *chain.Hash) *rpc.DutyResult {
	var b chain.Hash
	if block != nil {
		b = *block
	}
	return &rpc.DutyResult{ID: height*10 + uint64(round), Validator: addr, Kind: t.String(), Height: height, Round: round, Block: block,
		SignHash: chain.VoteSignHash(voteTestChain, t, height, round, b)}
}

func proposalDuty(addr chain.Address, height uint64, round uint32, pol int32, block chain.Hash) *rpc.DutyResult {
	return &rpc.DutyResult{ID: 1, Validator: addr, Kind: "proposal", Height: height, Round: round, Block: &block, POLRound: &pol,
		SignHash: chain.ProposalSignHash(voteTestChain, height, round, pol, block)}
}

// checkSignedBy checks that sig is addr's signature over d.SignHash.
func checkSignedBy(t *testing.T, d *rpc.DutyResult, sig chain.Signature, addr chain.Address) {
	t.Helper()
	got, err := chain.Recover(d.SignHash, &sig)
	if err != nil || got != addr {
		t.Errorf("%s h=%d r=%d: signature recovers to %s (%v), want %s", d.Kind, d.Height, d.Round, chain.FormatAddress(got), err, chain.FormatAddress(addr))
	}
}

func TestDutySignerSigns(t *testing.T) {
	s, _ := newDutySigner(t)
	blockA := chain.Hash{0xaa}
	for _, d := range []*rpc.DutyResult{
		proposalDuty(s.addr, 5, 0, chain.NoPOLRound, blockA),
		voteDuty(s.addr, chain.Prevote, 5, 0, &blockA),
		voteDuty(s.addr, chain.Precommit, 5, 0, &blockA),
		voteDuty(s.addr, chain.Prevote, 5, 1, nil), // nil vote
		proposalDuty(s.addr, 5, 2, 0, blockA),      // re-proposal with a POL round
		voteDuty(s.addr, chain.Prevote, 6, 0, &blockA),
	} {
		sig, err := s.sign(d)
		if err != nil {
			t.Fatalf("%s h=%d r=%d: %v", d.Kind, d.Height, d.Round, err)
		}
		checkSignedBy(t, d, sig, s.addr)
	}
}

func TestDutySignerRefuses(t *testing.T) {
	blockA, blockB := chain.Hash{0xaa}, chain.Hash{0xbb}
	pol := func(p int32) *int32 { return &p }
	tests := []struct {
		name  string
		duty  func(addr chain.Address) *rpc.DutyResult
		guard error // the Guard's refusal, or nil for errRefused
	}{
		{"opaque hash: signHash not the digest of the fields", func(a chain.Address) *rpc.DutyResult {
			d := voteDuty(a, chain.Prevote, 5, 0, &blockA)
			d.SignHash = chain.Hash{0x01}
			return d
		}, nil},
		{"signHash of another block", func(a chain.Address) *rpc.DutyResult {
			d := voteDuty(a, chain.Precommit, 5, 0, &blockA)
			d.Block = &blockB
			return d
		}, nil},
		{"signHash of another vote type", func(a chain.Address) *rpc.DutyResult {
			d := voteDuty(a, chain.Precommit, 5, 0, &blockA)
			d.Kind = "prevote"
			return d
		}, nil},
		{"signHash of another chain", func(a chain.Address) *rpc.DutyResult {
			d := voteDuty(a, chain.Prevote, 5, 0, &blockA)
			d.SignHash = chain.VoteSignHash("other-chain", chain.Prevote, 5, 0, blockA)
			return d
		}, nil},
		{"signHash of another POL round", func(a chain.Address) *rpc.DutyResult {
			d := proposalDuty(a, 5, 2, 1, blockA)
			d.POLRound = pol(0)
			return d
		}, nil},
		{"proposal without POL round", func(a chain.Address) *rpc.DutyResult {
			d := proposalDuty(a, 5, 0, chain.NoPOLRound, blockA)
			d.POLRound = nil
			return d
		}, nil},
		{"proposal with POL round not below its round", func(a chain.Address) *rpc.DutyResult {
			return proposalDuty(a, 5, 1, 1, blockA)
		}, nil},
		{"proposal of no block", func(a chain.Address) *rpc.DutyResult {
			return proposalDuty(a, 5, 0, chain.NoPOLRound, chain.Hash{})
		}, nil},
		{"vote with a POL round", func(a chain.Address) *rpc.DutyResult {
			d := voteDuty(a, chain.Prevote, 5, 0, &blockA)
			d.POLRound = pol(-1)
			return d
		}, nil},
		{"unknown kind", func(a chain.Address) *rpc.DutyResult {
			d := voteDuty(a, chain.Prevote, 5, 0, &blockA)
			d.Kind = "commit"
			return d
		}, nil},
		{"another validator's request", func(chain.Address) *rpc.DutyResult {
			return voteDuty(chain.Address{0x01}, chain.Prevote, 5, 0, &blockA)
		}, nil},
		// After signing prevote h=5 r=0 for block A (below):
		{"conflicting duty at the same height, round and step", func(a chain.Address) *rpc.DutyResult {
			return voteDuty(a, chain.Prevote, 5, 0, &blockB)
		}, validator.ErrConflict},
		{"nil vote where a block was signed", func(a chain.Address) *rpc.DutyResult {
			return voteDuty(a, chain.Prevote, 5, 0, nil)
		}, validator.ErrConflict},
		{"step before the last signed", func(a chain.Address) *rpc.DutyResult {
			return proposalDuty(a, 5, 0, chain.NoPOLRound, blockA)
		}, validator.ErrRegression},
		{"height before the last signed", func(a chain.Address) *rpc.DutyResult {
			return voteDuty(a, chain.Precommit, 4, 3, &blockA)
		}, validator.ErrRegression},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newDutySigner(t)
			signed := voteDuty(s.addr, chain.Prevote, 5, 0, &blockA)
			if _, err := s.sign(signed); err != nil {
				t.Fatal(err)
			}
			before := s.guard.Last()
			_, err := s.sign(tt.duty(s.addr))
			if !isRefusal(err) {
				t.Fatalf("got %v, want a refusal", err)
			}
			want := tt.guard
			if want == nil {
				want = errRefused
			}
			if !errors.Is(err, want) {
				t.Errorf("got %v, want %v", err, want)
			}
			if after := s.guard.Last(); after != before {
				t.Errorf("refused request changed the signer state: %+v, was %+v", after, before)
			}
		})
	}
}

func TestDutySignerResignsIdentical(t *testing.T) {
	s, path := newDutySigner(t)
	block := chain.Hash{0xaa}
	d := voteDuty(s.addr, chain.Precommit, 9, 2, &block)
	first, err := s.sign(d)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.sign(d)
	if err != nil || again != first {
		t.Errorf("identical request signed again: %x (%v), want %x", again, err, first)
	}
	// The node asks again after vote restarted: the same signature, from
	// the state file.
	d.ID = 1 // a restarted node numbers its requests again
	restarted := reopenDutySigner(t, s, path)
	again, err = restarted.sign(d)
	if err != nil || again != first {
		t.Errorf("after restart: %x (%v), want %x", again, err, first)
	}
	other := chain.Hash{0xbb}
	if _, err := restarted.sign(voteDuty(s.addr, chain.Precommit, 9, 2, &other)); !errors.Is(err, validator.ErrConflict) {
		t.Errorf("conflicting request after restart: %v, want %v", err, validator.ErrConflict)
	}
}

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
	key, addr, err := validator.LoadKeyFileAddress(n.KeyFile, n.password)
	if err != nil {
		t.Fatal(err)
	}
	guard, err := validator.NewGuard(validator.FileState{Path: filepath.Join(t.TempDir(), "state.json")})
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	v := newVoter(&dutySigner{addr: addr, key: key, guard: guard}, n.URL, &stdout, &stderr, true)
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
