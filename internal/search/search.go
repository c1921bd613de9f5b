// Package search holds what every store's full-text search of leads
// shares: the words of a query, the words a lead is found by, and phone
// numbers matched by their digits however they were written.
package search

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"slices"
	"strings"
	"unicode"

	"github.com/leadwire/leadwire"
)

// MaxQueryWords bounds the words of a search, so that one request cannot
// ask the index for hundreds of lookups.
const MaxQueryWords = 16

// MaxQueryBytes bounds the text of a search.
const MaxQueryBytes = 200

// QueryWords returns the words of a search: a query of digits and the
// signs phone numbers are written with is one number, matched however the
// lead's number was written (see LeadWords). Errors: EINVALID for a query
// too long, with too many words or none.
func QueryWords(q string) ([]string, error) {
	if len(q) > MaxQueryBytes {
		return nil, leadwire.Errorf(leadwire.EINVALID, "q is %d bytes long, more than %d", len(q), MaxQueryBytes)
	}
	var words []string
	if d := PhoneDigits(q); d != "" {
		words = []string{d}
	} else {
		words = strings.FieldsFunc(q, IsSeparator)
	}
	if len(words) == 0 {
		return nil, leadwire.Errorf(leadwire.EINVALID, "q %q has no letters or digits to search for", q)
	}
	if len(words) > MaxQueryWords {
		return nil, leadwire.Errorf(leadwire.EINVALID, "q has %d words, more than %d", len(words), MaxQueryWords)
	}
	return words, nil
}

// IsSeparator reports whether r separates words: anything but letters and
// numbers.
func IsSeparator(r rune) bool {
	return !unicode.IsLetter(r) && !unicode.IsNumber(r)
}

// PhoneDigits returns the digits of q when q is written like a phone
// number (digits, spaces and "+-().", with at least 4 digits), else "". A
// leading country code 1 goes, so "+1 214-555-0100" finds what
// "214-555-0100" does.
func PhoneDigits(q string) string {
	d := digits(q)
	if len(d) < 4 {
		return ""
	}
	if len(d) == 11 && d[0] == '1' {
		d = d[1:]
	}
	return d
}

// LeadWords returns the words, in lower case, a search finds a lead by:
// those of its names, email, note, message and address, and its phone
// numbers' digits together with the last ten and the last seven of them,
// so that a search for "5550100" or "214-555-0100" finds +12145550100 (a
// search matches the start of words).
func LeadWords(p *leadwire.Payload) []string {
	message, _ := p.Extra["message"].(string)
	text := append([]string{p.FirstName, p.LastName, p.Email, p.Note, message}, addressValues(p.Address)...)
	words := make([]string, 0, 32)
	for _, t := range text {
		words = slices.AppendSeq(words, strings.FieldsFuncSeq(strings.ToLower(t), IsSeparator))
	}
	for _, phone := range []string{p.PhoneNumber, p.PhoneNumberOriginal} {
		if d := digits(phone); d != "" {
			words = append(words, d)
			for _, n := range []int{10, 7} {
				if len(d) > n {
					words = append(words, d[len(d)-n:])
				}
			}
		}
	}
	// Each word once, in no particular order: a search matches a set.
	// Longer words are no one's name or number, and PostgreSQL refuses
	// them in an index (2 KB).
	words = slices.DeleteFunc(words, func(w string) bool { return len(w) > MaxWordLen })
	slices.Sort(words)
	return slices.Compact(words)
}

// MaxWordLen is the longest word LeadWords returns, in bytes.
const MaxWordLen = 200

// addressValues returns the scalar values of an address: its one line of
// text, or each part of the object.
func addressValues(a *leadwire.Address) []string {
	if a == nil {
		return nil
	}
	b, err := json.Marshal(a)
	if err != nil {
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil
	}
	switch v := v.(type) {
	case string:
		return []string{v}
	case map[string]any:
		var values []string
		for _, x := range v {
			switch x := x.(type) {
			case string:
				values = append(values, x)
			case float64, bool:
				b, _ := json.Marshal(x)
				values = append(values, string(b))
			}
		}
		return values
	}
	return nil
}

// digits returns the digits of a phone number written with the usual
// signs, "" when it holds anything else.
func digits(phone string) string {
	var b strings.Builder
	for _, r := range phone {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case strings.ContainsRune(" +-().", r):
		default:
			return ""
		}
	}
	return b.String()
}

// FormatCursor returns the cursor of the page after the lead at position
// n of a store's order: n in 8 bytes, base64url. Opaque to clients, so
// that what it holds can change.
func FormatCursor(n int64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ParseCursor returns the position of a cursor FormatCursor made. Only the
// exact text it makes is accepted, so that a cursor has one spelling.
// Errors: EINVALID.
func ParseCursor(cursor string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) != 8 {
		return 0, leadwire.Errorf(leadwire.EINVALID, "cursor %q is not a cursor of this API: pass the next value of a page as it is", cursor)
	}
	n := int64(binary.BigEndian.Uint64(b))
	if n <= 0 || FormatCursor(n) != cursor {
		return 0, leadwire.Errorf(leadwire.EINVALID, "cursor %q is not a cursor of this API: pass the next value of a page as it is", cursor)
	}
	return n, nil
}
