// Package enginesim runs the node's consensus driver (package engine), the
// code that runs in production, in a seeded, deterministic simulation of a
// network of validators: virtual time, a virtual network that delays,
// drops and reorders messages until GST, and virtual disks whose unsynced
// log records die in a crash and whose writes can fail. Each validator is
// a real engine.Driver over a real store (cometbft-db's in-memory backend)
// and ledger, with the real signer and its double-sign protection; it is
// killed at random points, halted by failed writes, and restarted from
// what its disk kept, through the driver's own replay. In about half the
// runs a validator holding less than a third of the stake never runs.
//
// After every commit the simulation checks agreement (one block per
// height), that the certificate carries more than two thirds of the
// height's stake, and that no validator signed two things for one slot;
// at the end, that every validator reached the target height within the
// bound after GST, and that no logged input was rejected on replay.
//
// Byzantine behaviours stay in package consensus/sim, which drives bare
// Machines; this package proves the driver around the Machine: the log and
// its order, replay, timers, signing, block building and checking,
// catch-up gossip and block sync.
package enginesim
