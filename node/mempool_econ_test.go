package node

import (
	"crypto/ecdsa"
	"errors"
	"strings"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

// ledger is an AccountReader with candidates, bonds, a min_fee and a
// height the test moves.
type ledger struct {
	accounts   accounts
	candidates map[chain.Address]staking.Candidate
	bonds      map[[2]chain.Address]uint64
	minFee     uint64
	height     uint64
}

func newLedger(minFee uint64) *ledger {
	return &ledger{accounts: accounts{}, candidates: map[chain.Address]staking.Candidate{},
		bonds: map[[2]chain.Address]uint64{}, minFee: minFee}
}

func (l *ledger) Account(a chain.Address) staking.Account { return l.accounts[a] }
func (l *ledger) Candidate(a chain.Address) (staking.Candidate, bool) {
	c, ok := l.candidates[a]
	return c, ok
}
func (l *ledger) Bond(d, v chain.Address) uint64 { return l.bonds[[2]chain.Address{d, v}] }
func (l *ledger) Params() staking.Params {
	p := staking.DefaultParams()
	p.MinFee = l.minFee
	return p
}
func (l *ledger) Height() uint64 { return l.height }

// at returns a copy of l at height h, as the next committed state.
func (l *ledger) at(h uint64) *ledger {
	c := *l
	c.height = h
	return &c
}

func signed(t testing.TB, k *ecdsa.PrivateKey, kind chain.TxKind, nonce uint64, to chain.Address, amount, fee uint64) *chain.Tx {
	t.Helper()
	tx := &chain.Tx{ChainID: testChainID, Kind: kind, Nonce: nonce, To: to, Amount: amount, Fee: fee}
	sig, err := chain.Sign(k, tx.SignHash())
	if err != nil {
		t.Fatal(err)
	}
	tx.Sig = sig
	return tx
}

// TestMempoolAdmitsByState: every rejection that needs the committed
// state, each with its reason, and the admissions next to them.
func TestMempoolAdmitsByState(t *testing.T) {
	jailed, free, early, delegator := key(t, 11), key(t, 12), key(t, 13), key(t, 14)
	val := addr(key(t, 15))
	l := newLedger(3)
	l.height = 9 // the next block is 10
	for _, k := range []*ecdsa.PrivateKey{jailed, free, early, delegator} {
		l.accounts[addr(k)] = staking.Account{Balance: 100}
	}
	l.candidates[addr(jailed)] = staking.Candidate{Address: addr(jailed), Stake: 50, Jailed: true, JailedUntil: 10}
	l.candidates[addr(early)] = staking.Candidate{Address: addr(early), Stake: 50, Jailed: true, JailedUntil: 11}
	l.candidates[addr(free)] = staking.Candidate{Address: addr(free), Stake: 50}
	l.candidates[val] = staking.Candidate{Address: val, Stake: 40}
	l.bonds[[2]chain.Address{addr(delegator), val}] = 40

	cases := []struct {
		name string
		tx   *chain.Tx
		want error // nil: admitted
	}{
		{"fee below min_fee", signed(t, delegator, chain.TxTransfer, 0, val, 1, 2), staking.ErrFeeTooLow},
		{"fee above the maximum supply", signed(t, delegator, chain.TxTransfer, 0, val, 1, staking.MaxSupply+1), staking.ErrOverflow},
		{"fee and amount that would wrap the pending spend", signed(t, delegator, chain.TxTransfer, 0, val, staking.MaxSupply, staking.MaxSupply), errPendingBalance},
		{"set-commission by a non-candidate", signed(t, delegator, chain.TxSetCommission, 0, chain.Address{}, 1, 3), staking.ErrUnknownValidator},
		{"unjail by a non-candidate", signed(t, delegator, chain.TxUnjail, 0, chain.Address{}, 0, 3), staking.ErrUnknownValidator},
		{"unjail by a validator not jailed", signed(t, free, chain.TxUnjail, 0, chain.Address{}, 0, 3), staking.ErrNotJailed},
		{"unjail before the jail time is over", signed(t, early, chain.TxUnjail, 0, chain.Address{}, 0, 3), staking.ErrJailTimeNotOver},
		{"unjail once the jail time is over", signed(t, jailed, chain.TxUnjail, 0, chain.Address{}, 0, 3), nil},
		{"unstake with no bond", signed(t, free, chain.TxUnstake, 0, val, 1, 3), staking.ErrInsufficientBond},
		{"unstake beyond the bond", signed(t, delegator, chain.TxUnstake, 0, val, 41, 3), staking.ErrInsufficientBond},
		{"unstake within the bond", signed(t, delegator, chain.TxUnstake, 0, val, 40, 3), nil},
		{"fees count against the balance", signed(t, delegator, chain.TxTransfer, 1, val, 95, 3), errPendingBalance},
		{"transfer covered with its fee", signed(t, delegator, chain.TxTransfer, 1, val, 94, 3), nil},
	}
	m := newTxPool(testChainID, MempoolConfig{Size: 100, MaxPerSender: 10}, l)
	for _, c := range cases {
		_, err := m.Add(c.tx)
		if c.want == nil {
			if err != nil {
				t.Errorf("%s: got %v, want admitted", c.name, err)
			}
			continue
		}
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	if got := m.Size(); got != 3 {
		t.Fatalf("size: got %d, want 3", got)
	}
}

// TestMempoolSpamOfGappedUnjailsRefused is the attack of fresh keys that
// each send a run of gapped unjail transactions to fill every pool for
// nothing. With no min_fee (the genesis default) and no balance needed,
// only the state check stands in the way: it refuses all of them, and an
// ordinary transfer still gets in.
func TestMempoolSpamOfGappedUnjailsRefused(t *testing.T) {
	const keys, perKey = 50, 20
	l := newLedger(0)
	honest := key(t, 999)
	l.accounts[addr(honest)] = staking.Account{Balance: 10}
	m := newTxPool(testChainID, MempoolConfig{Size: 100, MaxPerSender: 1000}, l)
	for i := range keys {
		k := key(t, int64(1000+i))
		for n := range uint64(perKey) {
			if _, err := m.Add(signed(t, k, chain.TxUnjail, 1+n*7, chain.Address{}, 0, 0)); !errors.Is(err, staking.ErrUnknownValidator) {
				t.Fatalf("spam key %d nonce %d: got %v, want refused as no validator", i, 1+n*7, err)
			}
		}
	}
	if got := m.Size(); got != 0 {
		t.Fatalf("size after the spam: got %d, want 0", got)
	}
	if _, err := m.Add(signed(t, honest, chain.TxTransfer, 0, chain.Address{1}, 5, 0)); err != nil {
		t.Fatalf("honest transfer after the spam: %v", err)
	}
}

// TestMempoolGapExpiry: a transaction behind a nonce gap is evicted after
// the expiry, with its reason; the contiguous ones wait on.
func TestMempoolGapExpiry(t *testing.T) {
	a := key(t, 21)
	l := newLedger(0)
	l.accounts[addr(a)] = staking.Account{Balance: 100}
	m := newTxPool(testChainID, MempoolConfig{Size: 10, MaxPerSender: 10, GapExpiryBlocks: 5}, l)
	ready, gapped := transfer(t, a, 0, 1), transfer(t, a, 2, 1)
	for _, tx := range []*chain.Tx{ready, gapped} {
		if _, err := m.Add(tx); err != nil {
			t.Fatal(err)
		}
	}
	for h := uint64(1); h < 5; h++ {
		if n := m.Update(nil, l.at(h)); n != 0 || !m.Has(gapped.Hash()) {
			t.Fatalf("h=%d: evicted %d, gapped pending %v; want nothing evicted before the expiry", h, n, m.Has(gapped.Hash()))
		}
	}
	if n := m.Update(nil, l.at(5)); n != 1 || m.Has(gapped.Hash()) || !m.Has(ready.Hash()) {
		t.Fatalf("h=5: evicted %d; want only the gapped transaction", n)
	}
	if reason, ok := m.Evicted(gapped.Hash()); !ok || !strings.Contains(reason, "nonce gap") {
		t.Fatalf("eviction reason: got %q, %v", reason, ok)
	}
}

// TestMempoolFullEvictsLowestFee: when the pool is full, a higher fee
// takes the place of the lowest one that some sender's last nonce pays; a
// sender's earlier nonces are never taken from under its later ones, and
// an equal or lower fee is refused.
func TestMempoolFullEvictsLowestFee(t *testing.T) {
	a, b, c, d := key(t, 31), key(t, 32), key(t, 33), key(t, 34)
	l := newLedger(1)
	for _, k := range []*ecdsa.PrivateKey{a, b, c, d} {
		l.accounts[addr(k)] = staking.Account{Balance: 1000}
	}
	m := newTxPool(testChainID, MempoolConfig{Size: 3, MaxPerSender: 10}, l)
	a0 := signed(t, a, chain.TxTransfer, 0, chain.Address{1}, 1, 1) // cheapest, but a's first nonce
	a1 := signed(t, a, chain.TxTransfer, 1, chain.Address{1}, 1, 9)
	b0 := signed(t, b, chain.TxTransfer, 0, chain.Address{1}, 1, 3)
	for _, tx := range []*chain.Tx{a0, a1, b0} {
		if _, err := m.Add(tx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Add(signed(t, c, chain.TxTransfer, 0, chain.Address{1}, 1, 3)); !errors.Is(err, errPoolFull) {
		t.Fatalf("equal fee: got %v, want errPoolFull", err)
	}
	c0 := signed(t, c, chain.TxTransfer, 0, chain.Address{1}, 1, 4)
	if _, err := m.Add(c0); err != nil {
		t.Fatalf("higher fee: %v", err)
	}
	if m.Has(b0.Hash()) || !m.Has(a0.Hash()) || !m.Has(a1.Hash()) || m.Size() != 3 {
		t.Fatalf("after c0: want b0 (the lowest last-nonce fee) evicted, a0 and a1 kept; size %d", m.Size())
	}
	if reason, ok := m.Evicted(b0.Hash()); !ok || !strings.Contains(reason, "outbid") {
		t.Fatalf("b0 eviction reason: got %q, %v", reason, ok)
	}
	// The lowest last-nonce fee is now c0's own (4); d outbids it, but c
	// cannot outbid itself with its next nonce.
	if _, err := m.Add(signed(t, c, chain.TxTransfer, 1, chain.Address{1}, 1, 8)); !errors.Is(err, errPoolFull) {
		t.Fatalf("sender outbidding itself: got %v, want errPoolFull", err)
	}
	d0 := signed(t, d, chain.TxTransfer, 0, chain.Address{1}, 1, 5)
	if _, err := m.Add(d0); err != nil || m.Has(c0.Hash()) {
		t.Fatalf("d0: got %v, c0 pending %v; want c0 evicted", err, m.Has(c0.Hash()))
	}
	got := m.Reap(10)
	if len(got) != 3 || got[0].Hash() != a0.Hash() {
		t.Fatalf("reap: got %d txs, first nonce %d; want a0, a1 and d0 with a's order kept", len(got), got[0].Nonce)
	}
}

// TestMempoolFullRefusesBeforeRecovery: a full pool refuses a fee that
// beats no one without recovering the sender, so a flood at the going fee
// costs no signature work. The probe's signature is canonical but
// unrecoverable: a pool that recovered first would answer "bad
// signature", not "full".
func TestMempoolFullRefusesBeforeRecovery(t *testing.T) {
	a, b := key(t, 41), key(t, 42)
	l := newLedger(1)
	for _, k := range []*ecdsa.PrivateKey{a, b} {
		l.accounts[addr(k)] = staking.Account{Balance: 1000}
	}
	m := newTxPool(testChainID, MempoolConfig{Size: 2, MaxPerSender: 10}, l)
	for _, tx := range []*chain.Tx{signed(t, a, chain.TxTransfer, 0, chain.Address{1}, 1, 3), signed(t, b, chain.TxTransfer, 0, chain.Address{1}, 1, 5)} {
		if _, err := m.Add(tx); err != nil {
			t.Fatal(err)
		}
	}
	probe := signed(t, b, chain.TxTransfer, 1, chain.Address{1}, 1, 3)
	probe.Sig[0] ^= 0xff // r changes: a different point, most likely none, never b
	if _, err := chain.Recover(probe.SignHash(), &probe.Sig); err == nil {
		if from, _ := probe.Sender(); from == addr(b) {
			t.Fatal("probe still recovers to b")
		}
	}
	if _, err := m.Add(probe); !errors.Is(err, errPoolFull) {
		t.Fatalf("fee 3 into a full pool whose lowest fee is 3: got %v, want errPoolFull before recovery", err)
	}
	// A fee that beats the lowest still has its signature checked.
	probe.Fee = 4
	if _, err := m.Add(probe); errors.Is(err, errPoolFull) || err == nil {
		t.Fatalf("fee 4 with a bad signature: got %v, want a signature or balance error", err)
	}
}
