package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/store"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/engine"
	"github.com/quorumchain/quorumchain/p2p"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/staking"
	"github.com/quorumchain/quorumchain/validator"
)

// backend serves the RPC from the engine's published snapshot, the store
// and the mempool. Every method is safe for concurrent use and never waits
// for consensus.
type backend struct {
	chainID   string
	genesisMs uint64
	nodeID    p2p.NodeID
	driver    *engine.Driver
	store     *store.Store
	mempool   *txPool
	sw        *p2p.Switch
	net       *network
	remote    *validator.RemoteSigner // nil unless signer.mode = remote
	faults    *faultControl           // nil without p2p.testnet_faults
	recent    *recentReceipts         // receipts of the latest blocks
}

var _ rpc.Backend = (*backend)(nil)

func (b *backend) snap() (*engine.Snapshot, error) {
	s := b.driver.Snapshot()
	if s == nil {
		return nil, fmt.Errorf("%w: node is starting", rpc.ErrUnavailable)
	}
	return s, nil
}

// ChainStatus implements rpc.Backend.
func (b *backend) ChainStatus(context.Context) (rpc.StatusResult, error) {
	s, err := b.snap()
	if err != nil {
		return rpc.StatusResult{}, err
	}
	r := rpc.StatusResult{ChainID: b.chainID, Height: s.Height, Hash: s.Hash, Time: time.UnixMilli(int64(b.genesisMs)).UTC(),
		ValidatorsHash: s.Validators.Hash(), TotalStake: rpc.Amount(s.Validators.TotalStake()), Syncing: s.Syncing,
		MinFee: rpc.Amount(s.State.Params().MinFee), NodeID: b.nodeID.String(), Peers: len(b.sw.Peers())}
	sp := s.State.Supply()
	r.Supply = &rpc.SupplyResult{Total: rpc.Amount(sp.Total), Bonded: rpc.Amount(sp.Bonded), Unbonding: rpc.Amount(sp.Unbonding),
		Issued: rpc.Amount(sp.Issued), Fees: rpc.Amount(sp.Fees), Slashed: rpc.Amount(sp.Slashed), Burned: rpc.Amount(sp.Burned)}
	if s.Header != nil {
		r.Time = time.UnixMilli(int64(s.Header.Time)).UTC()
		r.ValidatorsHash = s.Header.ValidatorsHash
	}
	return r, nil
}

// Health implements rpc.Backend.
func (b *backend) Health(context.Context) error {
	_, err := b.snap()
	return err
}

// LatestHeight implements rpc.Backend.
func (b *backend) LatestHeight() uint64 { return b.store.Height() }

func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %v", rpc.ErrNotFound, err)
	}
	return err
}

// Block implements rpc.Backend.
func (b *backend) Block(_ context.Context, ref rpc.BlockRef) (rpc.BlockResult, error) {
	var blk *chain.Block
	var err error
	if ref.Hash != nil {
		blk, err = b.store.BlockByHash(*ref.Hash)
	} else {
		blk, err = b.store.Block(ref.Height)
	}
	if err != nil {
		return rpc.BlockResult{}, notFound(err)
	}
	h := &blk.Header
	cert, err := b.store.Certificate(h.Height)
	if err != nil {
		return rpc.BlockResult{}, notFound(err)
	}
	set, err := b.store.ValidatorSet(h.Height)
	if err != nil {
		return rpc.BlockResult{}, notFound(err)
	}
	res := rpc.BlockResult{
		Header: rpc.HeaderResult{Hash: h.Hash(), ChainID: h.ChainID, Height: h.Height, Time: time.UnixMilli(int64(h.Time)).UTC(),
			ParentHash: h.ParentHash, Proposer: h.Proposer, TxRoot: h.TxRoot, EvidenceRoot: h.EvidenceRoot, StateHash: h.StateHash,
			ValidatorsHash: h.ValidatorsHash, NextValidatorsHash: h.NextValidatorsHash, LastCertHash: h.LastCertHash},
		Txs:         make([]rpc.BlockTxResult, len(blk.Txs)),
		Certificate: certificateResult(cert, set),
	}
	if rs, ok := b.recent.get(h.Height); ok && len(rs) == len(blk.Txs) {
		for i, tx := range blk.Txs {
			res.Txs[i] = blockTxResult(tx, rs[i].TxHash, &rs[i])
		}
		return res, nil
	}
	for i, tx := range blk.Txs {
		hash := tx.Hash()
		var r *chain.Receipt
		if loc, err := b.store.Tx(hash); err == nil && loc.Height == h.Height {
			r = &loc.Receipt
		}
		res.Txs[i] = blockTxResult(tx, hash, r)
	}
	return res, nil
}

// blockTxResult is tx, of hash, as chain_getBlock gives it, with its
// receipt's sender and outcome (nil: not known, reported final).
func blockTxResult(tx *chain.Tx, hash chain.Hash, r *chain.Receipt) rpc.BlockTxResult {
	t := rpc.BlockTxResult{Hash: hash, Kind: tx.Kind.String(), To: tx.To, Amount: rpc.Amount(tx.Amount), Nonce: tx.Nonce, Fee: rpc.Amount(tx.Fee), Status: "final"}
	if r != nil {
		t.From = r.From
		if r.Status == chain.TxRejected {
			t.Status, t.Code, t.Error = "rejected", r.Code, r.Error
		}
	}
	return t
}

func certificateResult(c *chain.Certificate, set *staking.ValidatorSet) *rpc.CertificateResult {
	bh := c.BlockHash
	r := &rpc.CertificateResult{Height: c.Height, Round: c.Round, BlockHash: &bh, SignedStake: rpc.Amount(engine.SignedStake(c, set)),
		TotalStake: rpc.Amount(set.TotalStake()), Signers: c.Signers(), Signatures: make([]rpc.HexBytes, len(c.Precommits))}
	for i := range c.Precommits {
		r.Signatures[i] = rpc.HexBytes(c.Precommits[i].Signature[:])
	}
	return r
}

// Validators implements rpc.Backend.
func (b *backend) Validators(_ context.Context, height *uint64) (rpc.ValidatorsResult, error) {
	h := b.store.Height() + 1 // the set deciding the next block
	if height != nil {
		h = *height
	}
	set, err := b.store.ValidatorSet(h)
	if err != nil {
		return rpc.ValidatorsResult{}, notFound(err)
	}
	r := validatorsResult(h, set)
	if s, err := b.snap(); err == nil {
		for i := range r.Validators {
			if c, ok := s.State.Candidate(r.Validators[i].Address); ok {
				r.Validators[i].Commission = staking.Fraction{Num: c.Commission, Den: staking.CommissionDen}.String()
				jailed, missed := c.Jailed, s.State.Missed(c.Address)
				r.Validators[i].Jailed, r.Validators[i].Missed = &jailed, &missed
			}
		}
	}
	return r, nil
}

// Account implements rpc.Backend.
func (b *backend) Account(_ context.Context, addr chain.Address) (rpc.AccountResult, error) {
	s, err := b.snap()
	if err != nil {
		return rpc.AccountResult{}, err
	}
	acct := s.State.Account(addr)
	r := rpc.AccountResult{Address: addr, Balance: rpc.Amount(acct.Balance), Nonce: acct.Nonce,
		Bonds: []rpc.BondResult{}, Unbonding: []rpc.UnbondingResult{}, Rewards: []rpc.BondResult{}}
	for _, bd := range s.State.Bonds(addr) {
		r.Bonds = append(r.Bonds, rpc.BondResult{Validator: bd.Validator, Amount: rpc.Amount(bd.Amount)})
		r.Rewards = append(r.Rewards, rpc.BondResult{Validator: bd.Validator, Amount: rpc.Amount(s.State.PendingReward(addr, bd.Validator))})
	}
	for _, u := range s.State.Unbondings(addr) {
		r.Unbonding = append(r.Unbonding, rpc.UnbondingResult{Amount: rpc.Amount(u.Amount), ReleaseHeight: u.ReleaseHeight})
	}
	return r, nil
}

// Tx implements rpc.Backend.
func (b *backend) Tx(_ context.Context, hash chain.Hash) (rpc.TxResult, error) {
	if loc, err := b.store.Tx(hash); err == nil {
		return txResult(&loc.Receipt, loc.Height), nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return rpc.TxResult{}, err
	}
	if b.mempool.Has(hash) {
		return rpc.TxResult{Hash: hash, Status: "pending"}, nil
	}
	if reason, ok := b.mempool.Evicted(hash); ok {
		return rpc.TxResult{Hash: hash, Status: "rejected", Code: "evicted", Error: reason}, nil
	}
	return rpc.TxResult{}, fmt.Errorf("%w: transaction %s", rpc.ErrNotFound, chain.FormatHash(hash))
}

// SubmitTx implements rpc.Backend.
func (b *backend) SubmitTx(_ context.Context, raw []byte) (chain.Hash, error) {
	tx, err := chain.DecodeTx(raw)
	if err != nil {
		return chain.Hash{}, fmt.Errorf("%w: %v", rpc.ErrInvalidTx, err)
	}
	hash, err := b.mempool.Add(tx)
	switch {
	case err == nil:
		b.net.gossipTx(tx)
		return hash, nil
	case errors.Is(err, errAlreadyKnown):
		return hash, nil
	case errors.Is(err, chain.ErrWrongChain):
		return hash, fmt.Errorf("%w: %v", rpc.ErrWrongChain, err)
	case errors.Is(err, chain.ErrBadSignature), errors.Is(err, chain.ErrWrongSigner):
		return hash, fmt.Errorf("%w: %v", rpc.ErrInvalidSignature, err)
	case errors.Is(err, staking.ErrBadNonce), errors.Is(err, errNonceTaken):
		return hash, fmt.Errorf("%w: %v", rpc.ErrBadNonce, err)
	case errors.Is(err, staking.ErrInsufficientBalance):
		return hash, fmt.Errorf("%w: %v", rpc.ErrInsufficientBalance, err)
	case errors.Is(err, errPoolFull), errors.Is(err, errSenderFull):
		return hash, fmt.Errorf("%w: %v", rpc.ErrMempoolFull, err)
	}
	return hash, fmt.Errorf("%w: %v", rpc.ErrInvalidTx, err)
}

// RoundState implements rpc.Backend.
func (b *backend) RoundState(context.Context) (rpc.RoundStateResult, error) {
	s, err := b.snap()
	if err != nil {
		return rpc.RoundStateResult{}, err
	}
	rs := s.Round
	r := rpc.RoundStateResult{Height: rs.Height, Round: rs.Round, Step: rs.Step.String(), Proposer: rs.Proposer,
		LockedRound: rs.LockedRound, ValidRound: rs.ValidRound,
		Votes: rpc.RoundVotesResult{Prevote: tallyResult(rs.Prevotes), Precommit: tallyResult(rs.Precommits)}}
	if rs.LockedRound >= 0 {
		h := rs.LockedBlock
		r.LockedBlock = &h
	}
	if rs.ValidRound >= 0 {
		h := rs.ValidBlock
		r.ValidBlock = &h
	}
	return r, nil
}

func hashOrNil(h chain.Hash) *chain.Hash {
	if h == (chain.Hash{}) {
		return nil
	}
	return &h
}

func tallyResult(t consensus.VoteTally) rpc.VoteTallyResult {
	r := rpc.VoteTallyResult{VotedStake: rpc.Amount(t.VotedStake), TotalStake: rpc.Amount(t.TotalStake), Quorum: t.Quorum,
		Blocks: make([]rpc.BlockStakeResult, len(t.Blocks))}
	if t.Quorum {
		r.QuorumBlock = hashOrNil(t.QuorumBlock)
	}
	for i, bs := range t.Blocks {
		r.Blocks[i] = rpc.BlockStakeResult{Block: hashOrNil(bs.Hash), Stake: rpc.Amount(bs.Stake)}
	}
	return r
}

// Duties implements rpc.Backend.
func (b *backend) Duties(_ context.Context, v chain.Address) ([]rpc.DutyResult, error) {
	if b.remote == nil || b.remote.Address() != v {
		return nil, fmt.Errorf("%w: this node has no remote signer for %s", rpc.ErrUnavailable, chain.FormatAddress(v))
	}
	ds := b.remote.Duties()
	out := make([]rpc.DutyResult, len(ds))
	for i, d := range ds {
		out[i] = dutyResult(v, d)
	}
	return out, nil
}

func dutyResult(v chain.Address, d validator.Duty) rpc.DutyResult {
	r := rpc.DutyResult{ID: d.ID, Validator: v, Kind: d.Kind.String(), Height: d.Height, Round: d.Round, Block: hashOrNil(d.Block), SignHash: d.SignHash}
	if d.Kind == validator.StepProposal {
		pol := d.POLRound
		r.POLRound = &pol
	}
	return r
}

// SubmitSigned implements rpc.Backend.
func (b *backend) SubmitSigned(_ context.Context, id uint64, sig chain.Signature) error {
	if b.remote == nil {
		return fmt.Errorf("%w: this node has no remote signer", rpc.ErrUnavailable)
	}
	err := b.remote.Submit(id, sig)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, validator.ErrUnknownDuty):
		return fmt.Errorf("%w: %v", rpc.ErrDutyNotFound, err)
	}
	return fmt.Errorf("%w: %v", rpc.ErrInvalidSignature, err)
}

// Peers implements rpc.Backend.
func (b *backend) Peers(context.Context) ([]rpc.PeerResult, error) {
	peers := b.sw.Peers()
	heights, known := b.net.heights.of(peers)
	out := make([]rpc.PeerResult, len(peers))
	for i, p := range peers {
		r := rpc.PeerResult{NodeID: p.ID.String(), Address: p.Addr, Direction: rpc.PeerInbound, Score: b.sw.PeerScore(p.ID)}
		if p.Outbound {
			r.Direction = rpc.PeerOutbound
		}
		if known[i] {
			h := heights[i]
			r.Height = &h
		}
		out[i] = r
	}
	return out, nil
}

// FinalizedEvents implements rpc.Backend. Replayed events carry the
// finalization time the store recorded (the block time for blocks that
// were committed without one).
func (b *backend) FinalizedEvents(_ context.Context, from, to uint64) ([]rpc.FinalizedEvent, error) {
	const maxBatch = 256
	to = min(to, from+maxBatch-1)
	out := make([]rpc.FinalizedEvent, 0, to-from+1)
	for h := from; h <= to; h++ {
		blk, err := b.store.Block(h)
		if err != nil {
			return nil, notFound(err)
		}
		cert, err := b.store.Certificate(h)
		if err != nil {
			return nil, notFound(err)
		}
		set, err := b.store.ValidatorSet(h)
		if err != nil {
			return nil, notFound(err)
		}
		at := time.UnixMilli(int64(blk.Header.Time))
		if ms, err := b.store.FinalizedAt(h); err == nil {
			at = time.UnixMilli(int64(ms))
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		out = append(out, finalizedEvent(blk, cert, engine.SignedStake(cert, set), set.TotalStake(), at))
	}
	return out, nil
}

// TxEvents implements rpc.Backend.
func (b *backend) TxEvents(_ context.Context, height uint64) ([]rpc.TxEvent, error) {
	blk, err := b.store.Block(height)
	if err != nil {
		return nil, notFound(err)
	}
	if len(blk.Txs) == 0 {
		return nil, nil
	}
	receipts := make([]chain.Receipt, len(blk.Txs))
	for i, tx := range blk.Txs {
		loc, err := b.store.Tx(tx.Hash())
		if err != nil {
			return nil, notFound(err)
		}
		receipts[i] = loc.Receipt
	}
	return txEvents(blk, receipts), nil
}
