package staking

import "errors"

// Sentinel errors. Operations wrap them with details; match with errors.Is.
// Their messages are short and lowercase because transaction receipts quote
// them.
var (
	// ErrInsufficientBalance: the account's balance is below the amount.
	ErrInsufficientBalance = errors.New("insufficient balance")
	// ErrBadNonce: the transaction nonce is not the account's next nonce.
	ErrBadNonce = errors.New("bad nonce")
	// ErrUnknownValidator: the address is not a validator candidate.
	ErrUnknownValidator = errors.New("unknown validator")
	// ErrBelowMinStake: a self-registration or an unjail with less than
	// Params.MinStake.
	ErrBelowMinStake = errors.New("stake below minimum")
	// ErrJailed: bonding to a jailed candidate (other than by itself).
	ErrJailed = errors.New("validator is jailed")
	// ErrNotJailed: unjailing a candidate that is not jailed.
	ErrNotJailed = errors.New("validator is not jailed")
	// ErrJailTimeNotOver: unjailing before Candidate.JailedUntil.
	ErrJailTimeNotOver = errors.New("jail time not over")
	// ErrAlreadySlashed: evidence of a double sign that was already punished.
	ErrAlreadySlashed = errors.New("double sign already punished")
	// ErrInsufficientBond: unstaking more than is bonded.
	ErrInsufficientBond = errors.New("insufficient bond")
	// ErrOverflow: a result would exceed MaxSupply (or a height or nonce
	// would exceed 2^64-1).
	ErrOverflow = errors.New("amount overflow")
	// ErrZeroAmount: a transfer, stake or unstake of 0.
	ErrZeroAmount = errors.New("zero amount")
	// ErrBadHeight: an operation for a height other than Height()+1.
	ErrBadHeight = errors.New("unexpected height")
	// ErrNoValidators: a selection would leave the validator set empty.
	ErrNoValidators = errors.New("no eligible validators")
	// ErrInvalidFraction: a fraction outside [0,1] or with a zero
	// denominator, or text that is not a fraction.
	ErrInvalidFraction = errors.New("invalid fraction")
	// ErrInvalidParams: Params.Validate failed.
	ErrInvalidParams = errors.New("invalid params")
	// ErrInvalidValidatorSet: NewValidatorSet input is empty, has a
	// duplicate address, a zero stake, a total above MaxSupply or a priority
	// out of range.
	ErrInvalidValidatorSet = errors.New("invalid validator set")
	// ErrInvalidGenesis: duplicate genesis accounts or validators.
	ErrInvalidGenesis = errors.New("invalid genesis")
	// ErrFeeTooLow: a transaction fee below Params.MinFee.
	ErrFeeTooLow = errors.New("fee below minimum")
	// ErrNothingToClaim: a claim with no pending rewards.
	ErrNothingToClaim = errors.New("no rewards to claim")
	// ErrMalformedState: LoadState input that no sequence of operations can
	// produce (bad key, non-canonical value, broken invariant).
	ErrMalformedState = errors.New("malformed state")
)
