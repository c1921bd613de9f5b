package wire

import (
	"encoding/json"
	"unicode/utf8"
)

// parseJSONObject reads body as exactly one JSON object nested at most
// MaxDepth deep and builds the tree encoding/json builds with UseNumber:
// map[string]any, []any, string, json.Number, bool and nil.
//
// It is the quick path of decodeJSONObject, which runs on every capture:
// it needs no reflection and no decoder state, and allocates little more
// than the tree itself. It reports ok=false for any body it does not read
// exactly as encoding/json would, malformed or not; decodeJSONObject then
// decodes that body with encoding/json, which names the error.
func parseJSONObject(body []byte) (obj map[string]any, ok bool) {
	p := jsonParser{buf: body}
	p.skipSpace()
	if p.peek() != '{' {
		return nil, false
	}
	obj, ok = p.object(1)
	if !ok {
		return nil, false
	}
	p.skipSpace()
	if p.pos != len(p.buf) {
		return nil, false
	}
	return obj, true
}

// jsonKeys holds the field names the decoders read (the documented
// top-level keys and the keys of assignees, listings, searches and
// activities), so that decoding a lead does not copy each of its keys.
var jsonKeys = func() map[string]string {
	keys := map[string]string{}
	for k := range documented {
		keys[k] = k
	}
	for k := range addressKeys {
		keys[k] = k
	}
	for _, k := range []string{
		// assignees
		"email", "phone_number", "first_name", "last_name", "mls_id", "mlsid", "mls",
		// listing
		"id", "url", "mls_number", "cover_image_url", "price", "property",
		// search
		"title", "search", "minimum_price", "maximum_price", "minimum_bedrooms",
		"maximum_bedrooms", "minimum_bathrooms", "maximum_bathrooms",
		"property_types", "postal_codes", "pool",
		// activity
		"action", "notes", "listing",
	} {
		keys[k] = k
	}
	return keys
}()

// jsonParser reads one JSON document from buf; pos is the offset of the
// next byte to read.
type jsonParser struct {
	buf []byte
	pos int
}

// peek returns the next byte, or 0 at the end of the body. 0 is never
// valid JSON outside a string, so it fails every check it reaches.
func (p *jsonParser) peek() byte {
	if p.pos < len(p.buf) {
		return p.buf[p.pos]
	}
	return 0
}

// skipSpace skips the four whitespace bytes JSON allows between tokens.
func (p *jsonParser) skipSpace() {
	for p.pos < len(p.buf) {
		switch p.buf[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value reads the value at pos, which sits inside a container at the
// given nesting level.
func (p *jsonParser) value(level int) (any, bool) {
	switch c := p.peek(); {
	case c == '{':
		if level == MaxDepth {
			return nil, false
		}
		return p.object(level + 1)
	case c == '[':
		if level == MaxDepth {
			return nil, false
		}
		return p.array(level + 1)
	case c == '"':
		return p.stringValue()
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	}
	return nil, false
}

// object reads the object at pos, which opens the given nesting level.
// A key sent twice keeps its last value, as with encoding/json.
func (p *jsonParser) object(level int) (map[string]any, bool) {
	p.pos++ // {
	size := 0
	if level == 1 {
		size = 16 // a lead's own fields: made at once, not grown
	}
	obj := make(map[string]any, size)
	p.skipSpace()
	if p.peek() == '}' {
		p.pos++
		return obj, true
	}
	for {
		if p.peek() != '"' {
			return nil, false
		}
		key, ok := p.key()
		if !ok {
			return nil, false
		}
		p.skipSpace()
		if p.peek() != ':' {
			return nil, false
		}
		p.pos++
		p.skipSpace()
		v, ok := p.value(level)
		if !ok {
			return nil, false
		}
		obj[key] = v
		p.skipSpace()
		switch p.peek() {
		case ',':
			p.pos++
			p.skipSpace()
		case '}':
			p.pos++
			return obj, true
		default:
			return nil, false
		}
	}
}

// array reads the array at pos, which opens the given nesting level. An
// empty array is an empty slice, not nil, as with encoding/json.
func (p *jsonParser) array(level int) ([]any, bool) {
	p.pos++ // [
	arr := []any{}
	p.skipSpace()
	if p.peek() == ']' {
		p.pos++
		return arr, true
	}
	for {
		v, ok := p.value(level)
		if !ok {
			return nil, false
		}
		arr = append(arr, v)
		p.skipSpace()
		switch p.peek() {
		case ',':
			p.pos++
			p.skipSpace()
		case ']':
			p.pos++
			return arr, true
		default:
			return nil, false
		}
	}
}

// key reads the string at pos as an object key. A key the decoders read
// is shared rather than copied.
func (p *jsonParser) key() (string, bool) {
	start := p.pos
	text, plain, ok := p.scanString()
	if !ok {
		return "", false
	}
	if !plain {
		return unquoteJSON(p.buf[start:p.pos])
	}
	if k, ok := jsonKeys[string(text)]; ok {
		return k, true
	}
	return string(text), true
}

// stringValue reads the string at pos.
func (p *jsonParser) stringValue() (any, bool) {
	start := p.pos
	text, plain, ok := p.scanString()
	if !ok {
		return nil, false
	}
	if !plain {
		return unquoteJSON(p.buf[start:p.pos])
	}
	return string(text), true
}

// scanString moves past the string at pos and returns the bytes between
// its quotes. plain says they are the string's text as is: no escapes, and
// valid UTF-8, which encoding/json would otherwise replace.
func (p *jsonParser) scanString() (text []byte, plain, ok bool) {
	start := p.pos + 1 // after the opening quote
	plain = true
	ascii := true
	for i := start; i < len(p.buf); i++ {
		switch c := p.buf[i]; {
		case c == '"':
			p.pos = i + 1
			text = p.buf[start:i]
			if !ascii && !utf8.Valid(text) {
				plain = false
			}
			return text, plain, true
		case c == '\\':
			// The escaped byte cannot end the string; unquoteJSON
			// checks the escape itself.
			plain = false
			i++
		case c < 0x20:
			return nil, false, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false, false
}

// unquoteJSON decodes a quoted string holding escapes or bytes that are not
// UTF-8. Such strings are rare, so encoding/json decodes them: escapes, \u
// surrogate pairs and replaced bytes then read exactly as it reads them.
func unquoteJSON(quoted []byte) (string, bool) {
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return "", false
	}
	return s, true
}

// number reads the number at pos, checking the JSON grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, and keeps its literal
// text.
func (p *jsonParser) number() (any, bool) {
	start := p.pos
	if p.peek() == '-' {
		p.pos++
	}
	switch c := p.peek(); {
	case c == '0':
		p.pos++
	case '1' <= c && c <= '9':
		p.digits()
	default:
		return nil, false
	}
	if p.peek() == '.' {
		p.pos++
		if p.digits() == 0 {
			return nil, false
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.pos++
		if c := p.peek(); c == '+' || c == '-' {
			p.pos++
		}
		if p.digits() == 0 {
			return nil, false
		}
	}
	return json.Number(p.buf[start:p.pos]), true
}

// digits moves past a run of decimal digits and returns its length.
func (p *jsonParser) digits() int {
	start := p.pos
	for p.pos < len(p.buf) && '0' <= p.buf[p.pos] && p.buf[p.pos] <= '9' {
		p.pos++
	}
	return p.pos - start
}

// literal moves past word (true, false or null) and reports whether it is
// at pos.
func (p *jsonParser) literal(word string) bool {
	if len(p.buf)-p.pos < len(word) || string(p.buf[p.pos:p.pos+len(word)]) != word {
		return false
	}
	p.pos += len(word)
	return true
}
