package light_test

import (
	"flag"
	"os"
	"testing"
)

// TestMain bounds the fuzzer's minimization of new inputs to 100 runs
// unless -fuzzminimizetime is given: the default (60 s per input) stalls
// FuzzSignedHeaderFromRPC on its JSON inputs for seconds at a time, which
// costs far more executions than smaller saved inputs are worth.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.fuzzminimizetime" })
	if !set {
		if err := flag.Set("test.fuzzminimizetime", "100x"); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
