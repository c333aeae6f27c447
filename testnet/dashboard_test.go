package testnet

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestDashboardURL(t *testing.T) {
	m := &Manifest{Nodes: []Node{{Name: "node0", HTTP: "http://127.0.0.1:26657"}, {Name: "node1", HTTP: "http://127.0.0.1:26667"}}}
	for _, tc := range []struct{ node, want string }{{"", "http://127.0.0.1:26657/"}, {"node1", "http://127.0.0.1:26667/"}} {
		got, err := DashboardURL(m, tc.node)
		if err != nil || got != tc.want {
			t.Errorf("node %q: got %q, %v; want %q", tc.node, got, err, tc.want)
		}
	}
	if _, err := DashboardURL(m, "node9"); err == nil || !strings.Contains(err.Error(), "node9") {
		t.Errorf("unknown node: got %v, want an error naming it", err)
	}
	bad := &Manifest{Nodes: []Node{{Name: "node0", HTTP: "ws://127.0.0.1:1/ws"}}}
	if _, err := DashboardURL(bad, ""); err == nil {
		t.Error("a non-http address gave a URL")
	}
	if _, err := DashboardURL(&Manifest{}, ""); err == nil {
		t.Error("an empty manifest gave a URL")
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func onPath(names ...string) func(string) (string, error) {
	return func(name string) (string, error) {
		for _, n := range names {
			if n == name {
				return "/usr/bin/" + name, nil
			}
		}
		return "", exec.ErrNotFound
	}
}

// TestOpenerChoosesBrowser: $BROWSER wins (its first entry on PATH, with
// %s replaced), then xdg-open with a display; without either there is no
// browser, and that is ErrNoBrowser, not a failure to start one.
func TestOpenerChoosesBrowser(t *testing.T) {
	const u = "http://127.0.0.1:26657/"
	for _, tc := range []struct {
		name string
		env  map[string]string
		path []string
		want []string // argv; nil: ErrNoBrowser
	}{
		{"browser list", map[string]string{"BROWSER": "missing:firefox --new-tab %s", "DISPLAY": ":0"}, []string{"firefox", "xdg-open"}, []string{"/usr/bin/firefox", "--new-tab", u}},
		{"browser appends url", map[string]string{"BROWSER": "chromium"}, []string{"chromium"}, []string{"/usr/bin/chromium", u}},
		{"xdg-open with display", map[string]string{"DISPLAY": ":0"}, []string{"xdg-open"}, []string{"/usr/bin/xdg-open", u}},
		{"wayland", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, []string{"xdg-open"}, []string{"/usr/bin/xdg-open", u}},
		{"no display", map[string]string{}, []string{"xdg-open"}, nil},
		{"nothing installed", map[string]string{"BROWSER": "missing", "DISPLAY": ":0"}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd, err := Opener{Getenv: env(tc.env), LookPath: onPath(tc.path...), GOOS: "linux"}.Command(u)
			if tc.want == nil {
				if !errors.Is(err, ErrNoBrowser) {
					t.Fatalf("got %v, %v; want ErrNoBrowser", cmd, err)
				}
				return
			}
			if err != nil || strings.Join(cmd.Args[1:], " ") != strings.Join(tc.want[1:], " ") || cmd.Path != tc.want[0] {
				t.Fatalf("got %v, %v; want %v", cmd, err, tc.want)
			}
		})
	}
}

// TestOpenStartsBrowser: Open really starts the program $BROWSER names,
// with the URL, and returns without waiting for it. The program writes the
// URL into a FIFO the test reads.
func TestOpenStartsBrowser(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "opened")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	script := filepath.Join(dir, "browser")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$1\" > "+fifo+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		b, err := os.ReadFile(fifo) // returns once the script has written and closed it
		if err != nil {
			got <- "read: " + err.Error()
			return
		}
		got <- strings.TrimSpace(string(b))
	}()
	o := SystemOpener(env(map[string]string{"BROWSER": script}))
	prog, err := o.Open("http://127.0.0.1:1/")
	if err != nil || prog != script {
		t.Fatalf("got %q, %v; want %q started", prog, err, script)
	}
	select {
	case u := <-got:
		if u != "http://127.0.0.1:1/" {
			t.Fatalf("browser got %q, want the URL", u)
		}
	case <-time.After(10 * time.Second):
		// Unblock the reader so its goroutine ends.
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		t.Fatal("the browser never ran within 10 s")
	}
}
