package chain

import (
	"errors"
	"fmt"

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
	CodeFeeTooLow           = "fee_too_low"
	CodeNothingToClaim      = "nothing_to_claim"
	CodeRejected            = "rejected"
)

// ErrInvalidEvidence means a block carries evidence that does not prove a
// punishable double sign; the block is invalid.
var ErrInvalidEvidence = errors.New("invalid evidence")

// ErrInvalidTx means a block carries a transaction that cannot be charged
// its fee: malformed fields, wrong chain, bad signature, a nonce other than
// the sender's next, a fee below min_fee or above the balance. The block is
// invalid; proposers leave such transactions out (see BuildWith).
var ErrInvalidTx = errors.New("invalid transaction in block")

// InvalidTxError says which transaction made a block invalid and why. It
// matches ErrInvalidTx and the cause with errors.Is.
type InvalidTxError struct {
	Index int
	Hash  Hash
	Err   error
}

func (e *InvalidTxError) Error() string {
	return fmt.Sprintf("%v: tx %d (%s): %v", ErrInvalidTx, e.Index, FormatHash(e.Hash), e.Err)
}

// Unwrap returns ErrInvalidTx and the cause.
func (e *InvalidTxError) Unwrap() []error { return []error{ErrInvalidTx, e.Err} }

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
	case errors.Is(err, staking.ErrFeeTooLow):
		return CodeFeeTooLow
	case errors.Is(err, staking.ErrNothingToClaim):
		return CodeNothingToClaim
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
	// Fees is the sum of the fees the block's transactions paid.
	Fees uint64
	// Rewards is what the block's reward step issued and shared out.
	Rewards staking.Distribution
	// Jailed lists validators the block jailed for downtime.
	Jailed []staking.Jailing
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
// transaction in order, then the rewards (block_reward and the fees, to
// the validators whose precommits the last certificate carries, see
// staking.State.Distribute), then liveness (a validator whose precommit
// is missing from too many recent certificates is jailed, see
// staking.State.RecordLiveness), then the end of the block (unbonding
// releases and validator selection).
//
// Every transaction must be chargeable (see ErrInvalidTx); otherwise the
// block is invalid and Execute returns an *InvalidTxError. A chargeable
// transaction pays its fee and uses its nonce first; if its operation then
// fails, the operation changes nothing and the receipt is rejected with
// the reason. senders must come from RecoverSenders(blk.Txs). Execution is
// deterministic.
func Execute(st *staking.State, chainID string, blk *Block, senders *Senders, sets EvidenceSets) (*ExecResult, error) {
	return ExecuteWith(st, chainID, blk, senders, sets, nil)
}

// ExecuteWith is Execute verifying evidence signatures through rec (a
// cache of verified signatures; Recover if nil): a double sign the node
// already verified when it arrived costs no recovery again.
func ExecuteWith(st *staking.State, chainID string, blk *Block, senders *Senders, sets EvidenceSets, rec Recoverer) (*ExecResult, error) {
	return execute(st, chainID, blk, senders, sets, rec, false)
}

// BuildWith is ExecuteWith for the proposer of blk: instead of failing on
// a transaction that cannot be charged, it removes the transaction from
// blk.Txs and its entries from senders, so that the block it leaves is
// valid. It fails only as ExecuteWith does for the evidence or the end of
// the block.
func BuildWith(st *staking.State, chainID string, blk *Block, senders *Senders, sets EvidenceSets, rec Recoverer) (*ExecResult, error) {
	return execute(st, chainID, blk, senders, sets, rec, true)
}

func execute(st *staking.State, chainID string, blk *Block, senders *Senders, sets EvidenceSets, rec Recoverer, build bool) (*ExecResult, error) {
	h := blk.Header.Height
	if h != st.Height()+1 {
		return nil, fmt.Errorf("block h=%d: %w: state is at height %d", h, staking.ErrBadHeight, st.Height())
	}
	res := &ExecResult{Receipts: make([]Receipt, 0, len(blk.Txs))}
	for i, ev := range blk.Evidence {
		slash, err := applyEvidence(st, chainID, h, ev, sets, rec)
		if err != nil {
			return nil, fmt.Errorf("block h=%d evidence %d: %w", h, i, err)
		}
		res.Slashed = append(res.Slashed, slash)
	}
	kept := 0
	for i, tx := range blk.Txs {
		from := senders.From[i]
		if err := chargeTx(st, chainID, tx, from, senders.Errs[i]); err != nil {
			if build {
				continue
			}
			return nil, fmt.Errorf("block h=%d: %w", h, &InvalidTxError{Index: i, Hash: senders.Hashes[i], Err: err})
		}
		res.Fees += tx.Fee // each fee came out of a balance: the sum is within the supply
		r := Receipt{TxHash: senders.Hashes[i], From: from, Fee: tx.Fee, Status: TxAccepted}
		if err := applyOp(st, h, tx, from); err != nil {
			r.Status, r.Code, r.Error = TxRejected, RejectionCode(err), err.Error()
		}
		res.Receipts = append(res.Receipts, r)
		if build {
			blk.Txs[kept] = tx
			senders.Hashes[kept], senders.From[kept], senders.Errs[kept] = senders.Hashes[i], from, nil
		}
		kept++
	}
	if build {
		clear(blk.Txs[kept:])
		blk.Txs = blk.Txs[:kept]
		senders.Hashes, senders.From, senders.Errs = senders.Hashes[:kept], senders.From[:kept], senders.Errs[:kept]
	}
	signers, members, total, err := certified(blk, sets)
	if err != nil {
		return nil, fmt.Errorf("block h=%d: %w", h, err)
	}
	signed := make(map[Address]bool, len(signers))
	for _, sg := range signers {
		signed[sg.Validator] = true
	}
	if res.Rewards, err = st.Distribute(h, blk.Header.Proposer, res.Fees, signers, total); err != nil {
		return nil, fmt.Errorf("block h=%d: rewards: %w", h, err)
	}
	if res.Jailed, err = st.RecordLiveness(h, members, func(a Address) bool { return signed[a] }); err != nil {
		return nil, fmt.Errorf("block h=%d: liveness: %w", h, err)
	}
	next, err := st.EndBlock(h)
	if err != nil {
		return nil, fmt.Errorf("block h=%d: end block: %w", h, err)
	}
	res.NextValidators = next
	res.StateHash = st.HashWith(func(tasks []func()) { parallelFor(len(tasks), func(i int) { tasks[i]() }) })
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

// memberLister is a StakeSet that lists its members, as
// *staking.ValidatorSet does; downtime tracking needs every member.
type memberLister interface {
	Validators() []staking.Validator
}

// certified returns the validators whose precommits blk's last
// certificate carries, with their stakes in the set of the certified
// height, every member of that set, and its total stake. A block with no
// last certificate (the first) certifies nothing.
func certified(blk *Block, sets EvidenceSets) (signers []staking.Signer, members []Address, total uint64, err error) {
	c := blk.LastCertificate
	if c == nil {
		return nil, nil, 0, nil
	}
	set, err := sets(c.Height)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("validator set of the last certificate h=%d: %w", c.Height, err)
	}
	list, ok := set.(memberLister)
	if !ok {
		return nil, nil, 0, fmt.Errorf("validator set of h=%d (%T) cannot list its members", c.Height, set)
	}
	for _, v := range list.Validators() {
		members = append(members, v.Address)
	}
	signers = make([]staking.Signer, len(c.Precommits))
	for i := range c.Precommits {
		v := c.Precommits[i].Validator
		stake, ok := set.StakeOf(v)
		if !ok {
			return nil, nil, 0, fmt.Errorf("last certificate: %w: %s", ErrUnknownValidator, FormatAddress(v))
		}
		signers[i] = staking.Signer{Validator: v, Stake: stake}
	}
	return signers, members, set.TotalStake(), nil
}

// chargeTx checks everything that makes tx chargeable and charges its fee
// and nonce. An error means the transaction may not be in a block.
func chargeTx(st *staking.State, chainID string, tx *Tx, from Address, sigErr error) error {
	if err := tx.ValidateBasic(chainID); err != nil {
		return err
	}
	if sigErr != nil {
		return sigErr
	}
	return st.ChargeFee(from, tx.Nonce, tx.Fee)
}

// applyOp runs a charged transaction's operation. Every staking operation
// checks before it writes, so an error leaves the state as it was.
func applyOp(st *staking.State, height uint64, tx *Tx, from Address) error {
	switch tx.Kind {
	case TxTransfer:
		return st.Transfer(from, tx.To, tx.Amount)
	case TxStake:
		return st.Stake(from, tx.To, tx.Amount)
	case TxUnstake:
		return st.Unstake(from, tx.To, tx.Amount, height)
	case TxUnjail:
		return st.Unjail(from, height)
	case TxClaim:
		_, err := st.Claim(from, tx.To)
		return err
	case TxSetCommission:
		return st.SetCommission(from, tx.Amount)
	}
	return fmt.Errorf("%w: %d", ErrUnknownKind, tx.Kind) // ValidateBasic rejected it already
}
