package sim

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
)

// tracer keeps the last events of a run (all of them with TraceAll) and
// formats them only when asked, so a passing run pays little for it.
type tracer struct {
	s    *sim
	all  bool
	size int
	buf  []traceRec
	next int // ring position when !all
	full bool
	w    io.Writer
}

type traceRec struct {
	at   time.Duration
	node int
	what string
	x    any
}

func (t *tracer) init(s *sim) {
	t.s = s
	t.all = s.cfg.TraceAll
	t.size = s.cfg.TraceLen
	t.w = s.cfg.TraceTo
}

func (t *tracer) rec(r traceRec) {
	if t.w != nil {
		fmt.Fprintln(t.w, t.format(&r))
	}
	if t.all {
		t.buf = append(t.buf, r)
		return
	}
	if len(t.buf) < t.size {
		t.buf = append(t.buf, r)
		return
	}
	t.buf[t.next] = r
	t.next = (t.next + 1) % t.size
	t.full = true
}

func (t *tracer) add(at time.Duration, node int, what string, x any) {
	t.rec(traceRec{at: at, node: node, what: what, x: x})
}

func (t *tracer) msg(at time.Duration, to int, m *message) {
	t.rec(traceRec{at: at, node: to, what: "recv", x: m})
}

// lines formats the kept events, oldest first.
func (t *tracer) lines() []string {
	out := make([]string, 0, len(t.buf))
	start := 0
	if t.full {
		start = t.next
	}
	for i := range t.buf {
		r := &t.buf[(start+i)%len(t.buf)]
		out = append(out, t.format(r))
	}
	return out
}

func (t *tracer) format(r *traceRec) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%12s ", fmtTime(r.at))
	if r.node >= 0 {
		fmt.Fprintf(&b, "n%-3d ", r.node)
	} else {
		b.WriteString("net  ")
	}
	b.WriteString(r.what)
	switch x := r.x.(type) {
	case nil:
	case string:
		if x != "" {
			b.WriteString(" " + x)
		}
	case *message:
		b.WriteString(" " + t.fmtMsg(x))
	case consensus.Input:
		b.WriteString(" " + t.fmtInput(x))
	default:
		fmt.Fprintf(&b, " %v", x)
	}
	return b.String()
}

func fmtTime(d time.Duration) string {
	return fmt.Sprintf("%d.%03ds", d/time.Second, (d%time.Second)/time.Millisecond)
}

func short(h chain.Hash) string {
	if h == (chain.Hash{}) {
		return "nil"
	}
	return chain.FormatHash(h)[:10]
}

func (t *tracer) who(a chain.Address) string {
	if i, ok := t.s.byIdx[a]; ok {
		if t.s.vals[i].byz {
			return fmt.Sprintf("n%d(byz)", i)
		}
		return fmt.Sprintf("n%d", i)
	}
	return chain.FormatAddress(a)[:10]
}

func (t *tracer) fmtVote(v *chain.Vote) string {
	if v == nil {
		return "<nil vote>"
	}
	return fmt.Sprintf("%s h=%d r=%d %s by %s", v.Type, v.Height, v.Round, short(v.BlockHash), t.who(v.Validator))
}

func (t *tracer) fmtProp(p *chain.Proposal) string {
	if p == nil {
		return "<nil proposal>"
	}
	return fmt.Sprintf("proposal h=%d r=%d pol=%d %s by %s", p.Height, p.Round, p.POLRound, short(p.BlockHash), t.who(p.Proposer))
}

func (t *tracer) fmtMsg(m *message) string {
	from := fmt.Sprintf("from n%d", m.from)
	switch m.kind {
	case msgVote:
		return t.fmtVote(m.vote) + " " + from
	case msgProposal:
		return t.fmtProp(m.proposal) + " " + from
	case msgVotes:
		return fmt.Sprintf("%d votes %s", len(m.votes), from)
	case msgEvidence:
		return fmt.Sprintf("evidence against %s h=%d %s", t.who(m.evidence.Validator()), m.evidence.Height(), from)
	case msgStatus:
		return fmt.Sprintf("status final h=%d %s", m.height, from)
	case msgRoundStatus:
		return fmt.Sprintf("round-status h=%d r=%d %s", m.status.Height, m.status.Round, from)
	case msgSyncRequest:
		return fmt.Sprintf("sync-req h=%d %s", m.height, from)
	case msgSyncResponse:
		return fmt.Sprintf("sync-resp h=%d %s %s", m.cert.Height, short(m.cert.BlockHash), from)
	}
	return "?"
}

func (t *tracer) fmtInput(in consensus.Input) string {
	switch in := in.(type) {
	case consensus.NewHeight:
		return fmt.Sprintf("NewHeight h=%d", in.Height)
	case consensus.ProposalReceived:
		return "ProposalReceived " + t.fmtProp(in.Proposal)
	case consensus.VoteReceived:
		return "VoteReceived " + t.fmtVote(in.Vote)
	case consensus.TimeoutFired:
		return fmt.Sprintf("TimeoutFired h=%d r=%d %s", in.Height, in.Round, in.Step)
	case consensus.BlockChecked:
		s := fmt.Sprintf("BlockChecked h=%d %s valid=%v", in.Height, short(in.Hash), in.Valid)
		if !in.Valid {
			s += " (" + in.Reason + ")"
		}
		return s
	case consensus.BlockBuilt:
		return fmt.Sprintf("BlockBuilt h=%d r=%d %s", in.Height, in.Round, short(in.Block.Hash()))
	case consensus.OwnVote:
		return "OwnVote " + t.fmtVote(in.Vote)
	case consensus.OwnProposal:
		return "OwnProposal " + t.fmtProp(in.Proposal)
	case consensus.SignRefused:
		return fmt.Sprintf("SignRefused h=%d r=%d %s: %s", in.Height, in.Round, in.Step, in.Reason)
	case consensus.CommitReceived:
		return fmt.Sprintf("CommitReceived h=%d r=%d %s", in.Certificate.Height, in.Certificate.Round, short(in.Certificate.BlockHash))
	}
	return fmt.Sprintf("%T", in)
}
