package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quorumchain/quorumchain/rpc"
)

// emulated counts what the emulated pages received.
type emulated struct {
	events, calls, errors atomic.Int64
}

// emulatePage does over one websocket what the dashboard page does
// (dashboard/ui/app.js), without a browser: it subscribes to finalized
// (from 20 heights back), votes, blocks and validators and reads every
// notification; it calls chain_status, chain_getValidators,
// consensus_getRoundState, net_getPeers and net_getFaults once a second
// and chain_getAccount of each validator every five seconds. It returns
// when ctx is done.
func emulatePage(ctx context.Context, wsURL string, st *emulated) error {
	c, err := rpc.Dial(ctx, wsURL)
	if err != nil {
		return err
	}
	defer c.Close()
	status, err := c.Status(ctx)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	from := uint64(1)
	if status.Height > 20 {
		from = status.Height - 19
	}
	for _, topic := range []rpc.Topic{rpc.TopicFinalized, rpc.TopicVotes, rpc.TopicBlocks, rpc.TopicValidators} {
		h := uint64(0)
		if topic == rpc.TopicFinalized {
			h = from
		}
		sub, err := c.Subscribe(ctx, topic, nil, h)
		if err != nil {
			return fmt.Errorf("subscribe %s: %w", topic, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case _, ok := <-sub.Results():
					if !ok {
						return
					}
					st.events.Add(1)
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for n := 0; ; n++ {
		call := func(method string, params any) json.RawMessage {
			var r json.RawMessage
			st.calls.Add(1)
			if err := c.Call(ctx, method, params, &r); err != nil {
				st.errors.Add(1)
			}
			return r
		}
		call(rpc.MethodStatus, nil)
		vals := call(rpc.MethodGetValidators, nil)
		call(rpc.MethodRoundState, nil)
		call(rpc.MethodGetPeers, nil)
		call("net_getFaults", nil) // -32601 until a fault layer answers, as for the page
		if n%5 == 0 {
			var set rpc.ValidatorsResult
			if json.Unmarshal(vals, &set) == nil {
				for _, v := range set.Validators {
					call(rpc.MethodGetAccount, rpc.AccountParams{Address: &v.Address})
				}
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil
		}
	}
}
