package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/rlp"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/internal/fuzztest"
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

// readBound is what a reader may allocate decoding a stored value: the
// decoded value is a small multiple of its bytes (a validator set is also
// indexed), plus a fixed amount for the error and the key.
var readBound = fuzztest.Bound{PerByte: 16, Fixed: 16 << 10}

// FuzzStoreDecode feeds arbitrary bytes, stored under the key of each kind of
// value, to the store's readers: they must return a value or an error
// wrapping ErrCorrupt, never panic, allocate within readBound, and a value
// they accept must encode back to the same bytes.
func FuzzStoreDecode(f *testing.F) {
	for kind, seeds := range fuzzSeeds(f) {
		for _, s := range seeds {
			f.Add(kind, s)
		}
	}
	f.Fuzz(func(t *testing.T, kind byte, data []byte) {
		if data == nil {
			data = []byte{} // stored, if empty: a nil value reads as absent
		}
		const h = 1
		var hash chain.Hash
		r := mapReader{}
		var err error
		read := func(key []byte, decode func() error) {
			r[string(key)] = data
			fuzztest.CheckAllocs(t, readBound, data, func() { err = decode() })
			if err != nil {
				fuzztest.CheckError(t, err, ErrCorrupt)
			}
		}
		switch kind % fuzzKinds {
		case fuzzBlock:
			var blk *chain.Block
			read(heightKey(prefixBlock, h), func() (err error) { blk, err = ReadBlock(r, h); return err })
			if err == nil && !bytes.Equal(blk.Encode(), data) {
				t.Errorf("block re-encodes differently")
			}
		case fuzzHeader:
			var hdr *chain.Header
			read(heightKey(prefixBlock, h), func() (err error) { hdr, err = ReadHeader(r, h); return err })
			if err != nil {
				return
			}
			raw, serr := splitHeader(data)
			enc, eerr := rlp.EncodeToBytes(hdr)
			if serr != nil || eerr != nil || !bytes.Equal(enc, raw) {
				t.Errorf("header re-encodes differently: %x, stored %x (%v, %v)", enc, raw, serr, eerr)
			}
		case fuzzCertificate:
			var c *chain.Certificate
			read(heightKey(prefixCert, h), func() (err error) { c, err = ReadCertificate(r, h); return err })
			if err == nil && !bytes.Equal(c.Encode(), data) {
				t.Errorf("certificate re-encodes differently")
			}
		case fuzzTxLocation:
			var loc *TxLocation
			read(hashKey(prefixTx, hash), func() (err error) { loc, err = ReadTxLocation(r, hash); return err })
			if err == nil && !bytes.Equal(EncodeTxLocation(loc), data) {
				t.Errorf("tx location re-encodes differently")
			}
		case fuzzValidators:
			var set *staking.ValidatorSet
			read(heightKey(prefixValidators, h), func() (err error) { set, err = ReadValidators(r, h); return err })
			if err != nil {
				return
			}
			list, lerr := DecodeValidatorList(data)
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
			var x uint64
			read(keyLatestHeight, func() (err error) { x, err = ReadLatestHeight(r); return err })
			if err == nil && !bytes.Equal(encodeHeight(x), data) {
				t.Errorf("height re-encodes differently")
			}
		case fuzzHash:
			var x chain.Hash
			read(heightKey(prefixStateHash, h), func() (err error) { x, err = ReadStateHash(r, h); return err })
			if err == nil && !bytes.Equal(x.Bytes(), data) {
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
