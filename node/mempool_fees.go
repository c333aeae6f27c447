package node

import (
	"container/heap"

	"github.com/quorumchain/quorumchain/chain"
)

// feeHeap orders the senders with pending transactions by the fee of their
// highest-nonce transaction, the only one of theirs a full pool may evict
// (evicting any other would leave a nonce gap). Among equal fees the later
// arrival is evicted first, so that a flood at the same fee cannot push
// out what was already waiting. Each sender knows its index, so a change
// of its top costs O(log senders).
type feeHeap []*senderTxs

func (h feeHeap) Len() int { return len(h) }

func (h feeHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.topFee != b.topFee {
		return a.topFee < b.topFee
	}
	return a.topSeq > b.topSeq
}

func (h feeHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}

func (h *feeHeap) Push(x any) {
	st := x.(*senderTxs)
	st.idx = len(*h)
	*h = append(*h, st)
}

func (h *feeHeap) Pop() any {
	old := *h
	st := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	st.idx = -1
	return st
}

// update puts st where its top now belongs: in the heap if it has one, out
// of it if it has none.
func (h *feeHeap) update(st *senderTxs) {
	if st.top != nil {
		st.topFee, st.topSeq = st.top.tx.Fee, st.top.seq
	}
	switch {
	case st.top == nil && st.idx >= 0:
		heap.Remove(h, st.idx)
	case st.top == nil:
	case st.idx >= 0:
		heap.Fix(h, st.idx)
	default:
		heap.Push(h, st)
	}
}

// lowest returns the sender whose top transaction a newcomer from
// exclude would evict first, or nil. A sender never evicts its own
// transactions: a higher nonce would be left behind a gap, a lower one
// would replace a pending one out of order.
func (h feeHeap) lowest(exclude chain.Address) *senderTxs {
	if len(h) == 0 {
		return nil
	}
	if h[0].from != exclude {
		return h[0]
	}
	// The second lowest is one of the root's children.
	var best *senderTxs
	for i := 1; i <= 2 && i < len(h); i++ {
		if best == nil || h.Less(i, best.idx) {
			best = h[i]
		}
	}
	return best
}
