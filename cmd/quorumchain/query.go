package main

import (
	"context"
	"fmt"
	"io"
	"math/big"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/rpc"
)

func queryFlags(extra ...cli.Flag) []cli.Flag {
	return append(extra, rpcFlag(), outputFlag())
}

// runQuery connects to the node and runs q; the connection is closed
// afterwards.
func runQuery(c *cli.Context, q func(ctx context.Context, n *nodeClient) error) error {
	if _, err := outputJSON(c); err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	n, err := dialNode(ctx, c, false)
	if err != nil {
		return err
	}
	defer n.Close()
	return q(ctx, n)
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:        "status",
		Usage:       "print the node's chain id, latest final height and validator set summary",
		Description: "Calls chain_status. --output json prints its result object.",
		Flags:       queryFlags(),
		Action: func(c *cli.Context) error {
			if _, err := args(c, 0, 0, "no arguments"); err != nil {
				return err
			}
			return runQuery(c, func(ctx context.Context, n *nodeClient) error {
				var s rpc.StatusResult
				return n.query(ctx, c, rpc.MethodStatus, nil, &s, func(out io.Writer) error {
					w := newTable(out)
					fmt.Fprintf(w, "chain id\t%s\n", s.ChainID)
					fmt.Fprintf(w, "height\t%d\n", s.Height)
					fmt.Fprintf(w, "hash\t%s\n", chain.FormatHash(s.Hash))
					fmt.Fprintf(w, "time\t%s\n", s.Time.UTC().Format(time.RFC3339Nano))
					fmt.Fprintf(w, "validators hash\t%s\n", chain.FormatHash(s.ValidatorsHash))
					fmt.Fprintf(w, "total stake\t%s\n", s.TotalStake)
					fmt.Fprintf(w, "syncing\t%t\n", s.Syncing)
					fmt.Fprintf(w, "node id\t%s\n", s.NodeID)
					fmt.Fprintf(w, "peers\t%d\n", s.Peers)
					fmt.Fprintf(w, "min fee\t%s\n", s.MinFee)
					if sp := s.Supply; sp != nil {
						fmt.Fprintf(w, "supply\t%s (bonded %s, unbonding %s)\n", sp.Total, sp.Bonded, sp.Unbonding)
						fmt.Fprintf(w, "since genesis\tissued %s, fees %s, slashed %s, burned %s\n", sp.Issued, sp.Fees, sp.Slashed, sp.Burned)
					}
					return w.Flush()
				})
			})
		},
	}
}

func blockCommand() *cli.Command {
	return &cli.Command{
		Name:        "block",
		Usage:       "print a final block: header, transactions and finality certificate",
		ArgsUsage:   "[HEIGHT|latest]",
		Description: "Calls chain_getBlock for HEIGHT, or the latest final block (the default). --output json prints\nits result object, including the certificate's signatures.",
		Flags:       queryFlags(),
		Action: func(c *cli.Context) error {
			a, err := args(c, 0, 1, "[HEIGHT|latest]")
			if err != nil {
				return err
			}
			var p rpc.BlockParams
			if len(a) == 1 && a[0] != "latest" {
				h, err := parseHeight("block", a[0])
				if err != nil {
					return fmt.Errorf("%w or latest", err)
				}
				p.Height = &h
			}
			return runQuery(c, func(ctx context.Context, n *nodeClient) error {
				var b rpc.BlockResult
				return n.query(ctx, c, rpc.MethodGetBlock, p, &b, func(out io.Writer) error { return printBlock(out, &b) })
			})
		},
	}
}

func printBlock(out io.Writer, b *rpc.BlockResult) error {
	h := &b.Header
	w := newTable(out)
	fmt.Fprintf(w, "height\t%d\n", h.Height)
	fmt.Fprintf(w, "hash\t%s\n", chain.FormatHash(h.Hash))
	fmt.Fprintf(w, "parent\t%s\n", chain.FormatHash(h.ParentHash))
	fmt.Fprintf(w, "time\t%s\n", h.Time.UTC().Format(time.RFC3339Nano))
	fmt.Fprintf(w, "proposer\t%s\n", chain.FormatAddress(h.Proposer))
	fmt.Fprintf(w, "state hash\t%s\n", chain.FormatHash(h.StateHash))
	fmt.Fprintf(w, "validators hash\t%s\n", chain.FormatHash(h.ValidatorsHash))
	if c := b.Certificate; c != nil {
		fmt.Fprintf(w, "certificate\tround %d, %d signers, signed stake %s of %s (%s)\n",
			c.Round, len(c.Signers), c.SignedStake, c.TotalStake, share(uint64(c.SignedStake), uint64(c.TotalStake)))
	}
	fmt.Fprintf(w, "txs\t%d\n", len(b.Txs))
	if err := w.Flush(); err != nil {
		return err
	}
	if len(b.Txs) == 0 {
		return nil
	}
	fmt.Fprintln(out)
	w = newTable(out)
	fmt.Fprintln(w, "HASH\tKIND\tFROM\tTO\tAMOUNT\tNONCE\tSTATUS")
	for _, tx := range b.Txs {
		status := tx.Status
		if tx.Code != "" {
			status += " (" + tx.Code + ")"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", chain.FormatHash(tx.Hash), tx.Kind,
			chain.FormatAddress(tx.From), chain.FormatAddress(tx.To), tx.Amount, tx.Nonce, status)
	}
	return w.Flush()
}

func validatorsCommand() *cli.Command {
	return &cli.Command{
		Name:  "validators",
		Usage: "print a validator set: address, stake, share of the stake and proposer priority",
		Description: "Calls chain_getValidators. Without --height: the set that decides the next block. A change\n" +
			"caused by the transactions of block H takes effect at height H+2. --output json prints the\nresult object.",
		Flags: queryFlags(&cli.StringFlag{Name: "height", Usage: "the height whose set to print", DefaultText: "the next height"}),
		Action: func(c *cli.Context) error {
			if _, err := args(c, 0, 0, "no arguments"); err != nil {
				return err
			}
			var p rpc.ValidatorsParams
			if c.IsSet("height") {
				h, err := parseHeight("--height", c.String("height"))
				if err != nil {
					return err
				}
				p.Height = &h
			}
			return runQuery(c, func(ctx context.Context, n *nodeClient) error {
				var v rpc.ValidatorsResult
				return n.query(ctx, c, rpc.MethodGetValidators, p, &v, func(out io.Writer) error { return printValidators(out, &v) })
			})
		},
	}
}

func printValidators(out io.Writer, v *rpc.ValidatorsResult) error {
	w := newTable(out)
	fmt.Fprintln(w, "ADDRESS\tSTAKE\tSHARE\tPRIORITY\tCOMMISSION\tMISSED\tJAILED")
	for _, val := range v.Validators {
		commission, missed, jailed := val.Commission, "-", "-"
		if commission == "" {
			commission = "-"
		}
		if val.Missed != nil {
			missed = fmt.Sprint(*val.Missed)
		}
		if val.Jailed != nil {
			jailed = fmt.Sprint(*val.Jailed)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", chain.FormatAddress(val.Address), val.Stake, share(uint64(val.Stake), uint64(v.TotalStake)),
			val.ProposerPriority, commission, missed, jailed)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "\nheight %d: %d validators, total stake %s, quorum stake %s (more than two thirds)\n",
		v.Height, len(v.Validators), v.TotalStake, v.QuorumStake)
	return err
}

// share formats part/total as a percentage with two decimals, rounded
// down, in integer arithmetic.
func share(part, total uint64) string {
	if total == 0 {
		return "-"
	}
	bp := new(big.Int).Mul(new(big.Int).SetUint64(part), big.NewInt(10000))
	bp.Quo(bp, new(big.Int).SetUint64(total))
	q, r := new(big.Int).QuoRem(bp, big.NewInt(100), new(big.Int))
	return fmt.Sprintf("%s.%02d%%", q, r.Int64())
}

func accountCommand() *cli.Command {
	return &cli.Command{
		Name:        "account",
		Usage:       "print an account: balance, nonce, bonds and unbonding stake",
		ArgsUsage:   "ADDR",
		Description: "Calls chain_getAccount. An unknown address is an empty account. --output json prints the\nresult object.",
		Flags:       queryFlags(),
		Action: func(c *cli.Context) error {
			a, err := args(c, 1, 1, "ADDR")
			if err != nil {
				return err
			}
			addr, err := chain.ParseAddress(a[0])
			if err != nil {
				return err
			}
			return runQuery(c, func(ctx context.Context, n *nodeClient) error {
				var acct rpc.AccountResult
				return n.query(ctx, c, rpc.MethodGetAccount, rpc.AccountParams{Address: &addr}, &acct, func(out io.Writer) error {
					return printAccount(out, &acct)
				})
			})
		},
	}
}

func printAccount(out io.Writer, a *rpc.AccountResult) error {
	w := newTable(out)
	fmt.Fprintf(w, "address\t%s\n", chain.FormatAddress(a.Address))
	fmt.Fprintf(w, "balance\t%s\n", a.Balance)
	fmt.Fprintf(w, "nonce\t%d\n", a.Nonce)
	if err := w.Flush(); err != nil {
		return err
	}
	if len(a.Bonds) > 0 {
		fmt.Fprintln(out, "\nbonds:")
		w = newTable(out)
		fmt.Fprintln(w, "VALIDATOR\tAMOUNT")
		for _, b := range a.Bonds {
			fmt.Fprintf(w, "%s\t%s\n", chain.FormatAddress(b.Validator), b.Amount)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if len(a.Rewards) > 0 {
		fmt.Fprintln(out, "\npending rewards (claim with 'quorumchain claim'):")
		w = newTable(out)
		fmt.Fprintln(w, "VALIDATOR\tAMOUNT")
		for _, r := range a.Rewards {
			fmt.Fprintf(w, "%s\t%s\n", chain.FormatAddress(r.Validator), r.Amount)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if len(a.Unbonding) > 0 {
		fmt.Fprintln(out, "\nunbonding:")
		w = newTable(out)
		fmt.Fprintln(w, "AMOUNT\tRELEASE HEIGHT")
		for _, u := range a.Unbonding {
			fmt.Fprintf(w, "%s\t%d\n", u.Amount, u.ReleaseHeight)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func txQueryCommand() *cli.Command {
	return &cli.Command{
		Name:        "tx",
		Usage:       "print a transaction's status: pending, final or rejected (with its reason)",
		ArgsUsage:   "HASH",
		Description: "Calls chain_getTx. --output json prints the result object.",
		Flags:       queryFlags(),
		Action: func(c *cli.Context) error {
			a, err := args(c, 1, 1, "HASH")
			if err != nil {
				return err
			}
			hash, err := chain.ParseHash(a[0])
			if err != nil {
				return err
			}
			return runQuery(c, func(ctx context.Context, n *nodeClient) error {
				var r rpc.TxResult
				return n.query(ctx, c, rpc.MethodGetTx, rpc.TxParams{Hash: &hash}, &r, func(io.Writer) error {
					return printReceipt(c, false, &r)
				})
			})
		},
	}
}
