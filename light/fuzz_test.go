package light_test

import (
	"encoding/binary"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/light"
	"github.com/quorumchain/quorumchain/light/lighttest"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/staking"
)

// FuzzSignedHeaderFromRPC decodes chain_getBlock results as a node would
// send them: a decoded signed header must encode back to the same header
// and certificate.
func FuzzSignedHeaderFromRPC(f *testing.F) {
	// One validator keeps the seeds short: the fuzzer minimizes every
	// input that finds new coverage, and that is slow on long ones.
	c := lighttest.New(f, staking.Params{}, []uint64{10}, nil)
	c.Empty(f, 2)
	for _, h := range []uint64{1, 2} {
		sh := c.Block(h)
		b, err := json.Marshal(rpc.BlockResult{Header: light.HeaderToRPC(&sh.Header), Certificate: light.CertificateToRPC(sh.Certificate, c.Set(h))})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"header":{"hash":"0x00","time":"1969-12-31T23:59:59.9999Z"},"certificate":null}`))
	f.Add([]byte(`{"header":{},"certificate":{"height":1,"blockHash":"0x0000000000000000000000000000000000000000000000000000000000000000","signers":["0x0000000000000000000000000000000000000001"],"signatures":["0x00"]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var br rpc.BlockResult
		if json.Unmarshal(data, &br) != nil {
			return
		}
		sh, err := light.SignedHeaderFromRPC(&br)
		if err != nil {
			return
		}
		again := rpc.BlockResult{Header: light.HeaderToRPC(&sh.Header), Certificate: light.CertificateToRPC(sh.Certificate, nil)}
		b, err := json.Marshal(again)
		if err != nil {
			t.Fatal(err)
		}
		var br2 rpc.BlockResult
		if err := json.Unmarshal(b, &br2); err != nil {
			t.Fatal(err)
		}
		sh2, err := light.SignedHeaderFromRPC(&br2)
		if err != nil {
			t.Fatalf("re-encoded signed header does not decode: %v", err)
		}
		if sh2.Hash() != sh.Hash() || !reflect.DeepEqual(sh2.Certificate, sh.Certificate) {
			t.Fatalf("round trip changed the signed header")
		}
	})
}

// FuzzValidatorSetFromRPC decodes chain_getValidators results: a decoded
// set holds exactly the members given, and its total is their sum.
func FuzzValidatorSetFromRPC(f *testing.F) {
	c := changingChain(f)
	for _, h := range []uint64{1, 9} {
		set := c.Set(h)
		r := rpc.ValidatorsResult{Height: h, TotalStake: rpc.Amount(set.TotalStake())}
		for _, v := range set.Validators() {
			r.Validators = append(r.Validators, rpc.ValidatorResult{Address: v.Address, Stake: rpc.Amount(v.Stake)})
		}
		b, err := json.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, h)
	}
	f.Add([]byte(`{"height":3,"validators":[{"address":"0x0000000000000000000000000000000000000001","stake":"0"}]}`), uint64(3))
	f.Fuzz(func(t *testing.T, data []byte, height uint64) {
		var r rpc.ValidatorsResult
		if json.Unmarshal(data, &r) != nil {
			return
		}
		set, err := light.ValidatorSetFromRPC(&r, height)
		if err != nil {
			return
		}
		var total uint64
		for _, v := range r.Validators {
			if stake, ok := set.StakeOf(v.Address); !ok || stake != uint64(v.Stake) {
				t.Fatalf("member %s: stake %d, %v; want %d", chain.FormatAddress(v.Address), stake, ok, v.Stake)
			}
			total += uint64(v.Stake)
		}
		if set.Len() != len(r.Validators) || set.TotalStake() != total {
			t.Fatalf("set of %d members, total %d; want %d, %d", set.Len(), set.TotalStake(), len(r.Validators), total)
		}
	})
}

// FuzzVerify mutates one field of a real signed header or its certificate
// and verifies it, adjacent and skipping: a changed header is never
// accepted, whatever the change.
func FuzzVerify(f *testing.F) {
	c := changingChain(f)
	trusted := make([]*light.Trusted, c.Height()+1)
	for h := uint64(1); h <= c.Height(); h++ {
		sh := c.Block(h)
		trusted[h] = &light.Trusted{Height: h, Hash: sh.Hash(), Time: sh.Header.Time, Signed: sh, Validators: c.Set(h), NextValidators: c.Set(h + 1)}
	}
	trusted[0] = &light.Trusted{Time: uint64(lighttest.GenesisTime.UnixMilli()), NextValidators: c.Set(1)}
	f.Add(uint8(5), uint8(0), uint8(0), uint8(1), uint8(0))
	f.Add(uint8(9), uint8(3), uint8(7), uint8(0x80), uint8(1))
	f.Add(uint8(16), uint8(12), uint8(64), uint8(1), uint8(0))
	f.Add(uint8(11), uint8(13), uint8(2), uint8(0), uint8(3))
	f.Fuzz(func(t *testing.T, height, field, offset, xor, skip uint8) {
		h := uint64(height)%c.Height() + 1
		real := c.Block(h)
		hd := real.Header
		cert := *real.Certificate
		cert.Precommits = append([]chain.CommitSig(nil), cert.Precommits...)
		mutate(&hd, &cert, field, int(offset), xor)
		sh := &light.SignedHeader{Header: hd, Certificate: &cert}
		from := h - 1
		if skip != 0 {
			from = h - 1 - min(uint64(skip)%8, h-1)
		}
		var err error
		if from == h-1 {
			err = light.VerifyAdjacent(lighttest.ChainID, trusted[from], sh, c.Set(h))
		} else {
			err = light.VerifySkipping(lighttest.ChainID, trusted[from], sh, c.Set(h), 20)
		}
		if err == nil && sh.Hash() != real.Hash() {
			t.Fatalf("accepted a changed header at h=%d (field %d, offset %d, xor %#x)", h, field, offset, xor)
		}
	})
}

// mutate flips bits of one field: 0..10 header fields, 11 certificate
// height, 12 round, 13 block hash, 14 a signature, 15 a signer, 16 drops a
// precommit, 17 duplicates one.
func mutate(hd *chain.Header, cert *chain.Certificate, field uint8, offset int, xor uint8) {
	flip := func(b []byte) {
		if len(b) > 0 {
			b[offset%len(b)] ^= xor
		}
	}
	u64 := func(v *uint64) {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], *v)
		flip(b[:])
		*v = binary.BigEndian.Uint64(b[:])
	}
	n := len(cert.Precommits)
	switch field % 18 {
	case 0:
		if xor != 0 {
			hd.ChainID += string(rune('a' + xor%26))
		}
	case 1:
		u64(&hd.Height)
	case 2:
		u64(&hd.Time)
	case 3:
		flip(hd.ParentHash[:])
	case 4:
		flip(hd.Proposer[:])
	case 5:
		flip(hd.TxRoot[:])
	case 6:
		flip(hd.StateHash[:])
	case 7:
		flip(hd.ValidatorsHash[:])
	case 8:
		flip(hd.NextValidatorsHash[:])
	case 9:
		flip(hd.LastCertHash[:])
	case 10:
		flip(hd.EvidenceRoot[:])
	case 11:
		u64(&cert.Height)
	case 12:
		cert.Round ^= uint32(xor)
	case 13:
		flip(cert.BlockHash[:])
	case 14:
		flip(cert.Precommits[offset%n].Signature[:])
	case 15:
		flip(cert.Precommits[offset%n].Validator[:])
	case 16:
		i := offset % n
		cert.Precommits = append(cert.Precommits[:i], cert.Precommits[i+1:]...)
	case 17:
		i := offset % n
		cert.Precommits = append(cert.Precommits[:i+1], cert.Precommits[i:]...)
	}
}
