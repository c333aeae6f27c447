package testnet

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/tls"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/p2p"
)

// hostile is a peer built from the project's own p2p code with a key it
// made itself and no stake: a p2p.Switch that only dials the target, and
// whose Handler does what the attack needs.
type hostile struct {
	ctx       context.Context
	onReceive func(p2p.NodeID, p2p.Message)
	mu        sync.Mutex // guards the fields below, replaced on a redial
	sw        *p2p.Switch
	key       *ecdsa.PrivateKey
	target    p2p.NodeID
	cancel    context.CancelFunc // stops sw
}

// identity returns the current switch, key and target.
func (h *hostile) identity() (*p2p.Switch, *ecdsa.PrivateKey, p2p.NodeID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sw, h.key, h.target
}

// hostileHandler is the attacker's side of a connection: onReceive sees
// what the target sends (nil ignores it); connected reports the target's
// ID once the handshake is done.
type hostileHandler struct {
	onReceive func(from p2p.NodeID, msg p2p.Message)
	connected chan p2p.NodeID
	once      sync.Once
}

func (h *hostileHandler) Receive(from p2p.NodeID, msg p2p.Message) error {
	if h.onReceive != nil {
		h.onReceive(from, msg)
	}
	return nil
}

func (h *hostileHandler) PeerConnected(p p2p.PeerInfo) {
	h.once.Do(func() { h.connected <- p.ID })
}

func (h *hostileHandler) PeerDisconnected(p2p.NodeID) {}

// dialHostile connects a fresh identity to the target and returns once the
// handshake is done; its Switch runs until ctx ends or the attacker
// replaces the identity.
func (a *attacker) dialHostile(ctx context.Context, onReceive func(p2p.NodeID, p2p.Message)) (*hostile, error) {
	h := &hostile{ctx: ctx, onReceive: onReceive}
	if err := a.redial(h); err != nil {
		return nil, err
	}
	return h, nil
}

// redial gives h a fresh identity connected to the target: after a ban,
// the attacker comes back as someone else, as a real one would.
func (a *attacker) redial(h *hostile) error {
	key, err := crypto.GenerateKey()
	if err != nil {
		return err
	}
	hh := &hostileHandler{onReceive: h.onReceive, connected: make(chan p2p.NodeID, 1)}
	sw, err := p2p.NewSwitch(p2p.Config{
		ChainID: a.chainID, GenesisHash: a.genesis, NodeKey: key,
		PersistentPeers: []string{a.target.P2P},
		SendQueue:       1 << 14,
	}, hh, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(h.ctx)
	go func() { _ = sw.Run(sctx) }()
	select {
	case id := <-hh.connected:
		a.connected(false)
		h.mu.Lock()
		if h.cancel != nil {
			h.cancel()
		}
		h.sw, h.key, h.target, h.cancel = sw, key, id, cancel
		h.mu.Unlock()
		return nil
	case <-time.After(10 * time.Second):
		cancel()
		a.connected(true)
		return errors.New("the target did not accept the attacker's connection within 10s")
	case <-h.ctx.Done():
		cancel()
		return h.ctx.Err()
	}
}

// send sends msg to the target, counting it. When the target has cut the
// attacker off (it is no longer a peer), the attacker redials with a fresh
// identity first. It reports whether msg was queued.
func (a *attacker) send(h *hostile, msg p2p.Message) bool {
	sw, _, target := h.identity()
	if sw.Send(target, msg) {
		a.sent(1, int64(len(p2p.Encode(msg))))
		return true
	}
	if len(sw.Peers()) > 0 {
		return false // our queue to it is full
	}
	if err := a.redial(h); err != nil {
		return false
	}
	sw, _, target = h.identity()
	if !sw.Send(target, msg) {
		return false
	}
	a.sent(1, int64(len(p2p.Encode(msg))))
	return true
}

// pace runs step about rate times a second until ctx ends; step returning
// false ends the attack early (the target is gone for good).
func pace(ctx context.Context, rate int, step func(i int) bool) error {
	start := time.Now()
	for i := 0; ; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !step(i) {
			return nil
		}
		if due := start.Add(time.Duration(i+1) * time.Second / time.Duration(rate)); time.Until(due) > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Until(due)):
			}
		}
	}
}

// junkTxs returns n transfers signed by key: a block's worth of bytes that
// decodes.
func (a *attacker) junkTxs(key *ecdsa.PrivateKey, n int) ([]*chain.Tx, error) {
	txs := make([]*chain.Tx, n)
	for i := range txs {
		tx := &chain.Tx{ChainID: a.chainID, Kind: chain.TxTransfer, Nonce: uint64(i), To: chain.PubkeyAddress(&key.PublicKey), Amount: 1}
		if err := tx.SignWith(func(h chain.Hash) (chain.Signature, error) { return chain.Sign(key, h) }); err != nil {
			return nil, err
		}
		txs[i] = tx
	}
	return txs, nil
}

// signedProposal is a proposal of (h, r) for blk signed by key.
func (a *attacker) signedProposal(key *ecdsa.PrivateKey, h uint64, r uint32, blk *chain.Block) (*chain.Proposal, error) {
	p := &chain.Proposal{Height: h, Round: r, POLRound: chain.NoPOLRound, BlockHash: blk.Hash(), Proposer: chain.PubkeyAddress(&key.PublicKey)}
	sig, err := chain.Sign(key, p.SignHash(a.chainID))
	p.Signature = sig
	return p, err
}

// signedVote is a vote signed by key.
func (a *attacker) signedVote(key *ecdsa.PrivateKey, t chain.VoteType, h uint64, r uint32, hash chain.Hash) (*chain.Vote, error) {
	v := &chain.Vote{Type: t, Height: h, Round: r, BlockHash: hash, Validator: chain.PubkeyAddress(&key.PublicKey)}
	sig, err := chain.Sign(key, v.SignHash(a.chainID))
	v.Signature = sig
	return v, err
}

func randomHash(r *rand.Rand) chain.Hash {
	var h chain.Hash
	for i := range h {
		h[i] = byte(r.Uint32())
	}
	return h
}

// attackFarFuture: proposals at height 2^62, each with a block of about
// 1 MiB of signed transfers, a new round each time so that no two are the
// same message.
func attackFarFuture(ctx context.Context, a *attacker) error {
	h, err := a.dialHostile(ctx, nil)
	if err != nil {
		return err
	}
	_, key, _ := h.identity()
	txs, err := a.junkTxs(key, 6500)
	if err != nil {
		return err
	}
	const height = 1 << 62
	blk := &chain.Block{Header: chain.Header{ChainID: a.chainID, Height: height, Time: uint64(time.Now().UnixMilli()),
		Proposer: chain.PubkeyAddress(&key.PublicKey)}, Txs: txs}
	return pace(ctx, 20, func(i int) bool {
		p, err := a.signedProposal(key, height, uint32(i), blk)
		if err == nil {
			a.send(h, &p2p.ProposalMessage{Proposal: p, Block: blk})
		}
		return true
	})
}

// attackEvidenceFlood: evidence as fast as the connection takes it: double
// signs by the attacker's own key (valid signatures, no validator), and
// the same with a broken signature.
func attackEvidenceFlood(ctx context.Context, a *attacker) error {
	h, err := a.dialHostile(ctx, nil)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(1, 2))
	height := max(a.height(ctx), 1)
	return pace(ctx, 2000, func(i int) bool {
		_, key, _ := h.identity()
		x, _ := a.signedVote(key, chain.Prevote, height, uint32(i), randomHash(r))
		y, _ := a.signedVote(key, chain.Prevote, height, uint32(i), randomHash(r))
		ev := chain.NewEvidence(x, y)
		if i%2 == 1 {
			ev.B.Signature[5] ^= 0xff
		}
		a.send(h, &p2p.EvidenceMessage{Evidence: ev})
		return true
	})
}

// attackStatusFlood: Status and RoundStatus messages, and unrequested block
// responses, as fast as the connection takes them.
func attackStatusFlood(ctx context.Context, a *attacker) error {
	h, err := a.dialHostile(ctx, nil)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(3, 4))
	return pace(ctx, 5000, func(i int) bool {
		height := a.lastHeight.Load()
		switch i % 3 {
		case 0:
			a.send(h, &p2p.Status{Height: height + uint64(r.IntN(1000)), BaseHeight: 1})
		case 1:
			a.send(h, &p2p.RoundStatus{Height: height + 1, Round: uint32(r.IntN(64))})
		default:
			blk := &chain.Block{Header: chain.Header{ChainID: a.chainID, Height: height + 1, Time: uint64(time.Now().UnixMilli())}}
			a.send(h, &p2p.BlockResponse{Block: blk, Certificate: &chain.Certificate{Height: height + 1, BlockHash: blk.Hash()}})
		}
		return true
	})
}

// attackBogusSync: claims to be 1,000 heights ahead; answers each block
// request with a block whose certificate it forged (signed by its own key),
// and sends such answers unasked too.
func attackBogusSync(ctx context.Context, a *attacker) error {
	var h *hostile
	forged := func(height uint64) *p2p.BlockResponse {
		blk := &chain.Block{Header: chain.Header{ChainID: a.chainID, Height: height, Time: uint64(time.Now().UnixMilli())}}
		_, key, _ := h.identity()
		v, _ := a.signedVote(key, chain.Precommit, height, 0, blk.Hash())
		cert := chain.NewCertificate(height, 0, blk.Hash(), []chain.CommitSig{{Validator: v.Validator, Signature: v.Signature}})
		return &p2p.BlockResponse{Block: blk, Certificate: cert}
	}
	requests := make(chan uint64, 1024)
	h, err := a.dialHostile(ctx, func(_ p2p.NodeID, msg p2p.Message) {
		if req, ok := msg.(*p2p.BlockRequest); ok {
			select {
			case requests <- req.Height:
			default:
			}
		}
	})
	if err != nil {
		return err
	}
	return pace(ctx, 200, func(i int) bool {
		height := a.lastHeight.Load()
		if i%20 == 0 {
			a.send(h, &p2p.Status{Height: height + 1000, BaseHeight: 1})
		}
		select {
		case want := <-requests:
			a.send(h, forged(want))
		default:
			a.send(h, forged(height+1))
		}
		return true
	})
}

// attackNextHeightJunk: votes and proposals for the next height signed by
// the attacker's own key, many rounds and blocks, to crowd honest early
// votes out of the next-height buffer.
func attackNextHeightJunk(ctx context.Context, a *attacker) error {
	h, err := a.dialHostile(ctx, nil)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(5, 6))
	return pace(ctx, 2000, func(i int) bool {
		next := a.lastHeight.Load() + 1
		_, key, _ := h.identity()
		if i%50 == 0 {
			blk := &chain.Block{Header: chain.Header{ChainID: a.chainID, Height: next, Time: uint64(time.Now().UnixMilli()),
				Proposer: chain.PubkeyAddress(&key.PublicKey)}}
			if p, err := a.signedProposal(key, next, uint32(i/50)%4, blk); err == nil {
				a.send(h, &p2p.ProposalMessage{Proposal: p, Block: blk})
			}
			return true
		}
		t := chain.Prevote
		if i%2 == 1 {
			t = chain.Precommit
		}
		if v, err := a.signedVote(key, t, next, uint32(r.IntN(4)), randomHash(r)); err == nil {
			a.send(h, &p2p.VoteMessage{Vote: v})
		}
		return true
	})
}

// attackSlowReader: asks for the biggest recent blocks over and over and
// never reads: its Handler blocks, so its reader stops, TCP pushes back,
// and everything the target sends it waits in the target's send queue.
func attackSlowReader(ctx context.Context, a *attacker) error {
	block := make(chan struct{})
	defer close(block)
	h, err := a.dialHostile(ctx, func(p2p.NodeID, p2p.Message) {
		select {
		case <-block:
		case <-ctx.Done():
		}
	})
	if err != nil {
		return err
	}
	return pace(ctx, 500, func(i int) bool {
		top := a.lastHeight.Load()
		if top == 0 {
			return true
		}
		a.send(h, &p2p.BlockRequest{Height: top - uint64(i)%min(top, 64)})
		return true
	})
}

// attackConnFlood: connections from fresh identities, each finishing the
// handshake, and plain TCP connections that never start it, as many as the
// target takes.
func attackConnFlood(ctx context.Context, a *attacker) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	return pace(ctx, 20, func(i int) bool {
		if i%2 == 0 {
			d := net.Dialer{Timeout: 2 * time.Second}
			c, err := d.DialContext(ctx, "tcp", a.target.P2P)
			a.connected(err != nil)
			if err == nil {
				conns = append(conns, c)
			}
			return true
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A refusal is counted by dialHostile; the flood goes on.
			_, _ = a.dialHostile(ctx, nil)
		}()
		return true
	})
}

// attackRelay tries, over and over, to take an honest node's identity at
// the target: it fetches that node's certificate (anyone can) and presents
// it with its own TLS key, and it claims that node's NodeID over its own
// session. Each attempt that the target refuses counts as refused; one it
// accepted would let the attacker occupy the honest node's slot.
func attackRelay(ctx context.Context, a *attacker) error {
	var honest *Node
	for i := range a.m.Nodes {
		if a.m.Nodes[i].Name != a.target.Name {
			honest = &a.m.Nodes[i]
			break
		}
	}
	if honest == nil {
		return errors.New("the relay attack needs a second node to impersonate")
	}
	key, err := crypto.GenerateKey()
	if err != nil {
		return err
	}
	tlsKey, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		return err
	}
	return pace(ctx, 10, func(i int) bool {
		dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		opts := p2p.RawOptions{NodeKey: key, ChainID: a.chainID, GenesisHash: a.genesis}
		der, err := p2p.PeerCertificate(dctx, honest.P2P, key)
		if err != nil {
			return true // the honest node is busy or down; try again
		}
		if i%2 == 0 {
			opts.Certificate = &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: tlsKey}
		} else {
			// Claim the honest node's ID (read from its certificate via a
			// raw connection to it) over the attacker's own session.
			rc, err := p2p.DialRaw(dctx, honest.P2P, opts)
			if err != nil {
				return true
			}
			claim := rc.Peer
			rc.Close()
			opts.Claim = &claim
		}
		rc, err := p2p.DialRaw(dctx, a.target.P2P, opts)
		a.connected(err != nil)
		if err == nil {
			a.sent(1, 0)
			rc.Close()
		}
		return true
	})
}

// attackGarbageFrames completes the handshake with a fresh identity, then
// sends frames that do not decode (random bytes, truncated messages,
// unknown kinds); when the target cuts it off it reconnects with a new
// identity and goes on.
func attackGarbageFrames(ctx context.Context, a *attacker) error {
	r := rand.New(rand.NewPCG(7, 8))
	var rc *p2p.RawConn
	defer func() {
		if rc != nil {
			rc.Close()
		}
	}()
	valid := p2p.Encode(&p2p.Status{Height: 1, BaseHeight: 1})
	return pace(ctx, 500, func(i int) bool {
		if rc == nil {
			key, err := crypto.GenerateKey()
			if err != nil {
				return false
			}
			dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			rc, err = p2p.DialRaw(dctx, a.target.P2P, p2p.RawOptions{NodeKey: key, ChainID: a.chainID, GenesisHash: a.genesis})
			cancel()
			a.connected(err != nil)
			if err != nil {
				rc = nil
				return true
			}
		}
		var frame []byte
		switch i % 3 {
		case 0:
			frame = make([]byte, 1+r.IntN(4096))
			for j := range frame {
				frame[j] = byte(r.Uint32())
			}
		case 1:
			frame = valid[:len(valid)-1] // truncated
		default:
			frame = append([]byte{0xc3, 0x7f}, valid[2:]...) // unknown kind
		}
		if err := rc.WriteFrame(frame); err != nil {
			rc.Close()
			rc = nil
			return true
		}
		a.sent(1, int64(len(frame)))
		return true
	})
}
