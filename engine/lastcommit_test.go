package engine_test

import (
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	ct "github.com/quorumchain/quorumchain/consensus/consensustest"
	"github.com/quorumchain/quorumchain/engine"
)

// TestLatePrecommitsJoinTheNextCertificate: a validator whose precommit
// for height 1 arrives after the others decided is still in the
// certificate block 2 carries for block 1, so it is neither unpaid nor
// counted as missing for downtime. A precommit with a bad signature, or for
// another block, is not taken.
func TestLatePrecommitsJoinTheNextCertificate(t *testing.T) {
	nw := newNetwork(t)
	c := newCluster(t, nw, []int{0, 1, 2}, func(_ int, d *disk) {
		d.config = func(cfg *engine.Config) { cfg.Machine.BlockInterval = 100 * time.Millisecond }
	})
	c.runUntil("height 1 decided by validators 0-2", c.allAt(2, 0, 1, 2))
	_, cert := c.final(0, 1)
	if len(cert.Precommits) != 3 {
		t.Fatalf("certificate of height 1 has %d precommits, want the 3 running validators'", len(cert.Precommits))
	}
	late := ct.SignVote(nw.keys[3], testChainID, chain.Precommit, 1, cert.Round, cert.BlockHash)
	forged := *late
	forged.Signature[7] ^= 0xff
	other := ct.SignVote(nw.keys[3], testChainID, chain.Precommit, 1, cert.Round, chain.Hash{0xbb})
	for _, v := range []*chain.Vote{&forged, other, late} {
		c.toOthers(3, consensus.VoteReceived{Vote: v})
	}
	c.runUntil("height 2 decided", c.allAt(3, 0, 1, 2))
	b2, _ := c.final(0, 2)
	got := b2.LastCertificate
	if len(got.Precommits) != 4 {
		t.Fatalf("block 2 carries a certificate of %d precommits for block 1, want 4 (the late one included)", len(got.Precommits))
	}
	for _, p := range got.Precommits {
		if p.Validator == late.Validator && p.Signature != late.Signature {
			t.Fatal("the late validator's entry is not its valid precommit")
		}
	}
	if _, err := got.Verify(testChainID, nw.set); err != nil {
		t.Fatalf("extended certificate does not verify: %v", err)
	}
	if b2.Header.LastCertHash != got.Hash() {
		t.Fatal("block 2's header does not commit to the certificate it carries")
	}
}
