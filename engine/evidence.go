package engine

import (
	"bytes"
	"maps"
	"slices"

	"github.com/quorumchain/quorumchain/chain"
)

// maxPendingEvidence bounds the evidence pool.
const maxPendingEvidence = 1000

// evidencePool holds verified double-sign evidence until a block includes
// it. Used by the consensus goroutine only.
type evidencePool struct {
	items map[chain.Hash]*chain.Evidence
	done  map[chain.Hash]uint64 // committed evidence hash → height of the double sign
}

func newEvidencePool() *evidencePool {
	return &evidencePool{items: make(map[chain.Hash]*chain.Evidence), done: make(map[chain.Hash]uint64)}
}

// known reports whether the pool holds ev or saw it committed.
func (p *evidencePool) known(h chain.Hash) bool {
	_, pending := p.items[h]
	_, done := p.done[h]
	return pending || done
}

// add keeps ev if it is new; it reports whether it was.
func (p *evidencePool) add(ev *chain.Evidence) bool {
	h := ev.Hash()
	if _, ok := p.items[h]; ok {
		return false
	}
	if _, ok := p.done[h]; ok || len(p.items) >= maxPendingEvidence {
		return false
	}
	p.items[h] = ev
	return true
}

// pending returns evidence for a block at height h, oldest double signs
// first, at most one per (validator, height).
func (p *evidencePool) pending(h uint64) []*chain.Evidence {
	var out []*chain.Evidence
	type key struct {
		v chain.Address
		h uint64
	}
	seen := map[key]bool{}
	for _, hash := range sortedHashes(p.items) {
		ev := p.items[hash]
		k := key{ev.Validator(), ev.Height()}
		if ev.Height() >= h || seen[k] || len(out) >= chain.MaxBlockEvidence {
			continue
		}
		seen[k] = true
		out = append(out, ev)
	}
	return out
}

func (p *evidencePool) drop(evs []*chain.Evidence) {
	for _, ev := range evs {
		delete(p.items, ev.Hash())
	}
}

func (p *evidencePool) committed(evs []*chain.Evidence) {
	for _, ev := range evs {
		h := ev.Hash()
		delete(p.items, h)
		p.done[h] = ev.Height()
	}
}

// prune forgets evidence too old to be included at height h.
func (p *evidencePool) prune(h, maxAge uint64) {
	for hash, ev := range p.items {
		if h > maxAge && ev.Height() < h-maxAge {
			delete(p.items, hash)
		}
	}
	for hash, eh := range p.done {
		if h > maxAge && eh < h-maxAge {
			delete(p.done, hash)
		}
	}
}

func sortedHashes(m map[chain.Hash]*chain.Evidence) []chain.Hash {
	return slices.SortedFunc(maps.Keys(m), func(a, b chain.Hash) int { return bytes.Compare(a[:], b[:]) })
}

// addEvidence verifies ev against the validator set of its height and, if
// new, keeps it and gossips it. Evidence already pending or committed is
// dropped before any signature is checked.
func (e *Driver) addEvidence(ev *chain.Evidence, gossipIt bool) {
	if e.evpool.known(ev.Hash()) {
		return
	}
	set, err := e.evidenceSet(ev.Height())
	if err != nil {
		return
	}
	if err := ev.VerifyWith(e.chainID, set, e.cfg.Machine.Recoverer); err != nil {
		e.log.Debug("invalid evidence", "err", err)
		return
	}
	if e.evpool.add(ev) && gossipIt {
		e.net.BroadcastEvidence(ev)
	}
}
