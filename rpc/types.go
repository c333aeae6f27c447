package rpc

import (
	"fmt"
	"strconv"
	"time"

	"github.com/quorumchain/quorumchain/chain"
)

// Amount is a token amount or a stake. In JSON it is a decimal string
// ("1000"), so that clients in languages with 53-bit numbers never round it.
type Amount uint64

// MarshalText writes a as decimal digits.
func (a Amount) MarshalText() ([]byte, error) { return strconv.AppendUint(nil, uint64(a), 10), nil }

// UnmarshalText parses decimal digits (no sign, no exponent).
func (a *Amount) UnmarshalText(b []byte) error {
	if len(b) == 0 || len(b) > 20 {
		return fmt.Errorf("amount %q: want 1 to 20 decimal digits", b)
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return fmt.Errorf("amount %q: want decimal digits", b)
		}
	}
	v, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("amount %q: %w", b, err)
	}
	*a = Amount(v)
	return nil
}

// String returns the decimal form of a.
func (a Amount) String() string { return strconv.FormatUint(uint64(a), 10) }

// Transaction statuses of TxResult.Status.
const (
	TxPending  = "pending"  // in the mempool
	TxFinal    = "final"    // executed in a final block
	TxRejected = "rejected" // in a final block, but changed nothing
)

// Hashes and addresses (chain.Hash, chain.Address) marshal as lowercase 0x
// hex. Times are RFC 3339 strings; the node passes them in UTC.

// StatusResult is the result of chain_status. Height is the latest final
// height and Hash its block hash.
type StatusResult struct {
	ChainID        string     `json:"chainId"`
	Height         uint64     `json:"height"`
	Hash           chain.Hash `json:"hash"`
	Time           time.Time  `json:"time"`
	ValidatorsHash chain.Hash `json:"validatorsHash"`
	TotalStake     Amount     `json:"totalStake"`
	// MinFee is the chain's min_fee: the least fee a transaction may carry.
	MinFee  Amount `json:"minFee"`
	Syncing bool   `json:"syncing"`
	NodeID  string `json:"nodeId"`
	Peers   int    `json:"peers"`
	// Supply is the ledger's accounting at Height; the conservation
	// equation total = genesis supply + issued - burned holds at every
	// height.
	Supply *SupplyResult `json:"supply,omitempty"`
}

// SupplyResult is the supply accounting of chain_status: every coin
// (total), those in bonds and in unbonding entries, and since genesis the
// amounts issued by block rewards, collected in fees (moved to the
// validators, not destroyed), slashed and burned (slashing is the only
// burn, so burned equals slashed).
type SupplyResult struct {
	Total     Amount `json:"total"`
	Bonded    Amount `json:"bonded"`
	Unbonding Amount `json:"unbonding"`
	Issued    Amount `json:"issued"`
	Fees      Amount `json:"fees"`
	Slashed   Amount `json:"slashed"`
	Burned    Amount `json:"burned"`
}

// HeaderResult is a block header. Hash is the block hash (the header's).
type HeaderResult struct {
	Hash               chain.Hash    `json:"hash"`
	ChainID            string        `json:"chainId"`
	Height             uint64        `json:"height"`
	Time               time.Time     `json:"time"`
	ParentHash         chain.Hash    `json:"parentHash"`
	Proposer           chain.Address `json:"proposer"`
	TxRoot             chain.Hash    `json:"txRoot"`
	EvidenceRoot       chain.Hash    `json:"evidenceRoot"`
	StateHash          chain.Hash    `json:"stateHash"`
	ValidatorsHash     chain.Hash    `json:"validatorsHash"`
	NextValidatorsHash chain.Hash    `json:"nextValidatorsHash"`
	LastCertHash       chain.Hash    `json:"lastCertHash"`
}

// BlockTxResult is one transaction of a block with its outcome.
type BlockTxResult struct {
	Hash   chain.Hash    `json:"hash"`
	Kind   string        `json:"kind"` // transfer, stake, unstake, unjail
	From   chain.Address `json:"from"`
	To     chain.Address `json:"to"`
	Amount Amount        `json:"amount"`
	Nonce  uint64        `json:"nonce"`
	Fee    Amount        `json:"fee"`
	Status string        `json:"status"`          // TxFinal or TxRejected
	Code   string        `json:"code,omitempty"`  // stable rejection reason, e.g. "bad_nonce"
	Error  string        `json:"error,omitempty"` // readable rejection reason
}

// BlockTxSummary is a transaction of a block by hash and outcome: the
// fields of BlockTxResult that say what became of it.
type BlockTxSummary struct {
	Hash   chain.Hash `json:"hash"`
	Status string     `json:"status"`          // TxFinal or TxRejected
	Code   string     `json:"code,omitempty"`  // stable rejection reason, e.g. "bad_nonce"
	Error  string     `json:"error,omitempty"` // readable rejection reason
}

// CertificateResult is a finality certificate. Signers are the validators
// whose precommits it carries, in order; SignedStake is their stake and
// TotalStake the stake of the block's validator set. chain_getBlock also
// fills Height, BlockHash and Signatures (aligned with Signers) so that a
// client holding the validator set can verify the certificate offline; the
// finalized topic leaves them out.
type CertificateResult struct {
	Height      uint64          `json:"height,omitempty"`
	Round       uint32          `json:"round"`
	BlockHash   *chain.Hash     `json:"blockHash,omitempty"`
	SignedStake Amount          `json:"signedStake"`
	TotalStake  Amount          `json:"totalStake"`
	Signers     []chain.Address `json:"signers"`
	Signatures  []HexBytes      `json:"signatures,omitempty"`
}

// BlockWith is a block as chain_getBlock answers it, with its
// transactions as T.
type BlockWith[T any] struct {
	Header      HeaderResult       `json:"header"`
	Txs         []T                `json:"txs"`
	Certificate *CertificateResult `json:"certificate"`
}

// BlockResult is the result of chain_getBlock: the block with all of each
// transaction.
type BlockResult = BlockWith[BlockTxResult]

// BlockSummaryResult is chain_getBlock's answer with fullTxs false: the
// block's transactions by hash and outcome only, in block order.
type BlockSummaryResult = BlockWith[BlockTxSummary]

// ValidatorResult is one member of a validator set.
type ValidatorResult struct {
	Address          chain.Address `json:"address"`
	Stake            Amount        `json:"stake"`
	ProposerPriority int64         `json:"proposerPriority"`
	// Commission is the validator's current commission rate, a decimal
	// fraction such as "0.05"; chain_getValidators sets it.
	Commission string `json:"commission,omitempty"`
	// Jailed and Missed are the validator's current jail state and how
	// many of its last downtime_window certificates lack its precommit;
	// chain_getValidators sets them (validators events leave them out).
	Jailed *bool   `json:"jailed,omitempty"`
	Missed *uint64 `json:"missed,omitempty"`
}

// ValidatorsResult is the result of chain_getValidators: the set of Height.
// QuorumStake is the least stake that forms a quorum, 2*TotalStake/3 + 1.
type ValidatorsResult struct {
	Height      uint64            `json:"height"`
	TotalStake  Amount            `json:"totalStake"`
	QuorumStake Amount            `json:"quorumStake"`
	Validators  []ValidatorResult `json:"validators"`
}

// BondResult is stake bonded by an account to a validator.
type BondResult struct {
	Validator chain.Address `json:"validator"`
	Amount    Amount        `json:"amount"`
}

// UnbondingResult is stake that returns to the balance at ReleaseHeight.
type UnbondingResult struct {
	Amount        Amount `json:"amount"`
	ReleaseHeight uint64 `json:"releaseHeight"`
}

// AccountResult is the result of chain_getAccount. An unknown address is an
// empty account (zero balance and nonce), not an error.
type AccountResult struct {
	Address   chain.Address     `json:"address"`
	Balance   Amount            `json:"balance"`
	Nonce     uint64            `json:"nonce"`
	Bonds     []BondResult      `json:"bonds"`
	Unbonding []UnbondingResult `json:"unbonding"`
	// Rewards are the pending staking rewards of each bond, claimable with
	// a claim transaction.
	Rewards []BondResult `json:"rewards"`
}

// TxResult is the result of chain_getTx and the body of a txs event.
// Height is set once the transaction is in a final block (status final or
// rejected); Code and Error say why it was rejected.
type TxResult struct {
	Hash   chain.Hash `json:"hash"`
	Status string     `json:"status"`
	Height *uint64    `json:"height,omitempty"`
	// Fee is what a transaction in a final block paid, accepted or
	// rejected; absent while pending or when evicted.
	Fee   *Amount `json:"fee,omitempty"`
	Code  string  `json:"code,omitempty"`
	Error string  `json:"error,omitempty"`
}

// SubmitTxResult is the result of chain_submitTx.
type SubmitTxResult struct {
	Hash chain.Hash `json:"hash"`
}

// BlockStakeResult is the stake that voted for one block; Block is null
// for votes for nil.
type BlockStakeResult struct {
	Block *chain.Hash `json:"block"`
	Stake Amount      `json:"stake"`
}

// VoteTallyResult is the tally of one vote type in the current round.
// QuorumBlock is the block (null: nil) that more than two thirds of
// TotalStake voted for, when Quorum is true.
type VoteTallyResult struct {
	VotedStake  Amount             `json:"votedStake"`
	TotalStake  Amount             `json:"totalStake"`
	Quorum      bool               `json:"quorum"`
	QuorumBlock *chain.Hash        `json:"quorumBlock"`
	Blocks      []BlockStakeResult `json:"blocks"`
}

// RoundVotesResult holds the tallies of a round.
type RoundVotesResult struct {
	Prevote   VoteTallyResult `json:"prevote"`
	Precommit VoteTallyResult `json:"precommit"`
}

// RoundStateResult is the result of consensus_getRoundState. Step is one
// of newheight, propose, prevote, precommit, commit. LockedRound and
// ValidRound are -1 when there is no locked or valid block.
type RoundStateResult struct {
	Height      uint64           `json:"height"`
	Round       uint32           `json:"round"`
	Step        string           `json:"step"`
	Proposer    chain.Address    `json:"proposer"`
	LockedRound int32            `json:"lockedRound"`
	LockedBlock *chain.Hash      `json:"lockedBlock"`
	ValidRound  int32            `json:"validRound"`
	ValidBlock  *chain.Hash      `json:"validBlock"`
	Votes       RoundVotesResult `json:"votes"`
}

// DutyResult is a pending sign request of a remote signer: sign SignHash
// with the validator's key and send the signature with
// consensus_submitSigned {request: ID, signature}. Kind is proposal,
// prevote or precommit; Block is null for a nil vote; POLRound is set for
// proposals. A signer checks Kind, Height, Round and Block against its own
// double-sign protection before signing.
type DutyResult struct {
	ID        uint64        `json:"id"`
	Validator chain.Address `json:"validator"`
	Kind      string        `json:"kind"`
	Height    uint64        `json:"height"`
	Round     uint32        `json:"round"`
	Block     *chain.Hash   `json:"block"`
	POLRound  *int32        `json:"polRound,omitempty"`
	SignHash  chain.Hash    `json:"signHash"`
}

// SubmitSignedResult is the result of consensus_submitSigned.
type SubmitSignedResult struct {
	Accepted bool `json:"accepted"`
}

// LaggedResult is the last result of a subscription the node ended:
// resubscribe with fromHeight ResumeFromHeight (finalized, txs) to go on
// without a gap. Reason says why: LaggedSlow (it read too slowly),
// LaggedReplayBudget (its replay scanned Config.MaxReplayHeights heights or
// MaxReplayTxEvents events) or LaggedReplayFailed.
type LaggedResult struct {
	Lagged           bool   `json:"lagged"`
	ResumeFromHeight uint64 `json:"resumeFromHeight"`
	Reason           string `json:"reason,omitempty"`
}

// Peer directions of PeerResult.Direction.
const (
	PeerInbound  = "inbound"  // the peer dialed this node
	PeerOutbound = "outbound" // this node dialed the peer
)

// PeerResult is one connected peer of net_getPeers. Address is the
// peer's remote host:port (the dialed address, or the inbound remote
// address); Height is the latest final height the peer last reported in
// a status, absent until it has sent one; Score is its misbehaviour score,
// zero in good standing and negative after penalties.
type PeerResult struct {
	NodeID    string  `json:"nodeId"`
	Address   string  `json:"address"`
	Direction string  `json:"direction"`
	Height    *uint64 `json:"height,omitempty"`
	Score     float64 `json:"score"`
}

// PeersResult is the result of net_getPeers: the connected peers, ordered
// by NodeID.
type PeersResult struct {
	Peers []PeerResult `json:"peers"`
}

// HealthResult is the body of GET /health.
type HealthResult struct {
	Status string `json:"status"` // "ok" or "unhealthy"
	Height uint64 `json:"height"`
	Error  string `json:"error,omitempty"`
}
