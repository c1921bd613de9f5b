package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/leadwire/leadwire"
)

// LeadDoc is the API's JSON shape of a lead: the "data" of a capture
// answer and the elements of `leadwire leads list --json`.
type LeadDoc struct {
	ID            string          `json:"id"`
	Contact       string          `json:"contact"`
	LeadChannel   string          `json:"lead_channel"`
	SourceType    string          `json:"source_type"`
	CreatedAt     UnixTime        `json:"created_at"`
	RawPayload    json.RawMessage `json:"raw_payload"`
	ParsedPayload json.RawMessage `json:"parsed_payload"` // a leadwire.Payload
	Timeline      []ActivityDoc   `json:"timeline,omitempty"`
}

// NewLeadDoc returns the API document of l, with its timeline when l has
// one.
func NewLeadDoc(l *leadwire.Lead) (LeadDoc, error) {
	parsed, err := l.PayloadJSON()
	if err != nil {
		return LeadDoc{}, err
	}
	d := LeadDoc{
		ID:            l.ID,
		Contact:       l.ContactID,
		LeadChannel:   l.ChannelID,
		SourceType:    l.Payload.SourceType,
		CreatedAt:     UnixTime(l.CreatedAt),
		RawPayload:    l.Raw,
		ParsedPayload: parsed,
	}
	for _, a := range l.Timeline {
		d.Timeline = append(d.Timeline, NewActivityDoc(a))
	}
	return d, nil
}

// AppendJSON appends d as JSON to b, on one line, the same document
// json.Marshal writes (up to spaces). It copies the two payloads as they
// are: both are valid JSON already, and encoding/json would check them
// again for every capture it answers.
func (d LeadDoc) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, d.ID)
	b = append(b, `,"contact":`...)
	b = appendJSONString(b, d.Contact)
	b = append(b, `,"lead_channel":`...)
	b = appendJSONString(b, d.LeadChannel)
	b = append(b, `,"source_type":`...)
	b = appendJSONString(b, d.SourceType)
	b = append(b, `,"created_at":`...)
	b = d.CreatedAt.appendJSON(b)
	b = append(b, `,"raw_payload":`...)
	b = appendRaw(b, d.RawPayload)
	b = append(b, `,"parsed_payload":`...)
	b = appendRaw(b, d.ParsedPayload)
	if len(d.Timeline) > 0 {
		timeline, err := json.Marshal(d.Timeline)
		if err != nil {
			return nil, err
		}
		b = append(append(b, `,"timeline":`...), timeline...)
	}
	return append(b, '}'), nil
}

// appendJSONString appends s as a JSON string. Ids and source types are
// plain ASCII; anything else goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			quoted, _ := json.Marshal(s) // a string always marshals
			return append(b, quoted...)
		}
	}
	return append(append(append(b, '"'), s...), '"')
}

// appendRaw appends a JSON value, or null for none, as json.RawMessage does.
// A value sent over several lines is compacted, so that the document stays
// on one line; a JSON string holds no raw line break, so there is nothing to
// do for any other value.
func appendRaw(b []byte, v json.RawMessage) []byte {
	if len(v) == 0 {
		return append(b, "null"...)
	}
	if bytes.ContainsAny(v, "\r\n") {
		buf := bytes.NewBuffer(b)
		if json.Compact(buf, v) == nil {
			return buf.Bytes()
		}
	}
	return append(b, v...)
}

// ActivityDoc is the API's JSON shape of a timeline activity.
type ActivityDoc struct {
	ID        string            `json:"id"`
	LeadID    string            `json:"lead"`
	Action    string            `json:"action"`
	Listing   *leadwire.Listing `json:"listing,omitempty"`
	Search    *leadwire.Search  `json:"search,omitempty"`
	Notes     string            `json:"notes,omitempty"`
	Actor     string            `json:"actor,omitempty"` // the email of the user who made an API change
	CreatedAt UnixTime          `json:"created_at"`
	// RawPayload is the activity as received (absent for activities
	// stored before it was kept).
	RawPayload json.RawMessage `json:"raw_payload,omitempty"`
}

// NewActivityDoc returns the API document of a.
func NewActivityDoc(a *leadwire.Activity) ActivityDoc {
	return ActivityDoc{
		ID:         a.ID,
		LeadID:     a.LeadID,
		Action:     a.Action,
		Listing:    a.Listing,
		Search:     a.Search,
		Notes:      a.Notes,
		Actor:      a.Actor,
		CreatedAt:  UnixTime(a.CreatedAt),
		RawPayload: a.Raw,
	}
}

// UnixTime is a time that marshals as Unix seconds with a millisecond
// fraction, e.g. 1752247298.819, as the API has always sent created_at.
type UnixTime time.Time

// MarshalJSON writes the time as seconds with exactly three decimals.
func (t UnixTime) MarshalJSON() ([]byte, error) {
	return t.appendJSON(nil), nil
}

// appendJSON appends what MarshalJSON writes to b.
func (t UnixTime) appendJSON(b []byte) []byte {
	ms := time.Time(t).UnixMilli()
	sign := ""
	if ms < 0 {
		sign, ms = "-", -ms
	}
	return fmt.Appendf(b, "%s%d.%03d", sign, ms/1000, ms%1000)
}
