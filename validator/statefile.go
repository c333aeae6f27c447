package validator

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strconv"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/internal/fsutil"
)

// ErrStateCorrupt means a signer state file holds no record that can be
// trusted. The signer must not sign until an operator has looked.
var ErrStateCorrupt = errors.New("signer state corrupt")

// FileState is a StateStore in a file (data/signer_state.json) that
// survives a write torn at any byte.
//
// The file holds two fixed-size slots, each one JSON record with a sequence
// number and a CRC-32C of its fields, framed as a JSON array:
//
//	[\n<slot 0>,\n<slot 1>]\n       each slot stateSlotSize bytes, padded with spaces
//
// Save writes the new record, numbered one above the current one, into the
// other slot only, in place, and fsyncs: one write and one fsync per
// signature. Load takes the valid slot with the highest sequence number. A
// write torn anywhere damages only the slot being written, whose record
// Save had not yet returned, so its signature was never released: Load then
// returns the previous record, which is exactly what was last released.
// Load refuses (ErrStateCorrupt) a file in which neither slot is valid,
// since one torn write cannot cause that.
//
// The file is created, and a file in the older single-record format is
// replaced, with fsutil.WriteFileAtomic (temporary file, fsync, rename, fsync of
// the directory), so those writes cannot be torn either. FileState keeps no
// state between calls: Save reads the file to find the current slot
// (WriterFileState, for the file's only writer, remembers it).
type FileState struct{ Path string }

// Layout of the two-slot file.
const (
	stateSlotSize  = 506
	stateFileSize  = 2 + stateSlotSize + 2 + stateSlotSize + 2
	stateSlot0     = 2
	stateSlot1     = stateSlot0 + stateSlotSize + 2
	maxStateBytes  = 4096 // bound on what Load reads
	legacyFileSize = 512  // the single-record format written before the slots
)

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// slotRecord is the JSON form of one slot.
type slotRecord struct {
	Seq       uint64     `json:"seq,string"`
	Height    uint64     `json:"height,string"`
	Round     uint32     `json:"round"`
	Step      SignStep   `json:"step"`
	SignHash  chain.Hash `json:"signHash"`
	Signature string     `json:"signature"`
	Checksum  string     `json:"crc32c"`
}

// checksum is the CRC-32C of the record's fields in a fixed binary layout.
func checksum(seq uint64, l *LastSigned) uint32 {
	var b [8 + 8 + 4 + 1 + 32 + chain.SignatureLength]byte
	binary.BigEndian.PutUint64(b[0:], seq)
	binary.BigEndian.PutUint64(b[8:], l.Height)
	binary.BigEndian.PutUint32(b[16:], l.Round)
	b[20] = byte(l.Step)
	copy(b[21:], l.SignHash[:])
	copy(b[53:], l.Signature[:])
	return crc32.Checksum(b[:], crc32c)
}

// encodeSlot returns the stateSlotSize bytes of a slot holding l as record
// number seq.
func encodeSlot(seq uint64, l LastSigned) ([]byte, error) {
	rec := slotRecord{Seq: seq, Height: l.Height, Round: l.Round, Step: l.Step, SignHash: l.SignHash,
		Signature: encodeHex(l.Signature[:]), Checksum: "0x" + strconv.FormatUint(uint64(checksum(seq, &l)), 16)}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	if len(b) > stateSlotSize {
		return nil, fmt.Errorf("signer state record of %d bytes exceeds its slot of %d", len(b), stateSlotSize)
	}
	return append(b, bytes.Repeat([]byte{' '}, stateSlotSize-len(b))...), nil
}

// decodeSlot parses and checks one slot.
func decodeSlot(b []byte) (uint64, LastSigned, error) {
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimRight(b, " ")))
	dec.DisallowUnknownFields()
	var rec slotRecord
	if err := dec.Decode(&rec); err != nil {
		return 0, LastSigned{}, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return 0, LastSigned{}, errors.New("trailing data")
	}
	if rec.Step > StepPrecommit {
		return 0, LastSigned{}, fmt.Errorf("invalid step %d", rec.Step)
	}
	l := LastSigned{Height: rec.Height, Round: rec.Round, Step: rec.Step, SignHash: rec.SignHash}
	raw, err := decodeHex(rec.Signature, chain.SignatureLength)
	if err != nil {
		return 0, LastSigned{}, fmt.Errorf("signature: %w", err)
	}
	copy(l.Signature[:], raw)
	sum, err := strconv.ParseUint(rec.Checksum, 0, 32)
	if err != nil || uint32(sum) != checksum(rec.Seq, &l) {
		return 0, LastSigned{}, fmt.Errorf("checksum %q does not match the record", rec.Checksum)
	}
	return rec.Seq, l, nil
}

// stateFile is what a read of the file found: the current record, its
// sequence number and slot, or legacy for the single-record format.
type stateFile struct {
	exists bool
	legacy bool
	seq    uint64
	slot   int
	last   LastSigned
}

func (f FileState) read() (stateFile, error) {
	fh, err := os.Open(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return stateFile{}, nil
	}
	if err != nil {
		return stateFile{}, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxStateBytes+1))
	if err != nil {
		return stateFile{}, err
	}
	if len(b) > maxStateBytes {
		return stateFile{}, fmt.Errorf("%s: %w: more than %d bytes", f.Path, ErrStateCorrupt, maxStateBytes)
	}
	if len(b) != stateFileSize || !bytes.HasPrefix(b, []byte("[\n")) {
		l, err := decodeLegacy(b)
		if err != nil {
			return stateFile{}, fmt.Errorf("%s: %w (refusing to sign without it): %w", f.Path, ErrStateCorrupt, err)
		}
		return stateFile{exists: true, legacy: true, last: l}, nil
	}
	found := stateFile{exists: true, slot: -1}
	var errs []error
	for i, off := range []int{stateSlot0, stateSlot1} {
		seq, l, err := decodeSlot(b[off : off+stateSlotSize])
		if err != nil {
			errs = append(errs, fmt.Errorf("slot %d: %w", i, err))
			continue
		}
		if found.slot < 0 || seq > found.seq {
			found.seq, found.slot, found.last = seq, i, l
		}
	}
	if found.slot < 0 {
		return stateFile{}, fmt.Errorf("%s: %w: no valid slot (refusing to sign without it): %w", f.Path, ErrStateCorrupt, errors.Join(errs...))
	}
	return found, nil
}

// decodeLegacy parses the single padded JSON record of older versions.
func decodeLegacy(b []byte) (LastSigned, error) {
	var l LastSigned
	if err := json.Unmarshal(b, &l); err != nil {
		return LastSigned{}, err
	}
	if l.Step > StepPrecommit {
		return LastSigned{}, fmt.Errorf("invalid step %d", l.Step)
	}
	if l.Step != 0 {
		raw, err := decodeHex(l.SigHex, chain.SignatureLength)
		if err != nil {
			return LastSigned{}, fmt.Errorf("signature: %w", err)
		}
		copy(l.Signature[:], raw)
	}
	return l, nil
}

// Load implements StateStore. A missing file means nothing was signed yet;
// a file with no valid record is ErrStateCorrupt.
func (f FileState) Load() (LastSigned, error) {
	st, err := f.read()
	if err != nil {
		return LastSigned{}, err
	}
	return st.last, nil
}

// Save implements StateStore: it returns once l is on stable storage.
func (f FileState) Save(l LastSigned) error {
	st, err := f.read()
	if err != nil {
		return err
	}
	if !st.exists || st.legacy {
		return f.create(l)
	}
	return f.writeSlot(st.seq+1, 1-st.slot, l)
}

// writeSlot writes l as record seq into slot (0 or 1) in place and fsyncs.
func (f FileState) writeSlot(seq uint64, slot int, l LastSigned) error {
	rec, err := encodeSlot(seq, l)
	if err != nil {
		return err
	}
	off := int64(stateSlot0)
	if slot == 1 {
		off = stateSlot1
	}
	fh, err := os.OpenFile(f.Path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := fh.WriteAt(rec, off); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// create writes a new two-slot file holding l (record 1) and an empty
// record 0, atomically.
func (f FileState) create(l LastSigned) error {
	first, err := encodeSlot(1, l)
	if err != nil {
		return err
	}
	empty, err := encodeSlot(0, LastSigned{})
	if err != nil {
		return err
	}
	b := make([]byte, 0, stateFileSize)
	b = append(b, "[\n"...)
	b = append(b, first...)
	b = append(b, ",\n"...)
	b = append(b, empty...)
	b = append(b, "]\n"...)
	return fsutil.WriteFileAtomic(f.Path, b, 0o600)
}
