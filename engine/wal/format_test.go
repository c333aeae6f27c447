package wal

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/rlp"

	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/engine"
	"github.com/quorumchain/quorumchain/internal/crashfile"
)

// A Log is the driver's log, and runs over a disk file or the simulated
// one.
var (
	_ engine.Log = (*Log)(nil)
	_ File       = (*os.File)(nil)
	_ File       = (*crashfile.File)(nil)
)

// goldenInputs is what testdata/v1.wal holds, written by the log before it
// moved to this package: an input of height 6, sampleInputs at height 7,
// and an input of height 8.
func goldenInputs() []heightInput {
	ins := sampleInputs()
	out := []heightInput{{6, ins[1]}}
	for _, in := range ins {
		out = append(out, heightInput{7, in})
	}
	return append(out, heightInput{8, ins[1]})
}

// The record format does not change: a log written by earlier releases
// reads back record for record, and the same inputs are written byte for
// byte as they were.
func TestRecordFormatIsStable(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("testdata", "v1.wal"))
	if err != nil {
		t.Fatal(err)
	}
	want := goldenInputs()
	l := New(crashfile.New(golden))
	got, err := l.readRecords(func(uint64) bool { return true }, true)
	if err != nil {
		t.Fatal(err)
	}
	assertRecords(t, "v1.wal", got, want)
	if in7, err := l.ReadAll(7); err != nil || len(in7) != len(sampleInputs()) {
		t.Fatalf("ReadAll(7) of v1.wal: %d inputs, %v", len(in7), err)
	}

	f := new(crashfile.File)
	l = New(f)
	for _, r := range want {
		if err := l.Append(r.height, r.in); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Bytes(), golden) {
		t.Fatalf("the inputs of v1.wal encode to %d bytes that differ from its %d", len(f.Bytes()), len(golden))
	}
}

// assertRecords fails unless got holds want's heights and inputs, in order.
func assertRecords(t *testing.T, what string, got, want []heightInput) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d", what, len(got), len(want))
	}
	for i := range want {
		if !sameRecord(t, got[i], want[i]) {
			t.Fatalf("%s: record %d is height %d %T, want height %d %T", what, i, got[i].height, got[i].in, want[i].height, want[i].in)
		}
	}
}

func sameRecord(t *testing.T, a, b heightInput) bool {
	return a.height == b.height && bytes.Equal(encodeForCompare(t, a.in), encodeForCompare(t, b.in))
}

// TestRecordEnvelopeMatchesReflection checks the hand-written record
// envelope against rlp's reflection encoding and decoding of record, for
// edge heights, kinds and bodies, and that malformed envelopes are
// rejected by both alike.
func TestRecordEnvelopeMatchesReflection(t *testing.T) {
	bodies := [][]byte{nil, {0}, {0x7f}, {0x80}, bytes.Repeat([]byte{1}, 55), bytes.Repeat([]byte{2}, 56), bytes.Repeat([]byte{3}, 70000)}
	for _, h := range []uint64{0, 1, 127, 128, 255, 256, 1 << 40, ^uint64(0)} {
		for _, kind := range []uint8{0, 1, 127, 128, 255} {
			for _, body := range bodies {
				got := encodeRecord(h, kind, body)
				want, err := rlp.EncodeToBytes(&record{Height: h, Kind: kind, Body: body})
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("encodeRecord(%d, %d, %d bytes) differs from the reflection encoding", h, kind, len(body))
				}
				rec, err := decodeRecord(got)
				if err != nil || rec.Height != h || rec.Kind != kind || !bytes.Equal(rec.Body, body) {
					t.Fatalf("decodeRecord(encodeRecord(%d, %d, %d bytes)) = %d, %d, %d bytes, %v", h, kind, len(body), rec.Height, rec.Kind, len(rec.Body), err)
				}
			}
		}
	}
	bad := [][]byte{
		{},
		{0xc0},                               // no fields
		{0xc2, 0x01, 0x02},                   // two fields
		{0xc4, 0x01, 0x02, 0x80, 0x80},       // four fields
		{0xc4, 0x00, 0x02, 0x80},             // height with a leading zero byte
		{0xc5, 0x01, 0x82, 0x01, 0x00, 0x80}, // kind above 255
		{0xc3, 0x01, 0x02, 0x80, 0x00},       // trailing bytes after the list
		{0xc4, 0x01, 0x02, 0x81, 0x05},       // non-canonical one-byte body
		{0xc4, 0x01, 0x02, 0xc0},             // body is a list
	}
	for _, b := range bad {
		var rec record
		refErr := rlp.DecodeBytes(b, &rec)
		if _, err := decodeRecord(b); err == nil || refErr == nil {
			t.Errorf("envelope %x: decodeRecord error %v, reflection error %v; want both to fail", b, err, refErr)
		}
	}
}

// TestBatchRecords: a TxsAvailable reporting a full batch, and a NewHeight
// that started with one, read back as written; the records written before
// batches existed (TestRecordFormatIsStable) still read as no batch.
func TestBatchRecords(t *testing.T) {
	want := []heightInput{
		{7, consensus.TxsAvailable{Batch: true}},
		{7, consensus.TxsAvailable{}},
		{8, consensus.NewHeight{Height: 8, Now: time.Unix(1_700_000_000, 5).UTC(), TxsAvailable: true, TxsBatch: true}},
	}
	f := new(crashfile.File)
	l := New(f)
	for _, r := range want {
		if err := l.Append(r.height, r.in); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	got, err := New(crashfile.New(f.Bytes())).readRecords(func(uint64) bool { return true }, true)
	if err != nil {
		t.Fatal(err)
	}
	assertRecords(t, "batch records", got, want)
	if !got[0].in.(consensus.TxsAvailable).Batch || got[1].in.(consensus.TxsAvailable).Batch || !got[2].in.(consensus.NewHeight).TxsBatch {
		t.Fatalf("batch flags lost: %+v", got)
	}
	if _, err := decodeInput(kindTxsAvailable, []byte{0x02}); err == nil {
		t.Fatal("a txs-available record with body 2 decoded")
	}
}
