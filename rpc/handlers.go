package rpc

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/quorumchain/quorumchain/chain"
)

// handler serves one method. c is the websocket connection, nil over HTTP.
// A subscription it opens (sub) is activated once its response has been
// written: it starts sending only then.
type handler func(ctx context.Context, s *Server, c *wsConn, params json.RawMessage) (result any, sub *subscription, err error)

// methods is the method table; wsOnly methods need a websocket.
var methods = map[string]struct {
	serve  handler
	wsOnly bool
}{
	MethodStatus:        {serve: handleStatus},
	MethodGetBlock:      {serve: handleGetBlock},
	MethodGetValidators: {serve: handleGetValidators},
	MethodGetAccount:    {serve: handleGetAccount},
	MethodGetTx:         {serve: handleGetTx},
	MethodSubmitTx:      {serve: handleSubmitTx},
	MethodRoundState:    {serve: handleRoundState},
	MethodGetDuties:     {serve: handleGetDuties},
	MethodSubmitSigned:  {serve: handleSubmitSigned},
	MethodGetFaults:     {serve: handleGetFaults},
	MethodSubscribe:     {serve: handleSubscribe, wsOnly: true},
	MethodUnsubscribe:   {serve: handleUnsubscribe, wsOnly: true},
	MethodGetPeers:      {serve: handleGetPeers},
}

func handleStatus(ctx context.Context, s *Server, _ *wsConn, params json.RawMessage) (any, *subscription, error) {
	if err := noParams(params); err != nil {
		return nil, nil, err
	}
	st, err := s.backend.ChainStatus(ctx)
	return st, nil, err
}

func handleGetBlock(ctx context.Context, s *Server, _ *wsConn, params json.RawMessage) (any, *subscription, error) {
	var p BlockParams
	if err := decodeParams(params, &p); err != nil {
		return nil, nil, err
	}
	if p.Height != nil && p.Hash != nil {
		return nil, nil, invalidParams("give {height} or {hash}, not both")
	}
	ref := BlockRef{Hash: p.Hash}
	switch {
	case p.Height != nil:
		ref.Height = *p.Height
	case p.Hash == nil:
		ref.Height = s.backend.LatestHeight()
	}
	b, err := s.backend.Block(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	if b.Txs == nil {
		b.Txs = []BlockTxResult{}
	}
	if b.Certificate != nil && b.Certificate.Signers == nil {
		b.Certificate.Signers = []chain.Address{}
	}
	if p.FullTxs != nil && !*p.FullTxs {
		sum := BlockSummaryResult{Header: b.Header, Txs: make([]BlockTxSummary, len(b.Txs)), Certificate: b.Certificate}
		for i, tx := range b.Txs {
			sum.Txs[i] = BlockTxSummary{Hash: tx.Hash, Status: tx.Status, Code: tx.Code, Error: tx.Error}
		}
		return sum, nil, nil
	}
	return b, nil, nil
}

func handleGetValidators(ctx context.Context, s *Server, _ *wsConn, params json.RawMessage) (any, *subscription, error) {
	var p ValidatorsParams
	if err := decodeParams(params, &p); err != nil {
		return nil, nil, err
	}
	v, err := s.backend.Validators(ctx, p.Height)
	if err != nil {
		return nil, nil, err
	}
	if v.Validators == nil {
		v.Validators = []ValidatorResult{}
	}
	return v, nil, nil
}

func handleGetAccount(ctx context.Context, s *Server, _ *wsConn, params json.RawMessage) (any, *subscription, error) {
	var p AccountParams
	if err := decodeParams(params, &p); err != nil {
		return nil, nil, err
	}
	if p.Address == nil {
		return nil, nil, invalidParams("missing address")
	}
	a, err := s.backend.Account(ctx, *p.Address)
	if err != nil {
		return nil, nil, err
	}
	if a.Bonds == nil {
		a.Bonds = []BondResult{}
	}
	if a.Rewards == nil {
		a.Rewards = []BondResult{}
	}
	if a.Unbonding == nil {
		a.Unbonding = []UnbondingResult{}
	}
	return a, nil, nil
}

func handleGetTx(ctx context.Context, s *Server, _ *wsConn, params json.RawMessage) (any, *subscription, error) {
	var p TxParams
	if err := decodeParams(params, &p); err != nil {
		return nil, nil, err
	}
	if p.Hash == nil {
		return nil, nil, invalidParams("missing hash")
	}
	t, err := s.backend.Tx(ctx, *p.Hash)
	return t, nil, err
}

func handleSubmitTx(ctx context.Context, s *Server, _ *wsConn, params json.RawMessage) (any, *subscription, error) {
	var p SubmitTxParams
	if err := decodeParams(params, &p); err != nil {
		return nil, nil, err
	}
	if len(p.Tx) == 0 {
		return nil, nil, invalidParams("missing tx")
	}
	if len(p.Tx) > chain.MaxTxBytes {
		return nil, nil, &Error{Code: CodeInvalidTx, Message: fmt.Sprintf("invalid transaction: %d bytes exceeds %d", len(p.Tx), chain.MaxTxBytes)}
	}
	h, err := s.backend.SubmitTx(ctx, p.Tx)
	if err != nil {
		return nil, nil, err
	}
	return SubmitTxResult{Hash: h}, nil, nil
}

func handleRoundState(ctx context.Context, s *Server, _ *wsConn, params json.RawMessage) (any, *subscription, error) {
	if err := noParams(params); err != nil {
		return nil, nil, err
	}
	rs, err := s.backend.RoundState(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range []*VoteTallyResult{&rs.Votes.Prevote, &rs.Votes.Precommit} {
		if t.Blocks == nil {
			t.Blocks = []BlockStakeResult{}
		}
	}
	return rs, nil, nil
}

func handleGetDuties(ctx context.Context, s *Server, _ *wsConn, params json.RawMessage) (any, *subscription, error) {
	var p DutiesParams
	if err := decodeParams(params, &p); err != nil {
		return nil, nil, err
	}
	if p.Validator == nil {
		return nil, nil, invalidParams("missing validator")
	}
	d, err := s.backend.Duties(ctx, *p.Validator)
	if err != nil {
		return nil, nil, err
	}
	if d == nil {
		d = []DutyResult{}
	}
	return dutyList(d), nil, nil
}

func handleSubmitSigned(ctx context.Context, s *Server, _ *wsConn, params json.RawMessage) (any, *subscription, error) {
	var p SubmitSignedParams
	if err := decodeParams(params, &p); err != nil {
		return nil, nil, err
	}
	if p.Request == nil {
		return nil, nil, invalidParams("missing request")
	}
	if len(p.Signature) != chain.SignatureLength {
		return nil, nil, invalidParams("signature must be %d bytes, got %d", chain.SignatureLength, len(p.Signature))
	}
	var sig chain.Signature
	copy(sig[:], p.Signature)
	if err := s.backend.SubmitSigned(ctx, *p.Request, sig); err != nil {
		return nil, nil, err
	}
	return SubmitSignedResult{Accepted: true}, nil, nil
}

func handleSubscribe(_ context.Context, s *Server, c *wsConn, params json.RawMessage) (any, *subscription, error) {
	var p SubscribeParams
	if err := decodeParams(params, &p); err != nil {
		return nil, nil, err
	}
	if p.Topic == "" {
		return nil, nil, invalidParams("missing topic")
	}
	if !p.Topic.valid() {
		return nil, nil, errUnknownTopic(p.Topic)
	}
	if err := validateFilter(p.Topic, p.Filter); err != nil {
		return nil, nil, err
	}
	if p.FromHeight != nil && !p.Topic.replayable() {
		return nil, nil, invalidParams("fromHeight is for the finalized and txs topics")
	}
	sub, err := c.subscribe(p)
	if err != nil {
		return nil, nil, err
	}
	return sub.id, sub, nil
}

func handleUnsubscribe(_ context.Context, _ *Server, c *wsConn, params json.RawMessage) (any, *subscription, error) {
	var p UnsubscribeParams
	if err := decodeParams(params, &p); err != nil {
		return nil, nil, err
	}
	if !c.unsubscribe(p.ID) {
		return nil, nil, &Error{Code: CodeNotFound, Message: fmt.Sprintf("subscription %q not found", p.ID)}
	}
	return true, nil, nil
}

func handleGetPeers(ctx context.Context, s *Server, _ *wsConn, params json.RawMessage) (any, *subscription, error) {
	if err := noParams(params); err != nil {
		return nil, nil, err
	}
	peers, err := s.backend.Peers(ctx)
	if err != nil {
		return nil, nil, err
	}
	if peers == nil {
		peers = []PeerResult{}
	}
	return PeersResult{Peers: peers}, nil, nil
}

// noParams accepts absent, null, [] or {} params.
func noParams(params json.RawMessage) *Error {
	var none struct{}
	return decodeParams(params, &none)
}
