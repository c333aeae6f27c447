package node

import (
	"errors"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	ct "github.com/quorumchain/quorumchain/consensus/consensustest"
	"github.com/quorumchain/quorumchain/p2p"
)

func signedVote(t *testing.T, n int64, block chain.Hash) *chain.Vote {
	t.Helper()
	k := key(t, n)
	v := &chain.Vote{Type: chain.Prevote, Height: 3, Round: 1, BlockHash: block, Validator: addr(k)}
	sig, err := chain.Sign(k, v.SignHash(testChainID))
	if err != nil {
		t.Fatal(err)
	}
	v.Signature = sig
	return v
}

func TestNetworkVerifiesVotesOnceAndDropsBadPeers(t *testing.T) {
	n, e := evidenceNetwork(t) // a store whose validators are ct.Key(0..3)
	sigs := n.sigs
	peer := p2p.NodeID{1}

	good := ct.SignVote(ct.Key(1), testChainID, chain.Prevote, 1, 1, chain.Hash{7})
	if err := n.Receive(peer, &p2p.VoteMessage{Vote: good}); err != nil {
		t.Fatalf("good vote: %v", err)
	}
	if m, ok := e.inbox.pop(); !ok {
		t.Fatal("good vote not delivered to the engine")
	} else if v, ok := m.in.(consensus.VoteReceived); !ok || v.Vote != good || m.peer != peer {
		t.Fatalf("delivered %+v", m)
	}
	// The Machine's verification of the same vote is a cache hit: the
	// cache answers even for a signature it could not recover again.
	if _, ok := sigs.m[sigKey{good.SignHash(testChainID), good.Signature}]; !ok {
		t.Fatal("verified vote not cached")
	}

	forged := *good
	forged.BlockHash = chain.Hash{8} // signature no longer matches
	err := n.Receive(peer, &p2p.VoteMessage{Vote: &forged})
	if !errors.Is(err, p2p.ErrInvalidPeerData) {
		t.Fatalf("forged vote: got %v, want ErrInvalidPeerData (disconnect)", err)
	}
	bad := *good
	bad.Signature[64] = 7
	if err := n.Receive(peer, &p2p.VoteMessage{Vote: &bad}); !errors.Is(err, p2p.ErrInvalidPeerData) {
		t.Fatalf("malformed signature: got %v", err)
	}
	if _, ok := e.inbox.pop(); ok {
		t.Fatal("invalid votes reached the engine")
	}
	if _, err := sigs.Recover(bad.SignHash(testChainID), &bad.Signature); err == nil {
		t.Fatal("a bad signature recovered through the cache")
	}
}

func TestSigCacheBounded(t *testing.T) {
	c := newSigCacheSize(4)
	var votes []*chain.Vote
	for i := range 10 {
		v := signedVote(t, 3, chain.Hash{byte(i + 1)})
		votes = append(votes, v)
		if a, err := c.Recover(v.SignHash(testChainID), &v.Signature); err != nil || a != v.Validator {
			t.Fatalf("vote %d: %v %v", i, a, err)
		}
	}
	if len(c.m) != 4 || len(c.ring) != 4 {
		t.Fatalf("cache holds %d entries (ring %d), want 4", len(c.m), len(c.ring))
	}
	for i, v := range votes {
		_, cached := c.m[sigKey{v.SignHash(testChainID), v.Signature}]
		if cached != (i >= 6) {
			t.Errorf("vote %d cached=%v, want only the last four", i, cached)
		}
	}
}

func TestAdmitClassifiesPeerFaults(t *testing.T) {
	a := key(t, 1)
	m := newTxPool(testChainID, MempoolConfig{Size: 10, MaxPerSender: 10}, accounts{addr(a): {Balance: 100}})
	n := &network{mempool: m}
	good := transfer(t, a, 0, 1)
	if fresh, err := n.admit(good); !fresh || err != nil {
		t.Fatalf("good tx: fresh %v, %v", fresh, err)
	}
	if fresh, err := n.admit(good); fresh || err != nil {
		t.Fatalf("known tx: fresh %v, %v (not the peer's fault)", fresh, err)
	}
	if fresh, err := n.admit(transfer(t, a, 0, 2)); fresh || err != nil {
		t.Fatalf("nonce taken: fresh %v, %v (not the peer's fault)", fresh, err)
	}
	wrong := transfer(t, a, 1, 1)
	wrong.ChainID = "other"
	if _, err := n.admit(wrong); !errors.Is(err, p2p.ErrInvalidPeerData) {
		t.Fatalf("wrong chain: %v, want ErrInvalidPeerData", err)
	}
	bad := transfer(t, a, 1, 1)
	bad.Sig[64] = 9
	if _, err := n.admit(bad); !errors.Is(err, p2p.ErrInvalidPeerData) {
		t.Fatalf("bad signature: %v, want ErrInvalidPeerData", err)
	}
}

// A validator's own votes and proposals reach its consensus Machine, which
// checks their signatures like anyone else's. The node remembers what its
// key signed, so that check recovers nothing: a lone validator, whose
// every consensus signature is its own, finalizes without a recovery.
func TestOwnSignaturesCostNoRecovery(t *testing.T) {
	home, key := newTestHome(t)
	tn := startNode(t, home, key)
	waitFinalized(t, dial(t, tn.rpcURL), 1, 3)
	if n := tn.node.net.sigs.recoveries.Load(); n != 0 {
		t.Fatalf("%d consensus signatures recovered; a lone validator's are all its own", n)
	}
	sigs := tn.node.net.sigs
	sigs.mu.Lock()
	remembered := len(sigs.m)
	sigs.mu.Unlock()
	if remembered < 3*3 {
		t.Fatalf("%d signatures remembered after 3 heights, want a proposal, a prevote and a precommit each", remembered)
	}
}
