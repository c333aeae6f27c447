package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/genesis"
)

const (
	valAddr  = "0x00000000000000000000000000000000000000b2"
	val2Addr = "0x00000000000000000000000000000000000000c3"
	accAddr  = "0x00000000000000000000000000000000000000a1"
)

func TestGenesisHappyPath(t *testing.T) {
	file := filepath.Join(t.TempDir(), "genesis.json")
	quorumchain(t, "genesis", "new", "--chain-id", "quorum-local", "--out", file, "--time", "2026-11-26T00:00:00Z").ok(t)
	quorumchain(t, "genesis", "validate", file).fails(t, "genesis "+file+": validators: no validators")

	quorumchain(t, "genesis", "add-validator", "--genesis", file, "--address", valAddr, "--stake", "100", "--name", "node0").ok(t)
	quorumchain(t, "genesis", "add-validator", "--genesis", file, "--address", strings.ToUpper(val2Addr), "--stake", "40").ok(t)
	out := quorumchain(t, "genesis", "add-account", "--genesis", file, "--address", accAddr, "--balance", "1000").ok(t)
	if want := "added account " + accAddr + " with balance 1000 to " + file + "\n"; out != want {
		t.Errorf("add-account output = %q, want %q", out, want)
	}

	doc, err := genesis.Load(file)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	hash := chain.FormatHash(doc.Hash())
	out = quorumchain(t, "genesis", "validate", file).ok(t)
	for _, want := range []string{"chain id:     quorum-local\n", "genesis hash: " + hash + "\n", "validators:   2\n", "total stake:  140\n", "total supply: 1140\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("validate output lacks %q:\n%s", want, out)
		}
	}
	var s genesisSummary
	decodeJSON(t, quorumchain(t, "genesis", "validate", "--output", "json", file).ok(t), &s)
	want := genesisSummary{ChainID: "quorum-local", GenesisTime: "2026-11-26T00:00:00Z", Hash: hash,
		Validators: 2, Accounts: 1, TotalStake: "140", TotalSupply: "1140"}
	if s != want {
		t.Errorf("validate json = %+v, want %+v", s, want)
	}
	if doc.Validators[1].Address != mustAddress(t, val2Addr) || doc.Validators[0].Name != "node0" {
		t.Errorf("validators = %+v", doc.Validators)
	}
}

func mustAddress(t *testing.T, s string) chain.Address {
	t.Helper()
	a, err := chain.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestGenesisHome(t *testing.T) {
	home := t.TempDir()
	quorumchain(t, "--home", home, "genesis", "new", "--chain-id", "c1").ok(t)
	file := filepath.Join(home, "config", "genesis.json")
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("genesis new --home: %v", err)
	}
	t.Setenv(envHome, home)
	quorumchain(t, "genesis", "add-validator", "--address", valAddr, "--stake", "5").ok(t)
	out := quorumchain(t, "genesis", "validate").ok(t)
	if !strings.Contains(out, "chain id:     c1\n") {
		t.Errorf("validate via $%s:\n%s", envHome, out)
	}
	quorumchain(t, "genesis", "new", "--chain-id", "c1").fails(t, file+" already exists (--force overwrites it)")
	quorumchain(t, "genesis", "new", "--chain-id", "c2", "--force").ok(t)
	quorumchain(t, "genesis", "validate").fails(t, "no validators")
}

func TestGenesisRejects(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "genesis.json")
	quorumchain(t, "genesis", "new", "--chain-id", "quorum-local", "--out", file, "--time", "2026-11-26T00:00:00Z").ok(t)
	quorumchain(t, "genesis", "add-validator", "--genesis", file, "--address", valAddr, "--stake", "100").ok(t)
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"negative stake", []string{"genesis", "add-validator", "--genesis", file, "--address", val2Addr, "--stake", "-5"},
			`--stake: invalid amount "-5": want a decimal integer (digits only, no sign or spaces)`},
		{"non-numeric balance", []string{"genesis", "add-account", "--genesis", file, "--address", accAddr, "--balance", "ten"},
			`--balance: invalid amount "ten"`},
		{"fractional balance", []string{"genesis", "add-account", "--genesis", file, "--address", accAddr, "--balance", "1.5"},
			`--balance: invalid amount "1.5"`},
		{"overflowing stake", []string{"genesis", "add-validator", "--genesis", file, "--address", val2Addr, "--stake", "18446744073709551616"},
			`--stake: invalid amount "18446744073709551616": exceeds 18446744073709551615`},
		{"missing stake", []string{"genesis", "add-validator", "--genesis", file, "--address", val2Addr},
			"missing --stake (see 'quorumchain genesis add-validator --help')"},
		{"zero stake", []string{"genesis", "add-validator", "--genesis", file, "--address", val2Addr, "--stake", "0"},
			"genesis: validators[1]: zero stake"},
		{"malformed address", []string{"genesis", "add-account", "--genesis", file, "--address", "0x1234", "--balance", "5"},
			`--address: invalid address "0x1234": want 0x followed by 40 hex digits`},
		{"duplicate validator", []string{"genesis", "add-validator", "--genesis", file, "--address", valAddr, "--stake", "5"},
			"genesis: validators[1]: duplicate address " + valAddr + " (also validators[0])"},
		{"supply", []string{"genesis", "add-account", "--genesis", file, "--address", accAddr, "--balance", "1152921504606846900"},
			"genesis: total supply exceeds staking.MaxSupply"},
		{"missing file", []string{"genesis", "add-account", "--genesis", filepath.Join(dir, "none.json"), "--address", accAddr, "--balance", "5"},
			"no such file or directory"},
		{"missing chain id", []string{"genesis", "new", "--out", filepath.Join(dir, "g2.json")}, "missing --chain-id"},
		{"bad chain id", []string{"genesis", "new", "--chain-id", "Quorum", "--out", filepath.Join(dir, "g2.json")},
			`genesis: chain_id: invalid chain id "Quorum"`},
		{"bad time", []string{"genesis", "new", "--chain-id", "c", "--time", "yesterday", "--out", filepath.Join(dir, "g2.json")},
			`--time: invalid time "yesterday"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			quorumchain(t, tt.args...).fails(t, tt.want)
		})
	}
	after, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Errorf("rejected commands changed %s:\n%s", file, after)
	}
	if _, err := os.Stat(filepath.Join(dir, "g2.json")); err == nil {
		t.Errorf("a rejected genesis new wrote a file")
	}
}

func TestGenesisValidateRejectsFile(t *testing.T) {
	file := writeFile(t, t.TempDir(), "genesis.json", `{"chain_id":"c","genesis_time":"2026-11-26T00:00:00Z",
		"params":{"unbonding_blocks":20,"min_stake":"10","max_validators":3,"slash_fraction_double_sign":"0.05","jail_blocks":20,"min_fee":"0","block_reward":"0","proposer_bonus":"0.04","downtime_window":100,"downtime_max_missed":50,"slash_fraction_downtime":"0"},
		"validators":[{"address":"`+valAddr+`","stake":"100"},{"address":"`+valAddr+`","stake":"50"}]}`)
	quorumchain(t, "genesis", "validate", file).fails(t, "genesis "+file+": validators[1]: duplicate address "+valAddr+" (also validators[0])")
	unknown := writeFile(t, t.TempDir(), "genesis.json", `{"chain_id":"c","chain":"x"}`)
	quorumchain(t, "genesis", "validate", unknown).fails(t, `genesis `+unknown+`: unknown field "chain"`)
}
