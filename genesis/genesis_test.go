package genesis

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

// Addresses of the test documents.
const (
	addrA = "0x00000000000000000000000000000000000000a1"
	addrB = "0x00000000000000000000000000000000000000b2"
	addrC = "0x00000000000000000000000000000000000000c3"
	addrD = "0x00000000000000000000000000000000000000d4"
)

// validJSON is a valid document with every field set.
const validJSON = `{
  "chain_id": "quorum-local",
  "genesis_time": "2026-11-26T00:00:00Z",
  "params": {
    "unbonding_blocks": 20,
    "min_stake": "10",
    "max_validators": 3,
    "slash_fraction_double_sign": "0.05",
    "jail_blocks": 20,
    "min_fee": "1",
    "block_reward": "0",
    "proposer_bonus": "0.04",
    "downtime_window": 100,
    "downtime_max_missed": 50,
    "slash_fraction_downtime": "0"
  },
  "accounts": [
    {"address": "` + addrA + `", "balance": "1000"},
    {"address": "` + addrB + `", "balance": "500"}
  ],
  "validators": [
    {"address": "` + addrB + `", "stake": "100", "name": "node0"},
    {"address": "` + addrC + `", "stake": "40"}
  ]
}`

// validDoc is validJSON decoded by a generic decoder, for tests to mutate.
func validDoc(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(validJSON), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func params(m map[string]any) map[string]any { return m["params"].(map[string]any) }
func account(m map[string]any, i int) map[string]any {
	return m["accounts"].([]any)[i].(map[string]any)
}
func valEntry(m map[string]any, i int) map[string]any {
	return m["validators"].([]any)[i].(map[string]any)
}

func TestParseValid(t *testing.T) {
	d, err := Parse([]byte(validJSON))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := &Doc{
		ChainID:     "quorum-local",
		GenesisTime: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC),
		Params: staking.Params{UnbondingBlocks: 20, MinStake: 10, MaxValidators: 3,
			SlashFractionDoubleSign: staking.Fraction{Num: 1, Den: 20}, JailBlocks: 20, MinFee: 1,
			ProposerBonus: staking.Fraction{Num: 1, Den: 25}, DowntimeWindow: 100, DowntimeMaxMissed: 50,
			SlashFractionDowntime: staking.Fraction{Num: 0, Den: 1}},
		Accounts: []Account{{Address: mustAddr(t, addrA), Balance: 1000}, {Address: mustAddr(t, addrB), Balance: 500}},
		Validators: []Validator{{Address: mustAddr(t, addrB), Stake: 100, Name: "node0"},
			{Address: mustAddr(t, addrC), Stake: 40}},
	}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("Parse = %+v, want %+v", d, want)
	}
	if got, want := d.TotalStake(), uint64(140); got != want {
		t.Errorf("TotalStake = %d, want %d", got, want)
	}
	if got, want := d.TotalSupply(), uint64(1640); got != want {
		t.Errorf("TotalSupply = %d, want %d", got, want)
	}
}

func mustAddr(t *testing.T, s string) chain.Address {
	t.Helper()
	a, err := chain.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestParseEquivalentForms checks that formatting, member order, address
// case, an omitted accounts field and an equivalent fraction do not change
// the document or its hash.
func TestParseEquivalentForms(t *testing.T) {
	base, err := Parse([]byte(validJSON))
	if err != nil {
		t.Fatal(err)
	}
	reordered := `{"validators":[{"name":"node0","stake":"100","address":"` + strings.ToUpper(addrB[2:]) + `"},
		{"stake":"40","address":"` + addrC + `"}],
		"accounts":[{"balance":"1000","address":"` + addrA + `"},{"address":"` + addrB + `","balance":"500"}],
		"params":{"slash_fraction_downtime":"0/7","downtime_max_missed":50,"downtime_window":100,"proposer_bonus":"1/25","block_reward":"0","min_fee":"1","jail_blocks":20,"slash_fraction_double_sign":"1/20","max_validators":3,"min_stake":"10","unbonding_blocks":20},
		"genesis_time":"2026-11-26T00:00:00.000Z","chain_id":"quorum-local"}`
	reordered = strings.Replace(reordered, `"address":"`+strings.ToUpper(addrB[2:]), `"address":"0x`+strings.ToUpper(addrB[2:]), 1)
	d, err := Parse([]byte(reordered))
	if err != nil {
		t.Fatalf("Parse(reordered): %v", err)
	}
	if !reflect.DeepEqual(d, base) {
		t.Errorf("Parse(reordered) = %+v, want %+v", d, base)
	}
	if d.Hash() != base.Hash() {
		t.Errorf("Hash(reordered) = %x, want %x", d.Hash(), base.Hash())
	}

	m := validDoc(t)
	delete(m, "accounts")
	m["validators"] = m["validators"].([]any)[:1]
	d, err = Parse(mustMarshal(t, m))
	if err != nil {
		t.Fatalf("Parse(without accounts): %v", err)
	}
	if d.Accounts == nil || len(d.Accounts) != 0 {
		t.Errorf("Accounts = %#v, want empty", d.Accounts)
	}
	if got := string(mustMarshal(t, d)); !strings.Contains(got, `"accounts":[]`) {
		t.Errorf("encoding %s lacks \"accounts\":[]", got)
	}
}

func TestParseRejects(t *testing.T) {
	maxChainID := strings.Repeat("a", chain.MaxChainIDLength)
	tests := []struct {
		name   string
		raw    string               // the input, or
		mutate func(map[string]any) // a change to validJSON
		want   error                // matched with errors.Is
		msg    string               // the exact error text
	}{
		// Syntax and schema.
		{name: "empty input", raw: "", want: ErrMalformed, msg: "genesis: malformed: unexpected end of input"},
		{name: "not an object", raw: "[]", want: ErrMalformed, msg: "genesis: malformed: want an object"},
		{name: "null document", raw: "null", want: ErrMalformed, msg: "genesis: malformed: null, want an object"},
		{name: "syntax error", raw: `{"chain_id": "a",}`, want: ErrMalformed, msg: "genesis: malformed: invalid character '}' looking for beginning of object key string at byte 17"},
		{name: "truncated", raw: validJSON[:40], want: ErrMalformed, msg: "genesis: malformed: unexpected end of input"},
		{name: "trailing object", raw: validJSON + "{}", want: ErrMalformed, msg: "genesis: malformed: trailing data after the object"},
		{name: "trailing garbage", raw: validJSON + " x", want: ErrMalformed, msg: "genesis: malformed: trailing data after the object"},
		{name: "unknown field", mutate: func(m map[string]any) { m["consensus"] = map[string]any{} },
			want: ErrUnknownField, msg: `genesis: unknown field "consensus"`},
		{name: "field in another case", raw: strings.Replace(validJSON, `"chain_id"`, `"Chain_ID"`, 1),
			want: ErrUnknownField, msg: `genesis: unknown field "Chain_ID"`},
		{name: "unknown account field", mutate: func(m map[string]any) { account(m, 1)["nonce"] = "1" },
			want: ErrUnknownField, msg: `genesis: accounts[1]: unknown field "nonce"`},
		{name: "unknown validator field", mutate: func(m map[string]any) { valEntry(m, 1)["power"] = 1 },
			want: ErrUnknownField, msg: `genesis: validators[1]: unknown field "power"`},
		{name: "unknown param", mutate: func(m map[string]any) { params(m)["timeout_propose"] = "3s" },
			want: ErrUnknownField, msg: `genesis: params: unknown field "timeout_propose"`},
		{name: "duplicate field", raw: strings.Replace(validJSON, `"chain_id": "quorum-local",`, `"chain_id": "quorum-local", "chain_id": "other",`, 1),
			want: ErrDuplicateField, msg: `genesis: duplicate field "chain_id"`},
		{name: "duplicate account field", raw: strings.Replace(validJSON, `"balance": "500"`, `"balance": "500", "balance": "5"`, 1),
			want: ErrDuplicateField, msg: `genesis: accounts[1]: duplicate field "balance"`},
		{name: "missing chain id", mutate: func(m map[string]any) { delete(m, "chain_id") },
			want: ErrMissingField, msg: `genesis: missing field "chain_id"`},
		{name: "missing genesis time", mutate: func(m map[string]any) { delete(m, "genesis_time") },
			want: ErrMissingField, msg: `genesis: missing field "genesis_time"`},
		{name: "missing params", mutate: func(m map[string]any) { delete(m, "params") },
			want: ErrMissingField, msg: `genesis: missing field "params"`},
		{name: "missing param", mutate: func(m map[string]any) { delete(params(m), "jail_blocks") },
			want: ErrMissingField, msg: `genesis: params: missing field "jail_blocks"`},
		{name: "missing validators", mutate: func(m map[string]any) { delete(m, "validators") },
			want: ErrMissingField, msg: `genesis: missing field "validators"`},
		{name: "missing stake", mutate: func(m map[string]any) { delete(valEntry(m, 0), "stake") },
			want: ErrMissingField, msg: `genesis: validators[0]: missing field "stake"`},
		{name: "missing balance", mutate: func(m map[string]any) { delete(account(m, 0), "balance") },
			want: ErrMissingField, msg: `genesis: accounts[0]: missing field "balance"`},
		{name: "null chain id", mutate: func(m map[string]any) { m["chain_id"] = nil },
			want: ErrMalformed, msg: "genesis: chain_id: malformed: null"},
		{name: "null validators", mutate: func(m map[string]any) { m["validators"] = nil },
			want: ErrMalformed, msg: "genesis: validators: malformed: null"},
		{name: "accounts not an array", mutate: func(m map[string]any) { m["accounts"] = map[string]any{} },
			want: ErrMalformed, msg: "genesis: accounts: malformed: got a JSON object, want an array"},
		{name: "chain id a number", mutate: func(m map[string]any) { m["chain_id"] = 7 },
			want: ErrMalformed, msg: "genesis: chain_id: malformed: got a JSON number, want a string"},

		// Chain id.
		{name: "empty chain id", mutate: func(m map[string]any) { m["chain_id"] = "" },
			want: ErrInvalidChainID, msg: "genesis: chain_id: invalid chain id: empty"},
		{name: "chain id too long", mutate: func(m map[string]any) { m["chain_id"] = maxChainID + "a" },
			want: ErrInvalidChainID, msg: "genesis: chain_id: invalid chain id: 65 bytes, the maximum is 64"},
		{name: "chain id upper case", mutate: func(m map[string]any) { m["chain_id"] = "Quorum" },
			want: ErrInvalidChainID, msg: `genesis: chain_id: invalid chain id "Quorum": byte 0 is 'Q', want [a-z0-9-_.]`},
		{name: "chain id space", mutate: func(m map[string]any) { m["chain_id"] = "quorum local" },
			want: ErrInvalidChainID, msg: `genesis: chain_id: invalid chain id "quorum local": byte 6 is ' ', want [a-z0-9-_.]`},

		// Genesis time.
		{name: "empty time", mutate: func(m map[string]any) { m["genesis_time"] = "" },
			want: ErrInvalidTime, msg: `genesis: genesis_time: invalid time "": want RFC 3339 such as 2026-11-26T00:00:00Z`},
		{name: "date only", mutate: func(m map[string]any) { m["genesis_time"] = "2026-11-26" },
			want: ErrInvalidTime, msg: `genesis: genesis_time: invalid time "2026-11-26": want RFC 3339 such as 2026-11-26T00:00:00Z`},
		{name: "time not UTC", mutate: func(m map[string]any) { m["genesis_time"] = "2026-11-26T01:00:00+01:00" },
			want: ErrInvalidTime, msg: `genesis: genesis_time: invalid time "2026-11-26T01:00:00+01:00": not UTC (end it in Z)`},
		{name: "time before 1970", mutate: func(m map[string]any) { m["genesis_time"] = "1969-12-31T23:59:59Z" },
			want: ErrInvalidTime, msg: "genesis: genesis_time: invalid time 1969-12-31T23:59:59Z: outside 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z"},
		{name: "time finer than ms", mutate: func(m map[string]any) { m["genesis_time"] = "2026-11-26T00:00:00.0001Z" },
			want: ErrInvalidTime, msg: "genesis: genesis_time: invalid time 2026-11-26T00:00:00.0001Z: finer than a millisecond (block times are unix milliseconds)"},
		{name: "time a number", mutate: func(m map[string]any) { m["genesis_time"] = 1700000000 },
			want: ErrMalformed, msg: "genesis: genesis_time: malformed: got a JSON number, want a string"},

		// Params.
		{name: "zero unbonding", mutate: func(m map[string]any) { params(m)["unbonding_blocks"] = 0 },
			want: staking.ErrInvalidParams, msg: "genesis: params: invalid params: unbonding_blocks must be at least 1"},
		{name: "zero min stake", mutate: func(m map[string]any) { params(m)["min_stake"] = "0" },
			want: staking.ErrInvalidParams, msg: "genesis: params: invalid params: min_stake 0 not in [1, 1152921504606846976]"},
		{name: "min stake leading zero", mutate: func(m map[string]any) { params(m)["min_stake"] = "010" },
			want: ErrInvalidAmount, msg: `genesis: params.min_stake: invalid amount "010": leading zeros`},
		{name: "min stake a number", mutate: func(m map[string]any) { params(m)["min_stake"] = 10 },
			want: ErrMalformed, msg: "genesis: params.min_stake: malformed: got a JSON number, want a string"},
		{name: "max validators a string", mutate: func(m map[string]any) { params(m)["max_validators"] = "3" },
			want: ErrMalformed, msg: "genesis: params.max_validators: malformed: got a JSON string, want an unsigned integer of uint32"},
		{name: "max validators negative", mutate: func(m map[string]any) { params(m)["max_validators"] = -1 },
			want: ErrMalformed, msg: "genesis: params.max_validators: malformed: got a JSON number -1, want an unsigned integer of uint32"},
		{name: "slash fraction above one", mutate: func(m map[string]any) { params(m)["slash_fraction_double_sign"] = "1.5" },
			want: staking.ErrInvalidFraction, msg: `genesis: params.slash_fraction_double_sign: malformed: invalid fraction: "1.5": greater than 1`},

		// Addresses.
		{name: "short address", mutate: func(m map[string]any) { account(m, 0)["address"] = "0x1234" },
			want: ErrInvalidAddress, msg: `genesis: accounts[0].address: invalid address "0x1234": want 0x followed by 40 hex digits`},
		{name: "address not hex", mutate: func(m map[string]any) { valEntry(m, 0)["address"] = "0x" + strings.Repeat("z", 40) },
			want: ErrInvalidAddress, msg: `genesis: validators[0].address: invalid address: malformed address "0xzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz": invalid hex string`},
		{name: "duplicate account", mutate: func(m map[string]any) { account(m, 1)["address"] = addrA },
			want: ErrDuplicateAddress, msg: "genesis: accounts[1]: duplicate address " + addrA + " (also accounts[0])"},
		{name: "duplicate account other case", mutate: func(m map[string]any) { account(m, 1)["address"] = "0x" + strings.ToUpper(addrA[2:]) },
			want: ErrDuplicateAddress, msg: "genesis: accounts[1]: duplicate address " + addrA + " (also accounts[0])"},
		{name: "duplicate validator", mutate: func(m map[string]any) { valEntry(m, 1)["address"] = addrB },
			want: ErrDuplicateAddress, msg: "genesis: validators[1]: duplicate address " + addrB + " (also validators[0])"},
		{name: "zero validator address", mutate: func(m map[string]any) { valEntry(m, 1)["address"] = "0x" + strings.Repeat("0", 40) },
			want: ErrInvalidAddress, msg: "genesis: validators[1]: invalid address: zero address"},

		// Amounts.
		{name: "negative balance", mutate: func(m map[string]any) { account(m, 0)["balance"] = "-5" },
			want: ErrInvalidAmount, msg: `genesis: accounts[0].balance: invalid amount "-5": want a decimal integer (digits only, no sign or spaces)`},
		{name: "plus sign", mutate: func(m map[string]any) { account(m, 0)["balance"] = "+5" },
			want: ErrInvalidAmount, msg: `genesis: accounts[0].balance: invalid amount "+5": want a decimal integer (digits only, no sign or spaces)`},
		{name: "leading zero", mutate: func(m map[string]any) { valEntry(m, 0)["stake"] = "0100" },
			want: ErrInvalidAmount, msg: `genesis: validators[0].stake: invalid amount "0100": leading zeros`},
		{name: "space", mutate: func(m map[string]any) { valEntry(m, 0)["stake"] = "100 " },
			want: ErrInvalidAmount, msg: `genesis: validators[0].stake: invalid amount "100 ": want a decimal integer (digits only, no sign or spaces)`},
		{name: "exponent", mutate: func(m map[string]any) { valEntry(m, 0)["stake"] = "1e3" },
			want: ErrInvalidAmount, msg: `genesis: validators[0].stake: invalid amount "1e3": want a decimal integer (digits only, no sign or spaces)`},
		{name: "decimal point", mutate: func(m map[string]any) { account(m, 0)["balance"] = "5.0" },
			want: ErrInvalidAmount, msg: `genesis: accounts[0].balance: invalid amount "5.0": want a decimal integer (digits only, no sign or spaces)`},
		{name: "empty amount", mutate: func(m map[string]any) { account(m, 0)["balance"] = "" },
			want: ErrInvalidAmount, msg: `genesis: accounts[0].balance: invalid amount: empty`},
		{name: "amount a number", mutate: func(m map[string]any) { account(m, 0)["balance"] = 1000 },
			want: ErrMalformed, msg: "genesis: accounts[0].balance: malformed: got a JSON number, want a string"},
		{name: "amount overflows uint64", mutate: func(m map[string]any) { account(m, 0)["balance"] = "18446744073709551616" },
			want: ErrInvalidAmount, msg: `genesis: accounts[0].balance: invalid amount "18446744073709551616": exceeds 18446744073709551615`},
		{name: "zero balance", mutate: func(m map[string]any) { account(m, 1)["balance"] = "0" },
			want: ErrZeroBalance, msg: "genesis: accounts[1]: zero balance"},
		{name: "zero stake", mutate: func(m map[string]any) { valEntry(m, 1)["stake"] = "0" },
			want: ErrZeroStake, msg: "genesis: validators[1]: zero stake"},
		{name: "stake below min", mutate: func(m map[string]any) { valEntry(m, 1)["stake"] = "9" },
			want: ErrStakeBelowMin, msg: "genesis: validators[1]: stake below params.min_stake: stake 9, params.min_stake 10"},
		{name: "supply above max", mutate: func(m map[string]any) { account(m, 0)["balance"] = "1152921504606846337" },
			want: ErrSupplyExceeded, msg: "genesis: total supply exceeds staking.MaxSupply: balances and stakes total 1152921504606846977, the maximum is 1152921504606846976"},
		{name: "supply overflows uint64", mutate: func(m map[string]any) {
			account(m, 0)["balance"] = "18446744073709551615"
		}, want: ErrSupplyExceeded, msg: "genesis: total supply exceeds staking.MaxSupply: balances and stakes total more than 2^64-1, the maximum is 1152921504606846976"},

		// Validators.
		{name: "no validators", mutate: func(m map[string]any) { m["validators"] = []any{} },
			want: ErrNoValidators, msg: "genesis: validators: no validators"},
		{name: "more than max validators", mutate: func(m map[string]any) { params(m)["max_validators"] = 1 },
			want: ErrTooManyValidators, msg: "genesis: validators: more validators than params.max_validators: 2 validators, params.max_validators is 1"},
		{name: "empty name", mutate: func(m map[string]any) { valEntry(m, 0)["name"] = "" },
			want: ErrInvalidName, msg: "genesis: validators[0].name: invalid name: empty (omit the field instead)"},
		{name: "bad name", mutate: func(m map[string]any) { valEntry(m, 0)["name"] = "node/0" },
			want: ErrInvalidName, msg: `genesis: validators[0].name: invalid name "node/0": byte 4 is '/', want [A-Za-z0-9-_.]`},
		{name: "duplicate name", mutate: func(m map[string]any) { valEntry(m, 1)["name"] = "node0" },
			want: ErrDuplicateName, msg: `genesis: validators[1].name: duplicate name "node0" (also validators[0])`},
		{name: "commission above one", mutate: func(m map[string]any) { valEntry(m, 0)["commission"] = "1.5" },
			want: staking.ErrInvalidFraction, msg: `genesis: validators[0].commission: invalid fraction: "1.5": greater than 1`},
		{name: "commission not exact in 18 places", mutate: func(m map[string]any) { valEntry(m, 0)["commission"] = "1/3" },
			want: staking.ErrInvalidFraction, msg: `genesis: validators[0].commission: invalid fraction: "1/3" is not exact in 18 decimal places`},
		{name: "commission as a number", mutate: func(m map[string]any) { valEntry(m, 0)["commission"] = 0.05 },
			want: ErrMalformed, msg: `genesis: validators[0].commission: malformed: got a JSON number, want a string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.raw)
			if tt.mutate != nil {
				m := validDoc(t)
				tt.mutate(m)
				in = mustMarshal(t, m)
			}
			d, err := Parse(in)
			if err == nil {
				t.Fatalf("Parse accepted %s as %+v", in, d)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Parse error = %v, want errors.Is %v", err, tt.want)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Errorf("Parse error %T is not a *FieldError", err)
			}
			if err.Error() != tt.msg {
				t.Errorf("Parse error =\n  %s\nwant\n  %s", err, tt.msg)
			}
		})
	}
}

func TestSupplyAtMaxAccepted(t *testing.T) {
	m := validDoc(t)
	// 140 staked + 500 + x = MaxSupply
	account(m, 0)["balance"] = FormatAmount(staking.MaxSupply - 640)
	d, err := Parse(mustMarshal(t, m))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got := d.TotalSupply(); got != staking.MaxSupply {
		t.Errorf("TotalSupply = %d, want %d", got, staking.MaxSupply)
	}
}

func TestDecodeTooLarge(t *testing.T) {
	_, err := Decode(make([]byte, MaxDocBytes+1))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Decode(%d bytes) error = %v, want %v", MaxDocBytes+1, err, ErrTooLarge)
	}
}

func TestParseAmount(t *testing.T) {
	good := map[string]uint64{"0": 0, "1": 1, "1000": 1000, "18446744073709551615": 1<<64 - 1}
	for s, want := range good {
		if got, err := ParseAmount(s); err != nil || got != want {
			t.Errorf("ParseAmount(%q) = %d, %v, want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "-1", "+1", "01", "00", " 1", "1 ", "1_000", "1e3", "0x10", "18446744073709551616", "99999999999999999999999", "１"} {
		if got, err := ParseAmount(s); !errors.Is(err, ErrInvalidAmount) {
			t.Errorf("ParseAmount(%q) = %d, %v, want %v", s, got, err, ErrInvalidAmount)
		}
	}
}

func newTestDoc(t *testing.T) *Doc {
	t.Helper()
	d := New("quorum-local", time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	if err := d.AddValidator(mustAddr(t, addrB), 100, "node0"); err != nil {
		t.Fatal(err)
	}
	if err := d.AddValidator(mustAddr(t, addrC), 40, ""); err != nil {
		t.Fatal(err)
	}
	if err := d.AddAccount(mustAddr(t, addrA), 1000); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestAddRejectsAndKeepsDoc(t *testing.T) {
	d := newTestDoc(t)
	before := d.Hash()
	checks := []struct {
		name string
		err  error
		want error
	}{
		{"duplicate account", d.AddAccount(mustAddr(t, addrA), 1), ErrDuplicateAddress},
		{"zero balance", d.AddAccount(mustAddr(t, addrD), 0), ErrZeroBalance},
		{"duplicate validator", d.AddValidator(mustAddr(t, addrC), 5, ""), ErrDuplicateAddress},
		{"zero stake", d.AddValidator(mustAddr(t, addrD), 0, ""), ErrZeroStake},
		{"bad name", d.AddValidator(mustAddr(t, addrD), 5, "a b"), ErrInvalidName},
		{"supply", d.AddAccount(mustAddr(t, addrD), staking.MaxSupply), ErrSupplyExceeded},
	}
	for _, c := range checks {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: error = %v, want %v", c.name, c.err, c.want)
		}
	}
	if got := d.Hash(); got != before || len(d.Accounts) != 1 || len(d.Validators) != 2 {
		t.Errorf("document changed by rejected additions: hash %x -> %x, %d accounts, %d validators", before, got, len(d.Accounts), len(d.Validators))
	}
	if err := d.AddValidator(mustAddr(t, addrD), 5, "node1"); err != nil {
		t.Errorf("AddValidator after rejections: %v", err)
	}
}

func TestDraftWithoutValidators(t *testing.T) {
	d := New("quorum-local", time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	if err := d.ValidateDraft(); err != nil {
		t.Fatalf("ValidateDraft(new doc) = %v", err)
	}
	if err := d.Validate(); !errors.Is(err, ErrNoValidators) {
		t.Fatalf("Validate(new doc) = %v, want %v", err, ErrNoValidators)
	}
	path := filepath.Join(t.TempDir(), "genesis.json")
	if err := d.Save(path); err != nil {
		t.Fatalf("Save(draft): %v", err)
	}
	if _, err := Load(path); !errors.Is(err, ErrNoValidators) || !strings.HasPrefix(err.Error(), "genesis "+path+": ") {
		t.Errorf("Load(draft) = %v, want %v naming the file", err, ErrNoValidators)
	}
	if _, err := LoadDraft(path); err != nil {
		t.Errorf("LoadDraft(draft) = %v", err)
	}
	if err := New("Bad", time.Now()).Save(path); !errors.Is(err, ErrInvalidChainID) {
		t.Errorf("Save(bad chain id) = %v, want %v", err, ErrInvalidChainID)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	d := newTestDoc(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "genesis.json")
	if err := d.Save(path); err != nil {
		t.Fatalf("Save: %v", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644", info.Mode().Perm())
	}
	got, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Errorf("Load = %+v, want %+v", got, d)
	}
	if got.Hash() != d.Hash() {
		t.Errorf("Hash after Load = %x, want %x", got.Hash(), d.Hash())
	}
	// Saving what was loaded writes the same bytes.
	path2 := filepath.Join(dir, "again.json")
	if err := got.Save(path2); err != nil {
		t.Fatal(err)
	}
	b1, _ := os.ReadFile(path)
	b2, _ := os.ReadFile(path2)
	if !bytes.Equal(b1, b2) {
		t.Errorf("re-saved file differs:\n%s\nwant\n%s", b2, b1)
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil || !os.IsNotExist(errors.Unwrap(err)) {
		t.Errorf("Load(missing) = %v, want a not-exist error", err)
	}
}

// TestHashGolden pins the canonical encoding: peers with different
// encodings of the same genesis would refuse each other.
func TestHashGolden(t *testing.T) {
	d, err := Parse([]byte(validJSON))
	if err != nil {
		t.Fatal(err)
	}
	const wantJSON = `{"chain_id":"quorum-local","genesis_time":"2026-11-26T00:00:00Z",` +
		`"params":{"unbonding_blocks":20,"min_stake":"10","max_validators":3,"slash_fraction_double_sign":"0.05","jail_blocks":20,"min_fee":"1","block_reward":"0","proposer_bonus":"0.04","downtime_window":100,"downtime_max_missed":50,"slash_fraction_downtime":"0"},` +
		`"accounts":[{"address":"` + addrA + `","balance":"1000"},{"address":"` + addrB + `","balance":"500"}],` +
		`"validators":[{"address":"` + addrB + `","stake":"100","name":"node0"},{"address":"` + addrC + `","stake":"40"}]}`
	b, err := d.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != wantJSON {
		t.Errorf("MarshalJSON =\n%s\nwant\n%s", b, wantJSON)
	}
	const wantHash = "0x67a0eb2f2c43a26ddac2f717e8a154b4765d97eecee8a4fba568ed0203fa761e"
	if got := chain.FormatHash(d.Hash()); got != wantHash {
		t.Errorf("Hash = %s, want %s", got, wantHash)
	}
}

func TestInitialState(t *testing.T) {
	d := newTestDoc(t)
	state, set, err := d.InitialState()
	if err != nil {
		t.Fatalf("InitialState: %v", err)
	}
	if got, want := set.Len(), 2; got != want {
		t.Errorf("set size = %d, want %d", got, want)
	}
	if got, want := set.TotalStake(), d.TotalStake(); got != want {
		t.Errorf("set total stake = %d, want %d", got, want)
	}
	for _, v := range d.Validators {
		if stake, ok := set.StakeOf(v.Address); !ok || stake != v.Stake {
			t.Errorf("StakeOf(%s) = %d, %v, want %d", chain.FormatAddress(v.Address), stake, ok, v.Stake)
		}
	}
	if got, want := state.TotalSupply(), d.TotalSupply(); got != want {
		t.Errorf("state supply = %d, want %d", got, want)
	}
	if got := state.Account(d.Accounts[0].Address).Balance; got != d.Accounts[0].Balance {
		t.Errorf("balance = %d, want %d", got, d.Accounts[0].Balance)
	}
	// The same genesis always gives the same state.
	state2, _, err := d.InitialState()
	if err != nil {
		t.Fatal(err)
	}
	if state.Hash() != state2.Hash() {
		t.Errorf("state hash not deterministic: %x vs %x", state.Hash(), state2.Hash())
	}
	if _, _, err := New("quorum-local", d.GenesisTime).InitialState(); !errors.Is(err, ErrNoValidators) {
		t.Errorf("InitialState(no validators) = %v, want %v", err, ErrNoValidators)
	}
}

// TestValidatorCommission: a genesis commission reaches the state's
// candidate and survives the canonical encoding in decimal.
func TestValidatorCommission(t *testing.T) {
	m := validDoc(t)
	valEntry(m, 0)["commission"] = "1/20"
	d, err := Parse(mustMarshal(t, m))
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Validators[0].Commission; got != staking.CommissionDen/20 {
		t.Fatalf("commission: got %d, want %d", got, staking.CommissionDen/20)
	}
	b, err := d.MarshalJSON()
	if err != nil || !strings.Contains(string(b), `"commission":"0.05"`) {
		t.Fatalf("canonical encoding %s, %v: want commission 0.05", b, err)
	}
	st, _, err := d.InitialState()
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := st.Candidate(d.Validators[0].Address); c.Commission != staking.CommissionDen/20 {
		t.Fatalf("candidate commission: got %d", c.Commission)
	}
}
