package testnet

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process handling of node children. Every signal goes to one PID taken
// from testnet.json, and only after checking (through /proc, where there is
// one) that the PID still runs `quorumchain node --home <that node's home>`:
// a PID recorded by a testnet that died with the machine may belong to
// another program by now. Nothing is ever signalled by name.

// LogFile is the name of a node's log (its stdout and stderr) in its home.
const LogFile = "node.log"

// Stop deadlines.
const (
	stopGrace      = 10 * time.Second // SIGTERM → exit: the node closes its stores
	killGrace      = 3 * time.Second  // SIGKILL → gone
	processPoll    = 20 * time.Millisecond
	logTailLines   = 8
	logTailMaxRead = 16 << 10
)

// child is a node process started by this process. Its exit is reaped by
// a goroutine (so a killed child leaves no zombie behind) and announced by
// closing exited.
type child struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // valid after exited is closed
}

// spawnNode starts `binary --home home node` for n, inside its network
// namespace (`ip netns exec`, which execs in place: the PID is the
// node's) when it has one, in its own process group (a
// Ctrl-C in the terminal reaches only the supervisor, which stops the
// nodes itself; a detached node outlives the command that started it), with
// stdout and stderr appended to home/node.log. The child is not tied to
// any context.
func spawnNode(binary string, n Node) (*child, error) {
	name, home := n.Name, n.Home
	logf, err := os.OpenFile(filepath.Join(home, LogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("testnet: %s: open log: %w", name, err)
	}
	defer logf.Close() //nolint:errcheck // the child holds its own descriptor
	fmt.Fprintf(logf, "---- %s: %s --home %s node (started by testnet supervisor pid %d)\n",
		time.Now().Format(time.RFC3339Nano), binary, home, os.Getpid())
	// --home goes before the command: it is a flag of the application
	// (`quorumchain node --home H` is refused by the current CLI).
	cmd := exec.Command(binary, "--home", home, "node")
	if n.Netns != "" {
		cmd = exec.Command("ip", "netns", "exec", n.Netns, binary, "--home", home, "node")
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("testnet: %s: start %s: %w", name, binary, err)
	}
	c := &child{name: name, cmd: cmd, exited: make(chan struct{})}
	go func() {
		c.err = c.cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// nodeRunning reports whether pid is a live (not zombie) process running
// the node of home.
func nodeRunning(pid int, home string) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		return true // no procfs: trust the PID
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(b) == 0 { // gone, or a zombie (whose cmdline is empty)
		return false
	}
	args := strings.Split(string(bytes.TrimRight(b, "\x00")), "\x00")
	return slices.Contains(args, "node") && slices.Contains(args, home)
}

// exiting reports whether pid is a process the kernel is still tearing
// down: its memory (and so its command line) is gone, but it is neither a
// zombie nor reaped yet. A killed node passes through this state; callers
// that wait for it to be gone wait for the end of it too, so that when
// they return the process no longer runs at all.
func exiting(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false // gone (or no procfs)
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) || b[i+2] == 'Z' || b[i+2] == 'X' {
		return false
	}
	cmd, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && len(cmd) == 0
}

// signalNode sends sig to pid if it runs the node of home; false if it does
// not (any more).
func signalNode(pid int, home string, sig syscall.Signal) (bool, error) {
	if !nodeRunning(pid, home) {
		return false, nil
	}
	if err := syscall.Kill(pid, sig); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return false, nil
		}
		return true, fmt.Errorf("testnet: signal %s to pid %d: %w", sig, pid, err)
	}
	return true, nil
}

// waitGone polls until pid no longer runs the node of home, or the
// deadline passes; it reports whether the process is gone.
func waitGone(pid int, home string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if !nodeRunning(pid, home) && !exiting(pid) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(processPoll)
	}
}

// stopProcess stops the node at pid: SIGTERM, up to grace to exit, then
// SIGKILL and up to killGrace. It reports whether SIGKILL was needed.
func stopProcess(pid int, home string, grace time.Duration) (killed bool, err error) {
	sent, err := signalNode(pid, home, syscall.SIGTERM)
	if err != nil || !sent {
		return false, err
	}
	if waitGone(pid, home, grace) {
		return false, nil
	}
	if _, err := signalNode(pid, home, syscall.SIGKILL); err != nil {
		return true, err
	}
	if !waitGone(pid, home, killGrace) {
		return true, fmt.Errorf("testnet: pid %d (%s) survives SIGKILL", pid, home)
	}
	return true, nil
}

// logTail returns the last lines of a node's log, for error messages.
func logTail(home string) string {
	f, err := os.Open(filepath.Join(home, LogFile))
	if err != nil {
		return ""
	}
	defer f.Close() //nolint:errcheck // read only
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(0, st.Size()-logTailMaxRead)
	b := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(b, off); err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-logTailLines):], "\n")
}

// lockDir takes an exclusive lock on dir for a read-modify-write of
// testnet.json by this or another quorumchain process; call the returned
// function to release it.
func lockDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, ".testnet.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("testnet: lock %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close() //nolint:errcheck // failing anyway
		return nil, fmt.Errorf("testnet: lock %s: %w", dir, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN) //nolint:errcheck // Close releases it too
		f.Close()                                   //nolint:errcheck // nothing written
	}, nil
}

// updateManifest runs fn on dir's manifest under the directory lock and
// saves it if fn succeeds.
func updateManifest(dir string, fn func(m *Manifest) error) (*Manifest, error) {
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	m, err := LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	if err := fn(m); err != nil {
		return m, err
	}
	return m, m.Save(dir)
}
