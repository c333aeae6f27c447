package chain

import (
	"crypto/ecdsa"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
)

// testKey returns the deterministic private key with scalar n (n >= 1).
func testKey(t testing.TB, n int64) *ecdsa.PrivateKey {
	t.Helper()
	b := make([]byte, 32)
	big.NewInt(n).FillBytes(b)
	k, err := crypto.ToECDSA(b)
	if err != nil {
		t.Fatalf("key %d: %v", n, err)
	}
	return k
}

// stakeMap is a StakeSet for tests.
type stakeMap map[Address]uint64

func (m stakeMap) StakeOf(a Address) (uint64, bool) { s, ok := m[a]; return s, ok }
func (m stakeMap) TotalStake() uint64 {
	var t uint64
	for _, s := range m {
		t += s
	}
	return t
}

func signedTx(t testing.TB, key *ecdsa.PrivateKey, chainID string, kind TxKind, nonce uint64, to Address, amount uint64) *Tx {
	t.Helper()
	tx := &Tx{ChainID: chainID, Kind: kind, Nonce: nonce, To: to, Amount: amount}
	sig, err := Sign(key, tx.SignHash())
	if err != nil {
		t.Fatal(err)
	}
	tx.Sig = sig
	return tx
}

func signedVote(t testing.TB, key *ecdsa.PrivateKey, chainID string, typ VoteType, h uint64, r uint32, block Hash) *Vote {
	t.Helper()
	v := &Vote{Type: typ, Height: h, Round: r, BlockHash: block, Validator: PubkeyAddress(&key.PublicKey)}
	sig, err := Sign(key, v.SignHash(chainID))
	if err != nil {
		t.Fatal(err)
	}
	v.Signature = sig
	return v
}

// certFor builds a certificate for block signed by keys.
func certFor(t testing.TB, chainID string, h uint64, r uint32, block Hash, keys ...*ecdsa.PrivateKey) *Certificate {
	t.Helper()
	var ps []CommitSig
	for _, k := range keys {
		v := signedVote(t, k, chainID, Precommit, h, r, block)
		ps = append(ps, CommitSig{Validator: v.Validator, Signature: v.Signature})
	}
	return NewCertificate(h, r, block, ps)
}
