package sim

import (
	"os"
	"testing"
	"time"
)

func TestSmoke(t *testing.T) {
	start := time.Now()
	fails := 0
	for seed := uint64(1); seed <= 300; seed++ {
		r, err := Run(RandomConfig(seed))
		if err != nil {
			t.Fatal(err)
		}
		if r.Failed() {
			fails++
			if fails <= 3 {
				r.Trace = r.Trace[max(0, len(r.Trace)-40):]
				r.WriteText(os.Stdout)
			} else {
				t.Log(r.Violations[0])
			}
		}
	}
	t.Log(time.Since(start), fails)
}
