// Package sim is a deterministic simulator that attacks consensus.Machine
// (TigerBeetle's VOPR idea; hashicorp/raft's fuzzy verifier): a network of
// validators with arbitrary stakes runs on virtual time, one seeded PRNG
// chooses everything, invariants are checked at every event, and a seed
// replays a run exactly.
//
// # Running
//
// Run(cfg) simulates one network and returns a Report. RandomConfig(seed)
// derives a whole random run from a seed; ScenarioConfig(name, seed) gives
// the named scenarios (random, above, below, liveness, crash). Tests:
//
//	go test ./consensus/sim                                   # 1,000 random seeds and the scenario tests
//	go test ./consensus/sim -run TestSimulate -long           # 100,000 seeds (or QUORUM_SIM_RUNS=N)
//	go test ./consensus/sim -run TestReplay -seed=N -v        # replay one seed, printing every event
//	go test ./consensus/sim -run TestReplay -seed=N -scenario=above -v
//
// # Model
//
// Virtual time is a priority queue of events keyed by (time, insertion
// sequence); nothing reads a clock, iterates a map into output, or uses
// another random source, so a run is a pure function of its Config.
//
// Honest validators are a consensus.Machine each, driven as the node drives
// it: a validator.LocalSigner on a validator.MemoryState (double-sign
// protection), a store of final blocks and certificates, and a write-ahead
// log of the inputs of the current height, appended before each Step.
// Actions are carried out in order: ScheduleTimeout arms a timer event,
// BuildBlock and CheckBlock are answered at once (see makeBlock and
// validate), SignVote and SignProposal go through the signer and come back
// as OwnVote/OwnProposal or SignRefused, Broadcast* go to the network,
// Finalize is checked and committed and the next height starts
// (NewHeight), EvidenceFound is checked and kept for the next block built.
//
// The network (NetConfig, ParseNet) delays each message by a uniform
// latency, so messages reorder; before GST it drops messages with
// probability Drop and across partitions, which change every Partition on
// average; it duplicates with probability Dup. After GST there are no drops
// and no partitions. Gossip (node.gossip) is modelled as CometBFT's: each
// honest validator periodically sends each live peer at its height the
// votes and proposals of that height it has and the peer lacks, and a peer
// at a lower height its final block and certificate; so after GST every
// message any honest validator received reaches every honest validator.
// A validator that sees a message of a higher height asks a random peer
// for the final block of its height (block sync) and feeds CommitReceived.
//
// Crashes (before GST, with probability Crash per event, at a random point
// among the event's actions) lose all memory: the Machine, timers, queued
// inputs. A restart keeps the signer state, the final blocks and the WAL,
// and replays the WAL into a fresh Machine (see node.replay for what is
// done with the actions of the replay). The WAL of a height starts with
// its NewHeight followed by the next-height inputs the Machine had buffered
// before it (see carryOver); without them a replay diverges.
//
// Byzantine validators run no Machine (byzantine.go). They sign with their
// raw keys and are omniscient: told when an honest validator enters a
// round, and able to read honest final blocks to build valid blocks. The
// behaviours are Equivocator, NilVoter, Silent, Mixed (one of those three
// per validator) and Coalition, which splits the honest validators into two
// groups partitioned from each other until GST and makes them decide
// different blocks when the Byzantine stake exceeds a third. Which
// validators are Byzantine follows Config.ByzantineStake (the rule is on
// Config) or Config.Byzantine.
//
// # Invariants
//
// Checked where their event happens, so after every event:
//
//   - agreement: no two honest validators finalize different blocks at a height;
//   - certificate: every Finalize carries a certificate for its block that
//     verifies against the height's set (chain.Certificate.Verify for the
//     first of each height, the same checks over a signature cache for the
//     others), so more than two thirds of the stake precommitted;
//   - validity: every final block passes the honest block check;
//   - no double sign: no honest validator signs two different votes (or
//     proposals) for one (height, round, step), from the record of every
//     signature its signer released;
//   - evidence verifies and accuses only Byzantine validators;
//   - the Machine never rejects an honest vote, proposal or commit, nor the
//     shell's own answers, in a normal step or in a replay;
//   - liveness: with honest stake above two thirds, after GST some honest
//     validator finalizes a block at least every LivenessBound (60s), and
//     every honest validator reaches Config.Heights by MaxTime.
//
// A violation stops the run; the report carries the seed, the last events
// (TraceLen) and every honest validator's round state.
//
// # Signature cost
//
// The Machine verifies every vote and proposal with chain.Recover itself and
// offers no hook for a shared verification cache, so each simulated
// validator pays for its own recoveries (about 85% of the CPU with 100
// validators). The simulator's own checks share a cache of known-good
// signatures.
package sim
