// Package node runs a quorumchain node: it wires the store, the ledger
// state, the mempool, the consensus Machine, the validator's signer, the
// peer switch and the RPC server, and owns their lifecycle (Run(ctx) error,
// children in an errgroup, a clean stop on cancellation).
//
// One goroutine, the loop, owns the consensus driver (package engine),
// which owns the Machine, the committed state, the write-ahead log and the
// calls to the signer. Everything else talks to the loop through a bounded
// inbox: peers' proposals, votes, evidence, status and block-sync
// responses; remote signatures. The loop also arms the driver's timeouts,
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
// A node that is behind (fresh, restarted, partitioned) learns its peers'
// heights from Status messages and fetches final blocks with their
// certificates, which the Machine verifies against the validator set of
// each height before the engine executes and commits them.
package node
