// Package staking is the ledger of quorumchain: accounts, bonds, the unbonding
// queue, validator candidates, fees, rewards (F1 lazy reward-per-share, see
// rewards.go), slashing, downtime jailing (see liveness.go), the supply
// accounting, and the stake-weighted validator sets with their proposer
// rotation and quorum arithmetic.
//
// # Contract
//
// The package is pure and deterministic. It imports only the standard library
// (no clock, network, files, goroutines, locks or randomness) and go-ethereum's
// common, crypto (Keccak-256 only) and rlp packages. Two States built by the
// same operations in the same order have equal contents and equal hashes on
// every machine; map iteration never decides an output order.
//
// Amounts are uint64 and never wrap: every amount, and every sum of amounts
// held by the ledger, is at most [MaxSupply] (2^60), so that proposer priority
// arithmetic in int64 cannot overflow. An operation that would exceed it fails
// with [ErrOverflow].
//
// Every transaction operation ([State.UseNonce], [State.ChargeFee],
// [State.Transfer], [State.Stake], [State.Unstake], [State.Unjail],
// [State.Claim], [State.SetCommission], [State.SlashDoubleSign]), the block
// steps [State.Distribute] and [State.RecordLiveness], and [State.EndBlock]
// validate completely before they mutate anything: when one returns an
// error the State is unchanged. Errors wrap the sentinels in errors.go;
// match them with errors.Is.
//
// Nothing is minted but [Params.BlockReward] and nothing destroyed but
// slashes: fees charged by [State.ChargeFee] wait in the block's reward pool
// until [State.Distribute] pays them out, and what integer rounding leaves
// stays in the supply (a validator's outstanding rewards, the pool's carry).
// [State.Supply] reports the accounting; [LoadState] checks it.
//
// # Heights
//
// [State.Height] is the last height ended with [State.EndBlock] (0 right after
// genesis). The operations that take a height are executing block
// Height()+1 and reject any other height with [ErrBadHeight]. A validator set
// change caused by block H takes effect at H+2: EndBlock(H) selects the
// membership for H+2 and returns the set for H+1, which was selected by
// EndBlock(H-1).
//
// # Storage and hash
//
// The ledger is a set of key/value entries (see keys.go for the schema) held in
// a persistent, path-copying radix-16 Merkle trie keyed by the raw entry key.
// The trie's shape depends only on the set of keys, so [State.Hash] depends
// only on the contents, never on history, and [LoadState] of [State.Entries]
// reproduces it exactly. Node hashes are cached and small entries are inlined
// into their branch, so hashing after a block rehashes only the branches
// above the changed entries (see hash.go).
//
// [State.Fork] shares the trie with its parent in O(1); writes copy only the
// nodes they touch, so a fork and its parent never see each other's writes.
// [State.Commit] adopts a fork in O(1), and [State.Changes] lists what a fork
// changed. A State and its forks are not safe for concurrent use (hashing
// caches into shared nodes); a fork taken after Hash may be read by another
// goroutine while the parent goes on.
//
// # Validator sets
//
// A [ValidatorSet] is immutable; all its methods are safe for concurrent
// readers. Proposers rotate by CometBFT's stake-weighted round robin (see
// priority.go), and quorum checks are exact integer comparisons
// 3*stake > 2*total (see quorum.go).
package staking
