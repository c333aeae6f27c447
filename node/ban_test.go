package node

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	ct "github.com/quorumchain/quorumchain/consensus/consensustest"
	"github.com/quorumchain/quorumchain/p2p"
)

// silentHandler is a peer that ignores what it receives.
type silentHandler struct{ connected chan p2p.NodeID }

func (silentHandler) Receive(p2p.NodeID, p2p.Message) error { return nil }
func (h silentHandler) PeerConnected(p p2p.PeerInfo) {
	select {
	case h.connected <- p.ID:
	default:
	}
}
func (silentHandler) PeerDisconnected(p2p.NodeID) {}

// TestForgedVoteBansPeer: end to end through a real Switch, a peer that
// sends a vote whose signature does not verify is disconnected and banned
// by the node's network handler, and its redials are refused.
func TestForgedVoteBansPeer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n, _ := evidenceNetwork(t) // a store whose validators are ct.Key(0..3)
	n.ctx = ctx
	genesis := chain.Hash{1}
	victim, err := p2p.NewSwitch(p2p.Config{ChainID: testChainID, GenesisHash: genesis, NodeKey: key(t, 50), ListenAddr: "127.0.0.1:0"}, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	n.sw = victim
	done := make(chan error, 2)
	go func() { done <- victim.Run(ctx) }()
	<-victim.Listening()
	h := silentHandler{connected: make(chan p2p.NodeID, 1)}
	attacker, err := p2p.NewSwitch(p2p.Config{ChainID: testChainID, GenesisHash: genesis, NodeKey: key(t, 51),
		PersistentPeers: []string{victim.ListenAddr()}}, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() { done <- attacker.Run(ctx) }()
	defer func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	}()
	select {
	case <-h.connected:
	case <-time.After(10 * time.Second):
		t.Fatal("attacker not connected")
	}
	forged := *ct.SignVote(ct.Key(1), testChainID, chain.Prevote, 1, 1, chain.Hash{7})
	forged.BlockHash = chain.Hash{8} // the signature no longer matches
	if !attacker.Send(victim.ID(), &p2p.VoteMessage{Vote: &forged}) {
		t.Fatal("forged vote not queued")
	}
	deadline := time.After(10 * time.Second)
	for {
		if reason, _, ok := victim.Banned(attacker.ID()); ok {
			if !strings.Contains(reason, "vote") {
				t.Errorf("ban reason %q does not name the vote", reason)
			}
			break
		}
		select {
		case <-deadline:
			t.Fatal("forger not banned")
		case <-time.After(10 * time.Millisecond):
		}
	}
	// The attacker redials (a persistent peer) and is refused each time.
	for victim.Stats().BannedRefused == 0 {
		select {
		case <-deadline:
			t.Fatal("the forger's redial was not refused")
		case <-time.After(10 * time.Millisecond):
		}
	}
	if len(victim.Peers()) != 0 {
		t.Errorf("victim still connected to %v", victim.Peers())
	}
}
