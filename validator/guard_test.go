package validator

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
)

const testChain = "quorum-test"

func testKey(t *testing.T, n int64) *ecdsa.PrivateKey {
	t.Helper()
	b := make([]byte, 32)
	big.NewInt(n).FillBytes(b)
	k, err := crypto.ToECDSA(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func vote(k *ecdsa.PrivateKey, typ chain.VoteType, h uint64, r uint32, block byte) *chain.Vote {
	v := &chain.Vote{Type: typ, Height: h, Round: r, Validator: chain.PubkeyAddress(&k.PublicKey)}
	if block != 0 {
		v.BlockHash = chain.Hash{block}
	}
	return v
}

func TestGuardRules(t *testing.T) {
	k := testKey(t, 1)
	s, err := NewLocalSigner(k, &MemoryState{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first := vote(k, chain.Prevote, 5, 1, 0xaa)
	if err := s.SignVote(ctx, testChain, first); err != nil {
		t.Fatal(err)
	}
	if err := first.Verify(testChain); err != nil {
		t.Fatalf("signed vote does not verify: %v", err)
	}
	again := vote(k, chain.Prevote, 5, 1, 0xaa)
	if err := s.SignVote(ctx, testChain, again); err != nil || again.Signature != first.Signature {
		t.Fatalf("identical request: %v, same signature %v", err, again.Signature == first.Signature)
	}
	cases := []struct {
		name string
		v    *chain.Vote
		want error
	}{
		{"conflicting prevote same round", vote(k, chain.Prevote, 5, 1, 0xbb), ErrConflict},
		{"nil prevote same round", vote(k, chain.Prevote, 5, 1, 0), ErrConflict},
		{"earlier round", vote(k, chain.Precommit, 5, 0, 0xaa), ErrRegression},
		{"earlier height", vote(k, chain.Precommit, 4, 9, 0xaa), ErrRegression},
	}
	for _, c := range cases {
		if err := s.SignVote(ctx, testChain, c.v); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
		if c.v.Signature != (chain.Signature{}) {
			t.Errorf("%s: refused request got a signature", c.name)
		}
	}
	if err := s.SignVote(ctx, testChain, vote(k, chain.Precommit, 5, 1, 0xaa)); err != nil {
		t.Fatalf("precommit after prevote: %v", err)
	}
	p := &chain.Proposal{Height: 5, Round: 1, POLRound: chain.NoPOLRound, BlockHash: chain.Hash{1}, Proposer: s.Address()}
	if err := s.SignProposal(ctx, testChain, p); !errors.Is(err, ErrRegression) {
		t.Fatalf("proposal after precommit in the same round: %v", err)
	}
	p.Round = 2
	if err := s.SignProposal(ctx, testChain, p); err != nil || p.Verify(testChain) != nil {
		t.Fatalf("proposal in the next round: %v", err)
	}
	other := vote(testKey(t, 2), chain.Prevote, 9, 0, 1)
	if err := s.SignVote(ctx, testChain, other); err == nil {
		t.Fatal("signed a vote of another validator")
	}
}

// failingState fails every Save: the signature must not be released.
type failingState struct{ MemoryState }

func (*failingState) Save(LastSigned) error { return errors.New("disk full") }

func TestGuardReleasesNothingUnpersisted(t *testing.T) {
	k := testKey(t, 1)
	s, err := NewLocalSigner(k, &failingState{})
	if err != nil {
		t.Fatal(err)
	}
	v := vote(k, chain.Prevote, 1, 0, 1)
	if err := s.SignVote(context.Background(), testChain, v); err == nil || v.Signature != (chain.Signature{}) {
		t.Fatalf("got %v with signature set=%v", err, v.Signature != (chain.Signature{}))
	}
	// Nothing was recorded either: the same request may be retried.
	if last := s.Guard().Last(); last.Step != 0 {
		t.Fatalf("unpersisted record kept: %+v", last)
	}
}

func TestFileStateSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signer_state.json")
	k := testKey(t, 3)
	s, err := NewLocalSigner(k, FileState{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for r := uint32(0); r < 3; r++ {
		if err := s.SignVote(ctx, testChain, vote(k, chain.Prevote, 7, r, 0xaa)); err != nil {
			t.Fatal(err)
		}
	}
	signed := vote(k, chain.Precommit, 7, 2, 0xaa)
	if err := s.SignVote(ctx, testChain, signed); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Size() != stateFileSize {
		t.Fatalf("state file: %v size %d", err, info.Size())
	}
	// A restarted signer (new process) refuses to sign anything conflicting
	// and re-issues the identical signature.
	s2, err := NewLocalSigner(k, FileState{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.SignVote(ctx, testChain, vote(k, chain.Precommit, 7, 2, 0xbb)); !errors.Is(err, ErrConflict) {
		t.Fatalf("conflict after restart: %v", err)
	}
	same := vote(k, chain.Precommit, 7, 2, 0xaa)
	if err := s2.SignVote(ctx, testChain, same); err != nil || same.Signature != signed.Signature {
		t.Fatalf("identical after restart: %v", err)
	}
	if err := s2.SignVote(ctx, testChain, vote(k, chain.Prevote, 7, 1, 0xaa)); !errors.Is(err, ErrRegression) {
		t.Fatalf("regression after restart: %v", err)
	}
	// A corrupt record stops the signer instead of letting it sign.
	if err := os.WriteFile(path, []byte(`{"height":"7","rou`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewLocalSigner(k, FileState{Path: path}); err == nil {
		t.Fatal("corrupt signer state accepted")
	}
}

func TestRemoteSigner(t *testing.T) {
	k := testKey(t, 4)
	addr := chain.PubkeyAddress(&k.PublicKey)
	notified := make(chan Duty, 4)
	rs := NewRemoteSigner(addr, func(d Duty) { notified <- d })
	v := vote(k, chain.Precommit, 3, 0, 0xcc)
	done := make(chan error, 1)
	go func() { done <- rs.SignVote(context.Background(), testChain, v) }()
	var d Duty
	select {
	case d = <-notified:
	case <-time.After(5 * time.Second):
		t.Fatal("no duty published")
	}
	if ds := rs.Duties(); len(ds) != 1 || ds[0].ID != d.ID || d.Kind != StepPrecommit || d.SignHash != v.SignHash(testChain) {
		t.Fatalf("duties %+v, notified %+v", ds, d)
	}
	wrong, err := chain.Sign(testKey(t, 5), d.SignHash)
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Submit(d.ID, wrong); !errors.Is(err, chain.ErrWrongSigner) {
		t.Fatalf("signature by another key: %v", err)
	}
	if err := rs.Submit(d.ID+100, wrong); !errors.Is(err, ErrUnknownDuty) {
		t.Fatalf("unknown duty: %v", err)
	}
	sig, err := chain.Sign(k, d.SignHash)
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Submit(d.ID, sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil || v.Verify(testChain) != nil {
			t.Fatalf("remote vote: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("SignVote did not return after Submit")
	}
	if len(rs.Duties()) != 0 {
		t.Fatal("answered duty still pending")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := rs.SignVote(ctx, testChain, vote(k, chain.Prevote, 4, 0, 1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled request: %v", err)
	}
}
