package engine_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/chaintest"
	"github.com/quorumchain/quorumchain/consensus"
	ct "github.com/quorumchain/quorumchain/consensus/consensustest"
	"github.com/quorumchain/quorumchain/engine"
	"github.com/quorumchain/quorumchain/engine/wal"
)

// fileLog is the engine's log on a file, whose synced size the test reads;
// peak is the largest size seen before a Reset (a height's whole log).
type fileLog struct {
	*wal.Log
	t    *testing.T
	path string
	peak int64
}

func newFileLog(t *testing.T) *fileLog {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cs.wal")
	l, err := wal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return &fileLog{Log: l, t: t, path: path}
}

// size syncs the log and returns the file's size.
func (l *fileLog) size() int64 {
	l.t.Helper()
	if err := l.Sync(); err != nil {
		l.t.Fatal(err)
	}
	fi, err := os.Stat(l.path)
	if err != nil {
		l.t.Fatal(err)
	}
	return fi.Size()
}

func (l *fileLog) Reset(committed uint64) error {
	l.peak = max(l.peak, l.size())
	return l.Log.Reset(committed)
}

// bigBlock is a block of height h with n junk transactions.
func bigBlock(h uint64, proposer chain.Address, n int) *chain.Block {
	b := ct.NewBlock(testChainID, h, proposer, 1)
	for i := range n {
		b.Txs = append(b.Txs, &chain.Tx{ChainID: testChainID, Kind: chain.TxTransfer, Nonce: uint64(i), Amount: 1, Sig: chain.Signature{1}})
	}
	return b
}

// TestFarFutureProposalNotLogged: proposals and votes of a far-future
// height, or signed by a key outside the validator set of their height
// (the next height's included), are neither logged nor relayed, whatever
// their size: the log's bytes do not grow.
func TestFarFutureProposalNotLogged(t *testing.T) {
	nw := newNetwork(t)
	d := nw.newDisk(t)
	lg := newFileLog(t)
	d.log = lg
	self := 1
	p, err := nw.start(t, self, d, &faults{})
	if err != nil {
		t.Fatal(err)
	}
	before, relayed := lg.size(), len(p.net.proposals)+len(p.net.votes)
	outsider := ct.Key(77)
	member := nw.keys[2]
	far := uint64(1) << 62
	for _, tc := range []struct {
		name   string
		key    int // -1: outsider
		height uint64
	}{
		{"far future, outsider", -1, far},
		{"far future, member", 2, far},
		{"next height, outsider", -1, 2},
		{"current height, outsider", -1, 1},
	} {
		key, addr := outsider, ct.Address(77)
		if tc.key >= 0 {
			key, addr = member, chaintest.Addr(member)
		}
		blk := bigBlock(tc.height, addr, 40_000)
		prop := ct.SignProposal(key, testChainID, tc.height, 0, chain.NoPOLRound, blk.Hash())
		if err := p.d.Receive(peerID(5), consensus.ProposalReceived{Proposal: prop, Block: blk}); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for r := range uint32(20) {
			v := ct.SignVote(key, testChainID, chain.Prevote, tc.height, r, blk.Hash())
			if err := p.d.Receive(peerID(5), consensus.VoteReceived{Vote: v}); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
		}
		if after := lg.size(); after != before {
			t.Fatalf("%s: the log grew from %d to %d bytes", tc.name, before, after)
		}
		if n := len(p.net.proposals) + len(p.net.votes); n != relayed {
			t.Fatalf("%s: %d messages relayed", tc.name, n-relayed)
		}
	}
}

// TestHonestHeightLogBytes measures what a validator logs for an honest
// height of four validators with empty blocks, and checks it is small.
func TestHonestHeightLogBytes(t *testing.T) {
	nw := newNetwork(t)
	lg := newFileLog(t)
	c := newCluster(t, nw, []int{0, 1, 2, 3}, func(i int, d *disk) {
		if i == 0 {
			d.log = lg
		}
	})
	c.runUntil("height 2", c.allAt(3, 0, 1, 2, 3))
	t.Logf("largest log of a height: %d bytes", lg.peak)
	if lg.peak == 0 || lg.peak > 16<<10 {
		t.Fatalf("an honest height logged %d bytes, want 1..16 KiB", lg.peak)
	}
}

// TestLogShareBoundsPeerVotes: once peers' votes of a height have used the
// height's share of the log, further votes of that height are dropped
// before the Machine (not logged, not relayed), and the driver's own
// records are still logged.
func TestLogShareBoundsPeerVotes(t *testing.T) {
	nw := newNetwork(t)
	const share = 1024
	lg := newFileLog(t)
	d := nw.newDisk(t)
	d.log = lg
	d.config = func(c *engine.Config) { c.MaxLoggedVoteBytes = share }
	self := 1
	p, err := nw.start(t, self, d, &faults{})
	if err != nil {
		t.Fatal(err)
	}
	start := lg.size()
	relayed := len(p.net.votes)
	// Valid votes of members for many rounds and blocks: each counted and
	// logged until the share is used.
	n := 0
	for r := range uint32(5) {
		for _, i := range []int{0, 2, 3} {
			for _, typ := range []chain.VoteType{chain.Prevote, chain.Precommit} {
				v := ct.SignVote(nw.keys[i], testChainID, typ, 1, r, chain.Hash{byte(r), byte(typ)})
				if err := p.d.Receive(peerID(i), consensus.VoteReceived{Vote: v}); err != nil {
					t.Fatal(err)
				}
				n++
			}
		}
	}
	logged := lg.size() - start
	relayedNow := len(p.net.votes) - relayed
	// What the driver does itself in answer (own votes) is logged too:
	// allow one vote record beyond the share for peers', and the own.
	own := 0
	for _, v := range p.net.votes[relayed:] {
		if v.Validator == chaintest.Addr(nw.keys[self]) {
			own++
		}
	}
	peersRelayed := relayedNow - own
	if peersRelayed >= n {
		t.Fatalf("all %d peer votes were relayed; the share of %d bytes admits fewer", n, share)
	}
	if peersRelayed == 0 {
		t.Fatal("no peer vote was admitted")
	}
	if logged > share+4096 {
		t.Fatalf("the log grew by %d bytes with a vote share of %d", logged, share)
	}
	// The driver's own inputs are still logged.
	before := lg.size()
	to, ok := p.timers.next()
	if !ok {
		t.Fatal("no timeout armed")
	}
	delete(p.timers.armed, to)
	if err := p.d.Timeout(to); err != nil {
		t.Fatal(err)
	}
	if lg.size() == before {
		t.Fatalf("a fired timeout (%v) was not logged once the peers' share was used", to)
	}
}

// stepClock is a clock the test moves.
type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time { return c.now }
