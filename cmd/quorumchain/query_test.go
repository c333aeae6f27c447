package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/rpc"
)

// TestAgainstNode drives transactions and queries through the command line
// against one in-process single-validator node. The subtests run in order
// and build on each other.
func TestAgainstNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	n := startCLINode(t)
	validator := chain.FormatAddress(n.Validator)
	aliceKey, aliceAddr := n.newAccountKey(t, "alice")
	alice := chain.FormatAddress(aliceAddr)
	pw := n.PasswordFile

	t.Run("status", func(t *testing.T) {
		out := n.cli(t, "status").ok(t)
		for _, want := range []string{"chain id", "quorum-cli-test", "total stake", "1000000"} {
			if !strings.Contains(out, want) {
				t.Errorf("status output lacks %q:\n%s", want, out)
			}
		}
		var s rpc.StatusResult
		decodeJSON(t, n.cli(t, "status", "--output", "json").ok(t), &s)
		if s.ChainID != "quorum-cli-test" || s.Height == 0 || s.TotalStake != 1_000_000 {
			t.Errorf("status json = %+v", s)
		}
	})

	var transferHash chain.Hash
	var transferHeight uint64
	t.Run("transfer --wait, then account", func(t *testing.T) {
		var r rpc.TxResult
		decodeJSON(t, n.cli(t, "transfer", "--from", n.KeyFile, "--password-file", pw, "--to", alice, "--amount", "10000", "--wait", "--output", "json").ok(t), &r)
		if r.Status != rpc.TxFinal || r.Height == nil {
			t.Fatalf("receipt = %+v, want final with a height", r)
		}
		transferHash, transferHeight = r.Hash, *r.Height

		out := n.cli(t, "account", alice).ok(t)
		if !strings.Contains(out, "balance  10000\n") || !strings.Contains(out, "nonce    0\n") {
			t.Errorf("account text:\n%s", out)
		}
		var acct rpc.AccountResult
		decodeJSON(t, n.cli(t, "account", "--output", "json", alice).ok(t), &acct)
		if acct.Balance != 10000 || acct.Nonce != 0 || acct.Address != aliceAddr {
			t.Errorf("account json = %+v", acct)
		}
		decodeJSON(t, n.cli(t, "account", "-o", "json", validator).ok(t), &acct)
		if acct.Nonce != 1 || len(acct.Bonds) != 1 || acct.Bonds[0].Validator != n.Validator {
			t.Errorf("validator account json = %+v", acct)
		}
	})

	t.Run("transfer text without --wait", func(t *testing.T) {
		out := n.cli(t, "transfer", "--from", n.KeyFile, "--password-file", pw, "--to", alice, "--amount", "1").ok(t)
		if _, err := chain.ParseHash(strings.TrimSpace(out)); err != nil {
			t.Errorf("output %q is not a hash: %v", out, err)
		}
	})

	t.Run("bad nonce is rejected", func(t *testing.T) {
		r := n.cli(t, "transfer", "--from", n.KeyFile, "--password-file", pw, "--to", alice, "--amount", "1", "--nonce", "0", "--wait")
		r.fails(t, "bad nonce")
		if !strings.Contains(r.stderr, "not accepted") || !strings.Contains(r.stderr, "omit --nonce") {
			t.Errorf("stderr = %q, want the reason and what to do", r.stderr)
		}
	})

	t.Run("insufficient balance is rejected", func(t *testing.T) {
		r := n.cli(t, "transfer", "--from", aliceKey, "--password-file", pw, "--to", validator, "--amount", "1000000", "--wait")
		r.fails(t, "insufficient balance")
	})

	t.Run("rejected in a block: receipt and exit 1", func(t *testing.T) {
		// Nobody is a validator at 0x..ee: the mempool admits a stake to it
		// (it checks balances, not candidates), its block rejects it and
		// alice pays the fee.
		r := n.cli(t, "stake", "--from", aliceKey, "--password-file", pw, "--validator", "0x00000000000000000000000000000000000000ee", "--amount", "5", "--wait")
		r.fails(t, "rejected at height")
		if !strings.Contains(r.stderr, "unknown_validator") {
			t.Errorf("stderr = %q, want the rejection code", r.stderr)
		}
		for _, want := range []string{"status  rejected\n", "code    unknown_validator\n", "error   "} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("receipt lacks %q:\n%s", want, r.stdout)
			}
		}
	})

	t.Run("stake to self registers a candidate at H+2", func(t *testing.T) {
		var r rpc.TxResult
		decodeJSON(t, n.cli(t, "stake", "--from", aliceKey, "--password-file", pw, "--validator", alice, "--amount", "100", "--wait", "-o", "json").ok(t), &r)
		if r.Status != rpc.TxFinal || r.Height == nil {
			t.Fatalf("stake receipt = %+v", r)
		}
		h := *r.Height
		n.waitHeight(t, h+1) // the set of H+2 decides the next block

		var before, after rpc.ValidatorsResult
		decodeJSON(t, n.cli(t, "validators", "-o", "json", "--height", strconv.FormatUint(h+1, 10)).ok(t), &before)
		if len(before.Validators) != 1 || before.TotalStake != 1_000_000 {
			t.Errorf("set of height %d = %+v, want the genesis validator alone", h+1, before)
		}
		decodeJSON(t, n.cli(t, "validators", "-o", "json", "--height", strconv.FormatUint(h+2, 10)).ok(t), &after)
		if !slices.ContainsFunc(after.Validators, func(v rpc.ValidatorResult) bool { return v.Address == aliceAddr && v.Stake == 100 }) ||
			after.TotalStake != 1_000_100 || after.QuorumStake != 2*1_000_100/3+1 {
			t.Errorf("set of height %d = %+v, want alice with stake 100", h+2, after)
		}
		out := n.cli(t, "validators").ok(t)
		for _, want := range []string{"ADDRESS", "SHARE", "PRIORITY", alice, validator, "99.99%", "0.00%", "total stake 1000100, quorum stake 666734"} {
			if !strings.Contains(out, want) {
				t.Errorf("validators text lacks %q:\n%s", want, out)
			}
		}
		out = n.cli(t, "account", alice).ok(t)
		if !strings.Contains(out, "bonds:") || !strings.Contains(out, alice+"  100") {
			t.Errorf("account text lacks the bond:\n%s", out)
		}
	})

	t.Run("block and tx queries", func(t *testing.T) {
		h := strconv.FormatUint(transferHeight, 10)
		out := n.cli(t, "block", h).ok(t)
		for _, want := range []string{"height           " + h, chain.FormatHash(transferHash), "transfer", "certificate      round 0, 1 signers, signed stake 1000000 of 1000000 (100.00%)"} {
			if !strings.Contains(out, want) {
				t.Errorf("block %s text lacks %q:\n%s", h, want, out)
			}
		}
		var b rpc.BlockResult
		decodeJSON(t, n.cli(t, "block", "-o", "json", h).ok(t), &b)
		if b.Header.Height != transferHeight || len(b.Txs) != 1 || b.Txs[0].Hash != transferHash || b.Certificate == nil || len(b.Certificate.Signatures) != 1 {
			t.Errorf("block json = %+v", b)
		}
		decodeJSON(t, n.cli(t, "block", "-o", "json", "latest").ok(t), &b)
		if b.Header.Height <= transferHeight {
			t.Errorf("latest block height %d, want above %d", b.Header.Height, transferHeight)
		}
		n.cli(t, "block", "999999").fails(t, "chain_getBlock: node answered: not found")

		out = n.cli(t, "tx", chain.FormatHash(transferHash)).ok(t)
		if !strings.Contains(out, "status  final\n") || !strings.Contains(out, "height  "+h+"\n") {
			t.Errorf("tx text:\n%s", out)
		}
		var r rpc.TxResult
		decodeJSON(t, n.cli(t, "tx", "-o", "json", chain.FormatHash(transferHash)).ok(t), &r)
		if r.Hash != transferHash || r.Status != rpc.TxFinal {
			t.Errorf("tx json = %+v", r)
		}
		n.cli(t, "tx", "0x"+strings.Repeat("00", 32)).fails(t, "not found")
	})

	t.Run("vote needs a remote-signer node", func(t *testing.T) {
		r := n.cli(t, "vote", "--key", n.KeyFile, "--password-file", pw)
		r.fails(t, `signer.mode = "remote"`)
	})
}
