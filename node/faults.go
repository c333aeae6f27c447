package node

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/quorumchain/quorumchain/p2p"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/validator"
)

// byzantineSwitch is a signer a test network can make misbehave
// (validator.LocalSigner with AllowByzantine).
type byzantineSwitch interface {
	SetByzantine(validator.ByzantineMode) error
	Byzantine() validator.ByzantineMode
}

// ErrNoByzantine is the refusal to switch a node's Byzantine mode when its
// signer cannot: no validator key, a remote signer, or
// signer.testnet_byzantine off.
var ErrNoByzantine = errors.New("byzantine modes need a validator with a local signer and signer.testnet_byzantine")

// faultControl is the node's view of the faults a test network injected:
// the p2p fault layer's (partition, delay, drop) and the signer's
// Byzantine mode. A node without p2p.testnet_faults has none (nil).
type faultControl struct {
	layer  *p2p.FaultLayer
	signer byzantineSwitch // nil if the node's signer has no Byzantine switch

	mu       sync.Mutex
	byzSince time.Time // when the Byzantine mode last left off
}

// list returns the active faults in the shape of net_getFaults: partition,
// delay, drop, byzantine.
func (f *faultControl) list() rpc.FaultsResult {
	out := rpc.FaultsResult{Faults: []rpc.FaultResult{}}
	if f == nil {
		return out
	}
	for _, x := range f.layer.Active() {
		r := rpc.FaultResult{Kind: x.Kind, Since: x.Since.UTC().Truncate(time.Millisecond)}
		switch x.Kind {
		case p2p.FaultPartition:
			r.Peers = make([]string, len(x.Peers))
			for i, id := range x.Peers {
				r.Peers[i] = id.String()
			}
		case p2p.FaultDelay:
			d, j := x.Delay.Milliseconds(), x.Jitter.Milliseconds()
			r.DelayMs, r.JitterMs = &d, &j
		case p2p.FaultDrop:
			rate := x.Rate
			r.Rate = &rate
		}
		out.Faults = append(out.Faults, r)
	}
	if f.signer != nil {
		if m := f.signer.Byzantine(); m != validator.ByzantineOff {
			f.mu.Lock()
			since := f.byzSince
			f.mu.Unlock()
			out.Faults = append(out.Faults, rpc.FaultResult{Kind: rpc.FaultByzantine, Since: since.UTC().Truncate(time.Millisecond), Mode: m.String()})
		}
	}
	return out
}

// active counts the active faults (the faults-active gauge).
func (f *faultControl) active() int {
	if f == nil {
		return 0
	}
	return len(f.list().Faults)
}

// setByzantine switches the signer's mode; since is kept while the mode
// stays the same.
func (f *faultControl) setByzantine(m validator.ByzantineMode, now time.Time) error {
	if f.signer == nil {
		return ErrNoByzantine
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	prev := f.signer.Byzantine()
	if err := f.signer.SetByzantine(m); err != nil {
		return fmt.Errorf("%w: %w", ErrNoByzantine, err)
	}
	if m != prev {
		f.byzSince = now
	}
	return nil
}

// stats returns the fault layer's counters (zero without one).
func (f *faultControl) stats() p2p.FaultStats {
	if f == nil {
		return p2p.FaultStats{}
	}
	return f.layer.Stats()
}
