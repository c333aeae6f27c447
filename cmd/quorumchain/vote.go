package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
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
	"github.com/quorumchain/quorumchain/genesis"
	"github.com/quorumchain/quorumchain/light"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/staking"
	"github.com/quorumchain/quorumchain/validator"
)

// maxRememberedDuties bounds the duties vote --follow remembers having
// handled.
const maxRememberedDuties = 1024

func voteCommand() *cli.Command {
	return &cli.Command{
		Name:      "vote",
		Usage:     "act as the remote signer of a validator whose node runs with signer.mode = \"remote\"",
		UsageText: "quorumchain vote --key KEYFILE [--follow] [--genesis FILE] [--state FILE] [--node-id ID] [--tls-fingerprint HEX] [--tls-ca FILE]",
		Description: "Fetches what the validator of --key is asked to sign (consensus_getDuties: proposals, prevotes,\n" +
			"precommits), checks each request, signs it and sends the signature (consensus_submitSigned).\n" +
			"Prints one line per request: kind, height, round, block, the round's current tally, and\n" +
			"\"signed\" or \"refused: reason\".\n\n" +
			"A request is refused unless the digest recomputed from its kind, height, round, block and POL\n" +
			"round (with the chain id) equals its signHash, so an opaque hash is never signed; unless its\n" +
			"height is at most one above the chain tip the signer has verified itself, as a light client\n" +
			"(see 'quorumchain verify'), so a lying node cannot push the signer to a far-future height; and\n" +
			"unless the signer's own double-sign protection (--state, kept with fsync, crash-safe) allows it:\n" +
			"never two different signatures for one height/round/step, never a step before the last signed.\n" +
			"A refused request never changes the signer's state. One vote process at a time may use a state\n" +
			"file (it is locked).\n\n" +
			"With --genesis the light client verifies from the chain's genesis; without it, it trusts the\n" +
			"node's latest final header at the first connection (and says so). The node's identity is\n" +
			"pinned: its node id (--node-id, else the one it reports at the first connection) and, over\n" +
			"wss://, its certificate's public key (--tls-fingerprint, the SHA-256 of the certificate's\n" +
			"SubjectPublicKeyInfo in hex, which also accepts a self-signed certificate; else the key seen at\n" +
			"the first connection, whose certificate must verify against the system roots or --tls-ca).\n" +
			"A reconnection to a node with another identity stops vote.\n\n" +
			"Without --follow: sign what is pending now and exit (1 if anything was refused). With --follow:\n" +
			"keep signing as requests arrive (duties topic), reconnecting if the node goes away, until Ctrl-C.\n" +
			"--output json prints one JSON object per request instead of a line of text.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "key", Usage: "keystore file of the validator key", TakesFile: true},
			&cli.BoolFlag{Name: "follow", Usage: "keep signing new requests until Ctrl-C"},
			&cli.StringFlag{Name: "state", Usage: "double-sign protection file of this signer", DefaultText: "KEYDIR/ADDRESS-signer_state.json", TakesFile: true},
			&cli.StringFlag{Name: "genesis", Usage: "the chain's genesis.json: verify the chain from genesis", TakesFile: true},
			&cli.StringFlag{Name: "node-id", Usage: "the node id the node must report (chain_status nodeId)", DefaultText: "the one seen at the first connection"},
			&cli.StringFlag{Name: "tls-fingerprint", Usage: "hex SHA-256 of the node certificate's public key (wss://)", DefaultText: "the key seen at the first connection"},
			&cli.StringFlag{Name: "tls-ca", Usage: "PEM file of the roots that sign the node's certificate (wss://)", TakesFile: true},
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
			pins, err := newNodePins(c.String("node-id"), c.String("tls-fingerprint"), c.String("tls-ca"))
			if err != nil {
				return err
			}
			var doc *genesis.Doc
			if path := c.String("genesis"); path != "" {
				if doc, err = genesis.Load(path); err != nil {
					return err
				}
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
			guard, err := validator.NewGuard(validator.NewWriterFileState(statePath)) // the lock makes this the only writer
			if err != nil {
				return err
			}
			ctx, stop := signalContext()
			defer stop()
			v := newVoter(key, guard, doc, pins, u, c.App.Writer, c.App.ErrWriter, asJSON)
			n, err := dialTLS(ctx, u, v.tlsConfig())
			if err != nil {
				return err
			}
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

// dutyKey identifies a handled request. The id alone is not enough: a
// restarted node numbers its requests from 1 again.
type dutyKey struct {
	id       uint64
	signHash chain.Hash
}

// voter is the I/O shell of vote: it fetches requests, keeps a light
// client's view of the chain, has a validator.RequestSigner check and sign
// them, submits and prints.
type voter struct {
	key     *ecdsa.PrivateKey
	addr    chain.Address
	guard   *validator.Guard
	genesis *genesis.Doc // nil: trust the node's header at the first connection
	pins    *nodePins
	url     string
	out     io.Writer
	warn    io.Writer
	asJSON  bool

	signer  *validator.RequestSigner // from the first setup on (it needs the chain id)
	light   *light.Client
	handled map[dutyKey]uint64 // height of each handled request
	refused int
	// notices: print what was pinned and trusted (--follow only: without
	// it stderr carries nothing but an error).
	notices bool
}

// notice prints an informational line to stderr with --follow.
func (v *voter) notice(format string, args ...any) {
	if v.notices {
		fmt.Fprintf(v.warn, "quorumchain: "+format+"\n", args...)
	}
}

func newVoter(key *ecdsa.PrivateKey, guard *validator.Guard, doc *genesis.Doc, pins *nodePins, url string, out, warn io.Writer, asJSON bool) *voter {
	return &voter{key: key, addr: chain.PubkeyAddress(&key.PublicKey), guard: guard, genesis: doc, pins: pins, url: url,
		out: out, warn: warn, asJSON: asJSON, handled: make(map[dutyKey]uint64)}
}

// tlsConfig is the TLS configuration of every connection (wss://).
func (v *voter) tlsConfig() *tls.Config { return v.pins.tlsConfig() }

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

// setup checks the node's chain id and identity against what vote
// pinned (stopping on a mismatch), and points the light client at it,
// creating it at the first connection.
func (v *voter) setup(ctx context.Context, n *nodeClient) error {
	var st rpc.StatusResult
	if err := n.call(ctx, rpc.MethodStatus, nil, &st); err != nil {
		return err
	}
	chainID := st.ChainID
	switch {
	case v.signer != nil:
		chainID = v.signer.ChainID()
	case v.genesis != nil:
		chainID = v.genesis.ChainID
	}
	if st.ChainID != chainID {
		return &fatalError{fmt.Errorf("node at %s serves chain %q, not %q: stopping", v.url, st.ChainID, chainID)}
	}
	learned, err := v.pins.checkNodeID(st.NodeID)
	if err != nil {
		return &fatalError{fmt.Errorf("node at %s: %w: stopping", v.url, err)}
	}
	if learned {
		if fp := v.pins.tlsFingerprint(); fp != "" {
			v.notice("pinned node id %s and TLS key %s", st.NodeID, fp)
		} else {
			v.notice("pinned node id %s", st.NodeID)
		}
	}
	src := light.NewRPCSource(timedCaller{n})
	if v.light != nil {
		v.light.SetPrimary(src)
		return nil
	}
	if v.genesis != nil {
		v.light, err = light.FromGenesis(v.genesis, src, light.Options{})
	} else {
		var root *light.Trusted
		if root, err = v.firstUse(ctx, chainID, src); err != nil {
			return err
		}
		v.light, err = light.NewClient(chainID, root, src, light.Options{TrustingBlocks: staking.DefaultParams().UnbondingBlocks})
	}
	if err != nil {
		return &fatalError{err}
	}
	v.signer = validator.NewRequestSigner(chainID, v.key, v.guard)
	return nil
}

// firstUse is the light client's root without --genesis: the node's
// latest final header as first seen, or before the first block the
// validator set of height 1 it reports.
func (v *voter) firstUse(ctx context.Context, chainID string, src *light.RPCSource) (*light.Trusted, error) {
	root, err := light.TrustHeader(ctx, chainID, src, 0, chain.Hash{})
	if rpcCode(err) == rpc.CodeNotFound {
		set, verr := src.Validators(ctx, 1)
		if verr != nil {
			return nil, fmt.Errorf("light client: validators of height 1: %w", verr)
		}
		v.notice("warning: no --genesis: trusting the node's validator set of height 1 (%d members) as first seen", set.Len())
		return &light.Trusted{NextValidators: set}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("light client: first header: %w", err)
	}
	v.notice("warning: no --genesis: trusting the node's header %d %s as first seen", root.Height, chain.FormatHash(root.Hash))
	return root, nil
}

// verifiedTip is the highest height the light client has verified, after
// trying to verify up to height-1 when height lies beyond it plus one. An
// error is returned only when the node could not be reached; a chain that
// does not verify leaves the tip where it was (the request is then
// refused).
func (v *voter) verifiedTip(ctx context.Context, height uint64) (uint64, string, error) {
	tip := v.light.Latest().Height
	if height <= tip || height-tip <= 1 {
		return tip, "", nil
	}
	_, err := v.light.VerifyHeight(ctx, height-1)
	switch {
	case err == nil:
	case rpcCode(err) != 0, errors.Is(err, light.ErrInvalid), errors.Is(err, light.ErrMalformed), errors.Is(err, light.ErrBelowTrusted):
		return v.light.Latest().Height, oneLine(err.Error()), nil
	default:
		return 0, "", err
	}
	return v.light.Latest().Height, "", nil
}

// pending fetches and handles the pending requests; it returns how many
// there were.
func (v *voter) pending(ctx context.Context, n *nodeClient) (int, error) {
	var duties []rpc.DutyResult
	addr := v.addr
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
	v.notices = true
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
		if n = redial(ctx, v.url, v.tlsConfig(), v.warn, n.explain("", err)); n == nil {
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
	addr := v.addr
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
		fmt.Fprintf(v.warn, "quorumchain: signing for %s on chain %s; waiting for requests (Ctrl-C stops)\n", chain.FormatAddress(addr), v.signer.ChainID())
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
	tip, unverified, err := v.verifiedTip(ctx, d.Height)
	if err != nil {
		return err // the connection: retried from the pending requests
	}
	req := validator.Request{Validator: d.Validator, Kind: d.Kind, Height: d.Height, Round: d.Round, Block: d.Block, POLRound: d.POLRound, SignHash: d.SignHash}
	sig, err := v.signer.Sign(&req, tip)
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
	case validator.IsRefusal(err):
		line.Result, line.Reason = "refused", oneLine(err.Error())
		if unverified != "" {
			line.Reason += " (" + unverified + ")"
		}
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
