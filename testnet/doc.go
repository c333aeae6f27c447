// Package testnet generates and supervises local quorumchain networks on
// 127.0.0.1: keys, genesis (with a funded faucet account), per-node homes
// and configs with free ports, and a manifest (testnet.json) through which
// later commands find and perturb the running nodes.
package testnet
