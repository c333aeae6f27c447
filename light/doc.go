// Package light is quorumchain's light client: it verifies block headers
// and their finality certificates against a trusted starting point without
// executing blocks, and cross-checks what one node serves against others.
//
// # Trust
//
// Verification starts from a Trusted point: the genesis document (height
// 0, whose next validator set is the genesis set; see FromGenesis), or a
// header whose height and hash the user obtained out of band (TrustHeader).
// A Trusted point carries the validator set of its next height, which its
// header committed to (Header.NextValidatorsHash). Everything else comes
// from a Source, such as a node's JSON-RPC (RPCSource), and is untrusted
// until verified.
//
// # Verification
//
// A signed header is a header with the certificate of its block. It
// verifies against a validator set when the header is on the client's
// chain, the certificate is for exactly that header (height and hash), the
// set hashes to Header.ValidatorsHash, and the certificate's precommits are
// valid signatures by distinct members holding more than two thirds of the
// set's stake (chain.Certificate.Verify: 3*signed > 2*total, exact).
//
// Adjacent (height T+1 from trusted T): the header's parent hash is T's
// hash, its time is after T's, and its ValidatorsHash is T's
// NextValidatorsHash. A validator-set change caused by block H takes effect
// at H+2, so header H+1 already commits to it (NextValidatorsHash) and the
// chain of hashes authenticates every set.
//
// Skipping (height U > T+1), as CometBFT's light client does: besides its
// own quorum, the certificate must carry precommits from members of T's
// next validator set holding more than one third of that set's stake
// (3*trustedSigned > trustedTotal). While fewer than a third of those
// validators are faulty, at least one honest one vouches for U. A skip is
// also limited to TrustingBlocks heights (by default the chain's unbonding
// period), so that the vouching validators are still bonded and slashable.
// When a skip is refused (ErrNotEnoughTrust) the client bisects: it
// verifies a pivot between T and U first, and retries from there.
//
// # Forks
//
// With witnesses, every newly verified height is compared with what each
// witness serves. When a witness serves another header at the same height,
// the client walks its verification trace to the first height where they
// differ and verifies the witness's header there from the last common
// point. If that verifies too, two conflicting certified headers exist: the
// client returns a *ForkError carrying ForkEvidence — both signed headers
// and, for every validator that precommitted both blocks in the same round,
// a chain.Evidence of its double sign. If it does not, the witness is
// faulty (ErrWitnessFaulty).
//
// # Errors
//
// Every reason a header does not verify wraps ErrInvalid (and a specific
// sentinel such as ErrParentMismatch or ErrValidatorsMismatch); malformed
// answers from a source wrap ErrMalformed. Failures to reach a source are
// returned wrapped as they are.
//
// A Client is not safe for concurrent use.
package light
