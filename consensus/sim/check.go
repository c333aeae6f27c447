package sim

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/staking"
	"github.com/quorumchain/quorumchain/validator"
)

// Violation is a broken invariant.
type Violation struct {
	Kind   string // agreement, certificate, validity, double-sign, evidence, rejected-honest, finalize, liveness, events, panic
	Seed   uint64
	At     time.Duration
	Node   int // honest validator concerned, -1 for the whole network
	Height uint64
	Round  uint32
	Detail string
}

func (v Violation) String() string {
	node := "network"
	if v.Node >= 0 {
		node = fmt.Sprintf("n%d", v.Node)
	}
	s := fmt.Sprintf("%s violation (seed %d) at t=%v %s h=%d r=%d: %s", v.Kind, v.Seed, v.At, node, v.Height, v.Round, v.Detail)
	return s
}

// checker holds what the invariants need across validators. Every check
// runs where its event happens, which is the same as checking after every
// event: agreement, certificate and validity when a validator finalizes,
// double signing when an honest signer signs.
type checker struct {
	s      *sim
	signed map[signKey]signRecord
	finals []decision // finals[h-1]: the first honest decision at h
	// Verification caches: the same certificate or evidence reaches many
	// validators; it is verified once per run.
	certs map[chain.Hash]error
	evs   map[chain.Hash]error
	found map[chain.Hash]bool // evidence reported by honest Machines
	// sigs holds signatures known to be valid: every one the simulated
	// validators made, and every one verified here.
	sigs map[sigKey]chain.Address
	// realVerified[h-1] is set once a certificate of height h went through
	// chain.Certificate.Verify itself.
	realVerified []bool
}

type sigKey struct {
	digest chain.Hash
	sig    chain.Signature
}

type signKey struct {
	addr chain.Address
	h    uint64
	r    uint32
	step validator.SignStep
}

type signRecord struct {
	hash chain.Hash
	node int
}

type decision struct {
	hash chain.Hash
	node int
	at   time.Duration
}

func (c *checker) init(s *sim) {
	c.s = s
	c.signed = make(map[signKey]signRecord)
	c.certs = make(map[chain.Hash]error)
	c.evs = make(map[chain.Hash]error)
	c.found = make(map[chain.Hash]bool)
	c.sigs = make(map[sigKey]chain.Address)
}

// knownSig records a signature the simulator saw being made.
func (c *checker) knownSig(digest chain.Hash, sig chain.Signature, by chain.Address) {
	c.sigs[sigKey{digest, sig}] = by
}

// Recover implements consensus.Recoverer for the run's Machines.
func (c *checker) Recover(digest chain.Hash, sig *chain.Signature) (chain.Address, error) {
	return c.recover(digest, sig)
}

// recover is chain.Recover behind the cache of known signatures.
func (c *checker) recover(digest chain.Hash, sig *chain.Signature) (chain.Address, error) {
	k := sigKey{digest, *sig}
	if a, ok := c.sigs[k]; ok {
		return a, nil
	}
	a, err := chain.Recover(digest, sig)
	if err == nil {
		c.sigs[k] = a
	}
	return a, err
}

// signedVote records a vote an honest signer signed; a different vote of
// the same (height, round, type) is a double sign.
func (c *checker) signedVote(n *node, v *chain.Vote) {
	d := v.SignHash(ChainID)
	c.knownSig(d, v.Signature, v.Validator)
	c.signed1(n, v.Height, v.Round, validator.StepOfVote(v.Type), d, v.Type.String())
}

// signedProposal records a proposal an honest signer signed.
func (c *checker) signedProposal(n *node, p *chain.Proposal) {
	c.signed1(n, p.Height, p.Round, validator.StepProposal, p.SignHash(ChainID), "proposal")
}

func (c *checker) signed1(n *node, h uint64, r uint32, step validator.SignStep, digest chain.Hash, what string) {
	k := signKey{addr: n.addr(), h: h, r: r, step: step}
	old, ok := c.signed[k]
	if !ok {
		c.signed[k] = signRecord{hash: digest, node: n.id}
		return
	}
	if old.hash != digest {
		c.s.violate(Violation{Kind: "double-sign", Node: n.id, Height: h, Round: r,
			Detail: fmt.Sprintf("honest n%d signed two different %ss: %s and %s", n.id, what, chain.FormatHash(old.hash), chain.FormatHash(digest))})
	}
}

// verifyCert verifies a certificate of height h against that height's set
// (cached by certificate hash).
func (c *checker) verifyCert(cert *chain.Certificate, h uint64) error {
	if cert == nil {
		return errors.New("missing certificate")
	}
	if cert.Height != h {
		return fmt.Errorf("certificate of height %d, want %d", cert.Height, h)
	}
	k := cert.Hash()
	if err, ok := c.certs[k]; ok {
		return err
	}
	set := c.s.setAt(h)
	for uint64(len(c.realVerified)) < h {
		c.realVerified = append(c.realVerified, false)
	}
	var err error
	if !c.realVerified[h-1] {
		// The first certificate of each height goes through the real
		// Certificate.Verify, and must agree with the cached check.
		c.realVerified[h-1] = true
		_, err = cert.Verify(ChainID, set)
		if mine := c.verifyCertCached(cert, set); (mine == nil) != (err == nil) {
			c.s.violate(Violation{Kind: "checker", Node: -1, Height: h, Round: cert.Round,
				Detail: fmt.Sprintf("Certificate.Verify says %v, the simulator's check %v", err, mine)})
		}
	} else {
		err = c.verifyCertCached(cert, set)
	}
	c.certs[k] = err
	return err
}

// verifyCertCached checks what Certificate.Verify checks (signers strictly
// increasing, members, more than two thirds of the stake, signatures),
// recovering signatures through the cache: with many validators every
// validator's certificate differs and most of a run's CPU would otherwise
// go to recovering the same precommits again.
func (c *checker) verifyCertCached(cert *chain.Certificate, set *staking.ValidatorSet) error {
	if cert.BlockHash == (chain.Hash{}) {
		return errors.New("certificate for nil")
	}
	var signed uint64
	digest := chain.VoteSignHash(ChainID, chain.Precommit, cert.Height, cert.Round, cert.BlockHash)
	for i := range cert.Precommits {
		p := &cert.Precommits[i]
		if i > 0 && bytes.Compare(cert.Precommits[i-1].Validator[:], p.Validator[:]) >= 0 {
			return fmt.Errorf("%w at index %d", chain.ErrDuplicateSigner, i)
		}
		stake, ok := set.StakeOf(p.Validator)
		if !ok {
			return fmt.Errorf("%w: %s", chain.ErrUnknownValidator, chain.FormatAddress(p.Validator))
		}
		var carry uint64
		if signed, carry = bits.Add64(signed, stake, 0); carry != 0 {
			return errors.New("signed stake overflows")
		}
		a, err := c.recover(digest, &p.Signature)
		if err != nil {
			return err
		}
		if a != p.Validator {
			return fmt.Errorf("%w: precommit of %s", chain.ErrWrongSigner, chain.FormatAddress(p.Validator))
		}
	}
	if !staking.HasQuorum(signed, set.TotalStake()) {
		return fmt.Errorf("%w: signed %d of %d", chain.ErrNoQuorum, signed, set.TotalStake())
	}
	return nil
}

func (c *checker) verifyEvidence(e *chain.Evidence) error {
	k := e.Hash()
	if err, ok := c.evs[k]; ok {
		return err
	}
	err := e.Verify(ChainID, c.s.sets[0])
	c.evs[k] = err
	return err
}

// finalized checks a Finalize of honest validator n: it is for n's current
// height, its certificate is for the block and verifies (more than two
// thirds of the stake), the block is valid, and no honest validator
// finalized another block at that height.
func (c *checker) finalized(n *node, b *chain.Block, cert *chain.Certificate) bool {
	s := c.s
	h := b.Header.Height
	v := Violation{Node: n.id, Height: h}
	if cert != nil {
		v.Round = cert.Round
	}
	if h != n.height || uint64(len(n.finals)) != h-1 {
		v.Kind, v.Detail = "finalize", fmt.Sprintf("finalized height %d at height %d with %d final blocks", h, n.height, len(n.finals))
		s.violate(v)
		return false
	}
	hash := b.Hash()
	if cert == nil || cert.BlockHash != hash || cert.Height != h {
		v.Kind, v.Detail = "certificate", fmt.Sprintf("certificate does not match block %s", chain.FormatHash(hash))
		s.violate(v)
		return false
	}
	if err := c.verifyCert(cert, h); err != nil {
		v.Kind, v.Detail = "certificate", err.Error()
		s.violate(v)
		return false
	}
	if err := s.validate(n, h, b); err != nil {
		v.Kind, v.Detail = "validity", fmt.Sprintf("final block %s: %v", chain.FormatHash(hash), err)
		s.violate(v)
		return false
	}
	if h <= uint64(len(c.finals)) {
		if d := c.finals[h-1]; d.hash != hash {
			v.Kind = "agreement"
			v.Detail = fmt.Sprintf("n%d finalized %s (round %d) but n%d finalized %s at t=%v",
				n.id, chain.FormatHash(hash), cert.Round, d.node, chain.FormatHash(d.hash), d.at)
			s.violate(v)
			return false
		}
	} else {
		c.finals = append(c.finals, decision{hash: hash, node: n.id, at: s.now})
	}
	return true
}

// evidence checks evidence an honest Machine reported: it verifies, and it
// accuses a Byzantine validator (honest ones never double-sign).
func (c *checker) evidence(n *node, e *chain.Evidence) {
	s := c.s
	if k := e.Hash(); !c.found[k] {
		c.found[k] = true
		s.rep.Evidence++
	}
	if err := c.verifyEvidence(e); err != nil {
		s.violate(Violation{Kind: "evidence", Node: n.id, Height: e.Height(), Round: e.A.Round, Detail: "invalid evidence: " + err.Error()})
		return
	}
	if i, ok := s.byIdx[e.Validator()]; !ok || !s.vals[i].byz {
		s.violate(Violation{Kind: "evidence", Node: n.id, Height: e.Height(), Round: e.A.Round,
			Detail: fmt.Sprintf("evidence against honest validator n%d", i)})
	}
}

// rejected flags a Machine rejecting an input that an honest party made:
// honest votes, proposals and sync commits, and the shell's own answers,
// are always valid.
func (c *checker) rejected(n *node, a consensus.RejectedInput) {
	s := c.s
	honest := func(addr chain.Address) bool {
		i, ok := s.byIdx[addr]
		return ok && !s.vals[i].byz
	}
	var who string
	switch in := a.Input.(type) {
	case consensus.VoteReceived:
		if in.Vote != nil && honest(in.Vote.Validator) {
			who = "vote of an honest validator"
		}
	case consensus.ProposalReceived:
		if in.Proposal != nil && honest(in.Proposal.Proposer) {
			who = "proposal of an honest validator"
		}
	default:
		who = fmt.Sprintf("%T from the shell or an honest store", in)
	}
	if who != "" {
		s.violate(Violation{Kind: "rejected-honest", Node: n.id, Height: n.height, Round: n.round,
			Detail: fmt.Sprintf("Machine rejected a %s: %v", who, a.Err)})
	}
}
