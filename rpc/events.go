package rpc

import (
	"time"

	"github.com/quorumchain/quorumchain/chain"
)

// Topic names a subscription stream of chain_subscribe.
type Topic string

// Topics. Events of each topic are the types of the same name below.
const (
	TopicFinalized  Topic = "finalized"  // FinalizedEvent: a block became final
	TopicBlocks     Topic = "blocks"     // BlockEvent: a proposal was seen
	TopicVotes      Topic = "votes"      // VoteEvent: a vote was counted
	TopicTxs        Topic = "txs"        // TxEvent: a transaction changed status
	TopicValidators Topic = "validators" // ValidatorsEvent: the validator set changed
	TopicDuties     Topic = "duties"     // DutyEvent: a remote signer has a new sign request
)

// Topics lists every topic, in documentation order.
var Topics = []Topic{TopicFinalized, TopicBlocks, TopicVotes, TopicTxs, TopicValidators, TopicDuties}

func (t Topic) valid() bool {
	for _, k := range Topics {
		if t == k {
			return true
		}
	}
	return false
}

// replayable reports whether chain_subscribe accepts fromHeight for t.
func (t Topic) replayable() bool { return t == TopicFinalized || t == TopicTxs }

// Event is a value published to a Hub. It is implemented only by the event
// types of this package; each belongs to one Topic. Every event carries a
// height (a pending TxEvent has none), which is what lagged subscribers
// resume from.
type Event interface {
	Topic() Topic
	eventHeight() (uint64, bool)
}

// FinalizedEvent is the result of the finalized topic: the block at Height
// is final. FinalizedAt is when this node saw the certificate complete.
type FinalizedEvent struct {
	Height      uint64            `json:"height"`
	Hash        chain.Hash        `json:"hash"`
	ParentHash  chain.Hash        `json:"parentHash"`
	Time        time.Time         `json:"time"`
	Proposer    chain.Address     `json:"proposer"`
	Round       uint32            `json:"round"`
	TxCount     int               `json:"txCount"`
	StateHash   chain.Hash        `json:"stateHash"`
	Certificate CertificateResult `json:"certificate"`
	FinalizedAt time.Time         `json:"finalizedAt"`
}

// Topic implements Event.
func (FinalizedEvent) Topic() Topic                  { return TopicFinalized }
func (e FinalizedEvent) eventHeight() (uint64, bool) { return e.Height, true }

// BlockEvent is the result of the blocks topic: a proposal was seen.
type BlockEvent struct {
	Height   uint64        `json:"height"`
	Round    uint32        `json:"round"`
	Hash     chain.Hash    `json:"hash"`
	Proposer chain.Address `json:"proposer"`
	TxCount  int           `json:"txCount"`
}

// Topic implements Event.
func (BlockEvent) Topic() Topic                  { return TopicBlocks }
func (e BlockEvent) eventHeight() (uint64, bool) { return e.Height, true }

// TallyResult is the running stake tally of the block a vote is for.
type TallyResult struct {
	VotedStake Amount `json:"votedStake"`
	TotalStake Amount `json:"totalStake"`
	Quorum     bool   `json:"quorum"`
}

// VoteEvent is the result of the votes topic. Type is prevote or
// precommit; Block is null for a vote for nil; Stake is the voter's stake
// and Tally the running tally for Block at (Height, Round, Type).
type VoteEvent struct {
	Height    uint64        `json:"height"`
	Round     uint32        `json:"round"`
	Type      string        `json:"type"`
	Block     *chain.Hash   `json:"block"`
	Validator chain.Address `json:"validator"`
	Stake     Amount        `json:"stake"`
	Tally     TallyResult   `json:"tally"`
}

// Topic implements Event.
func (VoteEvent) Topic() Topic                  { return TopicVotes }
func (e VoteEvent) eventHeight() (uint64, bool) { return e.Height, true }

// TxEvent is the result of the txs topic, the same object as chain_getTx.
// Addresses lists the accounts the transaction touches (sender, and
// recipient or validator); it is not sent, only matched against an
// {address} filter.
type TxEvent struct {
	TxResult
	Addresses []chain.Address `json:"-"`
}

// Topic implements Event.
func (TxEvent) Topic() Topic { return TopicTxs }
func (e TxEvent) eventHeight() (uint64, bool) {
	if e.Height == nil {
		return 0, false
	}
	return *e.Height, true
}

// ValidatorsEvent is the result of the validators topic: the set that
// takes effect at Height.
type ValidatorsEvent struct {
	ValidatorsResult
}

// Topic implements Event.
func (ValidatorsEvent) Topic() Topic                  { return TopicValidators }
func (e ValidatorsEvent) eventHeight() (uint64, bool) { return e.Height, true }

// DutyEvent is the result of the duties topic: a new sign request for
// Validator.
type DutyEvent struct {
	DutyResult
}

// Topic implements Event.
func (DutyEvent) Topic() Topic                  { return TopicDuties }
func (e DutyEvent) eventHeight() (uint64, bool) { return e.Height, true }
