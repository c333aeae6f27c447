package staking

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/rlp"
)

// Entry key schema. A key is one kind byte followed by fixed-width fields
// (addresses are 20 bytes, heights 8 bytes big-endian), so every kind has
// one key length and no key is a prefix of another. Values are RLP.
//
//	"a" | account                          -> [balance, nonce]          (absent when both are 0)
//	"b" | delegator | validator            -> amount                    (bond, absent when 0)
//	"c" | validator                        -> [stake, jailed, jailedUntil, commission] (never deleted)
//	"g"                                    -> [carry, issued]           (reward pool; absent when both are 0)
//	"h"                                    -> last height ended by EndBlock
//	"i" | validator | delegator            -> 0x80                      (index of "b" by validator)
//	"m" | validator                        -> [recorded, missed, bitmap words...] (liveness window; absent when none recorded)
//	"p"                                    -> [unbondingBlocks, minStake, maxValidators, slashNum, slashDen, jailBlocks, minFee, blockReward, bonusNum, bonusDen,
//	                                           downtimeWindow, downtimeMaxMissed, downSlashNum, downSlashDen]
//	"q" | releaseHeight | delegator | validator -> 0x80                 (release queue index of "u")
//	"r" | validator                        -> [perShareHi, perShareLo, outstanding] (F1 record; absent when all 0)
//	"s"                                    -> total supply (balances + bonds + unbondings)
//	"u" | delegator | releaseHeight | validator -> amount               (unbonding entry, absent when 0)
//	"v" | 0x00                             -> [[address, stake, priority as uint64 two's complement], ...] set for Height()+1
//	"v" | 0x01                             -> [[address, stake], ...]   membership scheduled for Height()+2
//	"w" | delegator | validator            -> [startHi, startLo]        (F1 start of a bond; absent when 0)
//	"x" | validator | infractionHeight     -> 0x80                      (a double sign already punished)
const (
	kindAccount     byte = 'a'
	kindBond        byte = 'b'
	kindCandidate   byte = 'c'
	kindPool        byte = 'g'
	kindHeight      byte = 'h'
	kindBondIndex   byte = 'i'
	kindLiveness    byte = 'm'
	kindParams      byte = 'p'
	kindQueue       byte = 'q'
	kindRewards     byte = 'r'
	kindSupply      byte = 's'
	kindUnbonding   byte = 'u'
	kindValsets     byte = 'v'
	kindRewardStart byte = 'w'
	kindSlashed     byte = 'x'
)

const (
	addrLen      = 20
	heightLen    = 8
	valsetsNow   = 0x00
	valsetsNext  = 0x01
	singletonLen = 1 // keys of single entries: just the kind byte
)

// keyLen is the only valid length of each kind's keys.
var keyLen = map[byte]int{
	kindAccount:     1 + addrLen,
	kindBond:        1 + 2*addrLen,
	kindCandidate:   1 + addrLen,
	kindPool:        singletonLen,
	kindHeight:      singletonLen,
	kindBondIndex:   1 + 2*addrLen,
	kindLiveness:    1 + addrLen,
	kindParams:      singletonLen,
	kindQueue:       1 + heightLen + 2*addrLen,
	kindRewards:     1 + addrLen,
	kindSupply:      singletonLen,
	kindUnbonding:   1 + addrLen + heightLen + addrLen,
	kindValsets:     2,
	kindRewardStart: 1 + 2*addrLen,
	kindSlashed:     1 + addrLen + heightLen,
}

// markerValue is the value of index entries: the RLP empty string.
var markerValue = []byte{0x80}

var (
	paramsKey      = []byte{kindParams}
	heightKey      = []byte{kindHeight}
	supplyKey      = []byte{kindSupply}
	poolKey        = []byte{kindPool}
	valsetsNowKey  = []byte{kindValsets, valsetsNow}
	valsetsNextKey = []byte{kindValsets, valsetsNext}
)

// Key constructors return arrays so that lookups need no allocation; the
// trie copies the keys it keeps.

func addrKey(kind byte, a Address) (k [1 + addrLen]byte) {
	k[0] = kind
	copy(k[1:], a[:])
	return k
}

func pairKey(kind byte, a, b Address) (k [1 + 2*addrLen]byte) {
	k[0] = kind
	copy(k[1:], a[:])
	copy(k[1+addrLen:], b[:])
	return k
}

func unbondingKey(delegator Address, release uint64, validator Address) (k [1 + addrLen + heightLen + addrLen]byte) {
	k[0] = kindUnbonding
	copy(k[1:], delegator[:])
	binary.BigEndian.PutUint64(k[1+addrLen:], release)
	copy(k[1+addrLen+heightLen:], validator[:])
	return k
}

func queueKey(release uint64, delegator, validator Address) (k [1 + heightLen + 2*addrLen]byte) {
	k[0] = kindQueue
	binary.BigEndian.PutUint64(k[1:], release)
	copy(k[1+heightLen:], delegator[:])
	copy(k[1+heightLen+addrLen:], validator[:])
	return k
}

// parseQueueKey splits a "q" key into its fields; k has the right length.
func parseQueueKey(k []byte) (release uint64, delegator, validator Address) {
	release = binary.BigEndian.Uint64(k[1:9])
	copy(delegator[:], k[9:29])
	copy(validator[:], k[29:49])
	return release, delegator, validator
}

// parseUnbondingKey splits a "u" key into its fields; k has the right length.
func parseUnbondingKey(k []byte) (delegator Address, release uint64, validator Address) {
	copy(delegator[:], k[1:21])
	release = binary.BigEndian.Uint64(k[21:29])
	copy(validator[:], k[29:49])
	return delegator, release, validator
}

// RLP helpers: hand-rolled for the few shapes the ledger stores, without
// reflection, and strict on decode (canonical integers, no trailing bytes).

func appendListHeader(dst []byte, size int) []byte {
	if size < 56 {
		return append(dst, 0xC0+byte(size))
	}
	var be [8]byte
	binary.BigEndian.PutUint64(be[:], uint64(size))
	i := 0
	for be[i] == 0 {
		i++
	}
	return append(append(dst, 0xF7+byte(8-i)), be[i:]...)
}

// encodeUint returns the RLP encoding of a single integer.
func encodeUint(x uint64) []byte { return rlp.AppendUint64(nil, x) }

// encodeUints returns the RLP list of the given integers (at most 5 fit the
// scratch buffer without growing it).
func encodeUints(xs ...uint64) []byte {
	var scratch [48]byte
	content := scratch[:0]
	for _, x := range xs {
		content = rlp.AppendUint64(content, x)
	}
	out := make([]byte, 0, len(content)+9)
	return append(appendListHeader(out, len(content)), content...)
}

var errTrailing = errors.New("trailing bytes")

func decodeUint(b []byte) (uint64, error) {
	x, rest, err := rlp.SplitUint64(b)
	if err != nil {
		return 0, err
	}
	if len(rest) != 0 {
		return 0, errTrailing
	}
	return x, nil
}

// decodeUints decodes an RLP list of exactly len(out) integers into out.
func decodeUints(b []byte, out []uint64) error {
	content, rest, err := rlp.SplitList(b)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errTrailing
	}
	for i := range out {
		if out[i], content, err = rlp.SplitUint64(content); err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
	}
	if len(content) != 0 {
		return fmt.Errorf("list has more than %d items", len(out))
	}
	return nil
}

func encodeAccount(a Account) []byte { return encodeUints(a.Balance, a.Nonce) }

func decodeAccount(b []byte) (Account, error) {
	var f [2]uint64
	err := decodeUints(b, f[:])
	return Account{Balance: f[0], Nonce: f[1]}, err
}

func encodeCandidate(c Candidate) []byte {
	var jailed uint64
	if c.Jailed {
		jailed = 1
	}
	return encodeUints(c.Stake, jailed, c.JailedUntil, c.Commission)
}

func decodeCandidate(a Address, b []byte) (Candidate, error) {
	var f [4]uint64
	if err := decodeUints(b, f[:]); err != nil {
		return Candidate{}, err
	}
	if f[1] > 1 {
		return Candidate{}, fmt.Errorf("jailed flag %d", f[1])
	}
	if f[3] > CommissionDen {
		return Candidate{}, fmt.Errorf("commission %d above %d", f[3], CommissionDen)
	}
	return Candidate{Address: a, Stake: f[0], Jailed: f[1] == 1, JailedUntil: f[2], Commission: f[3]}, nil
}

func encodeParams(p Params) []byte {
	f, b, d := p.SlashFractionDoubleSign, p.ProposerBonus, p.SlashFractionDowntime
	return encodeUints(p.UnbondingBlocks, p.MinStake, uint64(p.MaxValidators), f.Num, f.Den, p.JailBlocks, p.MinFee,
		p.BlockReward, b.Num, b.Den, p.DowntimeWindow, p.DowntimeMaxMissed, d.Num, d.Den)
}

func decodeParams(b []byte) (Params, error) {
	var f [14]uint64
	if err := decodeUints(b, f[:]); err != nil {
		return Params{}, err
	}
	if f[2] > uint64(^uint32(0)) {
		return Params{}, fmt.Errorf("max validators %d overflows uint32", f[2])
	}
	return Params{
		UnbondingBlocks:         f[0],
		MinStake:                f[1],
		MaxValidators:           uint32(f[2]),
		SlashFractionDoubleSign: Fraction{f[3], f[4]},
		JailBlocks:              f[5],
		MinFee:                  f[6],
		BlockReward:             f[7],
		ProposerBonus:           Fraction{f[8], f[9]},
		DowntimeWindow:          f[10],
		DowntimeMaxMissed:       f[11],
		SlashFractionDowntime:   Fraction{f[12], f[13]},
	}, nil
}

// encodeValidators encodes vals as a list of [address, stake] or, with
// priorities, [address, stake, priority].
func encodeValidators(vals []Validator, priorities bool) []byte {
	content := make([]byte, 0, len(vals)*(3+addrLen+9+10))
	for _, v := range vals {
		var item [3 + addrLen + 9 + 9]byte
		body := append(item[:0], 0x80+addrLen)
		body = append(body, v.Address[:]...)
		body = rlp.AppendUint64(body, v.Stake)
		if priorities {
			body = rlp.AppendUint64(body, uint64(v.ProposerPriority))
		}
		content = appendListHeader(content, len(body))
		content = append(content, body...)
	}
	out := make([]byte, 0, len(content)+9)
	return append(appendListHeader(out, len(content)), content...)
}

func encodeMembership(vals []Validator) []byte { return encodeValidators(vals, false) }

// decodeValidators decodes what encodeValidators produced. It checks the
// encoding only; NewValidatorSet checks the contents.
func decodeValidators(b []byte, priorities bool) ([]Validator, error) {
	content, rest, err := rlp.SplitList(b)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errTrailing
	}
	var vals []Validator
	for i := 0; len(content) > 0; i++ {
		var item []byte
		if item, content, err = rlp.SplitList(content); err != nil {
			return nil, fmt.Errorf("validator %d: %w", i, err)
		}
		addr, item, err := rlp.SplitString(item)
		if err != nil {
			return nil, fmt.Errorf("validator %d: %w", i, err)
		}
		if len(addr) != addrLen {
			return nil, fmt.Errorf("validator %d: address of %d bytes", i, len(addr))
		}
		var v Validator
		copy(v.Address[:], addr)
		if v.Stake, item, err = rlp.SplitUint64(item); err != nil {
			return nil, fmt.Errorf("validator %d: stake: %w", i, err)
		}
		if priorities {
			var p uint64
			if p, item, err = rlp.SplitUint64(item); err != nil {
				return nil, fmt.Errorf("validator %d: priority: %w", i, err)
			}
			v.ProposerPriority = int64(p)
		}
		if len(item) != 0 {
			return nil, fmt.Errorf("validator %d: %w", i, errTrailing)
		}
		vals = append(vals, v)
	}
	return vals, nil
}
