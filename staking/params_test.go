package staking_test

import (
	"encoding/json"
	"errors"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/quorumchain/quorumchain/staking"
)

func TestParseFraction(t *testing.T) {
	tests := []struct {
		in   string
		want staking.Fraction
		str  string
	}{
		{"0.05", staking.Fraction{Num: 1, Den: 20}, "0.05"},
		{"1/20", staking.Fraction{Num: 1, Den: 20}, "0.05"},
		{"5/100", staking.Fraction{Num: 1, Den: 20}, "0.05"},
		{"0", staking.Fraction{Num: 0, Den: 1}, "0"},
		{"0/7", staking.Fraction{Num: 0, Den: 1}, "0"},
		{"0.0", staking.Fraction{Num: 0, Den: 1}, "0"},
		{"1", staking.Fraction{Num: 1, Den: 1}, "1"},
		{"1.000", staking.Fraction{Num: 1, Den: 1}, "1"},
		{"3/3", staking.Fraction{Num: 1, Den: 1}, "1"},
		{"0.125", staking.Fraction{Num: 1, Den: 8}, "0.125"},
		{"1/3", staking.Fraction{Num: 1, Den: 3}, "1/3"},
		{"2/6", staking.Fraction{Num: 1, Den: 3}, "1/3"},
		{"0.000000000000000001", staking.Fraction{Num: 1, Den: 1e18}, "0.000000000000000001"},
		{"18446744073709551615/18446744073709551615", staking.Fraction{Num: 1, Den: 1}, "1"},
		{"1/18446744073709551615", staking.Fraction{Num: 1, Den: 1<<64 - 1}, "1/18446744073709551615"},
		{"1/1099511627776", staking.Fraction{Num: 1, Den: 1 << 40}, "1/1099511627776"}, // 40 decimal places: too long
		{"1/262144", staking.Fraction{Num: 1, Den: 1 << 18}, "0.000003814697265625"},
	}
	for _, tt := range tests {
		got, err := staking.ParseFraction(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseFraction(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			continue
		}
		if got.String() != tt.str {
			t.Errorf("%q: String() = %q, want %q", tt.in, got.String(), tt.str)
		}
		back, err := staking.ParseFraction(got.String())
		if err != nil || back != got {
			t.Errorf("%q: ParseFraction(String()) = %v, %v", tt.in, back, err)
		}
	}
	for _, in := range []string{"", "1.5", "2", "-0.5", "+0.5", "-1/2", "3/2", "1/0", "0/0", ".5", "0.", "0.5.5", "1e-2",
		" 0.5", "0.5 ", "0,5", "abc", "1/", "/2", "1/2/3", "0x1", "1_0/20", "0.0000000000000000001", "18446744073709551616/1"} {
		if f, err := staking.ParseFraction(in); !errors.Is(err, staking.ErrInvalidFraction) {
			t.Errorf("ParseFraction(%q) = %v, %v; want ErrInvalidFraction", in, f, err)
		}
	}
}

func TestFractionMulFloor(t *testing.T) {
	tests := []struct {
		f    staking.Fraction
		x    uint64
		want uint64
	}{
		{staking.Fraction{Num: 1, Den: 20}, 100, 5},
		{staking.Fraction{Num: 1, Den: 20}, 39, 1},
		{staking.Fraction{Num: 1, Den: 20}, 19, 0},
		{staking.Fraction{Num: 0, Den: 1}, 1 << 63, 0},
		{staking.Fraction{Num: 1, Den: 1}, 1<<64 - 1, 1<<64 - 1},
		{staking.Fraction{Num: 1<<64 - 2, Den: 1<<64 - 1}, 1<<64 - 1, 1<<64 - 2}, // x*Num needs 128 bits
		{staking.Fraction{Num: 1<<63 + 1, Den: 1<<64 - 1}, 1<<64 - 1, 1<<63 + 1},
		{staking.Fraction{Num: 2, Den: 3}, staking.MaxSupply, staking.MaxSupply * 2 / 3},
	}
	for _, tt := range tests {
		if got, err := tt.f.MulFloor(tt.x); err != nil || got != tt.want {
			t.Errorf("%v.MulFloor(%d) = %d, %v; want %d", tt.f, tt.x, got, err, tt.want)
		}
	}
	for _, bad := range []staking.Fraction{{}, {Num: 1}, {Num: 2, Den: 1}} {
		if _, err := bad.MulFloor(1); !errors.Is(err, staking.ErrInvalidFraction) {
			t.Errorf("%v.MulFloor: got %v, want ErrInvalidFraction", bad, err)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		den := 1 + r.Uint64()>>uint(r.IntN(64))
		f := staking.Fraction{Num: r.Uint64N(den) + uint64(r.IntN(2)), Den: den}
		if f.Num > f.Den {
			f.Num = f.Den
		}
		x := r.Uint64() >> uint(r.IntN(64))
		want := new(big.Int).Mul(new(big.Int).SetUint64(x), new(big.Int).SetUint64(f.Num))
		want.Quo(want, new(big.Int).SetUint64(f.Den))
		if got, err := f.MulFloor(x); err != nil || got != want.Uint64() {
			t.Fatalf("%d/%d.MulFloor(%d) = %d, %v; want %v", f.Num, f.Den, x, got, err, want)
		}
	}
}

func TestFractionEqual(t *testing.T) {
	if !(staking.Fraction{Num: 5, Den: 100}).Equal(staking.Fraction{Num: 1, Den: 20}) {
		t.Error("5/100 != 1/20")
	}
	if (staking.Fraction{Num: 1, Den: 3}).Equal(staking.Fraction{Num: 1, Den: 4}) {
		t.Error("1/3 == 1/4")
	}
}

func TestParamsJSON(t *testing.T) {
	p := staking.DefaultParams()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"unbonding_blocks":20,"min_stake":"1","max_validators":100,"slash_fraction_double_sign":"0.05","jail_blocks":20,"min_fee":"0","block_reward":"0","proposer_bonus":"0.04","downtime_window":100,"downtime_max_missed":50,"slash_fraction_downtime":"0.0001"}`
	if string(b) != want {
		t.Fatalf("got %s\nwant %s", b, want)
	}
	var back staking.Params
	if err := json.Unmarshal(b, &back); err != nil || back != p {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	bad := strings.Replace(want, `"0.05"`, `"1.5"`, 1)
	if err := json.Unmarshal([]byte(bad), &back); !errors.Is(err, staking.ErrInvalidFraction) {
		t.Fatalf("bad fraction: got %v", err)
	}
	if _, err := json.Marshal(staking.Params{}); err == nil {
		t.Fatal("marshalled an invalid fraction")
	}
}

func TestParamsValidate(t *testing.T) {
	if err := staking.DefaultParams().Validate(); err != nil {
		t.Fatal(err)
	}
	d := staking.DefaultParams()
	if d.UnbondingBlocks != 20 || d.MinStake != 1 || d.MaxValidators != 100 || d.SlashFractionDoubleSign.String() != "0.05" || d.JailBlocks != 20 {
		t.Fatalf("DefaultParams = %+v", d)
	}
	for name, mod := range map[string]func(*staking.Params){
		"unbonding 0":     func(p *staking.Params) { p.UnbondingBlocks = 0 },
		"min stake 0":     func(p *staking.Params) { p.MinStake = 0 },
		"min stake huge":  func(p *staking.Params) { p.MinStake = staking.MaxSupply + 1 },
		"max validators":  func(p *staking.Params) { p.MaxValidators = 0 },
		"slash above one": func(p *staking.Params) { p.SlashFractionDoubleSign = staking.Fraction{Num: 2, Den: 1} },
		"slash zero den":  func(p *staking.Params) { p.SlashFractionDoubleSign = staking.Fraction{} },
		"min fee huge":    func(p *staking.Params) { p.MinFee = staking.MaxSupply + 1 },
		"reward huge":     func(p *staking.Params) { p.BlockReward = staking.MaxSupply + 1 },
		"bonus above one": func(p *staking.Params) { p.ProposerBonus = staking.Fraction{Num: 2, Den: 1} },
		"window 0":        func(p *staking.Params) { p.DowntimeWindow = 0 },
		"window huge":     func(p *staking.Params) { p.DowntimeWindow = 1<<14 + 1 },
		"missed = window": func(p *staking.Params) { p.DowntimeMaxMissed = p.DowntimeWindow },
		"downtime slash":  func(p *staking.Params) { p.SlashFractionDowntime = staking.Fraction{} },
	} {
		p := staking.DefaultParams()
		mod(&p)
		if err := p.Validate(); !errors.Is(err, staking.ErrInvalidParams) {
			t.Errorf("%s: got %v, want ErrInvalidParams", name, err)
		}
	}
}
