package p2p

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/bits"
	"slices"

	"github.com/ethereum/go-ethereum/rlp"

	"github.com/quorumchain/quorumchain/chain"
)

// MaxMessageBytes is the protocol's ceiling on one encoded message. It fits a
// proposal or a block response carrying a block of chain.MaxBlockBytes
// (50,000 transactions) and its certificate. Config.MaxMessageBytes may lower
// it, never raise it.
const MaxMessageBytes = 10 << 20

// Limits on the fields of control messages.
const (
	maxListenAddrBytes = 256
	maxReasonBytes     = 1024
)

// Kind says what an envelope's payload is. The zero value is invalid.
type Kind uint8

// Message kinds. Hello, Auth and Disconnect are the handshake and control
// messages the Switch handles itself; the others are delivered to the Handler.
const (
	KindHello Kind = 1 + iota
	KindAuth
	KindDisconnect
	KindStatus
	KindTx
	KindProposal
	KindVote
	KindEvidence
	KindBlockRequest
	KindBlockResponse
	KindTxs
	KindRoundStatus
	KindVotes
	kindEnd // one past the last valid kind
)

var kindNames = [...]string{
	KindHello: "hello", KindAuth: "auth", KindDisconnect: "disconnect", KindStatus: "status",
	KindTx: "tx", KindProposal: "proposal", KindVote: "vote", KindEvidence: "evidence",
	KindBlockRequest: "block_request", KindBlockResponse: "block_response", KindTxs: "txs",
	KindRoundStatus: "round_status", KindVotes: "votes",
}

func (k Kind) String() string {
	if k >= KindHello && k < kindEnd {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// gossip reports whether k is flooded through the network, and so delivered
// to the Handler once per Switch rather than once per copy.
func (k Kind) gossip() bool {
	return k == KindTx || k == KindTxs || k == KindProposal || k == KindVote || k == KindEvidence
}

// control reports whether k is handled by the Switch rather than the Handler.
func (k Kind) control() bool { return k == KindHello || k == KindAuth || k == KindDisconnect }

// ErrInvalidPeerData marks bad data from a peer. A Handler.Receive error that
// wraps it disconnects the peer; every Decode error wraps it too.
var ErrInvalidPeerData = errors.New("invalid peer data")

// ErrInvalidMessage is the error Decode wraps; it wraps ErrInvalidPeerData.
var ErrInvalidMessage = fmt.Errorf("%w: invalid message", ErrInvalidPeerData)

// Message is one of the typed messages below. The set is closed: the
// unexported method keeps other packages from adding kinds.
type Message interface {
	Kind() Kind
	// payload returns the encoded payload as the concatenation of parts,
	// so that Encode copies big parts (blocks) once.
	payload() [][]byte
}

// Hello opens the handshake: who we are and which chain we follow. NodeID
// must be the identity the TLS certificate proved.
type Hello struct {
	ProtocolVersion uint32
	ChainID         string
	GenesisHash     chain.Hash
	NodeID          NodeID
	ListenAddr      string // where the sender accepts connections; may be empty
}

// Auth binds the node key to this TLS session: the node key's signature
// over sessionDigest, which includes keying material exported from the
// session.
type Auth struct {
	Signature chain.Signature
}

// Disconnect tells the peer why we close the connection (or refuse it).
type Disconnect struct {
	Reason string
}

// Status announces the sender's chain: the latest final height and the lowest
// height whose block it can serve (BaseHeight <= Height).
type Status struct {
	Height     uint64
	BaseHeight uint64
}

// TxMessage gossips a signed transaction.
type TxMessage struct {
	Tx *chain.Tx
	wire
}

// MaxTxsPerMessage bounds the transactions of one TxsMessage.
const MaxTxsPerMessage = 4096

// TxsMessage gossips a batch of signed transactions in one frame: one
// envelope, one hash and one queue slot per batch instead of per
// transaction. A node relays a batch it received unchanged, so the copies
// that reach a peer twice are dropped by the duplicate check before they
// are decoded again.
type TxsMessage struct {
	Txs []*chain.Tx
	wire
}

// wire is the encoding a gossip message arrived in, and its hash, kept by
// the receive path so that relaying the message unchanged (Switch.Relay)
// costs neither an encoding nor a hash. It is zero in a message built
// locally or by Decode, and set before the Handler gets the message.
type wire struct {
	enc  []byte
	hash chain.Hash
}

func (w *wire) arrived() *wire { return w }

// relayable is a message kind the receive path keeps the wire encoding of.
type relayable interface {
	Message
	arrived() *wire
}

// ProposalMessage gossips a proposal with its block; Decode checks that the
// block's hash and height match the proposal.
type ProposalMessage struct {
	Proposal *chain.Proposal
	Block    *chain.Block
	wire
}

// VoteMessage gossips a prevote or precommit.
type VoteMessage struct{ Vote *chain.Vote }

// EvidenceMessage gossips double-sign evidence.
type EvidenceMessage struct{ Evidence *chain.Evidence }

// BlockRequest asks a peer for the final block at Height (>= 1).
type BlockRequest struct{ Height uint64 }

// BlockResponse answers a BlockRequest with the block and its finality
// certificate; Decode checks that the certificate names the block.
type BlockResponse struct {
	Block       *chain.Block
	Certificate *chain.Certificate
}

func (*Hello) Kind() Kind           { return KindHello }
func (*Auth) Kind() Kind            { return KindAuth }
func (*Disconnect) Kind() Kind      { return KindDisconnect }
func (*Status) Kind() Kind          { return KindStatus }
func (*TxMessage) Kind() Kind       { return KindTx }
func (*ProposalMessage) Kind() Kind { return KindProposal }
func (*VoteMessage) Kind() Kind     { return KindVote }
func (*EvidenceMessage) Kind() Kind { return KindEvidence }
func (*BlockRequest) Kind() Kind    { return KindBlockRequest }
func (*BlockResponse) Kind() Kind   { return KindBlockResponse }
func (*TxsMessage) Kind() Kind      { return KindTxs }

func (m *Hello) payload() [][]byte        { return one(mustEncodeRLP(m)) }
func (m *Auth) payload() [][]byte         { return one(mustEncodeRLP(m)) }
func (m *Disconnect) payload() [][]byte   { return one(mustEncodeRLP(m)) }
func (m *Status) payload() [][]byte       { return one(mustEncodeRLP(m)) }
func (m *BlockRequest) payload() [][]byte { return one(mustEncodeRLP(m)) }
func (m *TxMessage) payload() [][]byte    { return one(m.Tx.Encode()) }
func (m *TxsMessage) payload() [][]byte   { return listPayload(m.Txs, (*chain.Tx).Encode) }

// listPayload is the RLP list of items, each encoded by enc, as parts.
func listPayload[T any](items []T, enc func(T) []byte) [][]byte {
	parts := make([][]byte, 1, len(items)+1)
	size := 0
	for _, it := range items {
		b := enc(it)
		parts = append(parts, b)
		size += len(b)
	}
	parts[0] = appendRLPHeader(nil, 0xc0, size)
	return parts
}
func (m *VoteMessage) payload() [][]byte     { return one(m.Vote.Encode()) }
func (m *EvidenceMessage) payload() [][]byte { return one(m.Evidence.Encode()) }
func (m *ProposalMessage) payload() [][]byte {
	return pair(m.Proposal.Encode(), m.Block.Encode())
}
func (m *BlockResponse) payload() [][]byte {
	return pair(m.Block.Encode(), m.Certificate.Encode())
}

func one(b []byte) [][]byte { return [][]byte{b} }

// pair is the RLP list [a, b] of two encoded RLP values, as parts.
func pair(a, b []byte) [][]byte {
	return [][]byte{appendRLPHeader(nil, 0xc0, len(a)+len(b)), a, b}
}

// Encode returns the wire encoding of m, the envelope rlp([kind, payload]),
// in one allocation of the exact size.
func Encode(m Message) []byte {
	parts := m.payload()
	size := 0
	for _, p := range parts {
		size += len(p)
	}
	// A single byte below 0x80 is its own encoding: so is the kind, and so
	// would be a one-byte payload.
	kind := byte(m.Kind())
	single := size == 1 && slices.Concat(parts...)[0] < 0x80
	strHeader := 0
	if !single {
		strHeader = rlpHeaderLen(size)
	}
	content := 1 + strHeader + size
	out := make([]byte, 0, rlpHeaderLen(content)+content)
	out = appendRLPHeader(out, 0xc0, content)
	out = append(out, kind)
	if !single {
		out = appendRLPHeader(out, 0x80, size)
	}
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// rlpHeaderLen is the length of the RLP header of a string or list of size bytes.
func rlpHeaderLen(size int) int {
	if size < 56 {
		return 1
	}
	return 1 + (bits.Len(uint(size))+7)/8
}

// appendRLPHeader appends the header of a string (base 0x80) or list (base
// 0xc0) of size bytes.
func appendRLPHeader(b []byte, base byte, size int) []byte {
	if size < 56 {
		return append(b, base+byte(size))
	}
	n := (bits.Len(uint(size)) + 7) / 8
	b = append(b, base+55+byte(n))
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(size>>(8*i)))
	}
	return b
}

// MessageHash identifies an encoded message: SHA-256 of its envelope. It
// names messages in this node's seen and known sets only, never on the
// wire or on disk, so it need not be the chain's keccak256: every gossip
// frame received is hashed, and SHA-256 runs at over twice keccak's speed
// on CPUs with SHA extensions, which Go uses.
func MessageHash(encoded []byte) chain.Hash { return sha256.Sum256(encoded) }

func mustEncodeRLP(v any) []byte {
	b, err := rlp.EncodeToBytes(v)
	if err != nil {
		panic(fmt.Sprintf("p2p: encode %T: %v", v, err)) // fixed-shape values: cannot fail
	}
	return b
}
