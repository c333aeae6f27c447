// Package validator signs consensus messages for a validator without ever
// signing two conflicting ones.
//
// A Signer signs votes and proposals. Every Signer here is guarded by a
// Guard that remembers the last signed (height, round, step) and the digest
// it signed there, persisted through a StateStore before the signature is
// released:
//
//   - a request for an earlier (height, round, step) is refused (ErrRegression);
//   - a request for the same (height, round, step) with the same digest gets
//     the same signature again (so a restarted node can re-broadcast);
//   - a request for the same (height, round, step) with another digest is
//     refused (ErrConflict): that would be a double sign.
//
// The step order within a round is proposal < prevote < precommit.
//
// LocalSigner holds the key (from a go-ethereum keystore v3 file).
// RemoteSigner holds only the validator's address: it publishes each request
// as a Duty and waits until an external signer (`quorumchain vote`) submits a
// signature that recovers to that address.
package validator
