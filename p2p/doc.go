// Package p2p is quorumchain's node-to-node transport: authenticated
// websocket connections between nodes, gossip without flooding, and direct
// sends for block sync.
//
// # Identity and handshake
//
// A node is identified by a secp256k1 key (config/node_key.json, see
// LoadOrCreateNodeKey); its NodeID is the key's address, written as 0x + 40
// lowercase hex digits. On a fresh websocket connection to path /p2p both
// sides send a Hello {ProtocolVersion, ChainID, GenesisHash, NodeID,
// ListenAddr, Nonce}, then an Auth carrying a signature over
//
//	keccak256(rlp(["p2p-handshake", chainID, genesisHash, theirNonce, myNodeID]))
//
// and each checks that the other's signature recovers to the NodeID its Hello
// claimed. A protocol version, chain id or genesis hash mismatch, a connection
// to ourselves, or a second connection to a connected node is refused: the
// refusing side sends a Disconnect whose reason reads like "chain id
// mismatch: we are X, you are Y", closes the connection, and both sides log
// the reason. The whole handshake must finish within handshakeTimeout.
//
// When two nodes dial each other at the same moment, both keep the
// connection dialed by the node with the lower NodeID, so the pair converges
// on one connection.
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
// cycle, is dropped and counted. Status and block sync messages are always
// delivered. Send writes directly to one peer. Both enqueue on the peer's
// bounded send queue and never block: a full queue drops the message and
// counts the drop (Stats). A peer's writer sends what is queued in batches,
// one system call per batch.
//
// A peer that sends bytes Decode rejects, a control message after the
// handshake, a message over Config.MaxMessageBytes, or anything the Handler
// rejects with ErrInvalidPeerData is sent a Disconnect with the reason,
// disconnected, counted, and logged at info level.
//
// # Concurrency
//
// Switch.Run owns every goroutine: the HTTP listener, one dial loop per
// persistent peer, and per connection one reader and one writer. Handler
// methods are called from the per-peer reader goroutines: Receive
// concurrently for different peers and in arrival order for one peer,
// between that peer's PeerConnected and PeerDisconnected. Receive must return
// quickly; it blocks that peer's reader. Broadcast, Send, Peers and Stats are
// safe for concurrent use, including from inside Handler methods.
package p2p
