package engine_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/chaintest"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/p2p"
)

var update = flag.Bool("update", false, "rewrite the transcripts in testdata/ from this run")

// checkTranscript compares a run's transcript (every log append and sync,
// signer save, commit, broadcast and timer of the driver, and every input
// the test gave it) with testdata/name.txt. Run with -update after an
// intended change, and review the diff: it is the change in behaviour.
func checkTranscript(t *testing.T, name string, trace []string) {
	t.Helper()
	path := filepath.Join("testdata", name+".txt")
	got := strings.Join(trace, "\n") + "\n"
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		g, w := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range max(len(g), len(w)) {
			var gl, wl string
			if i < len(g) {
				gl = g[i]
			}
			if i < len(w) {
				wl = w[i]
			}
			if gl != wl {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run with -update and review the diff if the change is intended)", path, i+1, gl, wl)
			}
		}
	}
}

// TestTranscriptProposerHeight: the proposer of round 0 builds, signs and
// broadcasts its block, prevotes it, syncs its log before it precommits,
// and commits the block once two others' precommits arrive.
func TestTranscriptProposerHeight(t *testing.T) {
	nw := newNetwork(t)
	self := nw.keyOf(nw.set.Proposer(0))
	r := runHeight(t, nw, self, []int{(self + 1) % 4, (self + 2) % 4}, 0)
	checkTranscript(t, "proposer_height", r.trace)
}

// TestTranscriptCrashBeforePrecommit: the proposer dies just before it
// saves its precommit; it restarts from its synced log, does not sign its
// proposal or prevote again (the signer returns the records it kept), and
// finishes the height.
func TestTranscriptCrashBeforePrecommit(t *testing.T) {
	nw := newNetwork(t)
	self := nw.keyOf(nw.set.Proposer(0))
	others := []int{(self + 1) % 4, (self + 2) % 4}
	ref := runHeight(t, nw, self, others, 0)
	saves, at := 0, 0
	for i, p := range ref.points {
		if p == "signer.save" {
			if saves++; saves == 3 {
				at = i + 1
			}
		}
	}
	r := runHeight(t, nw, self, others, at)
	if r.restarts != 1 {
		t.Fatalf("%d restarts", r.restarts)
	}
	checkTranscript(t, "crash_before_precommit", r.trace)
}

// TestTranscriptSilentProposer: a validator whose round-0 proposer is
// silent prevotes nil when its propose timeout fires, precommits nil on a
// nil polka, and moves to round 1 when its precommit timeout fires.
func TestTranscriptSilentProposer(t *testing.T) {
	nw := newNetwork(t)
	proposer := nw.keyOf(nw.set.Proposer(0))
	self := (proposer + 1) % 4
	if nw.keyOf(nw.set.Proposer(1)) == self {
		self = (proposer + 2) % 4
	}
	d := nw.newDisk(t)
	f := &faults{}
	p, err := nw.start(t, self, d, f)
	if err != nil {
		t.Fatal(err)
	}
	fire := func(step consensus.RoundStep, round uint32) {
		t.Helper()
		to := consensus.TimeoutFired{Height: 1, Round: round, Step: step}
		if _, ok := p.timers.armed[to]; !ok {
			t.Fatalf("no %s timer of round %d armed", step, round)
		}
		delete(p.timers.armed, to)
		f.note("fire " + describe(to))
		if err := p.d.Timeout(to); err != nil {
			t.Fatal(err)
		}
	}
	deliver := func(typ chain.VoteType) {
		t.Helper()
		for i := range nw.keys {
			if i == self || i == proposer {
				continue
			}
			v := &chain.Vote{Type: typ, Height: 1, Round: 0, Validator: chaintest.Addr(nw.keys[i])}
			sig, err := chain.Sign(nw.keys[i], v.SignHash(testChainID))
			if err != nil {
				t.Fatal(err)
			}
			v.Signature = sig
			f.note("recv " + describe(consensus.VoteReceived{Vote: v}))
			if err := p.d.Receive(p2p.NodeID{9}, consensus.VoteReceived{Vote: v}); err != nil {
				t.Fatal(err)
			}
		}
	}
	fire(consensus.StepPropose, 0)
	deliver(chain.Prevote)
	deliver(chain.Precommit)
	fire(consensus.StepPrecommit, 0)
	if rs := p.d.Snapshot().Round; rs.Round != 1 || rs.Step != consensus.StepPropose {
		t.Fatalf("at round %d %s after round 0 failed, want round 1 propose", rs.Round, rs.Step)
	}
	checkTranscript(t, "silent_proposer", f.trace)
}
