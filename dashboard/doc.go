// Package dashboard serves the web dashboard of a quorumchain node: one
// page, GET /, and its assets under /ui/, embedded in the binary with
// go:embed, so that the page needs no build step, no CDN and no network
// beyond the node itself.
//
// The page is a client of the node's public websocket JSON-RPC (ws://HOST/ws
// of the same listener) and nothing else: every number on it comes from a
// SPEC method (chain_status, chain_getValidators, chain_getAccount,
// consensus_getRoundState, net_getPeers, net_getFaults) or a subscription
// (finalized, votes, blocks, validators). It shows the validator table,
// the prevote and precommit stake per block of the current height and
// round against the two-thirds line, the proposer rotation, the finality
// stream with signers and latency, charts of tx/s and finality latency,
// the peers and the active faults.
//
// Answers carry a strict Content-Security-Policy (scripts, styles and
// images of the node's own origin only; connections to the node's own
// origin and its websocket), nosniff, no referrer, and an ETag with
// Cache-Control no-cache, so a browser revalidates and gets 304 Not
// Modified until the binary changes.
//
// The page keeps its cost to the node low: one websocket, four
// subscriptions (finalized resumes with fromHeight after a reconnect or a
// lagged notice), polls at most once a second, and redraws at most once
// per animation frame. The browser's Origin is the node's own, which the
// RPC's origin policy admits by default ([rpc] allowed_origins).
package dashboard
