package wal

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/internal/fuzztest"
)

// A torn record whose header claims megabytes made readRecord allocate the
// claimed length before reading a byte of it: 8 bytes of log cost 3 MB, and
// a header claiming maxRecord cost 8 MB at every replay
// (testdata/fuzz/FuzzFile/torn-header-claims-megabytes).
func TestTornHeaderDoesNotAllocateClaimedLength(t *testing.T) {
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], maxRecord)
	for _, log := range [][]byte{hdr[:], append(hdr[:], make([]byte, 100)...)} {
		var err error
		got := fuzztest.AllocatedBytes(func() { _, _, err = readRecord(bufio.NewReader(bytes.NewReader(log))) })
		if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			t.Fatalf("torn record of %d bytes: got error %v, want an EOF", len(log), err)
		}
		if got > 64<<10 {
			t.Fatalf("torn record of %d bytes claiming %d: allocated %d bytes", len(log), maxRecord, got)
		}
	}
}

// The log still replays records of every size, including ones several
// times longer than the chunk readPayload starts with, and truncates a torn
// tail after them.
func TestReplaysLargeRecordsBeforeATornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cs.wal")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	big := &chain.Block{Header: chain.Header{ChainID: "c", Height: 7}}
	for i := range 300 { // about 30 KB
		big.Txs = append(big.Txs, &chain.Tx{ChainID: "c", Kind: chain.TxTransfer, Nonce: uint64(i), Amount: 1})
	}
	ins := append(sampleInputs(), consensus.BlockBuilt{Height: 7, Round: 0, Block: big})
	for _, in := range ins {
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
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], 1<<20)
	if _, err := f.Write(append(hdr[:], 1, 2, 3)); err != nil {
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
	got, err := w.readRecords(func(uint64) bool { return true }, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ins) {
		t.Fatalf("replayed %d records, want %d", len(got), len(ins))
	}
	last, ok := got[len(got)-1].in.(consensus.BlockBuilt)
	if !ok || len(last.Block.Txs) != len(big.Txs) {
		t.Fatalf("last record: got %T, want the block of %d transactions", got[len(got)-1].in, len(big.Txs))
	}
}
