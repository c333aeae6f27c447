package node

import (
	"context"
	"sync"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/engine"
	"github.com/quorumchain/quorumchain/p2p"
	"github.com/quorumchain/quorumchain/validator"
)

// loop is the node's consensus goroutine: it owns the engine.Driver and
// feeds it, one input at a time, from its inbox (peers' proposals, votes,
// evidence, status and block-sync answers, each class in its own bounded
// lane, see inbox), from remote signers' answers, from the timeouts it
// arms, from the mempool and from its tickers.
type loop struct {
	driver  *engine.Driver
	chainID string
	signer  validator.Signer // for signing requests answered off the goroutine

	inbox    *inbox
	signed   chan consensus.Input // remote signers' answers
	timeouts chan consensus.TimeoutFired
	clock    clock
	timers   map[timerKey]timer
	txs      <-chan struct{} // the mempool's transactions-available signal

	ctx     context.Context // of run; set before the driver starts
	signing sync.WaitGroup  // remote signing requests in flight

	propose *proposeWait // stretches the propose timeout to late proposals (nil: never)
}

// inbound is a message for the consensus goroutine from another goroutine.
type inbound struct {
	peer p2p.NodeID // zero for local sources
	in   consensus.Input
	// Exactly one of in, status, roundStatus, evidence, connected, gone
	// is set.
	status      *peerStatus
	roundStatus *p2p.RoundStatus
	evidence    *chain.Evidence
	connected   bool // the peer connected
	gone        bool // the peer disconnected
}

type peerStatus struct{ height uint64 }

const (
	signedSize  = 64
	timeoutSize = 256
	// statusInterval is how often the node announces its height and
	// advances block sync; roundStatusInterval how often it tells its peers
	// what it holds of the current height (catch-up gossip).
	statusInterval      = 250 * time.Millisecond
	roundStatusInterval = 500 * time.Millisecond
)

func newLoop(chainID string, signer validator.Signer, txs <-chan struct{}) *loop {
	return &loop{
		chainID: chainID, signer: signer, txs: txs,
		inbox:    newInbox(),
		signed:   make(chan consensus.Input, signedSize),
		timeouts: make(chan consensus.TimeoutFired, timeoutSize),
		clock:    wallClock{}, timers: make(map[timerKey]timer),
		propose: newProposeWait(),
	}
}

// push queues m on its lane without blocking; false if the lane is full
// (gossip is lossy: catch-up gossip and block sync recover what is
// dropped) or ctx is done.
func (l *loop) push(ctx context.Context, m inbound) bool {
	if ctx.Err() != nil {
		return false
	}
	return l.inbox.push(m)
}

// run drives consensus until ctx is done or the driver halts.
func (l *loop) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel() // ends remote signing requests still waiting
		l.signing.Wait()
		l.driver.Stop()
	}()
	l.ctx = ctx
	if err := l.driver.Start(ctx); err != nil {
		return err
	}
	statusTick := time.NewTicker(statusInterval)
	defer statusTick.Stop()
	roundTick := time.NewTicker(roundStatusInterval)
	defer roundTick.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return nil
		case <-l.inbox.ready:
			// One message per wake-up, so that timeouts and ticks
			// interleave with a busy inbox; pop re-arms ready.
			if m, ok := l.inbox.pop(); ok {
				err = l.handle(m)
			}
		case in := <-l.signed:
			err = l.driver.Signed(in)
		case t := <-l.timeouts:
			delete(l.timers, timerKey{t.Height, t.Round, t.Step})
			err = l.driver.Timeout(t)
		case <-l.txs:
			err = l.driver.TxsAvailable()
		case <-statusTick.C:
			err = l.driver.StatusTick()
		case <-roundTick.C:
			l.driver.RoundTick()
		}
		if err != nil {
			return err
		}
	}
}

func (l *loop) handle(m inbound) error {
	d := l.driver
	switch {
	case m.status != nil:
		return d.PeerStatus(m.peer, m.status.height)
	case m.gone:
		d.PeerGone(m.peer)
	case m.connected:
		d.PeerConnected(m.peer)
	case m.roundStatus != nil:
		d.PeerRoundStatus(m.peer, m.roundStatus)
	case m.evidence != nil:
		d.Evidence(m.evidence)
	case m.in != nil:
		if p, ok := m.in.(consensus.ProposalReceived); ok && p.Proposal != nil && l.propose != nil {
			l.propose.arrived(p.Proposal.Height, p.Proposal.Round, l.clock.Now())
		}
		return d.Receive(m.peer, m.in)
	}
	return nil
}

// remoteSignTimeout bounds how long one request waits for a remote signer;
// a stale answer is ignored by the Machine anyway.
const remoteSignTimeout = 10 * time.Minute

// RequestVote implements engine.SignRequester for a remote signer: the
// request waits on its own goroutine, and its answer comes back through
// l.signed.
func (l *loop) RequestVote(v *chain.Vote) {
	l.signing.Go(func() {
		l.signRemote(func(ctx context.Context) (consensus.Input, error) {
			if err := l.signer.SignVote(ctx, l.chainID, v); err != nil {
				return nil, err
			}
			return consensus.OwnVote{Vote: v}, nil
		}, v.Height, v.Round, consensus.VoteStep(v.Type))
	})
}

// RequestProposal implements engine.SignRequester.
func (l *loop) RequestProposal(p *chain.Proposal, b *chain.Block) {
	l.signing.Go(func() {
		l.signRemote(func(ctx context.Context) (consensus.Input, error) {
			if err := l.signer.SignProposal(ctx, l.chainID, p); err != nil {
				return nil, err
			}
			return consensus.OwnProposal{Proposal: p, Block: b}, nil
		}, p.Height, p.Round, consensus.StepPropose)
	})
}

func (l *loop) signRemote(sign func(context.Context) (consensus.Input, error), h uint64, r uint32, s consensus.RoundStep) {
	ctx, cancel := context.WithTimeout(l.ctx, remoteSignTimeout)
	defer cancel()
	in, err := sign(ctx)
	if err != nil {
		if l.ctx.Err() != nil {
			return // stopping: the answer no longer matters
		}
		in = consensus.SignRefused{Height: h, Round: r, Step: s, Reason: err.Error()}
	}
	select {
	case l.signed <- in:
	case <-l.ctx.Done():
	}
}

// clock is the loop's source of timers; tests substitute a fake one.
type clock interface {
	engine.Clock
	// AfterFunc calls f in its own goroutine once d has elapsed, unless
	// the returned timer is stopped first.
	AfterFunc(d time.Duration, f func()) timer
}

type timer interface{ Stop() bool }

// wallClock is the real clock.
type wallClock struct{}

func (wallClock) Now() time.Time                            { return time.Now() }
func (wallClock) AfterFunc(d time.Duration, f func()) timer { return time.AfterFunc(d, f) }

// timerKey identifies a consensus timeout: the Machine schedules at most
// one per (height, round, step), and a later one of the same key replaces
// the earlier (a WAL replay re-arms timers that were running).
type timerKey struct {
	height uint64
	round  uint32
	step   consensus.RoundStep
}

// Schedule implements engine.Timers: when the timeout fires, its
// TimeoutFired reaches the loop through l.timeouts.
func (l *loop) Schedule(a consensus.ScheduleTimeout) {
	key := timerKey{a.Height, a.Round, a.Step}
	if old, ok := l.timers[key]; ok {
		old.Stop()
	}
	if a.Step == consensus.StepPropose && l.propose != nil {
		a.Duration = l.propose.arm(a.Height, a.Round, a.Duration, l.clock.Now())
	}
	t := consensus.TimeoutFired{Height: a.Height, Round: a.Round, Step: a.Step}
	ctx := l.ctx
	l.timers[key] = l.clock.AfterFunc(a.Duration, func() {
		select {
		case l.timeouts <- t:
		case <-ctx.Done():
		}
	})
}

// StopBelow implements engine.Timers.
func (l *loop) StopBelow(height uint64) {
	if l.propose != nil {
		l.propose.forgetBelow(height)
	}
	for k, t := range l.timers {
		if k.height < height {
			t.Stop()
			delete(l.timers, k)
		}
	}
}
