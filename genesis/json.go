package genesis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

// docJSON, accountJSON and validatorJSON are the wire form of a Doc. Field
// order here is the order of the canonical encoding.
type docJSON struct {
	ChainID     string          `json:"chain_id"`
	GenesisTime string          `json:"genesis_time"`
	Params      staking.Params  `json:"params"`
	Accounts    []accountJSON   `json:"accounts"`
	Validators  []validatorJSON `json:"validators"`
}

type accountJSON struct {
	Address string `json:"address"`
	Balance string `json:"balance"`
}

type validatorJSON struct {
	Address    string `json:"address"`
	Stake      string `json:"stake"`
	Name       string `json:"name,omitempty"`
	Commission string `json:"commission,omitempty"`
}

func (d *Doc) wire() docJSON {
	w := docJSON{
		ChainID:     d.ChainID,
		GenesisTime: FormatTime(d.GenesisTime),
		Params:      d.Params,
		Accounts:    make([]accountJSON, len(d.Accounts)),
		Validators:  make([]validatorJSON, len(d.Validators)),
	}
	for i, a := range d.Accounts {
		w.Accounts[i] = accountJSON{Address: chain.FormatAddress(a.Address), Balance: FormatAmount(a.Balance)}
	}
	for i, v := range d.Validators {
		w.Validators[i] = validatorJSON{Address: chain.FormatAddress(v.Address), Stake: FormatAmount(v.Stake), Name: v.Name}
		if v.Commission != 0 {
			w.Validators[i].Commission = staking.Fraction{Num: v.Commission, Den: staking.CommissionDen}.String()
		}
	}
	return w
}

// MarshalJSON returns the canonical encoding: compact JSON, fields in the
// order of the Doc comment, lowercase addresses, decimal-string amounts and
// the genesis time in UTC (RFC 3339). Hash is computed over it.
func (d Doc) MarshalJSON() ([]byte, error) { return json.Marshal(d.wire()) }

// MarshalIndent returns the canonical encoding indented by two spaces, with
// a final newline: the form Save writes.
func (d *Doc) MarshalIndent() ([]byte, error) {
	b, err := json.MarshalIndent(d.wire(), "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// UnmarshalJSON decodes a document strictly (see Decode); it does not
// validate it. Errors are *FieldError.
func (d *Doc) UnmarshalJSON(b []byte) error {
	obj, err := readObject(b, "")
	if err != nil {
		return err
	}
	if err := obj.check("", []string{"chain_id", "genesis_time", "params", "validators"}, []string{"accounts"}); err != nil {
		return err
	}
	var out Doc
	if err := decodeValue(obj.values["chain_id"], "chain_id", &out.ChainID); err != nil {
		return err
	}
	var ts string
	if err := decodeValue(obj.values["genesis_time"], "genesis_time", &ts); err != nil {
		return err
	}
	if out.GenesisTime, err = ParseTime(ts); err != nil {
		return fieldErr("genesis_time", err)
	}
	if out.Params, err = decodeParams(obj.values["params"]); err != nil {
		return err
	}
	out.Accounts = []Account{}
	if raw, ok := obj.values["accounts"]; ok {
		if out.Accounts, err = decodeAccounts(raw); err != nil {
			return err
		}
	}
	if out.Validators, err = decodeValidators(obj.values["validators"]); err != nil {
		return err
	}
	*d = out
	return nil
}

func decodeAccounts(raw json.RawMessage) ([]Account, error) {
	elems, err := decodeArray(raw, "accounts")
	if err != nil {
		return nil, err
	}
	accounts := make([]Account, len(elems))
	for i, e := range elems {
		path := fmt.Sprintf("accounts[%d]", i)
		obj, err := readObject(e, path)
		if err != nil {
			return nil, err
		}
		if err := obj.check(path, []string{"address", "balance"}, nil); err != nil {
			return nil, err
		}
		if accounts[i].Address, err = decodeAddress(obj.values["address"], path+".address"); err != nil {
			return nil, err
		}
		if accounts[i].Balance, err = decodeAmount(obj.values["balance"], path+".balance"); err != nil {
			return nil, err
		}
	}
	return accounts, nil
}

func decodeValidators(raw json.RawMessage) ([]Validator, error) {
	elems, err := decodeArray(raw, "validators")
	if err != nil {
		return nil, err
	}
	validators := make([]Validator, len(elems))
	for i, e := range elems {
		path := fmt.Sprintf("validators[%d]", i)
		obj, err := readObject(e, path)
		if err != nil {
			return nil, err
		}
		if err := obj.check(path, []string{"address", "stake"}, []string{"name", "commission"}); err != nil {
			return nil, err
		}
		if validators[i].Address, err = decodeAddress(obj.values["address"], path+".address"); err != nil {
			return nil, err
		}
		if validators[i].Stake, err = decodeAmount(obj.values["stake"], path+".stake"); err != nil {
			return nil, err
		}
		if raw, ok := obj.values["name"]; ok {
			if err := decodeValue(raw, path+".name", &validators[i].Name); err != nil {
				return nil, err
			}
			// "name": "" would not survive a round trip (omitempty).
			if validators[i].Name == "" {
				return nil, fieldErr(path+".name", fmt.Errorf("%w: empty (omit the field instead)", ErrInvalidName))
			}
		}
		if raw, ok := obj.values["commission"]; ok {
			if validators[i].Commission, err = decodeCommission(raw, path+".commission"); err != nil {
				return nil, err
			}
		}
	}
	return validators, nil
}

// decodeCommission decodes a validator's "commission": a fraction in [0, 1]
// ("0.05" or "1/20") exact in 18 decimal places. The canonical encoding
// writes it in decimal and omits a commission of 0.
func decodeCommission(raw json.RawMessage, path string) (uint64, error) {
	var s string
	if err := decodeValue(raw, path, &s); err != nil {
		return 0, err
	}
	f, err := staking.ParseFraction(s)
	if err != nil {
		return 0, fieldErr(path, err)
	}
	if staking.CommissionDen%f.Den != 0 {
		return 0, fieldErr(path, fmt.Errorf("%w: %q is not exact in 18 decimal places", staking.ErrInvalidFraction, s))
	}
	return f.Num * (staking.CommissionDen / f.Den), nil // Num <= Den: at most CommissionDen
}

// decodeParams decodes the params object. Its fields are exactly those of
// staking.Params as staking encodes them; a parameter that staking writes as
// a decimal string must be a canonical amount here too.
func decodeParams(raw json.RawMessage) (staking.Params, error) {
	var p staking.Params
	obj, err := readObject(raw, "params")
	if err != nil {
		return p, err
	}
	defaults := paramFields()
	names := make([]string, 0, len(defaults))
	for name := range defaults {
		names = append(names, name)
	}
	slices.Sort(names)
	if err := obj.check("params", names, nil); err != nil {
		return p, err
	}
	// Decode field by field first so that an error names its field.
	for _, name := range names {
		path := "params." + name
		value := obj.values[name]
		if isDecimalString(defaults[name]) {
			var s string
			if err := decodeValue(value, path, &s); err != nil {
				return p, err
			}
			if _, err := ParseAmount(s); err != nil {
				return p, fieldErr(path, err)
			}
		}
		single, err := json.Marshal(map[string]json.RawMessage{name: value})
		if err != nil {
			return p, fieldErr(path, fmt.Errorf("%w: %v", ErrMalformed, err))
		}
		var scratch staking.Params
		if err := decodeValue(single, "params", &scratch); err != nil {
			var fe *FieldError
			if errors.As(err, &fe) && fe.Field == "params" {
				fe.Field = path
			}
			return p, err
		}
	}
	if err := decodeValue(raw, "params", &p); err != nil {
		return p, err
	}
	return p, nil
}

// paramFields is the encoding of staking.DefaultParams as a map from field
// name to value: the schema of the params object.
func paramFields() map[string]json.RawMessage {
	b, err := json.Marshal(staking.DefaultParams())
	if err != nil {
		panic(fmt.Sprintf("genesis: staking.DefaultParams encodes: %v", err))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		panic(fmt.Sprintf("genesis: staking.Params encodes as an object: %v", err))
	}
	return m
}

func isDecimalString(raw json.RawMessage) bool {
	if len(raw) < 3 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	for _, c := range raw[1 : len(raw)-1] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func decodeAddress(raw json.RawMessage, path string) (chain.Address, error) {
	var s string
	if err := decodeValue(raw, path, &s); err != nil {
		return chain.Address{}, err
	}
	a, err := ParseAddress(s)
	if err != nil {
		return chain.Address{}, fieldErr(path, err)
	}
	return a, nil
}

func decodeAmount(raw json.RawMessage, path string) (uint64, error) {
	var s string
	if err := decodeValue(raw, path, &s); err != nil {
		return 0, err
	}
	v, err := ParseAmount(s)
	if err != nil {
		return 0, fieldErr(path, err)
	}
	return v, nil
}

// ParseAddress parses 0x followed by 40 hex digits (either case).
func ParseAddress(s string) (chain.Address, error) {
	if len(s) != 42 {
		return chain.Address{}, fmt.Errorf("%w %s: want 0x followed by 40 hex digits", ErrInvalidAddress, quote(s))
	}
	a, err := chain.ParseAddress(s)
	if err != nil {
		return chain.Address{}, fmt.Errorf("%w: %v", ErrInvalidAddress, err)
	}
	return a, nil
}

// object is a JSON object's members in order of appearance.
type object struct {
	keys   []string
	values map[string]json.RawMessage
}

// readObject reads b as exactly one JSON object, rejecting duplicate member
// names (encoding/json would keep the last silently) and trailing data.
func readObject(b []byte, path string) (object, error) {
	obj := object{values: make(map[string]json.RawMessage)}
	if isNull(b) {
		return obj, fieldErr(path, fmt.Errorf("%w: null, want an object", ErrMalformed))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return obj, syntaxErr(path, err)
	}
	if tok != json.Delim('{') {
		return obj, fieldErr(path, fmt.Errorf("%w: want an object", ErrMalformed))
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return obj, syntaxErr(path, err)
		}
		key, ok := tok.(string)
		if !ok {
			return obj, fieldErr(path, fmt.Errorf("%w: want a member name", ErrMalformed))
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return obj, syntaxErr(join(path, key), err)
		}
		if _, dup := obj.values[key]; dup {
			return obj, fieldErr(path, fmt.Errorf("%w %s", ErrDuplicateField, quote(key)))
		}
		obj.keys = append(obj.keys, key)
		obj.values[key] = v
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return obj, syntaxErr(path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return obj, fieldErr(path, fmt.Errorf("%w: trailing data after the object", ErrMalformed))
	}
	return obj, nil
}

// check rejects members other than required and optional ones (compared
// exactly: encoding/json alone would match names case-insensitively) and
// missing required members.
func (o object) check(path string, required, optional []string) error {
	for _, k := range o.keys {
		if !slices.Contains(required, k) && !slices.Contains(optional, k) {
			return fieldErr(path, fmt.Errorf("%w %s", ErrUnknownField, quote(k)))
		}
	}
	for _, k := range required {
		if _, ok := o.values[k]; !ok {
			return fieldErr(path, fmt.Errorf("%w %q", ErrMissingField, k))
		}
	}
	return nil
}

func decodeArray(raw json.RawMessage, path string) ([]json.RawMessage, error) {
	var elems []json.RawMessage
	if err := decodeValue(raw, path, &elems); err != nil {
		return nil, err
	}
	return elems, nil
}

// decodeValue decodes one JSON value into v, rejecting null and, inside
// structs, unknown fields.
func decodeValue(raw json.RawMessage, path string, v any) error {
	if isNull(raw) {
		return fieldErr(path, fmt.Errorf("%w: null", ErrMalformed))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return fieldErr(join(path, typeErr.Field), fmt.Errorf("%w: got a JSON %s, want %s", ErrMalformed, typeErr.Value, kind(typeErr.Type)))
		}
		return syntaxErr(path, err)
	}
	if dec.More() {
		return fieldErr(path, fmt.Errorf("%w: trailing data", ErrMalformed))
	}
	return nil
}

func syntaxErr(path string, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fieldErr(path, fmt.Errorf("%w: unexpected end of input", ErrMalformed))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fieldErr(path, fmt.Errorf("%w: %v at byte %d", ErrMalformed, se, se.Offset))
	}
	if msg, ok := strings.CutPrefix(err.Error(), "json: "); ok {
		return fieldErr(path, fmt.Errorf("%w: %s", ErrMalformed, msg))
	}
	return fieldErr(path, fmt.Errorf("%w: %w", ErrMalformed, err)) // e.g. from an UnmarshalText
}

func kind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Bool:
		return "a boolean"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an unsigned integer of " + t.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer of " + t.String()
	}
	return t.String()
}

func isNull(b []byte) bool { return string(bytes.TrimSpace(b)) == "null" }

func join(path, field string) string {
	switch {
	case field == "":
		return path
	case path == "":
		return field
	}
	return path + "." + field
}
