package rpc

import (
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/quorumchain/quorumchain/chain"
)

// HexBytes is a byte string written as 0x-prefixed hex in JSON.
type HexBytes = hexutil.Bytes

// Method names.
const (
	MethodStatus        = "chain_status"
	MethodGetBlock      = "chain_getBlock"
	MethodGetValidators = "chain_getValidators"
	MethodGetAccount    = "chain_getAccount"
	MethodGetTx         = "chain_getTx"
	MethodSubmitTx      = "chain_submitTx"
	MethodRoundState    = "consensus_getRoundState"
	MethodGetDuties     = "consensus_getDuties"
	MethodSubmitSigned  = "consensus_submitSigned"
	MethodSubscribe     = "chain_subscribe"
	MethodUnsubscribe   = "chain_unsubscribe"
	// MethodGetFaults lists the faults a test network injected into the
	// node (read-only; see FaultsResult).
	MethodGetFaults = "net_getFaults"
	MethodGetPeers  = "net_getPeers"
	// MethodSubscription is the method of every notification.
	MethodSubscription = "chain_subscription"
)

// Params of each method. The server accepts them as a JSON object, or as an
// array holding that one object, and rejects unknown fields (-32602), so a
// misspelt field is an error rather than silently ignored.

// BlockParams selects a block by Height or by Hash (not both). With
// neither, chain_getBlock returns the latest final block. FullTxs false
// (like the second argument of Ethereum's eth_getBlockByNumber) answers
// each transaction with only its hash and outcome (BlockSummaryResult);
// absent or true, with all of it (BlockResult).
type BlockParams struct {
	Height  *uint64     `json:"height,omitempty"`
	Hash    *chain.Hash `json:"hash,omitempty"`
	FullTxs *bool       `json:"fullTxs,omitempty"`
}

// ValidatorsParams selects the validator set of Height (default: the
// latest final height).
type ValidatorsParams struct {
	Height *uint64 `json:"height,omitempty"`
}

// AccountParams names an account.
type AccountParams struct {
	Address *chain.Address `json:"address"`
}

// TxParams names a transaction.
type TxParams struct {
	Hash *chain.Hash `json:"hash"`
}

// SubmitTxParams carries a signed transaction (chain.Tx.Encode()).
type SubmitTxParams struct {
	Tx HexBytes `json:"tx"`
}

// DutiesParams names a validator whose node uses a remote signer.
type DutiesParams struct {
	Validator *chain.Address `json:"validator"`
}

// SubmitSignedParams answers the sign request Request (DutyResult.ID) with
// a 65-byte signature [R || S || V].
type SubmitSignedParams struct {
	Request   *uint64  `json:"request"`
	Signature HexBytes `json:"signature"`
}

// Filter narrows a subscription: {hash} or {address} for txs,
// {validator} (required) for duties; other topics take no filter.
type Filter struct {
	Hash      *chain.Hash    `json:"hash,omitempty"`
	Address   *chain.Address `json:"address,omitempty"`
	Validator *chain.Address `json:"validator,omitempty"`
}

// SubscribeParams opens a subscription. FromHeight (finalized and txs
// only) first replays the stored events from that height.
type SubscribeParams struct {
	Topic      Topic   `json:"topic"`
	Filter     *Filter `json:"filter,omitempty"`
	FromHeight *uint64 `json:"fromHeight,omitempty"`
}

// UnsubscribeParams names a subscription of this connection.
type UnsubscribeParams struct {
	ID string `json:"id"`
}
