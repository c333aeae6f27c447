// Package p2p is quorumchain's node-to-node transport: encrypted,
// mutually authenticated websocket connections between nodes, gossip
// without flooding, and direct sends for block sync.
//
// # Identity and handshake
//
// A node is identified by a secp256k1 key (config/node_key.json, see
// LoadOrCreateNodeKey); its NodeID is the key's address, written as 0x + 40
// lowercase hex digits.
//
// Every connection is a websocket (wss, path /p2p) over TLS 1.3 with both
// sides presenting a certificate; no other TLS version is accepted. The TLS
// key is not the node key: a Switch makes an ECDSA P-256 key and a
// self-signed X.509 certificate for it (renewed a day before its week of
// validity ends), and vouches for it with the node key. The certificate
// carries, in the critical extension 1.3.6.1.4.1.32473.1.1, the DER value
//
//	SEQUENCE { nodePublicKey OCTET STRING, signature OCTET STRING }
//
// where nodePublicKey is the 65-byte uncompressed secp256k1 node key and
// signature its 65-byte recoverable signature over
//
//	keccak256(rlp(["quorumchain-p2p-tls-key-v1", subjectPublicKeyInfo]))
//
// (the certificate's DER SubjectPublicKeyInfo). Each side checks the other's
// certificate in VerifyConnection: exactly one certificate, self-signed, now
// within its validity, no critical extension but ours, the extension
// canonical DER with exact field lengths, and its signature made by the key
// it names. The peer's NodeID is that key's address. TLS 1.3 itself proves
// that the peer holds the certificate's private key (CertificateVerify over
// the handshake transcript), and the session keys are fresh for every
// connection: a certificate copied without its key, an extension moved to
// another TLS key, or a recorded handshake replayed all fail the TLS
// handshake. The model is libp2p's TLS handshake; no certificate authority
// is involved.
//
// Over the authenticated session the nodes exchange a Hello
// {ProtocolVersion, ChainID, GenesisHash, NodeID, ListenAddr} and an Auth:
// the node key's signature over
//
//	keccak256(rlp(["quorumchain-p2p-session-v1", chainID, genesisHash, ekm, signerNodeID]))
//
// where ekm is 32 bytes of keying material exported from this TLS session
// (RFC 8446 section 7.5, label "EXPORTER-quorumchain-p2p-auth"). The Hello's
// NodeID must equal the TLS-proven one. The Auth is redundant with the
// certificate's binding as long as the TLS key stays secret; it makes the
// node key itself vouch for this very session, so that a TLS key and
// certificate leaked from memory cannot be used without the node key, and
// it costs one signature per connection. The dialer sends Hello and Auth at
// once; the accepting side answers with its Hello, checks the dialer's, then
// sends its Auth: one round trip after TLS.
//
// A protocol version, chain id or genesis hash mismatch, a Hello that claims
// another NodeID than the certificate, an Auth not bound to the session, a
// connection to ourselves, or a second connection to a connected node is
// refused: the refusing side sends a Disconnect whose reason reads like
// "chain id mismatch: we are X, you are Y", closes the connection, and both
// sides log the reason. Because the NodeID the duplicate rule compares is
// the authenticated one, nobody without a node's keys can displace its
// connection.
//
// When two nodes dial each other at the same moment, both keep the
// connection dialed by the node with the lower NodeID, so the pair converges
// on one connection.
//
// # Admission
//
// Before TLS, an accepted TCP connection must fit within
// Config.MaxConnsPerIP open connections from its IP address (its /64 for
// IPv6; loopback is exempt unless Config.LimitLoopback, because local
// testnets run every node on 127.0.0.1) and Config.MaxHandshakes
// connections still in their handshake; otherwise it is closed at once. A connection that has not
// finished TLS, the websocket upgrade, Hello and Auth within
// Config.HandshakeTimeout of being accepted is closed. Past the handshake,
// Config.MaxInboundPeers bounds inbound connections. Each refusal and each
// failed TLS handshake is logged at info level with its reason, at most a
// burst of 20 lines and then 10 a second (a line counts those left
// unlogged), and counted (Stats.ConnsRefused, Stats.HandshakeFailures).
//
// # Wire format
//
// Every websocket binary frame carries one envelope, the RLP list
// [Kind uint8, Payload bytes]. The payload of Tx, Vote and Evidence is the
// chain encoding of that object; Proposal and BlockResponse carry the RLP
// list of two chain encodings ([proposal, block], [block, certificate]); the
// small control and sync messages (Hello, Auth, Disconnect, Status,
// BlockRequest) are the RLP list of their fields. Decode is strict: it rejects
// non-canonical RLP, trailing bytes, unknown kinds, oversized input and
// inconsistent payloads, so Encode(Decode(b)) == b for every accepted b. The
// hash of a message (keccak256 of its envelope) therefore identifies it.
//
// # Gossip
//
// Each peer keeps a bounded set of the hashes of messages it has sent us or
// we have sent it. Broadcast sends a message to every peer not known to have
// it, so a message crosses each connection at most once in each direction and
// is never echoed to the peer it came from. The Switch also remembers (in a
// bounded set) the gossip messages — tx, proposal, vote, evidence — it has
// received or broadcast, and passes each to the Handler once: a copy
// arriving from a second peer, or our own message coming back round a
// cycle, is dropped and counted. The check is on the hash of the received
// bytes, before they are decoded, so a copy costs one hash and no
// decoding. A message is marked seen before the Handler gets it (so two
// peers' copies cannot both reach it); if the bytes do not decode the mark
// is removed (every sender of them is penalized), and if the Handler
// answers with an error wrapping ErrBusy (its queue was full, no fault of
// the peer) it is removed too, so the honest copy that arrives later is
// delivered. Status and block sync messages are always delivered. Relay
// re-sends a received transaction or proposal message as the bytes it
// arrived in, without encoding or hashing it again. Send writes directly to one peer.
// All of them enqueue on the peer's send queue and never block.
//
// # Send queues
//
// Each peer's send queue is bounded in messages (Config.SendQueue) and in
// encoded bytes (Config.SendQueueBytes, at least MaxMessageBytes): a peer
// that asks for big blocks and reads slowly or not at all holds at most
// SendQueueBytes of our memory. A message that does not fit is dropped and
// counted (Stats.SendDropped); gossip is lossy by design and block sync
// asks again. If a peer's queue keeps refusing messages, without draining
// to half its byte bound, for Config.SendFullTimeout, the peer is not
// reading: it is disconnected (logged "send queue full ... not reading",
// counted in Stats.SendQueueFullDisconnects) but not banned, since it may
// only be slow. A writer blocked on one message for writeWait also ends the
// connection. A peer's writer sends what is queued in batches, one system
// call per batch.
//
// # Budgets
//
// Every message a peer sends counts against its budget for the message's
// Class: ClassTx (Tx, Txs), ClassConsensus (Proposal, Vote, Votes),
// ClassEvidence, ClassStatus (Status, RoundStatus) and ClassSync
// (BlockRequest, BlockResponse). A Budget is two token buckets, one in
// messages and one in bytes, per peer and class (Config.Budgets; zero
// fields take DefaultBudgets, which honest peers stay well inside). A
// message over budget is dropped unread (its kind is read from the
// envelope before the payload is decoded, so a flood costs no decoding),
// counted (Stats.BudgetDropped) and costs the peer PenaltyBudget. A
// BlockResponse answering a BlockRequest we sent that peer is exempt: a
// node catching up takes blocks as fast as its peers serve them.
//
// # Peer score and bans
//
// Each peer has a score, zero in good standing. Penalties lower it by
// their Severity, and it heals by one point a second. When it reaches
// -Config.BanThreshold (default 100) the peer is disconnected and banned
// for Config.BanDuration (default 5 minutes), by NodeID and by IP address
// (loopback addresses excepted: every node of a local network shares
// one), and a warning "banned peer" with the reason is logged. A banned
// node's handshake is refused when its Hello arrives, a banned address's
// connection before the websocket upgrade, and we do not dial it. Sending
// bytes Decode rejects, a control message after the handshake, a message
// over Config.MaxMessageBytes, or anything the Handler rejects with
// ErrInvalidPeerData (a vote, proposal or transaction whose signature does
// not verify) is PenaltyFatal: the peer is sent a Disconnect with the
// reason, banned at once, counted, and logged. A flood over a budget is
// banned after about BanThreshold excess messages; an occasional excess
// heals away.
//
// Other layers report misbehaviour only they can see through
// Switch.Penalize(id, reason, severity) — PenaltyMinor for what an honest
// peer might do now and then, PenaltyFatal for what none does (evidence
// that does not verify, a block-sync answer with a bad certificate) — and
// Switch.Ban(id, reason, d) bans outright. Banned and PeerScore report the
// state.
//
// # Faults (test networks)
//
// With Config.Faults a Switch has a FaultLayer (Switch.Faults) that a test
// network's admin endpoint steers: a partition from a set of NodeIDs
// (nothing is sent to them and nothing they send but control messages is
// delivered, so the connections stay up and healing is instant, and
// redials change nothing), a delay with optional jitter on every outgoing
// message (held in the peer's send queue with its release time, so one
// peer's messages keep their order, and bounded per peer by
// Config.FaultDelayBytes), and a random drop rate on outgoing messages
// (seeded by Config.FaultSeed). Sends meet the layer in one place, the
// peer's enqueue, which Broadcast and Send (gossip, catch-up, block sync)
// all go through; receipts in the peer's reader. Without Config.Faults
// there is no layer, and both places only test a nil pointer.
//
// # Concurrency
//
// Switch.Run owns every goroutine: the HTTP listener, one dial loop per
// persistent peer, and per connection one reader and one writer. Handler
// methods are called from the per-peer reader goroutines: Receive
// concurrently for different peers and in arrival order for one peer,
// between that peer's PeerConnected and PeerDisconnected. Receive must return
// quickly; it blocks that peer's reader. Broadcast, Send, Peers, Stats,
// Penalize, Ban, Banned and PeerScore are safe for concurrent use,
// including from inside Handler methods.
package p2p
