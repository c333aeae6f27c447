package node

import (
	"sync"

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
	a, err := chain.Recover(digest, sig)
	if err != nil {
		return chain.Address{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; ok {
		return a, nil
	}
	if len(c.ring) < c.size {
		c.ring = append(c.ring, k)
	} else {
		delete(c.m, c.ring[c.next])
		c.ring[c.next] = k
		c.next = (c.next + 1) % c.size
	}
	c.m[k] = a
	return a, nil
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
