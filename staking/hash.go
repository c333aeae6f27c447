package staking

import (
	"github.com/ethereum/go-ethereum/crypto"
)

// State hash scheme: a Merkle hash over the radix-16 trie of trie.go, in
// which small leaves are inlined into their parent branch (as Ethereum's
// trie inlines nodes shorter than a hash), so that a changed entry costs no
// Keccak permutation of its own.
//
//	branch = keccak256(0x01 || depth || bitmap || child ...)   bitmap: 2 bytes, big-endian, bit i set iff child i exists
//	child  = 0x00 || len(key) || key || len(value) || value     a leaf with len(key)+len(value) <= maxInline
//	       | 0x01 || hash(node)                                  any other node
//	leaf   = keccak256(0x00 || len(key) || key || value)         the hash of a leaf that is not inlined
//
// Every field is length-prefixed or fixed, so a preimage parses one way;
// leaves carry their full key; and the trie's shape is a function of the key
// set. Equal contents therefore give equal hashes whatever the order of
// operations, and different contents give different hashes unless Keccak-256
// collides. Hashes are cached in the nodes: after a block only the branches
// above changed entries, and changed large leaves, are rehashed.
const (
	leafTag   = 0x00
	branchTag = 0x01
	inlineTag = 0x00
	hashTag   = 0x01

	// maxInline bounds an inlined leaf's key plus value: every kind but the
	// validator sets fits.
	maxInline = 96
)

// emptyStateHash is the hash of a trie with no entries (never a valid State).
var emptyStateHash = crypto.Keccak256Hash(nil)

// hasher hashes trie nodes with one Keccak state and one scratch buffer,
// so hashing allocates nothing per node.
type hasher struct {
	kh  crypto.KeccakState
	buf [4 + 16*(3+maxInline)]byte
}

func newHasher() *hasher { return &hasher{kh: crypto.NewKeccakState()} }

func inlined(n *node) bool { return n.children == nil && len(n.key)+len(n.value) <= maxInline }

func (h *hasher) hash(n *node) Hash {
	if n.hashed {
		return n.hash
	}
	if n.children == nil {
		h.buf[0], h.buf[1] = leafTag, byte(len(n.key))
		h.kh.Reset()
		h.kh.Write(h.buf[:2])
		h.kh.Write(n.key)
		h.kh.Write(n.value)
		h.kh.Read(n.hash[:])
		n.hashed = true
		return n.hash
	}
	for _, c := range n.children {
		if c != nil && !inlined(c) {
			h.hash(c)
		}
	}
	// Children are hashed (and cached) first: the buffer is shared.
	h.buf[0], h.buf[1] = branchTag, byte(n.depth)
	off, bitmap := 4, 0
	for i, c := range n.children {
		if c == nil {
			continue
		}
		bitmap |= 1 << i
		if inlined(c) {
			h.buf[off], h.buf[off+1] = inlineTag, byte(len(c.key))
			off += 2 + copy(h.buf[off+2:], c.key)
			h.buf[off] = byte(len(c.value))
			off += 1 + copy(h.buf[off+1:], c.value)
		} else {
			h.buf[off] = hashTag
			off += 1 + copy(h.buf[off+1:], c.hash[:])
		}
	}
	h.buf[2], h.buf[3] = byte(bitmap>>8), byte(bitmap)
	h.kh.Reset()
	h.kh.Write(h.buf[:off])
	h.kh.Read(n.hash[:])
	n.hashed = true
	return n.hash
}

// Hash commits to every entry of the State: accounts, bonds, unbondings,
// candidates, params, supply, height and the current and pending validator
// sets. It caches node hashes, so it is cheap to call after every block.
func (s *State) Hash() Hash { return s.HashWith(nil) }

// HashWith is Hash, with the changed subtrees below the root hashed by
// run first: run must call every task it is given before it returns, on
// as many goroutines as it likes, since the subtrees share no node (a trie
// is a tree). After a block most of the hashing lies below the root, so a
// caller with cores to spare (block execution, on every height's critical
// path) passes a parallel runner; the package itself starts no goroutine.
// A nil run hashes serially.
func (s *State) HashWith(run func(tasks []func())) Hash {
	root := s.t.root
	if root == nil {
		return emptyStateHash
	}
	if run != nil {
		if f := unhashedFrontier(root, hashFrontier); len(f) > 1 {
			tasks := make([]func(), len(f))
			for i, n := range f {
				tasks[i] = func() { newHasher().hash(n) }
			}
			run(tasks)
		}
	}
	return newHasher().hash(root)
}

// hashFrontier is how many disjoint subtrees HashWith hands run at least,
// when the changes reach that many: enough to balance a few cores.
const hashFrontier = 32

// unhashedFrontier returns disjoint subtrees below n that need hashing,
// expanding branches level by level (at most four) until it holds at least
// want of them or no branch is left to expand. Leaves that need hashing
// are taken as they are.
func unhashedFrontier(n *node, want int) []*node {
	if n.hashed || n.children == nil {
		return nil
	}
	level := []*node{n}
	for range 4 {
		var next []*node
		expanded := false
		for _, b := range level {
			if b.children == nil {
				next = append(next, b)
				continue
			}
			expanded = true
			for _, c := range b.children {
				if c != nil && !c.hashed && !inlined(c) {
					next = append(next, c)
				}
			}
		}
		if !expanded {
			return level
		}
		level = next
		if len(level) >= want {
			break
		}
	}
	return level
}

// membershipHash is keccak256(rlp([[address, stake], ...])) over vals sorted
// by address; proposer priorities are not included.
func membershipHash(vals []Validator) Hash {
	return crypto.Keccak256Hash(encodeMembership(vals))
}
