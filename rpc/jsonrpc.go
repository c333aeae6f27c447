package rpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// request is one decoded JSON-RPC request. A request with err set was
// invalid; it is answered with err (id is then null unless it was valid).
type request struct {
	id     json.RawMessage // nil: a notification, which gets no response
	method string
	params json.RawMessage // nil when absent or null
	err    *Error
}

// response is one JSON-RPC response object.
type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

var nullID = json.RawMessage("null")

// batchTooLargePrefix starts the message of the error of a batch over the
// limit (counted as a batch_size refusal).
const batchTooLargePrefix = "invalid request: batch of "

// decodeMessage splits one message (a websocket message or an HTTP body)
// into requests. A message that is not JSON is a parse error (-32700); one
// that is neither an object nor a non-empty array, or a batch over
// maxBatch, is an invalid request (-32600). Each element of a batch is
// decoded on its own, so one bad element fails only itself.
func decodeMessage(data []byte, maxBatch int) (reqs []request, batch bool, err *Error) {
	// The message is scanned as it is decoded, not before: a syntax error
	// met on the way is the message's parse error.
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, false, notJSON()
	}
	switch trimmed[0] {
	case '{':
		r, syntaxErr := decodeRequest(trimmed)
		if syntaxErr {
			return nil, false, notJSON()
		}
		return []request{r}, false, nil
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(trimmed, &elems); err != nil {
			if isSyntaxError(err) {
				return nil, false, notJSON()
			}
			return nil, false, &Error{Code: CodeParseError, Message: "parse error: " + err.Error()}
		}
		if len(elems) == 0 {
			return nil, false, &Error{Code: CodeInvalidRequest, Message: "invalid request: empty batch"}
		}
		if len(elems) > maxBatch {
			return nil, false, &Error{Code: CodeInvalidRequest, Message: fmt.Sprintf(batchTooLargePrefix+"%d requests exceeds %d", len(elems), maxBatch)}
		}
		reqs = make([]request, len(elems))
		for i, e := range elems {
			reqs[i], _ = decodeRequest(e) // each element is valid JSON already
		}
		return reqs, true, nil
	}
	if !json.Valid(trimmed) {
		return nil, false, notJSON()
	}
	return nil, false, &Error{Code: CodeInvalidRequest, Message: "invalid request: want a request object or a batch array"}
}

func notJSON() *Error {
	return &Error{Code: CodeParseError, Message: "parse error: message is not valid JSON"}
}

func isSyntaxError(err error) bool {
	var se *json.SyntaxError
	return errors.As(err, &se)
}

// decodeRequest decodes one JSON value as a request object. syntaxErr
// reports that data is not valid JSON at all (a parse error rather than an
// invalid request); the request is then meaningless.
func decodeRequest(data []byte) (r request, syntaxErr bool) {
	invalid := func(id json.RawMessage, why string) (request, bool) {
		if id == nil {
			id = nullID
		}
		return request{id: id, err: &Error{Code: CodeInvalidRequest, Message: "invalid request: " + why}}, false
	}
	data = bytes.TrimLeft(data, " \t\r\n")
	if len(data) == 0 || data[0] != '{' {
		return invalid(nil, "want a request object")
	}
	// Members are read by exact name (encoding/json would match struct
	// fields case-insensitively), each raw, so that a wrong type is an
	// invalid request rather than a parse error.
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		if isSyntaxError(err) {
			return request{}, true
		}
		return invalid(nil, err.Error())
	}
	w := struct{ JSONRPC, ID, Method, Params json.RawMessage }{
		members["jsonrpc"], members["id"], members["method"], members["params"]}
	var id json.RawMessage
	if w.ID != nil {
		switch w.ID[0] {
		case '"', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			id = w.ID
		default:
			return invalid(nil, "id must be a string, a number or null")
		}
	}
	if w.JSONRPC == nil || string(w.JSONRPC) != `"2.0"` {
		return invalid(id, `jsonrpc must be "2.0"`)
	}
	var method string
	if w.Method == nil || w.Method[0] != '"' {
		return invalid(id, "method must be a string")
	}
	if err := json.Unmarshal(w.Method, &method); err != nil {
		return invalid(id, "method must be a string")
	}
	var params json.RawMessage
	if w.Params != nil {
		switch w.Params[0] {
		case '{', '[':
			params = w.Params
		case 'n':
		default:
			return invalid(id, "params must be an object or an array")
		}
	}
	return request{id: id, method: method, params: params}, false
}

// decodeParams decodes params into dst (a pointer to a params struct):
// absent or null params leave dst zero; an object is decoded strictly; an
// array must hold exactly that one object.
func decodeParams(params json.RawMessage, dst any) *Error {
	if len(params) == 0 {
		return nil
	}
	if params[0] == '[' {
		var elems []json.RawMessage
		if err := json.Unmarshal(params, &elems); err != nil {
			return invalidParams("%v", err)
		}
		switch len(elems) {
		case 0:
			return nil
		case 1:
			params = elems[0]
		default:
			return invalidParams("want one params object, got an array of %d", len(elems))
		}
		if string(params) == "null" {
			return nil
		}
	}
	if len(params) == 0 || params[0] != '{' {
		return invalidParams("want a params object")
	}
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return invalidParams("%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalidParams("trailing data after params")
	}
	return nil
}

// encodeResponse returns the response to req with result or err.
func encodeResponse(id json.RawMessage, result any, err *Error) *response {
	if id == nil {
		id = nullID
	}
	if err != nil {
		return &response{JSONRPC: "2.0", ID: id, Error: err}
	}
	raw, merr := json.Marshal(result)
	if merr != nil {
		return &response{JSONRPC: "2.0", ID: id, Error: &Error{Code: CodeInternal, Message: "internal error: encode result: " + merr.Error()}}
	}
	return &response{JSONRPC: "2.0", ID: id, Result: raw}
}

// notification builds a chain_subscription message for subscription id.
func notification(id string, result []byte) []byte {
	b := make([]byte, 0, len(result)+96)
	b = append(b, `{"jsonrpc":"2.0","method":"chain_subscription","params":{"subscription":"`...)
	b = append(b, id...) // ids are hex: no escaping needed
	b = append(b, `","result":`...)
	b = append(b, result...)
	b = append(b, "}}"...)
	return b
}
