// Package lighttest builds real, signed chains for tests of light clients
// and remote signers: a genesis document whose validators and accounts have
// keys, blocks executed on the ledger with real headers (parent, state,
// validator-set hashes) and certificates signed by the validators of each
// height, forks of such chains, and an rpc.Backend that serves them.
package lighttest

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/chaintest"
	"github.com/quorumchain/quorumchain/genesis"
	"github.com/quorumchain/quorumchain/light"
	"github.com/quorumchain/quorumchain/staking"
)

// ChainID is the chain id of the chains built here.
const ChainID = "quorum-light"

// GenesisTime is the genesis time; block h has time GenesisTime + h seconds.
var GenesisTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Chain is a chain built block by block. Blocks[h-1] is height h.
type Chain struct {
	Doc    *genesis.Doc
	Blocks []*light.SignedHeader
	exec   *chaintest.Chain
	sets   map[uint64]*staking.ValidatorSet // set of every height 1..Height()+1
	keys   map[chain.Address]*ecdsa.PrivateKey
	nonces map[chain.Address]uint64
}

// New returns a chain at height 0 with genesis validators
// chaintest.ValidatorKey(i) bonding stakes[i], and accounts
// chaintest.AccountKey(i) holding balances[i]. params may be zero
// (staking.DefaultParams).
func New(tb testing.TB, params staking.Params, stakes, balances []uint64) *Chain {
	tb.Helper()
	doc := genesis.New(ChainID, GenesisTime)
	if params != (staking.Params{}) {
		doc.Params = params
	}
	c := &Chain{Doc: doc, sets: map[uint64]*staking.ValidatorSet{}, keys: map[chain.Address]*ecdsa.PrivateKey{}, nonces: map[chain.Address]uint64{}}
	for i, s := range stakes {
		k := chaintest.ValidatorKey(i)
		c.keys[chaintest.Addr(k)] = k
		if err := doc.AddValidator(chaintest.Addr(k), s, fmt.Sprintf("node%d", i)); err != nil {
			tb.Fatalf("lighttest: genesis validator %d: %v", i, err)
		}
	}
	for i, b := range balances {
		k := chaintest.AccountKey(i)
		c.keys[chaintest.Addr(k)] = k
		if err := doc.AddAccount(chaintest.Addr(k), b); err != nil {
			tb.Fatalf("lighttest: genesis account %d: %v", i, err)
		}
	}
	st, set, err := doc.InitialState()
	if err != nil {
		tb.Fatalf("lighttest: genesis: %v", err)
	}
	c.exec = chaintest.NewChain(ChainID, st)
	c.sets[1] = set
	return c
}

// Height is the last built height.
func (c *Chain) Height() uint64 { return uint64(len(c.Blocks)) }

// Set is the validator set of height h (1..Height()+1), or nil.
func (c *Chain) Set(h uint64) *staking.ValidatorSet { return c.sets[h] }

// Block is the signed header of height h (1..Height()).
func (c *Chain) Block(h uint64) *light.SignedHeader { return c.Blocks[h-1] }

// Key is the key of a genesis validator or account.
func (c *Chain) Key(a chain.Address) *ecdsa.PrivateKey { return c.keys[a] }

// Tx returns a transaction of kind signed by the key of from with its next
// nonce.
func (c *Chain) Tx(tb testing.TB, from chain.Address, kind chain.TxKind, to chain.Address, amount uint64) *chain.Tx {
	tb.Helper()
	k := c.keys[from]
	if k == nil {
		tb.Fatalf("lighttest: no key for %s", chain.FormatAddress(from))
	}
	n := c.nonces[from]
	c.nonces[from] = n + 1
	return chaintest.Tx(tb, k, ChainID, kind, n, to, amount)
}

// Next executes the next block with txs and certifies it with the
// precommits of every member of its validator set.
func (c *Chain) Next(tb testing.TB, txs ...*chain.Tx) *light.SignedHeader {
	tb.Helper()
	h := c.Height() + 1
	blk := c.exec.Block(txs)
	res, err := c.exec.Execute(blk)
	if err != nil {
		tb.Fatalf("lighttest: execute block %d: %v", h, err)
	}
	for i, r := range res.Receipts {
		if r.Status != chain.TxAccepted {
			tb.Fatalf("lighttest: block %d tx %d rejected: %s", h, i, r.Error)
		}
	}
	c.sets[h+1] = res.NextValidators
	hd := blk.Header
	hd.Time = uint64(GenesisTime.UnixMilli()) + h*1000
	hd.ValidatorsHash = c.sets[h].Hash()
	hd.NextValidatorsHash = res.NextValidators.Hash()
	hd.StateHash = res.StateHash
	hd.Proposer = c.sets[h].At(0).Address
	if h > 1 {
		prev := c.Blocks[h-2]
		hd.ParentHash = prev.Hash()
		hd.LastCertHash = prev.Certificate.Hash()
	}
	sh := &light.SignedHeader{Header: hd, Certificate: c.Certify(tb, &hd, 0, c.Members(h)...)}
	c.Blocks = append(c.Blocks, sh)
	return sh
}

// Empty builds empty blocks up to height to.
func (c *Chain) Empty(tb testing.TB, to uint64) {
	tb.Helper()
	for c.Height() < to {
		c.Next(tb)
	}
}

// Members lists the addresses of the validator set of height h.
func (c *Chain) Members(h uint64) []chain.Address {
	set := c.sets[h]
	out := make([]chain.Address, set.Len())
	for i := range out {
		out[i] = set.At(i).Address
	}
	return out
}

// Certify returns a certificate for hd at round, with a precommit by each
// signer's key (they need not be members: tests forge with it).
func (c *Chain) Certify(tb testing.TB, hd *chain.Header, round uint32, signers ...chain.Address) *chain.Certificate {
	tb.Helper()
	keys := make([]*ecdsa.PrivateKey, len(signers))
	for i, a := range signers {
		if keys[i] = c.keys[a]; keys[i] == nil {
			tb.Fatalf("lighttest: no key for signer %s", chain.FormatAddress(a))
		}
	}
	return chaintest.Certificate(tb, ChainID, hd.Height, round, hd.Hash(), keys...)
}

// Fork returns a copy of c's blocks in which height h (and every later
// one, re-linked) has a different header, certified in the same rounds by
// the same validators: what validators that double-sign produce.
func (c *Chain) Fork(tb testing.TB, h uint64) *Source {
	tb.Helper()
	blocks := make([]*light.SignedHeader, len(c.Blocks))
	copy(blocks, c.Blocks)
	for i := h; i <= c.Height(); i++ {
		hd := blocks[i-1].Header
		if i == h {
			hd.StateHash = chain.Hash{0xf0, 0x4c}
		} else {
			hd.ParentHash = blocks[i-2].Hash()
			hd.LastCertHash = blocks[i-2].Certificate.Hash()
		}
		old := blocks[i-1].Certificate
		blocks[i-1] = &light.SignedHeader{Header: hd, Certificate: c.Certify(tb, &hd, old.Round, old.Signers()...)}
	}
	return &Source{Blocks: blocks, Sets: c.sets}
}

// Source serves c's blocks and sets.
func (c *Chain) Source() *Source { return &Source{Blocks: c.Blocks, Sets: c.sets} }

// Source is an in-memory light.Source over a list of blocks. Edit
// replaces what it serves at a height (for forgeries).
type Source struct {
	Blocks []*light.SignedHeader
	Sets   map[uint64]*staking.ValidatorSet
	// Edit, if set, may replace the signed header served at a height.
	Edit func(*light.SignedHeader) *light.SignedHeader
	// EditSet, if set, may replace the set served at a height.
	EditSet func(height uint64, set *staking.ValidatorSet) *staking.ValidatorSet
	// Asked lists the heights of SignedHeader calls, in order.
	Asked []uint64
}

// SignedHeader implements light.Source.
func (s *Source) SignedHeader(_ context.Context, h uint64) (*light.SignedHeader, error) {
	s.Asked = append(s.Asked, h)
	if h == 0 {
		h = uint64(len(s.Blocks))
	}
	if h == 0 || h > uint64(len(s.Blocks)) {
		return nil, fmt.Errorf("lighttest: no block at height %d", h)
	}
	sh := s.Blocks[h-1]
	if s.Edit != nil {
		sh = s.Edit(sh)
	}
	return sh, nil
}

// Validators implements light.Source.
func (s *Source) Validators(_ context.Context, h uint64) (*staking.ValidatorSet, error) {
	set := s.Sets[h]
	if s.EditSet != nil {
		set = s.EditSet(h, set)
	}
	if set == nil {
		return nil, fmt.Errorf("lighttest: no validator set at height %d", h)
	}
	return set, nil
}
