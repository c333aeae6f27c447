package node

import (
	"sync"

	"github.com/quorumchain/quorumchain/chain"
)

// recentReceiptsMax bounds the receipts recentReceipts keeps, over all
// its heights (about 100 bytes each).
const recentReceiptsMax = 1 << 16

// recentReceipts keeps the receipts of the latest finalized blocks, in
// block order, so that chain_getBlock for a block near the tip (what a
// client following finality asks for) reads neither one index entry per
// transaction nor hashes any: the receipt carries the hash, sender and
// outcome. Older heights fall back to the store. It is safe for
// concurrent use.
type recentReceipts struct {
	mu      sync.Mutex
	max     int
	byH     map[uint64][]chain.Receipt
	heights []uint64 // in order of arrival, oldest first
	count   int
}

func newRecentReceipts(max int) *recentReceipts {
	return &recentReceipts{max: max, byH: make(map[uint64][]chain.Receipt)}
}

// put records height's receipts (the slice is kept, not copied: the
// caller must not change it) and forgets the oldest heights beyond max.
func (r *recentReceipts) put(height uint64, receipts []chain.Receipt) {
	if len(receipts) > r.max {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.byH[height]; ok {
		r.count -= len(old)
	} else {
		r.heights = append(r.heights, height)
	}
	r.byH[height] = receipts
	r.count += len(receipts)
	for r.count > r.max && len(r.heights) > 0 {
		h := r.heights[0]
		r.heights = r.heights[1:]
		r.count -= len(r.byH[h])
		delete(r.byH, h)
	}
}

// get returns height's receipts if they are kept.
func (r *recentReceipts) get(height uint64) ([]chain.Receipt, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rs, ok := r.byH[height]
	return rs, ok
}
