package rpc

import (
	"context"
	"encoding/json"
	"time"
)

// Fault kinds in FaultResult.Kind.
const (
	FaultPartition = "partition"
	FaultDelay     = "delay"
	FaultDrop      = "drop"
	FaultByzantine = "byzantine"
)

// FaultsResult is the result of net_getFaults, and the body of every
// answer of a test network node's admin endpoint: the faults injected into
// this node, an empty list when there are none or when the node has no
// fault layer (p2p.testnet_faults off).
type FaultsResult struct {
	Faults []FaultResult `json:"faults"`
}

// FaultResult is one active fault. Peers is set for a partition only
// (the NodeIDs, "0x" + 40 hex, this node neither sends to nor accepts
// from); DelayMs and JitterMs for a delay only; Rate (the probability an
// outgoing message is dropped) for a drop only; Mode for byzantine only
// (equivocate, double-propose, nil-votes or silent).
type FaultResult struct {
	Kind     string    `json:"kind"`
	Since    time.Time `json:"since"` // RFC 3339, UTC
	Peers    []string  `json:"peers,omitempty"`
	DelayMs  *int64    `json:"delayMs,omitempty"`
	JitterMs *int64    `json:"jitterMs,omitempty"`
	Rate     *float64  `json:"rate,omitempty"`
	Mode     string    `json:"mode,omitempty"`
}

func handleGetFaults(ctx context.Context, s *Server, _ *wsConn, params json.RawMessage) (any, *subscription, error) {
	if err := noParams(params); err != nil {
		return nil, nil, err
	}
	f, err := s.backend.Faults(ctx)
	if err != nil {
		return nil, nil, err
	}
	if f.Faults == nil {
		f.Faults = []FaultResult{}
	}
	return f, nil, nil
}

// Faults calls net_getFaults.
func (c *Client) Faults(ctx context.Context) (*FaultsResult, error) {
	return callAs[FaultsResult](ctx, c, MethodGetFaults, nil)
}
