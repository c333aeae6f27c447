package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/testnet"
	"github.com/quorumchain/quorumchain/validator"
)

// faultTimeout bounds one fault command.
const faultTimeout = 15 * time.Second

const faultsDescription = "Faults are injected through each node's admin endpoint (recorded in testnet.json, on 127.0.0.1,\n" +
	"authenticated by D/admin-token). They live in the node's memory: a restarted node starts without them.\n" +
	"'quorumchain testnet status' lists the active faults of each node, as does the RPC method net_getFaults."

func testnetPartitionCommand() *cli.Command {
	return &cli.Command{
		Name:      "partition",
		Usage:     "split the testnet's peer links into groups: each node talks only within its group",
		ArgsUsage: "NODE,NODE... NODE,NODE...",
		Description: "Each argument is a group of comma-separated node names; every node then exchanges messages\n" +
			"only with the nodes of its own group. The nodes named in no group form one more group together\n" +
			"(so 'partition node0' isolates node0 from all the others). The links stay up, so 'heal' restores\n" +
			"them at once; a node that redials stays partitioned.\n\n" + faultsDescription,
		Flags: []cli.Flag{testnetDirFlag()},
		Action: func(c *cli.Context) error {
			a, err := args(c, 1, 64, "NODE,NODE... [NODE,NODE...]")
			if err != nil {
				return err
			}
			groups := make([][]string, len(a))
			for i, g := range a {
				for _, name := range strings.Split(g, ",") {
					if name = strings.TrimSpace(name); name == "" {
						return fmt.Errorf("partition group %q: empty node name", g)
					}
					groups[i] = append(groups[i], name)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), faultTimeout)
			defer cancel()
			if err := testnet.Partition(ctx, testnetDir(c), groups); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "partitioned: %s\n", strings.Join(a, " | "))
			return nil
		},
	}
}

func testnetHealCommand() *cli.Command {
	return &cli.Command{
		Name:        "heal",
		Usage:       "end a partition: every node talks to every other again",
		Description: faultsDescription,
		Flags:       []cli.Flag{testnetDirFlag()},
		Action: func(c *cli.Context) error {
			if _, err := args(c, 0, 0, "no arguments"); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), faultTimeout)
			defer cancel()
			if err := testnet.Heal(ctx, testnetDir(c)); err != nil {
				return err
			}
			fmt.Fprintln(c.App.Writer, "healed")
			return nil
		},
	}
}

// nodeFaultCommand is a command that sets one fault on one node through
// its admin endpoint.
func nodeFaultCommand(name, usage, argsUsage, desc string, set func(ctx context.Context, a *testnet.Admin, arg string) (*rpc.FaultsResult, error)) *cli.Command {
	return &cli.Command{
		Name:        name,
		Usage:       usage,
		ArgsUsage:   argsUsage,
		Description: desc + "\n\n" + faultsDescription,
		Flags:       []cli.Flag{testnetDirFlag()},
		Action: func(c *cli.Context) error {
			a, err := args(c, 2, 2, argsUsage)
			if err != nil {
				return err
			}
			admin, err := testnet.AdminOf(testnetDir(c), a[0])
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), faultTimeout)
			defer cancel()
			f, err := set(ctx, admin, a[1])
			if err != nil {
				return fmt.Errorf("%s: %w", a[0], err)
			}
			fmt.Fprintf(c.App.Writer, "%s: %s\n", a[0], faultsText(f.Faults))
			return nil
		},
	}
}

func testnetDelayCommand() *cli.Command {
	return nodeFaultCommand("delay", "delay every message NODE sends (0 or off: no delay)", "NODE DELAY[,JITTER]",
		"Each message NODE sends to a peer waits DELAY plus a random part of JITTER (e.g. 200ms,50ms);\n"+
			"one peer's messages keep their order. '0' or 'off' clears the delay.",
		func(ctx context.Context, a *testnet.Admin, arg string) (*rpc.FaultsResult, error) {
			d, j, err := testnet.ParseDelay(arg)
			if err != nil {
				return nil, err
			}
			return a.Delay(ctx, d, j)
		})
}

func testnetDropCommand() *cli.Command {
	return nodeFaultCommand("drop", "drop that fraction of the messages NODE sends (0: none)", "NODE RATE",
		"Each message NODE sends is dropped with probability RATE, from 0 to 1 (e.g. 0.2). 0 clears it.",
		func(ctx context.Context, a *testnet.Admin, arg string) (*rpc.FaultsResult, error) {
			r, err := testnet.ParseDropRate(arg)
			if err != nil {
				return nil, err
			}
			return a.Drop(ctx, r)
		})
}

func testnetByzantineCommand() *cli.Command {
	return nodeFaultCommand("byzantine", "make a testnet validator misbehave (test networks only)", "NODE "+strings.Join(validator.ByzantineModes()[1:], "|")+"|off",
		"equivocate: with each prevote and precommit, sign and send a conflicting one (slashed and jailed).\n"+
			"double-propose: follow each own proposal with a second one for another block (slashed and jailed).\n"+
			"nil-votes: prevote and precommit nil, always.\n"+
			"silent: sign and send nothing.\n"+
			"off: honest again; the signer never signs anything conflicting with what it signed honestly.\n"+
			"Needs a validator with a local signer.",
		func(ctx context.Context, a *testnet.Admin, arg string) (*rpc.FaultsResult, error) {
			m, err := validator.ParseByzantineMode(arg)
			if err != nil {
				return nil, err
			}
			return a.Byzantine(ctx, m)
		})
}

// faultsText is a one-line summary of faults ("none" without any).
func faultsText(faults []rpc.FaultResult) string {
	if len(faults) == 0 {
		return "no faults"
	}
	parts := make([]string, len(faults))
	for i, f := range faults {
		parts[i] = faultText(f)
	}
	return strings.Join(parts, "; ")
}

func faultText(f rpc.FaultResult) string {
	switch {
	case f.Kind == rpc.FaultPartition:
		short := make([]string, len(f.Peers))
		for i, p := range f.Peers {
			short[i] = p[:min(len(p), 10)]
		}
		return "partitioned from " + strings.Join(short, ",")
	case f.Kind == rpc.FaultDelay && f.DelayMs != nil && f.JitterMs != nil:
		s := "delay " + strconv.FormatInt(*f.DelayMs, 10) + "ms"
		if *f.JitterMs > 0 {
			s += " ±" + strconv.FormatInt(*f.JitterMs, 10) + "ms"
		}
		return s
	case f.Kind == rpc.FaultDrop && f.Rate != nil:
		return "drop " + strconv.FormatFloat(*f.Rate, 'g', -1, 64)
	case f.Kind == rpc.FaultByzantine:
		return "byzantine " + f.Mode
	}
	return f.Kind
}

// writeStatusFaults prints, under the node table, the faults of each node
// that has any.
func writeStatusFaults(w io.Writer, st []testnet.NodeStatus) {
	for _, s := range st {
		if len(s.Faults) > 0 {
			fmt.Fprintf(w, "%s: %s\n", s.Name, faultsText(s.Faults))
		}
	}
}
