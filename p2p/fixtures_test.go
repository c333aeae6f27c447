package p2p

import (
	"crypto/ecdsa"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
)

func signedVote(t testing.TB, key *ecdsa.PrivateKey, typ chain.VoteType, h uint64, r uint32, block chain.Hash) *chain.Vote {
	t.Helper()
	v := &chain.Vote{Type: typ, Height: h, Round: r, BlockHash: block, Validator: chain.PubkeyAddress(&key.PublicKey)}
	sig, err := chain.Sign(key, v.SignHash(testChain))
	if err != nil {
		t.Fatal(err)
	}
	v.Signature = sig
	return v
}

func signedTx(t testing.TB, key *ecdsa.PrivateKey, nonce uint64) *chain.Tx {
	t.Helper()
	tx := &chain.Tx{ChainID: testChain, Kind: chain.TxTransfer, Nonce: nonce, To: chain.Address{0xaa}, Amount: 10}
	if err := tx.SignWith(func(h chain.Hash) (chain.Signature, error) { return chain.Sign(key, h) }); err != nil {
		t.Fatal(err)
	}
	return tx
}

// makeBlock builds a block at height h with ntx transactions. Only the first
// transaction is really signed; the others copy its signature with other
// nonces, which decoding does not check, to keep big blocks cheap.
func makeBlock(t testing.TB, key *ecdsa.PrivateKey, h uint64, ntx int, ev []*chain.Evidence) *chain.Block {
	t.Helper()
	blk := &chain.Block{Evidence: ev}
	if ntx > 0 {
		first := signedTx(t, key, 0)
		blk.Txs = make([]*chain.Tx, ntx)
		for i := range blk.Txs {
			tx := *first
			tx.Nonce = uint64(i)
			blk.Txs[i] = &tx
		}
	}
	blk.Header = chain.Header{
		ChainID: testChain, Height: h, Time: 1_700_000_000_000 + h, Proposer: chain.PubkeyAddress(&key.PublicKey),
		TxRoot: chain.MerkleRoot(blk.TxHashes()), EvidenceRoot: chain.MerkleRoot(blk.EvidenceHashes()),
	}
	if h > 1 {
		parent := chain.Hash{byte(h - 1)}
		blk.LastCertificate = certFor(t, h-1, 0, parent, key)
		blk.Header.ParentHash = parent
		blk.Header.LastCertHash = blk.LastCertificate.Hash()
	}
	return blk
}

func certFor(t testing.TB, h uint64, r uint32, block chain.Hash, keys ...*ecdsa.PrivateKey) *chain.Certificate {
	t.Helper()
	var ps []chain.CommitSig
	for _, k := range keys {
		v := signedVote(t, k, chain.Precommit, h, r, block)
		ps = append(ps, chain.CommitSig{Validator: v.Validator, Signature: v.Signature})
	}
	return chain.NewCertificate(h, r, block, ps)
}

func proposalFor(t testing.TB, key *ecdsa.PrivateKey, blk *chain.Block, round uint32) *chain.Proposal {
	t.Helper()
	p := &chain.Proposal{Height: blk.Header.Height, Round: round, POLRound: chain.NoPOLRound, BlockHash: blk.Hash(), Proposer: chain.PubkeyAddress(&key.PublicKey)}
	sig, err := chain.Sign(key, p.SignHash(testChain))
	if err != nil {
		t.Fatal(err)
	}
	p.Signature = sig
	return p
}

// sampleMessages returns one message of every kind the Handler receives,
// built from deterministic keys (so encodings are stable).
func sampleMessages(t testing.TB) []Message { return sampleMessagesAt(t, 4) }

// sampleMessagesAt is sampleMessages about height h (>= 2): other heights
// give other messages.
func sampleMessagesAt(t testing.TB, h uint64) []Message {
	t.Helper()
	k1, k2 := testKey(t, 1), testKey(t, 2)
	v := signedVote(t, k1, chain.Prevote, h, 1, chain.Hash{9})
	ev := chain.NewEvidence(v, signedVote(t, k1, chain.Prevote, h, 1, chain.Hash{}))
	blk := makeBlock(t, k1, h, 3, []*chain.Evidence{ev})
	return []Message{
		&Status{Height: h + 8, BaseHeight: 1},
		&TxMessage{Tx: signedTx(t, k2, h+1)},
		&ProposalMessage{Proposal: proposalFor(t, k1, blk, 1), Block: blk},
		&VoteMessage{Vote: v},
		&EvidenceMessage{Evidence: ev},
		&BlockRequest{Height: h - 1},
		&BlockResponse{Block: blk, Certificate: certFor(t, h, 0, blk.Hash(), k1, k2)},
		&TxsMessage{Txs: []*chain.Tx{signedTx(t, k1, h+2), signedTx(t, k2, h+3)}},
		&RoundStatus{Height: h, Round: 3, Rounds: []RoundHas{
			{Round: 1, Proposal: true, Blocks: []BlockVotes{
				{Hash: chain.Hash{}, Prevotes: []byte{0x08}, Precommits: []byte{}},
				{Hash: chain.Hash{9}, Prevotes: []byte{0x0b}, Precommits: []byte{0x01}},
			}},
			{Round: 3, Blocks: []BlockVotes{{Hash: chain.Hash{}, Prevotes: []byte{0x00, 0x02}, Precommits: []byte{}}}},
		}},
		&VotesMessage{Votes: []*chain.Vote{v, signedVote(t, k2, chain.Precommit, h, 1, chain.Hash{})}},
	}
}

// controlMessages returns one message of every control kind.
func controlMessages(t testing.TB) []Message {
	t.Helper()
	k1 := testKey(t, 1)
	sig, err := chain.Sign(k1, sessionDigest(testChain, testGenesis, make([]byte, exporterBytes), NodeIDFromKey(k1)))
	if err != nil {
		t.Fatal(err)
	}
	return []Message{
		&Hello{ProtocolVersion: ProtocolVersion, ChainID: testChain, GenesisHash: testGenesis, NodeID: NodeIDFromKey(k1), ListenAddr: "127.0.0.1:26656"},
		&Auth{Signature: sig},
		&Disconnect{Reason: "chain id mismatch: we are a, you are b"},
	}
}
