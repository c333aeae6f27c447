package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/validator"
)

// maxRememberedDuties bounds the duties vote --follow remembers having
// handled.
const maxRememberedDuties = 1024

func voteCommand() *cli.Command {
	return &cli.Command{
		Name:      "vote",
		Usage:     "act as the remote signer of a validator whose node runs with signer.mode = \"remote\"",
		UsageText: "quorumchain vote --key KEYFILE [--follow] [--state FILE]",
		Description: "Fetches what the validator of --key is asked to sign (consensus_getDuties: proposals, prevotes,\n" +
			"precommits), checks each request, signs it and sends the signature (consensus_submitSigned).\n" +
			"Prints one line per request: kind, height, round, block, the round's current tally, and\n" +
			"\"signed\" or \"refused: reason\".\n\n" +
			"A request is refused unless the digest recomputed from its kind, height, round, block and POL\n" +
			"round (with the node's chain id) equals its signHash, so an opaque hash is never signed; and\n" +
			"unless the signer's own double-sign protection (--state, kept with fsync) allows it: never two\n" +
			"different signatures for one height/round/step, never a step before the last signed. One vote\n" +
			"process at a time may use a state file (it is locked).\n\n" +
			"Without --follow: sign what is pending now and exit (1 if anything was refused). With --follow:\n" +
			"keep signing as requests arrive (duties topic), reconnecting if the node goes away, until Ctrl-C.\n" +
			"--output json prints one JSON object per request instead of a line of text.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "key", Usage: "keystore file of the validator key", TakesFile: true},
			&cli.BoolFlag{Name: "follow", Usage: "keep signing new requests until Ctrl-C"},
			&cli.StringFlag{Name: "state", Usage: "double-sign protection file of this signer", DefaultText: "KEYDIR/ADDRESS-signer_state.json", TakesFile: true},
			passwordFileFlag(),
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
			keyPath, err := requiredString(c, "key")
			if err != nil {
				return err
			}
			u, err := rpcURL(c, c.Bool("follow"))
			if err != nil {
				return err
			}
			key, addr, err := loadKey(c, keyPath)
			if err != nil {
				return err
			}
			statePath := c.String("state")
			if statePath == "" {
				statePath = filepath.Join(filepath.Dir(keyPath), chain.FormatAddress(addr)+"-signer_state.json")
			}
			unlock, err := lockSignerState(statePath)
			if err != nil {
				return err
			}
			defer unlock()
			guard, err := validator.NewGuard(validator.FileState{Path: statePath})
			if err != nil {
				return err
			}
			ctx, stop := signalContext()
			defer stop()
			n, err := dialURL(ctx, u)
			if err != nil {
				return err
			}
			v := newVoter(&dutySigner{addr: addr, key: key, guard: guard}, u, c.App.Writer, c.App.ErrWriter, asJSON)
			if c.Bool("follow") {
				return v.follow(ctx, n)
			}
			defer n.Close()
			return v.once(ctx, n)
		},
	}
}

// lockSignerState takes an exclusive lock on statePath + ".lock" for as
// long as this process signs: two signers sharing one state file could
// each sign one of two conflicting votes.
func lockSignerState(statePath string) (unlock func(), err error) {
	lockPath := statePath + ".lock"
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("signer state lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another vote process is signing with %s (locked %s): run one signer per validator", statePath, lockPath)
		}
		return nil, fmt.Errorf("signer state lock %s: %w", lockPath, err)
	}
	return func() { f.Close() }, nil // closing releases the lock
}

// errRefused is wrapped by the refusals of dutySigner.sign that are not
// the Guard's (validator.ErrConflict, validator.ErrRegression).
var errRefused = errors.New("refused")

// isRefusal reports whether err is a request the signer will not sign, as
// opposed to a failure (such as its state not reaching the disk) that must
// stop it.
func isRefusal(err error) bool {
	return errors.Is(err, errRefused) || errors.Is(err, validator.ErrConflict) || errors.Is(err, validator.ErrRegression)
}

// dutySigner checks sign requests and signs them under double-sign
// protection. It has no I/O but the Guard's state file.
type dutySigner struct {
	chainID string
	addr    chain.Address
	key     *ecdsa.PrivateKey
	guard   *validator.Guard
}

// dutyDigest recomputes the digest a request asks for from its fields, and
// returns its signing step.
func dutyDigest(chainID string, d *rpc.DutyResult) (validator.SignStep, chain.Hash, error) {
	var block chain.Hash
	if d.Block != nil {
		block = *d.Block
	}
	switch d.Kind {
	case "proposal":
		if d.Block == nil || block == (chain.Hash{}) {
			return 0, chain.Hash{}, fmt.Errorf("%w: proposal without a block", errRefused)
		}
		if d.POLRound == nil {
			return 0, chain.Hash{}, fmt.Errorf("%w: proposal without polRound", errRefused)
		}
		pol := *d.POLRound
		if pol < chain.NoPOLRound || (pol >= 0 && uint32(pol) >= d.Round) {
			return 0, chain.Hash{}, fmt.Errorf("%w: proposal polRound %d not below round %d", errRefused, pol, d.Round)
		}
		return validator.StepProposal, chain.ProposalSignHash(chainID, d.Height, d.Round, pol, block), nil
	case "prevote", "precommit":
		if d.POLRound != nil {
			return 0, chain.Hash{}, fmt.Errorf("%w: %s with a polRound", errRefused, d.Kind)
		}
		t, step := chain.Prevote, validator.StepPrevote
		if d.Kind == "precommit" {
			t, step = chain.Precommit, validator.StepPrecommit
		}
		return step, chain.VoteSignHash(chainID, t, d.Height, d.Round, block), nil
	}
	return 0, chain.Hash{}, fmt.Errorf("%w: unknown kind %q", errRefused, d.Kind)
}

// sign checks d and signs it. A refusal wraps errRefused or is one of the
// Guard's errors (see isRefusal); any other error means the signer must
// stop.
func (s *dutySigner) sign(d *rpc.DutyResult) (chain.Signature, error) {
	if d.Validator != (chain.Address{}) && d.Validator != s.addr {
		return chain.Signature{}, fmt.Errorf("%w: request for validator %s, this key is %s", errRefused, chain.FormatAddress(d.Validator), chain.FormatAddress(s.addr))
	}
	step, digest, err := dutyDigest(s.chainID, d)
	if err != nil {
		return chain.Signature{}, err
	}
	if digest != d.SignHash {
		return chain.Signature{}, fmt.Errorf("%w: signHash %s does not match the request's fields (want %s): never signing an opaque hash",
			errRefused, chain.FormatHash(d.SignHash), chain.FormatHash(digest))
	}
	return s.guard.Sign(d.Height, d.Round, step, digest, func(h chain.Hash) (chain.Signature, error) { return chain.Sign(s.key, h) })
}

// dutyKey identifies a handled request. The id alone is not enough: a
// restarted node numbers its requests from 1 again.
type dutyKey struct {
	id       uint64
	signHash chain.Hash
}

// voter is the I/O shell of vote: it fetches requests, has dutySigner
// check and sign them, submits and prints.
type voter struct {
	signer  *dutySigner
	url     string
	out     io.Writer
	warn    io.Writer
	asJSON  bool
	handled map[dutyKey]uint64 // height of each handled request
	refused int
}

func newVoter(s *dutySigner, url string, out, warn io.Writer, asJSON bool) *voter {
	return &voter{signer: s, url: url, out: out, warn: warn, asJSON: asJSON, handled: make(map[dutyKey]uint64)}
}

// dutyLine is the JSON form of the line printed for a request.
type dutyLine struct {
	ID       uint64           `json:"id"`
	Kind     string           `json:"kind"`
	Height   uint64           `json:"height"`
	Round    uint32           `json:"round"`
	Block    *chain.Hash      `json:"block"`
	POLRound *int32           `json:"polRound,omitempty"`
	Tally    *rpc.TallyResult `json:"tally,omitempty"`
	Result   string           `json:"result"` // signed or refused
	Reason   string           `json:"reason,omitempty"`
}

// setup reads the node's chain id; it must not change between
// connections.
func (v *voter) setup(ctx context.Context, n *nodeClient) error {
	var st rpc.StatusResult
	if err := n.call(ctx, rpc.MethodStatus, nil, &st); err != nil {
		return err
	}
	if v.signer.chainID != "" && v.signer.chainID != st.ChainID {
		return &fatalError{fmt.Errorf("node at %s now serves chain %q, not %q: stopping", v.url, st.ChainID, v.signer.chainID)}
	}
	v.signer.chainID = st.ChainID
	return nil
}

// pending fetches and handles the pending requests; it returns how many
// there were.
func (v *voter) pending(ctx context.Context, n *nodeClient) (int, error) {
	var duties []rpc.DutyResult
	addr := v.signer.addr
	if err := n.call(ctx, rpc.MethodGetDuties, rpc.DutiesParams{Validator: &addr}, &duties); err != nil {
		var hint string
		if rpcCode(err) == rpc.CodeUnavailable {
			hint = fmt.Sprintf(" (does the node run with signer.mode = \"remote\" and signer.address = %q?)", chain.FormatAddress(addr))
		}
		return 0, fmt.Errorf("%w%s", err, hint)
	}
	for i := range duties {
		if err := v.handle(ctx, n, &duties[i]); err != nil {
			return len(duties), err
		}
	}
	return len(duties), nil
}

// once signs what is pending and returns.
func (v *voter) once(ctx context.Context, n *nodeClient) error {
	if err := v.setup(ctx, n); err != nil {
		return err
	}
	count, err := v.pending(ctx, n)
	if err != nil {
		return err
	}
	if count == 0 && !v.asJSON {
		_, err := fmt.Fprintln(v.out, "nothing to sign")
		return err
	}
	if v.refused > 0 {
		return fmt.Errorf("refused %d of %d sign requests (see above)", v.refused, count)
	}
	return nil
}

// follow signs requests as they arrive until ctx is done, reconnecting
// when the node goes away.
func (v *voter) follow(ctx context.Context, n *nodeClient) error {
	first := true
	for {
		err := v.session(ctx, n, first)
		n.Close()
		if ctx.Err() != nil {
			return nil
		}
		if !retryable(err) {
			return n.explain("", err)
		}
		first = false
		if n = redial(ctx, v.url, v.warn, n.explain("", err)); n == nil {
			return nil
		}
		fmt.Fprintf(v.warn, "quorumchain: warning: reconnected to %s\n", v.url)
	}
}

// session subscribes to the duties topic, then handles what was pending
// (so that nothing falls between the two), then each new request.
func (v *voter) session(ctx context.Context, n *nodeClient, first bool) error {
	if err := v.setup(ctx, n); err != nil {
		if first {
			return &fatalError{err}
		}
		return err
	}
	addr := v.signer.addr
	subscribe := func() (*rpc.Subscription, error) {
		sctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		return n.Subscribe(sctx, rpc.TopicDuties, &rpc.Filter{Validator: &addr}, 0)
	}
	sub, err := subscribe()
	if err != nil {
		if first {
			return &fatalError{n.explain(rpc.MethodSubscribe, err)}
		}
		return err
	}
	if _, err := v.pending(ctx, n); err != nil {
		return err
	}
	if first && !v.asJSON {
		fmt.Fprintf(v.warn, "quorumchain: signing for %s on chain %s; waiting for requests (Ctrl-C stops)\n", chain.FormatAddress(addr), v.signer.chainID)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case raw, ok := <-sub.Results():
			if !ok {
				err := <-sub.Err()
				var lag *rpc.LaggedError
				if !errors.As(err, &lag) {
					if err == nil {
						err = errors.New("duties subscription ended by the node")
					}
					return err
				}
				// Resubscribe, then poll what was missed meanwhile.
				if sub, err = subscribe(); err != nil {
					return err
				}
				if _, err := v.pending(ctx, n); err != nil {
					return err
				}
				continue
			}
			var d rpc.DutyResult
			if err := json.Unmarshal(raw, &d); err != nil {
				fmt.Fprintf(v.warn, "quorumchain: warning: ignoring malformed duties event: %s\n", oneLine(err.Error()))
				continue
			}
			if err := v.handle(ctx, n, &d); err != nil {
				return err
			}
		}
	}
}

// handle checks, signs, submits and prints one request. It returns an
// error only when signing must stop or the node cannot be reached.
func (v *voter) handle(ctx context.Context, n *nodeClient, d *rpc.DutyResult) error {
	k := dutyKey{id: d.ID, signHash: d.SignHash}
	if _, done := v.handled[k]; done {
		return nil
	}
	line := dutyLine{ID: d.ID, Kind: d.Kind, Height: d.Height, Round: d.Round, Block: d.Block, POLRound: d.POLRound, Result: "signed"}
	sig, err := v.signer.sign(d)
	switch {
	case err == nil:
		serr := n.call(ctx, rpc.MethodSubmitSigned, rpc.SubmitSignedParams{Request: &d.ID, Signature: sig[:]}, nil)
		switch {
		case serr == nil:
		case rpcCode(serr) == rpc.CodeDutyNotFound:
			line.Reason = "the node no longer waits for it"
		case rpcCode(serr) != 0:
			line.Result, line.Reason = "refused", "node rejected the signature: "+oneLine(serr.Error())
			v.refused++
		default:
			return serr // the connection: retried from the pending requests
		}
	case isRefusal(err):
		line.Result, line.Reason = "refused", oneLine(err.Error())
		v.refused++
	default:
		return &fatalError{fmt.Errorf("stopping: %s %d/%d: %w", d.Kind, d.Height, d.Round, err)}
	}
	v.remember(k, d.Height)
	line.Tally = v.tally(ctx, n, d)
	return v.print(&line)
}

// remember records a handled request, forgetting the oldest heights when
// there are too many.
func (v *voter) remember(k dutyKey, height uint64) {
	v.handled[k] = height
	if len(v.handled) <= maxRememberedDuties {
		return
	}
	var lowest uint64 = 1<<64 - 1
	for _, h := range v.handled {
		lowest = min(lowest, h)
	}
	for key, h := range v.handled {
		if h == lowest {
			delete(v.handled, key)
		}
	}
}

// tally is the current stake tally of the request's vote type, when the
// node is still at its height and round; nil otherwise (best effort).
func (v *voter) tally(ctx context.Context, n *nodeClient, d *rpc.DutyResult) *rpc.TallyResult {
	if d.Kind != "prevote" && d.Kind != "precommit" {
		return nil
	}
	var rs rpc.RoundStateResult
	if err := n.call(ctx, rpc.MethodRoundState, nil, &rs); err != nil || rs.Height != d.Height || rs.Round != d.Round {
		return nil
	}
	t := rs.Votes.Prevote
	if d.Kind == "precommit" {
		t = rs.Votes.Precommit
	}
	return &rpc.TallyResult{VotedStake: t.VotedStake, TotalStake: t.TotalStake, Quorum: t.Quorum}
}

func (v *voter) print(l *dutyLine) error {
	if v.asJSON {
		b, err := json.Marshal(l)
		if err != nil {
			return err
		}
		_, err = v.out.Write(append(b, '\n'))
		return err
	}
	block := "nil"
	if l.Block != nil {
		block = shortHash(*l.Block)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-9s h=%d r=%d block=%s", l.Kind, l.Height, l.Round, block)
	if l.POLRound != nil {
		fmt.Fprintf(&b, " pol=%d", *l.POLRound)
	}
	if l.Tally != nil {
		fmt.Fprintf(&b, " %ss=%s/%s (%s)", l.Kind, l.Tally.VotedStake, l.Tally.TotalStake, share(uint64(l.Tally.VotedStake), uint64(l.Tally.TotalStake)))
	}
	b.WriteString("  ")
	b.WriteString(l.Result)
	if l.Reason != "" {
		if l.Result == "signed" {
			b.WriteString(" (" + l.Reason + ")")
		} else {
			b.WriteString(": " + l.Reason)
		}
	}
	b.WriteByte('\n')
	_, err := io.WriteString(v.out, b.String())
	return err
}

// shortHash is the first 4 bytes of h in hex, for one-line output.
func shortHash(h chain.Hash) string { return chain.FormatHash(h)[:10] }
