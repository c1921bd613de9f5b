package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// DecodeBrandLead decodes the body of Rechat's brand API, POST /leads:
// {"metadata":{"lead_channel":ID},"lead":{...lead fields...}}. It returns
// the channel id and the lead object's bytes as sent, which the caller
// decodes as a JSON webhook body, so that the lead is read, kept raw and
// remembered for its Idempotency-Key exactly as if it had been posted to
// the channel's webhook. Other keys, of the body and of metadata, are
// ignored: Rechat's clients may send bookkeeping of their own.
func DecodeBrandLead(mediaType string, body []byte) (channelID string, lead []byte, err error) {
	if _, _, err := parseMediaType(mediaType, activityTypes, false); err != nil {
		return "", nil, err
	}
	if err := checkUTF8(body); err != nil {
		return "", nil, err
	}
	if off, ok := jsonTooDeep(body); ok {
		return "", nil, invalid("malformed JSON at byte %d: nested deeper than %d levels", off, MaxDepth)
	}
	var top map[string]json.RawMessage
	if err := unmarshalOne(body, &top); err != nil {
		return "", nil, err
	}
	if top == nil {
		return "", nil, invalid("expected a JSON object {\"metadata\":{\"lead_channel\":...},\"lead\":{...}} at the top level")
	}
	raw, ok := top["metadata"]
	if !ok || isNull(raw) {
		return "", nil, invalid("field \"metadata.lead_channel\" is required: the id of the lead channel to capture on")
	}
	meta, ok := mustDecode(raw).(map[string]any)
	if !ok {
		return "", nil, invalid("field \"metadata\": expected an object, got %s", kindOfRaw(raw))
	}
	switch ch := meta["lead_channel"].(type) {
	case nil:
		return "", nil, invalid("field \"metadata.lead_channel\" is required: the id of the lead channel to capture on")
	case string:
		channelID = ch
	default:
		return "", nil, typeError("metadata.lead_channel", "a string", ch)
	}
	lead = bytes.TrimSpace(top["lead"])
	if len(lead) == 0 || isNull(lead) {
		return "", nil, invalid("field \"lead\" is required: the lead's fields, as a webhook takes them")
	}
	if lead[0] != '{' {
		return "", nil, invalid("field \"lead\": expected an object, got %s", kindOfRaw(lead))
	}
	return channelID, lead, nil
}

// unmarshalOne decodes exactly one JSON value from body into v, naming the
// byte at fault.
func unmarshalOne(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return invalid("expected a JSON object at the top level, got %s", typ.Value)
		}
		return jsonSyntaxError(err, len(body))
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("malformed JSON at byte %d: unexpected data after the top-level value", dec.InputOffset())
	}
	return nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// mustDecode decodes a value of a body already checked as JSON, with
// numbers as json.Number.
func mustDecode(raw json.RawMessage) any {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	d.Decode(&v)
	return v
}

// kindOfRaw names the JSON type of a value of a body already checked as
// JSON.
func kindOfRaw(raw json.RawMessage) string { return kindOf(mustDecode(raw)) }
