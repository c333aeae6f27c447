// Package node runs a quorumchain node: it wires the store, the ledger
// state, the mempool, the consensus Machine, the validator's signer, the
// peer switch and the RPC server, and owns their lifecycle (Run(ctx) error,
// children in an errgroup, a clean stop on cancellation).
//
// One goroutine, the engine, owns the consensus Machine, the committed
// state, the write-ahead log and the signer. Everything else talks to it
// through a bounded inbox: peers' proposals, votes, evidence, status and
// block-sync responses; timer expiries; remote signatures. It steps the
// Machine and carries out the actions in order:
//
//   - inputs are appended to the WAL (data/cs.wal) before they are stepped,
//     and the WAL is fsynced before every precommit is signed, so a node
//     killed at any moment restarts in the same height and round with the
//     same lock;
//   - the signer persists its last signed height/round/step (fsync) before
//     a signature leaves it, so a restarted validator never signs twice;
//   - a proposed block is executed on a copy-on-write fork of the ledger
//     (staking.State.Fork) to check it; the decided fork is committed to
//     the store in one synced batch and adopted in O(1);
//   - after each change the engine publishes an immutable snapshot that the
//     RPC backend reads without locks shared with consensus.
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
