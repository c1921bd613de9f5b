package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/leadwire/leadwire"
)

// decodeJSONLead decodes a JSON object into one lead whose Raw is the body
// as received.
func decodeJSONLead(body []byte) ([]*leadwire.Lead, error) {
	obj, err := decodeJSONObject(body)
	if err != nil {
		return nil, err
	}
	p, err := payloadFromObject(obj)
	if err != nil {
		return nil, err
	}
	// The body is the lead as received; decodeJSONObject checked it is one
	// valid JSON object.
	return []*leadwire.Lead{{Payload: p, Raw: bytes.TrimSpace(body)}}, nil
}

// decodeJSONObject decodes body, which must hold exactly one JSON object
// nested at most MaxDepth deep. Numbers stay json.Number so that ids keep
// their literal text and Extra keeps the value as sent.
func decodeJSONObject(body []byte) (map[string]any, error) {
	// Nearly every body is a small, well-formed object, which the quick
	// parser reads for a fraction of the cost. It gives up on anything
	// else, and encoding/json then decodes the body and names the error.
	if obj, ok := parseJSONObject(body); ok {
		return obj, nil
	}
	return decodeJSONObjectStd(body)
}

// decodeJSONValue decodes body, which must hold exactly one JSON value
// nested at most MaxDepth deep, with encoding/json: numbers stay
// json.Number, and errors name the byte at fault.
func decodeJSONValue(body []byte) (any, error) {
	if off, ok := jsonTooDeep(body); ok {
		return nil, invalid("malformed JSON at byte %d: nested deeper than %d levels", off, MaxDepth)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, jsonSyntaxError(err, len(body))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalid("malformed JSON at byte %d: unexpected data after the top-level value", dec.InputOffset())
	}
	return v, nil
}

// decodeJSONObjectStd is decodeJSONObject with encoding/json alone: the
// error messages, and their byte offsets, are those of encoding/json.
func decodeJSONObjectStd(body []byte) (map[string]any, error) {
	v, err := decodeJSONValue(body)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, invalid("expected a JSON object at the top level, got %s", kindOf(v))
	}
	return obj, nil
}

// jsonSyntaxError turns a decoding error into an EINVALID error naming the
// byte offset.
func jsonSyntaxError(err error, size int) error {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		return invalid("malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.Is(err, io.EOF):
		return invalid("empty body: expected a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("malformed JSON at byte %d: unexpected end of input", size)
	}
	return invalid("malformed JSON: %v", err)
}

// jsonTooDeep reports the offset of the first bracket that opens a level
// deeper than MaxDepth. It only counts brackets outside strings, so it runs
// before the decoder and bounds its recursion.
func jsonTooDeep(body []byte) (offset int, tooDeep bool) {
	depth := 0
	inString, escaped := false, false
	for i, c := range body {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > MaxDepth {
				return i + 1, true
			}
		case (c == '}' || c == ']') && depth > 0:
			depth--
		}
	}
	return 0, false
}
