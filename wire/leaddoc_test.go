package wire

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
)

func TestNewLeadDoc(t *testing.T) {
	created := time.Date(2025, 7, 11, 15, 21, 38, 819_000_000, time.UTC)
	l := &leadwire.Lead{
		ID:        "0197f6a2-0000-7000-8000-000000000001",
		ChannelID: "2c55e69d-adbe-42d9-97a5-bedb43783b80",
		ContactID: "0197f6a2-0000-7000-8000-000000000002",
		CreatedAt: created,
		Payload:   leadwire.Payload{FirstName: "John", SourceType: "Website", Extra: map[string]any{"budget": json.Number("5")}},
		Raw:       json.RawMessage(`{"first_name":"John","budget":5}`),
		Timeline: []*leadwire.Activity{{
			ID: "a1", LeadID: "0197f6a2-0000-7000-8000-000000000001", Action: leadwire.ActionViewedListing,
			Listing: &leadwire.Listing{MLSNumber: "123"}, Notes: "n", CreatedAt: created.Add(1500 * time.Millisecond),
		}},
	}
	doc, err := NewLeadDoc(l)
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, "lead doc", doc, `{
		"id": "0197f6a2-0000-7000-8000-000000000001",
		"contact": "0197f6a2-0000-7000-8000-000000000002",
		"lead_channel": "2c55e69d-adbe-42d9-97a5-bedb43783b80",
		"source_type": "Website",
		"created_at": 1752247298.819,
		"raw_payload": {"first_name": "John", "budget": 5},
		"parsed_payload": {"first_name": "John", "source_type": "Website", "extra": {"budget": 5}},
		"timeline": [{"id": "a1", "lead": "0197f6a2-0000-7000-8000-000000000001",
			"action": "ContactViewedListing", "listing": {"mls_number": "123"}, "notes": "n",
			"created_at": 1752247300.319}]}`)

	l.Timeline = nil
	if doc, err = NewLeadDoc(l); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	if _, ok := fields["timeline"]; ok {
		t.Errorf("a lead without timeline has a timeline key: %s", b)
	}
}

func TestUnixTimeMarshal(t *testing.T) {
	tests := []struct {
		time time.Time
		want string
	}{
		{time.Unix(1752247298, 819_000_000), "1752247298.819"},
		{time.Unix(1752247298, 819_999_999), "1752247298.819"},
		{time.Unix(1752247298, 0), "1752247298.000"},
		{time.Unix(0, 5_000_000), "0.005"},
		{time.Unix(-2, 500_000_000), "-1.500"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			b, err := json.Marshal(UnixTime(tt.time))
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got %s, want %s", b, tt.want)
			}
		})
	}
}

func TestLeadDocAppendJSON(t *testing.T) {
	created := time.Unix(1752247298, 819_000_000)
	base := LeadDoc{
		ID: "0197f6a2-0000-7000-8000-000000000001", Contact: "0197f6a2-0000-7000-8000-000000000002",
		LeadChannel: "2c55e69d-adbe-42d9-97a5-bedb43783b80", SourceType: "Website", CreatedAt: UnixTime(created),
		RawPayload:    json.RawMessage("{\n  \"first_name\": \"John\",\n  \"budget\": 5\n}"),
		ParsedPayload: json.RawMessage(`{"first_name":"John","source_type":"Website","extra":{"budget":5}}`),
	}
	tests := []struct {
		name   string
		change func(d *LeadDoc)
	}{
		{"as captured", func(*LeadDoc) {}},
		{"source type needing escapes", func(d *LeadDoc) { d.SourceType = "Open \"House\" <b>\\ é\t\u2028" }},
		{"no raw payload", func(d *LeadDoc) { d.RawPayload = nil }},
		{"with timeline", func(d *LeadDoc) {
			d.Timeline = []ActivityDoc{{ID: "a1", LeadID: d.ID, Action: leadwire.ActionViewedListing,
				Listing: &leadwire.Listing{MLSNumber: "42"}, CreatedAt: UnixTime(created)}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := base
			tt.change(&d)
			got, err := d.AppendJSON([]byte("prefix:"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(got, []byte("prefix:")) {
				t.Fatalf("AppendJSON dropped what it appends to: %s", got)
			}
			if bytes.ContainsAny(got, "\r\n") {
				t.Errorf("AppendJSON wrote several lines: %s", got)
			}
			want, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			assertSameJSON(t, "AppendJSON against json.Marshal", got[len("prefix:"):], string(want))
		})
	}
}
