package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/genesis"
)

func genesisCommand() *cli.Command {
	return &cli.Command{
		Name:  "genesis",
		Usage: "build and check a genesis file",
		Subcommands: []*cli.Command{
			genesisNewCommand(),
			genesisAddValidatorCommand(),
			genesisAddAccountCommand(),
			genesisValidateCommand(),
		},
	}
}

func genesisFileFlag() cli.Flag {
	return &cli.StringFlag{Name: "genesis", Usage: "genesis file", DefaultText: "HOME/config/genesis.json", TakesFile: true}
}

// genesisPath is the value of flag name or else defaultGenesisPath.
func genesisPath(c *cli.Context, name string) (string, error) {
	if p := c.String(name); p != "" {
		return p, nil
	}
	return defaultGenesisPath(c)
}

// defaultGenesisPath is HOME/config/genesis.json.
func defaultGenesisPath(c *cli.Context) (string, error) {
	home, err := homeDir(c)
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "config", "genesis.json"), nil
}

func genesisNewCommand() *cli.Command {
	return &cli.Command{
		Name:  "new",
		Usage: "write a genesis file with default params and no validators yet",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "chain-id", Usage: "chain id, [a-z0-9-_.]"},
			&cli.StringFlag{Name: "out", Usage: "file to write", DefaultText: "HOME/config/genesis.json", TakesFile: true},
			&cli.StringFlag{Name: "time", Usage: "genesis time, RFC 3339 in UTC", DefaultText: "now"},
			&cli.BoolFlag{Name: "force", Usage: "overwrite an existing file"},
		},
		Action: func(c *cli.Context) error {
			if _, err := args(c, 0, 0, "no arguments"); err != nil {
				return err
			}
			chainID, err := requiredString(c, "chain-id")
			if err != nil {
				return err
			}
			t := time.Now().UTC().Truncate(time.Second)
			if c.IsSet("time") {
				if t, err = genesis.ParseTime(c.String("time")); err != nil {
					return fmt.Errorf("--time: %w", err)
				}
			}
			path, err := genesisPath(c, "out")
			if err != nil {
				return err
			}
			if !c.Bool("force") {
				if _, err := os.Lstat(path); err == nil {
					return fmt.Errorf("%s already exists (--force overwrites it)", path)
				} else if !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
			doc := genesis.New(chainID, t)
			if err := doc.ValidateDraft(); err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			if err := doc.Save(path); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "wrote %s (chain id %s, genesis time %s)\n", path, chainID, genesis.FormatTime(t))
			return nil
		},
	}
}

func genesisAddValidatorCommand() *cli.Command {
	return &cli.Command{
		Name:  "add-validator",
		Usage: "add a validator with its self-bonded stake to a genesis file",
		Flags: []cli.Flag{
			genesisFileFlag(),
			&cli.StringFlag{Name: "address", Usage: "validator address, 0x + 40 hex digits"},
			&cli.StringFlag{Name: "stake", Usage: "stake, a decimal amount"},
			&cli.StringFlag{Name: "name", Usage: "optional label, e.g. node0"},
		},
		Action: func(c *cli.Context) error {
			if _, err := args(c, 0, 0, "no arguments"); err != nil {
				return err
			}
			addr, err := addressFlag(c, "address")
			if err != nil {
				return err
			}
			stake, err := amountFlag(c, "stake")
			if err != nil {
				return err
			}
			return editGenesis(c, func(d *genesis.Doc) (string, error) {
				if err := d.AddValidator(addr, stake, c.String("name")); err != nil {
					return "", err
				}
				return fmt.Sprintf("added validator %s with stake %d", chain.FormatAddress(addr), stake), nil
			})
		},
	}
}

func genesisAddAccountCommand() *cli.Command {
	return &cli.Command{
		Name:  "add-account",
		Usage: "add an account with a balance to a genesis file",
		Flags: []cli.Flag{
			genesisFileFlag(),
			&cli.StringFlag{Name: "address", Usage: "account address, 0x + 40 hex digits"},
			&cli.StringFlag{Name: "balance", Usage: "balance, a decimal amount"},
		},
		Action: func(c *cli.Context) error {
			if _, err := args(c, 0, 0, "no arguments"); err != nil {
				return err
			}
			addr, err := addressFlag(c, "address")
			if err != nil {
				return err
			}
			balance, err := amountFlag(c, "balance")
			if err != nil {
				return err
			}
			return editGenesis(c, func(d *genesis.Doc) (string, error) {
				if err := d.AddAccount(addr, balance); err != nil {
					return "", err
				}
				return fmt.Sprintf("added account %s with balance %d", chain.FormatAddress(addr), balance), nil
			})
		},
	}
}

// editGenesis loads the --genesis draft, applies edit and saves it.
func editGenesis(c *cli.Context, edit func(*genesis.Doc) (string, error)) error {
	path, err := genesisPath(c, "genesis")
	if err != nil {
		return err
	}
	doc, err := genesis.LoadDraft(path)
	if err != nil {
		return err
	}
	msg, err := edit(doc)
	if err != nil {
		return err
	}
	if err := doc.Save(path); err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.App.Writer, "%s to %s\n", msg, path)
	return err
}

type genesisSummary struct {
	ChainID     string `json:"chainId"`
	GenesisTime string `json:"genesisTime"`
	Hash        string `json:"hash"`
	Validators  int    `json:"validators"`
	Accounts    int    `json:"accounts"`
	TotalStake  string `json:"totalStake"`
	TotalSupply string `json:"totalSupply"`
}

func genesisValidateCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check a genesis file and print its chain id, hash, validator count and total stake",
		ArgsUsage: "[FILE]",
		Flags:     []cli.Flag{outputFlag()},
		Action: func(c *cli.Context) error {
			a, err := args(c, 0, 1, "[FILE]")
			if err != nil {
				return err
			}
			asJSON, err := outputJSON(c)
			if err != nil {
				return err
			}
			var path string
			if len(a) == 1 {
				path = a[0]
			} else if path, err = defaultGenesisPath(c); err != nil {
				return err
			}
			doc, err := genesis.Load(path)
			if err != nil {
				return err
			}
			s := genesisSummary{
				ChainID:     doc.ChainID,
				GenesisTime: genesis.FormatTime(doc.GenesisTime),
				Hash:        chain.FormatHash(doc.Hash()),
				Validators:  len(doc.Validators),
				Accounts:    len(doc.Accounts),
				TotalStake:  genesis.FormatAmount(doc.TotalStake()),
				TotalSupply: genesis.FormatAmount(doc.TotalSupply()),
			}
			if asJSON {
				return writeJSON(c.App.Writer, s)
			}
			_, err = fmt.Fprintf(c.App.Writer,
				"chain id:     %s\ngenesis time: %s\ngenesis hash: %s\nvalidators:   %d\naccounts:     %d\ntotal stake:  %s\ntotal supply: %s\n",
				s.ChainID, s.GenesisTime, s.Hash, s.Validators, s.Accounts, s.TotalStake, s.TotalSupply)
			return err
		},
	}
}
