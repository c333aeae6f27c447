package genesis

import (
	"fmt"
	"math/bits"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

// MaxNameLength bounds a validator's name.
const MaxNameLength = 64

// Validate checks every rule of a genesis document (see the package
// comment). A nil error means InitialState can build the state. Errors are
// *FieldError.
func (d *Doc) Validate() error {
	if err := d.ValidateDraft(); err != nil {
		return err
	}
	if len(d.Validators) == 0 {
		return fieldErr("validators", ErrNoValidators)
	}
	return nil
}

// ValidateDraft checks every rule of Validate except that there is at least
// one validator: the state of a document being built.
func (d *Doc) ValidateDraft() error {
	if err := ValidateChainID(d.ChainID); err != nil {
		return fieldErr("chain_id", err)
	}
	if err := checkTime(d.GenesisTime); err != nil {
		return fieldErr("genesis_time", err)
	}
	if err := d.Params.Validate(); err != nil {
		return fieldErr("params", err) // wraps staking.ErrInvalidParams
	}
	if n, limit := len(d.Validators), d.Params.MaxValidators; uint64(n) > uint64(limit) {
		return fieldErr("validators", fmt.Errorf("%w: %d validators, params.max_validators is %d", ErrTooManyValidators, n, limit))
	}
	var supply supplySum
	seen := make(map[chain.Address]int, len(d.Accounts))
	for i, a := range d.Accounts {
		path := fmt.Sprintf("accounts[%d]", i)
		if j, dup := seen[a.Address]; dup {
			return fieldErr(path, fmt.Errorf("%w %s (also accounts[%d])", ErrDuplicateAddress, chain.FormatAddress(a.Address), j))
		}
		seen[a.Address] = i
		if a.Balance == 0 {
			return fieldErr(path, ErrZeroBalance)
		}
		supply.add(a.Balance)
	}
	clear(seen)
	names := make(map[string]int, len(d.Validators))
	for i, v := range d.Validators {
		path := fmt.Sprintf("validators[%d]", i)
		if v.Address == (chain.Address{}) {
			return fieldErr(path, fmt.Errorf("%w: zero address", ErrInvalidAddress))
		}
		if j, dup := seen[v.Address]; dup {
			return fieldErr(path, fmt.Errorf("%w %s (also validators[%d])", ErrDuplicateAddress, chain.FormatAddress(v.Address), j))
		}
		seen[v.Address] = i
		if v.Stake == 0 {
			return fieldErr(path, ErrZeroStake)
		}
		if v.Stake < d.Params.MinStake {
			return fieldErr(path, fmt.Errorf("%w: stake %d, params.min_stake %d", ErrStakeBelowMin, v.Stake, d.Params.MinStake))
		}
		if v.Name != "" {
			if err := checkName(v.Name); err != nil {
				return fieldErr(path+".name", err)
			}
			if j, dup := names[v.Name]; dup {
				return fieldErr(path+".name", fmt.Errorf("%w %q (also validators[%d])", ErrDuplicateName, v.Name, j))
			}
			names[v.Name] = i
		}
		supply.add(v.Stake)
	}
	if supply.overflow || supply.total > staking.MaxSupply {
		total := FormatAmount(supply.total)
		if supply.overflow {
			total = "more than 2^64-1"
		}
		return fieldErr("", fmt.Errorf("%w: balances and stakes total %s, the maximum is %d", ErrSupplyExceeded, total, uint64(staking.MaxSupply)))
	}
	return nil
}

// supplySum adds amounts, remembering an overflow of uint64.
type supplySum struct {
	total    uint64
	overflow bool
}

func (s *supplySum) add(v uint64) {
	sum, carry := bits.Add64(s.total, v, 0)
	s.total = sum
	s.overflow = s.overflow || carry != 0
}

// ValidateChainID checks a chain id: 1 to chain.MaxChainIDLength bytes from
// [a-z0-9-_.].
func ValidateChainID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty", ErrInvalidChainID)
	}
	if len(id) > chain.MaxChainIDLength {
		return fmt.Errorf("%w: %d bytes, the maximum is %d", ErrInvalidChainID, len(id), chain.MaxChainIDLength)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("%w %s: byte %d is %q, want [a-z0-9-_.]", ErrInvalidChainID, quote(id), i, c)
		}
	}
	return nil
}

func checkName(name string) error {
	if len(name) > MaxNameLength {
		return fmt.Errorf("%w: %d bytes, the maximum is %d", ErrInvalidName, len(name), MaxNameLength)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("%w %s: byte %d is %q, want [A-Za-z0-9-_.]", ErrInvalidName, quote(name), i, c)
		}
	}
	return nil
}

// ParseTime parses a genesis time: RFC 3339 in UTC ("Z"), a whole
// millisecond, between 1970 and 9999.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w %s: want RFC 3339 such as 2026-11-26T00:00:00Z", ErrInvalidTime, quote(s))
	}
	if s[len(s)-1] != 'Z' {
		return time.Time{}, fmt.Errorf("%w %s: not UTC (end it in Z)", ErrInvalidTime, quote(s))
	}
	t = t.UTC()
	if err := checkTime(t); err != nil {
		return time.Time{}, err
	}
	return t, nil
}

// FormatTime writes a genesis time as RFC 3339 in UTC.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// checkTime checks the bounds of a genesis time: block times are unix
// milliseconds, and RFC 3339 has four-digit years.
func checkTime(t time.Time) error {
	timeMin := time.Unix(0, 0)
	timeMax := time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC)
	switch {
	case t.IsZero():
		return fmt.Errorf("%w: missing", ErrInvalidTime)
	case t.Before(timeMin) || t.After(timeMax):
		return fmt.Errorf("%w %s: outside 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z", ErrInvalidTime, FormatTime(t))
	case !t.Truncate(time.Millisecond).Equal(t):
		return fmt.Errorf("%w %s: finer than a millisecond (block times are unix milliseconds)", ErrInvalidTime, FormatTime(t))
	}
	return nil
}
