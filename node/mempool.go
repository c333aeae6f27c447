package node

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

// Mempool admission errors. Each wraps into the RPC error the client sees.
var (
	errPoolFull       = errors.New("mempool is full")
	errSenderFull     = errors.New("too many pending transactions from this sender")
	errAlreadyKnown   = errors.New("transaction already in the mempool")
	errNonceTaken     = errors.New("another pending transaction from this sender has this nonce")
	errNonceTooLow    = errors.New("nonce already used (replayed transaction)")
	errNonceGap       = errors.New("nonce too far ahead of the account nonce")
	errPendingBalance = errors.New("balance does not cover this and the sender's pending transactions")
)

// txPool holds admitted transactions until they are final. It orders each
// sender's transactions by nonce, bounds its size in total and per sender,
// checks each transaction against the committed state plus the sender's
// pending spends, re-checks after every block, and remembers why it
// evicted a transaction. It is safe for concurrent use.
type txPool struct {
	chainID      string
	size         int
	maxPerSender int

	mu      sync.Mutex
	state   staking.AccountReader
	byHash  map[chain.Hash]*poolTx
	senders map[chain.Address]*senderTxs
	order   []chain.Address // senders in order of arrival, for fair reaping
	count   int
	evicted *reasonRing
	// included remembers the hashes of recently committed transactions, so
	// that a copy gossiped late is dropped before its signature is
	// recovered a second time.
	included *reasonRing
	notifyCh chan struct{}
}

// recentIncluded bounds the remembered committed transaction hashes.
const recentIncluded = 1 << 16

type poolTx struct {
	tx   *chain.Tx
	hash chain.Hash
	from chain.Address
}

type senderTxs struct {
	byNonce map[uint64]*poolTx
	spend   uint64 // sum of pending transfer and stake amounts
}

// newTxPool returns an empty mempool checking against state.
func newTxPool(chainID string, cfg MempoolConfig, state staking.AccountReader) *txPool {
	return &txPool{
		chainID: chainID, size: cfg.Size, maxPerSender: cfg.MaxPerSender, state: state,
		byHash: make(map[chain.Hash]*poolTx), senders: make(map[chain.Address]*senderTxs),
		evicted: newReasonRing(16384), included: newReasonRing(recentIncluded), notifyCh: make(chan struct{}, 1),
	}
}

// TxsAvailable is signalled (without blocking) whenever transactions are added.
func (m *txPool) TxsAvailable() <-chan struct{} { return m.notifyCh }

// Size returns the number of pending transactions.
func (m *txPool) Size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.count
}

func spendOf(tx *chain.Tx) uint64 {
	if tx.Kind == chain.TxTransfer || tx.Kind == chain.TxStake {
		return tx.Amount
	}
	return 0
}

// Add admits tx. The signature is checked here, once: the recovered sender
// is cached and block execution reuses it.
func (m *txPool) Add(tx *chain.Tx) (chain.Hash, error) {
	if err := tx.ValidateBasic(m.chainID); err != nil {
		return chain.Hash{}, err
	}
	hash := tx.Hash()
	m.mu.Lock()
	_, known := m.byHash[hash]
	_, final := m.included.get(hash)
	m.mu.Unlock()
	if known {
		return hash, errAlreadyKnown
	}
	if final {
		return hash, fmt.Errorf("%w: %w: transaction is already final", staking.ErrBadNonce, errNonceTooLow)
	}
	from, err := tx.Sender() // ~50µs: outside the lock
	if err != nil {
		return hash, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, known := m.byHash[hash]; known {
		return hash, errAlreadyKnown
	}
	if m.count >= m.size {
		return hash, fmt.Errorf("%w: %d transactions", errPoolFull, m.count)
	}
	acct := m.state.Account(from)
	if tx.Nonce < acct.Nonce {
		return hash, fmt.Errorf("%w: %w: nonce %d, account nonce %d", staking.ErrBadNonce, errNonceTooLow, tx.Nonce, acct.Nonce)
	}
	if tx.Nonce-acct.Nonce >= uint64(m.maxPerSender) {
		return hash, fmt.Errorf("%w: %w: nonce %d, account nonce %d", staking.ErrBadNonce, errNonceGap, tx.Nonce, acct.Nonce)
	}
	st := m.senders[from]
	if st == nil {
		st = &senderTxs{byNonce: make(map[uint64]*poolTx)}
	}
	if len(st.byNonce) >= m.maxPerSender {
		return hash, fmt.Errorf("%w: %d pending", errSenderFull, len(st.byNonce))
	}
	if _, taken := st.byNonce[tx.Nonce]; taken {
		return hash, fmt.Errorf("%w: %d", errNonceTaken, tx.Nonce)
	}
	spend := st.spend + spendOf(tx)
	if spend < st.spend || spend > acct.Balance {
		return hash, fmt.Errorf("%w: %w: balance %d, pending spend with this %d", staking.ErrInsufficientBalance, errPendingBalance, acct.Balance, spend)
	}
	if m.senders[from] == nil {
		m.senders[from] = st
		m.order = append(m.order, from)
	}
	st.spend = spend
	p := &poolTx{tx: tx, hash: hash, from: from}
	st.byNonce[tx.Nonce] = p
	m.byHash[hash] = p
	m.count++
	select {
	case m.notifyCh <- struct{}{}:
	default:
	}
	return hash, nil
}

// Sender implements chain.SenderCache with the senders recovered at admission.
func (m *txPool) Sender(h chain.Hash) (chain.Address, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.byHash[h]; ok {
		return p.from, true
	}
	return chain.Address{}, false
}

// Senders implements chain.BatchSenderCache under one lock.
func (m *txPool) Senders(hashes []chain.Hash, from []chain.Address, ok []bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, h := range hashes {
		if p, found := m.byHash[h]; found {
			from[i], ok[i] = p.from, true
		}
	}
}

// Has reports whether a transaction is pending.
func (m *txPool) Has(h chain.Hash) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.byHash[h]
	return ok
}

// SetState switches admission checks to a newer committed state.
func (m *txPool) SetState(state staking.AccountReader) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.state = state
}

// Evicted returns why a transaction was evicted, if it was recently.
func (m *txPool) Evicted(h chain.Hash) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.evicted.get(h)
}

// Reap returns up to max transactions for a block: for each sender, its
// transactions with consecutive nonces from the account nonce, senders
// taken round-robin in order of arrival.
func (m *txPool) Reap(max int) []*chain.Tx {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*chain.Tx, 0, min(max, m.count))
	next := make([]uint64, len(m.order))
	for i, a := range m.order {
		next[i] = m.state.Account(a).Nonce
	}
	for progress := true; progress && len(out) < max; {
		progress = false
		for i, a := range m.order {
			if len(out) >= max {
				break
			}
			p, ok := m.senders[a].byNonce[next[i]]
			if !ok {
				continue
			}
			out = append(out, p.tx)
			next[i]++
			progress = true
		}
	}
	return out
}

// Update removes the transactions of a committed block and re-checks the
// rest against the new committed state, evicting those that can no longer
// apply, with the reason. state is the committed state after the block.
func (m *txPool) Update(included []chain.Hash, state staking.AccountReader) (evicted int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.state = state
	for _, h := range included {
		m.included.put(h, "")
		if p, ok := m.byHash[h]; ok {
			m.removeLocked(p)
		}
	}
	kept := m.order[:0]
	for _, a := range m.order {
		st := m.senders[a]
		acct := state.Account(a)
		var spend uint64
		for n, p := range st.byNonce {
			if n < acct.Nonce {
				m.evictLocked(p, fmt.Sprintf("evicted: nonce %d already used (account nonce %d)", n, acct.Nonce))
				evicted++
				continue
			}
			spend += spendOf(p.tx)
		}
		if spend > acct.Balance {
			// Evict from the highest nonce down until the rest is covered.
			nonces := slices.Sorted(maps.Keys(st.byNonce))
			for i := len(nonces) - 1; i >= 0 && spend > acct.Balance; i-- {
				p := st.byNonce[nonces[i]]
				spend -= spendOf(p.tx)
				m.evictLocked(p, fmt.Sprintf("evicted: balance %d no longer covers pending spends", acct.Balance))
				evicted++
			}
		}
		st.spend = spend
		if len(st.byNonce) == 0 {
			delete(m.senders, a)
			continue
		}
		kept = append(kept, a)
	}
	m.order = kept
	return evicted
}

func (m *txPool) removeLocked(p *poolTx) {
	delete(m.byHash, p.hash)
	st := m.senders[p.from]
	delete(st.byNonce, p.tx.Nonce)
	st.spend -= spendOf(p.tx)
	m.count--
}

func (m *txPool) evictLocked(p *poolTx, reason string) {
	delete(m.byHash, p.hash)
	delete(m.senders[p.from].byNonce, p.tx.Nonce)
	m.count--
	m.evicted.put(p.hash, reason)
}

// reasonRing remembers the last n hashes with a reason each. It grows as
// it fills, so an idle node pays nothing for its capacity.
type reasonRing struct {
	reasons map[chain.Hash]string
	ring    []chain.Hash
	n, next int
}

func newReasonRing(n int) *reasonRing {
	return &reasonRing{reasons: make(map[chain.Hash]string), n: n}
}

func (r *reasonRing) put(h chain.Hash, reason string) {
	if len(r.ring) < r.n {
		r.ring = append(r.ring, h)
		r.reasons[h] = reason
		return
	}
	delete(r.reasons, r.ring[r.next])
	r.ring[r.next] = h
	r.reasons[h] = reason
	r.next = (r.next + 1) % r.n
}

func (r *reasonRing) get(h chain.Hash) (string, bool) {
	s, ok := r.reasons[h]
	return s, ok
}
