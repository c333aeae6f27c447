// Command dashpages keeps dashboard pages open in headless Chromium, to
// measure what open dashboards cost a testnet (scripts/dashboard-bench.sh).
// It opens -n tabs on the -url pages (round robin), waits until each shows
// a final block, prints "live", keeps them open until -duration passes or
// it is interrupted, and prints the top height each page shows, how often
// its subscriptions lagged, and the CPU the browser used.
//
// With -emulate it runs no browser: -n websocket clients each make the
// page's subscriptions and calls (emulatePage), so that the node's share
// of the cost can be told from the browser's.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chromedp/chromedp"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "dashpages:", err)
		os.Exit(1)
	}
}

type pageStats struct {
	Rows   int    `json:"rows"`
	Height string `json:"height"`
	Lagged string `json:"lagged"`
}

// runEmulated runs n emulated pages over the pages' nodes (round robin)
// until duration passes or ctx is done.
func runEmulated(ctx context.Context, pages []string, n int, duration time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	var st emulated
	errc := make(chan error, n)
	for i := range n {
		u := strings.Replace(strings.TrimSuffix(pages[i%len(pages)], "/"), "http://", "ws://", 1) + "/ws"
		go func() { errc <- emulatePage(ctx, u, &st) }()
	}
	fmt.Printf("live: %d emulated pages\n", n)
	var first error
	for range n {
		if err := <-errc; err != nil && first == nil && ctx.Err() == nil {
			first = err
		}
	}
	fmt.Printf("emulated pages: %d events, %d calls, %d call errors (net_getFaults: -32601 without a fault layer)\n",
		st.events.Load(), st.calls.Load(), st.errors.Load())
	return first
}

// clockTicks is Linux's USER_HZ, the unit of /proc/PID/stat CPU times.
const clockTicks = 100

// descendantsCPU returns the CPU time (user + system) that the processes
// descended from this one (the browser and its renderers) have used, from
// /proc. Processes that exited are not counted.
func descendantsCPU() time.Duration {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	parent := map[int]int{}
	ticks := map[int]int64{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		// Fields after the command: state ppid ... utime(14) stime(15),
		// numbered from 1 at pid.
		f := strings.Fields(s[i+1:])
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		parent[pid], ticks[pid] = ppid, ut+st
	}
	self := os.Getpid()
	var sum int64
	for pid, t := range ticks {
		for p := parent[pid]; p > 1; p = parent[p] {
			if p == self {
				sum += t
				break
			}
		}
	}
	return time.Duration(sum) * time.Second / clockTicks
}

func run() error {
	urls := flag.String("url", "", "comma-separated dashboard URLs; pages are spread over them")
	n := flag.Int("n", 5, "pages to open")
	duration := flag.Duration("duration", time.Minute, "how long to keep them open")
	exe := flag.String("chromium", "chromium", "browser executable")
	emulate := flag.Bool("emulate", false, "emulate the pages' subscriptions and calls over websockets instead of running a browser")
	ready := flag.String("ready", `Number(document.body.dataset.rows || 0) > 0`, "JavaScript that is true once a page is live")
	flag.Parse()
	if *urls == "" || *n < 1 {
		return errors.New("want -url and -n >= 1")
	}
	list := strings.Split(*urls, ",")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *emulate {
		return runEmulated(ctx, list, *n, *duration)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(*exe), chromedp.NoSandbox, chromedp.Headless,
		chromedp.DisableGPU, chromedp.WindowSize(1400, 1800), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil { // starts the browser
		return fmt.Errorf("start browser: %w", err)
	}
	tabs := make([]context.Context, *n)
	for i := range tabs {
		tab, cancel := chromedp.NewContext(browser)
		defer cancel()
		tabs[i] = tab
		if err := chromedp.Do(tab, chromedp.Navigate(list[i%len(list)])); err != nil {
			return fmt.Errorf("page %d: %w", i, err)
		}
	}
	for i, tab := range tabs {
		wctx, cancel := context.WithTimeout(tab, 20*time.Second)
		_, err := chromedp.Run(wctx, chromedp.Poll[bool](*ready))
		cancel()
		if err != nil {
			return fmt.Errorf("page %d not live within 20 s: %w", i, err)
		}
	}
	fmt.Printf("live: %d pages\n", *n)
	cpu0, t0 := descendantsCPU(), time.Now()
	select {
	case <-ctx.Done():
	case <-time.After(*duration):
	}
	cpu := descendantsCPU() - cpu0
	fmt.Printf("browser CPU: %.1f s in %.1f s open (%.0f%% of one core)\n", cpu.Seconds(), time.Since(t0).Seconds(),
		100*cpu.Seconds()/time.Since(t0).Seconds())
	for i, tab := range tabs {
		st, err := chromedp.Run(tab, chromedp.Evaluate[pageStats](`({rows: Number(document.body.dataset.rows || 0),
			height: document.querySelector("#finality tbody tr") ? document.querySelector("#finality tbody tr").dataset.height : "",
			lagged: document.body.dataset.lagged || "0"})`))
		if err != nil {
			return fmt.Errorf("page %d: %w", i, err)
		}
		fmt.Printf("page %d: top height %s, lagged %s\n", i, st.Height, st.Lagged)
	}
	return nil
}
