// Package consensus is quorumchain's BFT consensus core: the Tendermint
// algorithm (Buchman, Kwon, Milosevic, "The latest gossip on BFT consensus",
// 2018) with stake in place of process counts, written as a deterministic
// state machine.
//
// A Machine is a value you step: Step(Input) returns the Actions the caller
// must carry out, in order. The Machine has no goroutines, no clock, no I/O
// and no randomness: time enters only through inputs (TimeoutFired and the
// Now field of NewHeight), signatures are made outside it (it asks for them
// with SignVote and SignProposal and receives them back as inputs), and the
// caller persists and broadcasts. The node, the tests and the simulator
// (package consensus/sim) drive the same Machine.
//
// Ordering contract. Actions are returned in the order they must be
// performed. A SignVote or SignProposal action must be signed by a
// validator.Signer, which persists its last-signed (height, round, step)
// before it releases the signature; the caller then feeds the signed object
// back with OwnVote / OwnProposal, and only then broadcasts it (the Machine
// returns the Broadcast action in response). Finalize must be durably
// committed before the caller starts the next height with NewHeight.
//
// Departures from the paper, each found by the simulator and each safe
// because receivers still check every proposal against its POL round and
// their own lock (lines 28-29): an equivocator's further votes are counted
// toward their own blocks (voteset.go, seed 95), and a polka of any round
// above the valid round, not only the current one, updates the valid value
// (uponPolkaValid, seed 707870), so that no honest validator's lock can
// stay hidden from the proposers after GST.
//
// Quorums are stake-weighted with exact integer math: more than two thirds
// of the stake is 3*stake > 2*total; more than one third is 3*stake > total.
package consensus
