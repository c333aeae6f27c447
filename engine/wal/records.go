package wal

import (
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/rlp"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
)

// Record kinds. Their values are the log's format: never renumber.
const (
	kindProposal uint8 = 1 + iota
	kindVote
	kindTimeout
	kindBlockChecked
	kindBlockBuilt
	kindOwnVote
	kindOwnProposal
	kindSignRefused
	kindTxsAvailable
	kindCommit
	kindNewHeight
)

// A TxsAvailable record's body is an empty string, or the single byte 1
// when it reports a full batch (records written before batches existed
// are all empty).

type record struct {
	Height uint64
	Kind   uint8
	Body   []byte
}

type proposalBody struct {
	Proposal *chain.Proposal
	Block    *chain.Block
}

type timeoutBody struct {
	Height uint64
	Round  uint32
	Step   uint8
}

type checkedBody struct {
	Height uint64
	Hash   chain.Hash
	Valid  bool
	Reason string
	// Untimely is optional so that records written before it existed
	// decode unchanged (and a false one encodes as they did).
	Untimely bool `rlp:"optional"`
}

type builtBody struct {
	Height uint64
	Round  uint32
	Block  *chain.Block
}

type refusedBody struct {
	Height uint64
	Round  uint32
	Step   uint8
	Reason string
}

// newHeightBody is what a restart cannot re-derive of a NewHeight: the
// clock reading it carried and whether transactions were waiting (the
// validator set and the last block time come from the store).
type newHeightBody struct {
	Height       uint64
	NowNanos     uint64
	TxsAvailable bool
	// TxsBatch is optional so that records written before it existed
	// decode unchanged.
	TxsBatch bool `rlp:"optional"`
}

type commitBody struct {
	Block       *chain.Block
	Certificate *chain.Certificate
}

// encodeInput turns a consensus input into a record body; ok is false for
// inputs that are not logged.
func encodeInput(in consensus.Input) (kind uint8, body any, ok bool) {
	switch in := in.(type) {
	case consensus.NewHeight:
		return kindNewHeight, &newHeightBody{in.Height, uint64(in.Now.UnixNano()), in.TxsAvailable, in.TxsBatch}, true
	case consensus.ProposalReceived:
		return kindProposal, &proposalBody{in.Proposal, in.Block}, true
	case consensus.VoteReceived:
		return kindVote, in.Vote, true
	case consensus.TimeoutFired:
		return kindTimeout, &timeoutBody{in.Height, in.Round, uint8(in.Step)}, true
	case consensus.BlockChecked:
		return kindBlockChecked, &checkedBody{in.Height, in.Hash, in.Valid, in.Reason, in.Untimely}, true
	case consensus.BlockBuilt:
		return kindBlockBuilt, &builtBody{in.Height, in.Round, in.Block}, true
	case consensus.OwnVote:
		return kindOwnVote, in.Vote, true
	case consensus.OwnProposal:
		return kindOwnProposal, &proposalBody{in.Proposal, in.Block}, true
	case consensus.SignRefused:
		return kindSignRefused, &refusedBody{in.Height, in.Round, uint8(in.Step), in.Reason}, true
	case consensus.TxsAvailable:
		if in.Batch {
			return kindTxsAvailable, []byte{1}, true
		}
		return kindTxsAvailable, []byte{}, true
	case consensus.CommitReceived:
		return kindCommit, &commitBody{in.Block, in.Certificate}, true
	}
	return 0, nil, false
}

func decodeInput(kind uint8, body []byte) (consensus.Input, error) {
	switch kind {
	case kindProposal, kindOwnProposal:
		var b proposalBody
		if err := rlp.DecodeBytes(body, &b); err != nil {
			return nil, err
		}
		if kind == kindOwnProposal {
			return consensus.OwnProposal{Proposal: b.Proposal, Block: b.Block}, nil
		}
		return consensus.ProposalReceived{Proposal: b.Proposal, Block: b.Block}, nil
	case kindVote, kindOwnVote:
		v := new(chain.Vote)
		if err := rlp.DecodeBytes(body, v); err != nil {
			return nil, err
		}
		if kind == kindOwnVote {
			return consensus.OwnVote{Vote: v}, nil
		}
		return consensus.VoteReceived{Vote: v}, nil
	case kindTimeout:
		var b timeoutBody
		if err := rlp.DecodeBytes(body, &b); err != nil {
			return nil, err
		}
		return consensus.TimeoutFired{Height: b.Height, Round: b.Round, Step: consensus.RoundStep(b.Step)}, nil
	case kindBlockChecked:
		var b checkedBody
		if err := rlp.DecodeBytes(body, &b); err != nil {
			return nil, err
		}
		return consensus.BlockChecked{Height: b.Height, Hash: b.Hash, Valid: b.Valid, Reason: b.Reason, Untimely: b.Untimely}, nil
	case kindBlockBuilt:
		var b builtBody
		if err := rlp.DecodeBytes(body, &b); err != nil {
			return nil, err
		}
		return consensus.BlockBuilt{Height: b.Height, Round: b.Round, Block: b.Block}, nil
	case kindSignRefused:
		var b refusedBody
		if err := rlp.DecodeBytes(body, &b); err != nil {
			return nil, err
		}
		return consensus.SignRefused{Height: b.Height, Round: b.Round, Step: consensus.RoundStep(b.Step), Reason: b.Reason}, nil
	case kindTxsAvailable:
		var b []byte
		if err := rlp.DecodeBytes(body, &b); err != nil {
			return nil, err
		}
		switch {
		case len(b) == 0:
			return consensus.TxsAvailable{}, nil
		case len(b) == 1 && b[0] == 1:
			return consensus.TxsAvailable{Batch: true}, nil
		}
		return nil, fmt.Errorf("txs-available record: body %x", b)
	case kindNewHeight:
		var b newHeightBody
		if err := rlp.DecodeBytes(body, &b); err != nil {
			return nil, err
		}
		return consensus.NewHeight{Height: b.Height, Now: time.Unix(0, int64(b.NowNanos)).UTC(), TxsAvailable: b.TxsAvailable, TxsBatch: b.TxsBatch}, nil
	case kindCommit:
		var b commitBody
		if err := rlp.DecodeBytes(body, &b); err != nil {
			return nil, err
		}
		return consensus.CommitReceived{Block: b.Block, Certificate: b.Certificate}, nil
	}
	return nil, fmt.Errorf("unknown record kind %d", kind)
}
