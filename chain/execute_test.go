package chain_test

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/chaintest"
	"github.com/quorumchain/quorumchain/staking"
)

const execChain = "quorum-exec-test"

// execParams are short enough that unbonding and jail run out in a few blocks.
var execParams = staking.Params{
	UnbondingBlocks:         3,
	MinStake:                100,
	MaxValidators:           10,
	SlashFractionDoubleSign: staking.Fraction{Num: 1, Den: 10},
	ProposerBonus:           staking.Fraction{Num: 1, Den: 10},
	DowntimeWindow:          10,
	DowntimeMaxMissed:       5,
	SlashFractionDowntime:   staking.Fraction{Num: 0, Den: 1},
	JailBlocks:              3,
	MinFee:                  execFee,
}

// execFee is the min_fee of the execution tests and the fee their
// transactions pay.
const execFee = 2

const (
	genesisStake     = 1_000
	genesisBalance   = 10_000
	validatorBalance = 100
)

// Keys of the execution genesis: validators v0..v3 (stake 1,000 each, no
// balance) and accounts a0..a3 (10,000 each). a3 is the bystander whose
// transfers surround the transaction under test.
var (
	v0, v1, v2, v3 = chaintest.ValidatorKey(0), chaintest.ValidatorKey(1), chaintest.ValidatorKey(2), chaintest.ValidatorKey(3)
	a0, a1, a2, a3 = chaintest.AccountKey(0), chaintest.AccountKey(1), chaintest.AccountKey(2), chaintest.AccountKey(3)
)

var addr = chaintest.Addr

func newExecChain(t testing.TB) *chaintest.Chain {
	t.Helper()
	st, _ := chaintest.Genesis{
		Params:   execParams,
		Stakes:   []uint64{genesisStake, genesisStake, genesisStake, genesisStake},
		Balances: []uint64{genesisBalance, genesisBalance, genesisBalance, genesisBalance},
		// Validators pay fees for unjail and unstake.
		ValidatorBalances: []uint64{validatorBalance, validatorBalance, validatorBalance, validatorBalance},
	}.New(t)
	return chaintest.NewChain(execChain, st)
}

// signTx signs a transaction of key with its next nonce on c.
func signTx(t testing.TB, c *chaintest.Chain, key *ecdsa.PrivateKey, kind chain.TxKind, to chain.Address, amount uint64) *chain.Tx {
	t.Helper()
	return feeTx(t, key, kind, c.State.Account(addr(key)).Nonce, to, amount)
}

// feeTx signs a transaction of key paying execFee.
func feeTx(t testing.TB, key *ecdsa.PrivateKey, kind chain.TxKind, nonce uint64, to chain.Address, amount uint64) *chain.Tx {
	t.Helper()
	return chaintest.FeeTx(t, key, execChain, kind, nonce, to, amount, execFee)
}

// jailV1 runs block 1, then block 2 with evidence of v1's double sign at
// height 1: v1 is jailed until 2+JailBlocks = 5.
func jailV1(t testing.TB, c *chaintest.Chain) {
	t.Helper()
	c.Next(t, nil)
	c.Next(t, nil, chaintest.DoubleSign(t, v1, execChain, 1, 0))
	if cand, _ := c.State.Candidate(addr(v1)); !cand.Jailed || cand.JailedUntil != 5 {
		t.Fatalf("v1 after slash: got %+v, want jailed until 5", cand)
	}
}

// resign replaces tx's signature with key's signature over its current fields.
func resign(t testing.TB, tx *chain.Tx, key *ecdsa.PrivateKey) *chain.Tx {
	t.Helper()
	sig, err := chain.Sign(key, tx.SignHash())
	if err != nil {
		t.Fatal(err)
	}
	tx.Sig = sig
	return tx
}

// unrecoverable corrupts R until the signature no longer recovers any key.
func unrecoverable(t testing.TB, tx *chain.Tx) *chain.Tx {
	t.Helper()
	digest := tx.SignHash()
	for range 64 {
		tx.Sig[31]++
		if _, err := crypto.Ecrecover(digest[:], tx.Sig[:]); err != nil {
			return tx
		}
	}
	t.Fatal("no unrecoverable R found in 64 tries")
	return nil
}

// TestExecuteRejections covers every reason a transaction fails. A
// transaction that cannot be charged (invalid: true) makes its block
// invalid, and BuildWith leaves it out; any other failure charges the fee
// and the nonce and changes nothing else.
func TestExecuteRejections(t *testing.T) {
	halfN := new(big.Int).Rsh(crypto.S256().Params().N, 1)
	cases := []struct {
		name    string
		prep    func(t testing.TB, c *chaintest.Chain) // blocks before the one under test
		signer  *ecdsa.PrivateKey                      // who pays the fee of a charged failure
		tx      func(t testing.TB, c *chaintest.Chain) *chain.Tx
		code    string
		invalid bool
	}{
		{
			name: "bad signature: recovery id out of range", invalid: true, signer: a0, code: chain.CodeBadSignature,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				tx := signTx(t, c, a0, chain.TxTransfer, addr(a1), 1)
				tx.Sig[64] = 7
				return tx
			},
		},
		{
			name: "bad signature: zero r", invalid: true, signer: a0, code: chain.CodeBadSignature,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				tx := signTx(t, c, a0, chain.TxTransfer, addr(a1), 1)
				clear(tx.Sig[:32])
				return tx
			},
		},
		{
			name: "bad signature: high s (malleated)", invalid: true, signer: a0, code: chain.CodeBadSignature,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				tx := signTx(t, c, a0, chain.TxTransfer, addr(a1), 1)
				s := new(big.Int).SetBytes(tx.Sig[32:64])
				if s.Cmp(halfN) > 0 {
					t.Fatal("Sign produced a high-s signature")
				}
				new(big.Int).Sub(crypto.S256().Params().N, s).FillBytes(tx.Sig[32:64])
				tx.Sig[64] ^= 1
				return tx
			},
		},
		{
			name: "bad signature: corrupted r recovers no key", invalid: true, signer: a0, code: chain.CodeBadSignature,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return unrecoverable(t, signTx(t, c, a0, chain.TxTransfer, addr(a1), 1))
			},
		},
		{
			// The signature recovers to some unfunded stranger with nonce 0,
			// who cannot pay the fee.
			name: "tampered amount: stranger has no balance", invalid: true, signer: a0, code: chain.CodeInsufficientBalance,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				tx := signTx(t, c, a0, chain.TxTransfer, addr(a1), 1)
				tx.Amount = 2
				return tx
			},
		},
		{
			name: "wrong chain", invalid: true, signer: a0, code: chain.CodeWrongChain,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return chaintest.FeeTx(t, a0, "other-chain", chain.TxTransfer, 0, addr(a1), 1, execFee)
			},
		},
		{
			name: "invalid: zero transfer", invalid: true, signer: a0, code: chain.CodeInvalidTx,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return signTx(t, c, a0, chain.TxTransfer, addr(a1), 0)
			},
		},
		{
			name: "invalid: zero stake", invalid: true, signer: a0, code: chain.CodeInvalidTx,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return signTx(t, c, a0, chain.TxStake, addr(v0), 0)
			},
		},
		{
			name: "invalid: zero unstake", invalid: true, signer: a0, code: chain.CodeInvalidTx,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return signTx(t, c, a0, chain.TxUnstake, addr(v0), 0)
			},
		},
		{
			name: "invalid: unjail with an amount", invalid: true, signer: v0, code: chain.CodeInvalidTx,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return signTx(t, c, v0, chain.TxUnjail, chain.Address{}, 1)
			},
		},
		{
			name: "invalid: unknown kind", invalid: true, signer: a0, code: chain.CodeInvalidTx,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return signTx(t, c, a0, chain.TxKind(9), addr(a1), 1)
			},
		},
		{
			name: "bad nonce: replay of an applied tx", invalid: true, signer: a0, code: chain.CodeBadNonce,
			prep: func(t testing.TB, c *chaintest.Chain) {
				c.Next(t, []*chain.Tx{feeTx(t, a0, chain.TxTransfer, 0, addr(a1), 5)})
			},
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return feeTx(t, a0, chain.TxTransfer, 0, addr(a1), 5)
			},
		},
		{
			name: "bad nonce: gap", invalid: true, signer: a0, code: chain.CodeBadNonce,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return feeTx(t, a0, chain.TxTransfer, 1, addr(a1), 5)
			},
		},
		{
			name: "fee below min_fee", signer: a0, invalid: true, code: chain.CodeFeeTooLow,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return chaintest.FeeTx(t, a0, execChain, chain.TxTransfer, 0, addr(a1), 1, execFee-1)
			},
		},
		{
			name: "fee above the balance", signer: a0, invalid: true, code: chain.CodeInsufficientBalance,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return chaintest.FeeTx(t, a0, execChain, chain.TxTransfer, 0, addr(a1), 1, genesisBalance+1)
			},
		},
		{
			name: "insufficient balance: fee paid, amount not covered", signer: a0, code: chain.CodeInsufficientBalance,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return signTx(t, c, a0, chain.TxTransfer, addr(a1), genesisBalance-execFee+1)
			},
		},
		{
			name: "insufficient balance: transfer", signer: a0, code: chain.CodeInsufficientBalance,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return signTx(t, c, a0, chain.TxTransfer, addr(a1), genesisBalance+1)
			},
		},
		{
			name: "insufficient balance: stake", signer: a0, code: chain.CodeInsufficientBalance,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return signTx(t, c, a0, chain.TxStake, addr(v0), genesisBalance+1)
			},
		},
		{
			name: "below min stake: self-registration", signer: a0, code: chain.CodeBelowMinStake,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return signTx(t, c, a0, chain.TxStake, addr(a0), execParams.MinStake-1)
			},
		},
		{
			name: "below min stake: unjail after unbonding the self-bond", signer: v1, code: chain.CodeBelowMinStake,
			prep: func(t testing.TB, c *chaintest.Chain) {
				jailV1(t, c) // self-bond 900 after the slash
				c.Next(t, []*chain.Tx{signTx(t, c, v1, chain.TxUnstake, addr(v1), 850)})
				c.EmptyBlocks(t, 4) // unjail at 5 = JailedUntil
			},
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return signTx(t, c, v1, chain.TxUnjail, chain.Address{}, 0)
			},
		},
		{
			name: "unknown validator: stake to a non-candidate", signer: a0, code: chain.CodeUnknownValidator,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return signTx(t, c, a0, chain.TxStake, addr(a1), 500)
			},
		},
		{
			name: "unknown validator: unstake from a non-candidate", signer: a0, code: chain.CodeUnknownValidator,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return signTx(t, c, a0, chain.TxUnstake, addr(a1), 1)
			},
		},
		{
			name: "unknown validator: unjail by a non-candidate", signer: a0, code: chain.CodeUnknownValidator,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return signTx(t, c, a0, chain.TxUnjail, chain.Address{}, 0)
			},
		},
		{
			name: "jailed: delegation to a jailed validator", signer: a0, code: chain.CodeJailed, prep: jailV1,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return signTx(t, c, a0, chain.TxStake, addr(v1), 100)
			},
		},
		{
			name: "not jailed: unjail of an active validator", signer: v0, code: chain.CodeNotJailed,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return signTx(t, c, v0, chain.TxUnjail, chain.Address{}, 0)
			},
		},
		{
			name: "jail time not over: unjail one block early", signer: v1, code: chain.CodeJailTimeNotOver,
			prep: func(t testing.TB, c *chaintest.Chain) {
				jailV1(t, c)
				c.EmptyBlocks(t, 3) // unjail at 4 < JailedUntil 5
			},
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return signTx(t, c, v1, chain.TxUnjail, chain.Address{}, 0)
			},
		},
		{
			name: "insufficient bond: nothing bonded", signer: a0, code: chain.CodeInsufficientBond,
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return signTx(t, c, a0, chain.TxUnstake, addr(v0), 1)
			},
		},
		{
			name: "insufficient bond: more than bonded", signer: a0, code: chain.CodeInsufficientBond,
			prep: func(t testing.TB, c *chaintest.Chain) {
				c.Next(t, []*chain.Tx{signTx(t, c, a0, chain.TxStake, addr(v0), 100)})
			},
			tx: func(t testing.TB, c *chaintest.Chain) *chain.Tx {
				return signTx(t, c, a0, chain.TxUnstake, addr(v0), 101)
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newExecChain(t)
			if tc.prep != nil {
				tc.prep(t, c)
			}
			bad := tc.tx(t, c)
			before := signTx(t, c, a3, chain.TxTransfer, addr(a2), 1)
			after := feeTx(t, a3, chain.TxTransfer, before.Nonce+1, addr(a2), 1)
			want, wantFork, err := c.Try(c.Block([]*chain.Tx{before, after}))
			if err != nil {
				t.Fatalf("execute without the tx at h=%d: %v", c.Height()+1, err)
			}
			res, fork, err := c.Try(c.Block([]*chain.Tx{before, bad, after}))
			if tc.invalid {
				checkInvalidTx(t, c, err, bad, tc.code, want.StateHash)
				return
			}
			if err != nil {
				t.Fatalf("execute at h=%d: %v", c.Height()+1, err)
			}
			r := res.Receipts[1]
			if r.Status != chain.TxRejected || r.Code != tc.code || r.Error == "" || r.Fee != execFee || r.From != addr(tc.signer) {
				t.Fatalf("receipt at h=%d: got %+v, want rejected, %q, an error, fee %d", c.Height()+1, r, tc.code, execFee)
			}
			if r.TxHash != bad.Hash() {
				t.Errorf("receipt tx hash: got %s, want %s", r.TxHash, bad.Hash())
			}
			for _, i := range []int{0, 2} {
				if got := res.Receipts[i]; got.Status != chain.TxAccepted || got.Code != "" || got.Error != "" || got.From != addr(a3) || got.Fee != execFee {
					t.Errorf("bystander receipt %d: got %+v, want accepted with fee %d", i, got, execFee)
				}
			}
			if res.Fees != want.Fees+execFee {
				t.Errorf("block fees: got %d, want %d", res.Fees, want.Fees+execFee)
			}
			// The failed transaction moved exactly its fee from the signer to
			// the reward pool (carried: these blocks certify nothing) and used
			// the signer's nonce; nothing else differs.
			signer := addr(tc.signer)
			was := wantFork.Account(signer)
			wantAccount(t, fork, tc.signer, staking.Account{Balance: was.Balance - execFee, Nonce: was.Nonce + 1})
			if got, w := fork.Undistributed(), wantFork.Undistributed()+execFee; got != w {
				t.Errorf("reward pool: got %d, want %d", got, w)
			}
			if got, w := fork.TotalSupply(), wantFork.TotalSupply(); got != w {
				t.Errorf("supply: got %d, want %d (fees move coins, never mint or burn)", got, w)
			}
			if diff := entriesDiff(fork, wantFork); len(diff) != 2 {
				t.Errorf("entries that differ: got %q, want only the signer's account and the reward pool", diff)
			}
		})
	}
}

// checkInvalidTx asserts that err rejects the block for its transaction 1,
// bad, with the given receipt code, and that BuildWith leaves bad out of
// the same block and reaches wantHash, the state without it.
func checkInvalidTx(t *testing.T, c *chaintest.Chain, err error, bad *chain.Tx, code string, wantHash chain.Hash) {
	t.Helper()
	var ite *chain.InvalidTxError
	if !errors.As(err, &ite) || !errors.Is(err, chain.ErrInvalidTx) {
		t.Fatalf("execute at h=%d: got %v, want an *InvalidTxError", c.Height()+1, err)
	}
	if ite.Index != 1 || ite.Hash != bad.Hash() {
		t.Errorf("invalid tx: got index %d hash %s, want 1 %s", ite.Index, ite.Hash, bad.Hash())
	}
	if got := chain.RejectionCode(err); got != code {
		t.Errorf("reason: got %q (%v), want %q", got, err, code)
	}
	blk := c.Block([]*chain.Tx{
		signTx(t, c, a3, chain.TxTransfer, addr(a2), 1), bad,
		feeTx(t, a3, chain.TxTransfer, c.State.Account(addr(a3)).Nonce+1, addr(a2), 1),
	})
	senders := chain.RecoverSenders(blk.Txs, nil)
	res, err := chain.BuildWith(c.State.Fork(), execChain, blk, senders, c.Set, nil)
	if err != nil {
		t.Fatalf("BuildWith: %v", err)
	}
	if len(blk.Txs) != 2 || len(senders.Hashes) != 2 || len(res.Receipts) != 2 || slices.Contains(senders.Hashes, bad.Hash()) {
		t.Fatalf("BuildWith kept %d txs, %d senders, %d receipts; want the 2 valid ones", len(blk.Txs), len(senders.Hashes), len(res.Receipts))
	}
	if res.StateHash != wantHash {
		t.Errorf("BuildWith state hash: got %s, want %s as without the tx", res.StateHash, wantHash)
	}
}

// entriesDiff returns the keys whose values differ between a and b.
func entriesDiff(a, b *staking.State) []string {
	m := make(map[string]string)
	for _, kv := range a.Entries() {
		m[string(kv.Key)] = string(kv.Value)
	}
	var out []string
	for _, kv := range b.Entries() {
		k := string(kv.Key)
		if v, ok := m[k]; !ok || v != string(kv.Value) {
			out = append(out, fmt.Sprintf("%x", kv.Key))
		}
		delete(m, k)
	}
	for k := range m {
		out = append(out, fmt.Sprintf("%x", k))
	}
	return out
}

func TestExecuteAccepted(t *testing.T) {
	cases := []struct {
		name  string
		prep  func(t testing.TB, c *chaintest.Chain)
		txs   func(t testing.TB, c *chaintest.Chain) []*chain.Tx
		check func(t testing.TB, was, now *staking.State)
	}{
		{
			name: "transfer",
			txs: func(t testing.TB, c *chaintest.Chain) []*chain.Tx {
				return []*chain.Tx{signTx(t, c, a0, chain.TxTransfer, addr(a1), 2_500)}
			},
			check: func(t testing.TB, was, now *staking.State) {
				wantAccount(t, now, a0, staking.Account{Balance: genesisBalance - 2_500 - execFee, Nonce: 1})
				wantAccount(t, now, a1, staking.Account{Balance: genesisBalance + 2_500})
			},
		},
		{
			name: "transfer to self",
			txs: func(t testing.TB, c *chaintest.Chain) []*chain.Tx {
				return []*chain.Tx{signTx(t, c, a0, chain.TxTransfer, addr(a0), genesisBalance-execFee)}
			},
			check: func(t testing.TB, was, now *staking.State) {
				wantAccount(t, now, a0, staking.Account{Balance: genesisBalance - execFee, Nonce: 1})
			},
		},
		{
			name: "stake: self-registration as candidate",
			txs: func(t testing.TB, c *chaintest.Chain) []*chain.Tx {
				return []*chain.Tx{signTx(t, c, a0, chain.TxStake, addr(a0), execParams.MinStake)}
			},
			check: func(t testing.TB, was, now *staking.State) {
				wantAccount(t, now, a0, staking.Account{Balance: genesisBalance - execParams.MinStake - execFee, Nonce: 1})
				wantCandidate(t, now, a0, staking.Candidate{Address: addr(a0), Stake: execParams.MinStake})
				wantBonds(t, now, a0, []staking.Bond{{Validator: addr(a0), Amount: execParams.MinStake}})
			},
		},
		{
			name: "stake: delegation",
			txs: func(t testing.TB, c *chaintest.Chain) []*chain.Tx {
				return []*chain.Tx{
					signTx(t, c, a0, chain.TxStake, addr(v0), 300),
					feeTx(t, a0, chain.TxStake, 1, addr(v0), 200),
				}
			},
			check: func(t testing.TB, was, now *staking.State) {
				wantAccount(t, now, a0, staking.Account{Balance: genesisBalance - 500 - 2*execFee, Nonce: 2})
				wantCandidate(t, now, v0, staking.Candidate{Address: addr(v0), Stake: genesisStake + 500})
				wantBonds(t, now, a0, []staking.Bond{{Validator: addr(v0), Amount: 500}})
			},
		},
		{
			name: "unstake: queued until height+UnbondingBlocks",
			prep: func(t testing.TB, c *chaintest.Chain) {
				c.Next(t, []*chain.Tx{signTx(t, c, a0, chain.TxStake, addr(v0), 300)})
			},
			txs: func(t testing.TB, c *chaintest.Chain) []*chain.Tx {
				return []*chain.Tx{signTx(t, c, a0, chain.TxUnstake, addr(v0), 100)}
			},
			check: func(t testing.TB, was, now *staking.State) {
				wantAccount(t, now, a0, staking.Account{Balance: genesisBalance - 300 - 2*execFee, Nonce: 2})
				wantCandidate(t, now, v0, staking.Candidate{Address: addr(v0), Stake: genesisStake + 200})
				wantBonds(t, now, a0, []staking.Bond{{Validator: addr(v0), Amount: 200}})
				want := []staking.Unbonding{{Delegator: addr(a0), Validator: addr(v0), Amount: 100, ReleaseHeight: 2 + execParams.UnbondingBlocks}}
				if got := now.Unbondings(addr(a0)); !slices.Equal(got, want) {
					t.Errorf("unbondings: got %+v, want %+v", got, want)
				}
			},
		},
		{
			name: "unjail once the jail time is over",
			prep: func(t testing.TB, c *chaintest.Chain) {
				jailV1(t, c)
				c.EmptyBlocks(t, 4) // unjail at 5 = JailedUntil
			},
			txs: func(t testing.TB, c *chaintest.Chain) []*chain.Tx {
				return []*chain.Tx{signTx(t, c, v1, chain.TxUnjail, chain.Address{}, 0)}
			},
			check: func(t testing.TB, was, now *staking.State) {
				wantCandidate(t, now, v1, staking.Candidate{Address: addr(v1), Stake: genesisStake - genesisStake/10})
				bal := was.Account(addr(v1)).Balance - execFee
				if now.Validators().Proposer(0) == addr(v1) {
					bal += execFee // its own fee came back as the proposer's
				}
				wantAccount(t, now, v1, staking.Account{Balance: bal, Nonce: 1})
				if _, ok := now.PendingValidators().StakeOf(addr(v1)); !ok {
					t.Errorf("unjailed v1 not selected for h=%d", now.Height()+2)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newExecChain(t)
			if tc.prep != nil {
				tc.prep(t, c)
			}
			was := c.State.Fork()
			res := c.Next(t, tc.txs(t, c))
			for i, r := range res.Receipts {
				if r.Status != chain.TxAccepted || r.Code != "" || r.Error != "" {
					t.Fatalf("receipt %d at h=%d: got %+v, want accepted", i, c.Height(), r)
				}
			}
			if res.StateHash != c.State.Hash() {
				t.Errorf("result state hash %s, committed state hash %s", res.StateHash, c.State.Hash())
			}
			if was.TotalSupply() != c.State.TotalSupply() {
				t.Errorf("supply: got %d, want %d (only slashing changes it; fees move)", c.State.TotalSupply(), was.TotalSupply())
			}
			tc.check(t, was, c.State)
		})
	}
}

// TestUnbondingRelease checks the balance is credited exactly by the block
// at height+UnbondingBlocks, not one block earlier.
func TestUnbondingRelease(t *testing.T) {
	c := newExecChain(t)
	c.Next(t, []*chain.Tx{signTx(t, c, a0, chain.TxStake, addr(v0), 300)})
	c.Next(t, []*chain.Tx{signTx(t, c, a0, chain.TxUnstake, addr(v0), 100)})
	unstakeHeight := c.Height()
	release := unstakeHeight + execParams.UnbondingBlocks
	for c.Height() < release-1 {
		c.Next(t, nil)
		wantAccount(t, c.State, a0, staking.Account{Balance: genesisBalance - 300 - 2*execFee, Nonce: 2})
		if len(c.State.Unbondings(addr(a0))) != 1 {
			t.Fatalf("h=%d: unbonding entry released early", c.Height())
		}
	}
	c.Next(t, nil) // block release
	wantAccount(t, c.State, a0, staking.Account{Balance: genesisBalance - 200 - 2*execFee, Nonce: 2})
	if got := c.State.Unbondings(addr(a0)); len(got) != 0 {
		t.Errorf("h=%d: unbondings left %+v", c.Height(), got)
	}
}

// TestValidatorSetChangeAtHPlus2: a stake in block H changes the set of H+2
// (NextValidators of block H+1), not of H+1 (NextValidators of block H).
func TestValidatorSetChangeAtHPlus2(t *testing.T) {
	c := newExecChain(t)
	c.Next(t, nil)
	h := c.Height() + 1
	resH := c.Next(t, []*chain.Tx{
		signTx(t, c, a0, chain.TxStake, addr(a0), 5_000),         // new candidate
		signTx(t, c, a1, chain.TxStake, addr(v0), 700),           // delegation
		feeTx(t, v2, chain.TxUnstake, 0, addr(v2), genesisStake), // v2 leaves
	})
	for i, r := range resH.Receipts {
		if r.Status != chain.TxAccepted {
			t.Fatalf("receipt %d: %+v", i, r)
		}
	}
	resH1 := c.Next(t, nil)
	genesisSet := map[chain.Address]uint64{addr(v0): genesisStake, addr(v1): genesisStake, addr(v2): genesisStake, addr(v3): genesisStake}
	changed := map[chain.Address]uint64{addr(v0): genesisStake + 700, addr(v1): genesisStake, addr(v3): genesisStake, addr(a0): 5_000}
	wantSet(t, h+1, resH.NextValidators, genesisSet)
	wantSet(t, h+2, resH1.NextValidators, changed)
	if got := c.ValidatorSet(h + 2); got.Hash() != resH1.NextValidators.Hash() {
		t.Errorf("recorded set of h=%d differs from the result", h+2)
	}
}

func TestExecuteEvidence(t *testing.T) {
	c := newExecChain(t)
	// Block 1: a2 delegates 200 to v1 and starts unbonding 100 of it.
	c.Next(t, []*chain.Tx{
		signTx(t, c, a2, chain.TxStake, addr(v1), 300),
		feeTx(t, a2, chain.TxUnstake, 1, addr(v1), 100),
	})
	supply := c.State.TotalSupply()
	ev := chaintest.DoubleSign(t, v1, execChain, 1, 0)

	// Block 2 punishes the double sign of height 1: 1/10 of v1's self-bond
	// (1,000), of a2's bond (200) and of a2's unbonding entry (100), burned.
	res := c.Next(t, nil, ev)
	wantBurned := uint64(100 + 20 + 10)
	want := []chain.SlashRecord{{Validator: addr(v1), Height: 1, Burned: wantBurned}}
	if !slices.Equal(res.Slashed, want) {
		t.Fatalf("slashed: got %+v, want %+v", res.Slashed, want)
	}
	if got := c.State.TotalSupply(); got != supply-wantBurned {
		t.Errorf("supply: got %d, want %d", got, supply-wantBurned)
	}
	wantCandidate(t, c.State, v1, staking.Candidate{Address: addr(v1), Stake: 1_080, Jailed: true, JailedUntil: 2 + execParams.JailBlocks})
	wantBonds(t, c.State, a2, []staking.Bond{{Validator: addr(v1), Amount: 180}})
	if got := c.State.Unbondings(addr(a2)); len(got) != 1 || got[0].Amount != 90 {
		t.Errorf("a2 unbondings: got %+v, want one of 90", got)
	}
	// Jailed at 2: still in the set of 3, gone from the set of 4.
	if _, ok := res.NextValidators.StakeOf(addr(v1)); !ok {
		t.Errorf("v1 left the set of h=3; want it removed at h=4")
	}
	res3, _, err := c.Try(c.Block(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res3.NextValidators.StakeOf(addr(v1)); ok {
		t.Errorf("jailed v1 still in the set of h=4")
	}

	// The same evidence in block 3: already punished.
	if _, _, err := c.Try(c.Block(nil, ev)); !errors.Is(err, chain.ErrInvalidEvidence) {
		t.Errorf("same evidence again at h=3: got %v, want ErrInvalidEvidence", err)
	}
	// The same infraction proven by other votes (another pair at height 1
	// round 0) is also already punished.
	other := chain.NewEvidence(
		chaintest.Vote(t, v1, execChain, chain.Precommit, 1, 0, chain.Hash{0x0c}),
		chaintest.Vote(t, v1, execChain, chain.Precommit, 1, 0, chain.Hash{0x0d}))
	if _, _, err := c.Try(c.Block(nil, other)); !errors.Is(err, chain.ErrInvalidEvidence) {
		t.Errorf("other evidence of the same infraction at h=3: got %v, want ErrInvalidEvidence", err)
	}
}

func TestExecuteInvalidEvidence(t *testing.T) {
	cases := []struct {
		name   string
		height uint64 // of the block carrying the evidence
		ev     func(t testing.TB) *chain.Evidence
		valid  bool
	}{
		{"valid control", 2, func(t testing.TB) *chain.Evidence { return chaintest.DoubleSign(t, v0, execChain, 1, 0) }, true},
		{"oldest allowed: UnbondingBlocks before", 1 + execParams.UnbondingBlocks, func(t testing.TB) *chain.Evidence { return chaintest.DoubleSign(t, v0, execChain, 1, 0) }, true},
		{"too old", 2 + execParams.UnbondingBlocks, func(t testing.TB) *chain.Evidence { return chaintest.DoubleSign(t, v0, execChain, 1, 0) }, false},
		{"from this block's height", 2, func(t testing.TB) *chain.Evidence { return chaintest.DoubleSign(t, v0, execChain, 2, 0) }, false},
		{"from the future", 2, func(t testing.TB) *chain.Evidence { return chaintest.DoubleSign(t, v0, execChain, 3, 0) }, false},
		{"height with no validator set", 2, func(t testing.TB) *chain.Evidence { return chaintest.DoubleSign(t, v0, execChain, 0, 0) }, false},
		{"unknown validator", 2, func(t testing.TB) *chain.Evidence { return chaintest.DoubleSign(t, a0, execChain, 1, 0) }, false},
		{"other chain", 2, func(t testing.TB) *chain.Evidence { return chaintest.DoubleSign(t, v0, "other-chain", 1, 0) }, false},
		{"same vote twice", 2, func(t testing.TB) *chain.Evidence {
			v := chaintest.Vote(t, v0, execChain, chain.Precommit, 1, 0, chain.Hash{1})
			return &chain.Evidence{A: *v, B: *v}
		}, false},
		{"different rounds", 2, func(t testing.TB) *chain.Evidence {
			return chain.NewEvidence(
				chaintest.Vote(t, v0, execChain, chain.Precommit, 1, 0, chain.Hash{1}),
				chaintest.Vote(t, v0, execChain, chain.Precommit, 1, 1, chain.Hash{2}))
		}, false},
		{"different types", 2, func(t testing.TB) *chain.Evidence {
			return chain.NewEvidence(
				chaintest.Vote(t, v0, execChain, chain.Prevote, 1, 0, chain.Hash{1}),
				chaintest.Vote(t, v0, execChain, chain.Precommit, 1, 0, chain.Hash{2}))
		}, false},
		{"different validators", 2, func(t testing.TB) *chain.Evidence {
			return chain.NewEvidence(
				chaintest.Vote(t, v0, execChain, chain.Precommit, 1, 0, chain.Hash{1}),
				chaintest.Vote(t, v1, execChain, chain.Precommit, 1, 0, chain.Hash{2}))
		}, false},
		{"forged second vote", 2, func(t testing.TB) *chain.Evidence {
			ev := chaintest.DoubleSign(t, v0, execChain, 1, 0)
			ev.B.Signature = chaintest.Vote(t, v1, execChain, chain.Precommit, 1, 0, ev.B.BlockHash).Signature
			return ev
		}, false},
		{"not in canonical order", 2, func(t testing.TB) *chain.Evidence {
			ev := chaintest.DoubleSign(t, v0, execChain, 1, 0)
			ev.A, ev.B = ev.B, ev.A
			return ev
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newExecChain(t)
			c.EmptyBlocks(t, tc.height-1)
			res, _, err := c.Try(c.Block(nil, tc.ev(t)))
			if tc.valid {
				if err != nil || len(res.Slashed) != 1 || res.Slashed[0].Burned != genesisStake/10 {
					t.Fatalf("h=%d: got (%+v, %v), want one slash of %d", tc.height, res, err, genesisStake/10)
				}
				return
			}
			if !errors.Is(err, chain.ErrInvalidEvidence) {
				t.Fatalf("h=%d: got %v, want ErrInvalidEvidence", tc.height, err)
			}
		})
	}
}

// mixedBlock returns the transactions of a block with accepted and rejected
// transactions of every kind, and evidence, to execute at height 3 of a
// chain where v1 was jailed at 2.
func mixedBlock(t testing.TB, c *chaintest.Chain) []*chain.Tx {
	t.Helper()
	return []*chain.Tx{
		signTx(t, c, a0, chain.TxTransfer, addr(a1), 10),
		feeTx(t, a0, chain.TxStake, 1, addr(a0), 500),
		feeTx(t, a0, chain.TxStake, 2, addr(v1), 500), // jailed
		feeTx(t, a0, chain.TxUnstake, 3, addr(a0), 100),
		signTx(t, c, a1, chain.TxStake, addr(v0), 50),
		signTx(t, c, v1, chain.TxUnjail, chain.Address{}, 0), // too early
		feeTx(t, a1, chain.TxUnstake, 1, addr(v2), 1),        // nothing bonded
	}
}

func TestExecuteDeterministic(t *testing.T) {
	var hashes []chain.Hash
	var receipts [][]chain.Receipt
	run := func(res *chain.ExecResult) {
		hashes = append(hashes, res.StateHash)
		receipts = append(receipts, res.Receipts)
	}
	// Two forks of one state, and a chain built again from scratch with a
	// full sender cache.
	c := newExecChain(t)
	jailV1(t, c)
	txs := mixedBlock(t, c)
	ev := chaintest.DoubleSign(t, v2, execChain, 2, 1)
	blk := c.Block(txs, ev)
	for range 2 {
		res, _, err := c.Try(blk)
		if err != nil {
			t.Fatal(err)
		}
		run(res)
	}
	again := newExecChain(t)
	jailV1(t, again)
	cache := chaintest.NewCountingCache()
	for _, tx := range txs {
		if from, err := tx.Sender(); err == nil {
			cache.Put(tx.Hash(), from)
		}
	}
	again.Cache = cache
	res, err := again.Execute(again.Block(txs, ev))
	if err != nil {
		t.Fatal(err)
	}
	run(res)
	if cache.Hits() != int64(len(txs)) {
		t.Errorf("cache hits: got %d, want %d", cache.Hits(), len(txs))
	}

	var accepted int
	for _, r := range receipts[0] {
		if r.Status == chain.TxAccepted {
			accepted++
		}
	}
	if accepted == 0 || accepted == len(txs) {
		t.Fatalf("mixed block: %d of %d accepted, want some of each", accepted, len(txs))
	}
	for i := 1; i < len(hashes); i++ {
		if hashes[i] != hashes[0] {
			t.Errorf("run %d: state hash %s, run 0: %s", i, hashes[i], hashes[0])
		}
		if !slices.Equal(receipts[i], receipts[0]) {
			t.Errorf("run %d: receipts %+v, run 0: %+v", i, receipts[i], receipts[0])
		}
	}
}

// TestRecoverSendersCache uses a block big enough for the parallel path. The
// cache holds every third transaction and lies about their senders, which
// shows that cached transactions are not recovered.
func TestRecoverSendersCache(t *testing.T) {
	const n = 100
	txs := make([]*chain.Tx, n)
	for i := range txs {
		key := chaintest.AccountKey(i % 10)
		txs[i] = feeTx(t, key, chain.TxTransfer, uint64(i/10), addr(a0), uint64(i+1))
	}
	txs[50].Sig[64] = 9 // not recoverable, not cached
	plain := chain.RecoverSenders(txs, nil)

	honest, lying := chaintest.NewCountingCache(), chaintest.NewCountingCache()
	lie := chain.Address{0xee}
	var cached int
	for i, tx := range txs {
		if i%3 == 0 {
			honest.Put(tx.Hash(), plain.From[i])
			lying.Put(tx.Hash(), lie)
			cached++
		}
	}
	withHonest := chain.RecoverSenders(txs, honest)
	withLying := chain.RecoverSenders(txs, lying)

	for i, tx := range txs {
		key := chaintest.AccountKey(i % 10)
		wantFrom := addr(key)
		if i == 50 {
			if plain.Errs[i] == nil || withHonest.Errs[i] == nil || chain.RejectionCode(plain.Errs[i]) != chain.CodeBadSignature {
				t.Errorf("tx %d: corrupted signature: errors %v, %v", i, plain.Errs[i], withHonest.Errs[i])
			}
			continue
		}
		if plain.Hashes[i] != tx.Hash() || withHonest.Hashes[i] != tx.Hash() || withLying.Hashes[i] != tx.Hash() {
			t.Errorf("tx %d: hash out of order", i)
		}
		if plain.From[i] != wantFrom || plain.Errs[i] != nil {
			t.Errorf("tx %d: recovered (%s, %v), want %s", i, plain.From[i], plain.Errs[i], wantFrom)
		}
		if withHonest.From[i] != plain.From[i] || withHonest.Errs[i] != nil {
			t.Errorf("tx %d: with cache (%s, %v), without %s", i, withHonest.From[i], withHonest.Errs[i], plain.From[i])
		}
		wantLying := wantFrom
		if i%3 == 0 {
			wantLying = lie
		}
		if withLying.From[i] != wantLying {
			t.Errorf("tx %d: with a lying cache got %s, want %s", i, withLying.From[i], wantLying)
		}
	}
	if honest.Hits() != int64(cached) || lying.Hits() != int64(cached) {
		t.Errorf("cache hits: got %d and %d, want %d", honest.Hits(), lying.Hits(), cached)
	}
}

func wantAccount(t testing.TB, st *staking.State, key *ecdsa.PrivateKey, want staking.Account) {
	t.Helper()
	if got := st.Account(addr(key)); got != want {
		t.Errorf("h=%d account %s: got %+v, want %+v", st.Height(), addr(key), got, want)
	}
}

func wantCandidate(t testing.TB, st *staking.State, key *ecdsa.PrivateKey, want staking.Candidate) {
	t.Helper()
	if got, ok := st.Candidate(addr(key)); !ok || got != want {
		t.Errorf("h=%d candidate %s: got %+v (registered %v), want %+v", st.Height(), addr(key), got, ok, want)
	}
}

func wantBonds(t testing.TB, st *staking.State, key *ecdsa.PrivateKey, want []staking.Bond) {
	t.Helper()
	if got := st.Bonds(addr(key)); !slices.Equal(got, want) {
		t.Errorf("h=%d bonds of %s: got %+v, want %+v", st.Height(), addr(key), got, want)
	}
}

func wantSet(t testing.TB, h uint64, vs *staking.ValidatorSet, want map[chain.Address]uint64) {
	t.Helper()
	got := make(map[chain.Address]uint64)
	for _, v := range vs.Validators() {
		got[v.Address] = v.Stake
	}
	if len(got) != len(want) {
		t.Errorf("set of h=%d: got %v, want %v", h, got, want)
		return
	}
	for a, s := range want {
		if got[a] != s {
			t.Errorf("set of h=%d: got %v, want %v", h, got, want)
			return
		}
	}
}

// TestExecuteWrongHeight: a block for any height but Height()+1 fails.
func TestExecuteWrongHeight(t *testing.T) {
	c := newExecChain(t)
	c.Next(t, nil)
	for _, h := range []uint64{1, 3} {
		blk := c.Block([]*chain.Tx{signTx(t, c, a0, chain.TxTransfer, addr(a1), 1)})
		blk.Header.Height = h
		senders := chain.RecoverSenders(blk.Txs, nil)
		if _, err := chain.Execute(c.State.Fork(), execChain, blk, senders, c.Set); !errors.Is(err, staking.ErrBadHeight) {
			t.Errorf("block h=%d on state at h=%d: got %v, want ErrBadHeight", h, c.Height(), err)
		}
	}
}
