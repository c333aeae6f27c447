package testnet

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
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
	ok     bool
}

// readCounters scrapes every node's /metrics; a node that does not answer
// is left out (its figures are then not reported).
func readCounters(ctx context.Context, m *Manifest) map[string]nodeCounters {
	out := make(map[string]nodeCounters, len(m.Nodes))
	client := &http.Client{Timeout: 3 * time.Second}
	for _, n := range m.Nodes {
		if n.HTTP == "" {
			continue
		}
		c, err := scrapeCounters(ctx, client, strings.TrimSuffix(n.HTTP, "/")+"/metrics")
		if err == nil {
			out[n.Name] = c
		}
	}
	return out
}

// scrapeCounters reads quorumchain_height and quorumchain_fsyncs_total from
// the Prometheus text at url. Only those lines are parsed; the rest of the
// exposition is skipped.
func scrapeCounters(ctx context.Context, client *http.Client, url string) (nodeCounters, error) {
	c := nodeCounters{fsyncs: make(map[string]float64)}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return c, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		switch {
		case name == "quorumchain_height":
			c.height = uint64(v)
		case strings.HasPrefix(name, `quorumchain_fsyncs_total{file="`):
			file := strings.TrimSuffix(strings.TrimPrefix(name, `quorumchain_fsyncs_total{file="`), `"}`)
			c.fsyncs[file] = v
		}
	}
	if err := sc.Err(); err != nil {
		return c, err
	}
	c.ok = true
	return c, nil
}

// fsyncsPerHeight is the fsyncs of each file per finalized height on each
// node over a run, from counters read before (a) and after (b) it.
func fsyncsPerHeight(m *Manifest, a, b map[string]nodeCounters) []NodeFsyncs {
	var out []NodeFsyncs
	for _, n := range m.Nodes {
		ca, cb := a[n.Name], b[n.Name]
		if !ca.ok || !cb.ok || cb.height <= ca.height {
			continue
		}
		heights := float64(cb.height - ca.height)
		nf := NodeFsyncs{Name: n.Name, Heights: cb.height - ca.height, PerHeight: make(map[string]float64)}
		for file, v := range cb.fsyncs {
			per := (v - ca.fsyncs[file]) / heights
			nf.PerHeight[file] = per
			nf.Total += per
		}
		out = append(out, nf)
	}
	return out
}

// NodeFsyncs is one node's consensus-path fsyncs per finalized height over
// a bench run, by file (wal, signer, store) and in total.
type NodeFsyncs struct {
	Name      string             `json:"name"`
	Heights   uint64             `json:"heights"`
	PerHeight map[string]float64 `json:"perHeight"`
	Total     float64            `json:"total"`
}
