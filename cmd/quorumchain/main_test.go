package main

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

// result is one in-process run of the command line.
type result struct {
	code           int
	stdout, stderr string
}

// quorumchain runs the command line in-process with args.
func quorumchain(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"quorumchain"}, args...), &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// ok fails the test unless the run succeeded; it returns stdout.
func (r result) ok(t *testing.T) string {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d, want 0\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails checks exit status 1 with exactly one line on stderr,
// "quorumchain: ..." containing want.
func (r result) fails(t *testing.T, want string) {
	t.Helper()
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if !strings.HasPrefix(r.stderr, "quorumchain: ") || !strings.HasSuffix(r.stderr, "\n") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr is not one line \"quorumchain: ...\": %q", r.stderr)
	}
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr = %q, want it to contain %q", r.stderr, want)
	}
}

func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, s)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "flag provided but not defined: -bogus (see 'quorumchain --help')"},
		{[]string{"keys", "new", "--bogus"}, "flag provided but not defined: -bogus (see 'quorumchain keys new --help')"},
		{[]string{"genesis", "validate", "--bogus", "x"}, "flag provided but not defined: -bogus (see 'quorumchain genesis validate --help')"},
		{[]string{"keys", "new", "--dir"}, "flag needs an argument: -dir (see 'quorumchain keys new --help')"},
		{[]string{"bogus"}, `unknown command "bogus" (see 'quorumchain --help')`},
		{[]string{"keys", "bogus"}, `unknown command "bogus" (see 'quorumchain keys --help')`},
		{[]string{"--output", "yaml", "version"}, `--output: unknown format "yaml": want text or json`},
		{[]string{"version", "extra"}, "want no arguments (see 'quorumchain version --help')"},
		{[]string{"keys", "show", "a.json", "--output", "json"}, "flag --output after an argument: flags go first (usage: quorumchain keys show FILE)"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := quorumchain(t, tt.args...)
			r.fails(t, tt.want)
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {}, {"keys"}, {"genesis", "--help"}, {"keys", "new", "--help"}} {
		out := quorumchain(t, args...).ok(t)
		if !strings.Contains(out, "quorumchain") {
			t.Errorf("%v: help output lacks the program name:\n%s", args, out)
		}
	}
}

func TestVersion(t *testing.T) {
	out := quorumchain(t, "version").ok(t)
	if !strings.HasPrefix(out, "quorumchain dev\n") || !strings.Contains(out, runtime.Version()) {
		t.Errorf("version output:\n%s", out)
	}
	for _, args := range [][]string{{"version", "--output", "json"}, {"--output", "json", "version"}} {
		var info versionInfo
		decodeJSON(t, quorumchain(t, args...).ok(t), &info)
		if info.Version != "dev" || info.Go != runtime.Version() {
			t.Errorf("%v: %+v", args, info)
		}
	}
}
