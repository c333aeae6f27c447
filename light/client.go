package light

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/genesis"
	"github.com/quorumchain/quorumchain/staking"
)

// ErrBelowTrusted means a height below the client's trusted root was asked
// for: the client verifies forward only.
var ErrBelowTrusted = errors.New("light: height below the trusted root")

// Source serves signed headers and validator sets. Its answers are
// untrusted. SignedHeader with height 0 returns the latest final one.
type Source interface {
	SignedHeader(ctx context.Context, height uint64) (*SignedHeader, error)
	Validators(ctx context.Context, height uint64) (*staking.ValidatorSet, error)
}

// maxStored bounds the verified points a Client keeps (besides its root
// and latest): older ones are forgotten, lowest first.
const maxStored = 1024

// Options configure a Client.
type Options struct {
	// TrustingBlocks is the furthest a certificate may be trusted above a
	// trusted height on the strength of a third of the trusted stake (see
	// VerifySkipping); 1 means verify every height. FromGenesis defaults
	// it to the chain's unbonding period.
	TrustingBlocks uint64
	// Witnesses are compared with the primary after every verification.
	Witnesses []Source
}

// Client verifies a chain's headers from a trusted root, fetching them from
// a primary source and cross-checking witnesses.
type Client struct {
	chainID        string
	primary        Source
	witnesses      []Source
	trustingBlocks uint64
	root           *Trusted
	latest         *Trusted
	stored         map[uint64]*Trusted
	fetches        int
}

// NewClient returns a client of chain chainID trusting root.
func NewClient(chainID string, root *Trusted, primary Source, opts Options) (*Client, error) {
	if root == nil || root.NextValidators == nil {
		return nil, errors.New("light: a trusted root needs its next validator set")
	}
	if opts.TrustingBlocks == 0 {
		return nil, errors.New("light: TrustingBlocks must be at least 1")
	}
	return &Client{chainID: chainID, primary: primary, witnesses: opts.Witnesses, trustingBlocks: opts.TrustingBlocks,
		root: root, latest: root, stored: map[uint64]*Trusted{root.Height: root}}, nil
}

// GenesisRoot is the trusted root of a chain at its genesis: height 0, the
// genesis time, and the genesis validator set as the set of height 1.
func GenesisRoot(doc *genesis.Doc) (*Trusted, error) {
	_, set, err := doc.InitialState()
	if err != nil {
		return nil, fmt.Errorf("light: genesis: %w", err)
	}
	return &Trusted{Time: uint64(doc.GenesisTime.UnixMilli()), NextValidators: set}, nil
}

// FromGenesis returns a client trusting doc's genesis. A zero
// opts.TrustingBlocks becomes the chain's unbonding period.
func FromGenesis(doc *genesis.Doc, primary Source, opts Options) (*Client, error) {
	root, err := GenesisRoot(doc)
	if err != nil {
		return nil, err
	}
	if opts.TrustingBlocks == 0 {
		opts.TrustingBlocks = doc.Params.UnbondingBlocks
	}
	return NewClient(doc.ChainID, root, primary, opts)
}

// TrustHeader fetches the signed header at height from src, checks that it
// hashes to hash (obtained out of band) and that its certificate is a
// quorum of its validator set, and returns it as a trusted root. With a
// zero hash it trusts whatever src serves (trust on first use): only its
// consistency is checked.
func TrustHeader(ctx context.Context, chainID string, src Source, height uint64, hash chain.Hash) (*Trusted, error) {
	sh, vals, err := fetch(ctx, src, height, nil)
	if err != nil {
		return nil, err
	}
	if hash != (chain.Hash{}) && sh.Hash() != hash {
		return nil, fmt.Errorf("%w: h=%d hashes to %s, trusted hash is %s", ErrInvalid, sh.Header.Height, chain.FormatHash(sh.Hash()), chain.FormatHash(hash))
	}
	if err := checkCertified(chainID, sh, vals); err != nil {
		return nil, err
	}
	return trustFetched(ctx, src, sh, vals)
}

// Fetches counts the signed headers the client has fetched to verify.
func (c *Client) Fetches() int { return c.fetches }

// ChainID is the chain the client verifies.
func (c *Client) ChainID() string { return c.chainID }

// Root is the point the client started trusting.
func (c *Client) Root() *Trusted { return c.root }

// Latest is the highest verified point.
func (c *Client) Latest() *Trusted { return c.latest }

// SetPrimary replaces the primary source (after a reconnection).
func (c *Client) SetPrimary(src Source) { c.primary = src }

// VerifyLatest verifies the primary's latest final header.
func (c *Client) VerifyLatest(ctx context.Context) (*Trusted, error) {
	return c.VerifyHeight(ctx, 0)
}

// VerifyHeight verifies the signed header at height (0: the primary's
// latest) from the closest verified point below it, bisecting as needed,
// then cross-checks the witnesses. Only when all of that succeeds does the
// client trust the new points. Errors: ErrBelowTrusted, a verification
// error wrapping ErrInvalid, *ForkError, a witness error wrapping
// ErrWitness, or the primary's own error.
func (c *Client) VerifyHeight(ctx context.Context, height uint64) (*Trusted, error) {
	var target *candidate
	if height == 0 {
		sh, vals, err := fetch(ctx, c.primary, 0, c.knownSets())
		if err != nil {
			return nil, err
		}
		c.fetches++
		height = sh.Header.Height
		target = &candidate{sh, vals}
	}
	if t, ok := c.stored[height]; ok {
		if target != nil && target.sh.Hash() != t.Hash {
			return nil, fmt.Errorf("%w: h=%d served as %s, verified as %s", ErrInvalid, height, chain.FormatHash(target.sh.Hash()), chain.FormatHash(t.Hash))
		}
		return t, nil
	}
	if height < c.root.Height {
		return nil, fmt.Errorf("%w: h=%d, root h=%d", ErrBelowTrusted, height, c.root.Height)
	}
	from := c.root
	for h, t := range c.stored {
		if h < height && h > from.Height {
			from = t
		}
	}
	trace, err := c.verifyForward(ctx, from, height, target, c.primary)
	if err != nil {
		return nil, err
	}
	if err := c.checkWitnesses(ctx, trace); err != nil {
		return nil, err
	}
	for _, t := range trace[1:] {
		c.store(t)
	}
	return trace[len(trace)-1], nil
}

func (c *Client) store(t *Trusted) {
	c.stored[t.Height] = t
	if t.Height > c.latest.Height {
		c.latest = t
	}
	if len(c.stored) <= maxStored+2 {
		return
	}
	heights := make([]uint64, 0, len(c.stored))
	for h := range c.stored {
		if h != c.root.Height && h != c.latest.Height {
			heights = append(heights, h)
		}
	}
	slices.Sort(heights)
	for _, h := range heights[:len(heights)-maxStored] {
		delete(c.stored, h)
	}
}

// knownSets are the verified validator sets, for reuse by hash.
func (c *Client) knownSets() []*staking.ValidatorSet {
	return []*staking.ValidatorSet{c.latest.Validators, c.latest.NextValidators}
}

// candidate is an unverified signed header with the set it claims.
type candidate struct {
	sh   *SignedHeader
	vals *staking.ValidatorSet
}

// fetch gets the signed header at height (0: latest) and the validator set
// its header names, reusing one of known when the hash matches.
func fetch(ctx context.Context, src Source, height uint64, known []*staking.ValidatorSet) (*SignedHeader, *staking.ValidatorSet, error) {
	sh, err := src.SignedHeader(ctx, height)
	if err != nil {
		return nil, nil, fmt.Errorf("light: signed header at %d: %w", height, err)
	}
	if height != 0 && sh.Header.Height != height {
		return nil, nil, fmt.Errorf("%w: asked h=%d, got h=%d", ErrHeightMismatch, height, sh.Header.Height)
	}
	if sh.Header.Height == 0 {
		return nil, nil, fmt.Errorf("%w: header at height 0", ErrHeightMismatch)
	}
	for _, s := range known {
		if s != nil && s.Hash() == sh.Header.ValidatorsHash {
			return sh, s, nil
		}
	}
	vals, err := src.Validators(ctx, sh.Header.Height)
	if err != nil {
		return nil, nil, fmt.Errorf("light: validators at %d: %w", sh.Header.Height, err)
	}
	return sh, vals, nil
}

// trustFetched makes a verified signed header a Trusted point, fetching
// the set of its next height unless it is vals again.
func trustFetched(ctx context.Context, src Source, sh *SignedHeader, vals *staking.ValidatorSet) (*Trusted, error) {
	next := vals
	if sh.Header.NextValidatorsHash != vals.Hash() {
		var err error
		if next, err = src.Validators(ctx, sh.Header.Height+1); err != nil {
			return nil, fmt.Errorf("light: validators at %d: %w", sh.Header.Height+1, err)
		}
	}
	return trust(sh, vals, next)
}

// verifyForward verifies height from trusted point from, fetching from
// src (target, if not nil, is the already fetched header at height). It
// returns the trace: from, each verified pivot, and the point at height.
func (c *Client) verifyForward(ctx context.Context, from *Trusted, height uint64, target *candidate, src Source) ([]*Trusted, error) {
	if target == nil {
		sh, vals, err := fetch(ctx, src, height, []*staking.ValidatorSet{from.Validators, from.NextValidators})
		if err != nil {
			return nil, err
		}
		c.fetches++
		target = &candidate{sh, vals}
	}
	trace := []*Trusted{from}
	pending := []*candidate{target} // the last is the next to try
	verified := from
	for len(pending) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		cand := pending[len(pending)-1]
		h := cand.sh.Header.Height
		var err error
		if h == verified.Height+1 {
			err = VerifyAdjacent(c.chainID, verified, cand.sh, cand.vals)
		} else {
			err = VerifySkipping(c.chainID, verified, cand.sh, cand.vals, c.trustingBlocks)
		}
		switch {
		case err == nil:
			t, err := trustFetched(ctx, src, cand.sh, cand.vals)
			if err != nil {
				return nil, err
			}
			trace = append(trace, t)
			verified = t
			pending = pending[:len(pending)-1]
		case errors.Is(err, ErrNotEnoughTrust):
			dist := h - verified.Height
			step := dist / 2
			if dist > c.trustingBlocks {
				step = c.trustingBlocks
			}
			sh, vals, ferr := fetch(ctx, src, verified.Height+step, []*staking.ValidatorSet{verified.Validators, verified.NextValidators})
			if ferr != nil {
				return nil, ferr
			}
			c.fetches++
			pending = append(pending, &candidate{sh, vals})
		default:
			return nil, err
		}
	}
	return trace, nil
}
