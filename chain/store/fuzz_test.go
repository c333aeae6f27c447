package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

// Kinds of stored value FuzzStoreDecode decodes.
const (
	fuzzBlock byte = iota
	fuzzHeader
	fuzzCertificate
	fuzzTxLocation
	fuzzValidators
	fuzzHeight
	fuzzHash
	fuzzKinds
)

// mapReader is a Reader over a map, holding one value for the fuzz target.
type mapReader map[string][]byte

func (m mapReader) Get(key []byte) ([]byte, error) { return m[string(key)], nil }

// FuzzStoreDecode feeds arbitrary bytes, stored under the key of each kind of
// value, to the store's readers: they must return a value or an error and
// never panic, and a value they accept must encode back to the same bytes.
func FuzzStoreDecode(f *testing.F) {
	for kind, seeds := range fuzzSeeds(f) {
		for _, s := range seeds {
			f.Add(kind, s)
		}
	}
	f.Fuzz(func(t *testing.T, kind byte, data []byte) {
		const h = 1
		var hash chain.Hash
		r := mapReader{}
		switch kind % fuzzKinds {
		case fuzzBlock:
			r[string(heightKey(prefixBlock, h))] = data
			if blk, err := ReadBlock(r, h); err == nil && !bytes.Equal(blk.Encode(), data) {
				t.Errorf("block re-encodes differently")
			}
		case fuzzHeader:
			r[string(heightKey(prefixBlock, h))] = data
			if _, err := ReadHeader(r, h); err != nil {
				return
			}
		case fuzzCertificate:
			r[string(heightKey(prefixCert, h))] = data
			if c, err := ReadCertificate(r, h); err == nil && !bytes.Equal(c.Encode(), data) {
				t.Errorf("certificate re-encodes differently")
			}
		case fuzzTxLocation:
			r[string(hashKey(prefixTx, hash))] = data
			if loc, err := ReadTxLocation(r, hash); err == nil && !bytes.Equal(EncodeTxLocation(loc), data) {
				t.Errorf("tx location re-encodes differently")
			}
		case fuzzValidators:
			r[string(heightKey(prefixValidators, h))] = data
			list, lerr := DecodeValidatorList(data)
			set, err := ReadValidators(r, h)
			if err != nil {
				return
			}
			if lerr != nil {
				t.Fatalf("set decodes but its list does not: %v", lerr)
			}
			if got := set.Validators(); !slices.Equal(got, sortedValidators(list)) {
				t.Errorf("set %v differs from its stored list %v", set, list)
			}
			if slices.Equal(list, set.Validators()) && !bytes.Equal(EncodeValidators(set), data) {
				t.Errorf("validator set re-encodes differently")
			}
		case fuzzHeight:
			r[string(keyLatestHeight)] = data
			if x, err := ReadLatestHeight(r); err == nil && !bytes.Equal(encodeHeight(x), data) {
				t.Errorf("height re-encodes differently")
			}
		case fuzzHash:
			r[string(heightKey(prefixStateHash, h))] = data
			if x, err := ReadStateHash(r, h); err == nil && !bytes.Equal(x.Bytes(), data) {
				t.Errorf("hash re-encodes differently")
			}
		}
	})
}

func sortedValidators(vals []staking.Validator) []staking.Validator {
	out := slices.Clone(vals)
	slices.SortFunc(out, func(a, b staking.Validator) int { return bytes.Compare(a.Address[:], b.Address[:]) })
	return out
}

// fuzzSeeds returns valid encodings of every kind of stored value, from a
// small fixture chain.
func fuzzSeeds(tb testing.TB) map[byte][][]byte {
	f := newFixture(tb, 2)
	fb1 := f.next(2)
	fb2 := f.next(1, fb1.Block.Txs[0])
	loc := &TxLocation{Height: 2, Index: 1, Receipt: fb2.Receipts[1]}
	return map[byte][][]byte{
		fuzzBlock:       {fb1.Block.Encode(), fb2.Block.Encode()},
		fuzzHeader:      {fb2.Block.Encode()},
		fuzzCertificate: {fb1.Certificate.Encode()},
		fuzzTxLocation:  {EncodeTxLocation(loc)},
		fuzzValidators:  {EncodeValidators(fb2.NextValidators)},
		fuzzHeight:      {encodeHeight(1 << 40)},
		fuzzHash:        {fb2.StateHash.Bytes()},
	}
}

// TestWriteFuzzCorpus regenerates testdata/fuzz/FuzzStoreDecode from
// fuzzSeeds when QUORUMCHAIN_WRITE_FUZZ_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("QUORUMCHAIN_WRITE_FUZZ_CORPUS") != "1" {
		t.Skip("set QUORUMCHAIN_WRITE_FUZZ_CORPUS=1 to regenerate the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzStoreDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	names := []string{"block", "header", "certificate", "txlocation", "validators", "height", "hash"}
	for kind, seeds := range fuzzSeeds(t) {
		for i, s := range seeds {
			body := fmt.Sprintf("go test fuzz v1\nbyte(%d)\n[]byte(%q)\n", kind, s)
			name := filepath.Join(dir, fmt.Sprintf("%s-%d", names[kind], i))
			if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
