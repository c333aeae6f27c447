package main

import (
	"context"
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

// Testnets beyond one loopback address: homes for separate hosts, network
// namespaces (start --netns, cut, restore) and compose files.

// withNetns adds --netns and --subnet to `testnet start`.
func withNetns(c *cli.Command) *cli.Command {
	c.Flags = append(c.Flags,
		&cli.BoolFlag{Name: "netns", Usage: "(Linux, root) run each node in its own network namespace at its own address on --subnet; 'testnet cut' and 'testnet restore' take a node's link down and up"},
		&cli.StringFlag{Name: "subnet", Usage: "IPv4 subnet of a --netns testnet: the host is .1, node i is .(10+i)", Value: testnet.DefaultNetnsSubnet},
	)
	return c
}

// netnsStartOption returns the netns options of `testnet start`, nil
// without --netns.
func netnsStartOption(c *cli.Context) *testnet.NetnsOptions {
	if !c.Bool("netns") {
		return nil
	}
	return &testnet.NetnsOptions{Subnet: c.String("subnet")}
}

// optionalStakes is --stakes, nil when not given.
func optionalStakes(c *cli.Context) ([]uint64, error) {
	if c.String("stakes") == "" {
		return nil, nil
	}
	return parseStakes(c.String("stakes"))
}

func testnetGenerateCommand() *cli.Command {
	return &cli.Command{
		Name:  "generate",
		Usage: "write a testnet for separate hosts: one home per host, peers at those addresses",
		Description: "Writes D/nodeI for the host at position I of --hosts: keys, genesis and config.toml, in which\n" +
			"the node listens on its host's address, p2p on --base-port and RPC on --base-port+1 (nodes given\n" +
			"the same host take the next ports), with every other host as a persistent peer. The keystore\n" +
			"password is in D/password.txt and, for the node, in each home (--target-home/password.txt is what\n" +
			"config.toml names). Copy D/nodeI to --target-home on host I and run there\n" +
			"'quorumchain --home <target-home> node'. D/faucet.json is the funded account; D/testnet.json\n" +
			"lists the nodes' RPC URLs for client commands and 'quorumchain bench --testnet D'.",
		Flags: []cli.Flag{
			testnetDirFlag(),
			&cli.StringFlag{Name: "hosts", Usage: "comma-separated IP address or DNS name of each validator's host", Required: true},
			&cli.StringFlag{Name: "stakes", Usage: "comma-separated stake of each validator", DefaultText: strconv.Itoa(testnet.DefaultStake) + " each"},
			&cli.IntFlag{Name: "base-port", Usage: "p2p port on every host; RPC is the next", Value: testnet.DefaultBasePort},
			&cli.StringFlag{Name: "target-home", Usage: "where each home will live on its host", Value: testnet.DefaultTargetHome},
		},
		Action: func(c *cli.Context) error {
			if _, err := args(c, 0, 0, "no arguments"); err != nil {
				return err
			}
			hosts := strings.Split(c.String("hosts"), ",")
			for i := range hosts {
				hosts[i] = strings.TrimSpace(hosts[i])
			}
			stakes, err := optionalStakes(c)
			if err != nil {
				return err
			}
			base := c.Int("base-port")
			if base < 1 || base > 65534 {
				return fmt.Errorf("--base-port %d: want 1 to 65534", base)
			}
			dir := testnetDir(c)
			m, err := testnet.GenerateHosts(dir, testnet.Options{Validators: len(hosts), Hosts: hosts, Stakes: stakes,
				BasePort: base, TargetHome: c.String("target-home")})
			if err != nil {
				return err
			}
			w := c.App.Writer
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tHOST\tP2P\tRPC\tHOME (copy to the host's "+c.String("target-home")+")")
			for _, n := range m.Nodes {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", n.Name, n.Host, n.P2P, n.RPC, n.Home)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(w, "open TCP %d (p2p, between the hosts) and %d (RPC, for clients) on every host; faucet key %s, password %s\n",
				base, base+1, m.Faucet.Key, m.PasswordFile)
			return nil
		},
	}
}

func testnetComposeCommand() *cli.Command {
	return &cli.Command{
		Name:  "compose",
		Usage: "write a compose testnet: one container per validator of the image 'make image' builds",
		Description: "Writes D/nodeI homes, D/" + testnet.ComposeFile + " and D/testnet.json. Each node runs in a container of\n" +
			"--image with its home mounted at " + testnet.ContainerHome + ", on one compose network; node i's RPC is\n" +
			"published on 127.0.0.1 at --base-port+2i+1 (node0: the client commands' default URL with the default\n" +
			"--base-port). Start it with 'docker-compose up -d' (or 'docker compose up -d') in D, stop it with\n" +
			"'docker-compose down'. As root, the homes are given to the image's user " +
			strconv.Itoa(testnet.ImageUID) + ":" + strconv.Itoa(testnet.ImageGID) + "; as another\n" +
			"user, the containers run as that user.",
		Flags: []cli.Flag{
			testnetDirFlag(),
			&cli.IntFlag{Name: "validators", Aliases: []string{"n"}, Usage: "number of validators", Value: 4},
			&cli.StringFlag{Name: "stakes", Usage: "comma-separated stake of each validator", DefaultText: strconv.Itoa(testnet.DefaultStake) + " each"},
			&cli.IntFlag{Name: "base-port", Usage: "node i's RPC is published at base-port+2i+1 (0: free ports)", Value: testnet.DefaultBasePort},
			&cli.StringFlag{Name: "image", Usage: "image of the nodes", Value: testnet.DefaultImage},
		},
		Action: func(c *cli.Context) error {
			if _, err := args(c, 0, 0, "no arguments"); err != nil {
				return err
			}
			stakes, err := optionalStakes(c)
			if err != nil {
				return err
			}
			n := c.Int("validators")
			if stakes != nil && !c.IsSet("validators") {
				n = len(stakes)
			}
			base := c.Int("base-port")
			if base < 0 || base+2*n > 65535 {
				return fmt.Errorf("--base-port %d: want 0 (free ports) or a port with %d ports above it", base, 2*n)
			}
			dir := testnetDir(c)
			m, err := testnet.GenerateCompose(dir, testnet.ComposeOptions{Image: c.String("image"),
				Generate: testnet.Options{Validators: n, Stakes: stakes, BasePort: base}})
			if err != nil {
				return err
			}
			w := c.App.Writer
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSERVICE P2P\tRPC (host)\tHOME")
			for _, n := range m.Nodes {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n.Name, n.P2P, n.RPC, n.Home)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(w, "start: cd %s && docker-compose up -d   (image %s: 'make image' builds it)\n", dir, c.String("image"))
			fmt.Fprintf(w, "faucet key %s, password %s\n", m.Faucet.Key, m.PasswordFile)
			return nil
		},
	}
}

// testnetLinkCommand is `testnet cut` (cut) or `testnet restore`.
func testnetLinkCommand(cut bool) *cli.Command {
	name, usage, done := "restore", "bring a node's link up again after 'testnet cut'", "restored"
	if cut {
		name, usage, done = "cut", "(netns testnet) take a node's link down at the kernel: its peers and the host lose it", "cut"
	}
	return &cli.Command{
		Name:      name,
		Usage:     usage,
		ArgsUsage: "NODE",
		Flags:     []cli.Flag{testnetDirFlag()},
		Action: func(c *cli.Context) error {
			a, err := args(c, 1, 1, "NODE")
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			dir := testnetDir(c)
			op := testnet.Restore
			if cut {
				op = testnet.Cut
			}
			if err := op(ctx, dir, a[0]); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "%s %s's link (testnet %s)\n", done, a[0], filepath.Clean(dir))
			return nil
		},
	}
}
