package light

import (
	"context"
	"errors"
	"fmt"

	"github.com/quorumchain/quorumchain/chain"
)

// Witness errors.
var (
	// ErrWitness is wrapped by every failure to cross-check a witness.
	ErrWitness = errors.New("light: witness")
	// ErrWitnessFaulty: a witness served a header that conflicts with the
	// primary's and does not verify. The witness is wrong, not the chain.
	ErrWitnessFaulty = fmt.Errorf("%w: serves a header that does not verify", ErrWitness)
)

// WitnessError says which witness failed and why.
type WitnessError struct {
	Index int // in Options.Witnesses
	Err   error
}

func (e *WitnessError) Error() string {
	return fmt.Sprintf("light: witness %d: %v", e.Index, e.Err)
}

// Unwrap returns ErrWitness and the cause.
func (e *WitnessError) Unwrap() []error { return []error{ErrWitness, e.Err} }

// ForkEvidence is what a light client found when a witness disagreed with
// its primary: two signed headers at one height, each verified from the
// last point both agree on. At least one of the sources serves a fork, and
// the validators that signed both certificates are to blame.
type ForkEvidence struct {
	// Common is the last verified point both sources agree on.
	Common *Trusted
	// Primary and Witness are the conflicting verified points, at the
	// same height.
	Primary, Witness *Trusted
	// WitnessIndex is the witness's index in Options.Witnesses.
	WitnessIndex int
	// DoubleSigns holds, for every validator that precommitted both blocks
	// in the same round, the two precommits as chain evidence.
	DoubleSigns []*chain.Evidence
	// Equivocators are the validators whose precommits are in both
	// certificates, in any round (with different rounds their votes alone
	// prove no double sign).
	Equivocators []chain.Address
}

// newForkEvidence compares the certificates of two verified, conflicting
// points at one height.
func newForkEvidence(common, primary, witness *Trusted, index int) *ForkEvidence {
	ev := &ForkEvidence{Common: common, Primary: primary, Witness: witness, WitnessIndex: index}
	pc, wc := primary.Signed.Certificate, witness.Signed.Certificate
	inWitness := make(map[chain.Address]int, len(wc.Precommits))
	for j, p := range wc.Precommits {
		inWitness[p.Validator] = j
	}
	for i, p := range pc.Precommits {
		j, ok := inWitness[p.Validator]
		if !ok {
			continue
		}
		ev.Equivocators = append(ev.Equivocators, p.Validator)
		if pc.Round == wc.Round && pc.BlockHash != wc.BlockHash {
			ev.DoubleSigns = append(ev.DoubleSigns, chain.NewEvidence(pc.Vote(i), wc.Vote(j)))
		}
	}
	return ev
}

// ForkError is returned when a witness proves a fork.
type ForkError struct{ Evidence *ForkEvidence }

func (e *ForkError) Error() string {
	ev := e.Evidence
	return fmt.Sprintf("light: fork at height %d: primary serves %s, witness %d serves %s, both certified (common height %d; %d validators signed both, %d double signs)",
		ev.Primary.Height, chain.FormatHash(ev.Primary.Hash), ev.WitnessIndex, chain.FormatHash(ev.Witness.Hash),
		ev.Common.Height, len(ev.Equivocators), len(ev.DoubleSigns))
}

// checkWitnesses compares the newly verified trace (trace[0] was trusted
// before) with each witness.
func (c *Client) checkWitnesses(ctx context.Context, trace []*Trusted) error {
	last := trace[len(trace)-1]
	for i, w := range c.witnesses {
		sh, err := w.SignedHeader(ctx, last.Height)
		if err != nil {
			return &WitnessError{Index: i, Err: fmt.Errorf("signed header at %d: %w", last.Height, err)}
		}
		if sh.Hash() == last.Hash {
			continue
		}
		if err := c.examineWitness(ctx, i, w, trace); err != nil {
			return err
		}
	}
	return nil
}

// examineWitness finds the first traced height at which witness i
// disagrees and verifies its header there from the previous traced point.
func (c *Client) examineWitness(ctx context.Context, i int, w Source, trace []*Trusted) error {
	for k := 1; k < len(trace); k++ {
		t := trace[k]
		sh, err := w.SignedHeader(ctx, t.Height)
		if err != nil {
			return &WitnessError{Index: i, Err: fmt.Errorf("signed header at %d: %w", t.Height, err)}
		}
		if sh.Hash() == t.Hash {
			continue
		}
		wtrace, err := c.verifyForward(ctx, trace[k-1], t.Height, nil, w)
		if err != nil {
			if errors.Is(err, ErrInvalid) {
				return &WitnessError{Index: i, Err: fmt.Errorf("%w: h=%d: %w", ErrWitnessFaulty, t.Height, err)}
			}
			return &WitnessError{Index: i, Err: err}
		}
		if wt := wtrace[len(wtrace)-1]; wt.Hash != t.Hash {
			return &ForkError{Evidence: newForkEvidence(trace[k-1], t, wt, i)}
		}
	}
	// The witness changed its answer between the calls.
	return &WitnessError{Index: i, Err: fmt.Errorf("%w: h=%d answered differently when asked again", ErrWitnessFaulty, trace[len(trace)-1].Height)}
}
