package node

import (
	"crypto/ecdsa"
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

const testChainID = "quorum-test"

// accounts is a ledger of balances and nonces only: no candidates, no
// bonds, no min_fee, height 0.
type accounts map[chain.Address]staking.Account

func (a accounts) Account(addr chain.Address) staking.Account      { return a[addr] }
func (accounts) Candidate(chain.Address) (staking.Candidate, bool) { return staking.Candidate{}, false }
func (accounts) Bond(_, _ chain.Address) uint64                    { return 0 }
func (accounts) Params() staking.Params                            { return staking.DefaultParams() }
func (accounts) Height() uint64                                    { return 0 }

func key(t testing.TB, n int64) *ecdsa.PrivateKey {
	t.Helper()
	b := make([]byte, 32)
	big.NewInt(n).FillBytes(b)
	k, err := crypto.ToECDSA(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func addr(k *ecdsa.PrivateKey) chain.Address { return chain.PubkeyAddress(&k.PublicKey) }

func transfer(t testing.TB, k *ecdsa.PrivateKey, nonce, amount uint64) *chain.Tx {
	t.Helper()
	tx := &chain.Tx{ChainID: testChainID, Kind: chain.TxTransfer, Nonce: nonce, To: chain.Address{0xee}, Amount: amount}
	sig, err := chain.Sign(k, tx.SignHash())
	if err != nil {
		t.Fatal(err)
	}
	tx.Sig = sig
	return tx
}

func TestMempoolAdmission(t *testing.T) {
	a, b := key(t, 1), key(t, 2)
	st := accounts{addr(a): {Balance: 100, Nonce: 5}, addr(b): {Balance: 10}}
	m := newTxPool(testChainID, MempoolConfig{Size: 6, MaxPerSender: 4, MaxNonceGap: 4}, st)

	if _, err := m.Add(transfer(t, a, 5, 10)); err != nil {
		t.Fatalf("valid tx: %v", err)
	}
	cases := []struct {
		name string
		tx   *chain.Tx
		want error
	}{
		{"duplicate", transfer(t, a, 5, 10), errAlreadyKnown},
		{"replayed nonce", transfer(t, a, 4, 1), errNonceTooLow},
		{"nonce taken", transfer(t, a, 5, 11), errNonceTaken},
		{"nonce too far ahead", transfer(t, a, 9, 1), errNonceGap},
		{"pending balance", transfer(t, a, 6, 91), errPendingBalance},
		{"insufficient balance", transfer(t, b, 0, 11), staking.ErrInsufficientBalance},
	}
	for _, c := range cases {
		if _, err := m.Add(c.tx); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	wrong := transfer(t, a, 6, 1)
	wrong.ChainID = "other"
	if _, err := m.Add(wrong); !errors.Is(err, chain.ErrWrongChain) {
		t.Errorf("wrong chain: got %v", err)
	}
	forged := transfer(t, a, 6, 1)
	forged.Amount = 2 // signature no longer matches: recovers to another address with no funds
	if _, err := m.Add(forged); !errors.Is(err, staking.ErrInsufficientBalance) && !errors.Is(err, staking.ErrBadNonce) && !errors.Is(err, chain.ErrBadSignature) {
		t.Errorf("forged amount: got %v", err)
	}
	for n := uint64(6); n < 9; n++ {
		if _, err := m.Add(transfer(t, a, n, 1)); err != nil {
			t.Fatalf("nonce %d: %v", n, err)
		}
	}
	if _, err := m.Add(transfer(t, a, 9, 1)); !errors.Is(err, errNonceGap) && !errors.Is(err, errSenderFull) {
		t.Errorf("per-sender limit: got %v", err)
	}
	if _, err := m.Add(transfer(t, b, 0, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Add(transfer(t, b, 1, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Add(transfer(t, b, 2, 1)); !errors.Is(err, errPoolFull) {
		t.Errorf("size limit: got %v", err)
	}
	if m.Size() != 6 {
		t.Fatalf("size %d, want 6", m.Size())
	}
	tx := transfer(t, a, 5, 10)
	if from, ok := m.Sender(tx.Hash()); !ok || from != addr(a) {
		t.Fatalf("sender cache: %v %v", from, ok)
	}
}

func TestMempoolReapAndUpdate(t *testing.T) {
	a, b := key(t, 1), key(t, 2)
	st := accounts{addr(a): {Balance: 100}, addr(b): {Balance: 100}}
	m := newTxPool(testChainID, MempoolConfig{Size: 100, MaxPerSender: 10}, st)
	var aTxs []*chain.Tx
	for _, n := range []uint64{0, 1, 3} { // nonce 2 missing: 3 cannot be reaped
		tx := transfer(t, a, n, 10)
		aTxs = append(aTxs, tx)
		if _, err := m.Add(tx); err != nil {
			t.Fatal(err)
		}
	}
	b0 := transfer(t, b, 0, 10)
	if _, err := m.Add(b0); err != nil {
		t.Fatal(err)
	}
	got := m.Reap(10)
	want := []*chain.Tx{aTxs[0], b0, aTxs[1]} // round-robin by sender, nonce order
	if len(got) != len(want) {
		t.Fatalf("reaped %d, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Hash() != want[i].Hash() {
			t.Fatalf("reap[%d]: nonce %d, want nonce %d", i, got[i].Nonce, want[i].Nonce)
		}
	}
	if n := len(m.Reap(1)); n != 1 {
		t.Fatalf("reap limit: %d", n)
	}

	// a's nonce 0 and 1 were included; b spent its balance elsewhere.
	after := accounts{addr(a): {Balance: 80, Nonce: 2}, addr(b): {Balance: 5, Nonce: 0}}
	evicted := m.Update([]chain.Hash{aTxs[0].Hash(), aTxs[1].Hash()}, after)
	if evicted != 1 {
		t.Fatalf("evicted %d, want 1 (b's transfer no longer covered)", evicted)
	}
	if reason, ok := m.Evicted(b0.Hash()); !ok || reason == "" {
		t.Fatalf("no eviction reason for b's transfer")
	}
	if !m.Has(aTxs[2].Hash()) || m.Size() != 1 {
		t.Fatalf("a's nonce-3 tx should stay pending; size %d", m.Size())
	}
}

// BenchmarkPoolAddDuplicate offers the mempool a transaction it already
// holds, as every relayed copy of a gossiped transaction does: the cost of
// finding out that it is known.
func BenchmarkPoolAddDuplicate(b *testing.B) {
	k := key(b, 1)
	m := newTxPool(testChainID, MempoolConfig{Size: 100, MaxPerSender: 10}, accounts{addr(k): {Balance: 1000}})
	tx, err := chain.DecodeTx(transfer(b, k, 0, 10).Encode())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Add(tx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Add(tx); !errors.Is(err, errAlreadyKnown) {
			b.Fatalf("got %v, want %v", err, errAlreadyKnown)
		}
	}
}

// BenchmarkFeeHeapNewTop measures what admitting a sender's next nonce
// costs the eviction order: its top changes to a newer transaction at the
// same fee, among 4,096 senders.
func BenchmarkFeeHeapNewTop(b *testing.B) {
	const senders = 4096
	var h feeHeap
	sts := make([]*senderTxs, senders)
	seq := uint64(0)
	for i := range sts {
		seq++
		sts[i] = &senderTxs{idx: -1, top: &poolTx{tx: &chain.Tx{Fee: 10}, seq: seq}}
		h.update(sts[i])
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		seq++
		st := sts[i%senders]
		st.top = &poolTx{tx: st.top.tx, seq: seq}
		h.update(st)
		i += 7
	}
}
