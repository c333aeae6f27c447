package testnet

import (
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"runtime"
	"strings"
)

// ErrNoBrowser means no browser could be started: $BROWSER is unset and
// the platform opener is missing or has no display to open a window on.
var ErrNoBrowser = errors.New("no browser available")

// DashboardURL returns the dashboard URL of node name (the first node when
// name is empty): GET / of its RPC listener, from the manifest's http
// address.
func DashboardURL(m *Manifest, name string) (string, error) {
	if len(m.Nodes) == 0 {
		return "", errors.New("testnet: manifest lists no nodes")
	}
	n := &m.Nodes[0]
	if name != "" {
		var err error
		if n, err = m.Node(name); err != nil {
			return "", err
		}
	}
	u, err := url.Parse(n.HTTP)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("testnet: node %s: http address %q is not an http(s) URL", n.Name, n.HTTP)
	}
	u.Path, u.RawQuery, u.Fragment = "/", "", ""
	return u.String(), nil
}

// Opener finds how to open a URL in a browser. Getenv and LookPath are
// os.Getenv and exec.LookPath outside tests.
type Opener struct {
	Getenv   func(string) string
	LookPath func(string) (string, error)
	GOOS     string
}

// SystemOpener is the Opener of this machine.
func SystemOpener(getenv func(string) string) Opener {
	return Opener{Getenv: getenv, LookPath: exec.LookPath, GOOS: runtime.GOOS}
}

// Command returns the command that opens u: the first entry of $BROWSER
// (a colon-separated list of commands; "%s" in one stands for the URL,
// otherwise the URL is its last argument) found on PATH; else xdg-open
// when a display is set (Linux and BSDs), open on macOS; else
// ErrNoBrowser.
func (o Opener) Command(u string) (*exec.Cmd, error) {
	for _, entry := range strings.Split(o.Getenv("BROWSER"), ":") {
		fields := strings.Fields(entry)
		if len(fields) == 0 {
			continue
		}
		path, err := o.LookPath(fields[0])
		if err != nil {
			continue
		}
		args, placed := make([]string, 0, len(fields)), false
		for _, f := range fields[1:] {
			if strings.Contains(f, "%s") {
				f, placed = strings.ReplaceAll(f, "%s", u), true
			}
			args = append(args, f)
		}
		if !placed {
			args = append(args, u)
		}
		return exec.Command(path, args...), nil
	}
	switch o.GOOS {
	case "darwin":
		if path, err := o.LookPath("open"); err == nil {
			return exec.Command(path, u), nil
		}
	case "windows":
		return nil, ErrNoBrowser
	default:
		if o.Getenv("DISPLAY") == "" && o.Getenv("WAYLAND_DISPLAY") == "" {
			return nil, ErrNoBrowser
		}
		if path, err := o.LookPath("xdg-open"); err == nil {
			return exec.Command(path, u), nil
		}
	}
	return nil, ErrNoBrowser
}

// Open starts a browser on u and does not wait for it. It returns the
// program started, or ErrNoBrowser, or why the start failed.
func (o Opener) Open(u string) (string, error) {
	cmd, err := o.Command(u)
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("testnet: start %s: %w", cmd.Path, err)
	}
	// The browser (or its launcher) outlives this command; nothing waits
	// for it.
	if err := cmd.Process.Release(); err != nil {
		return cmd.Path, fmt.Errorf("testnet: release %s: %w", cmd.Path, err)
	}
	return cmd.Path, nil
}
