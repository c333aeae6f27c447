package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/genesis"
	"github.com/quorumchain/quorumchain/light"
	"github.com/quorumchain/quorumchain/rpc"
)

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "verify a block header and its finality certificate from genesis, as a light client",
		UsageText: "quorumchain verify --genesis FILE --rpc URL [--height H] [--witness URL]... [--sequential]",
		Description: "Fetches the header of --height (default: the latest final one) and its certificate from the node\n" +
			"at --rpc, and verifies them from the chain's genesis without trusting the node: every certificate\n" +
			"must carry precommits of more than two thirds of the stake of its height's validator set, every\n" +
			"validator set must be the one the previous verified header committed to (a change takes effect\n" +
			"at H+2), and parent hashes must link. Like CometBFT's light client it skips heights when more\n" +
			"than a third of the trusted stake signed the later certificate (within the unbonding period),\n" +
			"and bisects otherwise; --sequential checks every height and every parent link instead.\n" +
			"Each --witness node is asked for the same heights; a witness serving\n" +
			"another certified header is a fork: the evidence (both signed headers and the double-sign\n" +
			"evidence of every validator that signed both) is printed and verify exits 1.\n\n" +
			"Prints the verified header and certificate (--output json: {height, hash, header, certificate,\n" +
			"fetched, witnesses}). Exits 1 and says why when the node's answer does not verify.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "genesis", Usage: "the chain's genesis.json: the root of trust", TakesFile: true},
			&cli.StringFlag{Name: "height", Usage: "the height to verify", DefaultText: "the latest final height"},
			&cli.BoolFlag{Name: "sequential", Usage: "verify every header from genesis instead of skipping"},
			&cli.StringSliceFlag{Name: "witness", Usage: "RPC URL of another node to cross-check (repeatable)"},
			rpcFlag(),
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
			genesisPath, err := requiredString(c, "genesis")
			if err != nil {
				return err
			}
			doc, err := genesis.Load(genesisPath)
			if err != nil {
				return err
			}
			var height uint64
			if c.IsSet("height") {
				if height, err = parseHeight("--height", c.String("height")); err != nil {
					return err
				}
			}
			ctx, stop := signalContext()
			defer stop()
			n, err := dialNode(ctx, c, false)
			if err != nil {
				return err
			}
			defer n.Close()
			var witnesses []light.Source
			urls := c.StringSlice("witness")
			for _, u := range urls {
				w, err := dialURL(ctx, u)
				if err != nil {
					return fmt.Errorf("--witness: %w", err)
				}
				defer w.Close()
				witnesses = append(witnesses, light.NewRPCSource(timedCaller{w}))
			}
			var trusting uint64 // the unbonding period
			if c.Bool("sequential") {
				trusting = 1
			}
			lc, err := light.FromGenesis(doc, light.NewRPCSource(timedCaller{n}), light.Options{Witnesses: witnesses, TrustingBlocks: trusting})
			if err != nil {
				return err
			}
			tr, err := lc.VerifyHeight(ctx, height)
			if err != nil {
				return verifyFailure(c.App.Writer, asJSON, n.url, urls, height, err)
			}
			r := verifyResult{Height: tr.Height, Hash: tr.Hash, Header: light.HeaderToRPC(&tr.Signed.Header),
				Certificate: light.CertificateToRPC(tr.Signed.Certificate, tr.Validators), Fetched: lc.Fetches(), Witnesses: len(urls)}
			if asJSON {
				return writeJSON(c.App.Writer, r)
			}
			return printVerified(c.App.Writer, &r, tr)
		},
	}
}

// timedCaller bounds each call of a light-client source with callTimeout
// and explains its errors.
type timedCaller struct{ n *nodeClient }

func (t timedCaller) Call(ctx context.Context, method string, params, result any) error {
	return t.n.call(ctx, method, params, result)
}

// verifyResult is the JSON output of verify.
type verifyResult struct {
	Height      uint64                 `json:"height"`
	Hash        chain.Hash             `json:"hash"`
	Header      rpc.HeaderResult       `json:"header"`
	Certificate *rpc.CertificateResult `json:"certificate"`
	Fetched     int                    `json:"fetched"`
	Witnesses   int                    `json:"witnesses"`
}

func printVerified(out io.Writer, r *verifyResult, tr *light.Trusted) error {
	h, cert := &r.Header, r.Certificate
	var b strings.Builder
	fmt.Fprintf(&b, "verified height %d %s from genesis (%d headers fetched", r.Height, chain.FormatHash(r.Hash), r.Fetched)
	if r.Witnesses > 0 {
		fmt.Fprintf(&b, ", agreed by %d witnesses", r.Witnesses)
	}
	b.WriteString(")\n")
	fmt.Fprintf(&b, "  chain id         %s\n", h.ChainID)
	fmt.Fprintf(&b, "  time             %s\n", h.Time.Format(time.RFC3339Nano))
	fmt.Fprintf(&b, "  parent           %s\n", chain.FormatHash(h.ParentHash))
	fmt.Fprintf(&b, "  proposer         %s\n", chain.FormatAddress(h.Proposer))
	fmt.Fprintf(&b, "  state            %s\n", chain.FormatHash(h.StateHash))
	fmt.Fprintf(&b, "  txs root         %s\n", chain.FormatHash(h.TxRoot))
	fmt.Fprintf(&b, "  validators       %s (%d members, stake %d)\n", chain.FormatHash(h.ValidatorsHash), tr.Validators.Len(), tr.Validators.TotalStake())
	fmt.Fprintf(&b, "  next validators  %s\n", chain.FormatHash(h.NextValidatorsHash))
	fmt.Fprintf(&b, "certificate: round %d, %d signers holding %s of %s stake (%s)\n", cert.Round, len(cert.Signers),
		cert.SignedStake, cert.TotalStake, share(uint64(cert.SignedStake), uint64(cert.TotalStake)))
	for _, s := range cert.Signers {
		fmt.Fprintf(&b, "  %s\n", chain.FormatAddress(s))
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// forkOutput is the JSON form of light.ForkEvidence.
type forkOutput struct {
	Fork struct {
		Height       uint64          `json:"height"`
		CommonHeight uint64          `json:"commonHeight"`
		Witness      string          `json:"witness"`
		Primary      signedOutput    `json:"primary"`
		Conflicting  signedOutput    `json:"conflicting"`
		Equivocators []chain.Address `json:"equivocators"`
		DoubleSigns  []rpc.HexBytes  `json:"doubleSigns"` // canonical chain.Evidence encodings
	} `json:"fork"`
}

type signedOutput struct {
	Header      rpc.HeaderResult       `json:"header"`
	Certificate *rpc.CertificateResult `json:"certificate"`
}

// verifyFailure prints a fork's evidence, and returns the error verify
// exits with.
func verifyFailure(out io.Writer, asJSON bool, primary string, witnesses []string, height uint64, err error) error {
	what := "the latest header"
	if height != 0 {
		what = fmt.Sprintf("height %d", height)
	}
	var fe *light.ForkError
	if errors.As(err, &fe) {
		ev := fe.Evidence
		var o forkOutput
		o.Fork.Height, o.Fork.CommonHeight, o.Fork.Witness = ev.Primary.Height, ev.Common.Height, witnesses[ev.WitnessIndex]
		o.Fork.Primary = signedOutput{light.HeaderToRPC(&ev.Primary.Signed.Header), light.CertificateToRPC(ev.Primary.Signed.Certificate, ev.Primary.Validators)}
		o.Fork.Conflicting = signedOutput{light.HeaderToRPC(&ev.Witness.Signed.Header), light.CertificateToRPC(ev.Witness.Signed.Certificate, ev.Witness.Validators)}
		o.Fork.Equivocators = append([]chain.Address{}, ev.Equivocators...)
		o.Fork.DoubleSigns = []rpc.HexBytes{}
		for _, e := range ev.DoubleSigns {
			o.Fork.DoubleSigns = append(o.Fork.DoubleSigns, e.Encode())
		}
		if asJSON {
			if werr := writeJSON(out, o); werr != nil {
				return werr
			}
		} else {
			fmt.Fprintf(out, "FORK at height %d (common height %d)\n  %s serves %s\n  %s serves %s\n", ev.Primary.Height, ev.Common.Height,
				primary, chain.FormatHash(ev.Primary.Hash), o.Fork.Witness, chain.FormatHash(ev.Witness.Hash))
			fmt.Fprintf(out, "  %d validators precommitted both blocks; double-sign evidence:\n", len(ev.Equivocators))
			for _, e := range ev.DoubleSigns {
				fmt.Fprintf(out, "  %s 0x%x\n", chain.FormatAddress(e.Validator()), e.Encode())
			}
		}
		return fmt.Errorf("fork detected: %w", err)
	}
	if errors.Is(err, light.ErrInvalid) || errors.Is(err, light.ErrMalformed) {
		return fmt.Errorf("%s from %s does not verify: %w", what, primary, err)
	}
	if errors.Is(err, light.ErrWitness) {
		return fmt.Errorf("%s verified but could not be cross-checked: %w", what, err)
	}
	return fmt.Errorf("verifying %s: %w", what, err)
}
