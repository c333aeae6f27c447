package testnet

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// What bench reads of the node processes around a run: CPU and memory from
// /proc, and the consensus-path fsync and height counters from each node's
// /metrics.

// clockTicks is USER_HZ, the unit of /proc/PID/stat CPU times on Linux.
const clockTicks = 100

type procSample struct {
	ticks        uint64
	rssMB, hwmMB float64
}

// readProcs samples CPU ticks and memory of every running node process.
func readProcs(m *Manifest) map[string]procSample {
	out := make(map[string]procSample, len(m.Nodes))
	for _, n := range m.Nodes {
		if n.PID <= 0 {
			continue
		}
		var s procSample
		if b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(n.PID), "stat")); err == nil {
			// Fields after the command name (which may hold spaces): utime is 14th, stime 15th overall.
			if i := strings.LastIndexByte(string(b), ')'); i > 0 {
				f := strings.Fields(string(b[i+1:]))
				if len(f) > 12 {
					s.ticks = parseTicks(f[11]) + parseTicks(f[12])
				}
			}
		}
		if b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(n.PID), "status")); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				f := strings.Fields(line)
				if len(f) < 2 {
					continue
				}
				kb, err := strconv.ParseFloat(f[1], 64)
				if err != nil {
					continue
				}
				switch f[0] {
				case "VmRSS:":
					s.rssMB = kb / 1024
				case "VmHWM:":
					s.hwmMB = kb / 1024
				}
			}
		}
		out[n.Name] = s
	}
	return out
}

// parseTicks reads a /proc tick count; a field that does not parse (a
// process that changed under us) counts as zero.
func parseTicks(s string) uint64 {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0
	}
	return v
}

// nodeCounters are the counters bench reads from a node's GET /metrics.
type nodeCounters struct {
	height uint64
	fsyncs map[string]float64 // quorumchain_fsyncs_total by file
	peer   map[string]float64 // peer messages: received, duplicates (of those received), sent
	ok     bool
}

// readCounters scrapes every node's /metrics; a node that does not answer
// is left out (its figures are then not reported).
func readCounters(ctx context.Context, m *Manifest) map[string]nodeCounters {
	out := make(map[string]nodeCounters, len(m.Nodes))
	for _, n := range m.Nodes {
		ms, err := ReadMetrics(ctx, n)
		if err != nil {
			continue
		}
		c := nodeCounters{fsyncs: make(map[string]float64), peer: make(map[string]float64), ok: true}
		if h, ok := ms.Value("quorumchain_height"); ok {
			c.height = uint64(h)
		}
		for _, file := range []string{"wal", "signer", "store"} {
			if v, ok := ms.Value("quorumchain_fsyncs_total", "file", file); ok {
				c.fsyncs[file] = v
			}
		}
		for key, metric := range map[string]string{
			"received":   "quorumchain_p2p_messages_received_total",
			"duplicates": "quorumchain_p2p_duplicates_dropped_total",
			"sent":       "quorumchain_p2p_messages_sent_total",
		} {
			if v, ok := ms.Value(metric); ok {
				c.peer[key] = v
			}
		}
		out[n.Name] = c
	}
	return out
}

// Metrics are a node's Prometheus metrics, as its GET /metrics wrote them.
type Metrics map[string]*dto.MetricFamily

// ReadMetrics reads node n's GET /metrics (within 3 s, and at most 4 MiB).
func ReadMetrics(ctx context.Context, n Node) (Metrics, error) {
	if n.HTTP == "" {
		return nil, fmt.Errorf("testnet: %s has no HTTP endpoint", n.Name)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(n.HTTP, "/")+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("testnet: %s: metrics: %w", n.Name, err)
	}
	defer resp.Body.Close() //nolint:errcheck // read only
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("testnet: %s: metrics: %s", n.Name, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("testnet: %s: metrics: %w", n.Name, err)
	}
	return Metrics(fams), nil
}

// Value returns the value of the sample of metric name (a counter, gauge
// or untyped) whose labels include every name, value pair of labels.
func (ms Metrics) Value(name string, labels ...string) (float64, bool) {
	fam, ok := ms[name]
	if !ok {
		return 0, false
	}
	for _, m := range fam.GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue(), true
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue(), true
		case m.GetUntyped() != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

func hasLabels(m *dto.Metric, pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == pairs[i] && l.GetValue() == pairs[i+1] {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// fsyncsPerHeight is the fsyncs of each file per finalized height on each
// node over a run, from counters read before (a) and after (b) it.
func fsyncsPerHeight(m *Manifest, a, b map[string]nodeCounters) []NodeFsyncs {
	var out []NodeFsyncs
	for _, r := range perHeight(m, a, b, func(c nodeCounters) map[string]float64 { return c.fsyncs }) {
		nf := NodeFsyncs{Name: r.Name, Heights: r.Heights, PerHeight: r.PerHeight}
		for _, per := range r.PerHeight {
			nf.Total += per
		}
		out = append(out, nf)
	}
	return out
}

// peerMessagesPerHeight is each node's peer messages per finalized height
// over a run: received, the duplicates among them (gossip it had already),
// and sent.
func peerMessagesPerHeight(m *Manifest, a, b map[string]nodeCounters) []NodePerHeight {
	return perHeight(m, a, b, func(c nodeCounters) map[string]float64 { return c.peer })
}

// perHeight divides the growth of each of a node's counters (those pick
// returns) by the heights finalized between the readings a and b. A node
// missing from either reading, or that finalized nothing, is left out.
func perHeight(m *Manifest, a, b map[string]nodeCounters, pick func(nodeCounters) map[string]float64) []NodePerHeight {
	var out []NodePerHeight
	for _, n := range m.Nodes {
		ca, cb := a[n.Name], b[n.Name]
		if !ca.ok || !cb.ok || cb.height <= ca.height {
			continue
		}
		heights := float64(cb.height - ca.height)
		r := NodePerHeight{Name: n.Name, Heights: cb.height - ca.height, PerHeight: make(map[string]float64)}
		before := pick(ca)
		for k, v := range pick(cb) {
			r.PerHeight[k] = (v - before[k]) / heights
		}
		out = append(out, r)
	}
	return out
}

// NodePerHeight is one node's counts per finalized height over a bench run.
type NodePerHeight struct {
	Name      string             `json:"name"`
	Heights   uint64             `json:"heights"`
	PerHeight map[string]float64 `json:"perHeight"`
}

// NodeFsyncs is one node's consensus-path fsyncs per finalized height over
// a bench run, by file (wal, signer, store) and in total.
type NodeFsyncs struct {
	Name      string             `json:"name"`
	Heights   uint64             `json:"heights"`
	PerHeight map[string]float64 `json:"perHeight"`
	Total     float64            `json:"total"`
}
