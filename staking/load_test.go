package staking_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/rlp"

	"github.com/quorumchain/quorumchain/internal/fuzztest"
	"github.com/quorumchain/quorumchain/staking"
)

// richState has every kind of entry: accounts, delegations, an unbonding,
// a jailed candidate, a commission, rewards outstanding and a bond's
// reward start, liveness records, the totals, and a validator set with
// non-trivial priorities.
func richState(t testing.TB) *staking.State {
	s := fixture(t)
	must(t, s.UseNonce(a0, 0))
	must(t, s.Stake(a0, v0, 30))
	must(t, s.Stake(a1, v1, 20))
	must(t, s.Stake(a1, a1, 10))
	must(t, s.Unstake(a0, v0, 10, 1))
	must(t, s.SetCommission(v0, staking.CommissionDen/10))
	_, err := s.SlashDoubleSign(v1, 0, 1)
	must(t, err)
	for h := uint64(1); h <= 2; h++ {
		must(t, s.ChargeFee(a1, s.Account(a1).Nonce, 40))
		_, err = s.Distribute(h, v0, 40, []staking.Signer{{Validator: v0, Stake: 100}}, 150)
		must(t, err)
		_, err = s.RecordLiveness(h, []staking.Address{v0, a1}, func(a staking.Address) bool { return a == v0 })
		must(t, err)
		_, err := s.EndBlock(h)
		must(t, err)
	}
	must(t, s.Stake(a0, v0, 5)) // settles a0's rewards and starts its bond anew
	return s
}

func findKind(entries []staking.KV, kind byte) int {
	return slices.IndexFunc(entries, func(e staking.KV) bool { return e.Key[0] == kind })
}

func TestLoadStateRejectsMalformed(t *testing.T) {
	type mutation func(e []staking.KV) []staking.KV
	set := func(kind byte, value []byte) mutation {
		return func(e []staking.KV) []staking.KV { e[findKind(e, kind)].Value = value; return e }
	}
	drop := func(kind byte) mutation {
		return func(e []staking.KV) []staking.KV { return slices.Delete(e, findKind(e, kind), findKind(e, kind)+1) }
	}
	dropKey := func(key []byte) mutation {
		return func(e []staking.KV) []staking.KV {
			i := slices.IndexFunc(e, func(kv staking.KV) bool { return bytes.Equal(kv.Key, key) })
			return slices.Delete(e, i, i+1)
		}
	}
	insert := func(key, value []byte) mutation {
		return func(e []staking.KV) []staking.KV {
			i, _ := slices.BinarySearchFunc(e, key, func(kv staking.KV, k []byte) int { return bytes.Compare(kv.Key, k) })
			return slices.Insert(e, i, staking.KV{Key: key, Value: value})
		}
	}
	valset := func(vals ...[]byte) []byte { // rlp list of raw items
		var content []byte
		for _, v := range vals {
			content = append(content, v...)
		}
		return append([]byte{0xC0 + byte(len(content))}, content...)
	}
	member := func(a staking.Address, stake uint64, prio ...uint64) []byte {
		content := append([]byte{0x80 + 20}, a[:]...)
		content = append(content, rlpUint(stake)...)
		for _, p := range prio {
			content = append(content, rlpUint(p)...)
		}
		return append([]byte{0xC0 + byte(len(content))}, content...)
	}
	candidateKey := append([]byte{'c'}, a2[:]...)
	tests := []struct {
		name string
		mut  mutation
	}{
		{"unsorted", func(e []staking.KV) []staking.KV { e[0], e[1] = e[1], e[0]; return e }},
		{"duplicate", func(e []staking.KV) []staking.KV { return slices.Insert(e, 1, e[0]) }},
		{"empty key", func(e []staking.KV) []staking.KV { return slices.Insert(e, 0, staking.KV{Value: []byte{1}}) }},
		{"unknown kind", insert([]byte{'z'}, []byte{1})},
		{"short key", insert([]byte{'a', 1}, rlpList(1, 0))},
		{"long key", func(e []staking.KV) []staking.KV { i := findKind(e, 'h'); e[i].Key = []byte("hh"); return e }},
		{"empty value", set('a', nil)},
		{"non-canonical integer", set('h', []byte{0x81, 0x02})},
		{"leading zero", set('s', []byte{0x82, 0x00, 0xff})},
		{"trailing bytes", set('h', []byte{0x02, 0x02})},
		{"account not a list", set('a', rlpUint(5))},
		{"account with three fields", set('a', rlpList(5, 0, 0))},
		{"zero account stored", set('a', rlpList(0, 0))},
		{"balance changed", func(e []staking.KV) []staking.KV { i := findKind(e, 'a'); e[i].Value = rlpList(1, 0); return e }},
		{"zero bond", set('b', rlpUint(0))},
		{"bond changed", set('b', rlpUint(7))},
		{"bond without index", drop('i')},
		{"index without bond", drop('b')},
		{"index value", set('i', []byte{0x01})},
		{"bond to non-candidate", func(e []staking.KV) []staking.KV {
			e = insert(append(append([]byte{'b'}, a2[:]...), a0[:]...), rlpUint(1))(e)
			return insert(append(append([]byte{'i'}, a0[:]...), a2[:]...), []byte{0x80})(e)
		}},
		{"candidate stake", set('c', rlpList(1, 0, 0, 0))},
		{"candidate with three fields", set('c', rlpList(130, 0, 0))},
		{"jailed flag", set('c', rlpList(130, 2, 0, 0))},
		{"released but jailed until", set('c', rlpList(130, 0, 9, 0))},
		{"commission above one", set('c', rlpList(130, 0, 0, staking.CommissionDen+1))},
		{"candidate without bonds", insert(candidateKey, rlpList(5, 0, 0, 0))},
		{"reward record of a non-candidate", insert(append([]byte{'r'}, a2[:]...), rlpList(0, 1, 0))},
		{"empty reward record", set('r', rlpList(0, 0, 0))},
		{"outstanding changed", set('r', rlpList(0, 1, 1_000))},
		{"reward start without a bond", insert(append(append([]byte{'w'}, a2[:]...), v0[:]...), rlpList(0, 1))},
		{"zero reward start", set('w', rlpList(0, 0))},
		{"liveness of a non-candidate", insert(append([]byte{'m'}, a2[:]...), rlpList(1, 1, 1))},
		{"liveness count disagrees with the ring", set('m', rlpList(2, 1, 0))},
		{"liveness ring beyond the window", set('m', rlpList(2, 1, 1<<10))},
		{"liveness nothing recorded", set('m', rlpList(0, 0, 0))},
		{"empty totals", set('g', rlpList(0, 0, 0, 0, 0, 0))},
		{"bonded total", func(e []staking.KV) []staking.KV {
			i := findKind(e, 'g')
			e[i].Value = bumpField(t, e[i].Value, 4)
			return e
		}},
		{"unbonding total", func(e []staking.KV) []staking.KV {
			i := findKind(e, 'g')
			e[i].Value = bumpField(t, e[i].Value, 5)
			return e
		}},
		{"zero unbonding", set('u', rlpUint(0))},
		{"unbonding without queue", drop('q')},
		{"queue without unbonding", drop('u')},
		{"queue value", set('q', []byte{0xC0})},
		{"supply", set('s', rlpUint(1))},
		{"missing params", drop('p')},
		{"missing height", drop('h')},
		{"missing supply", drop('s')},
		{"missing current set", dropKey([]byte{'v', 0})},
		{"missing pending set", dropKey([]byte{'v', 1})},
		{"unknown set slot", insert([]byte{'v', 2}, valset(member(v0, 1)))},
		{"params differ", set('p', rlpList(5, 10, 3, 1, 20, 3, 3, 0, 0, 1, 10, 5, 0, 1))},
		{"params unreduced", set('p', rlpList(5, 10, 3, 2, 20, 3, 3, 0, 0, 1, 10, 5, 0, 1))},
		{"params max validators overflow", set('p', rlpList(5, 10, 1<<32, 1, 10, 3, 3, 0, 0, 1, 10, 5, 0, 1))},
		{"params of an older schema", set('p', rlpList(5, 10, 3, 1, 10, 3))},
		{"empty set", set('v', valset())},
		{"set not a list", set('v', rlpUint(1))},
		{"set unsorted", set('v', valset(member(v1, 1, 0), member(v0, 1, 0)))},
		{"set zero stake", set('v', valset(member(v0, 0, 0)))},
		{"set duplicate", set('v', valset(member(v0, 1, 0), member(v0, 1, 0)))},
		{"set short address", set('v', valset([]byte{0xC3, 0x82, 1, 2, 5}))},
		{"set priority out of range", set('v', valset(member(v0, 1, 1<<63)))},
		{"set missing priority", set('v', valset(member(v0, 1)))},
		{"pending with priorities", dropKey(nil)}, // replaced below
		{"release not after height", nil},         // replaced below
	}
	// Mutations that need the entries themselves.
	tests[len(tests)-2].mut = func(e []staking.KV) []staking.KV {
		i := slices.IndexFunc(e, func(kv staking.KV) bool { return bytes.Equal(kv.Key, []byte{'v', 1}) })
		e[i].Value = valset(member(v0, 130, 0))
		return e
	}
	tests[len(tests)-1].mut = set('h', rlpUint(6)) // the unbonding releases at 6

	base := richState(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries := tt.mut(base.Entries())
			s, err := staking.LoadState(base.Params(), entries)
			if !errors.Is(err, staking.ErrMalformedState) {
				t.Fatalf("got %v, %v; want ErrMalformedState", s, err)
			}
			t.Log(err)
		})
	}
	if _, err := staking.LoadState(staking.Params{}, base.Entries()); !errors.Is(err, staking.ErrInvalidParams) {
		t.Fatalf("invalid params: got %v", err)
	}
	if _, err := staking.LoadState(base.Params(), nil); !errors.Is(err, staking.ErrMalformedState) {
		t.Fatalf("no entries: got %v", err)
	}
	// Unreduced but equal params are accepted: the state stores lowest terms.
	p := base.Params()
	p.SlashFractionDoubleSign = staking.Fraction{Num: 3, Den: 30}
	if _, err := staking.LoadState(p, base.Entries()); err != nil {
		t.Fatalf("equal params in other terms: %v", err)
	}
}

// bumpField returns the RLP list of integers b with field i increased by 1.
func bumpField(t *testing.T, b []byte, i int) []byte {
	t.Helper()
	var xs []uint64
	if err := rlp.DecodeBytes(b, &xs); err != nil {
		t.Fatal(err)
	}
	xs[i]++
	return rlpList(xs...)
}

// encodeEntries is the fuzz input format: (uvarint len, key, uvarint len,
// value)*.
func encodeEntries(entries []staking.KV) []byte {
	var b []byte
	for _, e := range entries {
		b = binary.AppendUvarint(b, uint64(len(e.Key)))
		b = append(b, e.Key...)
		b = binary.AppendUvarint(b, uint64(len(e.Value)))
		b = append(b, e.Value...)
	}
	return b
}

func decodeEntries(b []byte) []staking.KV {
	var out []staking.KV
	next := func() ([]byte, bool) {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) {
			return nil, false
		}
		field := b[w : w+int(n)]
		b = b[w+int(n):]
		return field, true
	}
	for len(b) > 0 {
		k, ok := next()
		if !ok {
			break
		}
		v, ok := next()
		if !ok {
			break
		}
		out = append(out, staking.KV{Key: k, Value: v})
	}
	return out
}

// fuzzSeeds are valid states; the fuzzer mutates their encodings.
func fuzzSeeds(t testing.TB) [][]byte {
	s := fixture(t)
	seeds := [][]byte{encodeEntries(s.Entries())}
	seeds = append(seeds, encodeEntries(richState(t).Entries()))
	return seeds
}

var updateFuzzSeeds = flag.Bool("update-fuzz-seeds", false, "rewrite testdata/fuzz/FuzzLoadState from fuzzSeeds")

func TestWriteFuzzSeeds(t *testing.T) {
	if !*updateFuzzSeeds {
		t.Skip("run with -update-fuzz-seeds to rewrite the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzLoadState")
	must(t, os.MkdirAll(dir, 0o755))
	for i, seed := range fuzzSeeds(t) {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", seed)
		must(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("state-%d", i)), []byte(body), 0o644))
	}
}

// loadBound is what LoadState may allocate: the state's entries are copied
// into its trie and indexed in maps, a small multiple of their bytes.
var loadBound = fuzztest.Bound{PerByte: 64, Fixed: 32 << 10}

// FuzzLoadState: LoadState never panics, allocates within loadBound, rejects
// with ErrMalformedState, and whatever it accepts round-trips: Entries gives
// back the input and a reload gives the same hash. Running a block on a
// loaded state is execution, not decoding: TestLoadedStatesRunABlock checks
// it.
func FuzzLoadState(f *testing.F) {
	params := testParams()
	for _, seed := range fuzzSeeds(f) {
		if _, err := staking.LoadState(params, decodeEntries(seed)); err != nil {
			f.Fatal(err)
		}
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries := decodeEntries(data)
		var s *staking.State
		var err error
		fuzztest.CheckAllocs(t, loadBound, data, func() { s, err = staking.LoadState(params, entries) })
		if err != nil {
			fuzztest.CheckError(t, err, staking.ErrMalformedState)
			return
		}
		got := s.Entries()
		if len(got) != len(entries) {
			t.Fatalf("Entries has %d entries, input %d", len(got), len(entries))
		}
		for i := range got {
			if !bytes.Equal(got[i].Key, entries[i].Key) || !bytes.Equal(got[i].Value, entries[i].Value) {
				t.Fatalf("entry %d: got %x=%x, input %x=%x", i, got[i].Key, got[i].Value, entries[i].Key, entries[i].Value)
			}
		}
		again, err := staking.LoadState(params, got)
		if err != nil || again.Hash() != s.Hash() {
			t.Fatalf("reload: %v", err)
		}
	})
}

// TestLoadedStatesRunABlock: every state LoadState accepts is usable. It
// loads every single-bit mutation of the seed states and runs a block on
// each that loads: EndBlock succeeds or reports a state with no validators
// or an overflow, never anything else.
func TestLoadedStatesRunABlock(t *testing.T) {
	params := testParams()
	loaded := 0
	for _, seed := range fuzzSeeds(t) {
		m := bytes.Clone(seed)
		for i := range m {
			for bit := range 8 {
				m[i] ^= 1 << bit
				s, err := staking.LoadState(params, decodeEntries(m))
				m[i] ^= 1 << bit
				if err != nil {
					continue
				}
				loaded++
				if _, err := s.EndBlock(s.Height() + 1); err != nil && !errors.Is(err, staking.ErrNoValidators) && !errors.Is(err, staking.ErrOverflow) {
					t.Fatalf("EndBlock on a loaded state (seed byte %d bit %d flipped): %v", i, bit, err)
				}
			}
		}
	}
	if loaded == 0 {
		t.Fatal("no mutated state loaded: the test checked nothing")
	}
	t.Logf("%d mutated states loaded and ran a block", loaded)
}
