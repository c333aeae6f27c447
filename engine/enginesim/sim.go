package enginesim

import (
	"container/heap"
	"context"
	"crypto/ecdsa"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/store"
	"github.com/quorumchain/quorumchain/engine"
	"github.com/quorumchain/quorumchain/genesis"
	"github.com/quorumchain/quorumchain/p2p"
	"github.com/quorumchain/quorumchain/staking"
	"github.com/quorumchain/quorumchain/validator"
)

// ChainID is the chain id of every simulated network.
const ChainID = "quorum-enginesim"

// Genesis is the genesis time; virtual time t is Genesis + t.
var Genesis = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Config describes one run. Zero fields take the defaults of Random.
type Config struct {
	Seed       uint64
	Validators int
	// Silent validators never run (a crash that lasts forever), as many
	// as Silent whose stake stays below a third; the others must make
	// progress without them.
	Silent  int
	Heights uint64 // every running validator must commit this many heights
	// Until GST the network drops messages with probability Drop, and each
	// event crashes its validator with probability Crash; each disk write
	// fails with probability WriteFail. After GST there are no faults and
	// latency stays within [LatencyMin, LatencyMax].
	GST                    time.Duration
	Drop, Crash, WriteFail float64
	LatencyMin, LatencyMax time.Duration
	RestartMin, RestartMax time.Duration
	// Bound is how long after GST every validator has to reach Heights.
	Bound time.Duration
}

// Random returns a random configuration for seed.
func Random(seed uint64) Config {
	r := newRand(seed)
	return Config{
		Seed: seed, Validators: 4 + r.IntN(4), Heights: 4,
		GST:  time.Duration(r.Int64N(int64(5 * time.Second))),
		Drop: r.Float64() * 0.3, Crash: r.Float64() * 0.03, WriteFail: r.Float64() * 0.01,
		LatencyMin: time.Millisecond, LatencyMax: time.Duration(1+r.IntN(80)) * time.Millisecond,
		RestartMin: 100 * time.Millisecond, RestartMax: 2 * time.Second,
		Bound:  60 * time.Second,
		Silent: r.IntN(2),
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// Report is what a run found.
type Report struct {
	Seed       uint64
	Config     Config
	Violations []string
	Heights    uint64 // the lowest height every running validator committed
	Silent     int    // validators that never ran
	Crashes    int
	WriteFails int
	Restarts   int
	Messages   int
	Dropped    int
	VirtualEnd time.Duration
	States     []string // each validator's state when liveness failed
}

// Failed reports whether the run found a violation.
func (r *Report) Failed() bool { return len(r.Violations) > 0 }

func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d: %d validators (%d silent), GST %v, drop %.2f, crash %.3f, write failures %.3f, latency %v-%v\n",
		r.Seed, r.Config.Validators, r.Silent, r.Config.GST, r.Config.Drop, r.Config.Crash, r.Config.WriteFail, r.Config.LatencyMin, r.Config.LatencyMax)
	fmt.Fprintf(&b, "  heights %d by all, %d crashes, %d write failures, %d restarts, %d messages (%d dropped), virtual time %v\n",
		r.Heights, r.Crashes, r.WriteFails, r.Restarts, r.Messages, r.Dropped, r.VirtualEnd)
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "  VIOLATION %s\n", v)
	}
	for _, st := range r.States {
		fmt.Fprintf(&b, "  %s\n", st)
	}
	fmt.Fprintf(&b, "  replay: go test ./engine/enginesim -run TestReplay -seed=%d -v\n", r.Seed)
	return b.String()
}

// sim is one run.
type sim struct {
	cfg   Config
	rng   *rand.Rand
	now   time.Duration
	seq   uint64
	queue events
	doc   *genesis.Doc
	vals  []*validatorNode
	first map[uint64]chain.Hash // the first block committed at each height
	sigs  *sigCache
	rep   Report
}

// Run simulates cfg and reports what happened.
func Run(cfg Config) (*Report, error) {
	def := Random(cfg.Seed)
	if cfg.Validators == 0 {
		cfg = def
	}
	if cfg.Validators < 1 || cfg.Heights == 0 || cfg.LatencyMax < cfg.LatencyMin || cfg.RestartMax < cfg.RestartMin {
		return nil, fmt.Errorf("enginesim: invalid config %+v", cfg)
	}
	s := &sim{cfg: cfg, rng: newRand(cfg.Seed ^ 0x5151), first: make(map[uint64]chain.Hash), sigs: &sigCache{known: make(map[sigKey]chain.Address)}}
	s.rep = Report{Seed: cfg.Seed, Config: cfg}
	if err := s.setup(); err != nil {
		return nil, err
	}
	s.loop()
	s.finish()
	return &s.rep, nil
}

func (s *sim) setup() error {
	s.doc = genesis.New(ChainID, Genesis)
	keys := make([]*ecdsa.PrivateKey, s.cfg.Validators)
	for i := range keys {
		k, err := validatorKey(s.cfg.Seed, i)
		if err != nil {
			return err
		}
		keys[i] = k
		if err := s.doc.AddValidator(chain.PubkeyAddress(&k.PublicKey), uint64(1+s.rng.IntN(100)), fmt.Sprintf("v%d", i)); err != nil {
			return err
		}
	}
	state, set, err := s.doc.InitialState()
	if err != nil {
		return err
	}
	for i, k := range keys {
		st, err := store.Open("", store.BackendMemDB)
		if err != nil {
			return err
		}
		if err := st.InitGenesis(ChainID, s.doc.Hash(), state.Entries(), set); err != nil {
			return err
		}
		v := &validatorNode{s: s, id: i, key: k, addr: chain.PubkeyAddress(&k.PublicKey),
			disk: &disk{store: st, signer: &validator.MemoryState{}}, signed: make(map[slot]chain.Hash)}
		s.vals = append(s.vals, v)
	}
	s.silence()
	for _, v := range s.vals {
		if !v.silent {
			v.start()
		}
	}
	return nil
}

// silence picks up to cfg.Silent validators, from the last, whose stake
// together stays below a third of the total.
func (s *sim) silence() {
	set, err := s.vals[0].disk.store.ValidatorSet(1)
	if err != nil {
		return
	}
	var silent uint64
	for i := len(s.vals) - 1; i >= 0 && s.rep.Silent < s.cfg.Silent; i-- {
		stake, _ := set.StakeOf(s.vals[i].addr)
		if staking.HasOneThird(silent+stake, set.TotalStake()) {
			continue
		}
		silent += stake
		s.vals[i].silent = true
		s.rep.Silent++
	}
}

// validatorKey derives validator i's key from the seed, deterministically.
func validatorKey(seed uint64, i int) (*ecdsa.PrivateKey, error) {
	var d [32]byte
	r := newRand(seed*1_000_003 + uint64(i) + 1)
	for j := range d {
		d[j] = byte(r.IntN(256))
	}
	d[0] |= 1
	return crypto.ToECDSA(d[:])
}

// maxEvents bounds a run, whatever happens.
const maxEvents = 2_000_000

func (s *sim) loop() {
	limit := s.cfg.GST + s.cfg.Bound
	for n := 0; s.queue.Len() > 0 && n < maxEvents; n++ {
		e := heap.Pop(&s.queue).(*event)
		if e.at > limit {
			s.now = limit
			return
		}
		s.now = e.at
		e.run()
		if s.done() {
			return
		}
	}
}

// done reports whether every validator is up and has committed the target.
func (s *sim) done() bool {
	for _, v := range s.vals {
		if !v.silent && v.disk.store.Height() < s.cfg.Heights {
			return false
		}
	}
	return true
}

func (s *sim) finish() {
	s.rep.VirtualEnd = s.now
	low := ^uint64(0)
	for _, v := range s.vals {
		if v.silent {
			continue
		}
		low = min(low, v.disk.store.Height())
		if v.replayRejected > 0 {
			s.violation("v%d rejected %d logged inputs on replay: %v", v.id, v.replayRejected, v.replayErrs)
		}
	}
	s.rep.Heights = low
	if low < s.cfg.Heights {
		s.violation("liveness: by %v (GST %v + %v) the lowest validator is at height %d of %d", s.now, s.cfg.GST, s.cfg.Bound, low, s.cfg.Heights)
		for _, v := range s.vals {
			s.rep.States = append(s.rep.States, v.describe())
		}
	}
	for _, v := range s.vals {
		v.disk.store.Close()
	}
}

func (s *sim) violation(format string, args ...any) {
	s.rep.Violations = append(s.rep.Violations, fmt.Sprintf("at %v: ", s.now)+fmt.Sprintf(format, args...))
}

// committed checks a block validator v committed at height h.
func (s *sim) committed(v *validatorNode, b *chain.Block, c *chain.Certificate) {
	h := b.Header.Height
	hash := b.Hash()
	if first, ok := s.first[h]; ok && first != hash {
		s.violation("agreement: v%d committed %s at height %d, another validator %s", v.id, chain.FormatHash(hash), h, chain.FormatHash(first))
	} else if !ok {
		s.first[h] = hash
	}
	set, err := v.disk.store.ValidatorSet(h)
	if err != nil {
		s.violation("v%d: validator set of height %d: %v", v.id, h, err)
		return
	}
	if c.BlockHash != hash || c.Height != h {
		s.violation("v%d: certificate of height %d names %s at %d", v.id, h, chain.FormatHash(c.BlockHash), c.Height)
	}
	signed, err := c.Verify(ChainID, set)
	if err != nil || !staking.HasQuorum(signed, set.TotalStake()) {
		s.violation("v%d: certificate of height %d: signed %d of %d: %v", v.id, h, signed, set.TotalStake(), err)
	}
}

// latency draws a message delay.
func (s *sim) latency() time.Duration {
	span := s.cfg.LatencyMax - s.cfg.LatencyMin
	return s.cfg.LatencyMin + time.Duration(s.rng.Int64N(int64(span)+1))
}

// send delivers m from one validator to another after a latency, unless
// the network drops it (before GST).
func (s *sim) send(to int, deliver func(*validatorNode) error) {
	s.rep.Messages++
	if s.now < s.cfg.GST && s.rng.Float64() < s.cfg.Drop {
		s.rep.Dropped++
		return
	}
	target := s.vals[to]
	s.schedule(s.now+s.latency(), func() {
		target.call(func() error { return deliver(target) })
	})
}

func (s *sim) schedule(at time.Duration, run func()) {
	s.seq++
	heap.Push(&s.queue, &event{at: at, seq: s.seq, run: run})
}

// peerID is validator i's network identity.
func (s *sim) peerID(i int) p2p.NodeID { return p2p.NodeID(s.vals[i].addr) }

func (s *sim) indexOf(id p2p.NodeID) (int, bool) {
	for i, v := range s.vals {
		if p2p.NodeID(v.addr) == id {
			return i, true
		}
	}
	return 0, false
}

// event is something that happens at a virtual time; seq orders events of
// one time by scheduling order, so runs are deterministic.
type event struct {
	at  time.Duration
	seq uint64
	run func()
}

type events []*event

func (q events) Len() int { return len(q) }
func (q events) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q events) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *events) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *events) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// discard is a slog handler that counts replay rejections.
type replayWatch struct{ v *validatorNode }

func (w replayWatch) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w replayWatch) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "WAL replay") {
		w.v.replayRejected++
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "err" {
				w.v.replayErrs = append(w.v.replayErrs, a.Value.String())
			}
			return true
		})
	}
	return nil
}
func (w replayWatch) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w replayWatch) WithGroup(string) slog.Handler      { return w }

var _ engine.Clock = clock{}

type clock struct{ s *sim }

func (c clock) Now() time.Time { return Genesis.Add(c.s.now) }
