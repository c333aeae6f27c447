// Package sim is a deterministic simulator that attacks the node's own
// consensus code (TigerBeetle's VOPR idea; hashicorp/raft's fuzzy
// verifier): a network of validators with arbitrary stakes runs on virtual
// time, one seeded PRNG chooses everything, invariants are checked at every
// event, and a seed replays a run exactly.
//
// # Running
//
// Run(cfg) simulates one network and returns a Report. RandomConfig(seed)
// derives a whole random run from a seed; ScenarioConfig(name, seed) gives
// the named scenarios (random, above, below, liveness, crash). Tests:
//
//	go test ./consensus/sim                                   # 5,000 random seeds and the scenario tests
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
// Every honest validator is the node's consensus driver (engine.Driver),
// wired as package node wires it (node.go): a chain store (chain/store on
// cometbft-db's in-memory backend) initialised from a real genesis, the
// validator.LocalSigner with its double-sign record, the node's
// write-ahead log (engine/wal), and an empty mempool, so that blocks carry
// evidence and no transactions. The simulator feeds it what the node's
// goroutine feeds it: messages from peers, fired timeouts, and the ticks
// that drive block sync (StatusTick, every Gossip/2) and catch-up gossip
// (RoundTick, every Gossip); connections coming up and going down
// (PeerConnected, PeerGone). Block building and checking, execution,
// evidence, replay at restart, relaying and block sync are the driver's.
//
// The network (NetConfig, ParseNet) delays each message by a uniform
// latency, so messages reorder; before GST it drops messages with
// probability Drop and across partitions, which change every Partition on
// average; it duplicates with probability Dup. After GST there are no drops
// and no partitions. Config.Late validators start with an empty disk some
// time into the run and catch up through block sync.
//
// Storage faults (disk.go): before GST, with probability Crash per event,
// a validator crashes at one of the event's first fault points, met
// before and after every disk write and before every send; and each disk
// write fails with probability WriteFail, which halts the driver (the node
// stops; here it restarts after a while). A crash loses the process's
// memory; the log file (internal/crashfile) keeps its synced bytes and
// loses, keeps or tears its unsynced tail, so the log's torn-tail recovery
// runs at restart; store commits and signer records are atomic and survive
// whole or not at all. A validator restarts after uniform
// [RestartMin, RestartMax] through the driver's own replay.
//
// Byzantine validators run no driver (byzantine.go). They sign with their
// raw keys and are omniscient: told when an honest validator enters a
// round, and able to build valid, executed blocks on an honest validator's
// committed state. The behaviours are Equivocator, NilVoter, Silent, Mixed
// (one of those three per validator) and Coalition, which splits the
// honest validators into two groups partitioned from each other until GST
// and makes them decide different blocks when the Byzantine stake exceeds
// a third. Their double signs become evidence that honest proposers
// include, which slashes and jails them, so validator sets change during a
// run. Which validators are Byzantine follows Config.ByzantineStake (the
// rule is on Config) or Config.Byzantine.
//
// # Invariants
//
// Checked where their event happens, so after every event:
//
//   - agreement: no two honest validators commit different blocks at a height;
//   - certificate: every committed block's certificate is for it and
//     verifies against the height's validator set (chain.Certificate.Verify,
//     through the run's signature cache), so more than two thirds of the
//     stake precommitted; blocks committed just before a crash are checked
//     at restart;
//   - validity: the driver executes every decided block before committing
//     it and halts on one that fails; any halt other than a failed write is
//     a violation;
//   - no double sign: no honest validator's signer saves two different
//     sign hashes for one (height, round, step), across crashes;
//   - evidence, of double votes and of double proposals (an Equivocator
//     proposer sends one block to each half of the network, and honest
//     relays bring both to some), verifies and accuses only Byzantine
//     validators;
//   - supply: the first time a height is committed, its ledger conserves
//     the supply (total = genesis + issued - burned, issued and burned
//     being what the blocks so far reported; the entries load, so balances,
//     bonds, unbonding entries and unpaid rewards add up to the total);
//     simulated chains issue a block reward of 7, so rewards and their
//     remainders are exercised;
//   - downtime: once a height is past DowntimeWindow+2, every Silent
//     validator is jailed and out of the next set (DowntimeConfig, the
//     "downtime" scenario, runs chains past a short window);
//   - the Machine never rejects an honest vote, proposal or commit, nor the
//     driver's own answers; a replay rejects only Byzantine inputs that the
//     live run rejected too;
//   - liveness: with honest stake above two thirds, after GST some honest
//     validator commits a block at least every LivenessBound (60s), and
//     every honest validator reaches Config.Heights by MaxTime.
//
// A violation stops the run; the report carries the seed, the last events
// (TraceLen) and every honest validator's round state.
//
// # Signature cost
//
// Every signature is recovered at most once per run: the Machines, the
// drivers' certificate and evidence checks and the checker share one cache
// (consensus.Config.Recoverer), which also learns every signature as it is
// made. The run's first certificate is verified without the cache as well,
// and both answers must agree.
package sim
