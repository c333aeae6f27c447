package wal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"

	"github.com/ethereum/go-ethereum/rlp"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
)

// maxRecord bounds a record's payload: the largest input is a proposal or
// commit carrying a block.
const maxRecord = chain.MaxBlockBytes + 1024

// bufSize is the write buffer: appends reach the file when it fills, and
// at Sync.
const bufSize = 64 << 10

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// File is what a Log needs of its file: *os.File implements it. The
// position is the Log's alone: it seeks before it reads and after it
// truncates.
type File interface {
	io.Reader
	io.Writer
	io.Seeker
	Truncate(size int64) error
	Sync() error
	Close() error
}

// Log is the consensus write-ahead log over a File. It is not safe for
// concurrent use: the consensus goroutine alone uses it.
type Log struct {
	f File
	w *bufio.Writer
	r *bufio.Reader // reused by every read of the log
	// scanned is set once the log has been read through and the file
	// positioned after its last good record; the first write of a Log
	// that has not read yet does that first.
	scanned bool
}

// Open opens (creating) the log file at path.
func Open(path string) (*Log, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("wal: %w", err)
	}
	return New(f), nil
}

// New returns a Log over f, which may already hold records: they are read
// (and a torn tail cut off) by the first ReadAll or Reset, or before the
// first Append if neither came first, so new records always follow the
// good ones. The Log owns f from then on and closes it in Close.
func New(f File) *Log {
	return &Log{f: f, w: bufio.NewWriterSize(f, bufSize)}
}

// Append logs an input of height. It is buffered until Sync (or until the
// buffer fills), and durable only once Sync returns. Inputs the log does
// not record (see encodeInput) are ignored.
func (w *Log) Append(height uint64, in consensus.Input) error {
	kind, body, ok := encodeInput(in)
	if !ok {
		return nil
	}
	if !w.scanned {
		if _, err := w.scan(func(uint64) bool { return false }, false); err != nil {
			return err
		}
	}
	b, err := rlp.EncodeToBytes(body)
	if err != nil {
		return fmt.Errorf("wal: encode %T: %w", in, err)
	}
	return w.writeFrame(encodeRecord(height, kind, b))
}

// writeFrame appends one record: its length, its CRC and its payload.
func (w *Log) writeFrame(payload []byte) error {
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(hdr[4:], crc32.Checksum(payload, crcTable))
	if _, err := w.w.Write(hdr[:]); err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	if _, err := w.w.Write(payload); err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	return nil
}

// Sync writes out buffered records and fsyncs the file: everything
// appended, and the effect of every Reset, is durable once it returns.
func (w *Log) Sync() error {
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
// heights (inputs the Machine buffered for the next height) in order. It
// truncates the file and appends the kept records again, buffered like any
// other append.
//
// Reset is not atomic. Until the next Sync returns, a crash leaves either
// the log as it was durable before Reset (the dropped records come back,
// which is harmless: ReadAll returns only the height asked for), or a
// prefix of the kept records, possibly none: kept records are lost if the
// truncation reached the disk and their rewrite did not. A caller that
// needs them to survive a crash calls Sync after Reset; the driver syncs
// before its next signature, and the records a Reset keeps are proposals
// and votes of the next height that arrived early from peers, which gossip
// delivers again.
func (w *Log) Reset(committed uint64) error {
	kept, err := w.scan(func(h uint64) bool { return h > committed }, false)
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
		// The kept records are copied as they were read, not re-encoded.
		if err := w.writeFrame(r.payload); err != nil {
			return err
		}
	}
	return nil
}

type heightInput struct {
	height uint64
	in     consensus.Input
}

// rawRecord is a record read back: its height and payload, and its input
// when it was decoded.
type rawRecord struct {
	heightInput
	payload []byte
}

// ReadAll returns the logged inputs of height, in order. Records of other
// heights are skipped. A torn or corrupt tail is cut off so that appends
// continue from the last good record.
func (w *Log) ReadAll(height uint64) ([]consensus.Input, error) {
	recs, err := w.readRecords(func(h uint64) bool { return h == height }, true)
	if err != nil {
		return nil, err
	}
	out := make([]consensus.Input, len(recs))
	for i, r := range recs {
		out[i] = r.in
	}
	return out, nil
}

// Close writes out buffered records (without fsync) and closes the file.
func (w *Log) Close() error {
	if err := w.w.Flush(); err != nil {
		w.f.Close()
		return fmt.Errorf("wal: flush: %w", err)
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("wal: close: %w", err)
	}
	return nil
}

// readRecords returns the decoded inputs of the records whose height keep
// accepts (see scan).
func (w *Log) readRecords(keep func(uint64) bool, decode bool) ([]heightInput, error) {
	raw, err := w.scan(keep, decode)
	if err != nil {
		return nil, err
	}
	out := make([]heightInput, len(raw))
	for i := range raw {
		out[i] = raw[i].heightInput
	}
	return out, nil
}

// scan reads the whole log, returns the records whose height keep
// accepts, and leaves the file positioned after the last good record (a
// torn tail is truncated). With decode, the inputs of the kept records are
// decoded, and one that does not decode is corrupt (it ends the log like a
// bad checksum); records not kept are never decoded. A read error of the
// file is returned as it is, with nothing truncated.
func (w *Log) scan(keep func(uint64) bool, decode bool) ([]rawRecord, error) {
	if err := w.w.Flush(); err != nil {
		return nil, fmt.Errorf("wal: flush: %w", err)
	}
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("wal: seek: %w", err)
	}
	if w.r == nil {
		w.r = bufio.NewReaderSize(w.f, bufSize)
	}
	r := w.r
	r.Reset(w.f)
	var out []rawRecord
	var good int64
	for {
		rec, payload, err := readRecord(r)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errCorruptRecord) {
			break // the end of the log, or a torn/corrupt tail
		}
		if err != nil {
			// The file failed to read: what follows is unknown, so
			// nothing is truncated.
			return nil, fmt.Errorf("wal: read: %w", err)
		}
		if keep(rec.Height) {
			hi := rawRecord{heightInput: heightInput{height: rec.Height}, payload: payload}
			if decode {
				if hi.in, err = decodeInput(rec.Kind, rec.Body); err != nil {
					break // corrupt: the log ends here
				}
			}
			out = append(out, hi)
		}
		good += int64(8 + len(payload))
	}
	if err := w.f.Truncate(good); err != nil {
		return nil, fmt.Errorf("wal: truncate torn tail: %w", err)
	}
	if _, err := w.f.Seek(good, io.SeekStart); err != nil {
		return nil, fmt.Errorf("wal: seek: %w", err)
	}
	w.w.Reset(w.f)
	w.scanned = true
	return out, nil
}

var errCorruptRecord = errors.New("wal: corrupt record")

// readRecord reads one record frame and checks its CRC and the record's
// envelope (height, kind, body bytes); the body is decoded by the caller.
func readRecord(r *bufio.Reader) (record, []byte, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return record{}, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:4])
	if n > maxRecord {
		return record{}, nil, errCorruptRecord
	}
	payload, err := readPayload(r, int(n))
	if err != nil {
		return record{}, nil, err
	}
	if crc32.Checksum(payload, crcTable) != binary.BigEndian.Uint32(hdr[4:]) {
		return record{}, nil, errCorruptRecord
	}
	rec, err := decodeRecord(payload)
	if err != nil {
		return record{}, nil, errCorruptRecord
	}
	return rec, payload, nil
}

// encodeRecord is the RLP encoding of record{height, kind, body}, written
// field by field: every input the node steps is appended, so this is on
// the consensus hot path.
func encodeRecord(height uint64, kind uint8, body []byte) []byte {
	w := rlp.NewEncoderBuffer(nil)
	l := w.List()
	w.WriteUint64(height)
	w.WriteUint64(uint64(kind))
	w.WriteBytes(body)
	w.ListEnd(l)
	out := w.ToBytes()
	_ = w.Flush() // no destination: only returns the buffer to its pool
	return out
}

// decodeRecord decodes what encodeRecord writes, as strictly as
// rlp.DecodeBytes into a record would: canonical integers, a kind that
// fits a byte, and nothing after the body or after the list.
func decodeRecord(payload []byte) (record, error) {
	content, rest, err := rlp.SplitList(payload)
	if err != nil {
		return record{}, err
	}
	if len(rest) > 0 {
		return record{}, rlp.ErrMoreThanOneValue
	}
	var rec record
	var kind uint64
	if rec.Height, content, err = rlp.SplitUint64(content); err != nil {
		return record{}, err
	}
	if kind, content, err = rlp.SplitUint64(content); err != nil {
		return record{}, err
	}
	if kind > 0xff {
		return record{}, fmt.Errorf("record kind %d", kind)
	}
	rec.Kind = uint8(kind)
	if rec.Body, content, err = rlp.SplitString(content); err != nil {
		return record{}, err
	}
	if len(content) > 0 {
		return record{}, errors.New("record has more than three fields")
	}
	return rec, nil
}

// readChunk is how much readPayload allocates ahead of the bytes it has.
const readChunk = 4 << 10

// readPayload reads the n bytes of a record's payload. A torn record at the
// tail of the log claims a length the file does not hold, so the buffer
// grows with the bytes actually read, readChunk at a time, instead of
// being allocated at the claimed length up front.
func readPayload(r io.Reader, n int) ([]byte, error) {
	payload := make([]byte, 0, min(n, readChunk))
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
