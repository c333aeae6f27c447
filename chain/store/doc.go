// Package store is quorumchain's persistent chain store: the adapter to
// cometbft-db that holds final blocks, their certificates, the transaction
// index with receipts, the validator set of every height, the latest ledger
// state and the chain's metadata. schema.go is the whole key schema with one
// ReadX/WriteX accessor per kind of value, in the manner of go-ethereum's
// core/rawdb.
//
// # Contract
//
// Backends. Open takes "goleveldb" (the default), "pebbledb" or "memdb" (in
// memory, for tests); the database lives in dir/chain.db.
//
// Heights. InitGenesis records the chain id, the genesis hash, the genesis
// ledger state and the validator set of height 1, at height 0. Each
// CommitBlock appends the block of height Height()+1 and nothing else; any
// other height is refused with *HeightError before anything is written.
// After committing height H the store holds blocks 1..H, certificates
// 1..H, state hashes 1..H, validator sets 1..H+1 (FinalBlock.NextValidators
// is the set of H+1, with its proposer priorities), and the ledger state
// after H.
//
// Atomicity. Everything CommitBlock writes for one block (block, hash
// indexes, certificate, tx index, next validator set, state changes, state
// hash, latest height) goes into one batch written with WriteSync. Height()
// moves only after that write returns. A crash at any point leaves the store
// at the previous height with nothing of the lost block, or at the new height
// with all of it; never in between. The fail points FailBeforeWrite and
// FailAfterWrite (SetFailPoint) let tests stop a commit at either side of the
// write.
//
// Certificates. Certificate(h) is the certificate this node finalized h
// with. Nodes may hold different (equally valid) certificates for the same
// block; the canonical one is the LastCertificate of block h+1.
//
// Transactions. Tx(hash) locates a final transaction by its hash: height,
// index in the block, and receipt. A rejected re-inclusion of a transaction
// already indexed does not replace its entry.
//
// Errors. A missing value is ErrNotFound, wrapped with what was looked up.
// Stored bytes that do not decode are ErrCorrupt, wrapped together with the
// decoder's error; no decoder panics on any input. Readers are safe for
// concurrent use with each other and with the single writer.
//
// Ownership. Values returned by readers are owned by the caller, except
// BlockBytes, which must not be modified. CommitBlock and InitGenesis keep
// no reference to their arguments.
package store
