package leadwire

import (
	"encoding/json"
	"strings"
)

// Address is the visitor's address as the website sent it: one line of
// text, or an object of the parts Rechat's API documents (atomic parts
// such as street_number and city, or line1, line2 and full). It encodes
// back to the form it came in: a string stays a string, an object stays an
// object with its other keys kept (Extra).
type Address struct {
	// Text is the address sent as one string; when set, the other
	// fields are empty.
	Text string

	StreetNumber    string
	StreetName      string
	StreetSuffix    string // "St", "Ave"
	StreetDirPrefix string // "N" of "N Main St"
	StreetDirSuffix string // "SW" of "Main St SW"
	UnitNumber      string
	City            string
	StateCode       string
	PostalCode      string
	Country         string
	StreetAddress   string // the street part in one string: "123 N Main St"
	FullAddress     string // the whole address in one string
	Line1           string
	Line2           string
	Full            string // the whole address in one string, beside line1 and line2

	// Extra holds the keys of an address object that are none of the
	// above (a county, coordinates), keyed as sent.
	Extra Fields
}

// AddressPart is one documented key of an address object and the field
// that holds it.
type AddressPart struct {
	Key   string
	Value *string
}

// Parts lists the documented keys of an address object with their fields,
// in one table that decoding, encoding and normalizing share.
func (a *Address) Parts() []AddressPart {
	return []AddressPart{
		{"street_number", &a.StreetNumber},
		{"street_name", &a.StreetName},
		{"street_suffix", &a.StreetSuffix},
		{"street_dir_prefix", &a.StreetDirPrefix},
		{"street_dir_suffix", &a.StreetDirSuffix},
		{"unit_number", &a.UnitNumber},
		{"city", &a.City},
		{"state_code", &a.StateCode},
		{"postal_code", &a.PostalCode},
		{"country", &a.Country},
		{"street_address", &a.StreetAddress},
		{"full_address", &a.FullAddress},
		{"line1", &a.Line1},
		{"line2", &a.Line2},
		{"full", &a.Full},
	}
}

// Line returns the address on one line, for a list of leads: the text or
// the whole address as sent when there is one, else "street, city, state
// postal code, country" built from the parts. It is "" for a nil address.
func (a *Address) Line() string {
	switch {
	case a == nil:
		return ""
	case a.Text != "":
		return a.Text
	case a.FullAddress != "":
		return a.FullAddress
	case a.Full != "":
		return a.Full
	}
	street := joinNonEmpty(", ", a.Line1, a.Line2)
	if street == "" {
		street = a.StreetAddress
	}
	if street == "" {
		street = joinNonEmpty(" ", a.StreetNumber, a.StreetDirPrefix, a.StreetName, a.StreetSuffix,
			a.StreetDirSuffix, unitLabel(a.UnitNumber))
	}
	return joinNonEmpty(", ", street, a.City, joinNonEmpty(" ", a.StateCode, a.PostalCode), a.Country)
}

// unitLabel writes a unit number as it follows a street: "4B" as "#4B",
// and a unit that names its kind ("Apt 4") as sent.
func unitLabel(unit string) string {
	if unit != "" && unit[0] >= '0' && unit[0] <= '9' {
		return "#" + unit
	}
	return unit
}

// joinNonEmpty joins the parts that are not empty with sep.
func joinNonEmpty(sep string, parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p)
	}
	return b.String()
}

// normalized returns a with every part trimmed, or nil when nothing is
// left of it.
func (a *Address) normalized() *Address {
	if a == nil {
		return nil
	}
	a.Text = strings.TrimSpace(a.Text)
	empty := a.Text == "" && len(a.Extra) == 0
	for _, p := range a.Parts() {
		*p.Value = strings.TrimSpace(*p.Value)
		empty = empty && *p.Value == ""
	}
	if empty {
		return nil
	}
	if len(a.Extra) == 0 {
		a.Extra = nil
	}
	return a
}

// MarshalJSON writes the address as a string when it was sent as one, and
// otherwise as an object of its non-empty parts and its other keys.
func (a Address) MarshalJSON() ([]byte, error) {
	if a.Text != "" {
		return json.Marshal(a.Text)
	}
	obj := make(map[string]any, len(a.Extra)+4)
	for k, v := range a.Extra {
		obj[k] = v
	}
	for _, p := range a.Parts() {
		if *p.Value != "" {
			obj[p.Key] = *p.Value
		}
	}
	return json.Marshal(obj)
}

// UnmarshalJSON reads what MarshalJSON writes: a string, or an object
// whose documented keys hold strings. Numbers among the other keys stay
// json.Number, as sent.
func (a *Address) UnmarshalJSON(b []byte) error {
	*a = Address{}
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &a.Text)
	}
	var obj map[string]any
	if err := unmarshalNumbers(b, &obj); err != nil {
		return err
	}
	for _, p := range a.Parts() {
		if s, ok := obj[p.Key].(string); ok {
			*p.Value = s
			delete(obj, p.Key)
		}
	}
	if len(obj) > 0 {
		a.Extra = obj
	}
	return nil
}
