// Package testnet generates and supervises local quorumchain networks on
// 127.0.0.1: keys, genesis (with a funded faucet account), per-node homes
// and configs with free ports, and a manifest (testnet.json) through which
// later commands find and perturb the running nodes.
//
// Generate writes a testnet. Start (Launch, then Follow) runs one: each
// node is a child process `quorumchain --home dir/nodeI node` in its own
// process group, logging to dir/nodeI/node.log, its PID recorded in
// testnet.json. Launch waits until the first block after launch is final,
// or, when the running local validators hold no quorum (remote signers'
// stake is needed), until the nodes are connected. Status, Stop, Kill and
// Restart act on a running testnet through testnet.json from any process;
// they signal only recorded PIDs, after checking that each still runs
// that node, and never match processes by name. Read-modify-writes of
// testnet.json hold a lock on the directory.
//
// Faults on demand (faults.go): every generated node runs with the p2p
// fault layer and an admin endpoint on 127.0.0.1, recorded in testnet.json
// and authenticated by dir/admin-token. Admin is its client; Partition,
// Heal and the Admin methods Delay, Drop and Byzantine inject partitions,
// delays, message drops and Byzantine validators into the running nodes.
//
// Beyond 127.0.0.1 (hosts.go, netns.go, compose.go): GenerateHosts writes
// one home per separate host, each node listening on its host's address;
// StartOptions.Netns runs each node in a Linux network namespace of its own
// on a private subnet, whose link Cut and Restore take down and up at the
// kernel, and which Stop (or the next start after a killed supervisor)
// removes by the testnet's tag; GenerateCompose writes a compose file that
// runs each node in a container of the FROM scratch image. testnet.json's
// kind says which (empty: local child processes). Package hosttest tests
// the namespaces and the containers for real.
//
// The end-to-end tests of this package (e2e_test.go) run real node
// processes and the CLI; -short skips them.
package testnet
