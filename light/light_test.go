package light_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/chaintest"
	"github.com/quorumchain/quorumchain/light"
	"github.com/quorumchain/quorumchain/light/lighttest"
	"github.com/quorumchain/quorumchain/staking"
)

// changingChain builds 16 heights whose validator set changes at heights
// 3, 5, 7, 9 and 11: candidates register and validators leave.
func changingChain(t testing.TB) *lighttest.Chain {
	t.Helper()
	c := lighttest.New(t, staking.Params{}, []uint64{10, 10, 10, 10}, []uint64{1000, 1000, 1000, 1000})
	v := func(i int) chain.Address { return chaintest.Addr(chaintest.ValidatorKey(i)) }
	a := func(i int) chain.Address { return chaintest.Addr(chaintest.AccountKey(i)) }
	for h := uint64(1); h <= 16; h++ {
		var txs []*chain.Tx
		switch h {
		case 1:
			txs = append(txs, c.Tx(t, a(0), chain.TxStake, a(0), 30))
		case 3:
			txs = append(txs, c.Tx(t, a(1), chain.TxStake, a(1), 40))
		case 5:
			txs = append(txs, c.Tx(t, v(0), chain.TxUnstake, v(0), 10))
		case 7:
			txs = append(txs, c.Tx(t, v(1), chain.TxUnstake, v(1), 10), c.Tx(t, v(2), chain.TxUnstake, v(2), 10))
		case 9:
			txs = append(txs, c.Tx(t, a(2), chain.TxStake, a(2), 50))
		}
		c.Next(t, txs...)
	}
	return c
}

func genesisClient(t testing.TB, c *lighttest.Chain, primary light.Source, opts light.Options) *light.Client {
	t.Helper()
	lc, err := light.FromGenesis(c.Doc, primary, opts)
	if err != nil {
		t.Fatal(err)
	}
	return lc
}

func TestChainChangesValidatorSetsAtHPlus2(t *testing.T) {
	c := changingChain(t)
	for h := uint64(1); h <= c.Height(); h++ {
		changed := c.Set(h+1).Hash() != c.Set(h).Hash()
		want := h+1 == 3 || h+1 == 5 || h+1 == 7 || h+1 == 9 || h+1 == 11
		if changed != want {
			t.Errorf("set of height %d changed=%v, want %v", h+1, changed, want)
		}
		if got := c.Block(h).Header.NextValidatorsHash; got != c.Set(h+1).Hash() {
			t.Errorf("header %d commits to next set %x, want %x", h, got, c.Set(h+1).Hash())
		}
	}
}

func TestAcceptsChainAcrossValidatorSetChanges(t *testing.T) {
	c := changingChain(t)
	ctx := context.Background()
	t.Run("every height", func(t *testing.T) {
		lc := genesisClient(t, c, c.Source(), light.Options{TrustingBlocks: 1})
		for h := uint64(1); h <= c.Height(); h++ {
			tr, err := lc.VerifyHeight(ctx, h)
			if err != nil {
				t.Fatalf("height %d: %v", h, err)
			}
			if tr.Hash != c.Block(h).Hash() || tr.NextValidators.Hash() != c.Set(h+1).Hash() {
				t.Fatalf("height %d: verified %x with next set %x, want %x, %x", h, tr.Hash, tr.NextValidators.Hash(), c.Block(h).Hash(), c.Set(h+1).Hash())
			}
		}
	})
	t.Run("skipping to the latest", func(t *testing.T) {
		lc := genesisClient(t, c, c.Source(), light.Options{})
		tr, err := lc.VerifyLatest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Height != c.Height() || tr.Hash != c.Block(c.Height()).Hash() {
			t.Fatalf("verified h=%d %x, want h=%d %x", tr.Height, tr.Hash, c.Height(), c.Block(c.Height()).Hash())
		}
		// Of the genesis set (v0..v3, 40), only v3 (10) signed height 16:
		// a direct skip is refused, so the client bisects (through height
		// 8), fetching fewer headers than it would one by one.
		if n := lc.Fetches(); n < 2 || n >= int(c.Height()) {
			t.Errorf("fetched %d headers, want bisection (2 to %d)", n, c.Height()-1)
		}
	})
	t.Run("skip with a third of the trusted stake", func(t *testing.T) {
		// From height 2 (set {v0..v3}, next the same), height 4 is signed
		// by v3, a0 and a1... fewer than a third of the trusted 40: 10.
		// From height 4 the trusted next set holds a0 (30 of 70): height 6
		// is signed by a0, a1, v1..v3 and can be trusted directly.
		lc := genesisClient(t, c, c.Source(), light.Options{})
		if _, err := lc.VerifyHeight(ctx, 4); err != nil {
			t.Fatal(err)
		}
		before := lc.Fetches()
		if _, err := lc.VerifyHeight(ctx, 6); err != nil {
			t.Fatal(err)
		}
		if n := lc.Fetches() - before; n != 1 {
			t.Errorf("h=4 to h=6 fetched %d headers, want 1 (a direct skip)", n)
		}
	})
}

// edited returns a source serving c with f applied to the header of
// height h.
func edited(c *lighttest.Chain, h uint64, f func(*light.SignedHeader) *light.SignedHeader) *lighttest.Source {
	src := c.Source()
	src.Edit = func(sh *light.SignedHeader) *light.SignedHeader {
		if sh.Header.Height == h {
			return f(sh)
		}
		return sh
	}
	return src
}

func TestRejectsForgedCertificates(t *testing.T) {
	c := changingChain(t)
	const h = 6
	outsider := chaintest.Addr(chaintest.AccountKey(3)) // never a validator
	tests := []struct {
		name string
		edit func(*light.SignedHeader) *light.SignedHeader
		want error
	}{
		{"a signature byte flipped", func(sh *light.SignedHeader) *light.SignedHeader {
			cert := *sh.Certificate
			cert.Precommits = append([]chain.CommitSig(nil), cert.Precommits...)
			cert.Precommits[0].Signature[5] ^= 1
			return &light.SignedHeader{Header: sh.Header, Certificate: &cert}
		}, light.ErrBadCertificate},
		{"signed by a non-member", func(sh *light.SignedHeader) *light.SignedHeader {
			signers := append(c.Members(h)[1:], outsider)
			return &light.SignedHeader{Header: sh.Header, Certificate: c.Certify(t, &sh.Header, 0, signers...)}
		}, light.ErrBadCertificate},
		{"exactly two thirds of the stake", func(sh *light.SignedHeader) *light.SignedHeader {
			// Height 6's set: v1..v3 (10 each), a0 (30), a1 (40): total 90.
			// a0 + a1 hold 70 > 60; v1+v2+v3+a0 hold 60 = 2/3, not more.
			signers := []chain.Address{}
			for _, a := range c.Members(h) {
				if a != chaintest.Addr(chaintest.AccountKey(1)) {
					signers = append(signers, a)
				}
			}
			return &light.SignedHeader{Header: sh.Header, Certificate: c.Certify(t, &sh.Header, 0, signers...)}
		}, light.ErrBadCertificate},
		{"certificate of another block", func(sh *light.SignedHeader) *light.SignedHeader {
			return &light.SignedHeader{Header: sh.Header, Certificate: c.Block(h - 1).Certificate}
		}, light.ErrHeightMismatch},
		{"header changed under its certificate", func(sh *light.SignedHeader) *light.SignedHeader {
			hd := sh.Header
			hd.StateHash[0] ^= 1
			return &light.SignedHeader{Header: hd, Certificate: sh.Certificate}
		}, light.ErrCertificateMismatch},
		{"no certificate", func(sh *light.SignedHeader) *light.SignedHeader {
			return &light.SignedHeader{Header: sh.Header}
		}, light.ErrBadCertificate},
	}
	for _, tt := range tests {
		for _, mode := range []struct {
			name     string
			trusting uint64
		}{{"sequential", 1}, {"skipping", 20}} {
			t.Run(tt.name+"/"+mode.name, func(t *testing.T) {
				lc := genesisClient(t, c, edited(c, h, tt.edit), light.Options{TrustingBlocks: mode.trusting})
				_, err := lc.VerifyHeight(context.Background(), h)
				if !errors.Is(err, tt.want) || !errors.Is(err, light.ErrInvalid) {
					t.Fatalf("got %v, want %v", err, tt.want)
				}
				if lc.Latest().Height >= h {
					t.Fatalf("trusted h=%d after a forged certificate", lc.Latest().Height)
				}
			})
		}
	}
}

func TestRejectsCertificateFromWrongSet(t *testing.T) {
	c := changingChain(t)
	const h = 8 // set of height 8: v1, v2, v3, a0, a1; genesis set: v0..v3
	genesisSet := c.Set(1)
	t.Run("the node serves the old set for the header", func(t *testing.T) {
		src := edited(c, h, func(sh *light.SignedHeader) *light.SignedHeader {
			return &light.SignedHeader{Header: sh.Header, Certificate: c.Certify(t, &sh.Header, 0, c.Members(1)...)}
		})
		src.EditSet = func(height uint64, set *staking.ValidatorSet) *staking.ValidatorSet {
			if height == h {
				return genesisSet
			}
			return set
		}
		for _, trusting := range []uint64{1, 20} {
			lc := genesisClient(t, c, src, light.Options{TrustingBlocks: trusting})
			if _, err := lc.VerifyHeight(context.Background(), h); !errors.Is(err, light.ErrValidatorsMismatch) {
				t.Fatalf("trusting %d: got %v, want %v", trusting, err, light.ErrValidatorsMismatch)
			}
		}
	})
	t.Run("the header claims the old set", func(t *testing.T) {
		src := edited(c, h, func(sh *light.SignedHeader) *light.SignedHeader {
			hd := sh.Header
			hd.ValidatorsHash = genesisSet.Hash()
			return &light.SignedHeader{Header: hd, Certificate: c.Certify(t, &hd, 0, c.Members(1)...)}
		})
		src.EditSet = func(height uint64, set *staking.ValidatorSet) *staking.ValidatorSet {
			if height == h {
				return genesisSet
			}
			return set
		}
		lc := genesisClient(t, c, src, light.Options{TrustingBlocks: 1})
		if _, err := lc.VerifyHeight(context.Background(), h); !errors.Is(err, light.ErrValidatorsMismatch) {
			t.Fatalf("got %v, want %v", err, light.ErrValidatorsMismatch)
		}
	})
}

func TestRejectsHeaderWhoseParentDoesNotLink(t *testing.T) {
	c := changingChain(t)
	const h = 5
	// The real validators of height 5 certify a header whose parent is
	// not block 4: only the hash link can tell.
	src := edited(c, h, func(sh *light.SignedHeader) *light.SignedHeader {
		hd := sh.Header
		hd.ParentHash = c.Block(3).Hash()
		return &light.SignedHeader{Header: hd, Certificate: c.Certify(t, &hd, 0, c.Members(h)...)}
	})
	lc := genesisClient(t, c, src, light.Options{TrustingBlocks: 1})
	if _, err := lc.VerifyHeight(context.Background(), h-1); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.VerifyHeight(context.Background(), h); !errors.Is(err, light.ErrParentMismatch) {
		t.Fatalf("got %v, want %v", err, light.ErrParentMismatch)
	}
}

func TestRejectsWrongChainAndTimeGoingBack(t *testing.T) {
	c := changingChain(t)
	const h = 3
	for _, tt := range []struct {
		name string
		edit func(*chain.Header)
		want error
	}{
		{"another chain id", func(hd *chain.Header) { hd.ChainID = "other" }, light.ErrWrongChain},
		{"time before the parent", func(hd *chain.Header) { hd.Time = c.Block(h - 1).Header.Time }, light.ErrTimeNotAfter},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := edited(c, h, func(sh *light.SignedHeader) *light.SignedHeader {
				hd := sh.Header
				tt.edit(&hd)
				return &light.SignedHeader{Header: hd, Certificate: c.Certify(t, &hd, 0, c.Members(h)...)}
			})
			lc := genesisClient(t, c, src, light.Options{TrustingBlocks: 1})
			if _, err := lc.VerifyHeight(context.Background(), h); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDetectsForkShownByWitness(t *testing.T) {
	c := changingChain(t)
	const forkAt = 10
	witness := c.Fork(t, forkAt)
	lc := genesisClient(t, c, c.Source(), light.Options{Witnesses: []light.Source{c.Source(), witness}})
	_, err := lc.VerifyLatest(context.Background())
	var fe *light.ForkError
	if !errors.As(err, &fe) {
		t.Fatalf("got %v, want a *ForkError", err)
	}
	ev := fe.Evidence
	if ev.Primary.Height != ev.Witness.Height || ev.Primary.Hash == ev.Witness.Hash || ev.WitnessIndex != 1 {
		t.Fatalf("evidence: primary h=%d %x, witness %d h=%d %x", ev.Primary.Height, ev.Primary.Hash, ev.WitnessIndex, ev.Witness.Height, ev.Witness.Hash)
	}
	if ev.Primary.Height < forkAt || ev.Common.Height >= forkAt {
		t.Fatalf("fork found at h=%d from common h=%d, forked at %d", ev.Primary.Height, ev.Common.Height, forkAt)
	}
	set := c.Set(ev.Primary.Height)
	if len(ev.DoubleSigns) != set.Len() || len(ev.Equivocators) != set.Len() {
		t.Fatalf("%d double signs, %d equivocators; want every member of the set (%d)", len(ev.DoubleSigns), len(ev.Equivocators), set.Len())
	}
	for _, e := range ev.DoubleSigns {
		if err := e.Verify(lighttest.ChainID, set); err != nil {
			t.Errorf("double-sign evidence against %s does not verify: %v", chain.FormatAddress(e.Validator()), err)
		}
	}
	if lc.Latest().Height >= forkAt {
		t.Fatalf("trusted h=%d despite the fork", lc.Latest().Height)
	}
}

func TestFaultyWitnessIsNotAFork(t *testing.T) {
	c := changingChain(t)
	witness := edited(c, c.Height(), func(sh *light.SignedHeader) *light.SignedHeader {
		hd := sh.Header
		hd.StateHash[0] ^= 1
		return &light.SignedHeader{Header: hd, Certificate: sh.Certificate}
	})
	lc := genesisClient(t, c, c.Source(), light.Options{Witnesses: []light.Source{witness}})
	_, err := lc.VerifyLatest(context.Background())
	var fe *light.ForkError
	if errors.As(err, &fe) || !errors.Is(err, light.ErrWitnessFaulty) {
		t.Fatalf("got %v, want %v", err, light.ErrWitnessFaulty)
	}
}

func TestTrustHeader(t *testing.T) {
	c := changingChain(t)
	ctx := context.Background()
	root, err := light.TrustHeader(ctx, lighttest.ChainID, c.Source(), 8, c.Block(8).Hash())
	if err != nil {
		t.Fatal(err)
	}
	lc, err := light.NewClient(lighttest.ChainID, root, c.Source(), light.Options{TrustingBlocks: 20})
	if err != nil {
		t.Fatal(err)
	}
	if tr, err := lc.VerifyLatest(ctx); err != nil || tr.Hash != c.Block(c.Height()).Hash() {
		t.Fatalf("from trusted h=8: %v", err)
	}
	if _, err := lc.VerifyHeight(ctx, 7); !errors.Is(err, light.ErrBelowTrusted) {
		t.Fatalf("below the root: %v", err)
	}
	if _, err := light.TrustHeader(ctx, lighttest.ChainID, c.Source(), 8, c.Block(7).Hash()); !errors.Is(err, light.ErrInvalid) {
		t.Fatalf("wrong trusted hash: %v", err)
	}
}

func TestSkipsStayWithinTheTrustingWindow(t *testing.T) {
	c := changingChain(t)
	src := c.Source()
	lc := genesisClient(t, c, src, light.Options{TrustingBlocks: 3})
	tr, err := lc.VerifyLatest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tr.Hash != c.Block(c.Height()).Hash() {
		t.Fatalf("verified %x, want %x", tr.Hash, c.Block(c.Height()).Hash())
	}
	// Every verified height was fetched: no gap between them (from the
	// root at 0) exceeds the window.
	asked := append([]uint64{0, c.Height()}, src.Asked...) // 0 in Asked is the latest
	slices.Sort(asked)
	for i := 1; i < len(asked); i++ {
		if asked[i]-asked[i-1] > 3 {
			t.Fatalf("heights fetched %v: a hop of more than 3", asked)
		}
	}
}

func TestUnreachableWitnessIsReported(t *testing.T) {
	c := changingChain(t)
	behind := &lighttest.Source{Blocks: c.Blocks[:4], Sets: c.Source().Sets}
	lc := genesisClient(t, c, c.Source(), light.Options{Witnesses: []light.Source{behind}})
	_, err := lc.VerifyLatest(context.Background())
	var we *light.WitnessError
	if !errors.As(err, &we) || we.Index != 0 || !errors.Is(err, light.ErrWitness) || errors.Is(err, light.ErrWitnessFaulty) {
		t.Fatalf("got %v, want a WitnessError for witness 0 (not faulty)", err)
	}
	if lc.Latest().Height != 0 {
		t.Fatalf("trusted h=%d although the witness could not confirm it", lc.Latest().Height)
	}
}
