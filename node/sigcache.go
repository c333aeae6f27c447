package node

import (
	"sync"
	"sync/atomic"

	"github.com/quorumchain/quorumchain/chain"
)

// sigCacheSize bounds the verified signatures remembered.
const sigCacheSize = 16384

// sigCache remembers the signers of recently verified consensus
// signatures. Peers' votes and proposals are verified on the peer's own
// goroutine when they arrive (in parallel, and a peer that sends a bad
// signature is disconnected); the consensus Machine then verifies through
// the cache (consensus.Config.Recoverer) instead of recovering again on
// the consensus goroutine. Only successful recoveries are kept, keyed by
// the exact digest and signature bytes.
type sigCache struct {
	size int
	mu   sync.Mutex
	m    map[sigKey]chain.Address
	ring []sigKey
	next int

	recoveries atomic.Uint64 // signatures recovered (cache misses)
}

type sigKey struct {
	digest chain.Hash
	sig    chain.Signature
}

func newSigCache() *sigCache { return newSigCacheSize(sigCacheSize) }

func newSigCacheSize(n int) *sigCache { return &sigCache{size: n, m: make(map[sigKey]chain.Address)} }

// Recover implements consensus.Recoverer.
func (c *sigCache) Recover(digest chain.Hash, sig *chain.Signature) (chain.Address, error) {
	k := sigKey{digest, *sig}
	c.mu.Lock()
	a, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return a, nil
	}
	c.recoveries.Add(1)
	a, err := chain.Recover(digest, sig)
	if err != nil {
		return chain.Address{}, err
	}
	c.put(k, a)
	return a, nil
}

// remember records that signer made sig over digest, without recovering:
// for signatures the node's own key has just made.
func (c *sigCache) remember(digest chain.Hash, sig chain.Signature, signer chain.Address) {
	c.put(sigKey{digest, sig}, signer)
}

func (c *sigCache) put(k sigKey, a chain.Address) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; ok {
		return
	}
	if len(c.ring) < c.size {
		c.ring = append(c.ring, k)
	} else {
		delete(c.m, c.ring[c.next])
		c.ring[c.next] = k
		c.next = (c.next + 1) % c.size
	}
	c.m[k] = a
}

// verify checks that sig over digest was made by want.
func (c *sigCache) verify(digest chain.Hash, sig *chain.Signature, want chain.Address) error {
	got, err := c.Recover(digest, sig)
	if err != nil {
		return err
	}
	if got != want {
		return chain.ErrWrongSigner
	}
	return nil
}
