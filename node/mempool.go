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
	errCannotApply    = errors.New("transaction cannot apply to the current state")
)

// txPool holds admitted transactions until they are final. It orders each
// sender's transactions by nonce, bounds its size in total and per sender
// and how far a nonce may run ahead of the account's, checks each
// transaction against the committed state (fee at least min_fee; unjail
// only by a jailed validator whose jail time is over; unstake only
// against a bond that covers it) plus the sender's pending spends and
// fees, re-checks after every block, expires transactions stuck behind a
// nonce gap, and when full lets a higher fee evict the lowest, taking
// only a sender's last nonce so that no sender's nonces get a gap. It
// remembers why it evicted a transaction. It is safe for concurrent use.
type txPool struct {
	chainID      string
	size         int
	maxPerSender int
	maxNonceGap  uint64
	gapExpiry    uint64

	mu      sync.Mutex
	state   staking.AccountReader
	byHash  map[chain.Hash]*poolTx
	senders map[chain.Address]*senderTxs
	order   []chain.Address // senders in order of arrival, for fair reaping
	tops    feeHeap         // senders with pending transactions, lowest last-nonce fee first
	count   int
	seq     uint64 // arrival counter
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
	tx    *chain.Tx
	hash  chain.Hash
	from  chain.Address
	added uint64 // committed height when admitted
	seq   uint64 // arrival order
}

type senderTxs struct {
	from    chain.Address
	byNonce map[uint64]*poolTx
	spend   uint64  // sum of pending transfer and stake amounts and all fees
	top     *poolTx // the highest nonce: the only one eviction may take
	idx     int     // position in tops, -1 when absent
	// topFee and topSeq are top's fee and arrival, the heap's key, copied
	// by tops.update so that ordering the heap reads no other memory.
	topFee, topSeq uint64
}

// newTxPool returns an empty mempool checking against state. Zero limits
// in cfg take DefaultConfig's.
func newTxPool(chainID string, cfg MempoolConfig, state staking.AccountReader) *txPool {
	def := DefaultConfig().Mempool
	if cfg.MaxNonceGap <= 0 {
		cfg.MaxNonceGap = def.MaxNonceGap
	}
	if cfg.GapExpiryBlocks <= 0 {
		cfg.GapExpiryBlocks = def.GapExpiryBlocks
	}
	return &txPool{
		chainID: chainID, size: cfg.Size, maxPerSender: cfg.MaxPerSender, state: state,
		maxNonceGap: uint64(cfg.MaxNonceGap), gapExpiry: uint64(cfg.GapExpiryBlocks),
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

// spendOf is what tx takes from the sender's balance at most: its fee, and
// the amount of a transfer or stake.
func spendOf(tx *chain.Tx) uint64 {
	s := tx.Fee
	if tx.Kind == chain.TxTransfer || tx.Kind == chain.TxStake {
		s += tx.Amount // both at most MaxSupply after admission: no overflow
	}
	return s
}

// Add admits tx. The signature is checked here, once: the recovered sender
// is cached and block execution reuses it.
func (m *txPool) Add(tx *chain.Tx) (chain.Hash, error) {
	if err := tx.ValidateBasic(m.chainID); err != nil {
		return chain.Hash{}, err
	}
	if tx.Fee > staking.MaxSupply || tx.Amount > staking.MaxSupply {
		return chain.Hash{}, fmt.Errorf("%w: fee %d, amount %d, maximum %d", staking.ErrOverflow, tx.Fee, tx.Amount, staking.MaxSupply)
	}
	hash := tx.Hash()
	m.mu.Lock()
	_, known := m.byHash[hash]
	_, final := m.included.get(hash)
	full := m.count >= m.size && !m.outbidsLocked(tx.Fee)
	count := m.count
	m.mu.Unlock()
	switch {
	case known:
		return hash, errAlreadyKnown
	case final:
		return hash, fmt.Errorf("%w: %w: transaction is already final", staking.ErrBadNonce, errNonceTooLow)
	case full:
		return hash, fmt.Errorf("%w: %d transactions, fee %d does not beat the lowest evictable", errPoolFull, count, tx.Fee)
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
	acct := m.state.Account(from)
	if minFee := m.state.Params().MinFee; tx.Fee < minFee {
		return hash, fmt.Errorf("%w: fee %d, min_fee %d", staking.ErrFeeTooLow, tx.Fee, minFee)
	}
	if tx.Nonce < acct.Nonce {
		return hash, fmt.Errorf("%w: %w: nonce %d, account nonce %d", staking.ErrBadNonce, errNonceTooLow, tx.Nonce, acct.Nonce)
	}
	if tx.Nonce-acct.Nonce >= m.maxNonceGap {
		return hash, fmt.Errorf("%w: %w: nonce %d, account nonce %d, at most %d ahead", staking.ErrBadNonce, errNonceGap, tx.Nonce, acct.Nonce, m.maxNonceGap-1)
	}
	st := m.senders[from]
	if st == nil {
		st = &senderTxs{from: from, byNonce: make(map[uint64]*poolTx), idx: -1}
	}
	if len(st.byNonce) >= m.maxPerSender {
		return hash, fmt.Errorf("%w: %d pending", errSenderFull, len(st.byNonce))
	}
	if _, taken := st.byNonce[tx.Nonce]; taken {
		return hash, fmt.Errorf("%w: %d", errNonceTaken, tx.Nonce)
	}
	if err := checkApplies(m.state, from, tx); err != nil {
		return hash, fmt.Errorf("%w: %w", errCannotApply, err)
	}
	spend := st.spend + spendOf(tx)
	if spend < st.spend || spend > acct.Balance {
		return hash, fmt.Errorf("%w: %w: balance %d, pending spend and fees with this %d", staking.ErrInsufficientBalance, errPendingBalance, acct.Balance, spend)
	}
	if m.count >= m.size {
		victim := m.tops.lowest(from)
		if victim == nil || victim.top.tx.Fee >= tx.Fee {
			return hash, fmt.Errorf("%w: %d transactions, fee %d does not beat the lowest evictable", errPoolFull, m.count, tx.Fee)
		}
		m.evictLocked(victim.top, fmt.Sprintf("evicted: mempool full, fee %d outbid by %d", victim.top.tx.Fee, tx.Fee))
	}
	if m.senders[from] == nil {
		m.senders[from] = st
		m.order = append(m.order, from)
	}
	st.spend = spend
	m.seq++
	p := &poolTx{tx: tx, hash: hash, from: from, added: m.state.Height(), seq: m.seq}
	st.byNonce[tx.Nonce] = p
	m.byHash[hash] = p
	m.count++
	if st.top == nil || tx.Nonce > st.top.tx.Nonce {
		st.top = p
		m.tops.update(st)
	}
	select {
	case m.notifyCh <- struct{}{}:
	default:
	}
	return hash, nil
}

// outbidsLocked reports whether fee beats the lowest evictable fee of all.
// A full pool refuses, before recovering its signature, a transaction that
// does not: Add's later check, which knows the sender and so skips its own
// transactions, can only find a victim with a fee at least as high. A flood
// at the going fee into a full pool then costs a map lookup per
// transaction, not a recovery.
func (m *txPool) outbidsLocked(fee uint64) bool {
	return len(m.tops) > 0 && m.tops[0].topFee < fee
}

// checkApplies refuses what the committed state says cannot succeed and
// would only buy a failed receipt: an unjail by anyone but a jailed
// validator whose jail time is over, a set-commission by anyone but a
// candidate, an unstake beyond the bond.
func checkApplies(state staking.AccountReader, from chain.Address, tx *chain.Tx) error {
	switch tx.Kind {
	case chain.TxUnjail:
		c, ok := state.Candidate(from)
		next := state.Height() + 1
		switch {
		case !ok:
			return fmt.Errorf("%w: %s", staking.ErrUnknownValidator, chain.FormatAddress(from))
		case !c.Jailed:
			return fmt.Errorf("%w: %s", staking.ErrNotJailed, chain.FormatAddress(from))
		case next < c.JailedUntil:
			return fmt.Errorf("%w: jailed until %d, next block %d", staking.ErrJailTimeNotOver, c.JailedUntil, next)
		}
	case chain.TxSetCommission:
		if _, ok := state.Candidate(from); !ok {
			return fmt.Errorf("%w: %s", staking.ErrUnknownValidator, chain.FormatAddress(from))
		}
	case chain.TxUnstake:
		if bond := state.Bond(from, tx.To); bond < tx.Amount {
			return fmt.Errorf("%w: bonded %d to %s, unstaking %d", staking.ErrInsufficientBond, bond, chain.FormatAddress(tx.To), tx.Amount)
		}
	}
	return nil
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
// rest against the new committed state, evicting, with the reason, those
// that can no longer apply and those that waited more than the expiry
// behind a nonce gap. state is the committed state after the block.
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
	height := state.Height()
	kept := m.order[:0]
	for _, a := range m.order {
		st := m.senders[a]
		acct := state.Account(a)
		nonces := slices.Sorted(maps.Keys(st.byNonce))
		var spend uint64
		next := acct.Nonce // first nonce not in the contiguous run from the account nonce
		for _, n := range nonces {
			p := st.byNonce[n]
			switch {
			case n < acct.Nonce:
				m.evictLocked(p, fmt.Sprintf("evicted: nonce %d already used (account nonce %d)", n, acct.Nonce))
				evicted++
				continue
			case n == next:
				next++
			case height > p.added && height-p.added >= m.gapExpiry:
				m.evictLocked(p, fmt.Sprintf("evicted: waited %d blocks behind a nonce gap (account nonce %d, next pending %d)", height-p.added, acct.Nonce, next))
				evicted++
				continue
			}
			spend += spendOf(p.tx)
		}
		if spend > acct.Balance {
			// Evict from the highest nonce down until the rest is covered.
			for i := len(nonces) - 1; i >= 0 && spend > acct.Balance; i-- {
				p, ok := st.byNonce[nonces[i]]
				if !ok {
					continue
				}
				spend -= spendOf(p.tx)
				m.evictLocked(p, fmt.Sprintf("evicted: balance %d no longer covers pending spends and fees", acct.Balance))
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

// removeLocked drops an included transaction.
func (m *txPool) removeLocked(p *poolTx) {
	st := m.senders[p.from]
	st.spend -= spendOf(p.tx)
	m.dropLocked(p)
}

// evictLocked drops a transaction that will not be included and
// remembers why.
func (m *txPool) evictLocked(p *poolTx, reason string) {
	m.senders[p.from].spend -= spendOf(p.tx)
	m.dropLocked(p)
	m.evicted.put(p.hash, reason)
}

// dropLocked removes p from the indexes and keeps its sender's top and
// the fee heap in step. An emptied sender stays in senders and order
// until the next Update.
func (m *txPool) dropLocked(p *poolTx) {
	delete(m.byHash, p.hash)
	st := m.senders[p.from]
	delete(st.byNonce, p.tx.Nonce)
	m.count--
	if st.top != p {
		return
	}
	st.top = nil
	for _, q := range st.byNonce {
		if st.top == nil || q.tx.Nonce > st.top.tx.Nonce {
			st.top = q
		}
	}
	m.tops.update(st)
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
