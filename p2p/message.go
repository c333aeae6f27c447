package p2p

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"

	"github.com/ethereum/go-ethereum/crypto"
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

// Hello opens the handshake: who we are and which chain we follow.
type Hello struct {
	ProtocolVersion uint32
	ChainID         string
	GenesisHash     chain.Hash
	NodeID          NodeID
	ListenAddr      string // where the sender accepts connections; may be empty
	Nonce           [32]byte
}

// Auth proves the Hello's NodeID: a signature over handshakeDigest.
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
type TxMessage struct{ Tx *chain.Tx }

// MaxTxsPerMessage bounds the transactions of one TxsMessage.
const MaxTxsPerMessage = 4096

// TxsMessage gossips a batch of signed transactions in one frame: one
// envelope, one hash and one queue slot per batch instead of per
// transaction. A node relays a batch it received unchanged, so the copies
// that reach a peer twice are dropped by the duplicate check before they
// are decoded again.
type TxsMessage struct{ Txs []*chain.Tx }

// ProposalMessage gossips a proposal with its block; Decode checks that the
// block's hash and height match the proposal.
type ProposalMessage struct {
	Proposal *chain.Proposal
	Block    *chain.Block
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
func (m *TxsMessage) payload() [][]byte {
	parts := make([][]byte, 1, len(m.Txs)+1)
	size := 0
	for _, tx := range m.Txs {
		b := tx.Encode()
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

// MessageHash identifies an encoded message: keccak256 of its envelope.
func MessageHash(encoded []byte) chain.Hash { return crypto.Keccak256Hash(encoded) }

// Decode parses one wire message into its typed form. It rejects input over
// MaxMessageBytes, non-canonical RLP, trailing bytes, unknown kinds, payloads
// the chain decoders reject, and inconsistent pairs; every error wraps
// ErrInvalidMessage (and so ErrInvalidPeerData). Decode does not verify
// signatures: that needs the validator set, which the node has.
func Decode(b []byte) (Message, error) {
	if len(b) > MaxMessageBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrInvalidMessage, len(b), MaxMessageBytes)
	}
	body, rest, err := rlp.SplitList(b)
	if err != nil {
		return nil, fmt.Errorf("%w: envelope: %v", ErrInvalidMessage, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrInvalidMessage, len(rest))
	}
	k, body, err := rlp.SplitUint64(body)
	if err != nil {
		return nil, fmt.Errorf("%w: kind: %v", ErrInvalidMessage, err)
	}
	kind := Kind(k)
	if k >= uint64(kindEnd) || kind == 0 {
		return nil, fmt.Errorf("%w: unknown kind %d", ErrInvalidMessage, k)
	}
	p, rest, err := rlp.SplitString(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s payload: %v", ErrInvalidMessage, kind, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %s: extra envelope fields", ErrInvalidMessage, kind)
	}
	m, err := decodePayload(kind, p)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidMessage, kind, err)
	}
	return m, nil
}

func decodePayload(kind Kind, p []byte) (Message, error) {
	switch kind {
	case KindRoundStatus:
		return decodeRoundStatus(p)
	case KindVotes:
		return decodeVotes(p)
	case KindHello:
		m := new(Hello)
		if err := rlp.DecodeBytes(p, m); err != nil {
			return nil, err
		}
		if len(m.ChainID) == 0 || len(m.ChainID) > chain.MaxChainIDLength {
			return nil, fmt.Errorf("chain id length %d", len(m.ChainID))
		}
		if len(m.ListenAddr) > maxListenAddrBytes {
			return nil, fmt.Errorf("listen address length %d", len(m.ListenAddr))
		}
		return m, nil
	case KindAuth:
		m := new(Auth)
		if err := rlp.DecodeBytes(p, m); err != nil {
			return nil, err
		}
		return m, nil
	case KindDisconnect:
		m := new(Disconnect)
		if err := rlp.DecodeBytes(p, m); err != nil {
			return nil, err
		}
		if len(m.Reason) > maxReasonBytes {
			return nil, fmt.Errorf("reason length %d", len(m.Reason))
		}
		return m, nil
	case KindStatus:
		m := new(Status)
		if err := rlp.DecodeBytes(p, m); err != nil {
			return nil, err
		}
		if m.BaseHeight > m.Height {
			return nil, fmt.Errorf("base height %d above height %d", m.BaseHeight, m.Height)
		}
		return m, nil
	case KindBlockRequest:
		m := new(BlockRequest)
		if err := rlp.DecodeBytes(p, m); err != nil {
			return nil, err
		}
		if m.Height == 0 {
			return nil, errors.New("height 0")
		}
		return m, nil
	case KindTx:
		tx, err := chain.DecodeTx(p)
		if err != nil {
			return nil, err
		}
		return &TxMessage{Tx: tx}, nil
	case KindTxs:
		body, rest, err := rlp.SplitList(p)
		if err != nil {
			return nil, err
		}
		if len(rest) != 0 {
			return nil, fmt.Errorf("%d trailing bytes", len(rest))
		}
		m := &TxsMessage{}
		for len(body) > 0 {
			if len(m.Txs) == MaxTxsPerMessage {
				return nil, fmt.Errorf("more than %d transactions", MaxTxsPerMessage)
			}
			_, _, next, err := rlp.Split(body)
			if err != nil {
				return nil, fmt.Errorf("tx %d: %w", len(m.Txs), err)
			}
			tx, err := chain.DecodeTx(body[:len(body)-len(next)])
			if err != nil {
				return nil, fmt.Errorf("tx %d: %w", len(m.Txs), err)
			}
			m.Txs = append(m.Txs, tx)
			body = next
		}
		if len(m.Txs) == 0 {
			return nil, errors.New("empty transaction batch")
		}
		return m, nil
	case KindVote:
		v, err := chain.DecodeVote(p)
		if err != nil {
			return nil, err
		}
		return &VoteMessage{Vote: v}, nil
	case KindEvidence:
		e, err := chain.DecodeEvidence(p)
		if err != nil {
			return nil, err
		}
		return &EvidenceMessage{Evidence: e}, nil
	case KindProposal:
		a, b, err := splitPair(p)
		if err != nil {
			return nil, err
		}
		prop, err := chain.DecodeProposal(a)
		if err != nil {
			return nil, err
		}
		blk, err := chain.DecodeBlock(b)
		if err != nil {
			return nil, err
		}
		if blk.Header.Height != prop.Height || blk.Hash() != prop.BlockHash {
			return nil, fmt.Errorf("block h=%d %s does not match proposal h=%d %s", blk.Header.Height,
				chain.FormatHash(blk.Hash()), prop.Height, chain.FormatHash(prop.BlockHash))
		}
		return &ProposalMessage{Proposal: prop, Block: blk}, nil
	case KindBlockResponse:
		a, b, err := splitPair(p)
		if err != nil {
			return nil, err
		}
		blk, err := chain.DecodeBlock(a)
		if err != nil {
			return nil, err
		}
		cert, err := chain.DecodeCertificate(b)
		if err != nil {
			return nil, err
		}
		if cert.Height != blk.Header.Height || cert.BlockHash != blk.Hash() {
			return nil, fmt.Errorf("certificate h=%d %s does not match block h=%d %s", cert.Height,
				chain.FormatHash(cert.BlockHash), blk.Header.Height, chain.FormatHash(blk.Hash()))
		}
		return &BlockResponse{Block: blk, Certificate: cert}, nil
	}
	return nil, fmt.Errorf("unknown kind %d", kind)
}

// splitPair is the inverse of pair: exactly two RLP values, returned
// whole (with their headers), sharing p's memory.
func splitPair(p []byte) (a, b []byte, err error) {
	body, rest, err := rlp.SplitList(p)
	if err != nil {
		return nil, nil, err
	}
	if len(rest) != 0 {
		return nil, nil, fmt.Errorf("%d trailing bytes", len(rest))
	}
	var vals [2][]byte
	for i := range vals {
		_, _, next, err := rlp.Split(body)
		if err != nil {
			return nil, nil, fmt.Errorf("value %d: %w", i, err)
		}
		vals[i] = body[:len(body)-len(next)]
		body = next
	}
	if len(body) != 0 {
		return nil, nil, errors.New("more than two values")
	}
	return vals[0], vals[1], nil
}

func mustEncodeRLP(v any) []byte {
	b, err := rlp.EncodeToBytes(v)
	if err != nil {
		panic(fmt.Sprintf("p2p: encode %T: %v", v, err)) // fixed-shape values: cannot fail
	}
	return b
}
