package p2p

import (
	"errors"
	"strings"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
)

func TestVoteBitmap(t *testing.T) {
	var b []byte
	for _, i := range []int{0, 3, 9, 1023} {
		b = SetVote(b, i)
	}
	if len(b) != 128 {
		t.Fatalf("bitmap of index 1023 is %d bytes, want 128", len(b))
	}
	for i := -1; i < 1100; i++ {
		want := i == 0 || i == 3 || i == 9 || i == 1023
		if got := HasVote(b, i); got != want {
			t.Fatalf("HasVote(%d) = %v, want %v", i, got, want)
		}
	}
}

// TestCatchupDecodeRejects: a RoundStatus or VotesMessage outside its
// bounds is invalid peer data with a reason, whatever the Switch would do
// with it.
func TestCatchupDecodeRejects(t *testing.T) {
	k := testKey(t, 1)
	v := signedVote(t, k, chain.Prevote, 2, 0, chain.Hash{1})
	tooMany := &RoundStatus{Height: 2}
	for r := range MaxStatusRounds + 1 {
		tooMany.Rounds = append(tooMany.Rounds, RoundHas{Round: uint32(r)})
	}
	votes := make([]*chain.Vote, MaxVotesPerMessage+1)
	for i := range votes {
		votes[i] = v
	}
	cases := []struct {
		name string
		m    Message
		want string
	}{
		{"height 0", &RoundStatus{Height: 0}, "height 0"},
		{"too many rounds", tooMany, "limit"},
		{"rounds out of order", &RoundStatus{Height: 2, Rounds: []RoundHas{{Round: 3}, {Round: 3}}}, "must increase"},
		{"bitmap too long", &RoundStatus{Height: 2, Rounds: []RoundHas{{Round: 0, Blocks: []BlockVotes{{Prevotes: make([]byte, MaxStatusBitmapBytes+1)}}}}}, "bitmap"},
		{"too many blocks", &RoundStatus{Height: 2, Rounds: []RoundHas{{Round: 0, Blocks: manyBlocks(MaxStatusBlocks + 1)}}}, "blocks, limit"},
		{"blocks out of order", &RoundStatus{Height: 2, Rounds: []RoundHas{{Round: 0, Blocks: []BlockVotes{{Hash: chain.Hash{2}}, {Hash: chain.Hash{1}}}}}}, "must increase"},
		{"empty votes", &VotesMessage{}, "empty vote batch"},
		{"too many votes", &VotesMessage{Votes: votes}, "more than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(Encode(c.m))
			if !errors.Is(err, ErrInvalidPeerData) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Decode: %v, want invalid peer data mentioning %q", err, c.want)
			}
		})
	}
	if _, err := Decode(Encode(&VotesMessage{Votes: votes[:MaxVotesPerMessage]})); err != nil {
		t.Fatalf("a batch of exactly %d votes: %v", MaxVotesPerMessage, err)
	}
}

func manyBlocks(n int) []BlockVotes {
	out := make([]BlockVotes, n)
	for i := range out {
		out[i].Hash = chain.Hash{byte(i + 1)}
	}
	return out
}
