package node

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/rlp"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
)

// The consensus write-ahead log (data/cs.wal) holds every input the node
// fed to its consensus Machine at the current height, so that a node killed
// at any moment restarts into the same height, round and locks. Records are
// written before the input is stepped, the height's NewHeight included (its
// clock reading is replayed); the driver syncs the log before every vote or
// proposal is signed, so every input that led to a signature is durable by
// the time the signature exists (the signer fsyncs its own state before
// releasing any signature, so nothing is ever signed twice).
// After a height is committed to the store its records are dropped; records
// of the next height (votes and proposals that arrived early) are kept.
//
// Record format: uint32 big-endian payload length, uint32 CRC-32C of the
// payload, payload = RLP [height, kind, body]. A torn or corrupt tail (a
// crash mid-write) ends the log: reading stops there and the file is
// truncated to the last good record.

const maxWALRecord = chain.MaxBlockBytes + 1024

var walCRC = crc32.MakeTable(crc32.Castagnoli)

// WAL record kinds.
const (
	walProposal uint8 = 1 + iota
	walVote
	walTimeout
	walBlockChecked
	walBlockBuilt
	walOwnVote
	walOwnProposal
	walSignRefused
	walTxsAvailable
	walCommit
	walNewHeight
)

type walRecord struct {
	Height uint64
	Kind   uint8
	Body   []byte
}

type walProposalBody struct {
	Proposal *chain.Proposal
	Block    *chain.Block
}

type walTimeoutBody struct {
	Height uint64
	Round  uint32
	Step   uint8
}

type walCheckedBody struct {
	Height uint64
	Hash   chain.Hash
	Valid  bool
	Reason string
}

type walBuiltBody struct {
	Height uint64
	Round  uint32
	Block  *chain.Block
}

type walRefusedBody struct {
	Height uint64
	Round  uint32
	Step   uint8
	Reason string
}

// walNewHeightBody is what a restart cannot re-derive of a NewHeight: the
// clock reading it carried and whether transactions were waiting (the
// validator set and the last block time come from the store).
type walNewHeightBody struct {
	Height       uint64
	NowNanos     uint64
	TxsAvailable bool
}

type walCommitBody struct {
	Block       *chain.Block
	Certificate *chain.Certificate
}

// walFile is the consensus write-ahead log. It is used by the consensus
// goroutine only.
type walFile struct {
	path string
	f    *os.File
	w    *bufio.Writer
}

// openWALFile opens (creating) the log at path.
func openWALFile(path string) (*walFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("wal: %w", err)
	}
	return &walFile{path: path, f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

// encodeInput turns a consensus input into a record body; ok is false for
// inputs that are not logged.
func encodeInput(in consensus.Input) (kind uint8, body any, ok bool) {
	switch in := in.(type) {
	case consensus.NewHeight:
		return walNewHeight, &walNewHeightBody{in.Height, uint64(in.Now.UnixNano()), in.TxsAvailable}, true
	case consensus.ProposalReceived:
		return walProposal, &walProposalBody{in.Proposal, in.Block}, true
	case consensus.VoteReceived:
		return walVote, in.Vote, true
	case consensus.TimeoutFired:
		return walTimeout, &walTimeoutBody{in.Height, in.Round, uint8(in.Step)}, true
	case consensus.BlockChecked:
		return walBlockChecked, &walCheckedBody{in.Height, in.Hash, in.Valid, in.Reason}, true
	case consensus.BlockBuilt:
		return walBlockBuilt, &walBuiltBody{in.Height, in.Round, in.Block}, true
	case consensus.OwnVote:
		return walOwnVote, in.Vote, true
	case consensus.OwnProposal:
		return walOwnProposal, &walProposalBody{in.Proposal, in.Block}, true
	case consensus.SignRefused:
		return walSignRefused, &walRefusedBody{in.Height, in.Round, uint8(in.Step), in.Reason}, true
	case consensus.TxsAvailable:
		return walTxsAvailable, []byte{}, true
	case consensus.CommitReceived:
		return walCommit, &walCommitBody{in.Block, in.Certificate}, true
	}
	return 0, nil, false
}

func decodeInput(kind uint8, body []byte) (consensus.Input, error) {
	switch kind {
	case walProposal, walOwnProposal:
		var b walProposalBody
		if err := rlp.DecodeBytes(body, &b); err != nil {
			return nil, err
		}
		if kind == walOwnProposal {
			return consensus.OwnProposal{Proposal: b.Proposal, Block: b.Block}, nil
		}
		return consensus.ProposalReceived{Proposal: b.Proposal, Block: b.Block}, nil
	case walVote, walOwnVote:
		v := new(chain.Vote)
		if err := rlp.DecodeBytes(body, v); err != nil {
			return nil, err
		}
		if kind == walOwnVote {
			return consensus.OwnVote{Vote: v}, nil
		}
		return consensus.VoteReceived{Vote: v}, nil
	case walTimeout:
		var b walTimeoutBody
		if err := rlp.DecodeBytes(body, &b); err != nil {
			return nil, err
		}
		return consensus.TimeoutFired{Height: b.Height, Round: b.Round, Step: consensus.RoundStep(b.Step)}, nil
	case walBlockChecked:
		var b walCheckedBody
		if err := rlp.DecodeBytes(body, &b); err != nil {
			return nil, err
		}
		return consensus.BlockChecked{Height: b.Height, Hash: b.Hash, Valid: b.Valid, Reason: b.Reason}, nil
	case walBlockBuilt:
		var b walBuiltBody
		if err := rlp.DecodeBytes(body, &b); err != nil {
			return nil, err
		}
		return consensus.BlockBuilt{Height: b.Height, Round: b.Round, Block: b.Block}, nil
	case walSignRefused:
		var b walRefusedBody
		if err := rlp.DecodeBytes(body, &b); err != nil {
			return nil, err
		}
		return consensus.SignRefused{Height: b.Height, Round: b.Round, Step: consensus.RoundStep(b.Step), Reason: b.Reason}, nil
	case walTxsAvailable:
		return consensus.TxsAvailable{}, nil
	case walNewHeight:
		var b walNewHeightBody
		if err := rlp.DecodeBytes(body, &b); err != nil {
			return nil, err
		}
		return consensus.NewHeight{Height: b.Height, Now: time.Unix(0, int64(b.NowNanos)).UTC(), TxsAvailable: b.TxsAvailable}, nil
	case walCommit:
		var b walCommitBody
		if err := rlp.DecodeBytes(body, &b); err != nil {
			return nil, err
		}
		return consensus.CommitReceived{Block: b.Block, Certificate: b.Certificate}, nil
	}
	return nil, fmt.Errorf("unknown record kind %d", kind)
}

// Append logs an input of height. It is buffered until Sync.
func (w *walFile) Append(height uint64, in consensus.Input) error {
	kind, body, ok := encodeInput(in)
	if !ok {
		return nil
	}
	b, err := rlp.EncodeToBytes(body)
	if err != nil {
		return fmt.Errorf("wal: encode %T: %w", in, err)
	}
	payload, err := rlp.EncodeToBytes(&walRecord{Height: height, Kind: kind, Body: b})
	if err != nil {
		return fmt.Errorf("wal: encode record: %w", err)
	}
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(hdr[4:], crc32.Checksum(payload, walCRC))
	if _, err := w.w.Write(hdr[:]); err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	if _, err := w.w.Write(payload); err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	return nil
}

// Sync flushes buffered records and fsyncs the file.
func (w *walFile) Sync() error {
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("wal: flush: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("wal: fsync: %w", err)
	}
	return nil
}

// Reset drops the records of committed heights (up to and including
// committed) once that height is in the store, keeping those of later
// heights (inputs the Machine buffered for the next height). The kept
// records are rewritten; like every other record they reach the disk with
// the next Sync.
func (w *walFile) Reset(committed uint64) error {
	kept, err := w.readRecords(func(h uint64) bool { return h > committed })
	if err != nil {
		return err
	}
	if err := w.f.Truncate(0); err != nil {
		return fmt.Errorf("wal: truncate: %w", err)
	}
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("wal: seek: %w", err)
	}
	w.w.Reset(w.f)
	for _, r := range kept {
		if err := w.Append(r.height, r.in); err != nil {
			return err
		}
	}
	return nil
}

type heightInput struct {
	height uint64
	in     consensus.Input
}

// ReadAll returns the logged inputs of height, in order. Records of other
// heights are skipped. A torn or corrupt tail is cut off so that appends
// continue from the last good record.
func (w *walFile) ReadAll(height uint64) ([]consensus.Input, error) {
	recs, err := w.readRecords(func(h uint64) bool { return h == height })
	if err != nil {
		return nil, err
	}
	out := make([]consensus.Input, len(recs))
	for i, r := range recs {
		out[i] = r.in
	}
	return out, nil
}

// readRecords reads the whole log, returns the records whose height keep
// accepts, and leaves the file positioned after the last good record (a
// torn tail is truncated).
func (w *walFile) readRecords(keep func(uint64) bool) ([]heightInput, error) {
	if err := w.w.Flush(); err != nil {
		return nil, fmt.Errorf("wal: flush: %w", err)
	}
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("wal: seek: %w", err)
	}
	r := bufio.NewReaderSize(w.f, 64<<10)
	var out []heightInput
	var good int64
	for {
		in, recHeight, n, err := readRecord(r)
		if err != nil {
			break // io.EOF, or a torn/corrupt tail
		}
		good += n
		if in != nil && keep(recHeight) {
			out = append(out, heightInput{recHeight, in})
		}
	}
	if err := w.f.Truncate(good); err != nil {
		return nil, fmt.Errorf("wal: truncate torn tail: %w", err)
	}
	if _, err := w.f.Seek(good, io.SeekStart); err != nil {
		return nil, fmt.Errorf("wal: seek: %w", err)
	}
	w.w.Reset(w.f)
	return out, nil
}

var errCorruptRecord = errors.New("wal: corrupt record")

func readRecord(r *bufio.Reader) (consensus.Input, uint64, int64, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, 0, 0, err
	}
	n := binary.BigEndian.Uint32(hdr[:4])
	if n > maxWALRecord {
		return nil, 0, 0, errCorruptRecord
	}
	payload, err := readPayload(r, int(n))
	if err != nil {
		return nil, 0, 0, err
	}
	if crc32.Checksum(payload, walCRC) != binary.BigEndian.Uint32(hdr[4:]) {
		return nil, 0, 0, errCorruptRecord
	}
	var rec walRecord
	if err := rlp.DecodeBytes(payload, &rec); err != nil {
		return nil, 0, 0, errCorruptRecord
	}
	in, err := decodeInput(rec.Kind, rec.Body)
	if err != nil {
		return nil, 0, 0, errCorruptRecord
	}
	return in, rec.Height, int64(8 + n), nil
}

// walReadChunk is how much readPayload allocates ahead of the bytes it has.
const walReadChunk = 4 << 10

// readPayload reads the n bytes of a record's payload. A torn record at the
// tail of the log claims a length the file does not hold, so the buffer
// grows with the bytes actually read, walReadChunk at a time, instead of
// being allocated at the claimed length up front.
func readPayload(r io.Reader, n int) ([]byte, error) {
	payload := make([]byte, 0, min(n, walReadChunk))
	for len(payload) < n {
		if len(payload) == cap(payload) {
			payload = slices.Grow(payload, min(n-len(payload), cap(payload)))
		}
		m, err := io.ReadFull(r, payload[len(payload):min(n, cap(payload))])
		payload = payload[:len(payload)+m]
		if err != nil {
			if err == io.EOF && len(payload) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return payload, nil
}

// Close flushes and closes the file.
func (w *walFile) Close() error {
	if err := w.w.Flush(); err != nil {
		w.f.Close()
		return err
	}
	return w.f.Close()
}
