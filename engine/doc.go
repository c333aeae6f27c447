// Package engine is quorumchain's consensus driver: the synchronous,
// single-threaded code around the consensus Machine that the node runs in
// production and that tests drive step by step.
//
// A Driver owns the Machine, the committed ledger state, the write-ahead
// log, the calls to the signer, block building and checking, the evidence
// pool, mempool reaping, catch-up gossip and block-sync decisions. It
// reaches the outside only through the small interfaces of Deps: a clock
// and timers, gossip, the store, the log, the signer (or a requester for a
// signer that answers later), the mempool and an event sink. It never
// reads the wall clock, arms a timer itself or starts a goroutine: the
// caller feeds it inputs one at a time (peers' messages, fired timeouts,
// signatures, ticks) from one goroutine, and each call carries out the
// Machine's actions in order before it returns.
//
// Ordering guarantees, whatever the caller:
//
//   - a peer's proposal or vote reaches the Machine only for the current
//     or the next height and from a member of that height's validator set
//     (admission.go); everything else is dropped without a log write or a
//     relay;
//   - every input the Machine took (a peer's proposal or vote it accepted,
//     any of the driver's own inputs it did not reject) is appended to the
//     log right after it is stepped and before any of its actions is
//     carried out, and the log is synced before every vote and proposal
//     is signed, so a node killed at any moment restarts in the same
//     height and round with the same lock, and can ask its signer again
//     for exactly what it signed; the log of a height is bounded in bytes;
//   - the signer persists its last signed height/round/step before a
//     signature leaves it, so a restarted validator never signs twice;
//   - a decided block is committed to the store before the next height
//     starts; a failure to persist halts the driver (ErrHalt) instead of
//     signing on;
//   - at restart, consensus.Replay rebuilds the Machine from the log and
//     only the requests the crash lost are carried out again;
//   - only the proposals and votes the Machine accepted are relayed.
package engine
