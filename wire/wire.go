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
	"bytes"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/leadwire/leadwire"
)

// MaxDepth bounds the nesting of JSON and XML documents and of form keys in
// bracket notation. Real leads nest three or four levels; the bound keeps a
// hostile body from costing more than its size.
const MaxDepth = 32

// DefaultMaxLeads is how many leads one request may create unless the
// caller of DecodeLeads says otherwise. Real lead lists forward a handful
// of leads at a time; a list of thousands is a flood, not a backlog.
const DefaultMaxLeads = 100

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
// Payload (normalized and valid) and Raw (the lead as received, as a JSON
// object) set. mediaType is the request's Content-Type header as sent. An
// XML lead list gives one lead per <Lead>; every other format gives
// exactly one. A list of more than maxLeads leads (DefaultMaxLeads when
// maxLeads is 0 or less) is an ETOOLARGE error, found before any of its
// leads is built. A lead that names nobody is an EINVALID error (see
// leadwire.Payload.Validate).
func DecodeLeads(mediaType string, body []byte, maxLeads int) ([]*leadwire.Lead, error) {
	if maxLeads <= 0 {
		maxLeads = DefaultMaxLeads
	}
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
		leads, err = decodeXMLLeads(body, maxLeads)
	}
	if err != nil {
		return nil, err
	}
	for i, l := range leads {
		l.Payload.Normalize()
		err := l.Payload.Validate()
		if err == nil && escapesNUL(l.Raw) {
			err = invalid("the lead holds the NUL character (\\u0000), which no text of a lead may hold")
		}
		if err != nil {
			if f == formatXML {
				return nil, invalid("lead %d of the list: %s", i+1, leadwire.ErrorMessage(err))
			}
			return nil, err
		}
	}
	return leads, nil
}

// DecodeActivity decodes and validates a timeline body
// {action, listing?, search?, notes?}, with Raw set to the body as
// received. navigator.sendBeacon sends JSON as text/plain, so text/plain
// is read as JSON too. Keys other than these four are kept only in Raw, so
// that clients may add bookkeeping fields. A body without an action that
// names a listing (listing, or listing_id, mls_number or mlsid at the top)
// is a listing view: Rechat's WordPress plugin sends every listing page a
// known visitor opens as Tracker.capture({ listing_id }).
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
	// decodeJSONObject checked the body is one valid JSON object.
	a.Raw = bytes.TrimSpace(body)
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

// escapesNUL reports whether the JSON text b holds the escape \u0000, the
// NUL character (U+0000): the one character a text column of PostgreSQL
// cannot store. Raw, the lead as received, is JSON for every format, and
// every text of the payload comes from it.
func escapesNUL(b []byte) bool {
	for i := bytes.IndexByte(b, '\\'); i >= 0 && i+1 < len(b); {
		if b[i+1] == 'u' && i+6 <= len(b) && string(b[i+2:i+6]) == "0000" {
			return true
		}
		// Past the escape: \\ is two bytes, and \uXXXX holds no backslash.
		next := bytes.IndexByte(b[i+2:], '\\')
		if next < 0 {
			return false
		}
		i += 2 + next
	}
	return false
}
