package rpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
)

func testBlock(txs int) BlockResult {
	h := chain.Hash{1, 2, 3}
	b := BlockResult{
		Header:      HeaderResult{Hash: h, ChainID: "quorum-<test>&", Height: 7, Time: time.Unix(1_700_000_000, 0).UTC()},
		Txs:         []BlockTxResult{},
		Certificate: &CertificateResult{Height: 7, BlockHash: &h, SignedStake: 70, TotalStake: 100, Signers: []chain.Address{{9}}},
	}
	for i := range txs {
		tx := BlockTxResult{Hash: chain.Hash{byte(i), byte(i >> 8)}, Kind: "transfer", From: chain.Address{1}, To: chain.Address{2},
			Amount: Amount(i), Nonce: uint64(i), Status: TxFinal}
		if i%3 == 1 {
			tx.Status, tx.Code, tx.Error = TxRejected, "bad_nonce", fmt.Sprintf("nonce %d is not <next>", i)
		}
		b.Txs = append(b.Txs, tx)
	}
	return b
}

func summaryOf(b BlockResult) BlockSummaryResult {
	s := BlockSummaryResult{Header: b.Header, Txs: []BlockTxSummary{}, Certificate: b.Certificate}
	for _, tx := range b.Txs {
		s.Txs = append(s.Txs, BlockTxSummary{Hash: tx.Hash, Status: tx.Status, Code: tx.Code, Error: tx.Error})
	}
	return s
}

// TestStreamedResultsMatchEncodingJSON: the results encoded list element by
// list element are byte for byte what encoding/json writes.
func TestStreamedResultsMatchEncodingJSON(t *testing.T) {
	vals := ValidatorsResult{Height: 3, TotalStake: 10, QuorumStake: 7, Validators: []ValidatorResult{{Address: chain.Address{1}, Stake: 6}, {Address: chain.Address{2}, Stake: 4, ProposerPriority: -3}}}
	for name, v := range map[string]streamed{
		"block":          testBlock(50),
		"empty block":    testBlock(0),
		"no certificate": BlockResult{Txs: []BlockTxResult{}},
		"block summary":  summaryOf(testBlock(50)),
		"empty summary":  summaryOf(testBlock(0)),
		"validators":     vals,
		"no validators":  ValidatorsResult{Validators: []ValidatorResult{}},
		"duties":         dutyList{{ID: 1, Kind: "prevote", Height: 2}, {ID: 2, Kind: "precommit", Height: 2, Round: 1}},
		"no duties":      dutyList{},
	} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		b := budgetBuffer{limit: len(want)}
		if err := v.appendJSON(&b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(b.buf, want) {
			t.Fatalf("%s: got\n%s\nwant\n%s", name, b.buf, want)
		}
		b = budgetBuffer{limit: len(want) - 1}
		if err := v.appendJSON(&b); !errors.Is(err, errOverBudget) {
			t.Fatalf("%s one byte short: got %v, want errOverBudget", name, err)
		}
	}
}

// TestResponseBudgetBoundsMemory: encoding a result far over the budget
// stops at the budget; it does not build the whole text first.
func TestResponseBudgetBoundsMemory(t *testing.T) {
	const budget = 64 << 10
	block := testBlock(20_000)
	whole, err := json.Marshal(block)
	if err != nil {
		t.Fatal(err)
	}
	// TotalAlloc counts every goroutine's allocations: take the least of
	// a few runs, so that another goroutine's cannot fail the test.
	allocated := uint64(math.MaxUint64)
	for range 5 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		b := budgetBuffer{limit: budget}
		err = appendResultResponse(&b, json.RawMessage("1"), block)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, errOverBudget) {
			t.Fatalf("got %v, want errOverBudget", err)
		}
		allocated = min(allocated, after.TotalAlloc-before.TotalAlloc)
	}
	t.Logf("whole result %d bytes; encoding with a %d-byte budget allocated %d bytes", len(whole), budget, allocated)
	if allocated > 6*budget {
		t.Fatalf("encoding allocated %d bytes for a budget of %d (the whole result is %d)", allocated, budget, len(whole))
	}
}

// FuzzOriginCheck: any Origin header is either served or refused with
// -32012, never a panic; a served one is absent, the request's own host,
// or one of the allowed origins.
func FuzzOriginCheck(f *testing.F) {
	for _, seed := range []string{"", "null", "https://app.example", "HTTPS://APP.EXAMPLE:443", "http://127.0.0.1:26657",
		"http://[::1]:80", "https://app.example/path", "https://u@app.example", "http://%zz", "file://", "https://evil.example"} {
		f.Add(seed)
	}
	p := newOriginPolicy([]string{"https://app.example", "http://localhost:3000"})
	f.Fuzz(func(t *testing.T, origin string) {
		r := &http.Request{Host: "127.0.0.1:26657", Header: http.Header{}}
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		e := p.check(r)
		if e != nil {
			if e.Code != CodeForbiddenOrigin {
				t.Fatalf("origin %q: got code %d", origin, e.Code)
			}
			return
		}
		if origin == "" || sameOrigin(origin, r) {
			return
		}
		n, err := normalizeOrigin(origin)
		if err != nil {
			t.Fatalf("origin %q served but does not parse: %v", origin, err)
		}
		if _, ok := p.allowed[n]; !ok {
			t.Fatalf("origin %q (%s) served but not allowed", origin, n)
		}
		if again, err := normalizeOrigin(n); err != nil || again != n {
			t.Fatalf("origin %q: normalized %q normalizes to %q, %v", origin, n, again, err)
		}
	})
}

// BenchmarkBlockResponse: the response to chain_getBlock of a block of
// 10,000 transactions, encoded into the default budget.
func BenchmarkBlockResponse(b *testing.B) {
	block := testBlock(10_000)
	b.ReportAllocs()
	var size int
	for b.Loop() {
		buf := budgetBuffer{limit: DefaultMaxResponseBytes}
		if err := appendResultResponse(&buf, json.RawMessage("1"), block); err != nil {
			b.Fatal(err)
		}
		size = len(buf.buf)
	}
	b.SetBytes(int64(size))
}
