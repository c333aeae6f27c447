package staking_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPureImports enforces the package contract on staking's direct imports
// (go-ethereum itself pulls os and sync in transitively): the standard
// library minus clock, network, files, concurrency and randomness, plus
// go-ethereum's common, crypto and rlp.
func TestPureImports(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := map[string]bool{
		"crypto/rand": true, "io/ioutil": true, "log": true, "log/slog": true, "math/rand": true, "math/rand/v2": true,
		"net": true, "os": true, "os/exec": true, "reflect": true, "runtime": true, "sync": true, "sync/atomic": true,
		"syscall": true, "time": true, "unsafe": true,
	}
	allowedExternal := map[string]bool{
		"github.com/ethereum/go-ethereum/common": true,
		"github.com/ethereum/go-ethereum/crypto": true,
		"github.com/ethereum/go-ethereum/rlp":    true,
	}
	imports := strings.Fields(string(out))
	if len(imports) == 0 {
		t.Fatal("go list printed no imports")
	}
	for _, imp := range imports {
		external := strings.Contains(strings.SplitN(imp, "/", 2)[0], ".")
		switch {
		case external && !allowedExternal[imp]:
			t.Errorf("staking imports %s; only go-ethereum common, crypto and rlp are allowed", imp)
		case !external && (forbidden[imp] || strings.HasPrefix(imp, "net/") || strings.HasPrefix(imp, "os/")):
			t.Errorf("staking imports %s, which breaks determinism or purity", imp)
		}
	}
}
