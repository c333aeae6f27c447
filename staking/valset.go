package staking

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
)

// Validator is a member of a ValidatorSet.
type Validator struct {
	Address Address
	Stake   uint64
	// ProposerPriority is the stake-weighted round-robin counter (see
	// priority.go); the member with the highest priority proposes round 0.
	ProposerPriority int64
}

// ValidatorSet is the stake-weighted membership of one height, with its
// proposer priorities. It is immutable after construction and all methods
// are safe for concurrent readers. Members are kept sorted by address; an
// index is a position in that order.
type ValidatorSet struct {
	vals     []Validator
	total    uint64
	hash     Hash
	proposer int // index of the round-0 proposer
}

// NewValidatorSet builds a set from vals (in any order; priorities are kept
// as given). It fails with ErrInvalidValidatorSet on an empty set, a
// duplicate address, a zero stake, a total above MaxSupply, or a priority
// outside [-2^62, 2^62].
func NewValidatorSet(vals []Validator) (*ValidatorSet, error) {
	sorted, total, err := sortMembers(vals)
	if err != nil {
		return nil, err
	}
	for _, v := range sorted {
		if v.ProposerPriority > priorityLimit || v.ProposerPriority < -priorityLimit {
			return nil, fmt.Errorf("%w: %s has priority %d out of range", ErrInvalidValidatorSet, v.Address.Hex(), v.ProposerPriority)
		}
	}
	return newSet(sorted, total, membershipHash(sorted)), nil
}

// sortMembers returns a sorted copy of vals and their total stake, checking
// the membership rules.
func sortMembers(vals []Validator) ([]Validator, uint64, error) {
	if len(vals) == 0 {
		return nil, 0, fmt.Errorf("%w: empty", ErrInvalidValidatorSet)
	}
	sorted := slices.Clone(vals)
	slices.SortFunc(sorted, func(a, b Validator) int { return bytes.Compare(a.Address[:], b.Address[:]) })
	var total uint64
	for i, v := range sorted {
		if i > 0 && sorted[i-1].Address == v.Address {
			return nil, 0, fmt.Errorf("%w: duplicate %s", ErrInvalidValidatorSet, v.Address.Hex())
		}
		if v.Stake == 0 {
			return nil, 0, fmt.Errorf("%w: %s has zero stake", ErrInvalidValidatorSet, v.Address.Hex())
		}
		var err error
		if total, err = addAmount(total, v.Stake); err != nil {
			return nil, 0, fmt.Errorf("%w: total stake: %w", ErrInvalidValidatorSet, err)
		}
	}
	return sorted, total, nil
}

// newSet wraps validated, sorted members (it takes ownership of vals).
func newSet(vals []Validator, total uint64, hash Hash) *ValidatorSet {
	return &ValidatorSet{vals: vals, total: total, hash: hash, proposer: maxPriority(vals)}
}

// Validators returns a copy of the members, sorted by address.
func (vs *ValidatorSet) Validators() []Validator { return slices.Clone(vs.vals) }

// At returns the member at index i (0 <= i < Len()).
func (vs *ValidatorSet) At(i int) Validator { return vs.vals[i] }

// Len returns the number of members.
func (vs *ValidatorSet) Len() int { return len(vs.vals) }

// TotalStake returns the sum of the members' stakes (at most MaxSupply).
func (vs *ValidatorSet) TotalStake() uint64 { return vs.total }

// Index returns a's position in address order, if it is a member.
func (vs *ValidatorSet) Index(a Address) (int, bool) {
	i := sort.Search(len(vs.vals), func(i int) bool { return bytes.Compare(vs.vals[i].Address[:], a[:]) >= 0 })
	if i < len(vs.vals) && vs.vals[i].Address == a {
		return i, true
	}
	return -1, false
}

// StakeOf returns a's stake, if it is a member.
func (vs *ValidatorSet) StakeOf(a Address) (uint64, bool) {
	if i, ok := vs.Index(a); ok {
		return vs.vals[i].Stake, true
	}
	return 0, false
}

// Hash returns keccak256(rlp([[address, stake], ...])) over the members in
// address order. Proposer priorities are not included, so the hash names the
// membership, which is what a finality certificate is checked against.
func (vs *ValidatorSet) Hash() Hash { return vs.hash }

// String lists the members, for logs and test failures.
func (vs *ValidatorSet) String() string {
	var b bytes.Buffer
	b.WriteString("{")
	for i, v := range vs.vals {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s:%d/%d", v.Address.Hex()[:8], v.Stake, v.ProposerPriority)
	}
	b.WriteString("}")
	return b.String()
}
