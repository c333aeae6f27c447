package genesis

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrInvalidAmount is wrapped by every error of ParseAmount.
var ErrInvalidAmount = errors.New("invalid amount")

// maxQuoted bounds how much of a rejected input an error message repeats.
const maxQuoted = 40

// ParseAmount parses a canonical decimal amount: one or more ASCII digits,
// no sign, spaces, exponent or leading zeros (except "0" itself), with a
// value that fits in a uint64. It is the one amount syntax of genesis files
// and command-line flags, so "100" means the same thing everywhere.
func ParseAmount(s string) (uint64, error) {
	if s == "" {
		return 0, fmt.Errorf("%w: empty", ErrInvalidAmount)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w %s: want a decimal integer (digits only, no sign or spaces)", ErrInvalidAmount, quote(s))
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("%w %s: leading zeros", ErrInvalidAmount, quote(s))
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w %s: exceeds %d", ErrInvalidAmount, quote(s), uint64(1<<64-1))
	}
	return v, nil
}

// FormatAmount writes an amount in the syntax ParseAmount accepts.
func FormatAmount(v uint64) string { return strconv.FormatUint(v, 10) }

// quote quotes s for an error message, shortened to maxQuoted bytes.
func quote(s string) string {
	if len(s) > maxQuoted {
		return strconv.Quote(s[:maxQuoted]) + "..."
	}
	return strconv.Quote(s)
}
