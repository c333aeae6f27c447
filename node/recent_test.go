package node

import (
	"testing"

	"github.com/quorumchain/quorumchain/chain"
)

// TestRecentReceiptsBounded: the cache keeps the latest heights within its
// receipt budget, forgets the oldest first, and refuses a block larger
// than the whole budget rather than emptying itself for it.
func TestRecentReceiptsBounded(t *testing.T) {
	r := newRecentReceipts(10)
	for h := uint64(1); h <= 5; h++ {
		r.put(h, make([]chain.Receipt, 3))
	}
	for h := uint64(1); h <= 5; h++ {
		_, ok := r.get(h)
		if want := h >= 3; ok != want {
			t.Errorf("height %d kept %v, want %v (10 receipts: the last three blocks of 3)", h, ok, want)
		}
	}
	if r.count != 9 {
		t.Fatalf("count %d, want 9", r.count)
	}
	r.put(6, make([]chain.Receipt, 11))
	if _, ok := r.get(6); ok {
		t.Fatal("a block over the whole budget was kept")
	}
	if _, ok := r.get(5); !ok {
		t.Fatal("a block over the whole budget evicted the others")
	}
	r.put(5, make([]chain.Receipt, 1)) // replaced, not counted twice
	if r.count != 7 {
		t.Fatalf("count after replacing height 5: %d, want 7", r.count)
	}
}
