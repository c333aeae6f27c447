package rpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// errOverBudget means an answer would exceed its byte budget; encoding
// stopped at the budget.
var errOverBudget = errors.New("over the response budget")

// budgetBuffer is an append-only buffer that refuses to grow past limit.
type budgetBuffer struct {
	buf   []byte
	limit int

	scratch bytes.Buffer  // one element's encoding
	enc     *json.Encoder // writes to scratch
}

func (b *budgetBuffer) write(p []byte) error {
	n := len(b.buf) + len(p)
	if n > b.limit {
		return errOverBudget
	}
	if n > cap(b.buf) {
		// Double, but never past the limit: what a response allocates
		// stays under twice its budget.
		b.reserve(max(2*cap(b.buf), n, 512))
	}
	b.buf = append(b.buf, p...)
	return nil
}

// reserve makes room for n bytes in all, or for the limit if that is less.
func (b *budgetBuffer) reserve(n int) {
	n = min(n, b.limit)
	if n <= cap(b.buf) {
		return
	}
	grown := make([]byte, len(b.buf), n)
	copy(grown, b.buf)
	b.buf = grown
}

// writeJSON appends the encoding of v (as json.Marshal writes it), which
// must be small: it is encoded whole before the budget is checked.
func (b *budgetBuffer) writeJSON(v any) error {
	if b.enc == nil {
		b.enc = json.NewEncoder(&b.scratch)
	}
	b.scratch.Reset()
	if err := b.enc.Encode(v); err != nil {
		return err
	}
	return b.write(bytes.TrimSuffix(b.scratch.Bytes(), []byte{'\n'}))
}

// streamed is a result whose encoding may be large because of one list;
// appendJSON encodes it list element by list element, so that encoding
// stops at the budget instead of building the whole text first.
type streamed interface {
	appendJSON(b *budgetBuffer) error
}

// appendResultResponse appends to b the response {"jsonrpc":"2.0","id":
// id,"result": result}. It fails with errOverBudget as soon as the
// response would exceed b's limit.
func appendResultResponse(b *budgetBuffer, id json.RawMessage, result any) error {
	if err := b.write([]byte(`{"jsonrpc":"2.0","id":`)); err != nil {
		return err
	}
	if err := b.write(id); err != nil {
		return err
	}
	if err := b.write([]byte(`,"result":`)); err != nil {
		return err
	}
	var err error
	if s, ok := result.(streamed); ok {
		err = s.appendJSON(b)
	} else {
		err = b.writeJSON(result)
	}
	if err != nil {
		return err
	}
	return b.write([]byte{'}'})
}

// appendWithList appends the encoding of v, in which the list field named
// key is nil (encoded null), with that null replaced by the n elements
// elem(0..n-1). This keeps the fields of v as encoding/json writes them
// (a field added to v's type is encoded too) while the list is encoded
// one element at a time.
func appendWithList(b *budgetBuffer, v any, key string, n int, elem func(i int) any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	start, end, err := topLevelMember(raw, key)
	if err != nil {
		return err
	}
	if err := b.write(raw[:start]); err != nil {
		return err
	}
	if err := b.write([]byte{'['}); err != nil {
		return err
	}
	for i := range n {
		if i > 0 {
			if err := b.write([]byte{','}); err != nil {
				return err
			}
		}
		before := len(b.buf)
		if err := b.writeJSON(elem(i)); err != nil {
			return err
		}
		if i == 0 && n > 1 {
			// Elements are alike: make room for all of them at once,
			// with an eighth to spare (and never past the budget),
			// rather than doubling up to it.
			size := len(b.buf) - before + 1 // and a comma
			b.reserve(len(b.buf) + (n-1)*size + (n-1)*size/8 + len(raw) - end + 1)
		}
	}
	if err := b.write([]byte{']'}); err != nil {
		return err
	}
	return b.write(raw[end:])
}

// topLevelMember returns the byte range of the value of member key of the
// JSON object raw.
func topLevelMember(raw []byte, key string) (start, end int, err error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return 0, 0, fmt.Errorf("encode result: not an object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return 0, 0, fmt.Errorf("encode result: %w", err)
		}
		name, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return 0, 0, fmt.Errorf("encode result: %w", err)
		}
		if name == key {
			end = int(dec.InputOffset())
			return end - len(val), end, nil
		}
	}
	return 0, 0, fmt.Errorf("encode result: no member %q", key)
}

func (r BlockWith[T]) appendJSON(b *budgetBuffer) error {
	txs := r.Txs
	r.Txs = nil
	return appendWithList(b, r, "txs", len(txs), func(i int) any { return txs[i] })
}

func (r ValidatorsResult) appendJSON(b *budgetBuffer) error {
	vals := r.Validators
	r.Validators = nil
	return appendWithList(b, r, "validators", len(vals), func(i int) any { return vals[i] })
}

// dutyList is the result of consensus_getDuties.
type dutyList []DutyResult

func (d dutyList) appendJSON(b *budgetBuffer) error {
	if err := b.write([]byte{'['}); err != nil {
		return err
	}
	for i := range d {
		if i > 0 {
			if err := b.write([]byte{','}); err != nil {
				return err
			}
		}
		if err := b.writeJSON(d[i]); err != nil {
			return err
		}
	}
	return b.write([]byte{']'})
}

// answer is what one message gets back: nothing (only notifications), one
// response, or a batch of them.
type answer struct {
	parts [][]byte // encoded responses
	batch bool
}

func (a answer) empty() bool { return len(a.parts) == 0 }

// writeTo writes the answer as one JSON text.
func (a answer) writeTo(w io.Writer) error {
	if !a.batch {
		_, err := w.Write(a.parts[0])
		return err
	}
	sep := []byte{'['}
	for _, p := range a.parts {
		if _, err := w.Write(sep); err != nil {
			return err
		}
		if _, err := w.Write(p); err != nil {
			return err
		}
		sep = []byte{','}
	}
	_, err := w.Write([]byte{']'})
	return err
}
