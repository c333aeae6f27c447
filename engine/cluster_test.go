package engine_test

import (
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/p2p"
)

// cluster runs drivers of some of a network's validators over their own
// disks and relays what each broadcasts to the others, firing the earliest
// timeout whenever nothing is left to deliver.
type cluster struct {
	t     *testing.T
	nw    *network
	f     *faults
	procs []*validatorProc // by validator index; nil: not run
	disks []*disk
	// deaf validators receive nothing from the others.
	deaf         map[int]bool
	sentVotes    []int
	sentProposal []int
}

func peerID(i int) p2p.NodeID { return p2p.NodeID{byte(i + 1)} }

// newCluster starts validators run; setup may adjust each one's disk
// (clock, log) first.
func newCluster(t *testing.T, nw *network, run []int, setup func(i int, d *disk)) *cluster {
	t.Helper()
	c := &cluster{t: t, nw: nw, f: &faults{}, procs: make([]*validatorProc, len(nw.keys)), disks: make([]*disk, len(nw.keys)),
		deaf: map[int]bool{}, sentVotes: make([]int, len(nw.keys)), sentProposal: make([]int, len(nw.keys))}
	for _, i := range run {
		d := nw.newDisk(t)
		if setup != nil {
			setup(i, d)
		}
		p, err := nw.start(t, i, d, c.f)
		if err != nil {
			t.Fatalf("start validator %d: %v", i, err)
		}
		c.procs[i], c.disks[i] = p, d
	}
	return c
}

// toOthers hands in to every running, hearing validator but from.
func (c *cluster) toOthers(from int, in consensus.Input) {
	c.t.Helper()
	for j, q := range c.procs {
		if j == from || q == nil || c.deaf[j] {
			continue
		}
		if err := q.d.Receive(peerID(from), in); err != nil {
			c.t.Fatalf("validator %d receiving from %d: %v", j, from, err)
		}
	}
}

// deliver relays the broadcasts not yet relayed; it reports whether there
// were any.
func (c *cluster) deliver() bool {
	any := false
	for i, p := range c.procs {
		if p == nil {
			continue
		}
		for ; c.sentProposal[i] < len(p.net.proposals); c.sentProposal[i]++ {
			pr := p.net.proposals[c.sentProposal[i]]
			c.toOthers(i, consensus.ProposalReceived{Proposal: pr, Block: p.net.blocks[pr.BlockHash]})
			any = true
		}
		for ; c.sentVotes[i] < len(p.net.votes); c.sentVotes[i]++ {
			c.toOthers(i, consensus.VoteReceived{Vote: p.net.votes[c.sentVotes[i]]})
			any = true
		}
	}
	return any
}

// runUntil drives the cluster until done holds.
func (c *cluster) runUntil(what string, done func() bool) {
	c.t.Helper()
	for iter := 0; !done(); iter++ {
		if iter == 5000 {
			c.t.Fatalf("%s: not reached after 5000 steps", what)
		}
		if c.deliver() {
			continue
		}
		best := -1
		var bestTo consensus.TimeoutFired
		for i, p := range c.procs {
			if p == nil {
				continue
			}
			if to, ok := p.timers.next(); ok && (best < 0 || p.timers.armed[to] < c.procs[best].timers.armed[bestTo]) {
				best, bestTo = i, to
			}
		}
		if best < 0 {
			c.t.Fatalf("%s: nothing to do", what)
		}
		delete(c.procs[best].timers.armed, bestTo)
		if err := c.procs[best].d.Timeout(bestTo); err != nil {
			c.t.Fatalf("%s: validator %d: timeout: %v", what, best, err)
		}
	}
}

// heightOf is the height validator i decides.
func (c *cluster) heightOf(i int) uint64 { return c.procs[i].d.Height() }

// allAt reports whether every running validator in idx decides height h or later.
func (c *cluster) allAt(h uint64, idx ...int) func() bool {
	return func() bool {
		for _, i := range idx {
			if c.heightOf(i) < h {
				return false
			}
		}
		return true
	}
}

// final returns validator i's final block and certificate of height h.
func (c *cluster) final(i int, h uint64) (*chain.Block, *chain.Certificate) {
	c.t.Helper()
	b, err := c.disks[i].store.Block(h)
	if err != nil {
		c.t.Fatal(err)
	}
	cert, err := c.disks[i].store.Certificate(h)
	if err != nil {
		c.t.Fatal(err)
	}
	return b, cert
}
