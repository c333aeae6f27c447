package sim

import (
	"errors"
	"fmt"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/staking"
	"github.com/quorumchain/quorumchain/validator"
)

// Violation is a broken invariant.
type Violation struct {
	Kind   string // agreement, certificate, finalize, halt, double-sign, evidence, rejected-honest, replay, store, restart, liveness, events, panic, supply, downtime
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
	evs   map[chain.Hash]bool // evidence verified
	found map[chain.Hash]bool // evidence reported by honest drivers
	// rejectedLive holds the Byzantine inputs each validator's Machine
	// rejected outside replay.
	rejectedLive map[rejectKey]bool
	// sigs holds signatures known to be valid: every one the simulated
	// validators made, and every one verified here.
	sigs map[sigKey]chain.Address
	// realVerified is set once a certificate went through the uncached
	// chain.Certificate.Verify.
	realVerified bool
	// ledgerHeight is the last height whose committed state was checked
	// (see ledger.go); burned and issued add up what the blocks up to it
	// reported burning and issuing.
	ledgerHeight   uint64
	genesisSupply  uint64
	burned, issued uint64
	jailedSeen     map[int]bool // Silent validators found jailed (downtime)
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
	c.evs = make(map[chain.Hash]bool)
	c.rejectedLive = make(map[rejectKey]bool)
	c.found = make(map[chain.Hash]bool)
	c.sigs = make(map[sigKey]chain.Address)
	c.jailedSeen = make(map[int]bool)
}

// knownSig records a signature the simulator saw being made.
func (c *checker) knownSig(digest chain.Hash, sig chain.Signature, by chain.Address) {
	c.sigs[sigKey{digest, sig}] = by
}

// Recover implements consensus.Recoverer for the run's Machines and drivers.
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

// signedRecord records what an honest signer saved as its last signature,
// before releasing it; a different sign hash for the same (height, round,
// step) is a double sign, across crashes and restarts.
func (c *checker) signedRecord(n *node, l validator.LastSigned) {
	k := signKey{addr: n.addr(), h: l.Height, r: l.Round, step: l.Step}
	old, ok := c.signed[k]
	if !ok {
		c.signed[k] = signRecord{hash: l.SignHash, node: n.id}
		return
	}
	if old.hash != l.SignHash {
		c.s.violate(Violation{Kind: "double-sign", Node: n.id, Height: l.Height, Round: l.Round,
			Detail: fmt.Sprintf("honest n%d signed two different %v: %s and %s", n.id, l.Step, chain.FormatHash(old.hash), chain.FormatHash(l.SignHash))})
	}
}

// verifyCert verifies a certificate of height h against that height's set
// (cached by certificate hash).
func (c *checker) verifyCert(cert *chain.Certificate, h uint64, set *staking.ValidatorSet) error {
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
	var err error
	if !c.realVerified {
		// The run's first certificate also goes through the uncached
		// Certificate.Verify, which must agree with the cached check.
		c.realVerified = true
		_, err = cert.Verify(ChainID, set)
		if _, mine := cert.VerifyWith(ChainID, set, c); (mine == nil) != (err == nil) {
			c.s.violate(Violation{Kind: "checker", Node: -1, Height: h, Round: cert.Round,
				Detail: fmt.Sprintf("Certificate.Verify says %v, with the signature cache %v", err, mine)})
		}
	} else {
		_, err = cert.VerifyWith(ChainID, set, c)
	}
	c.certs[k] = err
	return err
}

// finalized checks a block honest validator n committed: it is the height
// after the last one n committed, its certificate is for the block and
// verifies against the height's validator set (more than two thirds of
// the stake), and no honest validator committed another block at that
// height. The driver executed the block before committing it, so a block
// invalid to an honest validator halts it (a "halt" violation) instead.
func (c *checker) finalized(n *node, b *chain.Block, cert *chain.Certificate) {
	s := c.s
	h := b.Header.Height
	v := Violation{Node: n.id, Height: h, Round: cert.Round}
	if h != n.checked+1 {
		v.Kind, v.Detail = "finalize", fmt.Sprintf("committed height %d after height %d", h, n.checked)
		s.violate(v)
		return
	}
	n.checked = h
	hash := b.Hash()
	if cert.BlockHash != hash || cert.Height != h {
		v.Kind, v.Detail = "certificate", fmt.Sprintf("certificate for %s at h=%d does not match block %s", chain.FormatHash(cert.BlockHash), cert.Height, chain.FormatHash(hash))
		s.violate(v)
		return
	}
	set, err := n.disk.store.ValidatorSet(h)
	if err != nil {
		v.Kind, v.Detail = "store", err.Error()
		s.violate(v)
		return
	}
	if err := c.verifyCert(cert, h, set); err != nil {
		v.Kind, v.Detail = "certificate", err.Error()
		s.violate(v)
		return
	}
	if h <= uint64(len(c.finals)) {
		if d := c.finals[h-1]; d.hash != hash {
			v.Kind = "agreement"
			v.Detail = fmt.Sprintf("n%d finalized %s (round %d) but n%d finalized %s at t=%v",
				n.id, chain.FormatHash(hash), cert.Round, d.node, chain.FormatHash(d.hash), d.at)
			s.violate(v)
			return
		}
	} else {
		c.finals = append(c.finals, decision{hash: hash, node: n.id, at: s.now})
	}
	s.onFinalize(n, h, cert)
}

// evidence checks evidence an honest driver gossips, of either kind (double
// vote or double proposal): it verifies, and it accuses a Byzantine
// validator (honest ones never double-sign).
func (c *checker) evidence(n *node, e *chain.Evidence) {
	s := c.s
	if k := e.Hash(); !c.found[k] {
		c.found[k] = true
		s.rep.Evidence++
		if e.Kind == chain.DoubleProposal {
			s.rep.ProposalEvidence++
		}
	}
	set, err := n.disk.store.ValidatorSet(e.Height())
	if err != nil {
		s.violate(Violation{Kind: "store", Node: n.id, Height: e.Height(), Detail: err.Error()})
		return
	}
	if k := e.Hash(); !c.evs[k] {
		if err := e.VerifyWith(ChainID, set, c); err != nil {
			s.violate(Violation{Kind: "evidence", Node: n.id, Height: e.Height(), Round: e.Round(), Detail: "invalid evidence: " + err.Error()})
			return
		}
		c.evs[k] = true
	}
	if i, ok := s.byIdx[e.Validator()]; !ok || !s.vals[i].byz {
		s.violate(Violation{Kind: "evidence", Node: n.id, Height: e.Height(), Round: e.Round(),
			Detail: fmt.Sprintf("evidence against honest validator n%d", i)})
	}
}

// rejected flags the Machine rejecting an input that an honest party
// made: honest votes, proposals and sync commits, and the driver's own
// answers, are always valid. A replay must reject only what the live run
// rejected: a logged input of a Byzantine validator rejected on replay
// must have been rejected when it was first stepped, or be from a signer
// that the height's set no longer holds.
func (c *checker) rejected(n *node, in consensus.Input, err error, replay bool) {
	s := c.s
	honest := func(addr chain.Address) bool {
		i, ok := s.byIdx[addr]
		return ok && !s.vals[i].byz
	}
	var who string
	var key rejectKey
	switch in := in.(type) {
	case consensus.VoteReceived:
		if in.Vote != nil && honest(in.Vote.Validator) {
			who = "vote of an honest validator"
		} else if in.Vote != nil {
			key = rejectKey{node: n.id, digest: in.Vote.SignHash(ChainID), sig: in.Vote.Signature}
		}
	case consensus.ProposalReceived:
		if in.Proposal != nil && honest(in.Proposal.Proposer) {
			who = "proposal of an honest validator"
		} else if in.Proposal != nil {
			key = rejectKey{node: n.id, digest: in.Proposal.SignHash(ChainID), sig: in.Proposal.Signature}
		}
	default:
		who = fmt.Sprintf("%T from the driver or an honest store", in)
	}
	switch {
	case who != "":
		kind := "rejected-honest"
		if replay {
			kind = "replay"
		}
		s.violate(Violation{Kind: kind, Node: n.id, Height: n.height, Round: n.round,
			Detail: fmt.Sprintf("Machine rejected a %s (replay: %v): %v", who, replay, err)})
	case !replay:
		c.rejectedLive[key] = true
	case !c.rejectedLive[key] && !errors.Is(err, consensus.ErrUnknownValidator):
		// A Byzantine vote or proposal of the next height, buffered (and
		// logged) before a crash, is rejected on replay when that height's
		// set no longer holds its signer (it was jailed); live, the Machine
		// rejects it the same way when the height starts, so only other
		// reasons mean the replay diverged.
		s.violate(Violation{Kind: "replay", Node: n.id, Height: n.height, Round: n.round,
			Detail: fmt.Sprintf("logged %s, accepted when first stepped, rejected on replay: %v", s.trace.fmtInput(in), err)})
	}
}

// rejectKey identifies a Byzantine input one validator rejected.
type rejectKey struct {
	node   int
	digest chain.Hash
	sig    chain.Signature
}
