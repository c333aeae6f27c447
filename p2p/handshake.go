package p2p

import (
	"context"
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
	// ErrIdentityMismatch: the Hello claims a NodeID other than the one
	// the TLS certificate proves.
	ErrIdentityMismatch = fmt.Errorf("%w: identity mismatch", ErrBadHandshake)
	// ErrRefused wraps the reason a peer gave for refusing or closing
	// our connection.
	ErrRefused = errors.New("refused by peer")
)

// sessionDomain separates Auth signatures from every other signature, and
// exporterLabel names the keying material exported from the TLS session
// (RFC 8446 section 7.5) that an Auth signs.
const (
	sessionDomain = "quorumchain-p2p-session-v1"
	exporterLabel = "EXPORTER-quorumchain-p2p-auth"
	exporterBytes = 32
)

// sessionDigest is what a node signs to bind its node key to one TLS
// session: keccak256(rlp([sessionDomain, chainID, genesisHash, ekm,
// signer])), where ekm is the session's exported keying material. Both ends
// derive the same ekm, and nobody outside the session can, so the signature
// is fresh and useless on any other connection; signer keeps one end's
// signature from being reflected back as the other's.
func sessionDigest(chainID string, genesis chain.Hash, ekm []byte, signer NodeID) chain.Hash {
	b, err := rlp.EncodeToBytes([]any{sessionDomain, chainID, genesis, ekm, signer})
	if err != nil {
		panic(fmt.Sprintf("p2p: encode session digest: %v", err)) // fixed-shape values: cannot fail
	}
	return crypto.Keccak256Hash(b)
}

// handshake authenticates a fresh connection whose TLS handshake is done:
// it takes the peer's NodeID from its certificate, sends our Hello and Auth,
// reads and checks the peer's, and returns the peer's Hello. On success the
// connection's read limit is MaxMessageBytes and its deadlines are cleared.
// The Hello is returned with some errors too, so the caller can name the
// peer in logs.
func (s *Switch) handshake(ctx context.Context, conn *websocket.Conn, outbound bool) (*Hello, error) {
	stop := context.AfterFunc(ctx, func() { s.closeConn(conn) })
	defer stop()
	deadline := time.Now().Add(s.cfg.HandshakeTimeout)
	if err := errors.Join(conn.SetReadDeadline(deadline), conn.SetWriteDeadline(deadline)); err != nil {
		return nil, fmt.Errorf("set deadline: %w", err)
	}
	conn.SetReadLimit(handshakeReadLimit)

	tc, err := tlsConnOf(conn)
	if err != nil {
		return nil, err
	}
	cs := tc.ConnectionState()
	peerID, err := peerTLSIdentity(cs)
	if err != nil {
		return nil, err
	}
	ekm, err := cs.ExportKeyingMaterial(exporterLabel, nil, exporterBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: export keying material: %w", ErrBadHandshake, err)
	}

	mine := &Hello{
		ProtocolVersion: ProtocolVersion,
		ChainID:         s.cfg.ChainID,
		GenesisHash:     s.cfg.GenesisHash,
		NodeID:          s.id,
		ListenAddr:      s.announceAddr(),
	}
	sig, err := chain.Sign(s.cfg.NodeKey, sessionDigest(s.cfg.ChainID, s.cfg.GenesisHash, ekm, s.id))
	if err != nil {
		return nil, err
	}
	auth := &Auth{Signature: sig}

	// The dialer speaks first, Hello and Auth at once. The accepting side
	// answers with its Hello before it checks the dialer's, so that on a
	// mismatch each side can name the difference in its own terms, and
	// sends its Auth only to a dialer that proved its identity.
	if outbound {
		if err := writeMessages(conn, mine, auth); err != nil {
			return nil, err
		}
	}
	m, err := readHandshakeMessage(conn, KindHello)
	if err != nil {
		return nil, err
	}
	theirs := m.(*Hello)
	if !outbound {
		if err := writeMessages(conn, mine); err != nil {
			return theirs, err
		}
	}
	if err := s.checkHello(theirs, peerID, outbound); err != nil {
		s.refuse(conn, err.Error())
		return theirs, err
	}
	m, err = readHandshakeMessage(conn, KindAuth)
	if err != nil {
		return theirs, err
	}
	digest := sessionDigest(s.cfg.ChainID, s.cfg.GenesisHash, ekm, peerID)
	if got, err := chain.Recover(digest, &m.(*Auth).Signature); err != nil || got != chain.Address(peerID) {
		err := fmt.Errorf("%w: auth signature does not bind node id %s to this session", ErrBadHandshake, peerID)
		s.refuse(conn, err.Error())
		return theirs, err
	}
	if !outbound {
		if err := writeMessages(conn, auth); err != nil {
			return theirs, err
		}
	}

	if err := errors.Join(conn.SetReadDeadline(time.Time{}), conn.SetWriteDeadline(time.Time{})); err != nil {
		return theirs, fmt.Errorf("clear deadline: %w", err)
	}
	conn.SetReadLimit(s.cfg.MaxMessageBytes)
	return theirs, nil
}

// checkHello decides whether to go on with a peer that sent h over a TLS
// session authenticated as tlsID.
func (s *Switch) checkHello(h *Hello, tlsID NodeID, outbound bool) error {
	switch {
	case h.NodeID != tlsID:
		return fmt.Errorf("%w: hello claims node id %s, TLS certificate proves %s", ErrIdentityMismatch, h.NodeID, tlsID)
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
	return parseHandshakeFrame(typ, b, want)
}

// parseHandshakeFrame decodes one websocket frame of the handshake, which
// must be a binary frame holding a message of kind want or a Disconnect.
func parseHandshakeFrame(typ int, b []byte, want Kind) (Message, error) {
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

// writeMessages writes handshake messages, naming the one that failed.
func writeMessages(conn *websocket.Conn, ms ...Message) error {
	for _, m := range ms {
		if err := writeMessage(conn, m); err != nil {
			return fmt.Errorf("send %s: %w", m.Kind(), err)
		}
	}
	return nil
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
