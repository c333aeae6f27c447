package chain

import (
	"errors"
	"fmt"
	"math"

	"github.com/quorumchain/quorumchain/staking"
)

// Stable rejection codes of receipts. They are part of the RPC contract
// (chain_getTx error) and never change meaning.
const (
	CodeBadSignature        = "bad_signature"
	CodeWrongChain          = "wrong_chain"
	CodeInvalidTx           = "invalid_tx"
	CodeBadNonce            = "bad_nonce"
	CodeInsufficientBalance = "insufficient_balance"
	CodeBelowMinStake       = "below_min_stake"
	CodeUnknownValidator    = "unknown_validator"
	CodeJailed              = "jailed"
	CodeNotJailed           = "not_jailed"
	CodeJailTimeNotOver     = "jail_time_not_over"
	CodeInsufficientBond    = "insufficient_bond"
	CodeOverflow            = "overflow"
	CodeRejected            = "rejected"
)

// ErrInvalidEvidence means a block carries evidence that does not prove a
// punishable double sign; the block is invalid.
var ErrInvalidEvidence = errors.New("invalid evidence")

// RejectionCode maps a transaction error to its stable receipt code.
func RejectionCode(err error) string {
	switch {
	case errors.Is(err, ErrBadSignature), errors.Is(err, ErrWrongSigner):
		return CodeBadSignature
	case errors.Is(err, ErrWrongChain):
		return CodeWrongChain
	case errors.Is(err, ErrInvalidFields), errors.Is(err, ErrUnknownKind), errors.Is(err, staking.ErrZeroAmount):
		return CodeInvalidTx
	case errors.Is(err, staking.ErrBadNonce):
		return CodeBadNonce
	case errors.Is(err, staking.ErrInsufficientBalance):
		return CodeInsufficientBalance
	case errors.Is(err, staking.ErrBelowMinStake):
		return CodeBelowMinStake
	case errors.Is(err, staking.ErrUnknownValidator):
		return CodeUnknownValidator
	case errors.Is(err, staking.ErrJailed):
		return CodeJailed
	case errors.Is(err, staking.ErrNotJailed):
		return CodeNotJailed
	case errors.Is(err, staking.ErrJailTimeNotOver):
		return CodeJailTimeNotOver
	case errors.Is(err, staking.ErrInsufficientBond):
		return CodeInsufficientBond
	case errors.Is(err, staking.ErrOverflow):
		return CodeOverflow
	}
	return CodeRejected
}

// SenderCache supplies senders already recovered and checked (by the
// mempool) so that block execution does not recover them again. Lookup
// must only return senders recovered from exactly the transaction with
// that hash.
type SenderCache interface {
	Sender(txHash Hash) (Address, bool)
}

// BatchSenderCache is a SenderCache that can look many hashes up at once
// (under one lock, say). RecoverSenders uses it when the cache offers it.
type BatchSenderCache interface {
	SenderCache
	// Senders sets from[i], ok[i] for every hashes[i].
	Senders(hashes []Hash, from []Address, ok []bool)
}

// Senders is the result of recovering the senders of a block's transactions.
type Senders struct {
	Hashes []Hash    // tx hashes, in block order
	From   []Address // recovered senders
	Errs   []error   // recovery errors (nil where From is valid)
}

// RecoverSenders hashes every transaction and recovers its sender, in
// parallel across cores, consulting cache (may be nil) first.
func RecoverSenders(txs []*Tx, cache SenderCache) *Senders {
	s := &Senders{Hashes: make([]Hash, len(txs)), From: make([]Address, len(txs)), Errs: make([]error, len(txs))}
	parallelFor(len(txs), func(i int) { s.Hashes[i] = txs[i].Hash() })
	known := make([]bool, len(txs))
	switch c := cache.(type) {
	case nil:
	case BatchSenderCache:
		c.Senders(s.Hashes, s.From, known)
	default:
		for i, h := range s.Hashes {
			s.From[i], known[i] = c.Sender(h)
		}
	}
	parallelFor(len(txs), func(i int) {
		if !known[i] {
			s.From[i], s.Errs[i] = txs[i].Sender()
		}
	})
	return s
}

// ExecResult is the outcome of executing a block.
type ExecResult struct {
	Receipts []Receipt
	// Slashed lists validators punished by the block's evidence, in order.
	Slashed []SlashRecord
	// NextValidators is the validator set of the block's height+1.
	NextValidators *staking.ValidatorSet
	// StateHash is the ledger state hash after the block.
	StateHash Hash
}

// SlashRecord tells what one piece of evidence did.
type SlashRecord struct {
	Validator Address
	Height    uint64 // height of the double sign
	Burned    uint64
}

// EvidenceSets returns the validator set of a past height, for verifying
// evidence from that height.
type EvidenceSets func(height uint64) (StakeSet, error)

// Execute applies blk to st, which the caller owns (normally a Fork of the
// committed state): first the evidence (each must verify against the
// validator set of its height, be no older than the unbonding period, and
// not punish the same double sign twice — otherwise the block is invalid
// and Execute returns an error wrapping ErrInvalidEvidence), then every
// transaction in order, then the end of the block (unbonding releases and
// validator selection). A rejected transaction changes nothing and gets a
// receipt with its reason. senders must come from RecoverSenders(blk.Txs).
// Execution is deterministic.
func Execute(st *staking.State, chainID string, blk *Block, senders *Senders, sets EvidenceSets) (*ExecResult, error) {
	return ExecuteWith(st, chainID, blk, senders, sets, nil)
}

// ExecuteWith is Execute verifying evidence signatures through rec (a
// cache of verified signatures; Recover if nil): a double sign the node
// already verified when it arrived costs no recovery again.
func ExecuteWith(st *staking.State, chainID string, blk *Block, senders *Senders, sets EvidenceSets, rec Recoverer) (*ExecResult, error) {
	h := blk.Header.Height
	if h != st.Height()+1 {
		return nil, fmt.Errorf("block h=%d: %w: state is at height %d", h, staking.ErrBadHeight, st.Height())
	}
	res := &ExecResult{Receipts: make([]Receipt, len(blk.Txs))}
	for i, ev := range blk.Evidence {
		slash, err := applyEvidence(st, chainID, h, ev, sets, rec)
		if err != nil {
			return nil, fmt.Errorf("block h=%d evidence %d: %w", h, i, err)
		}
		res.Slashed = append(res.Slashed, slash)
	}
	for i, tx := range blk.Txs {
		r := &res.Receipts[i]
		r.TxHash = senders.Hashes[i]
		if senders.Errs[i] == nil {
			r.From = senders.From[i]
		}
		if err := applyTx(st, chainID, h, tx, senders.From[i], senders.Errs[i]); err != nil {
			r.Status, r.Code, r.Error = TxRejected, RejectionCode(err), err.Error()
			continue
		}
		r.Status = TxAccepted
	}
	next, err := st.EndBlock(h)
	if err != nil {
		return nil, fmt.Errorf("block h=%d: end block: %w", h, err)
	}
	res.NextValidators = next
	res.StateHash = st.Hash()
	return res, nil
}

func applyEvidence(st *staking.State, chainID string, height uint64, ev *Evidence, sets EvidenceSets, rec Recoverer) (SlashRecord, error) {
	eh := ev.Height()
	if eh >= height {
		return SlashRecord{}, fmt.Errorf("%w: double sign at h=%d is not before the block", ErrInvalidEvidence, eh)
	}
	if maxAge := st.Params().UnbondingBlocks; height-eh > maxAge {
		return SlashRecord{}, fmt.Errorf("%w: double sign at h=%d is older than %d blocks", ErrInvalidEvidence, eh, maxAge)
	}
	set, err := sets(eh)
	if err != nil {
		return SlashRecord{}, fmt.Errorf("%w: validator set of h=%d: %v", ErrInvalidEvidence, eh, err)
	}
	if err := ev.VerifyWith(chainID, set, rec); err != nil {
		return SlashRecord{}, fmt.Errorf("%w: %v", ErrInvalidEvidence, err)
	}
	v := ev.Validator()
	burned, err := st.SlashDoubleSign(v, eh, height)
	if err != nil {
		return SlashRecord{}, fmt.Errorf("%w: %v", ErrInvalidEvidence, err)
	}
	return SlashRecord{Validator: v, Height: eh, Burned: burned}, nil
}

func applyTx(st *staking.State, chainID string, height uint64, tx *Tx, from Address, sigErr error) error {
	if err := tx.ValidateBasic(chainID); err != nil {
		return err
	}
	if sigErr != nil {
		return sigErr
	}
	if acct := st.Account(from); acct.Nonce != tx.Nonce {
		return fmt.Errorf("%w: got %d, want %d", staking.ErrBadNonce, tx.Nonce, acct.Nonce)
	}
	if tx.Nonce == math.MaxUint64 {
		// UseNonce would fail after the operation; refuse before it, so a
		// rejected transaction changes nothing.
		return fmt.Errorf("%w: nonce %d cannot be incremented", staking.ErrOverflow, tx.Nonce)
	}
	var err error
	switch tx.Kind {
	case TxTransfer:
		err = st.Transfer(from, tx.To, tx.Amount)
	case TxStake:
		err = st.Stake(from, tx.To, tx.Amount)
	case TxUnstake:
		err = st.Unstake(from, tx.To, tx.Amount, height)
	case TxUnjail:
		err = st.Unjail(from, height)
	default:
		err = fmt.Errorf("%w: %d", ErrUnknownKind, tx.Kind)
	}
	if err != nil {
		return err
	}
	return st.UseNonce(from, tx.Nonce)
}
