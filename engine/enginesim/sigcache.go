package enginesim

import "github.com/quorumchain/quorumchain/chain"

// sigCache is the run's cache of recovered signatures, shared by every
// validator's Machine (consensus.Config.Recoverer), as the node shares one
// between its peers' goroutines and its Machine: a signature is recovered
// once per run, not once per validator. Failed recoveries are not cached.
type sigCache struct{ known map[sigKey]chain.Address }

type sigKey struct {
	digest chain.Hash
	sig    chain.Signature
}

// Recover implements consensus.Recoverer.
func (c *sigCache) Recover(digest chain.Hash, sig *chain.Signature) (chain.Address, error) {
	k := sigKey{digest, *sig}
	if a, ok := c.known[k]; ok {
		return a, nil
	}
	a, err := chain.Recover(digest, sig)
	if err == nil {
		c.known[k] = a
	}
	return a, err
}
