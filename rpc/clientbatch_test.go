package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/rpc"
)

// TestClientBatch: CallBatch and SubmitTxs send one JSON-RPC batch over
// either transport; each call gets its own result or error, and a batch
// the node refuses as a whole fails as a whole.
func TestClientBatch(t *testing.T) {
	e := start(t, rpc.Config{MaxBatchItems: 4})
	e.finalize(t, 2)
	for _, url := range []string{e.wsURL, e.httpURL} {
		t.Run(url[:4], func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			c := e.dial(t, url)
			raws := [][]byte{[]byte("tx a " + url), []byte("tx b " + url), []byte("tx c " + url)}
			hashes, errs, err := c.SubmitTxs(ctx, raws)
			if err != nil {
				t.Fatal(err)
			}
			for i, raw := range raws {
				if errs[i] != nil || hashes[i] != crypto.Keccak256Hash(raw) {
					t.Fatalf("tx %d: got %x, %v; want its hash", i, hashes[i], errs[i])
				}
			}

			var st rpc.StatusResult
			calls := []rpc.BatchCall{
				{Method: rpc.MethodStatus, Result: &st},
				{Method: "no_such_method"},
				{Method: rpc.MethodGetBlock, Params: rpc.BlockParams{Height: new(uint64)}},
			}
			*calls[2].Params.(rpc.BlockParams).Height = 999
			if err := c.CallBatch(ctx, calls); err != nil {
				t.Fatal(err)
			}
			if calls[0].Err != nil || st.Height != 2 {
				t.Fatalf("status: got %+v, %v; want height 2", st, calls[0].Err)
			}
			wantCode(t, calls[1].Err, rpc.CodeMethodNotFound)
			wantCode(t, calls[2].Err, rpc.CodeNotFound)

			// Five requests against max_batch_items 4: refused whole, and
			// the client does not wait for answers that never come.
			_, _, err = c.SubmitTxs(ctx, [][]byte{{1}, {2}, {3}, {4}, {5}})
			var re *rpc.Error
			if !errors.As(err, &re) || re.Code != rpc.CodeInvalidRequest {
				t.Fatalf("oversized batch: got %v, want the node's -32600", err)
			}
			if ctx.Err() != nil {
				t.Fatal("oversized batch: waited out the context")
			}
			// The connection still serves.
			if _, err := c.Status(ctx); err != nil {
				t.Fatal(fmt.Errorf("after a refused batch: %w", err))
			}
		})
	}
}
