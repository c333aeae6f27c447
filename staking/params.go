package staking

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// Fraction is an exact rational number in [0,1], such as the slash fraction
// 5/100. The zero value (0/0) is invalid. Fractions compare equal by value
// only after reduction; ParseFraction always returns lowest terms.
type Fraction struct{ Num, Den uint64 }

// maxFractionDigits is the number of decimal places ParseFraction accepts:
// 10^18 fits in a uint64 denominator.
const maxFractionDigits = 18

// ParseFraction parses "0.05" (at most 18 decimal places) or "1/20" into a
// reduced Fraction. It rejects values above 1, signs, spaces, exponents, a
// zero denominator and anything else with ErrInvalidFraction.
func ParseFraction(s string) (Fraction, error) {
	bad := func(why string) (Fraction, error) {
		return Fraction{}, fmt.Errorf("%w: %q: %s", ErrInvalidFraction, s, why)
	}
	var f Fraction
	if num, den, ok := strings.Cut(s, "/"); ok {
		n, err := parseDigits(num)
		if err != nil {
			return bad("numerator: " + err.Error())
		}
		d, err := parseDigits(den)
		if err != nil {
			return bad("denominator: " + err.Error())
		}
		f = Fraction{n, d}
	} else {
		whole, frac, hasPoint := strings.Cut(s, ".")
		w, err := parseDigits(whole)
		if err != nil {
			return bad(err.Error())
		}
		if hasPoint && (frac == "" || len(frac) > maxFractionDigits) {
			return bad("want 1 to 18 decimal places")
		}
		var fv uint64
		if hasPoint {
			if fv, err = parseDigits(frac); err != nil {
				return bad(err.Error())
			}
		}
		if w > 1 {
			return bad("greater than 1")
		}
		den := pow10(len(frac))
		f = Fraction{w*den + fv, den} // w <= 1 and fv < den: no overflow
	}
	if err := f.validate(); err != nil {
		return bad(err.Error())
	}
	return f.reduce(), nil
}

// parseDigits parses a non-empty string of ASCII digits as a uint64.
func parseDigits(s string) (uint64, error) {
	if s == "" {
		return 0, fmt.Errorf("empty number")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("not a decimal digit %q", s[i])
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("out of range")
	}
	return v, nil
}

func pow10(n int) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func (f Fraction) validate() error {
	if f.Den == 0 {
		return fmt.Errorf("zero denominator")
	}
	if f.Num > f.Den {
		return fmt.Errorf("greater than 1")
	}
	return nil
}

// reduce returns f in lowest terms (0 is 0/1). f must be valid.
func (f Fraction) reduce() Fraction {
	if f.Num == 0 {
		return Fraction{0, 1}
	}
	g := gcd(f.Num, f.Den)
	return Fraction{f.Num / g, f.Den / g}
}

// Validate reports whether f is a fraction in [0,1] with a non-zero
// denominator.
func (f Fraction) Validate() error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("%w: %d/%d: %v", ErrInvalidFraction, f.Num, f.Den, err)
	}
	return nil
}

// Equal reports whether f and g are the same rational number.
func (f Fraction) Equal(g Fraction) bool {
	h1, l1 := bits.Mul64(f.Num, g.Den)
	h2, l2 := bits.Mul64(g.Num, f.Den)
	return h1 == h2 && l1 == l2 && (f.Den == 0) == (g.Den == 0)
}

// String formats f in decimal when that is exact in at most 18 places
// ("0.05", "1", "0"), and as "num/den" otherwise ("1/3").
func (f Fraction) String() string {
	if f.Den == 0 {
		return fmt.Sprintf("%d/0", f.Num)
	}
	r := f
	if g := gcd(f.Num, f.Den); g > 1 {
		r = Fraction{f.Num / g, f.Den / g}
	}
	// The decimal expansion terminates iff the reduced denominator is 2^a*5^b.
	d, twos, fives := r.Den, 0, 0
	for d%2 == 0 {
		d, twos = d/2, twos+1
	}
	for d%5 == 0 {
		d, fives = d/5, fives+1
	}
	places := max(twos, fives)
	if d != 1 || places > maxFractionDigits {
		return fmt.Sprintf("%d/%d", r.Num, r.Den)
	}
	whole, rem := r.Num/r.Den, r.Num%r.Den
	if rem == 0 {
		return strconv.FormatUint(whole, 10)
	}
	// rem*10^places/Den is exact; 128-bit product since rem < Den <= 2^64.
	hi, lo := bits.Mul64(rem, pow10(places))
	digits, _ := bits.Div64(hi, lo, r.Den)
	s := strconv.FormatUint(digits, 10)
	return strconv.FormatUint(whole, 10) + "." + strings.Repeat("0", places-len(s)) + s
}

// MulFloor returns floor(x*Num/Den), computed exactly with a 128-bit
// product. The result never exceeds x. It fails only for an invalid f.
func (f Fraction) MulFloor(x uint64) (uint64, error) {
	if err := f.Validate(); err != nil {
		return 0, err
	}
	hi, lo := bits.Mul64(x, f.Num)
	q, _ := bits.Div64(hi, lo, f.Den) // hi < Den because Num <= Den
	return q, nil
}

// MarshalText encodes f as String does, so JSON carries "0.05".
func (f Fraction) MarshalText() ([]byte, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return []byte(f.String()), nil
}

// UnmarshalText parses text with ParseFraction.
func (f *Fraction) UnmarshalText(text []byte) error {
	v, err := ParseFraction(string(text))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// Params are the staking rules fixed at genesis.
type Params struct {
	// UnbondingBlocks is how many blocks unstaked coins wait in the
	// unbonding queue (slashable) before they return to the balance.
	UnbondingBlocks uint64 `json:"unbonding_blocks"`
	// MinStake is the least total bond of a validator in the set, and of a
	// self-registration.
	MinStake uint64 `json:"min_stake,string"`
	// MaxValidators caps the size of the validator set.
	MaxValidators uint32 `json:"max_validators"`
	// SlashFractionDoubleSign is burned from every bond and unbonding entry
	// of a validator that double-signed.
	SlashFractionDoubleSign Fraction `json:"slash_fraction_double_sign"`
	// JailBlocks is how long a slashed validator stays jailed.
	JailBlocks uint64 `json:"jail_blocks"`
	// MinFee is the least fee a transaction may carry. A block with a
	// transaction below it is invalid; the mempool refuses one.
	MinFee uint64 `json:"min_fee,string"`
	// BlockReward is minted by every block and shared, with the block's
	// fees, among the validators whose precommits its last certificate
	// carries.
	BlockReward uint64 `json:"block_reward,string"`
	// ProposerBonus is the most of a block's rewards its proposer gets on
	// top, when its last certificate carries every validator's precommit;
	// it scales down to none at exactly the quorum.
	ProposerBonus Fraction `json:"proposer_bonus"`
	// DowntimeWindow is how many of a validator's most recent certificates
	// (those of heights where it was in the set) its liveness is judged on.
	DowntimeWindow uint64 `json:"downtime_window"`
	// DowntimeMaxMissed is how many of them may lack its precommit: one
	// more, and it is jailed for JailBlocks and slashed.
	DowntimeMaxMissed uint64 `json:"downtime_max_missed"`
	// SlashFractionDowntime is burned from the bonds and unbonding entries
	// of a validator jailed for downtime; it may be 0.
	SlashFractionDowntime Fraction `json:"slash_fraction_downtime"`
}

// maxDowntimeWindow bounds the window, so that a validator's liveness
// record (one bit per certificate) stays small.
const maxDowntimeWindow = 1 << 14

// DefaultParams returns unbonding 20 blocks, min stake 1, at most 100
// validators, slash fraction 0.05, 20 blocks of jail, no minimum fee
// (testnets set one; see testnet.DefaultMinFee), no block reward, a
// proposer bonus of at most 0.04, and jailing with a slash of 0.0001 for
// missing more than 50 of the last 100 certificates (Cosmos's defaults).
func DefaultParams() Params {
	return Params{
		UnbondingBlocks:         20,
		MinStake:                1,
		MaxValidators:           100,
		SlashFractionDoubleSign: Fraction{1, 20},
		JailBlocks:              20,
		ProposerBonus:           Fraction{1, 25},
		DowntimeWindow:          100,
		DowntimeMaxMissed:       50,
		SlashFractionDowntime:   Fraction{1, 10_000},
	}
}

// Validate checks that p can run a chain: at least one block of unbonding,
// a min stake in [1, MaxSupply], at least one validator and a valid slash
// fraction. Errors wrap ErrInvalidParams.
func (p Params) Validate() error {
	switch {
	case p.UnbondingBlocks == 0:
		return fmt.Errorf("%w: unbonding_blocks must be at least 1", ErrInvalidParams)
	case p.MinStake == 0 || p.MinStake > MaxSupply:
		return fmt.Errorf("%w: min_stake %d not in [1, %d]", ErrInvalidParams, p.MinStake, MaxSupply)
	case p.MaxValidators == 0:
		return fmt.Errorf("%w: max_validators must be at least 1", ErrInvalidParams)
	case p.MinFee > MaxSupply:
		return fmt.Errorf("%w: min_fee %d above the maximum supply %d", ErrInvalidParams, p.MinFee, MaxSupply)
	case p.BlockReward > MaxSupply:
		return fmt.Errorf("%w: block_reward %d above the maximum supply %d", ErrInvalidParams, p.BlockReward, MaxSupply)
	case p.DowntimeWindow == 0 || p.DowntimeWindow > maxDowntimeWindow:
		return fmt.Errorf("%w: downtime_window %d not in [1, %d]", ErrInvalidParams, p.DowntimeWindow, maxDowntimeWindow)
	case p.DowntimeMaxMissed >= p.DowntimeWindow:
		return fmt.Errorf("%w: downtime_max_missed %d must be below downtime_window %d", ErrInvalidParams, p.DowntimeMaxMissed, p.DowntimeWindow)
	}
	if err := p.SlashFractionDoubleSign.Validate(); err != nil {
		return fmt.Errorf("%w: slash_fraction_double_sign: %w", ErrInvalidParams, err)
	}
	if err := p.ProposerBonus.Validate(); err != nil {
		return fmt.Errorf("%w: proposer_bonus: %w", ErrInvalidParams, err)
	}
	if err := p.SlashFractionDowntime.Validate(); err != nil {
		return fmt.Errorf("%w: slash_fraction_downtime: %w", ErrInvalidParams, err)
	}
	return nil
}

// canonical returns p with its fraction reduced, the form the State stores
// and hashes, so "0.05" and "5/100" give the same chain.
func (p Params) canonical() Params {
	p.SlashFractionDoubleSign = p.SlashFractionDoubleSign.reduce()
	p.ProposerBonus = p.ProposerBonus.reduce()
	p.SlashFractionDowntime = p.SlashFractionDowntime.reduce()
	return p
}
