package engine_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/chaintest"
	"github.com/quorumchain/quorumchain/chain/store"
	"github.com/quorumchain/quorumchain/consensus"
	ct "github.com/quorumchain/quorumchain/consensus/consensustest"
	"github.com/quorumchain/quorumchain/engine"
	"github.com/quorumchain/quorumchain/genesis"
	"github.com/quorumchain/quorumchain/p2p"
	"github.com/quorumchain/quorumchain/staking"
	"github.com/quorumchain/quorumchain/validator"
)

const testChainID = "quorum-engine"

var genesisTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// crash is what a fault point panics with: the process died there.
type crash struct{ point string }

// faults counts the calls a driver makes into what survives a crash (the
// log, the store, the signer's state) and into the network, and crashes
// the driver at call crashAt (0: never).
type faults struct {
	calls   int
	crashAt int
	failAt  int      // the call at which a disk write fails (returns errDisk) instead
	points  []string // every point reached, in order
	trace   []string // the points with what they carried, and what else happened: a transcript
}

func (f *faults) point(name, detail string) error {
	f.calls++
	f.points = append(f.points, name)
	f.note(name + " " + detail)
	if f.calls == f.crashAt {
		f.note("CRASH")
		panic(crash{name})
	}
	if f.calls == f.failAt {
		f.note("WRITE FAILS")
		return errDisk
	}
	return nil
}

// errDisk is the error of a failed disk write.
var errDisk = errors.New("injected disk write failure")

func (f *faults) note(line string) { f.trace = append(f.trace, strings.TrimSpace(line)) }

// describe is the transcript form of an input, an action or a signed record.
func describe(x any) string { return ct.String(x) }

// disk is what a validator keeps across crashes: the store, the log's
// synced records and the signer's last-signed record. Appended log
// records that were not synced are lost in a crash.
type disk struct {
	store  *store.Store
	state  *validator.MemoryState
	synced []logRecord
	// doublePropose makes the validator a Byzantine double proposer
	// (engine.Config.DoublePropose, with a signer that allows it).
	doublePropose bool
	// log and clock, when set, replace the memLog over this disk and the
	// fixed clock.
	log   engine.Log
	clock engine.Clock
	// config, when set, adjusts the driver's configuration.
	config func(*engine.Config)
	// mempool, when set, replaces the empty pool.
	mempool engine.Mempool
}

type logRecord struct {
	height uint64
	in     consensus.Input
}

// memLog is the driver's Log over a disk; pending records die with the
// process.
type memLog struct {
	f       *faults
	d       *disk
	pending []logRecord
}

func (l *memLog) Append(h uint64, in consensus.Input) error {
	if err := l.f.point("log.append", fmt.Sprintf("h=%d %s", h, describe(in))); err != nil {
		return err
	}
	l.pending = append(l.pending, logRecord{h, in})
	return nil
}

func (l *memLog) Sync() error {
	if err := l.f.point("log.sync", ""); err != nil {
		return err
	}
	l.d.synced = append(l.d.synced, l.pending...)
	l.pending = nil
	return nil
}

func (l *memLog) Reset(committed uint64) error {
	if err := l.f.point("log.reset", fmt.Sprintf("committed=%d", committed)); err != nil {
		return err
	}
	all := append(l.d.synced, l.pending...)
	l.d.synced = slices.DeleteFunc(slices.Clone(all), func(r logRecord) bool { return r.height <= committed })
	l.pending = nil
	return nil
}

func (l *memLog) ReadAll(h uint64) ([]consensus.Input, error) {
	var out []consensus.Input
	for _, r := range l.d.synced {
		if r.height == h {
			out = append(out, r.in)
		}
	}
	return out, nil
}

// faultyStore crashes before a commit.
type faultyStore struct {
	*store.Store
	f *faults
}

func (s faultyStore) CommitBlock(fb *store.FinalBlock) error {
	if err := s.f.point("store.commit", fmt.Sprintf("h=%d %s", fb.Block.Header.Height, ct.ShortHash(fb.Block.Hash()))); err != nil {
		return err
	}
	return s.Store.CommitBlock(fb)
}

// faultyState crashes before the signer's record is saved.
type faultyState struct {
	*validator.MemoryState
	f *faults
}

func (s faultyState) Save(l validator.LastSigned) error {
	if err := s.f.point("signer.save", fmt.Sprintf("h=%d r=%d %s", l.Height, l.Round, l.Step)); err != nil {
		return err
	}
	return s.MemoryState.Save(l)
}

// net records what the driver sends.
type net struct {
	f         *faults
	votes     []*chain.Vote
	proposals []*chain.Proposal
	blocks    map[chain.Hash]*chain.Block
	requests  []blockRequest // block-sync requests sent
	// misbehaved lists the peers reported through Misbehaved.
	misbehaved []p2p.NodeID
}

type blockRequest struct {
	peer   p2p.NodeID
	height uint64
}

func (n *net) BroadcastProposal(p *chain.Proposal, b *chain.Block) {
	n.f.point("gossip.proposal", describe(p))
	n.proposals = append(n.proposals, p)
	n.blocks[b.Hash()] = b
}

func (n *net) BroadcastVote(v *chain.Vote) {
	n.f.point("gossip.vote", describe(v))
	n.votes = append(n.votes, v)
}
func (n *net) BroadcastEvidence(*chain.Evidence) {}
func (n *net) BroadcastStatus(uint64)            {}
func (n *net) RequestBlock(p p2p.NodeID, h uint64) bool {
	n.requests = append(n.requests, blockRequest{p, h})
	return true
}
func (n *net) SendRoundStatus(*p2p.RoundStatus) {}

// SendProposal records a proposal the driver sends one peer in answer to
// its RoundStatus (catch-up), as the peers would get it.
func (n *net) SendProposal(_ p2p.NodeID, p *chain.Proposal, b *chain.Block) {
	n.f.note("catchup.proposal " + describe(p))
	n.proposals = append(n.proposals, p)
	n.blocks[b.Hash()] = b
}
func (n *net) SendVotes(p2p.NodeID, []*chain.Vote) {}
func (n *net) Misbehaved(p p2p.NodeID, _ error) {
	n.misbehaved = append(n.misbehaved, p)
}
func (n *net) SendConsensus(p2p.NodeID, []consensus.ProposalReceived, []*chain.Vote) {
}

// timers holds the armed timeouts; the test fires them.
type timers struct {
	f     *faults
	armed map[consensus.TimeoutFired]time.Duration
}

func (t *timers) Schedule(a consensus.ScheduleTimeout) {
	t.f.note("timer " + describe(a))
	t.armed[consensus.TimeoutFired{Height: a.Height, Round: a.Round, Step: a.Step}] = a.Duration
}

func (t *timers) StopBelow(h uint64) {
	for k := range t.armed {
		if k.Height < h {
			delete(t.armed, k)
		}
	}
}

// next returns the armed timeout due first (ties broken by round and step).
func (t *timers) next() (consensus.TimeoutFired, bool) {
	var best consensus.TimeoutFired
	found := false
	for k, d := range t.armed {
		if !found || d < t.armed[best] || d == t.armed[best] && (k.Round < best.Round || k.Round == best.Round && k.Step < best.Step) {
			best, found = k, true
		}
	}
	return best, found
}

type fixedClock struct{ now time.Time }

func (c fixedClock) Now() time.Time { return c.now }

// emptyPool is a mempool with nothing to propose.
type emptyPool struct{}

func (emptyPool) Sender(chain.Hash) (chain.Address, bool)                  { return chain.Address{}, false }
func (emptyPool) Reap(int) []*chain.Tx                                     { return nil }
func (emptyPool) Size() int                                                { return 0 }
func (emptyPool) SetState(staking.AccountReader)                           {}
func (emptyPool) Update([]chain.Hash, staking.AccountReader) (evicted int) { return 0 }

// sink records finalized blocks, the inputs rejected on replay and the
// votes events.
type sink struct {
	finals         []chain.Hash
	replayRejected int
	votes          []countedVote
}

// countedVote is one VoteCounted call.
type countedVote struct {
	vote  *chain.Vote
	stake uint64
	tally consensus.VoteTally
}

func (s *sink) Rejected(_ consensus.Input, _ error, replay bool) {
	if replay {
		s.replayRejected++
	}
}

func (s *sink) ProposalSeen(*chain.Proposal, *chain.Block) {}
func (s *sink) VoteCounted(v *chain.Vote, stake uint64, t consensus.VoteTally) {
	s.votes = append(s.votes, countedVote{vote: v, stake: stake, tally: t})
}
func (s *sink) ValidatorsChanged(uint64, *staking.ValidatorSet) {}
func (s *sink) Stepped(consensus.RoundState)                    {}
func (s *sink) Finalized(b *chain.Block, _ *chain.Certificate, _, _ uint64, _ *chain.ExecResult, _ uint32, _ time.Time) {
	s.finals = append(s.finals, b.Hash())
}

// network is a genesis of four validators of equal stake, and the keys.
type network struct {
	doc  *genesis.Doc
	keys []*ecdsa.PrivateKey
	set  *staking.ValidatorSet
}

func newNetwork(t *testing.T) *network {
	t.Helper()
	doc := genesis.New(testChainID, genesisTime)
	nw := &network{doc: doc}
	for i := range 4 {
		k := chaintest.ValidatorKey(i)
		nw.keys = append(nw.keys, k)
		if err := doc.AddValidator(chaintest.Addr(k), 10, fmt.Sprintf("node%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	_, set, err := doc.InitialState()
	if err != nil {
		t.Fatal(err)
	}
	nw.set = set
	return nw
}

// keyOf returns the index of the key of address a.
func (nw *network) keyOf(a chain.Address) int {
	for i, k := range nw.keys {
		if chaintest.Addr(k) == a {
			return i
		}
	}
	panic("no key")
}

// newDisk initialises a store with the genesis.
func (nw *network) newDisk(t *testing.T) *disk {
	t.Helper()
	st, err := store.Open("", store.BackendMemDB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	state, set, err := nw.doc.InitialState()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.InitGenesis(testChainID, nw.doc.Hash(), state.Entries(), set); err != nil {
		t.Fatal(err)
	}
	return &disk{store: st, state: &validator.MemoryState{}}
}

// validatorProc is one incarnation of validator self's process over d.
type validatorProc struct {
	d      *engine.Driver
	signer *validator.LocalSigner // switchable: AllowByzantine
	net    *net
	timers *timers
	sink   *sink
}

func (nw *network) start(t *testing.T, self int, d *disk, f *faults) (*validatorProc, error) {
	t.Helper()
	signer, err := validator.NewLocalSigner(nw.keys[self], faultyState{d.state, f})
	if err != nil {
		t.Fatal(err)
	}
	state, err := d.store.LoadState(nw.doc.Params)
	if err != nil {
		t.Fatal(err)
	}
	signer.AllowByzantine()
	p := &validatorProc{signer: signer, net: &net{f: f, blocks: map[chain.Hash]*chain.Block{}}, timers: &timers{f: f, armed: map[consensus.TimeoutFired]time.Duration{}}, sink: &sink{}}
	cfg := engine.Config{
		ChainID: testChainID, GenesisTime: genesisTime, MaxBlockTxs: 100,
		Machine: consensus.Config{
			TimeoutPropose: time.Second, TimeoutProposeDelta: 500 * time.Millisecond,
			TimeoutPrevote: time.Second, TimeoutPrevoteDelta: 500 * time.Millisecond,
			TimeoutPrecommit: time.Second, TimeoutPrecommitDelta: 500 * time.Millisecond,
		},
	}
	if d.config != nil {
		d.config(&cfg)
	}
	if d.doublePropose {
		signer.AllowDoublePropose()
		cfg.DoublePropose = true
	}
	var lg engine.Log = &memLog{f: f, d: d}
	if d.log != nil {
		lg = d.log
	}
	var clock engine.Clock = fixedClock{genesisTime.Add(time.Minute)}
	if d.clock != nil {
		clock = d.clock
	}
	var pool engine.Mempool = emptyPool{}
	if d.mempool != nil {
		pool = d.mempool
	}
	deps := engine.Deps{
		Store: faultyStore{d.store, f}, Mempool: pool, Log: lg, Signer: signer,
		Gossip: p.net, Sink: p.sink, Clock: clock, Timers: p.timers,
		Logger: slog.New(slog.DiscardHandler),
	}
	if p.d, err = engine.New(cfg, deps, state); err != nil {
		t.Fatal(err)
	}
	return p, run(func() error { return p.d.Start(context.Background()) })
}

// run calls f, turning an injected crash into errCrashed.
func run(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c, ok := r.(crash)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("%w at %s", errCrashed, c.point)
		}
	}()
	return f()
}

var errCrashed = fmt.Errorf("crashed")
