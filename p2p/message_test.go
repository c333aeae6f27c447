package p2p

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/rlp"

	"github.com/quorumchain/quorumchain/chain"
)

func TestEncodeDecodeEveryKind(t *testing.T) {
	msgs := append(sampleMessages(t), controlMessages(t)...)
	seen := map[Kind]bool{}
	for _, m := range msgs {
		t.Run(m.Kind().String(), func(t *testing.T) {
			b := Encode(m)
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if got.Kind() != m.Kind() {
				t.Fatalf("kind: got %s, want %s", got.Kind(), m.Kind())
			}
			if re := Encode(got); !bytes.Equal(re, b) {
				t.Fatalf("re-encoding differs: got %x, want %x", re, b)
			}
		})
		seen[m.Kind()] = true
	}
	for k := KindHello; k < kindEnd; k++ {
		if !seen[k] {
			t.Errorf("no sample of kind %s", k)
		}
	}
}

func TestDecodeTypedValues(t *testing.T) {
	msgs := sampleMessages(t)
	got, err := Decode(Encode(msgs[2]))
	if err != nil {
		t.Fatal(err)
	}
	pm, ok := got.(*ProposalMessage)
	if !ok {
		t.Fatalf("got %T, want *ProposalMessage", got)
	}
	if err := pm.Proposal.Verify(testChain); err != nil {
		t.Errorf("decoded proposal does not verify: %v", err)
	}
	if pm.Block.Hash() != pm.Proposal.BlockHash || len(pm.Block.Txs) != 3 || len(pm.Block.Evidence) != 1 {
		t.Errorf("decoded block: hash %s, %d txs, %d evidence", chain.FormatHash(pm.Block.Hash()), len(pm.Block.Txs), len(pm.Block.Evidence))
	}
	got, err = Decode(Encode(msgs[3]))
	if err != nil {
		t.Fatal(err)
	}
	if v := got.(*VoteMessage).Vote; *v != *msgs[3].(*VoteMessage).Vote {
		t.Errorf("vote: got %+v, want %+v", v, msgs[3].(*VoteMessage).Vote)
	}
}

func rawEnvelope(t testing.TB, fields ...any) []byte {
	t.Helper()
	b, err := rlp.EncodeToBytes(fields)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeRejects(t *testing.T) {
	msgs := sampleMessages(t)
	k1 := testKey(t, 1)
	vote := msgs[3].(*VoteMessage).Vote.Encode()
	prop := msgs[2].(*ProposalMessage)
	resp := msgs[6].(*BlockResponse)
	otherBlock := makeBlock(t, k1, 5, 1, nil)
	good := Encode(msgs[3])

	tests := []struct {
		name string
		in   []byte
		want string // substring of the error
	}{
		{"empty", nil, "envelope"},
		{"string envelope", []byte{0x83, 1, 2, 3}, "envelope"},
		{"trailing byte", append(append([]byte(nil), good...), 0), "trailing"},
		{"kind zero", rawEnvelope(t, uint8(0), vote), "unknown kind 0"},
		{"kind past the end", rawEnvelope(t, uint8(kindEnd), vote), "unknown kind"},
		{"kind 255", rawEnvelope(t, uint8(255), vote), "unknown kind 255"},
		{"kind non-canonical", rawEnvelope(t, rlp.RawValue{0x81, byte(KindVote)}, vote), "kind"},
		{"kind too wide", rawEnvelope(t, uint64(1<<40), vote), "unknown kind"},
		{"extra envelope field", rawEnvelope(t, uint8(KindVote), vote, uint8(1)), "extra envelope fields"},
		{"payload is a list", rawEnvelope(t, uint8(KindVote), []any{vote}), "payload"},
		{"vote garbage", rawEnvelope(t, uint8(KindVote), []byte{1, 2, 3}), "vote"},
		{"tx oversized", rawEnvelope(t, uint8(KindTx), make([]byte, chain.MaxTxBytes+1)), "oversized"},
		{"status base above height", Encode(&Status{Height: 3, BaseHeight: 4}), "base height"},
		{"status extra field", rawEnvelope(t, uint8(KindStatus), rawEnvelope(t, uint64(3), uint64(1), uint64(0))), "status"},
		{"block request height 0", Encode(&BlockRequest{}), "height 0"},
		{"proposal for another block", Encode(&ProposalMessage{Proposal: prop.Proposal, Block: otherBlock}), "does not match proposal"},
		{"proposal pair of three", rawEnvelope(t, uint8(KindProposal), encodeTriple(prop.Proposal.Encode(), prop.Block.Encode(), vote)), "more than two"},
		{"proposal pair of one", rawEnvelope(t, uint8(KindProposal), rawEnvelope(t, rlp.RawValue(prop.Proposal.Encode()))), "value 1"},
		{"certificate for another block", Encode(&BlockResponse{Block: otherBlock, Certificate: resp.Certificate}), "does not match block"},
		{"hello without chain id", Encode(&Hello{ProtocolVersion: 1}), "chain id length 0"},
		{"hello long listen address", Encode(&Hello{ChainID: "c", ListenAddr: strings.Repeat("a", maxListenAddrBytes+1)}), "listen address"},
		{"disconnect long reason", Encode(&Disconnect{Reason: strings.Repeat("r", maxReasonBytes+1)}), "reason length"},
		{"auth short signature", rawEnvelope(t, uint8(KindAuth), rawEnvelope(t, make([]byte, 64))), "auth"},
		{"oversized", make([]byte, MaxMessageBytes+1), "limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode(tc.in)
			if err == nil {
				t.Fatalf("decoded %T, want an error containing %q", m, tc.want)
			}
			if !errors.Is(err, ErrInvalidMessage) || !errors.Is(err, ErrInvalidPeerData) {
				t.Errorf("error %q does not wrap ErrInvalidMessage and ErrInvalidPeerData", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func encodeTriple(a, b, c []byte) []byte {
	out, err := rlp.MergeListValues([][]byte{a, b, c})
	if err != nil {
		panic(err)
	}
	return out
}

// TestMaxBlockFits checks that a proposal and a block response carrying a
// block of chain.MaxBlockTxs transactions fit in MaxMessageBytes.
func TestMaxBlockFits(t *testing.T) {
	k1 := testKey(t, 1)
	blk := makeBlock(t, k1, 9, chain.MaxBlockTxs, nil)
	for _, m := range []Message{
		&ProposalMessage{Proposal: proposalFor(t, k1, blk, 0), Block: blk},
		&BlockResponse{Block: blk, Certificate: certFor(t, 9, 0, blk.Hash(), k1, testKey(t, 2), testKey(t, 3))},
	} {
		b := Encode(m)
		if len(b) > MaxMessageBytes {
			t.Fatalf("%s with %d txs: %d bytes, over MaxMessageBytes %d", m.Kind(), chain.MaxBlockTxs, len(b), MaxMessageBytes)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%s with %d txs (%d bytes): %v", m.Kind(), chain.MaxBlockTxs, len(b), err)
		}
		if re := Encode(got); !bytes.Equal(re, b) {
			t.Fatalf("%s: re-encoding differs", m.Kind())
		}
		t.Logf("%s with %d txs: %d bytes", m.Kind(), chain.MaxBlockTxs, len(b))
	}
}

func TestKnownSetEvictsOldest(t *testing.T) {
	k := newKnownSet(3)
	h := func(i byte) chain.Hash { return chain.Hash{i} }
	for i := byte(1); i <= 3; i++ {
		if !k.add(h(i)) {
			t.Fatalf("add %d: got already known, want new", i)
		}
	}
	if k.add(h(2)) {
		t.Fatal("add 2 again: got new, want already known")
	}
	k.add(h(4)) // evicts 1
	for i, want := range map[byte]bool{1: false, 2: true, 3: true, 4: true} {
		if got := k.has(h(i)); got != want {
			t.Errorf("has(%d): got %v, want %v", i, got, want)
		}
	}
	known, sent := k.addIf(h(5), func() bool { return false })
	if known || sent || k.has(h(5)) {
		t.Errorf("addIf with a full queue: got known=%v sent=%v has=%v, want all false", known, sent, k.has(h(5)))
	}
	known, sent = k.addIf(h(3), func() bool { t.Fatal("send called for a known hash"); return true })
	if !known || sent {
		t.Errorf("addIf known hash: got known=%v sent=%v, want true, false", known, sent)
	}
	if len(k.set) != 3 || len(k.ring) != 3 {
		t.Errorf("size: got set %d ring %d, want 3", len(k.set), len(k.ring))
	}
}

// TestEncodeMatchesReference cross-checks Encode's hand-built headers
// against go-ethereum's RLP encoder, across the header size boundaries.
func TestEncodeMatchesReference(t *testing.T) {
	reference := func(m Message) []byte {
		parts := m.payload()
		payload := bytes.Join(parts, nil)
		if len(parts) == 3 { // a pair: check its list header too
			merged, err := rlp.MergeListValues([][]byte{parts[1], parts[2]})
			if err != nil || !bytes.Equal(merged, payload) {
				t.Fatalf("%s: pair header differs from rlp.MergeListValues (%v)", m.Kind(), err)
			}
		}
		b, err := rlp.EncodeToBytes(&struct {
			Kind    uint8
			Payload []byte
		}{uint8(m.Kind()), payload})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	msgs := append(sampleMessages(t), controlMessages(t)...)
	for _, n := range []int{0, 1, 50, 51, 52, 53, 54, 55, 56, 57, 200, 250, 251, 252, 253, 254, 255, 256, 1000, maxReasonBytes} {
		msgs = append(msgs, &Disconnect{Reason: strings.Repeat("r", n)})
	}
	msgs = append(msgs, &BlockResponse{Block: makeBlock(t, testKey(t, 1), 3, 700, nil), Certificate: certFor(t, 3, 0, chain.Hash{1})})
	for _, m := range msgs {
		if got, want := Encode(m), reference(m); !bytes.Equal(got, want) {
			t.Errorf("%s (%d bytes): Encode differs from the reference encoding", m.Kind(), len(want))
		}
	}
}

func TestTxsMessageLimits(t *testing.T) {
	k := testKey(t, 1)
	tx := signedTx(t, k, 1)
	one := Encode(&TxsMessage{Txs: []*chain.Tx{tx}})
	m, err := Decode(one)
	if err != nil || len(m.(*TxsMessage).Txs) != 1 {
		t.Fatalf("one tx: %v", err)
	}
	if _, err := Decode(Encode(&TxsMessage{})); !errors.Is(err, ErrInvalidPeerData) {
		t.Fatalf("empty batch: %v", err)
	}
	many := make([]*chain.Tx, MaxTxsPerMessage+1)
	for i := range many {
		many[i] = tx
	}
	if _, err := Decode(Encode(&TxsMessage{Txs: many})); !errors.Is(err, ErrInvalidPeerData) {
		t.Fatalf("%d txs: %v", len(many), err)
	}
	bad := *tx
	bad.ChainID = ""
	if _, err := Decode(Encode(&TxsMessage{Txs: []*chain.Tx{tx, &bad}})); !errors.Is(err, ErrInvalidPeerData) {
		t.Fatalf("batch with a malformed tx: %v", err)
	}
}
