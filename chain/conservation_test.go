package chain_test

import (
	"crypto/ecdsa"
	"math/rand/v2"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/chaintest"
	"github.com/quorumchain/quorumchain/staking"
)

// TestSupplyConservedUnderRandomBlocks is the property test of the ledger's
// accounting: random streams of every transaction kind (many of them
// failing, some not even chargeable), random certificates and double-sign
// evidence, built with BuildWith and executed as a validator would. After
// every block the supply is exactly the genesis supply plus what was
// issued minus what was burned, and LoadState accepts the entries, which
// checks that balances, bonds, unbondings, outstanding rewards and the
// carry sum to that supply (so no amount went negative or appeared).
func TestSupplyConservedUnderRandomBlocks(t *testing.T) {
	var claims, slashes, dropped int
	for seed := range uint64(8) {
		rng := rand.New(rand.NewPCG(seed, 13))
		p := execParams
		p.BlockReward = 1 + rng.Uint64N(500)
		st, _ := chaintest.Genesis{
			Params:            p,
			Stakes:            []uint64{genesisStake, genesisStake, genesisStake, genesisStake},
			Balances:          []uint64{genesisBalance, genesisBalance, genesisBalance, genesisBalance},
			ValidatorBalances: []uint64{validatorBalance, validatorBalance, validatorBalance, validatorBalance},
		}.New(t)
		c := chaintest.NewChain(execChain, st)
		genesisSupply := st.TotalSupply()
		var burned, fees uint64
		var lastCert *chain.Certificate
		keys := []*ecdsa.PrivateKey{a0, a1, a2, a3, v0, v1, v2, v3}
		for h := uint64(1); h <= 40; h++ {
			txs := randomTxs(t, rng, c, keys)
			var evs []*chain.Evidence
			if h > 2 && rng.IntN(8) == 0 {
				if vs := c.ValidatorSet(h - 1); vs != nil {
					k := []*ecdsa.PrivateKey{v2, v3}[rng.IntN(2)]
					if _, ok := vs.StakeOf(addr(k)); ok {
						evs = append(evs, chaintest.DoubleSign(t, k, execChain, h-1, 0))
					}
				}
			}
			blk := c.Block(txs, evs...)
			blk.LastCertificate = lastCert
			senders := chain.RecoverSenders(blk.Txs, nil)
			dropped += len(blk.Txs)
			if _, err := chain.BuildWith(c.State.Fork(), execChain, blk, senders, c.Set, nil); err != nil {
				t.Fatalf("seed %d h=%d: build: %v", seed, h, err)
			}
			dropped -= len(blk.Txs)
			res, err := c.Execute(blk)
			if err != nil {
				t.Fatalf("seed %d h=%d: a built block does not execute: %v", seed, h, err)
			}
			for i, r := range res.Receipts {
				if blk.Txs[i].Kind == chain.TxClaim && r.Status == chain.TxAccepted {
					claims++
				}
			}
			slashes += len(res.Slashed)
			for _, s := range res.Slashed {
				burned += s.Burned
			}
			if got, want := c.State.TotalSupply(), genesisSupply+c.State.Issued()-burned; got != want {
				t.Fatalf("seed %d h=%d: supply %d, want genesis %d + issued %d - burned %d = %d", seed, h, got, genesisSupply, c.State.Issued(), burned, want)
			}
			if c.State.Issued() != h*p.BlockReward {
				t.Fatalf("seed %d h=%d: issued %d, want %d", seed, h, c.State.Issued(), h*p.BlockReward)
			}
			fees += res.Fees
			if sp := c.State.Supply(); sp.Total != c.State.TotalSupply() || sp.Burned != burned || sp.Slashed != burned || sp.Fees != fees || sp.Issued != c.State.Issued() {
				t.Fatalf("seed %d h=%d: supply accounting %+v, want burned %d, fees %d", seed, h, sp, burned, fees)
			}
			if _, err := staking.LoadState(c.State.Params(), c.State.Entries()); err != nil {
				t.Fatalf("seed %d h=%d: accounting broken: %v", seed, h, err)
			}
			lastCert = randomCertificate(t, rng, c.ValidatorSet(h), h, blk.Hash())
		}
	}
	if claims == 0 || slashes == 0 || dropped == 0 {
		t.Fatalf("the streams missed a path: %d claims paid, %d slashes, %d transactions left out", claims, slashes, dropped)
	}
}

// randomTxs returns up to 8 transactions of random kinds, senders, amounts
// and fees; nonces follow the senders' accounts, except now and then.
func randomTxs(t *testing.T, rng *rand.Rand, c *chaintest.Chain, keys []*ecdsa.PrivateKey) []*chain.Tx {
	nonces := map[*ecdsa.PrivateKey]uint64{}
	var txs []*chain.Tx
	for range rng.IntN(9) {
		k := keys[rng.IntN(len(keys))]
		if _, ok := nonces[k]; !ok {
			nonces[k] = c.State.Account(addr(k)).Nonce
		}
		nonce := nonces[k]
		if rng.IntN(20) == 0 {
			nonce += 1 + rng.Uint64N(2) // a gap: BuildWith must leave it out
		}
		to := addr(keys[rng.IntN(len(keys))])
		amount := rng.Uint64N(3_000)
		kind := chain.TxKind(1 + rng.IntN(6))
		switch kind {
		case chain.TxUnjail:
			to, amount = chain.Address{}, 0
		case chain.TxClaim:
			amount = 0
			if rng.IntN(2) == 0 {
				to = chain.Address{}
			}
		case chain.TxSetCommission:
			to, amount = chain.Address{}, rng.Uint64N(staking.CommissionDen+1)
		case chain.TxUnstake:
			if k == v0 || k == v1 {
				kind = chain.TxClaim // keep two validators bonded so the set never empties
				amount = 0
			}
		}
		if amount == 0 && (kind == chain.TxTransfer || kind == chain.TxStake || kind == chain.TxUnstake) {
			amount = 1
		}
		fee := execFee + rng.Uint64N(4)
		if rng.IntN(25) == 0 {
			fee = execFee - 1 // below min_fee: BuildWith must leave it out
		}
		txs = append(txs, chaintest.FeeTx(t, k, execChain, kind, nonce, to, amount, fee))
		if nonce == nonces[k] {
			nonces[k]++
		}
	}
	return txs
}

// randomCertificate certifies block with a random subset of set, at least
// the first validator, usually a quorum.
func randomCertificate(t *testing.T, rng *rand.Rand, set *staking.ValidatorSet, height uint64, block chain.Hash) *chain.Certificate {
	var signers []*ecdsa.PrivateKey
	for _, k := range []*ecdsa.PrivateKey{v0, v1, v2, v3} {
		if _, ok := set.StakeOf(addr(k)); ok && (len(signers) == 0 || rng.IntN(5) != 0) {
			signers = append(signers, k)
		}
	}
	return chaintest.Certificate(t, execChain, height, 0, block, signers...)
}
