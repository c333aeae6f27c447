package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quorumchain/quorumchain/testnet"
)

// testnetDefaultDir is the testnet directory without --dir and without
// $QUORUMCHAIN_HOME (or --home): relative to the working directory, so that
// `make testnet` keeps its testnet next to the checkout.
const testnetDefaultDir = "testnet-data"

func testnetCommand() *cli.Command {
	return &cli.Command{
		Name:  "testnet",
		Usage: "run a local testnet of validators on 127.0.0.1, and inspect and perturb it",
		Description: "The testnet lives in --dir: D/testnet.json (chain id, faucet, nodes with their RPC URLs and PIDs),\n" +
			"D/password.txt, D/faucet.json, D/admin-token (the nodes' admin endpoints' token), remote signers'\n" +
			"keys D/nodeI-signer.json, and one node home per\n" +
			"node, D/nodeI, with its log in D/nodeI/node.log.\n\n" +
			"--dir defaults to $QUORUMCHAIN_HOME/testnet when QUORUMCHAIN_HOME (or the global --home) is set,\n" +
			"else to ./" + testnetDefaultDir + ".",
		Subcommands: []*cli.Command{
			withNetns(testnetStartCommand()),
			testnetStatusCommand(),
			testnetStopCommand(),
			testnetKillCommand(),
			testnetRestartCommand(),
			testnetAttackCommand(),
			testnetPartitionCommand(),
			testnetHealCommand(),
			testnetDelayCommand(),
			testnetDropCommand(),
			testnetByzantineCommand(),
			testnetGenerateCommand(),
			testnetComposeCommand(),
			testnetLinkCommand(true),
			testnetLinkCommand(false),
			testnetDashboardCommand(),
		},
	}
}

func testnetDirFlag() cli.Flag {
	return &cli.StringFlag{
		Name:        "dir",
		Usage:       "testnet directory",
		DefaultText: "$QUORUMCHAIN_HOME/testnet, else ./" + testnetDefaultDir,
		TakesFile:   true,
	}
}

// testnetDir is --dir, HOME/testnet when --home or $QUORUMCHAIN_HOME is
// set, else ./testnet-data.
func testnetDir(c *cli.Context) string {
	if d := c.String("dir"); d != "" {
		return d
	}
	if h := c.String("home"); h != "" {
		return filepath.Join(h, "testnet")
	}
	return testnetDefaultDir
}

func testnetStartCommand() *cli.Command {
	return &cli.Command{
		Name:  "start",
		Usage: "generate (or resume) and start a local testnet; print each finalized block until Ctrl-C",
		Description: "Without D/testnet.json: generates keys, a genesis with a funded faucet and the given stakes,\n" +
			"configs and ports for -n validators on 127.0.0.1. With one: resumes the same chain (same homes,\n" +
			"same ports; -n, --stakes, --base-port, --remote-signers and --double-proposer are then ignored).\n\n" +
			"Starts each node as a child process, waits until the first block is final (or, when remote\n" +
			"signers' stake is needed for a quorum, until the nodes are connected and wait for\n" +
			"'quorumchain vote'), prints the node table, then one line per finalized block. Ctrl-C\n" +
			"(SIGINT or SIGTERM) stops every node cleanly. With --detach it returns once the testnet is\n" +
			"live; stop it with 'quorumchain testnet stop'.\n\n" +
			"Node i listens on --base-port+2i (p2p) and --base-port+2i+1 (RPC), so with the default\n" +
			"26656 node0's RPC is the client commands' default ws://127.0.0.1:26657/ws. When those ports\n" +
			"are taken and --base-port is not given, free ports are picked; --base-port 0 always picks\n" +
			"free ports.",
		Flags: []cli.Flag{
			testnetDirFlag(),
			&cli.IntFlag{Name: "validators", Aliases: []string{"n"}, Usage: "number of validators", Value: 4},
			&cli.StringFlag{Name: "stakes", Usage: "comma-separated stake of each validator, e.g. 40,30,20,10", DefaultText: strconv.Itoa(testnet.DefaultStake) + " each"},
			&cli.IntFlag{Name: "base-port", Usage: "first port (0: free ports)", Value: testnet.DefaultBasePort},
			&cli.IntFlag{Name: "remote-signers", Usage: "make the last K validators sign remotely with 'quorumchain vote'"},
			&cli.IntSliceFlag{Name: "double-proposer", Usage: "make validator I a Byzantine double proposer, to see it slashed (test networks only; repeatable)"},
			&cli.BoolFlag{Name: "detach", Usage: "return once the testnet is live, leaving the nodes running"},
			&cli.DurationFlag{Name: "timeout", Usage: "give up if the testnet is not live within this time", Value: testnet.DefaultReadyTimeout},
		},
		Action: func(c *cli.Context) error {
			if _, err := args(c, 0, 0, "no arguments"); err != nil {
				return err
			}
			opts, err := testnetStartOptions(c)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
			defer stop()
			dir := testnetDir(c)
			if _, err := os.Stat(filepath.Join(dir, testnet.ManifestFile)); err != nil && opts.Generate.BasePort == 0 && !c.IsSet("base-port") && opts.Netns == nil {
				fmt.Fprintf(c.App.Writer, "note: ports %d.. are taken (another testnet?): picking free ports; pass --rpc with node0's RPC URL to client commands\n", testnet.DefaultBasePort)
			}
			t, err := testnet.Start(ctx, dir, opts)
			if err != nil {
				if errors.Is(err, context.Canceled) {
					return errors.New("testnet start interrupted; the nodes it started are stopped")
				}
				return err
			}
			w := c.App.Writer
			if opts.Detach {
				fmt.Fprintf(w, "testnet running in the background; 'quorumchain testnet status --dir %s' shows it, 'quorumchain testnet stop --dir %s' stops it\n", t.Dir, t.Dir)
				return nil
			}
			fmt.Fprintf(w, "testnet stopped; 'quorumchain testnet start --dir %s' resumes it\n", t.Dir)
			return nil
		},
	}
}

// testnetStartOptions turns the start flags into StartOptions.
func testnetStartOptions(c *cli.Context) (testnet.StartOptions, error) {
	n := c.Int("validators")
	if n < 1 {
		return testnet.StartOptions{}, fmt.Errorf("-n %d: want at least one validator", n)
	}
	var stakes []uint64
	if s := c.String("stakes"); s != "" {
		for _, f := range strings.Split(s, ",") {
			v, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
			if err != nil || v == 0 {
				return testnet.StartOptions{}, fmt.Errorf("--stakes %q: %q is not a positive integer", s, f)
			}
			stakes = append(stakes, v)
		}
		if !c.IsSet("validators") {
			n = len(stakes)
		}
		if len(stakes) != n {
			return testnet.StartOptions{}, fmt.Errorf("--stakes gives %d stakes for -n %d validators", len(stakes), n)
		}
	}
	k := c.Int("remote-signers")
	if k < 0 || k > n {
		return testnet.StartOptions{}, fmt.Errorf("--remote-signers %d: want 0 to %d", k, n)
	}
	base := c.Int("base-port")
	if base < 0 || base+2*n > 65535 {
		return testnet.StartOptions{}, fmt.Errorf("--base-port %d: want 0 (free ports) or a port with %d ports above it", base, 2*n)
	}
	if !c.IsSet("base-port") && !testnet.PortsFree(base, 2*n) {
		base = 0 // the default ports are taken (another testnet?): pick free ones
	}
	return testnet.StartOptions{
		Generate:     testnet.Options{Validators: n, Stakes: stakes, BasePort: base, RemoteSigners: k, DoubleProposers: c.IntSlice("double-proposer")},
		Detach:       c.Bool("detach"),
		Out:          c.App.Writer,
		ReadyTimeout: c.Duration("timeout"),
		Netns:        netnsStartOption(c),
	}, nil
}

func testnetStatusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "show each node of the testnet: PID, running or not, height, peers, RPC URL, and active faults",
		Flags: []cli.Flag{testnetDirFlag(), outputFlag()},
		Action: func(c *cli.Context) error {
			if _, err := args(c, 0, 0, "no arguments"); err != nil {
				return err
			}
			asJSON, err := outputJSON(c)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			st, err := testnet.Status(ctx, testnetDir(c))
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(c.App.Writer, st)
			}
			tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tPID\tSTATE\tHEIGHT\tPEERS\tSIGNER\tRPC")
			for _, s := range st {
				state, height, peers, pid := "stopped", "-", "-", "-"
				if s.Running {
					state, pid = "running", strconv.Itoa(s.PID)
					switch {
					case s.Cut:
						state = "link cut"
					case s.Error != "":
						state = "no RPC: " + s.Error
					case s.Syncing:
						state = "syncing"
					}
					if s.Error == "" {
						height, peers = strconv.FormatUint(s.Height, 10), strconv.Itoa(s.Peers)
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, pid, state, height, peers, s.Signer, s.RPC)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			writeStatusFaults(c.App.Writer, st)
			return nil
		},
	}
}

func testnetStopCommand() *cli.Command {
	return &cli.Command{
		Name:  "stop",
		Usage: "stop every node of the testnet (SIGTERM, then SIGKILL after a grace period)",
		Flags: []cli.Flag{testnetDirFlag()},
		Action: func(c *cli.Context) error {
			if _, err := args(c, 0, 0, "no arguments"); err != nil {
				return err
			}
			stopped, err := testnet.Stop(testnetDir(c))
			for _, s := range stopped {
				how := "stopped"
				if s.Killed {
					how = "killed (ignored SIGTERM)"
				}
				fmt.Fprintf(c.App.Writer, "%s %s (pid %d)\n", how, s.Name, s.PID)
			}
			if err == nil && len(stopped) == 0 {
				fmt.Fprintln(c.App.Writer, "no node was running")
			}
			return err
		},
	}
}

func testnetKillCommand() *cli.Command {
	return &cli.Command{
		Name:      "kill",
		Usage:     "kill one node with SIGKILL (a crash, for fault injection)",
		ArgsUsage: "NODE",
		Flags:     []cli.Flag{testnetDirFlag()},
		Action: func(c *cli.Context) error {
			a, err := args(c, 1, 1, "NODE")
			if err != nil {
				return err
			}
			pid, err := testnet.Kill(testnetDir(c), a[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "killed %s (pid %d)\n", a[0], pid)
			return nil
		},
	}
}

func testnetRestartCommand() *cli.Command {
	return &cli.Command{
		Name:      "restart",
		Usage:     "start one node again (stopping it first if it runs); it catches up by block sync",
		ArgsUsage: "NODE",
		Flags:     []cli.Flag{testnetDirFlag()},
		Action: func(c *cli.Context) error {
			a, err := args(c, 1, 1, "NODE")
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			dir := testnetDir(c)
			pid, err := testnet.Restart(ctx, dir, a[0], "")
			if err != nil {
				return err
			}
			m, err := testnet.LoadManifest(dir)
			if err != nil {
				return err
			}
			n, err := m.Node(a[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "restarted %s (pid %d), RPC %s\n", n.Name, pid, n.RPC)
			return nil
		},
	}
}

func testnetDashboardCommand() *cli.Command {
	return &cli.Command{
		Name:  "dashboard",
		Usage: "print the URL of a node's web dashboard and open it in a browser when one is available",
		Description: "Every node serves its dashboard at GET / of its RPC listener; this prints the one of --node\n" +
			"(default: the first node of testnet.json) and opens it with $BROWSER, or xdg-open (open on macOS)\n" +
			"when a display is set. Without a browser it only prints the URL.",
		Flags: []cli.Flag{
			testnetDirFlag(),
			&cli.StringFlag{Name: "node", Usage: "node whose dashboard to open", DefaultText: "the first node"},
			&cli.BoolFlag{Name: "no-open", Usage: "only print the URL"},
		},
		Action: func(c *cli.Context) error {
			if _, err := args(c, 0, 0, "no arguments"); err != nil {
				return err
			}
			m, err := testnet.LoadManifest(testnetDir(c))
			if err != nil {
				return err
			}
			u, err := testnet.DashboardURL(m, c.String("node"))
			if err != nil {
				return err
			}
			fmt.Fprintln(c.App.Writer, u)
			if c.Bool("no-open") {
				return nil
			}
			// Failing to open a browser is not an error: the URL is printed.
			if prog, err := testnet.SystemOpener(os.Getenv).Open(u); err != nil {
				fmt.Fprintf(c.App.ErrWriter, "not opened (%v); open the URL above in a browser\n", err)
			} else {
				fmt.Fprintf(c.App.ErrWriter, "opened with %s\n", prog)
			}
			return nil
		},
	}
}
