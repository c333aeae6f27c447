// Command quorumchain is the command line of a quorumchain node and its
// tools. Each command turns flags into one call into a package; the command
// groups live in their own files and are listed here.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/genesis"
)

// Environment variables read by flags.
const (
	envHome     = "QUORUMCHAIN_HOME"
	envPassword = "QUORUMCHAIN_PASSWORD"
)

func main() { os.Exit(run(os.Args, os.Stdout, os.Stderr)) }

// run runs the command line args (args[0] is the program name) and returns
// the exit status: 0, or 1 after printing one line "quorumchain: <error>" to
// stderr.
func run(args []string, stdout, stderr io.Writer) int {
	if err := newApp(stdout, stderr).Run(args); err != nil {
		fmt.Fprintf(stderr, "quorumchain: %s\n", oneLine(err.Error()))
		return 1
	}
	return 0
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:                 "quorumchain",
		HelpName:             "quorumchain",
		Usage:                "a stake-weighted BFT proof-of-stake blockchain",
		EnableBashCompletion: true,
		HideVersion:          true, // the version command says more
		Writer:               stdout,
		ErrWriter:            stderr,
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name:        "home",
				Usage:       "node home directory",
				EnvVars:     []string{envHome},
				DefaultText: "~/.quorumchain",
				TakesFile:   true,
			},
			outputFlag(),
		},
		Commands: []*cli.Command{
			versionCommand(),
			initCommand(),
			nodeCommand(),
			keysCommand(),
			genesisCommand(),
			stakeCommand(),
			unstakeCommand(),
			transferCommand(),
			unjailCommand(),
			claimCommand(),
			setCommissionCommand(),
			voteCommand(),
			subscribeCommand(),
			statusCommand(),
			blockCommand(),
			validatorsCommand(),
			verifyCommand(),
			accountCommand(),
			txQueryCommand(),
			benchCommand(),
			simulateCommand(),
			testnetCommand(),
		},
		Action: groupAction,
		// run reports errors; nothing calls os.Exit.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   usageError("quorumchain"),
	}
	setGroupActions(app.Commands, "quorumchain")
	return app
}

// setGroupActions makes every command report a usage error as one line and
// every command group reject an unknown subcommand; urfave/cli would print
// the help text instead.
func setGroupActions(cmds []*cli.Command, parent string) {
	for _, c := range cmds {
		path := parent + " " + c.Name
		c.OnUsageError = usageError(path)
		if len(c.Subcommands) > 0 && c.Action == nil {
			c.Action = groupAction
		}
		setGroupActions(c.Subcommands, path)
	}
}

func usageError(command string) cli.OnUsageErrorFunc {
	return func(_ *cli.Context, err error, _ bool) error {
		return fmt.Errorf("%w (see '%s --help')", err, command)
	}
}

// groupAction runs for a command group given no known subcommand: help if
// nothing was given, an error otherwise.
func groupAction(c *cli.Context) error {
	if c.Args().Present() {
		return fmt.Errorf("unknown command %q (see '%s --help')", c.Args().First(), c.Command.HelpName)
	}
	if c.Command.HelpName == c.App.HelpName {
		return cli.ShowAppHelp(c)
	}
	return cli.ShowSubcommandHelp(c)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

// ---- flags and arguments shared by commands ----

func outputFlag() cli.Flag {
	return &cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output format: text or json", Value: "text"}
}

func passwordFileFlag() cli.Flag {
	return &cli.StringFlag{
		Name:      "password-file",
		Usage:     "file holding the key password (else $" + envPassword + ")",
		TakesFile: true,
	}
}

// outputJSON reports whether --output json was given, on the command or
// on any command above it.
func outputJSON(c *cli.Context) (bool, error) {
	format := "text"
	for _, ctx := range c.Lineage() {
		if ctx.Command != nil && slices.Contains(ctx.LocalFlagNames(), "output") {
			format = ctx.String("output")
			break
		}
	}
	switch format {
	case "text":
		return false, nil
	case "json":
		return true, nil
	}
	return false, fmt.Errorf("--output: unknown format %q: want text or json", format)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// homeFlag is --home. It is global (quorumchain --home H node), where it
// also reads $QUORUMCHAIN_HOME, and accepted after the commands that use a
// home (quorumchain node --home H), where it wins over both.
func homeFlag() cli.Flag {
	return &cli.StringFlag{Name: "home", Usage: "node home directory (else $" + envHome + ", else ~/.quorumchain)", TakesFile: true}
}

// homeDir is --home, $QUORUMCHAIN_HOME or ~/.quorumchain.
func homeDir(c *cli.Context) (string, error) {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet("home") && ctx.String("home") != "" {
			return ctx.String("home"), nil
		}
	}
	u, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("--home not given and no user home directory: %w", err)
	}
	return filepath.Join(u, ".quorumchain"), nil
}

// requiredString returns the value of a flag that must be given.
func requiredString(c *cli.Context, name string) (string, error) {
	if !c.IsSet(name) || c.String(name) == "" {
		return "", fmt.Errorf("missing --%s (see '%s --help')", name, c.Command.HelpName)
	}
	return c.String(name), nil
}

// amountFlag parses a required amount flag strictly (genesis.ParseAmount).
func amountFlag(c *cli.Context, name string) (uint64, error) {
	s, err := requiredString(c, name)
	if err != nil {
		return 0, err
	}
	v, err := genesis.ParseAmount(s)
	if err != nil {
		return 0, fmt.Errorf("--%s: %w", name, err)
	}
	return v, nil
}

// addressFlag parses a required address flag.
func addressFlag(c *cli.Context, name string) (chain.Address, error) {
	s, err := requiredString(c, name)
	if err != nil {
		return chain.Address{}, err
	}
	a, err := genesis.ParseAddress(s)
	if err != nil {
		return chain.Address{}, fmt.Errorf("--%s: %w", name, err)
	}
	return a, nil
}

// args checks that there are lo to hi positional arguments. urfave/cli
// stops parsing flags at the first argument, so a flag after it arrives here
// as an argument: say so.
func args(c *cli.Context, lo, hi int, usage string) ([]string, error) {
	a := c.Args().Slice()
	for _, s := range a[min(len(a), hi):] {
		if strings.HasPrefix(s, "-") {
			return nil, fmt.Errorf("flag %s after an argument: flags go first (usage: %s %s)", s, c.Command.HelpName, usage)
		}
	}
	if len(a) < lo || len(a) > hi {
		return nil, fmt.Errorf("want %s (see '%s --help')", usage, c.Command.HelpName)
	}
	return a, nil
}
