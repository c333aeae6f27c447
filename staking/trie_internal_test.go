package staking

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// randKey draws fixed-length keys from a tiny alphabet so that keys share
// long prefixes and branches form at every nibble depth.
func randKey(r *rand.Rand) []byte {
	alphabet := []byte{0x00, 0x01, 0x10, 0x11, 0xf0, 0xff}
	k := make([]byte, 4)
	for i := range k {
		k[i] = alphabet[r.IntN(len(alphabet))]
	}
	return k
}

func trieHash(t *trie) Hash {
	if t.root == nil {
		return emptyStateHash
	}
	return newHasher().hash(t.root)
}

func buildTrie(m map[string][]byte) *trie {
	t := &trie{owner: new(owner)}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t.put([]byte(k), m[k])
	}
	return t
}

func checkTrie(tb testing.TB, t *trie, ref map[string][]byte) {
	tb.Helper()
	if t.size != len(ref) {
		tb.Fatalf("size: got %d, want %d", t.size, len(ref))
	}
	var got []string
	t.ascend(nil, func(k, v []byte) bool {
		if !bytes.Equal(ref[string(k)], v) {
			tb.Fatalf("key %x: got %x, want %x", k, v, ref[string(k)])
		}
		got = append(got, string(k))
		return true
	})
	want := make([]string, 0, len(ref))
	for k, v := range ref {
		want = append(want, k)
		if !bytes.Equal(t.get([]byte(k)), v) {
			tb.Fatalf("get %x: got %x, want %x", k, t.get([]byte(k)), v)
		}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		tb.Fatalf("ascend order: got %x, want %x", got, want)
	}
	// History independence: a trie built from scratch in sorted order has the
	// same hash.
	if got, want := trieHash(t), trieHash(buildTrie(ref)); got != want {
		tb.Fatalf("hash depends on history: got %x, want %x", got, want)
	}
}

func TestTrieAgainstMap(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 0))
			tr := &trie{owner: new(owner)}
			ref := make(map[string][]byte)
			for i := range 400 {
				k := randKey(r)
				if r.IntN(3) == 0 {
					_, had := ref[string(k)]
					if got := tr.delete(k); got != had {
						t.Fatalf("delete %x: got %v, want %v", k, got, had)
					}
					delete(ref, string(k))
				} else {
					v := []byte{byte(i), byte(i >> 8), 1}
					tr.put(k, v)
					ref[string(k)] = v
				}
				if i%50 == 0 {
					checkTrie(t, tr, ref)
				}
			}
			checkTrie(t, tr, ref)
		})
	}
}

func TestTrieForkIsolationAndDiff(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		r := rand.New(rand.NewPCG(seed, 1))
		parent := &trie{owner: new(owner)}
		ref := make(map[string][]byte)
		for range 100 {
			k := randKey(r)
			parent.put(k, []byte{1})
			ref[string(k)] = []byte{1}
		}
		parentHash := trieHash(parent)
		base := parent.root
		parent.owner = new(owner) // what State.Fork does
		child := &trie{root: parent.root, owner: new(owner), size: parent.size}
		childRef := maps(ref)
		for i := range 60 {
			k := randKey(r)
			switch r.IntN(3) {
			case 0:
				child.delete(k)
				delete(childRef, string(k))
			case 1: // rewrite with the same value: not a change
				if v, ok := childRef[string(k)]; ok {
					child.put(k, bytes.Clone(v))
				}
			default:
				v := []byte{2, byte(i)}
				child.put(k, v)
				childRef[string(k)] = v
			}
		}
		checkTrie(t, child, childRef)
		checkTrie(t, parent, ref)
		if got := trieHash(parent); got != parentHash {
			t.Fatalf("seed %d: parent hash changed by child writes", seed)
		}
		var want []KV
		for _, k := range sortedKeys(ref, childRef) {
			old, had := ref[k]
			cur, has := childRef[k]
			switch {
			case had && !has:
				want = append(want, KV{Key: []byte(k)})
			case has && (!had || !bytes.Equal(old, cur)):
				want = append(want, KV{Key: []byte(k), Value: cur})
			}
		}
		got := diff(base, child.root, nil)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("seed %d: diff:\ngot  %x\nwant %x", seed, got, want)
		}
	}
}

func maps(m map[string][]byte) map[string][]byte {
	c := make(map[string][]byte, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func sortedKeys(ms ...map[string][]byte) []string {
	seen := make(map[string]bool)
	var out []string
	for _, m := range ms {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestTriePrefixKeyPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a key that is a prefix of another")
		}
	}()
	tr := &trie{owner: new(owner)}
	tr.put([]byte{1, 2, 3}, []byte{1})
	tr.put([]byte{1, 2}, []byte{1})
}

func TestKeyLengthsArePrefixFree(t *testing.T) {
	// Each kind has one length, so no key can be a prefix of another.
	a, b, c, d, e, f := addrKey(kindAccount, Address{}), pairKey(kindBond, Address{}, Address{}), addrKey(kindCandidate, Address{}),
		pairKey(kindBondIndex, Address{}, Address{}), queueKey(0, Address{}, Address{}), unbondingKey(Address{}, 0, Address{})
	g := slashedKey(Address{}, 0)
	r, w, m := rewardsKey(Address{}), startKey(Address{}, Address{}), livenessKey(Address{})
	for _, k := range [][]byte{paramsKey, heightKey, supplyKey, poolKey, valsetsNowKey, valsetsNextKey, a[:], b[:], c[:], d[:], e[:], f[:], g, r, w, m} {
		if len(k) != keyLen[k[0]] {
			t.Errorf("key %x: length %d, schema says %d", k, len(k), keyLen[k[0]])
		}
	}
	if len(keyLen) != 15 {
		t.Errorf("schema has %d kinds; this test knows 15", len(keyLen))
	}
}
