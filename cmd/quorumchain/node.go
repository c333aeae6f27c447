package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/genesis"
	"github.com/quorumchain/quorumchain/node"
)

func initCommand() *cli.Command {
	return &cli.Command{
		Name:  "init",
		Usage: "create a node home with node and validator keys and a single-validator genesis",
		Description: "Writes config/config.toml, config/genesis.json (this node is the only validator, with a funded\n" +
			"account), config/node_key.json and keys/validator.json (encrypted with --password-file or\n" +
			"$" + envPassword + "). Then run it with 'quorumchain node --home H'.",
		Flags: []cli.Flag{
			homeFlag(),
			&cli.StringFlag{Name: "chain-id", Usage: "chain id of the new genesis", Value: "quorum-local"},
			passwordFileFlag(),
			&cli.BoolFlag{Name: "light-kdf", Usage: "light scrypt parameters for the validator key (local testing only)"},
			outputFlag(),
		},
		Action: func(c *cli.Context) error {
			home, err := homeDir(c)
			if err != nil {
				return err
			}
			if err := genesis.ValidateChainID(c.String("chain-id")); err != nil {
				return fmt.Errorf("--chain-id: %w", err)
			}
			password, err := readNewPassword(c)
			if err != nil {
				return err
			}
			addr, err := node.Init(node.Home(home), node.InitOptions{ChainID: c.String("chain-id"), Password: password, LightKDF: c.Bool("light-kdf")})
			if err != nil {
				return err
			}
			asJSON, err := outputJSON(c)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(c.App.Writer, map[string]string{"home": home, "chainId": c.String("chain-id"), "validator": chain.FormatAddress(addr)})
			}
			fmt.Fprintf(c.App.Writer, "initialised %s\nchain id  %s\nvalidator %s\n", home, c.String("chain-id"), chain.FormatAddress(addr))
			return nil
		},
	}
}

func nodeCommand() *cli.Command {
	return &cli.Command{
		Name:  "node",
		Usage: "run a node (a validator if its home has a validator key); stops cleanly on SIGINT/SIGTERM",
		Flags: []cli.Flag{homeFlag(), passwordFileFlag()},
		Action: func(c *cli.Context) error {
			home, err := homeDir(c)
			if err != nil {
				return err
			}
			var opts node.Options
			if f := c.String("password-file"); f != "" {
				if opts.Password, err = readPassword(c); err != nil {
					return err
				}
			}
			n, err := node.New(node.Home(home), nil, opts)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return n.Run(ctx)
		},
	}
}
