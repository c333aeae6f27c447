// Package chaintest has helpers for tests that execute blocks: deterministic
// keys, signed transactions, votes, evidence and certificates, genesis states
// whose validators and accounts have keys, a Chain that executes blocks the
// way a node does, and a SenderCache that counts its hits.
package chaintest

import (
	"crypto/ecdsa"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

// Key returns the deterministic secp256k1 key keccak256(label, i). Keys are
// memoized: deriving the public key is the costly part.
func Key(label string, i int) *ecdsa.PrivateKey {
	id := keyID{label, i}
	if k, ok := keys.Load(id); ok {
		return k.(*ecdsa.PrivateKey)
	}
	seed := crypto.Keccak256([]byte(label), binary.BigEndian.AppendUint64(nil, uint64(i)))
	k, err := crypto.ToECDSA(seed)
	if err != nil { // a Keccak output is a valid scalar with overwhelming probability
		panic(fmt.Sprintf("chaintest: key %s/%d: %v", label, i, err))
	}
	keys.Store(id, k)
	return k
}

type keyID struct {
	label string
	i     int
}

var keys sync.Map // keyID -> *ecdsa.PrivateKey

// ValidatorKey is the key of genesis validator i (from 0).
func ValidatorKey(i int) *ecdsa.PrivateKey { return Key("validator", i) }

// AccountKey is the key of genesis account i (from 0).
func AccountKey(i int) *ecdsa.PrivateKey { return Key("account", i) }

// Addr is the address of key.
func Addr(key *ecdsa.PrivateKey) chain.Address { return chain.PubkeyAddress(&key.PublicKey) }

// Genesis describes a genesis state whose members have keys: validator i
// has ValidatorKey(i), a self-bond of Stakes[i] and a balance of
// ValidatorBalances[i] (0 when absent, to pay fees with); account i has
// AccountKey(i) and a balance of Balances[i].
type Genesis struct {
	Params            staking.Params // zero: staking.DefaultParams()
	Stakes            []uint64
	Balances          []uint64
	ValidatorBalances []uint64
}

// New builds the state at height 0 and the validator set of height 1.
func (g Genesis) New(tb testing.TB) (*staking.State, *staking.ValidatorSet) {
	tb.Helper()
	params := g.Params
	if params == (staking.Params{}) {
		params = staking.DefaultParams()
	}
	balances := make([]staking.GenesisBalance, len(g.Balances))
	for i, b := range g.Balances {
		balances[i] = staking.GenesisBalance{Address: Addr(AccountKey(i)), Amount: b}
	}
	for i, b := range g.ValidatorBalances {
		balances = append(balances, staking.GenesisBalance{Address: Addr(ValidatorKey(i)), Amount: b})
	}
	stakes := make([]staking.GenesisStake, len(g.Stakes))
	for i, s := range g.Stakes {
		stakes[i] = staking.GenesisStake{Validator: Addr(ValidatorKey(i)), Amount: s}
	}
	st, vs, err := staking.NewGenesisState(params, balances, stakes)
	if err != nil {
		tb.Fatalf("chaintest: genesis: %v", err)
	}
	return st, vs
}

// Tx returns a transaction signed by key, with no fee.
func Tx(tb testing.TB, key *ecdsa.PrivateKey, chainID string, kind chain.TxKind, nonce uint64, to chain.Address, amount uint64) *chain.Tx {
	tb.Helper()
	return FeeTx(tb, key, chainID, kind, nonce, to, amount, 0)
}

// FeeTx returns a transaction with the given fee, signed by key.
func FeeTx(tb testing.TB, key *ecdsa.PrivateKey, chainID string, kind chain.TxKind, nonce uint64, to chain.Address, amount, fee uint64) *chain.Tx {
	tb.Helper()
	tx := &chain.Tx{ChainID: chainID, Kind: kind, Nonce: nonce, To: to, Amount: amount, Fee: fee}
	sig, err := chain.Sign(key, tx.SignHash())
	if err != nil {
		tb.Fatalf("chaintest: sign tx: %v", err)
	}
	tx.Sig = sig
	return tx
}

// Vote returns a vote signed by key.
func Vote(tb testing.TB, key *ecdsa.PrivateKey, chainID string, typ chain.VoteType, height uint64, round uint32, block chain.Hash) *chain.Vote {
	tb.Helper()
	v := &chain.Vote{Type: typ, Height: height, Round: round, BlockHash: block, Validator: Addr(key)}
	sig, err := chain.Sign(key, v.SignHash(chainID))
	if err != nil {
		tb.Fatalf("chaintest: sign vote: %v", err)
	}
	v.Signature = sig
	return v
}

// DoubleSign returns evidence that key precommitted two different blocks at
// (height, round).
func DoubleSign(tb testing.TB, key *ecdsa.PrivateKey, chainID string, height uint64, round uint32) *chain.Evidence {
	tb.Helper()
	a := Vote(tb, key, chainID, chain.Precommit, height, round, chain.Hash{0x0a})
	b := Vote(tb, key, chainID, chain.Precommit, height, round, chain.Hash{0x0b})
	return chain.NewEvidence(a, b)
}

// Proposal returns key's signed proposal of block at (height, round) with
// POL round pol.
func Proposal(tb testing.TB, key *ecdsa.PrivateKey, chainID string, height uint64, round uint32, pol int32, block chain.Hash) *chain.Proposal {
	tb.Helper()
	p := &chain.Proposal{Height: height, Round: round, POLRound: pol, BlockHash: block, Proposer: Addr(key)}
	sig, err := chain.Sign(key, p.SignHash(chainID))
	if err != nil {
		tb.Fatalf("chaintest: sign proposal: %v", err)
	}
	p.Signature = sig
	return p
}

// DoublePropose returns evidence that key proposed two different blocks at
// (height, round).
func DoublePropose(tb testing.TB, key *ecdsa.PrivateKey, chainID string, height uint64, round uint32) *chain.Evidence {
	tb.Helper()
	a := Proposal(tb, key, chainID, height, round, chain.NoPOLRound, chain.Hash{0x0a})
	b := Proposal(tb, key, chainID, height, round, chain.NoPOLRound, chain.Hash{0x0b})
	return chain.NewProposalEvidence(a, b)
}

// Certificate returns a certificate for block at (height, round) carrying a
// precommit of every key.
func Certificate(tb testing.TB, chainID string, height uint64, round uint32, block chain.Hash, keys ...*ecdsa.PrivateKey) *chain.Certificate {
	tb.Helper()
	ps := make([]chain.CommitSig, len(keys))
	for i, k := range keys {
		v := Vote(tb, k, chainID, chain.Precommit, height, round, block)
		ps[i] = chain.CommitSig{Validator: v.Validator, Signature: v.Signature}
	}
	return chain.NewCertificate(height, round, block, ps)
}

// CountingCache is a chain.SenderCache backed by a map that counts its hits.
// Put must not run concurrently with Sender; Sender is safe for concurrent
// use, as RecoverSenders needs.
type CountingCache struct {
	senders map[chain.Hash]chain.Address
	hits    atomic.Int64
}

// NewCountingCache returns an empty cache.
func NewCountingCache() *CountingCache {
	return &CountingCache{senders: make(map[chain.Hash]chain.Address)}
}

// Put records from as the sender of the transaction with hash h.
func (c *CountingCache) Put(h chain.Hash, from chain.Address) { c.senders[h] = from }

// Sender implements chain.SenderCache.
func (c *CountingCache) Sender(h chain.Hash) (chain.Address, bool) {
	from, ok := c.senders[h]
	if ok {
		c.hits.Add(1)
	}
	return from, ok
}

// Hits is the number of lookups that found a sender.
func (c *CountingCache) Hits() int64 { return c.hits.Load() }

// Chain executes blocks on a ledger the way a node does: each block on a
// fork of State, committed only if Execute succeeds. It records the
// validator set of every height, for evidence verification.
type Chain struct {
	ID    string
	State *staking.State
	Cache chain.SenderCache // consulted by RecoverSenders; may be nil
	sets  map[uint64]*staking.ValidatorSet
}

// NewChain starts a chain from st; the set of the next height is
// st.Validators().
func NewChain(id string, st *staking.State) *Chain {
	c := &Chain{ID: id, State: st, sets: make(map[uint64]*staking.ValidatorSet)}
	c.sets[st.Height()+1] = st.Validators()
	return c
}

// Height is the last executed height.
func (c *Chain) Height() uint64 { return c.State.Height() }

// Set returns the validator set of height h; it is a chain.EvidenceSets.
func (c *Chain) Set(h uint64) (chain.StakeSet, error) {
	vs, ok := c.sets[h]
	if !ok {
		return nil, fmt.Errorf("chaintest: no validator set recorded for height %d", h)
	}
	return vs, nil
}

// ValidatorSet returns the recorded validator set of height h, or nil.
func (c *Chain) ValidatorSet(h uint64) *staking.ValidatorSet { return c.sets[h] }

// Block builds the next block with txs and evidence. Its header commits to
// them and names the round-0 proposer of the recorded validator set (who
// collects the fees), but carries no parent or last certificate.
func (c *Chain) Block(txs []*chain.Tx, evidence ...*chain.Evidence) *chain.Block {
	h := c.Height() + 1
	blk := &chain.Block{Txs: txs, Evidence: evidence}
	blk.Header = chain.Header{
		ChainID:      c.ID,
		Height:       h,
		Time:         h * 1000,
		TxRoot:       chain.MerkleRoot(blk.TxHashes()),
		EvidenceRoot: chain.MerkleRoot(blk.EvidenceHashes()),
	}
	if vs := c.sets[h]; vs != nil {
		blk.Header.ValidatorsHash = vs.Hash()
		blk.Header.Proposer = vs.Proposer(0)
	}
	return blk
}

// Try executes blk on a fresh fork of State and returns the result and the
// fork, without committing it.
func (c *Chain) Try(blk *chain.Block) (*chain.ExecResult, *staking.State, error) {
	fork := c.State.Fork()
	senders := chain.RecoverSenders(blk.Txs, c.Cache)
	res, err := chain.Execute(fork, c.ID, blk, senders, c.Set)
	return res, fork, err
}

// Execute executes blk on a fork and commits it if Execute succeeds.
func (c *Chain) Execute(blk *chain.Block) (*chain.ExecResult, error) {
	res, fork, err := c.Try(blk)
	if err != nil {
		return nil, err
	}
	c.State.Commit(fork)
	c.sets[blk.Header.Height+1] = res.NextValidators
	return res, nil
}

// Next builds, executes and commits the next block, failing the test if
// Execute fails.
func (c *Chain) Next(tb testing.TB, txs []*chain.Tx, evidence ...*chain.Evidence) *chain.ExecResult {
	tb.Helper()
	res, err := c.Execute(c.Block(txs, evidence...))
	if err != nil {
		tb.Fatalf("chaintest: execute block %d: %v", c.Height()+1, err)
	}
	return res
}

// EmptyBlocks executes empty blocks up to height to.
func (c *Chain) EmptyBlocks(tb testing.TB, to uint64) {
	tb.Helper()
	for c.Height() < to {
		c.Next(tb, nil)
	}
}
