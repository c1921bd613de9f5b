package wire

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/leadwire/leadwire"
)

// DecodeAssignees decodes the body of PUT /leads/{lead_id}/assignees: a
// JSON array of assignee objects, each read as the assignees of a captured
// lead are (mls_id is read as mlsid, ids may be numbers), and normalized
// as theirs are. Errors name the element and field, as in
// `field "assignees[1].email"`.
func DecodeAssignees(mediaType string, body []byte) ([]leadwire.Assignee, error) {
	if _, _, err := parseMediaType(mediaType, activityTypes, false); err != nil {
		return nil, err
	}
	if err := checkUTF8(body); err != nil {
		return nil, err
	}
	v, err := decodeJSONValue(body)
	if err != nil {
		return nil, err
	}
	// null would read as no assignees; a client clearing the list sends [].
	if _, ok := v.([]any); !ok {
		return nil, invalid("expected a JSON array of assignees at the top level, got %s", kindOf(v))
	}
	var r fieldReader
	assignees := r.assignees("assignees", v)
	if r.err != nil {
		return nil, r.err
	}
	return leadwire.NormalizeAssignees(assignees), nil
}

// decodeJSONValue decodes body, which must hold exactly one JSON value
// nested at most MaxDepth deep, with encoding/json: numbers stay
// json.Number, and errors name the byte as decodeJSONObjectStd's do.
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
