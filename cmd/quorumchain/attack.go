package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/quorumchain/quorumchain/testnet"
)

func testnetAttackCommand() *cli.Command {
	var kinds strings.Builder
	for _, k := range testnet.AttackKinds() {
		fmt.Fprintf(&kinds, "  %-17s %s\n", k.Name, k.Does)
	}
	return &cli.Command{
		Name:  "attack",
		Usage: "run a hostile peer with no stake against a node of the testnet and watch the testnet stand up to it",
		Description: "Connects one hostile peer, built from quorumchain's own p2p code with a key it made itself, to\n" +
			"--target (default the first node) and runs the --kind of attack for --duration. Every second it\n" +
			"prints what it sent and each node's finalized height, consensus WAL bytes and RSS; at the end, how\n" +
			"far each node got, whether every node holds the same blocks, and whether any validator left the\n" +
			"set or lost stake. Kinds:\n\n" + kinds.String(),
		Flags: []cli.Flag{
			testnetDirFlag(),
			&cli.StringFlag{Name: "kind", Usage: "attack kind: " + strings.Join(testnet.AttackNames(), ", "), Required: true},
			&cli.StringFlag{Name: "target", Usage: "node to attack (default: the first node)"},
			&cli.DurationFlag{Name: "duration", Usage: "how long to attack", Value: testnet.DefaultAttackDuration},
			outputFlag(),
		},
		Action: func(c *cli.Context) error {
			if _, err := args(c, 0, 0, "no arguments"); err != nil {
				return err
			}
			asJSON, err := outputJSON(c)
			if err != nil {
				return err
			}
			if c.Duration("duration") <= 0 {
				return fmt.Errorf("--duration must be positive")
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			opts := testnet.AttackOptions{Dir: testnetDir(c), Kind: c.String("kind"), Target: c.String("target"), Duration: c.Duration("duration")}
			if !asJSON {
				opts.Log = c.App.Writer
			}
			rep, err := testnet.Attack(ctx, opts)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(c.App.Writer, rep)
			}
			rep.WriteText(c.App.Writer)
			return nil
		},
	}
}
