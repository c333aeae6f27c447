// Package consensustest provides deterministic fixtures for tests of the
// consensus Machine and of its drivers (the node, the simulator): keys
// derived from small integers, validator sets with given stakes, signed
// votes, proposals and certificates, simple blocks, and helpers to inspect
// the actions a Machine returns. It imports neither consensus nor anything
// with side effects, so any test package can use it.
package consensustest

import (
	"crypto/ecdsa"
	"encoding/binary"
	"fmt"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

// ChainID is the chain id the fixtures sign for.
const ChainID = "quorum-test"

// Key returns the deterministic secp256k1 key number i (i >= 0): the
// private scalar i+1. The same i always gives the same key and address.
func Key(i int) *ecdsa.PrivateKey {
	if i < 0 {
		panic(fmt.Sprintf("consensustest: key index %d < 0", i))
	}
	var d [32]byte
	binary.BigEndian.PutUint64(d[24:], uint64(i)+1)
	k, err := crypto.ToECDSA(d[:])
	if err != nil {
		panic(fmt.Sprintf("consensustest: key %d: %v", i, err))
	}
	return k
}

// Address returns the address of Key(i).
func Address(i int) chain.Address { return chain.PubkeyAddress(&Key(i).PublicKey) }

// Validator is one member of a Validators fixture.
type Validator struct {
	Key     *ecdsa.PrivateKey
	Address chain.Address
	Stake   uint64
}

// Validators is a validator set whose member i holds Key(i) and the i-th
// stake given to NewValidators. Member indices here are key indices, not
// the set's address order.
type Validators struct {
	ChainID string
	List    []Validator
	Set     *staking.ValidatorSet
	byAddr  map[chain.Address]int
}

// NewValidators builds a set with one validator per stake; it panics on an
// invalid set (a zero stake), which is a bug in the test.
func NewValidators(stakes ...uint64) *Validators {
	vs := &Validators{ChainID: ChainID, byAddr: make(map[chain.Address]int, len(stakes))}
	members := make([]staking.Validator, len(stakes))
	for i, s := range stakes {
		k := Key(i)
		a := chain.PubkeyAddress(&k.PublicKey)
		vs.List = append(vs.List, Validator{Key: k, Address: a, Stake: s})
		vs.byAddr[a] = i
		members[i] = staking.Validator{Address: a, Stake: s}
	}
	set, err := staking.NewValidatorSet(members)
	if err != nil {
		panic(fmt.Sprintf("consensustest: validator set %v: %v", stakes, err))
	}
	vs.Set = set
	return vs
}

// Equal returns a set of n validators with the same stake each.
func Equal(n int, stake uint64) *Validators {
	stakes := make([]uint64, n)
	for i := range stakes {
		stakes[i] = stake
	}
	return NewValidators(stakes...)
}

// Len returns the number of validators.
func (vs *Validators) Len() int { return len(vs.List) }

// IndexOf returns the key index of address a.
func (vs *Validators) IndexOf(a chain.Address) (int, bool) {
	i, ok := vs.byAddr[a]
	return i, ok
}

// Proposer returns the key index of the proposer of round r.
func (vs *Validators) Proposer(r uint32) int {
	i, ok := vs.byAddr[vs.Set.Proposer(r)]
	if !ok {
		panic("consensustest: proposer not in fixture")
	}
	return i
}

// Vote returns a vote of validator i signed for vs.ChainID.
func (vs *Validators) Vote(i int, t chain.VoteType, height uint64, round uint32, block chain.Hash) *chain.Vote {
	return SignVote(vs.List[i].Key, vs.ChainID, t, height, round, block)
}

// Votes returns the votes of validators idx, all for the same block.
func (vs *Validators) Votes(t chain.VoteType, height uint64, round uint32, block chain.Hash, idx ...int) []*chain.Vote {
	out := make([]*chain.Vote, len(idx))
	for j, i := range idx {
		out[j] = vs.Vote(i, t, height, round, block)
	}
	return out
}

// Proposal returns a proposal by validator i signed for vs.ChainID.
func (vs *Validators) Proposal(i int, height uint64, round uint32, polRound int32, block chain.Hash) *chain.Proposal {
	return SignProposal(vs.List[i].Key, vs.ChainID, height, round, polRound, block)
}

// Certificate returns a certificate for block at (height, round) signed by
// validators idx (it does not check that they form a quorum).
func (vs *Validators) Certificate(height uint64, round uint32, block chain.Hash, idx ...int) *chain.Certificate {
	sigs := make([]chain.CommitSig, len(idx))
	for j, i := range idx {
		v := vs.Vote(i, chain.Precommit, height, round, block)
		sigs[j] = chain.CommitSig{Validator: v.Validator, Signature: v.Signature}
	}
	return chain.NewCertificate(height, round, block, sigs)
}

// SignVote returns a vote signed by key.
func SignVote(key *ecdsa.PrivateKey, chainID string, t chain.VoteType, height uint64, round uint32, block chain.Hash) *chain.Vote {
	v := &chain.Vote{Type: t, Height: height, Round: round, BlockHash: block, Validator: chain.PubkeyAddress(&key.PublicKey)}
	v.Signature = mustSign(key, v.SignHash(chainID))
	return v
}

// SignProposal returns a proposal signed by key.
func SignProposal(key *ecdsa.PrivateKey, chainID string, height uint64, round uint32, polRound int32, block chain.Hash) *chain.Proposal {
	p := &chain.Proposal{Height: height, Round: round, POLRound: polRound, BlockHash: block, Proposer: chain.PubkeyAddress(&key.PublicKey)}
	p.Signature = mustSign(key, p.SignHash(chainID))
	return p
}

// Signed returns a copy of v signed by key (for drivers answering SignVote).
func Signed(key *ecdsa.PrivateKey, chainID string, v *chain.Vote) *chain.Vote {
	c := *v
	c.Signature = mustSign(key, c.SignHash(chainID))
	return &c
}

// SignedProposal returns a copy of p signed by key.
func SignedProposal(key *ecdsa.PrivateKey, chainID string, p *chain.Proposal) *chain.Proposal {
	c := *p
	c.Signature = mustSign(key, c.SignHash(chainID))
	return &c
}

func mustSign(key *ecdsa.PrivateKey, digest chain.Hash) chain.Signature {
	sig, err := chain.Sign(key, digest)
	if err != nil {
		panic(fmt.Sprintf("consensustest: sign: %v", err))
	}
	return sig
}

// NewBlock returns a simple empty block for chainID at height by proposer.
// Salt goes into the header time, so different salts give different hashes.
// TxRoot and EvidenceRoot are the Merkle root of nothing; the block is not
// a valid chain block (no parent certificate), which a Machine never checks
// itself.
func NewBlock(chainID string, height uint64, proposer chain.Address, salt uint64) *chain.Block {
	return &chain.Block{Header: chain.Header{
		ChainID:      chainID,
		Height:       height,
		Time:         salt,
		Proposer:     proposer,
		TxRoot:       chain.MerkleRoot(nil),
		EvidenceRoot: chain.MerkleRoot(nil),
	}}
}

// Block returns NewBlock for vs.ChainID by validator i.
func (vs *Validators) Block(i int, height uint64, salt uint64) *chain.Block {
	return NewBlock(vs.ChainID, height, vs.List[i].Address, salt)
}
