package p2p

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/gorilla/websocket"

	"github.com/quorumchain/quorumchain/chain"
)

// Handshake errors. The refusing side sends err.Error() as the Disconnect
// reason, e.g. "chain id mismatch: we are quorum-a, you are quorum-b".
var (
	ErrProtocolMismatch = errors.New("protocol version mismatch")
	ErrChainMismatch    = errors.New("chain id mismatch")
	ErrGenesisMismatch  = errors.New("genesis hash mismatch")
	ErrSelfConnection   = errors.New("connection to ourselves")
	ErrDuplicatePeer    = errors.New("duplicate connection")
	ErrBadHandshake     = errors.New("bad handshake")
	// ErrRefused wraps the reason a peer gave for refusing or closing
	// our connection.
	ErrRefused = errors.New("refused by peer")
)

// handshakeDomain separates handshake signatures from every other signature.
const handshakeDomain = "p2p-handshake"

// handshakeDigest is what a node signs to prove its NodeID to a peer:
// keccak256(rlp([handshakeDomain, chainID, genesisHash, theirNonce, myNodeID])).
// theirNonce, chosen by the verifier, makes the signature fresh.
func handshakeDigest(chainID string, genesis chain.Hash, theirNonce [32]byte, signer NodeID) chain.Hash {
	b, err := rlp.EncodeToBytes([]any{handshakeDomain, chainID, genesis, theirNonce, signer})
	if err != nil {
		panic(fmt.Sprintf("p2p: encode handshake digest: %v", err)) // fixed-shape values: cannot fail
	}
	return crypto.Keccak256Hash(b)
}

// handshake authenticates a fresh connection: Hello both ways, checks, Auth
// both ways, signature check. On success the connection's read limit is
// MaxMessageBytes and its deadlines are cleared. The returned Hello is the
// peer's, nil if none arrived; it is returned with some errors too, so the
// caller can name the peer in logs.
func (s *Switch) handshake(ctx context.Context, conn *websocket.Conn, outbound bool) (*Hello, error) {
	stop := context.AfterFunc(ctx, func() { s.closeConn(conn) })
	defer stop()
	deadline := time.Now().Add(handshakeTimeout)
	if err := errors.Join(conn.SetReadDeadline(deadline), conn.SetWriteDeadline(deadline)); err != nil {
		return nil, fmt.Errorf("set deadline: %w", err)
	}
	conn.SetReadLimit(handshakeReadLimit)

	mine := &Hello{
		ProtocolVersion: ProtocolVersion,
		ChainID:         s.cfg.ChainID,
		GenesisHash:     s.cfg.GenesisHash,
		NodeID:          s.id,
		ListenAddr:      s.announceAddr(),
	}
	if _, err := rand.Read(mine.Nonce[:]); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	if err := writeMessage(conn, mine); err != nil {
		return nil, fmt.Errorf("send hello: %w", err)
	}
	m, err := readHandshakeMessage(conn, KindHello)
	if err != nil {
		return nil, err
	}
	theirs := m.(*Hello)
	if err := s.checkHello(theirs, outbound); err != nil {
		s.refuse(conn, err.Error())
		return theirs, err
	}

	sig, err := chain.Sign(s.cfg.NodeKey, handshakeDigest(s.cfg.ChainID, s.cfg.GenesisHash, theirs.Nonce, s.id))
	if err != nil {
		return theirs, err
	}
	if err := writeMessage(conn, &Auth{Signature: sig}); err != nil {
		return theirs, fmt.Errorf("send auth: %w", err)
	}
	m, err = readHandshakeMessage(conn, KindAuth)
	if err != nil {
		return theirs, err
	}
	digest := handshakeDigest(s.cfg.ChainID, s.cfg.GenesisHash, mine.Nonce, theirs.NodeID)
	if got, err := chain.Recover(digest, &m.(*Auth).Signature); err != nil || got != chain.Address(theirs.NodeID) {
		err := fmt.Errorf("%w: signature does not prove node id %s", ErrBadHandshake, theirs.NodeID)
		s.refuse(conn, err.Error())
		return theirs, err
	}

	if err := errors.Join(conn.SetReadDeadline(time.Time{}), conn.SetWriteDeadline(time.Time{})); err != nil {
		return theirs, fmt.Errorf("clear deadline: %w", err)
	}
	conn.SetReadLimit(s.cfg.MaxMessageBytes)
	return theirs, nil
}

// checkHello decides whether to go on with a peer that sent h.
func (s *Switch) checkHello(h *Hello, outbound bool) error {
	switch {
	case h.ProtocolVersion != ProtocolVersion:
		return fmt.Errorf("%w: we speak %d, you speak %d", ErrProtocolMismatch, ProtocolVersion, h.ProtocolVersion)
	case h.ChainID != s.cfg.ChainID:
		return fmt.Errorf("%w: we are %s, you are %s", ErrChainMismatch, s.cfg.ChainID, h.ChainID)
	case h.GenesisHash != s.cfg.GenesisHash:
		return fmt.Errorf("%w: we are %s, you are %s", ErrGenesisMismatch,
			chain.FormatHash(s.cfg.GenesisHash), chain.FormatHash(h.GenesisHash))
	case h.NodeID == s.id:
		return fmt.Errorf("%w: %s", ErrSelfConnection, s.id)
	case s.bannedHello(h.NodeID):
		return fmt.Errorf("%w: %s", ErrBanned, h.NodeID)
	case s.keepsExisting(h.NodeID, outbound):
		return fmt.Errorf("%w: already connected to %s", ErrDuplicatePeer, h.NodeID)
	}
	return nil
}

// readHandshakeMessage reads the next message, which must be of kind want.
// A Disconnect is the peer refusing us: ErrRefused with its reason.
func readHandshakeMessage(conn *websocket.Conn, want Kind) (Message, error) {
	typ, b, err := conn.ReadMessage()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", want, err)
	}
	if typ != websocket.BinaryMessage {
		return nil, fmt.Errorf("%w: frame type %d, want binary", ErrBadHandshake, typ)
	}
	m, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadHandshake, err)
	}
	if d, ok := m.(*Disconnect); ok {
		return nil, fmt.Errorf("%w: %s", ErrRefused, d.Reason)
	}
	if m.Kind() != want {
		return nil, fmt.Errorf("%w: got %s, want %s", ErrBadHandshake, m.Kind(), want)
	}
	return m, nil
}

// refuse tells the peer why we close the connection: a Disconnect, then a
// websocket close frame. The caller closes the connection.
func (s *Switch) refuse(conn *websocket.Conn, reason string) {
	deadline := time.Now().Add(goodbyeWait)
	if err := conn.SetWriteDeadline(deadline); err != nil {
		s.logger.Debug("send disconnect", "err", err)
		return
	}
	if err := writeMessage(conn, &Disconnect{Reason: truncate(reason, maxReasonBytes)}); err != nil {
		s.logger.Debug("send disconnect", "err", err)
		return
	}
	closeMsg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	if err := conn.WriteControl(websocket.CloseMessage, closeMsg, deadline); err != nil {
		s.logger.Debug("send close", "err", err)
		return
	}
	// Wait for the peer to close too: closing with unread input resets the
	// connection, and the peer could lose the reason before reading it.
	if err := conn.SetReadDeadline(deadline); err != nil {
		return
	}
	for {
		if _, _, err := conn.NextReader(); err != nil {
			return
		}
	}
}

func writeMessage(conn *websocket.Conn, m Message) error {
	return conn.WriteMessage(websocket.BinaryMessage, Encode(m))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
