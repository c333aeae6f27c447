package engine_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/chaintest"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/engine"
	"github.com/quorumchain/quorumchain/p2p"
)

// heightRun is what one run of height 1 produced.
type heightRun struct {
	final            chain.Hash
	points           []string // fault points reached, across incarnations
	trace            []string // the transcript
	restarts         int
	rejected         int                     // logged inputs rejected on replay
	sentAfterFailure int                     // messages sent after a failed disk write
	ownVotes         map[voteSlot]chain.Hash // what the validator signed, across incarnations
	ownBlocks        map[uint32]chain.Hash   // its proposals by round
	doubleSign       []string
}

type voteSlot struct {
	round uint32
	typ   chain.VoteType
}

// runHeight drives validator self, the proposer of round 0, through height
// 1 while two other validators prevote and precommit its proposal, and
// crashes it once at fault point crashAt (0: never). After a crash the
// validator restarts from what its disk kept, and the others send again
// what they had sent, the proposal they got from it included (as
// catch-up gossip does).
func runHeight(t *testing.T, nw *network, self int, others []int, crashAt int) heightRun {
	t.Helper()
	return runHeightFaults(t, nw, self, others, &faults{crashAt: crashAt})
}

// runHeightFaults is runHeight with the faults f injects: a crash at
// f.crashAt, or a failed disk write at f.failAt, after which the driver
// must halt without sending anything, and the validator restarts.
func runHeightFaults(t *testing.T, nw *network, self int, others []int, f *faults) heightRun {
	t.Helper()
	crashAt := max(f.crashAt, f.failAt)
	d := nw.newDisk(t)
	res := heightRun{ownVotes: map[voteSlot]chain.Hash{}, ownBlocks: map[uint32]chain.Hash{}}
	selfAddr := chaintest.Addr(nw.keys[self])
	var (
		askedCatchup bool
		prop         *chain.Proposal
		block        *chain.Block
		delivered    []consensus.Input
		peer         = p2p.NodeID{9}
	)
	note := func(p *validatorProc) {
		for _, v := range p.net.votes {
			if v.Validator != selfAddr {
				continue
			}
			k := voteSlot{v.Round, v.Type}
			if old, ok := res.ownVotes[k]; ok && old != v.BlockHash {
				res.doubleSign = append(res.doubleSign, v.Type.String())
			}
			res.ownVotes[k] = v.BlockHash
		}
		blocks := p.net.blocks
		for _, p := range p.net.proposals {
			if old, ok := res.ownBlocks[p.Round]; ok && old != p.BlockHash {
				res.doubleSign = append(res.doubleSign, "proposal")
			}
			res.ownBlocks[p.Round] = p.BlockHash
			if prop == nil {
				prop, block = p, blocks[p.BlockHash]
			}
		}
		res.rejected += p.sink.replayRejected
	}
	deliver := func(p *validatorProc, ins []consensus.Input) error {
		return run(func() error {
			for _, in := range ins {
				f.note("recv " + describe(in))
				if err := p.d.Receive(peer, in); err != nil {
					return err
				}
			}
			return nil
		})
	}
	p, err := nw.start(t, self, d, f)
	for iter := 0; d.store.Height() < 1 || err != nil; iter++ {
		if iter == 100 {
			t.Fatalf("crash at point %d: height 1 not final after 100 steps", crashAt)
		}
		note(p)
		p.net.votes, p.net.proposals = nil, nil
		switch {
		case errors.Is(err, engine.ErrHalt) && f.failAt > 0:
			for _, pt := range f.points[f.failAt:] {
				if strings.HasPrefix(pt, "gossip.") {
					res.sentAfterFailure++
				}
			}
			if !errors.Is(err, errDisk) {
				t.Fatalf("write failure at point %d: halted with %v, which does not wrap the disk's error", f.failAt, err)
			}
			f.failAt = 0
			fallthrough
		case errors.Is(err, errCrashed):
			res.restarts++
			f.crashAt = 0
			f.note("restart")
			p, err = nw.start(t, self, d, f)
			askedCatchup = false
			if err == nil {
				err = deliver(p, delivered)
			}
		case err != nil:
			t.Fatalf("crash at point %d: %v", crashAt, err)
		case prop != nil && delivered == nil:
			// The others got the proposal; they relay it with their votes.
			delivered = append(delivered, consensus.ProposalReceived{Proposal: prop, Block: block})
			for _, typ := range []chain.VoteType{chain.Prevote, chain.Precommit} {
				for _, o := range others {
					v := &chain.Vote{Type: typ, Height: 1, Round: prop.Round, BlockHash: prop.BlockHash, Validator: chaintest.Addr(nw.keys[o])}
					sig, serr := chain.Sign(nw.keys[o], v.SignHash(testChainID))
					if serr != nil {
						t.Fatal(serr)
					}
					v.Signature = sig
					delivered = append(delivered, consensus.VoteReceived{Vote: v})
				}
			}
			err = deliver(p, delivered)
		case prop == nil && !askedCatchup:
			// A peer that holds nothing of the height asks for it, as
			// catch-up gossip does; the proposal may come back that way.
			askedCatchup = true
			f.note("peer RoundStatus h=1 holding nothing")
			err = run(func() error { p.d.PeerRoundStatus(peer, &p2p.RoundStatus{Height: 1}); return nil })
		default:
			to, ok := p.timers.next()
			if !ok {
				t.Fatalf("crash at point %d: nothing to do and height 1 not final; round state %+v; points %v", crashAt, p.d.Snapshot().Round, f.points)
			}
			delete(p.timers.armed, to)
			f.note("fire " + describe(to))
			err = run(func() error { return p.d.Timeout(to) })
		}
	}
	if err != nil {
		t.Fatalf("crash at point %d: %v", crashAt, err)
	}
	if got := p.d.Height(); got != 2 {
		t.Fatalf("crash at point %d: at height %d after height 1 is final", crashAt, got)
	}
	note(p)
	res.points, res.trace = f.points, f.trace
	h, err := d.store.BlockHash(1)
	if err != nil {
		t.Fatal(err)
	}
	res.final = h
	return res
}

// TestCrashAtEveryPoint: the proposer of a height is killed at each point
// where it touches its disk or the network in turn (before each log
// append and sync, each save of the signer's record, the commit, each
// broadcast), restarted from what its disk kept (unsynced log records are
// lost), and must: never sign two different things for one slot, reject
// none of its logged inputs on replay, and finalize the same block as a
// run without a crash.
func TestCrashAtEveryPoint(t *testing.T) {
	nw := newNetwork(t)
	self := nw.keyOf(nw.set.Proposer(0))
	var others []int
	for i := range nw.keys {
		if i != self && len(others) < 2 {
			others = append(others, i)
		}
	}
	ref := runHeight(t, nw, self, others, 0)
	if ref.restarts != 0 || len(ref.doubleSign) != 0 || ref.rejected != 0 {
		t.Fatalf("reference run: %d restarts, double signs %v, %d rejected", ref.restarts, ref.doubleSign, ref.rejected)
	}
	if len(ref.points) < 10 {
		t.Fatalf("only %d fault points in a height: the harness is not reaching the driver's I/O", len(ref.points))
	}
	for k := 1; k <= len(ref.points); k++ {
		r := runHeight(t, nw, self, others, k)
		switch {
		case r.restarts != 1:
			t.Errorf("crash before %s (point %d): %d restarts, want 1", ref.points[k-1], k, r.restarts)
		case len(r.doubleSign) != 0:
			t.Errorf("crash before %s (point %d): signed conflicting %v", ref.points[k-1], k, r.doubleSign)
		case r.rejected != 0:
			t.Errorf("crash before %s (point %d): %d logged inputs rejected on replay", ref.points[k-1], k, r.rejected)
		case r.final != ref.final:
			t.Errorf("crash before %s (point %d): final block %s, without a crash %s", ref.points[k-1], k, chain.FormatHash(r.final), chain.FormatHash(ref.final))
		}
	}
	t.Logf("%d crash points in one height: %v", len(ref.points), ref.points)
}

// TestLogSyncedBeforePrecommit: the log is synced right before the signer
// saves (and so releases) a precommit, so every input that led to a lock
// is on disk before the lock can matter to anyone.
func TestLogSyncedBeforePrecommit(t *testing.T) {
	nw := newNetwork(t)
	self := nw.keyOf(nw.set.Proposer(0))
	others := []int{(self + 1) % 4, (self + 2) % 4}
	ref := runHeight(t, nw, self, others, 0)
	saves := 0
	for i, p := range ref.points {
		if p != "signer.save" {
			continue
		}
		saves++
		if saves == 3 { // proposal, prevote, precommit
			if i == 0 || ref.points[i-1] != "log.sync" {
				t.Fatalf("precommit saved after %v, want right after a log sync", ref.points[:i])
			}
			return
		}
	}
	t.Fatalf("only %d signatures in a height: %v", saves, ref.points)
}

// TestDiskWriteFailureHalts: when a write to the log, the store or the
// signer's record fails, the driver halts with an error wrapping the
// disk's, sends nothing more (no signature leaves after a failed
// persist), and the validator restarted on the same disk finalizes the
// block a run without failures finalizes.
func TestDiskWriteFailureHalts(t *testing.T) {
	nw := newNetwork(t)
	self := nw.keyOf(nw.set.Proposer(0))
	others := []int{(self + 1) % 4, (self + 2) % 4}
	ref := runHeight(t, nw, self, others, 0)
	writes := 0
	for k, pt := range ref.points {
		if strings.HasPrefix(pt, "gossip.") {
			continue
		}
		writes++
		r := runHeightFaults(t, nw, self, others, &faults{failAt: k + 1})
		switch {
		case r.restarts != 1:
			t.Errorf("%s fails (point %d): %d restarts, want 1", pt, k+1, r.restarts)
		case r.sentAfterFailure != 0:
			t.Errorf("%s fails (point %d): %d messages sent after the failure", pt, k+1, r.sentAfterFailure)
		case len(r.doubleSign) != 0 || r.rejected != 0:
			t.Errorf("%s fails (point %d): double signs %v, %d rejected on replay", pt, k+1, r.doubleSign, r.rejected)
		case r.final != ref.final:
			t.Errorf("%s fails (point %d): final block %s, without a failure %s", pt, k+1, chain.FormatHash(r.final), chain.FormatHash(ref.final))
		}
	}
	if writes < 10 {
		t.Fatalf("only %d disk writes in a height", writes)
	}
}
