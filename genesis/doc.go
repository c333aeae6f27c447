// Package genesis reads, validates and writes a chain's genesis document
// (config/genesis.json) and produces the initial ledger state and validator
// set from it.
//
// A genesis document is untrusted input until it has been parsed: Parse and
// Load accept exactly one JSON object with the fields chain_id,
// genesis_time, params, accounts (optional) and validators, in any order,
// and reject unknown, duplicate or missing fields, nulls, wrong types and
// trailing data. Amounts are canonical decimal strings ("1000": digits only,
// no sign, spaces or leading zeros) that fit in a uint64. Every error names
// the field and index it is about, e.g.
//
//	genesis: validators[2]: duplicate address 0x...
//
// Validation then checks the document as a whole: the chain id, the genesis
// time, the staking params, distinct addresses, stakes of at least
// params.min_stake, at most params.max_validators validators, and a total
// supply (balances plus stakes) of at most staking.MaxSupply. A document
// with no validators is a draft: it may be saved and edited (New, AddAccount,
// AddValidator, LoadDraft) but Validate, Parse and Load refuse it.
//
// Hash is the Keccak-256 of the canonical encoding: the compact JSON that
// MarshalJSON produces, with lowercase addresses, UTC times and fields in
// declaration order. Formatting, field order and address case in the file
// therefore do not change the hash; nodes compare it in the peer handshake.
package genesis
