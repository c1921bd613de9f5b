// Package wire turns request bodies into leadwire domain values and domain
// values into the API's JSON documents. It decodes JSON, URL-encoded and
// multipart forms and real-estate lead XML; it does no I/O, so every decoder
// is a pure function of the content type and the body and can be fuzzed.
//
// Every error it returns is a *leadwire.Error: EUNSUPPORTED when the content
// type cannot be decoded, EINVALID when the body is malformed, and the
// message says what and where. "at byte N" counts from 1: the Nth byte of
// the body is the first one found wrong.
package wire

import (
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/leadwire/leadwire"
)

// MaxDepth bounds the nesting of JSON and XML documents and of form keys in
// bracket notation. Real leads nest three or four levels; the bound keeps a
// hostile body from costing more than its size.
const MaxDepth = 32

// MaxLeads bounds the number of leads in one XML lead list.
const MaxLeads = 1000

// maxFormFields bounds the number of fields of one form body, so that a
// body of many tiny fields cannot build a huge tree.
const maxFormFields = 1000

// format is a body encoding the decoders understand.
type format int

const (
	formatJSON format = iota
	formatForm
	formatMultipart
	formatXML
)

const leadTypes = "application/json (or any +json, or text/plain holding JSON), " +
	"application/x-www-form-urlencoded, multipart/form-data, application/xml, text/xml"

const activityTypes = "application/json (or any +json, or text/plain holding JSON)"

// DecodeLeads decodes a webhook body into one or more leads, each with
// Payload (normalized) and Raw (the lead as received, as a JSON object)
// set. mediaType is the request's Content-Type header as sent. An XML lead
// list gives one lead per <Lead>; every other format gives exactly one.
func DecodeLeads(mediaType string, body []byte) ([]*leadwire.Lead, error) {
	f, params, err := parseMediaType(mediaType, leadTypes, true)
	if err != nil {
		return nil, err
	}
	// A multipart body may carry binary files; its text parts are
	// checked one by one instead. An XML document may declare another
	// encoding, and the XML decoder checks what it reads.
	if f != formatMultipart && f != formatXML {
		if err := checkUTF8(body); err != nil {
			return nil, err
		}
	}
	var leads []*leadwire.Lead
	switch f {
	case formatJSON:
		leads, err = decodeJSONLead(body)
	case formatForm:
		leads, err = decodeFormLead(body)
	case formatMultipart:
		leads, err = decodeMultipartLead(params["boundary"], body)
	case formatXML:
		leads, err = decodeXMLLeads(body)
	}
	if err != nil {
		return nil, err
	}
	for _, l := range leads {
		l.Payload.Normalize()
	}
	return leads, nil
}

// DecodeActivity decodes and validates a timeline body
// {action, listing?, search?, notes?}. navigator.sendBeacon sends JSON as
// text/plain, so text/plain is read as JSON too. Keys other than these four
// are ignored, so that clients may add bookkeeping fields.
func DecodeActivity(mediaType string, body []byte) (*leadwire.Activity, error) {
	if _, _, err := parseMediaType(mediaType, activityTypes, false); err != nil {
		return nil, err
	}
	if err := checkUTF8(body); err != nil {
		return nil, err
	}
	obj, err := decodeJSONObject(body)
	if err != nil {
		return nil, err
	}
	a, err := activityFromObject(obj)
	if err != nil {
		return nil, err
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a, nil
}

// parseMediaType maps a Content-Type header to the format of the body.
// supported lists the accepted types for the error message; withForms says
// whether forms and XML are accepted besides JSON.
func parseMediaType(header, supported string, withForms bool) (format, map[string]string, error) {
	if strings.TrimSpace(header) == "" {
		return 0, nil, leadwire.Errorf(leadwire.EUNSUPPORTED, "missing content type; supported: %s", supported)
	}
	mt, params, err := mime.ParseMediaType(header)
	if err != nil {
		return 0, nil, leadwire.Errorf(leadwire.EUNSUPPORTED, "cannot parse content type %q (%v); supported: %s", header, err, supported)
	}
	if cs, ok := params["charset"]; ok {
		switch strings.ToLower(cs) {
		case "utf-8", "utf8", "us-ascii":
		default:
			return 0, nil, leadwire.Errorf(leadwire.EUNSUPPORTED, "charset %q of content type %q is not supported; send UTF-8", cs, mt)
		}
	}
	switch {
	case mt == "application/json" || mt == "text/plain" || strings.HasSuffix(mt, "+json"):
		return formatJSON, params, nil
	case withForms && mt == "application/x-www-form-urlencoded":
		return formatForm, params, nil
	case withForms && mt == "multipart/form-data":
		return formatMultipart, params, nil
	case withForms && (mt == "application/xml" || mt == "text/xml"):
		return formatXML, params, nil
	}
	return 0, nil, leadwire.Errorf(leadwire.EUNSUPPORTED, "content type %q is not supported; supported: %s", mt, supported)
}

// checkUTF8 rejects a body that is not valid UTF-8, naming the first bad
// byte, because the decoders would otherwise replace it silently.
func checkUTF8(body []byte) error {
	if utf8.Valid(body) {
		return nil
	}
	for i := 0; i < len(body); {
		r, size := utf8.DecodeRune(body[i:])
		if r == utf8.RuneError && size == 1 {
			return leadwire.Errorf(leadwire.EINVALID, "body is not valid UTF-8: bad byte 0x%02x at byte %d", body[i], i+1)
		}
		i += size
	}
	return nil
}

// invalid returns an EINVALID error.
func invalid(format string, args ...any) error {
	return leadwire.Errorf(leadwire.EINVALID, format, args...)
}
