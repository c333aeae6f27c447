package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/rpc"
)

func subscribeCommand() *cli.Command {
	return &cli.Command{
		Name:  "subscribe",
		Usage: "print chain events as JSON lines; reconnect and resume by height if the node goes away",
		Description: "Subscribes to the --topics of the node at --rpc and prints each event's result object as one\n" +
			"JSON line (always JSON, whatever --output says). Topics: finalized, blocks, votes, txs,\n" +
			"validators, duties.\n\n" +
			"finalized and txs events are delivered without gaps or duplicates: they start at --from-height\n" +
			"(default: the next final height), and after a lost connection (retried with a backoff of up to\n" +
			reconnectDelayMax.String() + ") or a lagged subscription they resume after the last height printed.\n" +
			"The other topics are live only: events sent while disconnected are missed, and a warning says so.\n" +
			"Stops after --count events, or on Ctrl-C.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "topics", Usage: "comma-separated topics: finalized, blocks, votes, txs, validators, duties", Value: string(rpc.TopicFinalized)},
			&cli.StringFlag{Name: "from-height", Usage: "replay finalized and txs events from this height", DefaultText: "the next final height"},
			&cli.IntFlag{Name: "count", Usage: "exit after this many events in total", DefaultText: "never"},
			&cli.StringFlag{Name: "filter-address", Usage: "txs: only transactions touching this address"},
			&cli.StringFlag{Name: "filter-hash", Usage: "txs: only the transaction with this hash"},
			&cli.StringFlag{Name: "filter-validator", Usage: "duties: the validator whose sign requests to print (required for duties)"},
			rpcFlag(),
			outputFlag(),
		},
		Action: func(c *cli.Context) error {
			if _, err := args(c, 0, 0, "no arguments"); err != nil {
				return err
			}
			if _, err := outputJSON(c); err != nil {
				return err
			}
			cursors, err := subscribeCursors(c)
			if err != nil {
				return err
			}
			count := c.Int("count")
			if c.IsSet("count") && count <= 0 {
				return fmt.Errorf("--count %d: must be positive", count)
			}
			u, err := rpcURL(c, true)
			if err != nil {
				return err
			}
			ctx, stop := signalContext()
			defer stop()
			s := &subscriber{url: u, cursors: cursors, limit: count, out: c.App.Writer, warn: c.App.ErrWriter}
			return s.run(ctx)
		},
	}
}

// subscribeCursors turns the flags into one cursor per topic.
func subscribeCursors(c *cli.Context) ([]*topicCursor, error) {
	var from uint64
	if c.IsSet("from-height") {
		h, err := parseHeight("--from-height", c.String("from-height"))
		if err != nil {
			return nil, err
		}
		from = h
	}
	var txFilter, dutyFilter *rpc.Filter
	if s := c.String("filter-address"); s != "" {
		a, err := chain.ParseAddress(s)
		if err != nil {
			return nil, fmt.Errorf("--filter-address: %w", err)
		}
		txFilter = &rpc.Filter{Address: &a}
	}
	if s := c.String("filter-hash"); s != "" {
		if txFilter != nil {
			return nil, errors.New("--filter-address and --filter-hash: give one of them")
		}
		h, err := chain.ParseHash(s)
		if err != nil {
			return nil, fmt.Errorf("--filter-hash: %w", err)
		}
		txFilter = &rpc.Filter{Hash: &h}
	}
	if s := c.String("filter-validator"); s != "" {
		a, err := chain.ParseAddress(s)
		if err != nil {
			return nil, fmt.Errorf("--filter-validator: %w", err)
		}
		dutyFilter = &rpc.Filter{Validator: &a}
	}

	var cursors []*topicCursor
	replays := false
	for _, name := range strings.Split(c.String("topics"), ",") {
		t := rpc.Topic(strings.TrimSpace(name))
		if !slices.Contains(rpc.Topics, t) {
			return nil, fmt.Errorf("--topics: unknown topic %q: want some of %s", t, topicList())
		}
		if slices.ContainsFunc(cursors, func(cur *topicCursor) bool { return cur.topic == t }) {
			return nil, fmt.Errorf("--topics: %s given twice", t)
		}
		cur := &topicCursor{topic: t, next: from}
		switch t {
		case rpc.TopicFinalized:
			cur.replay = true
		case rpc.TopicTxs:
			cur.replay, cur.filter = true, txFilter
		case rpc.TopicDuties:
			if dutyFilter == nil {
				return nil, errors.New("--topics duties needs --filter-validator ADDR")
			}
			cur.filter = dutyFilter
		}
		replays = replays || cur.replay
		cursors = append(cursors, cur)
	}
	has := func(t rpc.Topic) bool {
		return slices.ContainsFunc(cursors, func(cur *topicCursor) bool { return cur.topic == t })
	}
	switch {
	case txFilter != nil && !has(rpc.TopicTxs):
		return nil, errors.New("--filter-address and --filter-hash apply to the txs topic: add it to --topics")
	case dutyFilter != nil && !has(rpc.TopicDuties):
		return nil, errors.New("--filter-validator applies to the duties topic: add it to --topics")
	case from != 0 && !replays:
		return nil, errors.New("--from-height applies to the finalized and txs topics: add one to --topics")
	}
	return cursors, nil
}

func topicList() string {
	names := make([]string, len(rpc.Topics))
	for i, t := range rpc.Topics {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// topicCursor is where the output of one topic stands.
//
// For finalized, every height below next was printed. For txs, every event
// of the blocks below next was printed, and seen holds the hashes printed
// at height next. A replay topic resubscribes with fromHeight next, and
// the events it gets again are dropped, so output has no gap and no
// duplicate. next is 0 until known (the first subscription then starts at
// the next final height).
type topicCursor struct {
	topic  rpc.Topic
	filter *rpc.Filter
	replay bool
	next   uint64
	seen   map[chain.Hash]bool
}

// admit reports whether an event is new, and records it as printed.
func (cur *topicCursor) admit(raw json.RawMessage) (bool, error) {
	if !cur.replay {
		return true, nil
	}
	var ev struct {
		Height *uint64     `json:"height"`
		Hash   *chain.Hash `json:"hash"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		return false, fmt.Errorf("unexpected %s event: %w", cur.topic, err)
	}
	if ev.Height == nil {
		return true, nil // a pending transaction: live only
	}
	h := *ev.Height
	if cur.topic == rpc.TopicFinalized {
		if h < cur.next {
			return false, nil
		}
		cur.next = h + 1
		return true, nil
	}
	if h < cur.next {
		return false, nil
	}
	if h > cur.next || cur.seen == nil {
		cur.next, cur.seen = h, make(map[chain.Hash]bool)
	}
	if ev.Hash != nil {
		if cur.seen[*ev.Hash] {
			return false, nil
		}
		cur.seen[*ev.Hash] = true
	}
	return true, nil
}

// subscriber prints the events of its cursors' topics, reconnecting when
// the node goes away.
type subscriber struct {
	url     string
	cursors []*topicCursor
	limit   int // stop after this many events; 0: never
	printed int
	out     io.Writer
	warn    io.Writer
}

// subMsg is what a subscription's goroutine passes to the printing loop:
// an event, or (end) why the subscription ended.
type subMsg struct {
	cur *topicCursor
	raw json.RawMessage
	end bool
	err error
}

// errDone ends a session because --count events were printed or the
// command was interrupted.
var errDone = errors.New("done")

func (s *subscriber) run(ctx context.Context) error {
	n, err := dialURL(ctx, s.url)
	if err != nil {
		return err
	}
	for {
		err := s.session(ctx, n)
		n.Close()
		if errors.Is(err, errDone) || ctx.Err() != nil {
			return nil
		}
		if !retryable(err) {
			return n.explain("", err)
		}
		if n = redial(ctx, s.url, nil, s.warn, n.explain("", err)); n == nil {
			return nil
		}
		fmt.Fprintf(s.warn, "quorumchain: warning: reconnected to %s, resuming %s\n", s.url, s.resumeNote())
	}
}

func (s *subscriber) resumeNote() string {
	var parts []string
	for _, cur := range s.cursors {
		if cur.replay {
			parts = append(parts, fmt.Sprintf("%s from height %d", cur.topic, cur.next))
		} else {
			parts = append(parts, fmt.Sprintf("%s live (events meanwhile were missed)", cur.topic))
		}
	}
	return strings.Join(parts, ", ")
}

// session subscribes every topic on n and prints events until the count
// is reached or ctx is done (errDone), or a subscription fails.
func (s *subscriber) session(ctx context.Context, n *nodeClient) error {
	if slices.ContainsFunc(s.cursors, func(cur *topicCursor) bool { return cur.replay && cur.next == 0 }) {
		var st rpc.StatusResult
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		err := n.Call(cctx, rpc.MethodStatus, nil, &st)
		cancel()
		if err != nil {
			return err
		}
		for _, cur := range s.cursors {
			if cur.replay && cur.next == 0 {
				cur.next = st.Height + 1
			}
		}
	}

	sctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	msgs := make(chan subMsg)
	start := func(cur *topicCursor, from uint64) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			forwardSubscription(sctx, n, cur, from, msgs)
		}()
	}
	for _, cur := range s.cursors {
		start(cur, cur.next)
	}
	for {
		var m subMsg
		select {
		case <-ctx.Done():
			return errDone
		case m = <-msgs:
		}
		if m.end {
			var lag *rpc.LaggedError
			if !errors.As(m.err, &lag) {
				if m.err == nil {
					m.err = fmt.Errorf("%s subscription ended by the node", m.cur.topic)
				}
				return m.err
			}
			from := m.cur.next
			if m.cur.replay {
				from = min(from, lag.ResumeFromHeight)
			} else {
				fmt.Fprintf(s.warn, "quorumchain: warning: %s subscription lagged and events were missed; resubscribing\n", m.cur.topic)
			}
			start(m.cur, from)
			continue
		}
		ok, err := m.cur.admit(m.raw)
		if err != nil {
			return &fatalError{err}
		}
		if !ok {
			continue
		}
		var line bytes.Buffer
		if err := json.Compact(&line, m.raw); err != nil {
			return &fatalError{fmt.Errorf("node sent malformed %s event: %w", m.cur.topic, err)}
		}
		line.WriteByte('\n')
		if _, err := s.out.Write(line.Bytes()); err != nil {
			return &fatalError{err}
		}
		s.printed++
		if s.limit > 0 && s.printed >= s.limit {
			return errDone
		}
	}
}

// forwardSubscription subscribes cur's topic from height from (replay
// topics) and passes its events, then how it ended, to msgs.
func forwardSubscription(ctx context.Context, n *nodeClient, cur *topicCursor, from uint64, msgs chan<- subMsg) {
	send := func(m subMsg) bool {
		select {
		case msgs <- m:
			return true
		case <-ctx.Done():
			return false
		}
	}
	if !cur.replay {
		from = 0
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	sub, err := n.Subscribe(cctx, cur.topic, cur.filter, from)
	cancel()
	if err != nil {
		send(subMsg{cur: cur, end: true, err: err})
		return
	}
	for {
		select {
		case raw, ok := <-sub.Results():
			if !ok {
				send(subMsg{cur: cur, end: true, err: <-sub.Err()})
				return
			}
			if !send(subMsg{cur: cur, raw: raw}) {
				return
			}
		case <-ctx.Done():
			return
		}
	}
}
