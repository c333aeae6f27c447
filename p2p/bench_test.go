//go:build unix

package p2p

import (
	"context"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
)

func benchMessages(b *testing.B) map[string]Message {
	k := testKey(b, 1)
	blk := makeBlock(b, k, 2, 10_000, nil)
	return map[string]Message{
		"vote":            &VoteMessage{Vote: signedVote(b, k, chain.Precommit, 7, 0, chain.Hash{1})},
		"block_txs=10000": &ProposalMessage{Proposal: proposalFor(b, k, blk, 0), Block: blk},
		"txs=512":         &TxsMessage{Txs: blk.Txs[:512]},
	}
}

func BenchmarkEncode(b *testing.B) {
	for name, m := range benchMessages(b) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(Encode(m))))
			for b.Loop() {
				Encode(m)
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for name, m := range benchMessages(b) {
		enc := Encode(m)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(enc)))
			for b.Loop() {
				if _, err := Decode(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// countingHandler counts votes and signals when it has seen want of them.
type countingHandler struct {
	n         atomic.Int64
	want      atomic.Int64
	done      chan struct{} // buffered 1
	connected chan struct{} // buffered 1
}

func newCountingHandler() *countingHandler {
	return &countingHandler{done: make(chan struct{}, 1), connected: make(chan struct{}, 1)}
}

func (h *countingHandler) Receive(_ NodeID, m Message) error {
	if m.Kind() == KindVote && h.n.Add(1) == h.want.Load() {
		h.done <- struct{}{}
	}
	return nil
}
func (h *countingHandler) PeerConnected(PeerInfo)  { h.connected <- struct{}{} }
func (h *countingHandler) PeerDisconnected(NodeID) {}

// BenchmarkVoteThroughput sends distinct votes from one switch to another
// over loopback, as fast as the send queue takes them, and reports
// delivered messages per second (ns/op is the sender's cost per vote).
func BenchmarkVoteThroughput(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	ha, hb := newCountingHandler(), newCountingHandler()
	a, err := NewSwitch(Config{ChainID: testChain, GenesisHash: testGenesis, NodeKey: testKey(b, 1), ListenAddr: "127.0.0.1:0"}, ha, nil)
	if err != nil {
		b.Fatal(err)
	}
	runErr := make(chan error, 2)
	go func() { runErr <- a.Run(ctx) }()
	<-a.Listening()
	// The receiver's consensus budget is lifted: this measures the
	// transport (budget checks included), not the budget.
	unlimited := Budget{MessagesPerSecond: 1e9, MessageBurst: 1 << 30, BytesPerSecond: 1e12, ByteBurst: 1 << 40}
	bs, err := NewSwitch(Config{ChainID: testChain, GenesisHash: testGenesis, NodeKey: testKey(b, 2), PersistentPeers: []string{a.ListenAddr()},
		Budgets: Budgets{Consensus: unlimited}}, hb, nil)
	if err != nil {
		b.Fatal(err)
	}
	go func() { runErr <- bs.Run(ctx) }()
	defer func() {
		cancel()
		for range 2 {
			if err := <-runErr; err != nil {
				b.Error(err)
			}
		}
	}()
	for _, h := range []*countingHandler{ha, hb} {
		select {
		case <-h.connected:
		case <-time.After(waitTimeout):
			b.Fatal("switches did not connect")
		}
	}

	// Distinct votes: the height varies. Signatures are not checked here.
	v := *signedVote(b, testKey(b, 3), chain.Prevote, 1, 0, chain.Hash{1})
	var sent int64
	cpuStart := cpuTime(b)
	start := time.Now()
	for b.Loop() {
		sent++
		vote := v
		vote.Height = uint64(sent)
		for !a.Send(bs.ID(), &VoteMessage{Vote: &vote}) {
			time.Sleep(50 * time.Microsecond) // queue full: let the writer drain it
		}
	}
	hb.want.Store(sent)
	if hb.n.Load() < sent {
		select {
		case <-hb.done:
		case <-time.After(waitTimeout):
			b.Fatalf("delivered %d of %d votes", hb.n.Load(), sent)
		}
	}
	b.ReportMetric(float64(sent)/time.Since(start).Seconds(), "msgs/s")
	b.ReportMetric(float64((cpuTime(b)-cpuStart).Nanoseconds())/float64(sent), "cpu-ns/msg")
}

// cpuTime is the user plus system CPU time of this process, a measure that
// other load on the machine disturbs less than wall time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
