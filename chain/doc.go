// Package chain defines quorumchain's consensus-critical data: transactions,
// votes, proposals, blocks, finality certificates and double-sign evidence,
// together with their canonical encoding, hashing and signatures, and block
// execution against a ledger.
//
// Encoding. Every object has exactly one byte representation: the RLP
// encoding (go-ethereum's rlp package) of its fields in declaration order.
// Decoders reject non-canonical RLP, trailing bytes, oversized input and
// out-of-range fields, so decode(encode(x)) == x and encode(decode(b)) == b
// for every b a decoder accepts.
//
// Hashes are Keccak-256. A signed object signs the Keccak-256 of its
// sign-bytes, the RLP list [domain tag, chain id, fields...], where the
// domain tag is "tx", "vote" or "proposal". A signature therefore never
// verifies for another kind of object or on another chain.
//
// Signatures are 65-byte recoverable secp256k1 signatures [R || S || V] with
// V in {0, 1}. High-S (malleable) signatures and out-of-range R or S are
// rejected; the signer is the address recovered from the signature.
//
// Quorum arithmetic. A certificate is valid for a validator set iff its
// precommits come from distinct members, each signature verifies, and
// 3*signedStake > 2*totalStake, computed exactly in 128-bit integers by
// staking.HasQuorum.
package chain
