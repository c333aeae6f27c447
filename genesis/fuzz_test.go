package genesis

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics, that every error is located
// (*FieldError), and that an accepted document re-encodes canonically: the
// encoding parses to an equal Doc with an equal Hash and encodes to itself.
// The seed corpus is testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(validJSON))
	f.Fuzz(func(t *testing.T, in []byte) {
		d, err := Parse(in)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse error %T %v is not a *FieldError", err, err)
			}
			return
		}
		enc, err := d.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON of accepted %q: %v", in, err)
		}
		d2, err := Parse(enc)
		if err != nil {
			t.Fatalf("Parse(MarshalJSON) of accepted %q: %v\nencoding: %s", in, err, enc)
		}
		if !reflect.DeepEqual(d, d2) {
			t.Fatalf("round trip of %q:\ngot  %+v\nwant %+v", in, d2, d)
		}
		if d.Hash() != d2.Hash() {
			t.Fatalf("round trip of %q changed the hash", in)
		}
		enc2, err := d2.MarshalJSON()
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not canonical: %s then %s (%v)", enc, enc2, err)
		}
		pretty, err := d.MarshalIndent()
		if err != nil {
			t.Fatal(err)
		}
		if d3, err := Parse(pretty); err != nil || d3.Hash() != d.Hash() {
			t.Fatalf("indented encoding %s: %v", pretty, err)
		}
	})
}
