package staking

import (
	"bytes"
	"fmt"
)

// The ledger's entries live in a persistent radix-16 trie keyed by the raw
// entry key: a crit-nibble tree in which a branch exists exactly where two or
// more keys first differ. Its shape is therefore a function of the key set
// alone (history-independent), and an in-order walk yields keys sorted
// bytewise. No key may be a prefix of another; the key schema guarantees it
// by giving every kind a fixed key length.
//
// Nodes are shared between a State and its forks. A node may be mutated in
// place only by the trie whose owner token it carries; every other trie copies
// it first (path copying). Fork hands both sides fresh tokens, which freezes
// every node that existed at the fork.

// owner is an identity token: nodes carrying a trie's token are private to it.
type owner struct{ _ byte }

type node struct {
	// Leaf: children == nil. key and value share one buffer owned by the
	// trie; they are never modified (an update replaces both).
	key   []byte
	value []byte

	// Branch: all keys below share their first depth nibbles and differ at
	// nibble depth; children[i] holds those whose nibble is i.
	children *[16]*node
	depth    int

	hash   Hash // cached Merkle hash, valid when hashed
	hashed bool
	owner  *owner
}

type trie struct {
	root  *node
	owner *owner
	size  int // number of leaves
}

func nibble(key []byte, i int) int {
	b := key[i/2]
	if i%2 == 0 {
		return int(b >> 4)
	}
	return int(b & 0x0f)
}

// critNibble returns the index of the first nibble where a and b differ, or
// -1 if they are equal. One key being a proper prefix of the other breaks the
// schema invariant and panics.
func critNibble(a, b []byte) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if x := a[i] ^ b[i]; x != 0 {
			if x&0xf0 != 0 {
				return 2 * i
			}
			return 2*i + 1
		}
	}
	if len(a) != len(b) {
		panic(fmt.Sprintf("staking: invariant key-schema: key %x is a prefix of %x", a[:n], b))
	}
	return -1
}

func firstLeaf(n *node) *node {
	for n.children != nil {
		for _, c := range n.children {
			if c != nil {
				n = c
				break
			}
		}
	}
	return n
}

// mutable returns n itself if this trie owns it, otherwise a private copy.
// Either way the result's cached hash is invalidated.
func (t *trie) mutable(n *node) *node {
	if n.owner == t.owner {
		n.hashed = false
		return n
	}
	m := &node{key: n.key, value: n.value, depth: n.depth, owner: t.owner}
	if n.children != nil {
		c := *n.children
		m.children = &c
	}
	return m
}

// newLeaf returns a leaf owned by t holding copies of key and value.
func (t *trie) newLeaf(key, value []byte) *node {
	n := &node{owner: t.owner}
	n.key, n.value = packLeaf(key, value)
	return n
}

// packLeaf copies key and value into one allocation, so that reading a leaf
// touches one node and one buffer (hashing is bound by memory latency).
func packLeaf(key, value []byte) (k, v []byte) {
	kv := make([]byte, len(key)+len(value))
	copy(kv, key)
	copy(kv[len(key):], value)
	return kv[:len(key):len(key)], kv[len(key):]
}

func (t *trie) get(key []byte) []byte {
	n := t.root
	for n != nil && n.children != nil {
		if n.depth >= 2*len(key) {
			return nil
		}
		n = n.children[nibble(key, n.depth)]
	}
	if n == nil || !bytes.Equal(n.key, key) {
		return nil
	}
	return n.value
}

// put sets key to value, which must be non-empty. It copies both.
func (t *trie) put(key, value []byte) {
	if len(value) == 0 {
		panic("staking: invariant non-empty-value: put of an empty value")
	}
	if t.root == nil {
		t.root = t.newLeaf(key, value)
		t.size++
		return
	}
	// Find the leaf that shares the longest prefix with key.
	closest := t.root
	for closest.children != nil {
		var c *node
		if closest.depth < 2*len(key) {
			c = closest.children[nibble(key, closest.depth)]
		}
		if c == nil {
			closest = firstLeaf(closest)
			break
		}
		closest = c
	}
	p := critNibble(key, closest.key)
	if p < 0 {
		t.root = t.update(t.root, key, value)
		return
	}
	t.root = t.insert(t.root, key, value, p, closest.key)
	t.size++
}

func (t *trie) update(n *node, key, value []byte) *node {
	m := t.mutable(n)
	if m.children == nil {
		m.key, m.value = packLeaf(key, value)
		return m
	}
	i := nibble(key, m.depth)
	m.children[i] = t.update(m.children[i], key, value)
	return m
}

// insert adds a new key whose first difference from every key below n is at
// nibble p; closest is a key below n that shares key's first p nibbles.
func (t *trie) insert(n *node, key, value []byte, p int, closest []byte) *node {
	if n.children != nil && n.depth < p {
		m := t.mutable(n)
		i := nibble(key, m.depth)
		m.children[i] = t.insert(m.children[i], key, value, p, closest)
		return m
	}
	leaf := t.newLeaf(key, value)
	if n.children != nil && n.depth == p {
		m := t.mutable(n)
		m.children[nibble(key, p)] = leaf
		return m
	}
	b := &node{children: new([16]*node), depth: p, owner: t.owner}
	b.children[nibble(key, p)] = leaf
	b.children[nibble(closest, p)] = n
	return b
}

// delete removes key and reports whether it was present.
func (t *trie) delete(key []byte) bool {
	if t.get(key) == nil {
		return false
	}
	t.root = t.remove(t.root, key)
	t.size--
	return true
}

// remove deletes key, which is known to be below n, and returns the new
// subtree. A branch left with one child is replaced by that child, keeping
// the shape canonical.
func (t *trie) remove(n *node, key []byte) *node {
	if n.children == nil {
		return nil
	}
	i := nibble(key, n.depth)
	c := t.remove(n.children[i], key)
	if c == nil {
		var only *node
		count := 0
		for j, ch := range n.children {
			if j != i && ch != nil {
				only = ch
				count++
			}
		}
		if count == 1 {
			return only
		}
	}
	m := t.mutable(n)
	m.children[i] = c
	return m
}

// ascend calls fn for every entry whose key starts with prefix, in key order,
// until fn returns false. fn must not modify the trie.
func (t *trie) ascend(prefix []byte, fn func(key, value []byte) bool) {
	n := t.root
	for n != nil && n.children != nil && n.depth < 2*len(prefix) {
		n = n.children[nibble(prefix, n.depth)]
	}
	// Every key below n shares n's prefix, so one leaf decides for all.
	if n == nil || !bytes.HasPrefix(firstLeaf(n).key, prefix) {
		return
	}
	walk(n, fn)
}

func walk(n *node, fn func(key, value []byte) bool) bool {
	if n.children == nil {
		return fn(n.key, n.value)
	}
	for _, c := range n.children {
		if c != nil && !walk(c, fn) {
			return false
		}
	}
	return true
}

// diff appends to out the entries that differ between the tries rooted at a
// (old) and b (new), in key order; a deleted key has a nil Value. Subtrees
// shared by pointer are skipped, so the cost is proportional to the changes.
func diff(a, b *node, out []KV) []KV {
	if a == b {
		return out
	}
	if a != nil && b != nil && a.children != nil && b.children != nil && a.depth == b.depth &&
		critNibbleAtLeast(firstLeaf(a).key, firstLeaf(b).key, a.depth) {
		for i := range a.children {
			out = diff(a.children[i], b.children[i], out)
		}
		return out
	}
	return mergeDiff(leaves(a, nil), leaves(b, nil), out)
}

// critNibbleAtLeast reports whether a and b agree on their first d nibbles.
func critNibbleAtLeast(a, b []byte, d int) bool {
	p := critNibble(a, b)
	return p < 0 || p >= d
}

func leaves(n *node, out []*node) []*node {
	if n == nil {
		return out
	}
	if n.children == nil {
		return append(out, n)
	}
	for _, c := range n.children {
		out = leaves(c, out)
	}
	return out
}

func mergeDiff(old, cur []*node, out []KV) []KV {
	for len(old) > 0 || len(cur) > 0 {
		switch {
		case len(cur) == 0 || (len(old) > 0 && bytes.Compare(old[0].key, cur[0].key) < 0):
			out = append(out, KV{Key: bytes.Clone(old[0].key)})
			old = old[1:]
		case len(old) == 0 || bytes.Compare(old[0].key, cur[0].key) > 0:
			out = append(out, KV{Key: bytes.Clone(cur[0].key), Value: bytes.Clone(cur[0].value)})
			cur = cur[1:]
		default:
			if !bytes.Equal(old[0].value, cur[0].value) {
				out = append(out, KV{Key: bytes.Clone(cur[0].key), Value: bytes.Clone(cur[0].value)})
			}
			old, cur = old[1:], cur[1:]
		}
	}
	return out
}
