package wal

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/internal/crashfile"
)

// crashSeeds is how many seeded histories each crash test runs.
const crashSeeds = 200

// randomInput is one of sampleInputs, or now and then a record large
// enough (70 KB) to overflow the write buffer, so that unsynced records
// reach the file part by part.
func randomInput(r *rand.Rand, height uint64) consensus.Input {
	if r.IntN(12) == 0 {
		off := r.IntN(26)
		reason := strings.Repeat("abcdefghijklmnopqrstuvwxyz", 70<<10/26+2)[off : off+70<<10]
		return consensus.BlockChecked{Height: height, Hash: chain.Hash{byte(r.Uint32())}, Reason: reason}
	}
	ins := sampleInputs()
	return ins[r.IntN(len(ins))]
}

// readEverything reads every record of l, of every height, in order.
func readEverything(t *testing.T, l *Log) []heightInput {
	t.Helper()
	recs, err := l.readRecords(func(uint64) bool { return true }, true)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// encoded returns the log of recs as Append writes it.
func encoded(t *testing.T, recs []heightInput) []byte {
	t.Helper()
	f := new(crashfile.File)
	l := New(f)
	for _, r := range recs {
		if err := l.Append(r.height, r.in); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	return f.Bytes()
}

// crashHistory appends records of heights 7 and 8 to a log over f, syncing
// now and then and sometimes reading (which writes out the buffer without
// syncing), and returns what was appended and how much of it was synced.
func crashHistory(t *testing.T, r *rand.Rand, l *Log) (written []heightInput, synced int) {
	t.Helper()
	for range 8 + r.IntN(40) {
		switch op := r.IntN(10); {
		case op < 7:
			h := uint64(7)
			if r.IntN(4) == 0 {
				h = 8
			}
			in := randomInput(r, h)
			if err := l.Append(h, in); err != nil {
				t.Fatal(err)
			}
			written = append(written, heightInput{height: h, in: in})
		case op < 9:
			if err := l.Sync(); err != nil {
				t.Fatal(err)
			}
			synced = len(written)
		default:
			if _, err := l.ReadAll(7); err != nil {
				t.Fatal(err)
			}
		}
	}
	return written, synced
}

// Over a disk that tears unsynced writes in a crash: every record synced
// before the crash reads back intact and in order; what follows is a prefix
// of the unsynced records — nothing after a torn or corrupt record, nothing
// never written; the torn tail is cut off, so records appended after the
// recovery follow the good ones, and survive the next crash once synced.
func TestCrashKeepsSyncedRecords(t *testing.T) {
	var lostUnsynced, keptUnsynced, tornTail int
	for seed := range uint64(crashSeeds) {
		r := rand.New(rand.NewPCG(seed, 0x3a1))
		f := new(crashfile.File)
		written, synced := crashHistory(t, r, New(f))
		f.Crash(r)
		crashed := len(f.Bytes())

		l := New(f)
		var got []heightInput
		if seed%2 == 0 {
			got = readEverything(t, l)
		} else {
			// A log that appends before it reads first finds the end of
			// its good records: read what that is from a copy.
			got = readEverything(t, New(crashfile.New(f.Bytes())))
		}
		if len(got) < synced || len(got) > len(written) {
			t.Fatalf("seed %d: %d records after the crash; %d were synced, %d written", seed, len(got), synced, len(written))
		}
		assertRecords(t, "after the crash", got, written[:len(got)])
		if len(got) < len(written) {
			lostUnsynced++
		}
		if len(got) > synced {
			keptUnsynced++
		}
		if seed%2 == 0 {
			if len(f.Bytes()) < crashed {
				tornTail++
			}
			if in7, err := l.ReadAll(7); err != nil {
				t.Fatal(err)
			} else {
				var want []heightInput
				for _, rec := range got {
					if rec.height == 7 {
						want = append(want, rec)
					}
				}
				read := make([]heightInput, len(in7))
				for i, in := range in7 {
					read[i] = heightInput{7, in}
				}
				assertRecords(t, "ReadAll(7) after the crash", read, want)
			}
		}

		more := []heightInput{{8, randomInput(r, 8)}, {8, sampleInputs()[0]}}
		for _, rec := range more {
			if err := l.Append(rec.height, rec.in); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Sync(); err != nil {
			t.Fatal(err)
		}
		f.Crash(r)
		want := append(got[:len(got):len(got)], more...)
		after := readEverything(t, New(f))
		assertRecords(t, "after appending past the recovery and a second crash", after, want)
		if string(f.Bytes()) != string(encoded(t, want)) {
			t.Fatalf("seed %d: the log is not exactly its good records", seed)
		}
	}
	t.Logf("%d seeds: unsynced records lost in %d, kept in %d; torn tail cut off in %d", crashSeeds, lostUnsynced, keptUnsynced, tornTail)
	if lostUnsynced == 0 || keptUnsynced == 0 || tornTail == 0 {
		t.Fatalf("the crashes did not exercise every outcome: unsynced records lost %d, kept %d, torn tail cut off %d", lostUnsynced, keptUnsynced, tornTail)
	}
}

// Reset is durable only once the next Sync returns, as its comment says. A
// crash before that leaves either the log as it was synced before Reset
// (the committed height's records come back; ReadAll of the next height
// still returns all of its synced records) or a prefix, possibly empty, of
// what Reset kept and what was appended after it: kept records synced
// before Reset can be lost. A crash after the Sync leaves exactly the kept
// records and those appended since; the committed heights never come back.
func TestResetIsDurableAtTheNextSync(t *testing.T) {
	var oldLog, keptPrefix, keptLost int
	for seed := range uint64(crashSeeds) {
		r := rand.New(rand.NewPCG(seed, 0x7e5))
		f := new(crashfile.File)
		l := New(f)
		var all []heightInput
		for range 4 + r.IntN(12) {
			h := uint64(6 + r.IntN(3)) // heights 6 and 7 are committed by the Reset below
			rec := heightInput{h, randomInput(r, h)}
			if err := l.Append(rec.height, rec.in); err != nil {
				t.Fatal(err)
			}
			all = append(all, rec)
		}
		if err := l.Sync(); err != nil {
			t.Fatal(err)
		}
		synced := all
		// Records of the next height appended after the last Sync are kept
		// by the Reset too, though they were never durable.
		for range r.IntN(3) {
			rec := heightInput{8, randomInput(r, 8)}
			if err := l.Append(rec.height, rec.in); err != nil {
				t.Fatal(err)
			}
			all = append(all, rec)
		}
		var kept []heightInput
		for _, rec := range all {
			if rec.height > 7 {
				kept = append(kept, rec)
			}
		}
		if err := l.Reset(7); err != nil {
			t.Fatal(err)
		}
		after := kept[:len(kept):len(kept)]
		for range r.IntN(3) {
			rec := heightInput{8, randomInput(r, 8)}
			if err := l.Append(rec.height, rec.in); err != nil {
				t.Fatal(err)
			}
			after = append(after, rec)
		}
		syncAfterReset := seed%3 == 0
		if syncAfterReset {
			if err := l.Sync(); err != nil {
				t.Fatal(err)
			}
		}
		f.Crash(r)
		l = New(f)
		got := readEverything(t, l)

		if syncAfterReset {
			assertRecords(t, "after Reset, Sync and a crash", got, after)
			continue
		}
		if slices.ContainsFunc(got, func(rec heightInput) bool { return rec.height <= 7 }) {
			// The Reset's truncation did not reach the disk.
			assertRecords(t, "after an unsynced Reset and a crash", got, synced)
			oldLog++
			continue
		}
		if len(got) > len(after) {
			t.Fatalf("seed %d: %d records after an unsynced Reset and a crash; it kept %d and %d were appended", seed, len(got), len(kept), len(after)-len(kept))
		}
		assertRecords(t, "after an unsynced Reset and a crash", got, after[:len(got)])
		keptPrefix++
		var syncedKept int
		for _, rec := range synced {
			if rec.height > 7 {
				syncedKept++
			}
		}
		if len(got) < syncedKept {
			keptLost++
		}
	}
	t.Logf("%d seeds: after an unsynced Reset the crash left the old log %d times, a prefix of the kept records %d times (losing some synced before Reset %d times)", crashSeeds, oldLog, keptPrefix, keptLost)
	if oldLog == 0 || keptPrefix == 0 || keptLost == 0 {
		t.Fatalf("not every outcome of a crash after an unsynced Reset was reached: old log %d, kept prefix %d, kept records lost %d", oldLog, keptPrefix, keptLost)
	}
}
