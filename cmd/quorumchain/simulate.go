package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/quorumchain/quorumchain/consensus/sim"
)

func simulateCommand() *cli.Command {
	return &cli.Command{
		Name:  "simulate",
		Usage: "run consensus in a deterministic simulated network and report finality and any safety violation",
		Description: "Runs V validators, each the node's own consensus driver (WAL, replay, signer, block building and\n" +
			"execution, evidence, catch-up gossip and block sync) over an in-memory store and log, on virtual time\n" +
			"with one seeded PRNG choosing latencies, drops, duplicates, partitions, crashes at any disk write or\n" +
			"send, torn log writes, failing writes, and which validators are Byzantine (up to --byzantine-stake of\n" +
			"the total, behaving as --behaviour). After every event it checks agreement, that every certificate\n" +
			"carries more than two thirds of the stake, that no honest validator double-signed or halted, and\n" +
			"that replays reject nothing the live run accepted; after GST, that heights keep finalizing. The same\n" +
			"--seed replays the same run exactly. Exit status 1 on a violation, with the seed and the last events.\n\n" +
			"--net takes comma-separated key=value: latency=MIN-MAX (e.g. 5-50ms), drop=P, dup=P,\n" +
			"partition=DURATION, gst=DURATION, crash=P, restart=MIN-MAX, writefail=P, gossip=DURATION.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "validators", Usage: "number of validators", Value: 4},
			&cli.StringFlag{Name: "stakes", Usage: "comma-separated stakes (default: random in 1..100)"},
			&cli.StringFlag{Name: "byzantine-stake", Usage: "largest fraction of the stake that is Byzantine, e.g. 0.3 or 1/4", Value: "0"},
			&cli.StringFlag{Name: "behaviour", Usage: "Byzantine behaviour: mixed, equivocator, nil-voter, silent, coalition", Value: "mixed"},
			&cli.Uint64Flag{Name: "seed", Usage: "PRNG seed", Value: 1},
			&cli.IntFlag{Name: "heights", Usage: "heights every honest validator must finalize", Value: 20},
			&cli.StringFlag{Name: "net", Usage: "network faults (see the description)", Value: "latency=5-50ms"},
			outputFlag(),
		},
		Action: func(c *cli.Context) error {
			asJSON, err := outputJSON(c)
			if err != nil {
				return err
			}
			cfg := sim.Config{Validators: c.Int("validators"), Seed: c.Uint64("seed"), Heights: c.Int("heights")}
			if cfg.Validators < 1 || cfg.Heights < 1 {
				return errors.New("--validators and --heights must be positive")
			}
			if s := c.String("stakes"); s != "" {
				if cfg.Stakes, err = parseStakes(s); err != nil {
					return err
				}
				if len(cfg.Stakes) != cfg.Validators {
					return fmt.Errorf("--stakes: %d stakes for %d validators", len(cfg.Stakes), cfg.Validators)
				}
			}
			if cfg.ByzantineStake, err = parseFraction(c.String("byzantine-stake")); err != nil {
				return fmt.Errorf("--byzantine-stake: %w", err)
			}
			if cfg.Behaviour, err = sim.ParseBehaviour(c.String("behaviour")); err != nil {
				return fmt.Errorf("--behaviour: %w", err)
			}
			if cfg.Net, err = sim.ParseNet(c.String("net")); err != nil {
				return fmt.Errorf("--net: %w", err)
			}
			r, err := sim.Run(cfg)
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(c.App.Writer, r); err != nil {
					return err
				}
			} else if err := r.WriteText(c.App.Writer); err != nil {
				return err
			}
			if r.Failed() {
				return fmt.Errorf("%d violation(s) with seed %d: %s", len(r.Violations), r.Seed, r.Violations[0])
			}
			return nil
		},
	}
}

func parseStakes(s string) ([]uint64, error) {
	var out []uint64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
		if err != nil || v == 0 {
			return nil, fmt.Errorf("--stakes: %q is not a positive integer", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// parseFraction reads "0.3", "30%" or "3/10" exactly into a sim.Fraction in [0, 1).
func parseFraction(s string) (sim.Fraction, error) {
	s = strings.TrimSpace(s)
	if num, den, ok := strings.Cut(s, "/"); ok {
		n, err1 := strconv.ParseUint(num, 10, 64)
		d, err2 := strconv.ParseUint(den, 10, 64)
		if err1 != nil || err2 != nil || d == 0 || n >= d {
			return sim.Fraction{}, fmt.Errorf("%q: want N/D with 0 <= N < D", s)
		}
		return sim.Fraction{Num: n, Den: d}, nil
	}
	den := uint64(1)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		s, den = p, 100
	}
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 9 {
		return sim.Fraction{}, fmt.Errorf("%q: at most 9 decimals", s)
	}
	digits := whole + frac
	for range frac {
		den *= 10
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || n >= den {
		return sim.Fraction{}, fmt.Errorf("%q: want a fraction in [0, 1), e.g. 0.3, 30%% or 3/10", s)
	}
	return sim.Fraction{Num: n, Den: den}, nil
}
