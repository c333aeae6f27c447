package testnet

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/node"
	"github.com/quorumchain/quorumchain/rpc"
)

// What the supervisor prints: the node table after launch, the first final
// block with the launch figures, and one line per finalized block.

func (t *Testnet) printTable() {
	m := t.Manifest
	how := "resumed"
	if t.Generated {
		how = fmt.Sprintf("generated in %d ms", t.Generation.Milliseconds())
	}
	fmt.Fprintf(t.out, "testnet %s in %s (%s)\n", m.ChainID, t.Dir, how)
	_, total, err := m.stakes(nil)
	if err != nil {
		total = 0
	}
	WriteNodeTable(t.out, m.Nodes, total)
	fmt.Fprintf(t.out, "faucet %s  key %s  password file %s\n", m.Faucet.Address, m.Faucet.Key, m.PasswordFile)
	fmt.Fprintf(t.out, "logs   %s\n", filepath.Join(t.Dir, "nodeN", LogFile))
}

// WriteNodeTable writes the node table: name, validator address, stake
// and share of total, signer, RPC URL and PID.
func WriteNodeTable(w io.Writer, nodes []Node, total uint64) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVALIDATOR\tSTAKE\tSIGNER\tRPC\tPID")
	for _, n := range nodes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", n.Name, n.Validator, stakeShare(n.Stake, total), n.Signer, n.RPC, pidText(n.PID))
	}
	tw.Flush() //nolint:errcheck // a terminal
}

// stakeShare writes "40 (40.0%)" with integer math, rounding down.
func stakeShare(stake string, total uint64) string {
	s, err := strconv.ParseUint(stake, 10, 64)
	if err != nil || total == 0 || s > total {
		return stake
	}
	permille := s * 1000 / total // stakes of a testnet are far from overflowing
	return fmt.Sprintf("%s (%d.%d%%)", stake, permille/10, permille%10)
}

func pidText(pid int) string {
	if pid == 0 {
		return "-"
	}
	return strconv.Itoa(pid)
}

func (t *Testnet) printWaiting(local, total uint64) {
	fmt.Fprintf(t.out, "nodes connected; the running local validators hold %d of %d stake, not more than two thirds:\n", local, total)
	fmt.Fprintln(t.out, "the chain waits for its remote signers. Sign with:")
	for _, n := range t.Manifest.Nodes {
		if n.Signer == "remote" {
			fmt.Fprintf(t.out, "  quorumchain vote --key %s --password-file %s --genesis %s --rpc %s --follow\n",
				n.SignerKey, t.Manifest.PasswordFile, node.Home(n.Home).GenesisPath(), n.RPC)
		}
	}
}

func (t *Testnet) printFirst() {
	fmt.Fprintf(t.out, "first final block: height %d, %d ms after the node processes started, %d ms after 'testnet start'",
		t.First.Height, t.LaunchToFinal.Milliseconds(), t.StartToFinal.Milliseconds())
	if t.Generated {
		fmt.Fprintf(t.out, " (generation included)")
	}
	fmt.Fprintln(t.out)
	fmt.Fprintln(t.out, t.blockLine(t.First))
}

// blockLine is one finalized block: height, short hash, proposer, txs,
// signed stake / total and finality time (finalizedAt - block time).
func (t *Testnet) blockLine(ev *rpc.FinalizedEvent) string {
	return FormatBlockLine(ev, t.names)
}

// FormatBlockLine formats a finalized event as one line; names maps
// validator addresses to node names (nil: addresses are shortened).
func FormatBlockLine(ev *rpc.FinalizedEvent, names map[chain.Address]string) string {
	proposer, ok := names[ev.Proposer]
	if !ok {
		proposer = short(chain.FormatAddress(ev.Proposer))
	}
	finality := ev.FinalizedAt.Sub(ev.Time)
	return fmt.Sprintf("height %-6d %s  proposer %-6s  txs %-4d  signed %s/%s  final in %s",
		ev.Height, short(chain.FormatHash(ev.Hash)), proposer, ev.TxCount,
		ev.Certificate.SignedStake, ev.Certificate.TotalStake, msText(finality))
}

func short(hex string) string {
	if len(hex) <= 10 {
		return hex
	}
	return hex[:10]
}

func msText(d time.Duration) string {
	return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(d.Microseconds())/1000), ".0") + " ms"
}
