package p2p

import (
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/rlp"

	"github.com/quorumchain/quorumchain/chain"
)

// Decode parses one wire message into its typed form. It rejects input over
// MaxMessageBytes, non-canonical RLP, trailing bytes, unknown kinds, payloads
// the chain decoders reject, and inconsistent pairs; every error wraps
// ErrInvalidMessage (and so ErrInvalidPeerData). Decode does not verify
// signatures: that needs the validator set, which the node has.
// peekKind reads the kind of an envelope without decoding its payload;
// false if b does not start like an envelope of a known kind. Decode still
// checks everything.
func peekKind(b []byte) (Kind, bool) {
	body, _, err := rlp.SplitList(b)
	if err != nil {
		return 0, false
	}
	k, _, err := rlp.SplitUint64(body)
	if err != nil || k == 0 || k >= uint64(kindEnd) {
		return 0, false
	}
	return Kind(k), true
}

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

// decodePayload decodes the payload of a message of kind and validates it.
func decodePayload(kind Kind, p []byte) (Message, error) {
	switch kind {
	case KindHello:
		return decodeRLP(p, new(Hello))
	case KindAuth:
		return decodeRLP(p, new(Auth))
	case KindDisconnect:
		return decodeRLP(p, new(Disconnect))
	case KindStatus:
		return decodeRLP(p, new(Status))
	case KindBlockRequest:
		return decodeRLP(p, new(BlockRequest))
	case KindTx:
		tx, err := chain.DecodeTx(p)
		if err != nil {
			return nil, err
		}
		return &TxMessage{Tx: tx}, nil
	case KindTxs:
		return decodeTxs(p)
	case KindRoundStatus:
		return decodeRoundStatus(p)
	case KindVotes:
		return decodeVotes(p)
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
		return decodeProposal(p)
	case KindBlockResponse:
		return decodeBlockResponse(p)
	}
	return nil, fmt.Errorf("unknown kind %d", kind)
}

// rlpMessage is a message whose payload is the plain RLP encoding of its
// struct, checked by validate once decoded.
type rlpMessage interface {
	Message
	validate() error
}

// decodeRLP decodes p into m and validates it.
func decodeRLP(p []byte, m rlpMessage) (Message, error) {
	if err := rlp.DecodeBytes(p, m); err != nil {
		return nil, err
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// validate bounds the chain id and listen address.
func (m *Hello) validate() error {
	if len(m.ChainID) == 0 || len(m.ChainID) > chain.MaxChainIDLength {
		return fmt.Errorf("chain id length %d", len(m.ChainID))
	}
	if len(m.ListenAddr) > maxListenAddrBytes {
		return fmt.Errorf("listen address length %d", len(m.ListenAddr))
	}
	return nil
}

// validate accepts any signature: the handshake verifies it.
func (m *Auth) validate() error { return nil }

// validate bounds the reason.
func (m *Disconnect) validate() error {
	if len(m.Reason) > maxReasonBytes {
		return fmt.Errorf("reason length %d", len(m.Reason))
	}
	return nil
}

// validate requires BaseHeight <= Height.
func (m *Status) validate() error {
	if m.BaseHeight > m.Height {
		return fmt.Errorf("base height %d above height %d", m.BaseHeight, m.Height)
	}
	return nil
}

// validate requires a height of at least 1.
func (m *BlockRequest) validate() error {
	if m.Height == 0 {
		return errors.New("height 0")
	}
	return nil
}

// decodeTxs decodes a non-empty list of at most MaxTxsPerMessage
// transactions.
func decodeTxs(p []byte) (Message, error) {
	txs, err := decodeList(p, MaxTxsPerMessage, list{"tx", "transactions", "transaction"}, chain.DecodeTx)
	if err != nil {
		return nil, err
	}
	return &TxsMessage{Txs: txs}, nil
}

// list names the items of a batch in decodeList's errors.
type list struct{ one, many, batch string }

// decodeList decodes an RLP list of 1 to max items with dec. Each item is
// passed whole (header included), sharing p's memory.
func decodeList[T any](p []byte, max int, names list, dec func([]byte) (T, error)) ([]T, error) {
	body, rest, err := rlp.SplitList(p)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%d trailing bytes", len(rest))
	}
	var out []T
	for len(body) > 0 {
		if len(out) == max {
			return nil, fmt.Errorf("more than %d %s", max, names.many)
		}
		_, _, next, err := rlp.Split(body)
		if err != nil {
			return nil, fmt.Errorf("%s %d: %w", names.one, len(out), err)
		}
		item, err := dec(body[:len(body)-len(next)])
		if err != nil {
			return nil, fmt.Errorf("%s %d: %w", names.one, len(out), err)
		}
		out = append(out, item)
		body = next
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty %s batch", names.batch)
	}
	return out, nil
}

// decodeProposal decodes a [proposal, block] pair and validates it.
func decodeProposal(p []byte) (Message, error) {
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
	m := &ProposalMessage{Proposal: prop, Block: blk}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// validate requires the block to be the one the proposal names.
func (m *ProposalMessage) validate() error {
	blk, prop := m.Block, m.Proposal
	if blk.Header.Height != prop.Height || blk.Hash() != prop.BlockHash {
		return fmt.Errorf("block h=%d %s does not match proposal h=%d %s", blk.Header.Height,
			chain.FormatHash(blk.Hash()), prop.Height, chain.FormatHash(prop.BlockHash))
	}
	return nil
}

// decodeBlockResponse decodes a [block, certificate] pair and validates it.
func decodeBlockResponse(p []byte) (Message, error) {
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
	m := &BlockResponse{Block: blk, Certificate: cert}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// validate requires the certificate to name the block.
func (m *BlockResponse) validate() error {
	blk, cert := m.Block, m.Certificate
	if cert.Height != blk.Header.Height || cert.BlockHash != blk.Hash() {
		return fmt.Errorf("certificate h=%d %s does not match block h=%d %s", cert.Height,
			chain.FormatHash(cert.BlockHash), blk.Header.Height, chain.FormatHash(blk.Hash()))
	}
	return nil
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
