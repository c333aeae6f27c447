package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/chaintest"
	"github.com/quorumchain/quorumchain/light"
	"github.com/quorumchain/quorumchain/light/lighttest"
	"github.com/quorumchain/quorumchain/staking"
)

// verifyChain is a chain of 8 heights whose validator set grows at height
// 3 (a candidate registers in block 1), with its genesis file.
func verifyChain(t *testing.T) (*lighttest.Chain, string) {
	t.Helper()
	c := lighttest.New(t, staking.Params{}, []uint64{10, 10, 10}, []uint64{100})
	a := chaintest.Addr(chaintest.AccountKey(0))
	c.Next(t, c.Tx(t, a, chain.TxStake, a, 50))
	c.Empty(t, 8)
	path := filepath.Join(t.TempDir(), "genesis.json")
	if err := c.Doc.Save(path); err != nil {
		t.Fatal(err)
	}
	return c, path
}

// oldSet makes src serve set as the validator set of height h.
func oldSet(src *lighttest.Source, h uint64, set *staking.ValidatorSet) *lighttest.Source {
	src.EditSet = func(height uint64, real *staking.ValidatorSet) *staking.ValidatorSet {
		if height == h {
			return set
		}
		return real
	}
	return src
}

func serveNode(t *testing.T, src *lighttest.Source) string {
	t.Helper()
	u, _ := lighttest.NewNode(src).Serve(t, false)
	return u
}

func TestVerifyCommand(t *testing.T) {
	c, gen := verifyChain(t)
	url := serveNode(t, c.Source())
	out := quorumchain(t, "verify", "--genesis", gen, "--rpc", url).ok(t)
	for _, want := range []string{"verified height 8 " + chain.FormatHash(c.Block(8).Hash()), "certificate: round 0, 4 signers holding 80 of 80 stake"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	var r verifyResult
	decodeJSON(t, quorumchain(t, "verify", "--genesis", gen, "--rpc", url, "--height", "2", "--output", "json").ok(t), &r)
	if r.Height != 2 || r.Hash != c.Block(2).Hash() || r.Header.Hash != r.Hash || len(r.Certificate.Signatures) != 3 {
		t.Errorf("json: height %d hash %x with %d signatures, want 2 %x with 3", r.Height, r.Hash, len(r.Certificate.Signatures), c.Block(2).Hash())
	}
}

func TestVerifyCommandRefuses(t *testing.T) {
	c, gen := verifyChain(t)
	edit := func(h uint64, f func(*light.SignedHeader) *light.SignedHeader) *lighttest.Source {
		src := c.Source()
		src.Edit = func(sh *light.SignedHeader) *light.SignedHeader {
			if sh.Header.Height == h {
				return f(sh)
			}
			return sh
		}
		return src
	}
	tests := []struct {
		name string
		src  *lighttest.Source
		args []string
		want string
	}{
		{"forged signature", edit(8, func(sh *light.SignedHeader) *light.SignedHeader {
			cert := *sh.Certificate
			cert.Precommits = append([]chain.CommitSig(nil), cert.Precommits...)
			cert.Precommits[1].Signature[3] ^= 1
			return &light.SignedHeader{Header: sh.Header, Certificate: &cert}
		}), nil, "the latest header from ws://"},
		{"parent does not link", edit(5, func(sh *light.SignedHeader) *light.SignedHeader {
			hd := sh.Header
			hd.ParentHash = c.Block(2).Hash()
			return &light.SignedHeader{Header: hd, Certificate: c.Certify(t, &hd, 0, c.Members(5)...)}
		}), []string{"--height", "5", "--sequential"}, "parent hash does not link"},
		{"certificate of the old set", oldSet(edit(6, func(sh *light.SignedHeader) *light.SignedHeader {
			return &light.SignedHeader{Header: sh.Header, Certificate: c.Certify(t, &sh.Header, 0, c.Members(1)...)}
		}), 6, c.Set(1)), []string{"--height", "6"}, "validator set mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := serveNode(t, tt.src)
			r := quorumchain(t, append([]string{"verify", "--genesis", gen, "--rpc", url}, tt.args...)...)
			r.fails(t, tt.want)
			if !strings.Contains(r.stderr, "does not verify") {
				t.Errorf("stderr does not say it does not verify: %s", r.stderr)
			}
		})
	}
}

func TestVerifyCommandDetectsFork(t *testing.T) {
	c, gen := verifyChain(t)
	primary, witness := serveNode(t, c.Source()), serveNode(t, c.Fork(t, 6))
	r := quorumchain(t, "verify", "--genesis", gen, "--rpc", primary, "--witness", witness, "--output", "json")
	r.fails(t, "fork detected")
	var o forkOutput
	decodeJSON(t, r.stdout, &o)
	if o.Fork.Height < 6 || o.Fork.Witness != witness || len(o.Fork.DoubleSigns) != 4 || o.Fork.Primary.Header.Hash == o.Fork.Conflicting.Header.Hash {
		t.Fatalf("fork output: %+v", o.Fork)
	}
	ev, err := chain.DecodeEvidence(o.Fork.DoubleSigns[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Verify(lighttest.ChainID, c.Set(o.Fork.Height)); err != nil {
		t.Fatalf("printed evidence does not verify: %v", err)
	}
	// The same witness serving the same chain agrees.
	quorumchain(t, "verify", "--genesis", gen, "--rpc", primary, "--witness", primary).ok(t)
}
