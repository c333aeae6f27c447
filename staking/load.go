package staking

import (
	"bytes"
	"fmt"
)

// LoadState rebuilds a State from Entries output and the genesis params. It
// accepts exactly the entry sets that operations can produce: keys strictly
// increasing, of a known kind and length; values in canonical RLP; and the
// ledger invariants (indexes match their entries, every candidate's stake is
// the sum of its bonds, bonds and unbondings name candidates, unbondings
// release after Height(), the supply entry is the sum of all amounts and at
// most MaxSupply, the stored params equal params, and both validator sets are
// valid and canonically encoded). Anything else fails with an error wrapping
// ErrMalformedState (or ErrInvalidParams for bad params). It never panics.
// The loaded State has the same Hash as the one that produced the entries.
func LoadState(params Params, entries []KV) (*State, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	params = params.canonical()
	l := loader{
		bonds:      make(map[pairID]uint64),
		bondIndex:  make(map[pairID]bool),
		candidates: make(map[Address]Candidate),
		unbondings: make(map[queueID]bool),
		queue:      make(map[queueID]bool),
	}
	for i, e := range entries {
		if i > 0 && bytes.Compare(entries[i-1].Key, e.Key) >= 0 {
			return nil, malformed(e.Key, "keys not strictly increasing")
		}
		if err := l.entry(e.Key, e.Value); err != nil {
			return nil, err
		}
	}
	s, err := l.finish(params)
	if err != nil {
		return nil, err
	}
	s.t.owner = new(owner)
	for _, e := range entries {
		s.t.put(e.Key, e.Value)
	}
	return s, nil
}

func malformed(key []byte, format string, args ...any) error {
	return fmt.Errorf("%w: key %x: %s", ErrMalformedState, key, fmt.Sprintf(format, args...))
}

type (
	pairID  = [2 * addrLen]byte
	queueID = [1 + heightLen + 2*addrLen]byte // a "q" key
)

func pair(a, b Address) (id pairID) {
	copy(id[:], a[:])
	copy(id[addrLen:], b[:])
	return id
}

func queueIDOf(release uint64, delegator, validator Address) queueID {
	return queueKey(release, delegator, validator)
}

// loader collects and checks decoded entries; slices keep key order so that
// errors are deterministic.
type loader struct {
	params           *Params
	height, supply   *uint64
	current, pending *ValidatorSet

	accountSum, bondSum, unbondingSum, rewardSum uint64

	rewarded []Address // validators with an F1 record, in key order
	live     []KV      // liveness records, decoded once the params are known
	totals   pool
	starts   []pairID // delegator | validator of F1 starts, in key order

	bonds          map[pairID]uint64
	bondOrder      []pairID // delegator | validator, in key order
	bondIndex      map[pairID]bool
	bondIndexOrder []pairID // validator | delegator, in key order
	candidates     map[Address]Candidate
	candidateOrder []Address
	unbondings     map[queueID]bool
	unbondingKeys  [][]byte
	queue          map[queueID]bool
}

func (l *loader) entry(k, v []byte) error {
	if len(k) == 0 {
		return malformed(k, "empty key")
	}
	want, ok := keyLen[k[0]]
	if !ok {
		return malformed(k, "unknown kind %q", k[0])
	}
	if len(k) != want {
		return malformed(k, "key of %d bytes, want %d", len(k), want)
	}
	if len(v) == 0 {
		return malformed(k, "empty value")
	}
	var err error
	switch k[0] {
	case kindParams:
		var p Params
		if p, err = decodeParams(v); err == nil {
			l.params = &p
		}
	case kindHeight:
		var h uint64
		if h, err = decodeUint(v); err == nil {
			l.height = &h
		}
	case kindSupply:
		var x uint64
		if x, err = decodeUint(v); err == nil {
			l.supply = &x
		}
	case kindAccount:
		var acc Account
		if acc, err = decodeAccount(v); err != nil {
			break
		}
		if acc == (Account{}) {
			return malformed(k, "empty account is stored")
		}
		if l.accountSum, err = addAmount(l.accountSum, acc.Balance); err != nil {
			return malformed(k, "balances: %v", err)
		}
	case kindBond:
		var amount uint64
		if amount, err = decodeUint(v); err != nil {
			break
		}
		if amount == 0 {
			return malformed(k, "zero bond is stored")
		}
		if l.bondSum, err = addAmount(l.bondSum, amount); err != nil {
			return malformed(k, "bonds: %v", err)
		}
		id := pair(Address(k[1:21]), Address(k[21:41]))
		l.bonds[id] = amount
		l.bondOrder = append(l.bondOrder, id)
	case kindBondIndex:
		if !bytes.Equal(v, markerValue) {
			return malformed(k, "index value %x, want %x", v, markerValue)
		}
		id := pair(Address(k[1:21]), Address(k[21:41]))
		l.bondIndex[id] = true
		l.bondIndexOrder = append(l.bondIndexOrder, id)
	case kindCandidate:
		var c Candidate
		if c, err = decodeCandidate(Address(k[1:]), v); err != nil {
			break
		}
		if !c.Jailed && c.JailedUntil != 0 {
			return malformed(k, "not jailed but jailed until %d", c.JailedUntil)
		}
		l.candidates[c.Address] = c
		l.candidateOrder = append(l.candidateOrder, c.Address)
	case kindUnbonding:
		var amount uint64
		if amount, err = decodeUint(v); err != nil {
			break
		}
		if amount == 0 {
			return malformed(k, "zero unbonding is stored")
		}
		if l.unbondingSum, err = addAmount(l.unbondingSum, amount); err != nil {
			return malformed(k, "unbondings: %v", err)
		}
		d, r, val := parseUnbondingKey(k)
		l.unbondings[queueIDOf(r, d, val)] = true
		l.unbondingKeys = append(l.unbondingKeys, k)
	case kindQueue:
		if !bytes.Equal(v, markerValue) {
			return malformed(k, "queue value %x, want %x", v, markerValue)
		}
		var id queueID
		copy(id[:], k)
		l.queue[id] = true
	case kindRewards:
		var r validatorRewards
		if r, err = decodeValidatorRewards(v); err != nil {
			break
		}
		if r == (validatorRewards{}) {
			return malformed(k, "empty reward record is stored")
		}
		if l.rewardSum, err = addAmount(l.rewardSum, r.outstanding); err != nil {
			return malformed(k, "outstanding rewards: %v", err)
		}
		l.rewarded = append(l.rewarded, Address(k[1:]))
	case kindRewardStart:
		var f [2]uint64
		if err = decodeUints(v, f[:]); err != nil {
			break
		}
		if f == [2]uint64{} {
			return malformed(k, "zero reward start is stored")
		}
		l.starts = append(l.starts, pair(Address(k[1:21]), Address(k[21:41])))
	case kindLiveness:
		l.live = append(l.live, KV{Key: k, Value: v})
	case kindPool:
		var p pool
		if p, err = decodePool(v); err != nil {
			break
		}
		if p == (pool{}) {
			return malformed(k, "empty totals are stored")
		}
		if l.rewardSum, err = addAmount(l.rewardSum, p.carry); err != nil {
			return malformed(k, "reward carry: %v", err)
		}
		l.totals = p
	case kindSlashed:
		if !bytes.Equal(v, markerValue) {
			return malformed(k, "infraction record value %x, want %x", v, markerValue)
		}
	case kindValsets:
		switch k[1] {
		case valsetsNow:
			l.current, err = decodeSet(v, true)
		case valsetsNext:
			l.pending, err = decodeSet(v, false)
		default:
			return malformed(k, "unknown validator set slot %d", k[1])
		}
	}
	if err != nil {
		return malformed(k, "value %x: %v", v, err)
	}
	return nil
}

// decodeSet decodes a stored validator set and insists on its canonical
// encoding (sorted, and zero priorities for a membership).
func decodeSet(v []byte, priorities bool) (*ValidatorSet, error) {
	vals, err := decodeValidators(v, priorities)
	if err != nil {
		return nil, err
	}
	vs, err := NewValidatorSet(vals)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(encodeValidators(vs.vals, priorities), v) {
		return nil, fmt.Errorf("not in canonical order")
	}
	return vs, nil
}

func (l *loader) finish(params Params) (*State, error) {
	switch {
	case l.params == nil:
		return nil, malformed(paramsKey, "missing")
	case l.height == nil:
		return nil, malformed(heightKey, "missing")
	case l.supply == nil:
		return nil, malformed(supplyKey, "missing")
	case l.current == nil:
		return nil, malformed(valsetsNowKey, "missing")
	case l.pending == nil:
		return nil, malformed(valsetsNextKey, "missing")
	case *l.params != params:
		return nil, malformed(paramsKey, "stored params %+v differ from %+v", *l.params, params)
	}
	stakes := make(map[Address]uint64, len(l.candidates))
	for _, id := range l.bondOrder {
		d, v := Address(id[:addrLen]), Address(id[addrLen:])
		buf := pairKey(kindBond, d, v)
		key := buf[:]
		if !l.bondIndex[pair(v, d)] {
			return nil, malformed(key, "bond has no index entry")
		}
		if _, ok := l.candidates[v]; !ok {
			return nil, malformed(key, "bond to a non-candidate")
		}
		stakes[v] += l.bonds[id] // no overflow: the sum of all bonds is checked
	}
	for _, id := range l.bondIndexOrder {
		v, d := Address(id[:addrLen]), Address(id[addrLen:])
		if _, ok := l.bonds[pair(d, v)]; !ok {
			k := pairKey(kindBondIndex, v, d)
			return nil, malformed(k[:], "index entry without a bond")
		}
	}
	for _, a := range l.candidateOrder {
		if c := l.candidates[a]; c.Stake != stakes[a] {
			k := addrKey(kindCandidate, a)
			return nil, malformed(k[:], "stake %d, bonds sum to %d", c.Stake, stakes[a])
		}
	}
	for _, k := range l.unbondingKeys {
		d, r, v := parseUnbondingKey(k)
		if !l.queue[queueIDOf(r, d, v)] {
			return nil, malformed(k, "unbonding has no queue entry")
		}
		if r <= *l.height {
			return nil, malformed(k, "release height %d not after height %d", r, *l.height)
		}
		if _, ok := l.candidates[v]; !ok {
			return nil, malformed(k, "unbonding from a non-candidate")
		}
	}
	if len(l.queue) != len(l.unbondings) {
		// Some queue entry has no unbonding; report the first in key order.
		var missing []byte
		for id := range l.queue {
			if !l.unbondings[id] && (missing == nil || bytes.Compare(id[:], missing) < 0) {
				missing = bytes.Clone(id[:])
			}
		}
		return nil, malformed(missing, "queue entry without an unbonding")
	}
	for _, e := range l.live {
		if _, err := decodeLiveness(e.Value, params.DowntimeWindow); err != nil {
			return nil, malformed(e.Key, "value %x: %v", e.Value, err)
		}
		if _, ok := l.candidates[Address(e.Key[1:])]; !ok {
			return nil, malformed(e.Key, "liveness record of a non-candidate")
		}
	}
	for _, a := range l.rewarded {
		if _, ok := l.candidates[a]; !ok {
			k := addrKey(kindRewards, a)
			return nil, malformed(k[:], "reward record of a non-candidate")
		}
	}
	for _, id := range l.starts {
		if _, ok := l.bonds[id]; !ok {
			return nil, malformed(startKey(Address(id[:addrLen]), Address(id[addrLen:])), "reward start without a bond")
		}
	}
	if l.totals.bonded != l.bondSum || l.totals.unbonding != l.unbondingSum {
		return nil, malformed(poolKey, "bonded %d and unbonding %d totals, entries sum to %d and %d",
			l.totals.bonded, l.totals.unbonding, l.bondSum, l.unbondingSum)
	}
	supply, err := addAmount(l.accountSum, l.bondSum)
	if err == nil {
		supply, err = addAmount(supply, l.unbondingSum)
	}
	if err == nil {
		supply, err = addAmount(supply, l.rewardSum)
	}
	if err != nil {
		return nil, malformed(supplyKey, "total of amounts: %v", err)
	}
	if supply != *l.supply {
		return nil, malformed(supplyKey, "supply %d, amounts sum to %d", *l.supply, supply)
	}
	return &State{
		params:  params,
		height:  *l.height,
		supply:  supply,
		vals:    l.current,
		pending: l.pending,
	}, nil
}
