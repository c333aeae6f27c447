package engine

import (
	"errors"
	"fmt"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/store"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/staking"
)

// maxClockDrift is how far ahead of the local clock a proposed block's time
// may be for this node to prevote it. Validity that depends on a clock only
// ever delays a prevote: the check is not part of checkBlock (which also
// judges certified blocks, from block sync and at finalize) but marks a
// valid block untimely in the answer to CheckBlock (see
// consensus.BlockChecked), and the Machine still decides a certified one.
const maxClockDrift = 10 * time.Second

// untimely reports whether b's time is more than maxClockDrift ahead of
// the local clock.
func (e *Driver) untimely(b *chain.Block) bool {
	return b.Header.Time > uint64(e.clock.Now().Add(maxClockDrift).UnixMilli())
}

// startHeight starts the Machine on the height after the store's latest
// final block; with replay it first feeds the inputs logged in the WAL for
// that height, so a restarted node resumes in the same round with the same
// locks.
func (e *Driver) startHeight(replay bool) error {
	h := e.store.Height() + 1
	vals, err := e.store.ValidatorSet(h)
	if err != nil {
		return fmt.Errorf("%w: validator set of h=%d: %w", ErrHalt, h, err)
	}
	lastTime := time.UnixMilli(int64(e.genesisMs))
	e.lastHeader, e.lastCert = nil, nil
	if h > 1 {
		if e.lastHeader, err = e.store.Header(h - 1); err != nil {
			return fmt.Errorf("%w: header h=%d: %w", ErrHalt, h-1, err)
		}
		if e.lastCert, err = e.store.Certificate(h - 1); err != nil {
			return fmt.Errorf("%w: certificate h=%d: %w", ErrHalt, h-1, err)
		}
		lastTime = time.UnixMilli(int64(e.lastHeader.Time))
	}
	e.height, e.vals, e.nextVals = h, vals, e.state.PendingValidators()
	e.resetLastCommit()
	e.heightShare, e.nextShare = e.nextShare, logShare{}
	if replay {
		e.heightShare = logShare{} // counted again as the log is replayed
	}
	e.timers.StopBelow(h)
	e.checked = make(map[chain.Hash]*checkedBlock)
	e.seenVotes = make(map[voteKey]struct{})
	e.heightProposals, e.heightVotes = nil, nil
	e.have.reset(vals.TotalStake())
	nextProposals, nextVotes := e.nextProposals, e.nextVotes
	e.nextProposals, e.nextVotes = nil, nil
	for _, p := range nextProposals {
		e.keepProposal(p.Proposal, p.Block)
	}
	for _, v := range nextVotes {
		e.keepVote(v)
	}
	e.startedAt = e.clock.Now()
	e.evpool.prune(h, e.state.Params().UnbondingBlocks)
	e.publishCommitted()
	nh := consensus.NewHeight{Height: h, Validators: vals, NextValidators: e.nextVals, LastBlockTime: lastTime, Now: e.startedAt}
	nh.TxsAvailable, nh.TxsBatch = e.pending()
	e.toldTxs, e.toldBatch = 0, 0
	if nh.TxsAvailable {
		e.toldTxs = h
	}
	if nh.TxsBatch {
		e.toldBatch = h
	}
	if !replay {
		e.queue = append(e.queue, nh)
		return nil
	}
	logged, err := e.wal.ReadAll(h)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrHalt, err)
	}
	nh, logged, found, err := e.restoreNewHeight(nh, logged)
	if err != nil {
		return err
	}
	if !found {
		// The height's first start: log its NewHeight, whose clock reading
		// a later restart must replay.
		if err := e.wal.Append(h, nh); err != nil {
			return fmt.Errorf("%w: %w", ErrHalt, err)
		}
	}
	if len(logged) > 0 {
		e.log.Info("replaying consensus WAL", "height", h, "inputs", len(logged))
	}
	todo := consensus.Replay(e.machine, append([]consensus.Input{nh}, logged...), e.replayed)
	if err := e.replayNextHeight(h); err != nil {
		return err
	}
	for _, a := range todo {
		if e.height != h {
			break // a Finalize committed the height and started the next
		}
		if err := e.do(a); err != nil {
			return err
		}
	}
	return e.drain()
}

// replayNextHeight gives the restarted Machine at height h the proposals
// and votes of height h+1 that the log holds (they arrived early, before
// the crash, and the Machine buffered them), in log order, so that its
// buffer for h+1 is what the log says it is: when h+1 starts, live or
// after another restart (see restoreNewHeight), the Machine counts the
// same buffered inputs. They are already in the log and are not logged
// again. This runs before the replay's remaining actions, one of which may
// be the Finalize that starts h+1.
func (e *Driver) replayNextHeight(h uint64) error {
	next, err := e.wal.ReadAll(h + 1)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrHalt, err)
	}
	for _, in := range next {
		switch in.(type) {
		case consensus.ProposalReceived, consensus.VoteReceived:
			acts, outcome := e.machine.StepOutcome(in)
			e.replayed(in, acts, outcome)
		}
	}
	return nil
}

// restoreNewHeight rebuilds the height's inputs as the Machine first saw
// them, when the log holds the height's NewHeight (found): its clock
// reading (the Machine's new-height wait depends on it, and a restart reads
// the clock later), then the proposals and votes of the height that arrived
// before it, as the Machine's buffer for the next height kept them, then
// the rest in order. A log without it (the height's first start, or a crash
// before it was written) is replayed as it is after a fresh NewHeight.
func (e *Driver) restoreNewHeight(nh consensus.NewHeight, logged []consensus.Input) (consensus.NewHeight, []consensus.Input, bool, error) {
	at := -1
	for i, in := range logged {
		if l, ok := in.(consensus.NewHeight); ok && l.Height == nh.Height {
			nh.Now, nh.TxsAvailable, nh.TxsBatch, at = l.Now, l.TxsAvailable, l.TxsBatch, i
			break
		}
	}
	if at < 0 {
		return nh, logged, false, nil
	}
	// The Machine at the height before buffered them from the members of
	// this height's set (its NewHeight.NextValidators: the same
	// membership); a Machine that had not started a height buffered none.
	var members *staking.ValidatorSet
	if nh.Height > 1 {
		members = nh.Validators
	}
	out := consensus.NextHeightInputs(logged[:at], nh.Height, members)
	for _, in := range logged[at+1:] {
		if _, ok := in.(consensus.NewHeight); !ok {
			out = append(out, in)
		}
	}
	return nh, out, true, nil
}

// replayed rebuilds, for one logged input, what the engine keeps beside
// the Machine: the proposals and votes it serves to peers (its own
// included) and evidence. Nothing is relayed or published again.
func (e *Driver) replayed(in consensus.Input, acts []consensus.Action, outcome consensus.Outcome) {
	if outcome == consensus.Accepted {
		e.countLogged(in)
		switch in := in.(type) {
		case consensus.VoteReceived:
			e.keepVote(in.Vote)
		case consensus.ProposalReceived:
			e.keepProposal(in.Proposal, in.Block)
		}
	}
	for _, a := range acts {
		switch a := a.(type) {
		case consensus.BroadcastVote:
			e.keepVote(a.Vote)
		case consensus.BroadcastProposal:
			e.keepProposal(a.Proposal, a.Block)
		case consensus.EvidenceFound:
			e.addEvidence(a.Evidence, true)
		case consensus.RejectedInput:
			e.log.Warn("WAL replay: logged input rejected", "height", e.height, "err", a.Err)
			e.obs.Rejected(a.Input, a.Err, true)
		}
	}
}

// publishStored publishes the chain as the store holds it, before the
// driver starts, so that the RPC serves from its first request.
func (e *Driver) publishStored() error {
	h := e.store.Height()
	vals, err := e.store.ValidatorSet(h + 1)
	if err != nil {
		return fmt.Errorf("validator set of h=%d: %w", h+1, err)
	}
	s := &Snapshot{Height: h, State: e.state.Fork(), Validators: vals}
	if h > 0 {
		if s.Header, err = e.store.Header(h); err != nil {
			return fmt.Errorf("header h=%d: %w", h, err)
		}
		s.Hash = s.Header.Hash()
	}
	e.snap.Store(s)
	return nil
}

// publishCommitted publishes the committed chain for RPC readers.
func (e *Driver) publishCommitted() {
	s := &Snapshot{Height: e.height - 1, Header: e.lastHeader, State: e.state.Fork(), Validators: e.vals}
	if e.lastHeader != nil {
		s.Hash = e.lastHeader.Hash()
	}
	if old := e.snap.Load(); old != nil {
		s.Round, s.Syncing = old.Round, old.Syncing
	}
	e.snap.Store(s)
	e.mempool.SetState(s.State)
}

// buildBlock makes the local proposer's block for height h: transactions
// from the mempool and pending evidence, executed on a fork of the
// committed state so that the header commits to the resulting state.
func (e *Driver) buildBlock(h uint64) (*chain.Block, error) {
	t0 := e.clock.Now()
	defer func() { e.log.Debug("built block", "height", h, "took", e.clock.Now().Sub(t0)) }()
	txs := e.mempool.Reap(e.cfg.MaxBlockTxs)
	evs := e.includable(h, e.evpool.pending(h))
	now := uint64(e.clock.Now().UnixMilli())
	last := e.genesisMs
	if e.lastHeader != nil {
		last = e.lastHeader.Time
	}
	if now <= last {
		now = last + 1
	}
	lastCert := e.parentCertificate()
	blk := &chain.Block{Header: chain.Header{ChainID: e.chainID, Height: h, Proposer: e.signer.Address()}, Txs: txs, Evidence: evs, LastCertificate: lastCert}
	senders := chain.RecoverSenders(txs, e.mempool)
	for {
		fork := e.state.Fork()
		// BuildWith leaves out transactions that would make the block invalid.
		res, err := chain.BuildWith(fork, e.chainID, blk, senders, e.evidenceSet, e.cfg.Machine.Recoverer)
		if err != nil && errors.Is(err, chain.ErrInvalidEvidence) && len(blk.Evidence) > 0 {
			e.log.Warn("dropping evidence that no longer applies", "height", h, "err", err)
			e.evpool.drop(blk.Evidence)
			blk.Evidence = nil
			continue
		}
		if err != nil {
			return nil, err
		}
		hd := &blk.Header
		*hd = chain.Header{
			ChainID: e.chainID, Height: h, Time: now, Proposer: e.signer.Address(),
			TxRoot: chain.MerkleRoot(senders.Hashes), EvidenceRoot: chain.MerkleRoot(blk.EvidenceHashes()),
			StateHash: res.StateHash, ValidatorsHash: e.vals.Hash(), NextValidatorsHash: res.NextValidators.Hash(),
		}
		if e.lastHeader != nil {
			hd.ParentHash = e.lastHeader.Hash()
			hd.LastCertHash = lastCert.Hash()
		}
		e.checked[blk.Hash()] = &checkedBlock{fork: fork, res: res}
		return blk, nil
	}
}

// checkBlock validates a proposed or synced block of the current height and
// executes it on a fork of the committed state. Results are cached by hash.
func (e *Driver) checkBlock(b *chain.Block) *checkedBlock {
	hash := b.Hash()
	if cb, ok := e.checked[hash]; ok {
		return cb
	}
	cb := &checkedBlock{}
	e.checked[hash] = cb
	senders := chain.RecoverSenders(b.Txs, e.mempool)
	if cb.err = e.validateHeader(b, senders.Hashes); cb.err != nil {
		return cb
	}
	fork := e.state.Fork()
	res, err := chain.ExecuteWith(fork, e.chainID, b, senders, e.evidenceSet, e.cfg.Machine.Recoverer)
	switch {
	case err != nil:
		cb.err = err
	case res.StateHash != b.Header.StateHash:
		cb.err = fmt.Errorf("state hash: header %s, executed %s", chain.FormatHash(b.Header.StateHash), chain.FormatHash(res.StateHash))
	case res.NextValidators.Hash() != b.Header.NextValidatorsHash:
		cb.err = fmt.Errorf("next validators hash: header %s, executed %s", chain.FormatHash(b.Header.NextValidatorsHash), chain.FormatHash(res.NextValidators.Hash()))
	default:
		cb.fork, cb.res = fork, res
	}
	return cb
}

func (e *Driver) validateHeader(b *chain.Block, txHashes []chain.Hash) error {
	hd := &b.Header
	if err := b.ValidateBasic(e.chainID, txHashes); err != nil {
		return err
	}
	if hd.Height != e.height {
		return fmt.Errorf("height %d, want %d", hd.Height, e.height)
	}
	last := e.genesisMs
	var parent chain.Hash
	if e.lastHeader != nil {
		last, parent = e.lastHeader.Time, e.lastHeader.Hash()
	}
	if hd.ParentHash != parent {
		return fmt.Errorf("parent %s, want %s", chain.FormatHash(hd.ParentHash), chain.FormatHash(parent))
	}
	if hd.Time <= last {
		return fmt.Errorf("time %d not after parent time %d", hd.Time, last)
	}
	if _, ok := e.vals.StakeOf(hd.Proposer); !ok {
		return fmt.Errorf("proposer %s is not a validator", chain.FormatAddress(hd.Proposer))
	}
	if hd.ValidatorsHash != e.vals.Hash() {
		return fmt.Errorf("validators hash %s, want %s", chain.FormatHash(hd.ValidatorsHash), chain.FormatHash(e.vals.Hash()))
	}
	if b.LastCertificate != nil {
		set, err := e.store.ValidatorSet(e.height - 1)
		if err != nil {
			return fmt.Errorf("validator set of h=%d: %w", e.height-1, err)
		}
		if _, err := b.LastCertificate.VerifyWith(e.chainID, set, e.cfg.Machine.Recoverer); err != nil {
			return fmt.Errorf("last certificate: %w", err)
		}
	}
	return nil
}

// evidenceSet returns the validator set of a past height.
func (e *Driver) evidenceSet(h uint64) (chain.StakeSet, error) {
	if h == e.height {
		return e.vals, nil
	}
	return e.store.ValidatorSet(h)
}

// finalize commits a decided block durably, adopts its state, and starts
// the next height.
func (e *Driver) finalize(b *chain.Block, c *chain.Certificate) error {
	cb := e.checkBlock(b)
	if cb.err != nil {
		return fmt.Errorf("%w: decided block h=%d fails execution here (state divergence): %w", ErrHalt, b.Header.Height, cb.err)
	}
	finalizedAt := e.clock.Now()
	fb := &store.FinalBlock{Block: b, Certificate: c, Receipts: cb.res.Receipts, StateChanges: cb.fork.Changes(),
		StateHash: cb.res.StateHash, NextValidators: cb.res.NextValidators, FinalizedAt: uint64(finalizedAt.UnixMilli())}
	t0 := e.clock.Now()
	if err := e.store.CommitBlock(fb); err != nil {
		return fmt.Errorf("%w: commit block h=%d: %w", ErrHalt, b.Header.Height, err)
	}
	e.log.Debug("committed block", "height", b.Header.Height, "txs", len(b.Txs), "took", e.clock.Now().Sub(t0))
	e.state.Commit(cb.fork)
	if err := e.wal.Reset(b.Header.Height); err != nil {
		return fmt.Errorf("%w: %w", ErrHalt, err)
	}
	e.evpool.committed(b.Evidence)
	included := make([]chain.Hash, len(cb.res.Receipts))
	for i := range cb.res.Receipts {
		included[i] = cb.res.Receipts[i].TxHash
	}
	rs := e.machine.RoundState()
	rounds := rs.Round
	prevVals := e.vals
	e.decided = newDecidedRound(rs, prevVals)
	// Re-check the mempool before the next height starts, so that the
	// Machine learns whether transactions still wait.
	e.mempool.Update(included, e.state.Fork())
	decidedVotes := e.heightVotes
	if err := e.startHeight(false); err != nil {
		return err
	}
	e.keepLatePrecommits(decidedVotes)
	e.obs.Finalized(b, c, SignedStake(c, prevVals), prevVals.TotalStake(), cb.res, rounds, finalizedAt)
	if e.vals.Hash() != prevVals.Hash() {
		e.obs.ValidatorsChanged(e.height, e.vals)
	}
	e.log.Debug("finalized", "height", b.Header.Height, "round", c.Round, "txs", len(b.Txs))
	return nil
}

// SignedStake is the stake of a certificate's signers in set.
func SignedStake(c *chain.Certificate, set *staking.ValidatorSet) uint64 {
	var sum uint64
	for i := range c.Precommits {
		s, _ := set.StakeOf(c.Precommits[i].Validator)
		sum += s // bounded by the set's total, itself at most staking.MaxSupply
	}
	return sum
}
