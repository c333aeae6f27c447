package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/genesis"
	"github.com/quorumchain/quorumchain/light"
	"github.com/quorumchain/quorumchain/light/lighttest"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/validator"
)

// remoteSigner is a remote signer's key file, password file and state
// file in a temporary directory.
type remoteSigner struct {
	key                    *ecdsa.PrivateKey
	addr                   chain.Address
	keyFile, pwFile, state string
}

func newRemoteSigner(t *testing.T) *remoteSigner {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := &remoteSigner{key: key, addr: chain.PubkeyAddress(&key.PublicKey), keyFile: filepath.Join(dir, "signer.json"),
		pwFile: filepath.Join(dir, "password.txt"), state: filepath.Join(dir, "signer_state.json")}
	if err := validator.CreateKeyFile(s.keyFile, key, "secret", true); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.pwFile, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// prevote is the request a node makes for a prevote of block at height.
func (s *remoteSigner) prevote(id, height uint64, block chain.Hash) rpc.DutyResult {
	return rpc.DutyResult{ID: id, Validator: s.addr, Kind: "prevote", Height: height, Block: &block,
		SignHash: chain.VoteSignHash(lighttest.ChainID, chain.Prevote, height, 0, block)}
}

func (s *remoteSigner) vote(t *testing.T, url string, extra ...string) result {
	t.Helper()
	args := append([]string{"vote", "--key", s.keyFile, "--password-file", s.pwFile, "--state", s.state, "--rpc", url, "--output", "json"}, extra...)
	return quorumchain(t, args...)
}

// lines decodes vote's JSON output by request id.
func dutyLines(t *testing.T, out string) map[uint64]dutyLine {
	t.Helper()
	m := map[uint64]dutyLine{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var d dutyLine
		decodeJSON(t, l, &d)
		m[d.ID] = d
	}
	return m
}

func (s *remoteSigner) lastSigned(t *testing.T) validator.LastSigned {
	t.Helper()
	l, err := validator.FileState{Path: s.state}.Load()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestVoteRefusesFarFutureDuty: a node serving a duty at height 2^63 gets
// it refused, the guard does not move, and the next real duty is signed.
func TestVoteRefusesFarFutureDuty(t *testing.T) {
	c, gen := verifyChain(t)
	for _, mode := range []struct {
		name string
		args []string
	}{{"from genesis", []string{"--genesis", gen}}, {"trust on first use", nil}} {
		t.Run(mode.name, func(t *testing.T) {
			s := newRemoteSigner(t)
			node := lighttest.NewNode(c.Source())
			url, _ := node.Serve(t, false)
			block := chain.Hash{0x99}
			node.SetDuties(s.prevote(1, 1<<63, block), s.prevote(2, c.Height()+1, block))
			r := s.vote(t, url, mode.args...)
			r.fails(t, "refused 1 of 2")
			lines := dutyLines(t, r.stdout)
			if l := lines[1]; l.Result != "refused" || !strings.Contains(l.Reason, "beyond the verified chain tip") {
				t.Errorf("duty at 2^63: %+v, want refused beyond the verified tip", l)
			}
			if l := lines[2]; l.Result != "signed" {
				t.Errorf("real duty: %+v, want signed", l)
			}
			if _, ok := node.Submitted(1); ok {
				t.Error("a signature was submitted for the duty at 2^63")
			}
			sig, ok := node.Submitted(2)
			d := s.prevote(2, c.Height()+1, block)
			if got, err := chain.Recover(d.SignHash, &sig); !ok || err != nil || got != s.addr {
				t.Errorf("real duty: submitted %v, recovers to %s (%v)", ok, chain.FormatAddress(got), err)
			}
			if last := s.lastSigned(t); last.Height != c.Height()+1 {
				t.Errorf("guard at height %d, want %d", last.Height, c.Height()+1)
			}
		})
	}
}

// TestVoteRefusesUnverifiableChain: a node whose latest header carries a
// forged certificate cannot get a duty above it signed.
func TestVoteRefusesUnverifiableChain(t *testing.T) {
	c, gen := verifyChain(t)
	src := c.Source()
	src.Edit = func(sh *light.SignedHeader) *light.SignedHeader {
		if sh.Header.Height != c.Height() {
			return sh
		}
		cert := *sh.Certificate
		cert.Precommits = append([]chain.CommitSig(nil), cert.Precommits...)
		cert.Precommits[0].Signature[9] ^= 1
		return &light.SignedHeader{Header: sh.Header, Certificate: &cert}
	}
	s := newRemoteSigner(t)
	node := lighttest.NewNode(src)
	url, _ := node.Serve(t, false)
	node.SetDuties(s.prevote(1, c.Height()+1, chain.Hash{0x77}))
	r := s.vote(t, url, "--genesis", gen)
	r.fails(t, "refused 1 of 1")
	if l := dutyLines(t, r.stdout)[1]; l.Result != "refused" || !strings.Contains(l.Reason, "bad certificate") {
		t.Errorf("duty above a forged header: %+v", l)
	}
	if last := s.lastSigned(t); last.Step != 0 {
		t.Errorf("guard moved to %+v", last)
	}
}

func TestVotePinsNodeID(t *testing.T) {
	c, gen := verifyChain(t)
	s := newRemoteSigner(t)
	node := lighttest.NewNode(c.Source())
	url, _ := node.Serve(t, false)
	node.SetDuties(s.prevote(1, c.Height()+1, chain.Hash{0x55}))
	s.vote(t, url, "--genesis", gen, "--node-id", "0x00000000000000000000000000000000000000bb").fails(t, "node identity does not match the pinned one")
	if _, ok := node.Submitted(1); ok {
		t.Fatal("signed for a node with another identity")
	}
	s.vote(t, url, "--genesis", gen, "--node-id", node.NodeID).ok(t)
}

func TestVoteOverTLS(t *testing.T) {
	c, gen := verifyChain(t)
	node := lighttest.NewNode(c.Source())
	url, srv := node.Serve(t, true)
	if !strings.HasPrefix(url, "wss://127.0.0.1:") {
		t.Fatalf("url %s", url)
	}
	sum := sha256.Sum256(srv.Certificate().RawSubjectPublicKeyInfo)
	fingerprint := hex.EncodeToString(sum[:])
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	h := c.Height() + 1
	t.Run("pinned key", func(t *testing.T) {
		s := newRemoteSigner(t)
		node.SetDuties(s.prevote(1, h, chain.Hash{0x31}))
		s.vote(t, url, "--genesis", gen, "--tls-fingerprint", fingerprint).ok(t)
		if _, ok := node.Submitted(1); !ok {
			t.Fatal("not signed over wss://")
		}
	})
	t.Run("roots from --tls-ca", func(t *testing.T) {
		s := newRemoteSigner(t)
		node.SetDuties(s.prevote(2, h, chain.Hash{0x32}))
		s.vote(t, url, "--genesis", gen, "--tls-ca", ca).ok(t)
	})
	t.Run("another key", func(t *testing.T) {
		s := newRemoteSigner(t)
		node.SetDuties(s.prevote(3, h, chain.Hash{0x33}))
		s.vote(t, url, "--genesis", gen, "--tls-fingerprint", strings.Repeat("ab", 32)).fails(t, "does not match the pinned one")
		if _, ok := node.Submitted(3); ok {
			t.Fatal("signed for a node with another certificate key")
		}
	})
	t.Run("unknown authority", func(t *testing.T) {
		s := newRemoteSigner(t)
		s.vote(t, url, "--genesis", gen).fails(t, "certificate")
	})
}

// TestVoteFollowRefusesFarFutureDuty runs the --follow loop against the
// fake node: duties arrive on the duties topic; the one at height 2^63 is
// refused and the real one after it is signed.
func TestVoteFollowRefusesFarFutureDuty(t *testing.T) {
	c, gen := verifyChain(t)
	doc, err := genesis.Load(gen)
	if err != nil {
		t.Fatal(err)
	}
	s := newRemoteSigner(t)
	node := lighttest.NewNode(c.Source())
	url, _ := node.Serve(t, false)
	guard, err := validator.NewGuard(validator.FileState{Path: s.state})
	if err != nil {
		t.Fatal(err)
	}
	pins, err := newNodePins("", "", "")
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	v := newVoter(s.key, guard, doc, pins, url, &stdout, &stderr, true)
	ctx, cancel := context.WithTimeout(context.Background(), cliEventTimeout)
	defer cancel()
	n, err := dialURL(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- v.follow(ctx, n) }()
	block := chain.Hash{0x42}
	for _, d := range []rpc.DutyResult{s.prevote(1, 1<<63, block), s.prevote(2, c.Height()+1, block)} {
		if err := node.AddDuty(d); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case id := <-node.Signed():
		if id != 2 {
			t.Fatalf("signed duty %d first, want 2", id)
		}
	case <-ctx.Done():
		t.Fatalf("real duty not signed; stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("follow: %v", err)
	}
	lines := dutyLines(t, stdout.String())
	if l := lines[1]; l.Result != "refused" || !strings.Contains(l.Reason, "beyond the verified chain tip") {
		t.Errorf("duty at 2^63: %+v", l)
	}
	if _, ok := node.Submitted(1); ok {
		t.Error("the duty at 2^63 was signed")
	}
	if last := guard.Last(); last.Height != c.Height()+1 {
		t.Errorf("guard at height %d, want %d", last.Height, c.Height()+1)
	}
}
