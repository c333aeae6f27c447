package staking

import (
	"bytes"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
)

// Address is a 20-byte account or validator address.
type Address = common.Address

// Hash is a 32-byte Keccak-256 hash.
type Hash = common.Hash

// Account is an account's spendable balance and next transaction nonce.
type Account struct{ Balance, Nonce uint64 }

// AccountReader reads what admitting a transaction needs: accounts,
// candidates, bonds, the rules and the height; *State is one. Readers that
// only admit transactions (the mempool) take this instead of a whole State.
type AccountReader interface {
	Account(Address) Account
	Candidate(Address) (Candidate, bool)
	Bond(delegator, validator Address) uint64
	Params() Params
	Height() uint64
}

// KV is one ledger entry (see keys.go). In Changes a nil Value means the key
// was deleted.
type KV struct{ Key, Value []byte }

// State is the whole ledger. The zero value is not usable: start from
// NewGenesisState or LoadState. A State is not safe for concurrent use; see
// the package documentation for forks.
type State struct {
	params Params
	t      trie

	// Fork bookkeeping: the parent and the parent's root when forked.
	parent *State
	base   *node

	// Decoded copies of the "h", "s", "v" entries, kept in sync with them.
	height  uint64
	supply  uint64
	vals    *ValidatorSet // set for height+1
	pending *ValidatorSet // membership for height+2; priorities are zero
}

// Params returns the staking rules (fraction in lowest terms).
func (s *State) Params() Params { return s.params }

// Height returns the last height ended with EndBlock; 0 at genesis. The next
// block to execute is Height()+1.
func (s *State) Height() uint64 { return s.height }

// TotalSupply returns the sum of all balances, bonds, unbonding entries,
// outstanding rewards and the reward carry. Block rewards add to it;
// slashing burns from it.
func (s *State) TotalSupply() uint64 { return s.supply }

// Validators returns the validator set of the next height to execute,
// Height()+1.
func (s *State) Validators() *ValidatorSet { return s.vals }

// PendingValidators returns the membership already selected for height
// Height()+2. Its priorities are zero and meaningless: the set for that
// height is EndBlock(Height()+1)'s result.
func (s *State) PendingValidators() *ValidatorSet { return s.pending }

// checkHeight rejects operations for any block but the next one.
func (s *State) checkHeight(height uint64) error {
	if s.height == ^uint64(0) {
		return fmt.Errorf("%w: height", ErrOverflow)
	}
	if height != s.height+1 {
		return fmt.Errorf("%w: got %d, want %d", ErrBadHeight, height, s.height+1)
	}
	return nil
}

// mustDecode panics on a stored value that fails to decode: everything in
// the trie was written by this package or checked by LoadState.
func mustDecode[T any](v T, err error, key []byte) T {
	if err != nil {
		panic(fmt.Sprintf("staking: invariant stored-entry: key %x: %v", key, err))
	}
	return v
}

// Account returns a's account; an absent account is the zero Account.
func (s *State) Account(a Address) Account {
	buf := addrKey(kindAccount, a)
	k := buf[:]
	v := s.t.get(k)
	if v == nil {
		return Account{}
	}
	acc, err := decodeAccount(v)
	return mustDecode(acc, err, k)
}

func (s *State) putAccount(a Address, acc Account) {
	buf := addrKey(kindAccount, a)
	k := buf[:]
	if acc == (Account{}) {
		s.t.delete(k)
		return
	}
	s.t.put(k, encodeAccount(acc))
}

// UseNonce checks that nonce is sender's next nonce and increments it. It
// fails with ErrBadNonce, or ErrOverflow at nonce 2^64-1.
func (s *State) UseNonce(sender Address, nonce uint64) error {
	acc := s.Account(sender)
	if nonce != acc.Nonce {
		return fmt.Errorf("%w: got %d, want %d", ErrBadNonce, nonce, acc.Nonce)
	}
	if acc.Nonce == ^uint64(0) {
		return fmt.Errorf("%w: nonce", ErrOverflow)
	}
	acc.Nonce++
	s.putAccount(sender, acc)
	return nil
}

// Transfer moves amount from one balance to another. A transfer to oneself
// is allowed and leaves the balance unchanged (it still needs the balance).
// Errors: ErrZeroAmount, ErrInsufficientBalance, ErrOverflow.
func (s *State) Transfer(from, to Address, amount uint64) error {
	if amount == 0 {
		return ErrZeroAmount
	}
	src := s.Account(from)
	if src.Balance < amount {
		return fmt.Errorf("%w: have %d, need %d", ErrInsufficientBalance, src.Balance, amount)
	}
	if from == to {
		return nil
	}
	dst := s.Account(to)
	bal, err := addAmount(dst.Balance, amount)
	if err != nil {
		return err
	}
	src.Balance -= amount
	dst.Balance = bal
	s.putAccount(from, src)
	s.putAccount(to, dst)
	return nil
}

// Fork returns a copy-on-write child for speculative execution. The fork
// and s share every existing trie node, in O(1); afterwards neither sees the
// other's writes. Adopt the fork with s.Commit(child), or drop it.
func (s *State) Fork() *State {
	s.t.owner = new(owner) // freeze the nodes now shared with the child
	child := *s
	child.parent = s
	child.base = s.t.root
	child.t.owner = new(owner)
	return &child
}

// Commit makes child's contents s's own, in O(1). child must be a fork of s,
// and s must not have been written since the fork; otherwise Commit panics,
// because the child's changes were computed against a state that no longer
// exists. Afterwards child is a fresh fork of s with no changes.
func (s *State) Commit(child *State) {
	if child.parent != s {
		panic("staking: Commit of a state that is not a fork of this one")
	}
	if child.base != s.t.root {
		panic("staking: Commit of a stale fork: the parent changed after Fork")
	}
	own, parent, base := s.t.owner, s.parent, s.base
	*s = *child
	s.t.owner, s.parent, s.base = own, parent, base
	child.t.owner = new(owner) // s now shares child's nodes
	child.base = s.t.root
}

// Changes returns, for a fork, the entries that differ from its parent as it
// was at Fork time, sorted by key; a deleted entry has a nil Value. For a
// State that is not a fork it returns nil.
func (s *State) Changes() []KV {
	if s.parent == nil {
		return nil
	}
	return diff(s.base, s.t.root, nil)
}

// Entries returns every entry sorted by key: the canonical serialization of
// the State, which LoadState reads back. The slices are copies.
func (s *State) Entries() []KV {
	out := make([]KV, 0, s.t.size)
	s.t.ascend(nil, func(k, v []byte) bool {
		out = append(out, KV{Key: bytes.Clone(k), Value: bytes.Clone(v)})
		return true
	})
	return out
}
