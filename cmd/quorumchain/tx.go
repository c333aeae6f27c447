package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/staking"
)

// defaultWaitTimeout bounds --wait.
const defaultWaitTimeout = 30 * time.Second

// txSpec describes one transaction command.
type txSpec struct {
	kind        chain.TxKind
	usage       string
	description string
	// toFlag names the flag giving Tx.To ("to", "validator"), or is empty
	// for unjail, which has neither recipient nor amount.
	toFlag  string
	toUsage string
	// toOptional: the --toFlag may be left out (claim: from every bond),
	// and the command takes no --amount.
	toOptional bool
	// rate: the command takes --rate, a fraction in [0, 1] (set-commission).
	rate bool
}

func claimCommand() *cli.Command {
	return txCommand(txSpec{
		kind:  chain.TxClaim,
		usage: "withdraw staking rewards to the balance",
		description: "Withdraws the pending rewards of the bond of --from to --validator, or of all its bonds without\n" +
			"--validator, to its balance. 'quorumchain account' shows pending rewards. It is rejected (and\n" +
			"pays its fee) when there is nothing to claim.",
		toFlag: "validator", toUsage: "validator whose bond's rewards to claim, 0x + 40 hex digits (default: every bond)",
		toOptional: true,
	})
}

func setCommissionCommand() *cli.Command {
	return txCommand(txSpec{
		kind:  chain.TxSetCommission,
		usage: "set a validator's commission on its rewards",
		description: "Sets the commission of the validator whose key is --from: the share of its rewards it keeps\n" +
			"before its bonders share the rest in proportion to their bonds. --rate is a decimal fraction\n" +
			"with at most 18 places (\"0.05\") or N/D with D dividing 10^18; it applies from the next block.",
		rate: true,
	})
}

func stakeCommand() *cli.Command {
	return txCommand(txSpec{
		kind:  chain.TxStake,
		usage: "bond an amount to a validator (to your own address: register as a validator candidate)",
		description: "Bonds --amount from the balance of the key in --from to --validator. Staking to your own\n" +
			"address with no validator yet registers you as a candidate; a change of the validator set\n" +
			"caused by block H takes effect at height H+2.",
		toFlag: "validator", toUsage: "validator address, 0x + 40 hex digits (your own address registers you)",
	})
}

func unstakeCommand() *cli.Command {
	return txCommand(txSpec{
		kind:  chain.TxUnstake,
		usage: "begin unbonding an amount from a validator",
		description: "Begins unbonding --amount of the stake that --from bonded to --validator. The amount returns to\n" +
			"the balance after the unbonding period (params.unbonding_blocks), shown by 'quorumchain account'.",
		toFlag: "validator", toUsage: "validator address the stake is bonded to, 0x + 40 hex digits",
	})
}

func transferCommand() *cli.Command {
	return txCommand(txSpec{
		kind:        chain.TxTransfer,
		usage:       "move an amount from one account to another",
		description: "Moves --amount from the account of the key in --from to --to.",
		toFlag:      "to", toUsage: "recipient address, 0x + 40 hex digits",
	})
}

func unjailCommand() *cli.Command {
	return txCommand(txSpec{
		kind:  chain.TxUnjail,
		usage: "return a jailed validator to candidacy once its jail time is over",
		description: "Sent by the jailed validator itself (--from is its key). It is rejected while the validator is\n" +
			"not jailed or its jail time (params.jail_blocks) is not over.",
	})
}

func txCommand(s txSpec) *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "from", Usage: "keystore file of the sender, which signs", TakesFile: true},
	}
	switch {
	case s.toOptional:
		flags = append(flags, &cli.StringFlag{Name: s.toFlag, Usage: s.toUsage})
	case s.toFlag != "":
		flags = append(flags,
			&cli.StringFlag{Name: s.toFlag, Usage: s.toUsage},
			&cli.StringFlag{Name: "amount", Usage: "amount, a positive decimal integer"},
		)
	case s.rate:
		flags = append(flags, &cli.StringFlag{Name: "rate", Usage: "commission rate in [0, 1], such as 0.05"})
	}
	flags = append(flags,
		&cli.StringFlag{Name: "nonce", Usage: "sender nonce to sign with", DefaultText: "the account's next nonce, from the node"},
		&cli.StringFlag{Name: "fee", Usage: "fee paid to the block's proposer, even if the transaction fails; at least the chain's min_fee", DefaultText: "the chain's min_fee, from the node"},
		&cli.BoolFlag{Name: "wait", Usage: "wait until the transaction is in a final block and print its receipt; exit 1 if it was rejected"},
		&cli.DurationFlag{Name: "timeout", Usage: "how long --wait waits", Value: defaultWaitTimeout},
		passwordFileFlag(),
		rpcFlag(),
		outputFlag(),
	)
	usageLine := "--from KEYFILE"
	switch {
	case s.toOptional:
		usageLine += fmt.Sprintf(" [--%s ADDR]", s.toFlag)
	case s.toFlag != "":
		usageLine += fmt.Sprintf(" --%s ADDR --amount N", s.toFlag)
	case s.rate:
		usageLine += " --rate R"
	}
	usageLine += " [--fee N] [--wait]"
	return &cli.Command{
		Name:      s.kind.String(),
		Usage:     s.usage,
		UsageText: "quorumchain " + s.kind.String() + " " + usageLine,
		Description: s.description + "\n\nThe chain id, the sender's nonce and the fee (the chain's min_fee) come from the node unless\n" +
			"--nonce or --fee is given. The fee is paid even if the transaction fails. Prints the\n" +
			"transaction hash; with --wait, the receipt (status, height, and code and error when rejected).",
		Flags: flags,
		Action: func(c *cli.Context) error {
			return sendTx(c, s)
		},
	}
}

// sendTx checks the flags, signs the transaction and submits it.
func sendTx(c *cli.Context, s txSpec) error {
	req, err := parseTxFlags(c, s)
	if err != nil {
		return err
	}
	key, sender, err := loadKey(c, req.from)
	if err != nil {
		return err
	}

	ctx, stop := signalContext()
	defer stop()
	n, err := dialNode(ctx, c, req.wait)
	if err != nil {
		return err
	}
	defer n.Close()
	if err := completeTx(ctx, n, req, sender, key); err != nil {
		return err
	}
	hash := req.tx.Hash()
	sub, submitted, err := submitTx(ctx, n, req)
	if err != nil {
		return err
	}
	if !req.wait {
		if req.asJSON {
			return writeJSON(c.App.Writer, submitted)
		}
		_, err := fmt.Fprintln(c.App.Writer, chain.FormatHash(hash))
		return err
	}
	if !req.asJSON {
		fmt.Fprintf(c.App.Writer, "submitted %s %s, waiting until final\n", s.kind, chain.FormatHash(hash))
	}
	receipt, err := waitTx(ctx, n, sub, hash, c.Duration("timeout"))
	if err != nil {
		return err
	}
	if err := printReceipt(c, req.asJSON, receipt); err != nil {
		return err
	}
	if receipt.Status == rpc.TxRejected {
		return fmt.Errorf("%s %s rejected%s: %s", s.kind, chain.FormatHash(hash), atHeight(receipt.Height), rejection(receipt))
	}
	return nil
}

// txRequest is a transaction command's checked flags: the transaction as
// far as the flags give it (no chain id or signature yet).
type txRequest struct {
	tx         *chain.Tx
	from       string // keystore file of the sender
	nonceGiven bool   // --nonce set; otherwise the node's next nonce
	feeGiven   bool   // --fee set; otherwise the chain's min_fee
	wait       bool
	asJSON     bool
}

// parseTxFlags checks the flags of s's command, --rpc included, before the
// slow key decryption.
func parseTxFlags(c *cli.Context, s txSpec) (*txRequest, error) {
	if _, err := args(c, 0, 0, "no arguments"); err != nil {
		return nil, err
	}
	asJSON, err := outputJSON(c)
	if err != nil {
		return nil, err
	}
	from, err := requiredString(c, "from")
	if err != nil {
		return nil, err
	}
	req := &txRequest{tx: &chain.Tx{Kind: s.kind}, from: from, asJSON: asJSON}
	switch {
	case s.toOptional:
		if c.IsSet(s.toFlag) {
			if req.tx.To, err = addressFlag(c, s.toFlag); err != nil {
				return nil, err
			}
		}
	case s.rate:
		if req.tx.Amount, err = rateFlag(c, "rate"); err != nil {
			return nil, err
		}
	case s.toFlag != "":
		if req.tx.To, err = addressFlag(c, s.toFlag); err != nil {
			return nil, err
		}
		if req.tx.Amount, err = amountFlag(c, "amount"); err != nil {
			return nil, err
		}
		if req.tx.Amount == 0 {
			return nil, fmt.Errorf("--amount: must be positive")
		}
	}
	req.nonceGiven = c.IsSet("nonce")
	if req.nonceGiven {
		if req.tx.Nonce, err = parseUint("--nonce", c.String("nonce")); err != nil {
			return nil, err
		}
	}
	req.feeGiven = c.IsSet("fee")
	if req.feeGiven {
		if req.tx.Fee, err = amountFlag(c, "fee"); err != nil {
			return nil, err
		}
	}
	req.wait = c.Bool("wait")
	if req.wait && c.Duration("timeout") <= 0 {
		return nil, fmt.Errorf("--timeout %s: must be positive", c.Duration("timeout"))
	}
	if _, err := rpcURL(c, req.wait); err != nil {
		return nil, err
	}
	return req, nil
}

// completeTx sets the chain id, unless --nonce was given the sender's next
// nonce, and unless --fee was given the chain's min_fee, all from the node,
// and signs the transaction with key.
func completeTx(ctx context.Context, n *nodeClient, req *txRequest, sender chain.Address, key *ecdsa.PrivateKey) error {
	var status rpc.StatusResult
	if err := n.call(ctx, rpc.MethodStatus, nil, &status); err != nil {
		return err
	}
	req.tx.ChainID = status.ChainID
	if !req.feeGiven {
		req.tx.Fee = uint64(status.MinFee)
	}
	if !req.nonceGiven {
		var acct rpc.AccountResult
		if err := n.call(ctx, rpc.MethodGetAccount, rpc.AccountParams{Address: &sender}, &acct); err != nil {
			return err
		}
		req.tx.Nonce = acct.Nonce
	}
	return signTx(req.tx, key)
}

// submitTx submits the signed transaction. With --wait it subscribes to the
// transaction's receipt first, so that the receipt cannot be missed, and
// returns the subscription.
func submitTx(ctx context.Context, n *nodeClient, req *txRequest) (*rpc.Subscription, rpc.SubmitTxResult, error) {
	tx, hash := req.tx, req.tx.Hash()
	var sub *rpc.Subscription
	if req.wait {
		sctx, cancel := context.WithTimeout(ctx, callTimeout)
		var err error
		sub, err = n.Subscribe(sctx, rpc.TopicTxs, &rpc.Filter{Hash: &hash}, 0)
		cancel()
		if err != nil {
			return nil, rpc.SubmitTxResult{}, n.explain(rpc.MethodSubscribe, err)
		}
	}
	var submitted rpc.SubmitTxResult
	if err := n.call(ctx, rpc.MethodSubmitTx, rpc.SubmitTxParams{Tx: tx.Encode()}, &submitted); err != nil {
		return nil, submitted, fmt.Errorf("%s %s not accepted: %w", tx.Kind, chain.FormatHash(hash), err)
	}
	if submitted.Hash != hash {
		return nil, submitted, fmt.Errorf("node returned hash %s for transaction %s", chain.FormatHash(submitted.Hash), chain.FormatHash(hash))
	}
	return sub, submitted, nil
}

// rateFlag parses a required commission rate into its numerator over
// staking.CommissionDen; a rate not exact over 10^18 is an error.
func rateFlag(c *cli.Context, name string) (uint64, error) {
	s, err := requiredString(c, name)
	if err != nil {
		return 0, err
	}
	f, err := staking.ParseFraction(s)
	if err != nil {
		return 0, fmt.Errorf("--%s: %w", name, err)
	}
	if staking.CommissionDen%f.Den != 0 {
		return 0, fmt.Errorf("--%s %s: not exact in 18 decimal places", name, s)
	}
	return f.Num * (staking.CommissionDen / f.Den), nil // Num <= Den: at most CommissionDen
}

// parseUint parses a flag value of decimal digits.
func parseUint(flag, s string) (uint64, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%s %q: want a decimal integer", flag, s)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q: larger than %d", flag, s, uint64(1<<64-1))
	}
	return v, nil
}

func signTx(tx *chain.Tx, key *ecdsa.PrivateKey) error {
	return tx.SignWith(func(h chain.Hash) (chain.Signature, error) { return chain.Sign(key, h) })
}

// waitTx waits for the final or rejected receipt of hash on sub. A
// subscription cut off as lagged is resumed from its height.
func waitTx(parent context.Context, n *nodeClient, sub *rpc.Subscription, hash chain.Hash, timeout time.Duration) (*rpc.TxResult, error) {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	for {
		select {
		case raw, ok := <-sub.Results():
			if !ok {
				err := <-sub.Err()
				var lag *rpc.LaggedError
				if !errors.As(err, &lag) {
					if err == nil {
						err = errors.New("subscription ended")
					}
					return nil, fmt.Errorf("waiting for %s: %w; check it with 'quorumchain tx %s'", chain.FormatHash(hash), n.explain("", err), chain.FormatHash(hash))
				}
				if sub, err = n.Subscribe(ctx, rpc.TopicTxs, &rpc.Filter{Hash: &hash}, lag.ResumeFromHeight); err != nil {
					return nil, n.explain(rpc.MethodSubscribe, err)
				}
				continue
			}
			var r rpc.TxResult
			if err := json.Unmarshal(raw, &r); err != nil {
				return nil, fmt.Errorf("waiting for %s: unexpected txs event: %w", chain.FormatHash(hash), err)
			}
			if r.Hash == hash && (r.Status == rpc.TxFinal || r.Status == rpc.TxRejected) {
				return &r, nil
			}
		case <-ctx.Done():
			if parent.Err() != nil {
				return nil, fmt.Errorf("interrupted while waiting for %s; check it with 'quorumchain tx %s'", chain.FormatHash(hash), chain.FormatHash(hash))
			}
			return nil, fmt.Errorf("%s not final after %s (raise --timeout, or check it later with 'quorumchain tx %s')", chain.FormatHash(hash), timeout, chain.FormatHash(hash))
		}
	}
}

func atHeight(h *uint64) string {
	if h == nil {
		return ""
	}
	return fmt.Sprintf(" at height %d", *h)
}

func rejection(r *rpc.TxResult) string {
	switch {
	case r.Code != "" && r.Error != "":
		return r.Code + ": " + r.Error
	case r.Code != "":
		return r.Code
	case r.Error != "":
		return r.Error
	}
	return "no reason given"
}

// printReceipt prints a chain_getTx result: as text, or as the result
// object itself.
func printReceipt(c *cli.Context, asJSON bool, r *rpc.TxResult) error {
	if asJSON {
		return writeJSON(c.App.Writer, r)
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "hash\t%s\n", chain.FormatHash(r.Hash))
	fmt.Fprintf(w, "status\t%s\n", r.Status)
	if r.Height != nil {
		fmt.Fprintf(w, "height\t%d\n", *r.Height)
	}
	if r.Fee != nil {
		fmt.Fprintf(w, "fee\t%d\n", uint64(*r.Fee))
	}
	if r.Code != "" {
		fmt.Fprintf(w, "code\t%s\n", r.Code)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "error\t%s\n", oneLine(r.Error))
	}
	return w.Flush()
}
