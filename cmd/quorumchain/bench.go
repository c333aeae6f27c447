package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quorumchain/quorumchain/testnet"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "load a running testnet with signed transfers from its faucet; report finalized tx/s and submit→final latency",
		Description: "Funds --accounts load accounts from the faucet of the testnet in --testnet, pre-signs transfers\n" +
			"between them, submits them at --rate per second (0: as fast as the nodes accept) for --duration\n" +
			"over --conns connections spread over the nodes, follows the finalized blocks, and reports\n" +
			"finalized tx/s, submit→final latency percentiles, blocks, and each node's CPU and memory\n" +
			"(from /proc). Loopback only: it talks to the testnet's own RPC endpoints.",
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "duration", Usage: "how long to submit", Value: 30 * time.Second},
			&cli.IntFlag{Name: "rate", Usage: "offered transactions per second; 0 for open loop"},
			&cli.IntFlag{Name: "accounts", Usage: "load accounts funded from the faucet", Value: 1000},
			&cli.IntFlag{Name: "conns", Usage: "concurrent submitting connections", Value: 48},
			&cli.IntFlag{Name: "window", Usage: "open loop: never have more than this many submitted transactions not final yet (0: no bound)", Value: testnet.DefaultBenchWindow},
			&cli.IntFlag{Name: "batch", Usage: "transactions per submitted message: 1 sends each as its own request, more send JSON-RPC batches (at most the nodes' max_batch_items)", Value: 1},
			&cli.DurationFlag{Name: "drain", Usage: "how long to wait for the last transactions to be final", Value: 30 * time.Second},
			&cli.StringFlag{Name: "testnet", Usage: "testnet directory", DefaultText: "$QUORUMCHAIN_HOME/testnet, else ./" + testnetDefaultDir, TakesFile: true},
			&cli.StringFlag{Name: "cpuprofile", Usage: "write the load generator's own CPU profile (pprof) to this file", TakesFile: true},
			outputFlag(),
		},
		Action: func(c *cli.Context) error {
			asJSON, err := outputJSON(c)
			if err != nil {
				return err
			}
			if path := c.String("cpuprofile"); path != "" {
				f, err := os.Create(path)
				if err != nil {
					return fmt.Errorf("bench: cpu profile: %w", err)
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return fmt.Errorf("bench: cpu profile: %w", err)
				}
				defer pprof.StopCPUProfile()
			}
			if c.Duration("duration") <= 0 || c.Int("rate") < 0 || c.Int("accounts") <= 0 || c.Int("conns") <= 0 || c.Int("batch") <= 0 || c.Int("window") < 0 {
				return fmt.Errorf("--duration, --accounts, --conns and --batch must be positive and --rate and --window not negative (see 'quorumchain bench --help')")
			}
			dir := c.String("testnet")
			if dir == "" {
				dir = testnetDir(c)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			opts := testnet.BenchOptions{Dir: dir, Duration: c.Duration("duration"), Rate: c.Int("rate"), Accounts: c.Int("accounts"),
				Conns: c.Int("conns"), Batch: c.Int("batch"), Window: c.Int("window"), Drain: c.Duration("drain")}
			if !asJSON {
				opts.Log = c.App.ErrWriter
			}
			r, err := testnet.Bench(ctx, opts)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(c.App.Writer, r)
			}
			r.WriteText(c.App.Writer)
			return nil
		},
	}
}
