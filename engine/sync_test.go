package engine_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/engine"
	"github.com/quorumchain/quorumchain/p2p"
)

// syncFixture is a chain of final blocks made by validators 0-2, and a
// fresh validator 3 that has none of them.
type syncFixture struct {
	c      *cluster
	lone   *validatorProc
	blocks []*chain.Block // by height-1
	certs  []*chain.Certificate
}

func newSyncFixture(t *testing.T, heights uint64, setup func(d *disk)) *syncFixture {
	t.Helper()
	nw := newNetwork(t)
	c := newCluster(t, nw, []int{0, 1, 2}, nil)
	c.runUntil("chain", c.allAt(heights+1, 0, 1, 2))
	fx := &syncFixture{c: c}
	for h := uint64(1); h <= heights; h++ {
		b, cert := c.final(0, h)
		fx.blocks, fx.certs = append(fx.blocks, b), append(fx.certs, cert)
	}
	d := nw.newDisk(t)
	if setup != nil {
		setup(d)
	}
	var err error
	if fx.lone, err = nw.start(t, 3, d, &faults{}); err != nil {
		t.Fatal(err)
	}
	return fx
}

func (fx *syncFixture) commit(h uint64) consensus.CommitReceived {
	return consensus.CommitReceived{Block: fx.blocks[h-1], Certificate: fx.certs[h-1]}
}

// bogus is the block of height h with a certificate that does not certify
// it: its signatures are for another block.
func (fx *syncFixture) bogus(h uint64) consensus.CommitReceived {
	cert := *fx.certs[h-1]
	cert.BlockHash = chain.Hash{0xba, 0xd}
	blk := *fx.blocks[h-1]
	blk.Header.Time++ // another block, which the certificate names
	cert.BlockHash = blk.Hash()
	return consensus.CommitReceived{Block: &blk, Certificate: &cert}
}

// askedFor returns the peers the lone validator asked for height h, in order.
func (fx *syncFixture) askedFor(h uint64) []int {
	var out []int
	for _, r := range fx.lone.net.requests {
		if r.height == h {
			out = append(out, int(r.peer[0])-1)
		}
	}
	return out
}

// TestBogusSyncAnswerFromUnaskedPeerIgnored: a block-sync answer from a
// peer that was not asked for that height is dropped, so it cannot take
// the place of the honest answer of the peer that was; a bad answer from
// the peer asked reports that peer.
func TestBogusSyncAnswerFromUnaskedPeerIgnored(t *testing.T) {
	fx := newSyncFixture(t, 2, nil)
	d := fx.lone.d
	if err := d.PeerStatus(peerID(0), 2); err != nil {
		t.Fatal(err)
	}
	if got := fx.askedFor(1); !slices.Equal(got, []int{0}) {
		t.Fatalf("asked %v for height 1, want [0]", got)
	}
	if err := d.Receive(peerID(1), fx.bogus(1)); err != nil {
		t.Fatalf("an unasked peer's bogus answer: %v", err)
	}
	if err := d.Receive(peerID(1), fx.commit(1)); err != nil {
		t.Fatal(err)
	}
	if d.Height() != 1 || len(fx.lone.net.misbehaved) != 0 {
		t.Fatalf("an unasked peer's answers were taken: height %d, reported %v", d.Height(), fx.lone.net.misbehaved)
	}
	if err := d.Receive(peerID(0), fx.commit(1)); err != nil {
		t.Fatal(err)
	}
	if d.Height() != 2 {
		t.Fatalf("the asked peer's honest answer was not taken: at height %d", d.Height())
	}
	// Height 2 was asked of peer 0 too; its bad answer reports it.
	if err := d.Receive(peerID(0), fx.bogus(2)); err != nil && !errors.Is(err, engine.ErrHalt) {
		t.Fatal(err)
	} else if err != nil {
		t.Fatalf("a bad certificate halted the driver: %v", err)
	}
	if d.Height() != 2 || !slices.Equal(fx.lone.net.misbehaved, []p2p.NodeID{peerID(0)}) {
		t.Fatalf("after a bad certificate from the asked peer: height %d, reported %v", d.Height(), fx.lone.net.misbehaved)
	}
}

// TestSyncTimesOutAndAsksAnotherPeer: a height asked of a peer that does
// not answer within the retry interval is asked of another peer, and the
// late answer of the first is no longer taken.
func TestSyncTimesOutAndAsksAnotherPeer(t *testing.T) {
	clock := &stepClock{now: genesisTime.Add(time.Hour)}
	fx := newSyncFixture(t, 2, func(d *disk) { d.clock = clock })
	d := fx.lone.d
	for _, i := range []int{0, 1} {
		if err := d.PeerStatus(peerID(i), 2); err != nil {
			t.Fatal(err)
		}
	}
	first := fx.askedFor(1)
	if len(first) != 1 {
		t.Fatalf("asked %v for height 1, want one peer", first)
	}
	if err := d.StatusTick(); err != nil {
		t.Fatal(err)
	}
	if got := fx.askedFor(1); len(got) != 1 {
		t.Fatalf("asked again before the retry interval: %v", got)
	}
	clock.now = clock.now.Add(3 * time.Second)
	if err := d.StatusTick(); err != nil {
		t.Fatal(err)
	}
	asked := fx.askedFor(1)
	if len(asked) != 2 || asked[1] == asked[0] {
		t.Fatalf("after the retry interval height 1 was asked of %v, want another peer than %d", asked, first[0])
	}
	if err := d.Receive(peerID(asked[0]), fx.commit(1)); err != nil {
		t.Fatal(err)
	}
	if d.Height() != 1 {
		t.Fatal("the timed-out peer's late answer was taken")
	}
	if err := d.Receive(peerID(asked[1]), fx.commit(1)); err != nil {
		t.Fatal(err)
	}
	if d.Height() != 2 {
		t.Fatalf("the answer of the peer asked second was not taken: at height %d", d.Height())
	}
}

// TestSlowClockDoesNotHaltOnCertifiedBlock: a validator whose clock runs
// behind the proposer's does not prevote the proposal (its time is too far
// ahead), but when block sync brings the same block with its certificate
// it decides it instead of halting with a state divergence.
func TestSlowClockDoesNotHaltOnCertifiedBlock(t *testing.T) {
	fx := newSyncFixture(t, 2, func(d *disk) { d.clock = fixedClock{genesisTime.Add(30 * time.Second)} })
	d := fx.lone.d
	c := fx.c
	// The proposal of height 1 reaches it; it checks the block.
	var prop *chain.Proposal
	for _, i := range []int{0, 1, 2} {
		for _, p := range c.procs[i].net.proposals {
			if p.Height == 1 && p.BlockHash == fx.blocks[0].Hash() {
				prop = p
			}
		}
	}
	if prop == nil {
		t.Fatal("no proposal of the final block of height 1")
	}
	if err := d.Receive(peerID(0), consensus.ProposalReceived{Proposal: prop, Block: fx.blocks[0]}); err != nil {
		t.Fatal(err)
	}
	if prop.Round != 0 {
		t.Fatalf("height 1 was decided at round %d; the fixture expects round 0", prop.Round)
	}
	prevoted := false
	for _, v := range fx.lone.net.votes {
		if v.Type == chain.Prevote && v.Height == 1 && v.Round == 0 {
			prevoted = true
			if v.BlockHash != (chain.Hash{}) {
				t.Fatal("prevoted a block whose time is more than the drift ahead of the local clock")
			}
		}
	}
	if !prevoted {
		t.Fatal("no prevote at round 0 after the proposal")
	}
	if err := d.PeerStatus(peerID(0), 2); err != nil {
		t.Fatal(err)
	}
	for h := uint64(1); h <= 2; h++ {
		if err := d.Receive(peerID(0), fx.commit(h)); err != nil {
			t.Fatalf("certified block of height %d: %v", h, err)
		}
	}
	if d.Height() != 3 {
		t.Fatalf("at height %d after two certified blocks, want 3", d.Height())
	}
}
