package engine

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

// maxPendingEvidence bounds the evidence pool.
const maxPendingEvidence = 1000

// evidenceKey is what evidence punishes: one validator's double sign at
// one height. A block slashes it once (chain.Execute refuses a second
// piece for the same key), so the pool keeps one piece per key, the
// first that verified: a validator that equivocates over and over, or a
// peer that pairs up its votes every possible way, adds nothing after the
// first pair, and cannot fill the pool and crowd out the evidence of
// other validators.
type evidenceKey struct {
	validator chain.Address
	height    uint64
}

func keyOfEvidence(ev *chain.Evidence) evidenceKey { return evidenceKey{ev.Validator(), ev.Height()} }

// evidencePool holds verified double-sign evidence until a block includes
// it. Used by the consensus goroutine only.
type evidencePool struct {
	items map[evidenceKey]*chain.Evidence
	done  map[evidenceKey]bool // committed: punished already
}

func newEvidencePool() *evidencePool {
	return &evidencePool{items: make(map[evidenceKey]*chain.Evidence), done: make(map[evidenceKey]bool)}
}

// known reports whether the pool holds evidence of the same double sign as
// ev, or saw it committed.
func (p *evidencePool) known(ev *chain.Evidence) bool {
	k := keyOfEvidence(ev)
	_, pending := p.items[k]
	return pending || p.done[k]
}

// add keeps ev if its double sign is new; it reports whether it was.
func (p *evidencePool) add(ev *chain.Evidence) bool {
	if p.known(ev) || len(p.items) >= maxPendingEvidence {
		return false
	}
	p.items[keyOfEvidence(ev)] = ev
	return true
}

// pending returns evidence for a block at height h, oldest double signs
// first (then by validator), at most chain.MaxBlockEvidence.
func (p *evidencePool) pending(h uint64) []*chain.Evidence {
	var out []*chain.Evidence
	for _, k := range sortedKeys(p.items) {
		if len(out) >= chain.MaxBlockEvidence {
			break
		}
		if k.height < h {
			out = append(out, p.items[k])
		}
	}
	return out
}

func (p *evidencePool) drop(evs []*chain.Evidence) {
	for _, ev := range evs {
		delete(p.items, keyOfEvidence(ev))
	}
}

func (p *evidencePool) committed(evs []*chain.Evidence) {
	for _, ev := range evs {
		k := keyOfEvidence(ev)
		delete(p.items, k)
		p.done[k] = true
	}
}

// prune forgets evidence too old to be included at height h.
func (p *evidencePool) prune(h, maxAge uint64) {
	if h <= maxAge {
		return
	}
	for k := range p.items {
		if k.height < h-maxAge {
			delete(p.items, k)
		}
	}
	for k := range p.done {
		if k.height < h-maxAge {
			delete(p.done, k)
		}
	}
}

func sortedKeys(m map[evidenceKey]*chain.Evidence) []evidenceKey {
	return slices.SortedFunc(maps.Keys(m), func(a, b evidenceKey) int {
		if a.height != b.height {
			return cmp.Compare(a.height, b.height)
		}
		return bytes.Compare(a.validator[:], b.validator[:])
	})
}

// addEvidence verifies ev against the validator set of its height and, if
// new, keeps it and gossips it. Evidence of a double sign already pending
// or committed is dropped before any signature is checked. The node
// verifies peers' evidence on their own goroutines through the shared
// signature cache (Config.Machine.Recoverer) before it gets here, so the
// check here finds the signatures there and costs no recovery.
func (e *Driver) addEvidence(ev *chain.Evidence, gossipIt bool) {
	if e.evpool.known(ev) {
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

// includable returns, of the pending evidence evs, the pieces a block at
// height h can include, checked one by one as block execution will check
// them (age, signatures against the set of their height, and a slash on a
// scratch copy of the committed state, so a double sign already punished
// fails); each piece that fails leaves the pool alone, and the others
// stay in the block.
func (e *Driver) includable(h uint64, evs []*chain.Evidence) []*chain.Evidence {
	if len(evs) == 0 {
		return nil
	}
	scratch := e.state.Fork()
	maxAge := e.state.Params().UnbondingBlocks
	out := make([]*chain.Evidence, 0, len(evs))
	for _, ev := range evs {
		if err := e.checkEvidence(scratch, h, maxAge, ev); err != nil {
			e.log.Info("dropping evidence that no longer applies", "height", h, "validator", chain.FormatAddress(ev.Validator()), "double_sign_height", ev.Height(), "err", err)
			e.evpool.drop([]*chain.Evidence{ev})
			continue
		}
		out = append(out, ev)
	}
	return out
}

func (e *Driver) checkEvidence(scratch *staking.State, h, maxAge uint64, ev *chain.Evidence) error {
	eh := ev.Height()
	if eh >= h || h-eh > maxAge {
		return fmt.Errorf("%w: double sign at h=%d cannot be included at h=%d (max age %d)", chain.ErrInvalidEvidence, eh, h, maxAge)
	}
	set, err := e.evidenceSet(eh)
	if err != nil {
		return err
	}
	if err := ev.VerifyWith(e.chainID, set, e.cfg.Machine.Recoverer); err != nil {
		return err
	}
	_, err = scratch.SlashDoubleSign(ev.Validator(), eh, h)
	return err
}
