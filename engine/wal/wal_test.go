package wal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/rlp"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/internal/crashfile"
)

func sampleInputs() []consensus.Input {
	blk := &chain.Block{Header: chain.Header{ChainID: "c", Height: 7, Time: 1}}
	v := &chain.Vote{Type: chain.Prevote, Height: 7, Round: 1, BlockHash: chain.Hash{1}, Validator: chain.Address{2}}
	p := &chain.Proposal{Height: 7, Round: 1, POLRound: chain.NoPOLRound, BlockHash: blk.Hash(), Proposer: chain.Address{3}}
	return []consensus.Input{
		consensus.ProposalReceived{Proposal: p, Block: blk},
		consensus.VoteReceived{Vote: v},
		consensus.TimeoutFired{Height: 7, Round: 1, Step: consensus.StepPrevote},
		consensus.BlockChecked{Height: 7, Hash: blk.Hash(), Valid: false, Reason: "bad"},
		consensus.BlockBuilt{Height: 7, Round: 1, Block: blk},
		consensus.OwnVote{Vote: v},
		consensus.OwnProposal{Proposal: p, Block: blk},
		consensus.SignRefused{Height: 7, Round: 1, Step: consensus.StepPrecommit, Reason: "conflict"},
		consensus.TxsAvailable{},
		consensus.CommitReceived{Block: blk, Certificate: chain.NewCertificate(7, 1, blk.Hash(), nil)},
		// Its clock reading and whether transactions waited; the validator
		// set and the last block time come from the store at restart.
		consensus.NewHeight{Height: 7, Now: time.Unix(1_700_000_000, 123_456_789).UTC(), TxsAvailable: true},
	}
}

func TestRoundTripAndHeights(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cs.wal")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ins := sampleInputs()
	if err := w.Append(6, ins[1]); err != nil { // an older height: skipped on read
		t.Fatal(err)
	}
	for _, in := range ins {
		if err := w.Append(7, in); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	got, err := w.ReadAll(7)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ins) {
		t.Fatalf("read %d inputs, want %d", len(got), len(ins))
	}
	for i := range ins {
		if !reflect.DeepEqual(encodeForCompare(t, got[i]), encodeForCompare(t, ins[i])) {
			t.Errorf("input %d: got %#v, want %#v", i, got[i], ins[i])
		}
	}
	early := consensus.VoteReceived{Vote: &chain.Vote{Type: chain.Prevote, Height: 8, Round: 0, Validator: chain.Address{5}}}
	if err := w.Append(8, early); err != nil {
		t.Fatal(err)
	}
	if err := w.Reset(7); err != nil {
		t.Fatal(err)
	}
	if got, err := w.ReadAll(7); err != nil || len(got) != 0 {
		t.Fatalf("after reset: %d inputs of the committed height, %v", len(got), err)
	}
	// The next height's early vote survives the reset.
	if got, err := w.ReadAll(8); err != nil || len(got) != 1 {
		t.Fatalf("after reset: %d inputs of the next height, %v", len(got), err)
	} else if v, ok := got[0].(consensus.VoteReceived); !ok || v.Vote.Height != 8 {
		t.Fatalf("kept %#v", got[0])
	}
}

// encodeForCompare is the logged form of an input: decoding turns nil
// slices into empty ones, so inputs are compared by encoding.
func encodeForCompare(t *testing.T, in consensus.Input) []byte {
	kind, body, ok := encodeInput(in)
	if !ok {
		t.Fatalf("%T not logged", in)
	}
	b, err := rlp.EncodeToBytes(body)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte{kind}, b...)
}

func TestTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cs.wal")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ins := sampleInputs()
	for _, in := range ins[:3] {
		if err := w.Append(7, in); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Cut the file at every byte: reading never fails, yields a prefix of the
	// records, and a later append lands after the last good record.
	for cut := 0; cut < len(full); cut++ {
		if err := os.WriteFile(path, full[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		w, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := w.ReadAll(7)
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		if len(got) >= 3 {
			t.Fatalf("cut %d: read %d complete records from a torn file", cut, len(got))
		}
		if err := w.Append(7, consensus.TxsAvailable{}); err != nil {
			t.Fatal(err)
		}
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
		again, err := w.ReadAll(7)
		if err != nil || len(again) != len(got)+1 {
			t.Fatalf("cut %d: after append read %d (%v), want %d", cut, len(again), err, len(got)+1)
		}
		if _, ok := again[len(again)-1].(consensus.TxsAvailable); !ok {
			t.Fatalf("cut %d: last record %T", cut, again[len(again)-1])
		}
		w.Close()
	}
	// A flipped bit in the middle ends the log at the corrupt record.
	bad := append([]byte(nil), full...)
	bad[len(bad)/2] ^= 0x40
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	w, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	got, err := w.ReadAll(7)
	if err != nil || len(got) >= 3 {
		t.Fatalf("corrupt middle: %d records, %v", len(got), err)
	}
}

// A log opened over a file with records appends after its good records
// even when it has not read them: it finds their end (cutting a torn tail)
// before its first write, instead of writing over them from offset 0.
func TestAppendBeforeReadFollowsTheRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cs.wal")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ins := sampleInputs()
	for _, in := range ins[:3] {
		if err := w.Append(7, in); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte{0, 0, 0, 40, 1, 2}); err != nil { // a torn record
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	w, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Append(7, ins[3]); err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	got, err := w.ReadAll(7)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("read %d inputs, want the 3 logged before and the one appended after", len(got))
	}
	for i := range got {
		if !reflect.DeepEqual(encodeForCompare(t, got[i]), encodeForCompare(t, ins[i])) {
			t.Fatalf("input %d: got %T, want %T", i, got[i], ins[i])
		}
	}
}

// failingReads fails every Read after the first limit bytes.
type failingReads struct {
	*crashfile.File
	limit, read int
}

var errDisk = errors.New("disk read error")

func (f *failingReads) Read(p []byte) (int, error) {
	if f.read >= f.limit {
		return 0, errDisk
	}
	n, err := f.File.Read(p[:min(len(p), f.limit-f.read)])
	f.read += n
	return n, err
}

// A file that fails to read is not a torn log: ReadAll and Reset return the
// error and truncate nothing, so the records after the failure survive.
func TestReadErrorTruncatesNothing(t *testing.T) {
	mem := new(crashfile.File)
	w := New(mem)
	for _, in := range sampleInputs() {
		if err := w.Append(7, in); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	log := mem.Bytes()
	for _, limit := range []int{0, 1, 9, len(log) / 2, len(log) - 1} {
		mem.Reopen()
		w := New(&failingReads{File: mem, limit: limit})
		if _, err := w.ReadAll(7); !errors.Is(err, errDisk) {
			t.Fatalf("read failing after %d bytes: ReadAll returned %v, want the read error", limit, err)
		}
		if err := w.Reset(6); !errors.Is(err, errDisk) {
			t.Fatalf("read failing after %d bytes: Reset returned %v, want the read error", limit, err)
		}
		if err := w.Append(7, consensus.TxsAvailable{}); !errors.Is(err, errDisk) {
			t.Fatalf("read failing after %d bytes: Append returned %v, want the read error", limit, err)
		}
		if !bytes.Equal(mem.Bytes(), log) {
			t.Fatalf("read failing after %d bytes: the log changed from %d to %d bytes", limit, len(log), len(mem.Bytes()))
		}
	}
}

// TestUntimelyCheckRoundTrips: a BlockChecked that marks a valid block
// untimely reads back as written; the flag is an optional trailing field,
// so the records of earlier releases (TestRecordFormatIsStable) are
// unchanged.
func TestUntimelyCheckRoundTrips(t *testing.T) {
	f := new(crashfile.File)
	l := New(f)
	in := consensus.BlockChecked{Height: 7, Hash: chain.Hash{7}, Valid: true, Untimely: true}
	if err := l.Append(7, in); err != nil {
		t.Fatal(err)
	}
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	got, err := l.ReadAll(7)
	if err != nil || len(got) != 1 || got[0] != consensus.Input(in) {
		t.Fatalf("read back %v, %v; want %v", got, err, in)
	}
}
