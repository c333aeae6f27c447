package genesis

import "errors"

// Errors of parsing and validation. Each reaches the caller wrapped in a
// *FieldError that says which field (and file) it is about; match with
// errors.Is. Invalid params are reported with staking's error, which wraps
// staking.ErrInvalidParams.
var (
	ErrMalformed         = errors.New("malformed")
	ErrTooLarge          = errors.New("document too large")
	ErrUnknownField      = errors.New("unknown field")
	ErrMissingField      = errors.New("missing field")
	ErrDuplicateField    = errors.New("duplicate field")
	ErrInvalidChainID    = errors.New("invalid chain id")
	ErrInvalidTime       = errors.New("invalid time")
	ErrInvalidAddress    = errors.New("invalid address")
	ErrInvalidName       = errors.New("invalid name")
	ErrDuplicateAddress  = errors.New("duplicate address")
	ErrDuplicateName     = errors.New("duplicate name")
	ErrZeroBalance       = errors.New("zero balance")
	ErrZeroStake         = errors.New("zero stake")
	ErrStakeBelowMin     = errors.New("stake below params.min_stake")
	ErrNoValidators      = errors.New("no validators")
	ErrTooManyValidators = errors.New("more validators than params.max_validators")
	ErrSupplyExceeded    = errors.New("total supply exceeds staking.MaxSupply")
)

// FieldError is a parsing or validation error located in the document.
// Field is a path such as "validators[2]" or "params.min_stake", empty for
// the document as a whole; File is the file it was loaded from, if any.
type FieldError struct {
	File  string
	Field string
	Err   error
}

func (e *FieldError) Error() string {
	s := "genesis"
	if e.File != "" {
		s += " " + e.File
	}
	if e.Field != "" {
		s += ": " + e.Field
	}
	return s + ": " + e.Err.Error()
}

func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field string, err error) error { return &FieldError{Field: field, Err: err} }
