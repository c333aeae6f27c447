// Package node runs a quorumchain node: it wires the store, the ledger
// state, the mempool, the consensus Machine, the validator's signer, the
// peer switch and the RPC server, and owns their lifecycle (Run(ctx) error,
// children in an errgroup, a clean stop on cancellation).
//
// One goroutine, the loop, owns the consensus driver (package engine),
// which owns the Machine, the committed state, the write-ahead log and the
// calls to the signer. Everything else talks to the loop through its inbox
// or a channel of remote signatures. The inbox has one lane per class —
// consensus (proposals and votes), sync (block responses), evidence,
// status (Status and RoundStatus), control (peers connecting and leaving) —
// each bounded on its own, the consensus and sync lanes in bytes as well
// (an estimate from the block's parts), so a flood of one class fills only
// its lane and can never cost a vote or a proposal its place. The loop takes
// consensus messages first, but after 16 in a row while other lanes wait it
// takes one from each of them in turn, so none starves. A message refused
// for a full lane is counted and answered with p2p.ErrBusy, which keeps the
// Switch from marking it seen: the honest copy another peer sends later is
// still delivered. The loop also arms the driver's timeouts,
// ticks its status and catch-up gossip, and passes on the mempool's
// transactions-available signal. The driver keeps the ordering guarantees
// (log before step, log synced before a precommit, signer state persisted
// before a signature leaves, a decided block committed before the next
// height) and publishes an immutable snapshot after each change, which the
// RPC backend reads without locks shared with consensus.
//
// Transactions enter through the RPC or from peers into the Mempool, which
// recovers each signature once; block execution reuses the recovered
// sender. Gossip is batched and never blocks consensus: a full queue drops
// a message and counts it, and block sync recovers what was lost.
//
// The [p2p] section of config.toml sets the Switch's defences: per-peer
// budgets per message class ([p2p.budgets.tx], .consensus, .evidence,
// .status, .sync, each messages_per_second, message_burst,
// bytes_per_second, byte_burst), send_queue_bytes and send_full_timeout,
// ban_threshold and ban_duration; absent keys keep the defaults of package
// p2p. A peer whose vote, proposal or transaction signature does not verify
// is banned by the Switch (the Handler answers p2p.ErrInvalidPeerData).
// Metrics quorumchain_p2p_budget_dropped_total, _send_dropped_total,
// _bans_total and _send_queued_bytes show the defences at work.
//
// A node that is behind (fresh, restarted, partitioned) learns its peers'
// heights from Status messages and fetches final blocks with their
// certificates, which the Machine verifies against the validator set of
// each height before the engine executes and commits them.
package node
