package wire

import (
	"strings"
	"testing"

	"github.com/leadwire/leadwire"
)

func TestDecodeLeadsJSON(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		wantPayload string // parsed payload as JSON
		wantRaw     string // raw payload, compared as JSON
	}{
		{
			name:        "every documented field",
			contentType: "application/json; charset=utf-8",
			body: `{
				"first_name": " John ", "last_name": "Doe", "email": "john-doe@gmail.com",
				"phone_number": "(818) 919-1212", "tag": "buyer", "lead_source": "Zillow",
				"note": "call me", "address": "1 Main St", "referer_url": "https://example.com/p",
				"mlsid": "M1", "listing_id": "L1", "agent_mlsid": "A1", "source_type": "Open House",
				"user_id": "u", "brand_id": "b", "ad_campaign_id": "ad", "email_campaign_id": "ec",
				"email_campaign_email_id": "ece",
				"assignees": [{"email": "agent@example.com", "phone_number": "+12145550100",
					"first_name": "Ann", "last_name": "Agent", "mlsid": "X9", "mls": "NTREIS"}],
				"listing": {"id": "l-1", "url": "https://example.com/l/1", "mls": "NTREIS",
					"mls_number": "123", "price": 450000.5, "cover_image_url": "https://example.com/c.jpg",
					"property": {"address": {"city": "Dallas", "state_code": "TX"}, "beds": 3}}
			}`,
			wantPayload: `{
				"first_name": "John", "last_name": "Doe", "email": "john-doe@gmail.com",
				"phone_number": "+18189191212", "phone_number_original": "(818) 919-1212",
				"tag": ["buyer"], "lead_source": "Zillow", "note": "call me", "address": "1 Main St",
				"referer_url": "https://example.com/p", "mlsid": "M1", "listing_id": "L1",
				"agent_mlsid": "A1", "source_type": "Open House", "user_id": "u", "brand_id": "b",
				"ad_campaign_id": "ad", "email_campaign_id": "ec", "email_campaign_email_id": "ece",
				"assignees": [{"email": "agent@example.com", "phone_number": "+12145550100",
					"first_name": "Ann", "last_name": "Agent", "mlsid": "X9", "mls": "NTREIS"}],
				"listing": {"id": "l-1", "url": "https://example.com/l/1", "mls": "NTREIS",
					"mls_number": "123", "price": 450000.5, "cover_image_url": "https://example.com/c.jpg",
					"property": {"address": {"city": "Dallas", "state_code": "TX"}, "beds": 3}}
			}`,
		},
		{
			name:        "numbers in id-like fields keep their literal text",
			contentType: "application/json",
			body: `{"phone_number": 8189191212, "mlsid": 1234, "listing_id": 99887766554433221100,
				"agent_mlsid": 7, "user_id": 1, "brand_id": 2, "ad_campaign_id": 3,
				"email_campaign_id": 4, "email_campaign_email_id": 5,
				"assignees": [{"phone_number": 2145550100, "mlsid": 12, "mls": 3}],
				"listing": {"id": 5, "mls_number": 1.0e3, "mls": 8}}`,
			wantPayload: `{"phone_number": "+18189191212", "phone_number_original": "8189191212",
				"mlsid": "1234", "listing_id": "99887766554433221100", "agent_mlsid": "7",
				"user_id": "1", "brand_id": "2", "ad_campaign_id": "3", "email_campaign_id": "4",
				"email_campaign_email_id": "5", "source_type": "Website",
				"assignees": [{"phone_number": "+12145550100", "mlsid": "12", "mls": "3"}],
				"listing": {"id": "5", "mls_number": "1.0e3", "mls": "8"}}`,
		},
		{
			name:        "tag and tags merge, empty tags dropped",
			contentType: "application/json",
			body:        `{"note": "n", "tag": ["a", " ", "b"], "tags": "c"}`,
			wantPayload: `{"note": "n", "tag": ["a", "b", "c"], "source_type": "Website"}`,
		},
		{
			name:        "tags alone",
			contentType: "application/json",
			body:        `{"note": "n", "tags": ["x", "y"]}`,
			wantPayload: `{"note": "n", "tag": ["x", "y"], "source_type": "Website"}`,
		},
		{
			name:        "assignee mls_id alias, mlsid wins, empty assignee dropped",
			contentType: "application/json",
			body: `{"note": "n", "assignees": [{"mls_id": "A"}, {"mls_id": "B", "mlsid": "C"}, {},
				{"email": "x@example.com", "unknown": true}]}`,
			wantPayload: `{"note": "n", "assignees": [{"mlsid": "A"}, {"mlsid": "C"}, {"email": "x@example.com"}],
				"source_type": "Website"}`,
		},
		{
			name:        "listing price as a numeric string",
			contentType: "application/json",
			body:        `{"note": "n", "listing": {"price": " 1250000 ", "mls_number": "9"}}`,
			wantPayload: `{"note": "n", "listing": {"price": 1250000, "mls_number": "9"}, "source_type": "Website"}`,
		},
		{
			name:        "unknown keys go to extra with their JSON value",
			contentType: "application/json",
			body: `{"first_name":"A","message":"Hi there","budget":500000,"preferred_time":null,
				"pets":["dog"],"meta":{"utm":{"source":"fb"}},"newsletter":true}`,
			wantPayload: `{"first_name": "A", "source_type": "Website", "extra": {"message": "Hi there",
				"budget": 500000, "preferred_time": null, "pets": ["dog"],
				"meta": {"utm": {"source": "fb"}}, "newsletter": true}}`,
			wantRaw: `{"first_name":"A","message":"Hi there","budget":500000,"preferred_time":null,
				"pets":["dog"],"meta":{"utm":{"source":"fb"}},"newsletter":true}`,
		},
		{
			name:        "lead_channel in the body is ignored",
			contentType: "application/json",
			body:        `{"lead_channel": "2c55e69d-adbe-42d9-97a5-bedb43783b80", "email": "a@b.co"}`,
			wantPayload: `{"email": "a@b.co", "source_type": "Website"}`,
		},
		{
			name:        "null fields read as absent",
			contentType: "application/json",
			body:        `{"note": "n", "first_name": null, "tag": null, "assignees": null, "listing": null}`,
			wantPayload: `{"note": "n", "source_type": "Website"}`,
		},
		{
			name:        "a +json type",
			contentType: "application/vnd.lead+json",
			body:        `{"email": "a@b.co"}`,
			wantPayload: `{"email": "a@b.co", "source_type": "Website"}`,
		},
		{
			name:        "text/plain holding JSON, as sendBeacon sends it",
			contentType: "text/plain;charset=UTF-8",
			body:        `{"email": "a@b.co"}`,
			wantPayload: `{"email": "a@b.co", "source_type": "Website"}`,
		},
		{
			name:        "escaped and non-ASCII text",
			contentType: "application/json",
			body:        `{"first_name": "Zo\u00eb", "last_name": "Ørsted", "note": "line1\nline2"}`,
			wantPayload: `{"first_name": "Zoë", "last_name": "Ørsted", "note": "line1\nline2", "source_type": "Website"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := decodeOne(t, tt.contentType, tt.body)
			assertJSON(t, "payload", l.Payload, tt.wantPayload)
			wantRaw := tt.wantRaw
			if wantRaw == "" {
				wantRaw = tt.body
			}
			assertSameJSON(t, "raw", l.Raw, wantRaw)
			if tt.wantRaw == "" && string(l.Raw) != strings.TrimSpace(tt.body) {
				t.Errorf("raw %s is not the body as received", l.Raw)
			}
		})
	}
}

func TestDecodeLeadsJSONErrors(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		parts []string
	}{
		{"trailing comma", `{"first_name": "a",}`, []string{"malformed JSON at byte 20", "invalid character '}'"}},
		{"unterminated", `{"first_name": "a"`, []string{"malformed JSON at byte 18", "unexpected end"}},
		{"empty body", ``, []string{"empty body"}},
		{"trailing value", `{} {}`, []string{"malformed JSON at byte", "after the top-level value"}},
		{"top-level array", `[{"email": "a@b.co"}]`, []string{"expected a JSON object", "got array"}},
		{"top-level string", `"hello"`, []string{"expected a JSON object", "got string"}},
		{"number in a text field", `{"first_name": 12}`, []string{`field "first_name": expected a string, got number`}},
		{"object in an id field", `{"phone_number": {"n": 1}}`, []string{`field "phone_number": expected a string, got object`}},
		{"bool in an id field", `{"user_id": true}`, []string{`field "user_id": expected a string, got boolean`}},
		{"array in a text field", `{"email": ["a@b.co"]}`, []string{`field "email": expected a string, got array`}},
		{"number in tags", `{"tag": ["a", 2]}`, []string{`field "tag[1]": expected a string, got number`}},
		{"object as tag", `{"tags": {"a": 1}}`, []string{`field "tags": expected a string or an array of strings, got object`}},
		{"assignees not an array", `{"assignees": {"email": "a"}}`, []string{`field "assignees": expected an array of objects, got object`}},
		{"assignee not an object", `{"assignees": ["a"]}`, []string{`field "assignees[0]": expected an object, got string`}},
		{"assignee field type", `{"assignees": [{}, {"email": false}]}`, []string{`field "assignees[1].email": expected a string, got boolean`}},
		{"listing not an object", `{"listing": "x"}`, []string{`field "listing": expected an object, got string`}},
		{"listing price not a number", `{"listing": {"price": "cheap"}}`, []string{`field "listing.price": expected a number, got "cheap"`}},
		{"listing price NaN", `{"listing": {"price": "NaN"}}`, []string{`field "listing.price"`}},
		{"listing price overflow", `{"listing": {"price": 1e999}}`, []string{`field "listing.price"`}},
		{"listing price bool", `{"listing": {"price": true}}`, []string{`field "listing.price": expected a number, got boolean`}},
		{"listing property array", `{"listing": {"property": []}}`, []string{`field "listing.property": expected an object, got array`}},
		{"invalid UTF-8", "{\"first_name\": \"J\xffn\"}", []string{"not valid UTF-8", "byte 18"}},
		{"nested too deep", `{"a":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`, []string{"nested deeper than 32", "byte 37"}},
		{"deep attack", strings.Repeat(`{"a":`, 100000), []string{"nested deeper than"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeLeads("application/json", []byte(tt.body), 0)
			assertError(t, err, leadwire.EINVALID, tt.parts...)
		})
	}
}

func TestDecodeLeadsJSONDepthLimit(t *testing.T) {
	// MaxDepth levels including the top-level object are fine.
	body := `{"note":"n",` + strings.Repeat(`"a":{`, MaxDepth-1) + `"a":1` + strings.Repeat(`}`, MaxDepth)
	l := decodeOne(t, "application/json", body)
	if l.Payload.Extra["a"] == nil {
		t.Errorf("extra = %v, want the nested value", l.Payload.Extra)
	}
	// Brackets inside strings do not count.
	decodeOne(t, "application/json", `{"note": "`+strings.Repeat("[{", 100)+`"}`)
}

func TestDecodeLeadsUnsupported(t *testing.T) {
	tests := []struct {
		contentType string
		parts       []string
	}{
		{"", []string{"missing content type", "application/json"}},
		{"   ", []string{"missing content type"}},
		{"image/png", []string{`"image/png" is not supported`, "application/x-www-form-urlencoded", "multipart/form-data", "application/xml"}},
		{"text/html", []string{`"text/html"`}},
		{"application/json; charset=iso-8859-1", []string{`charset "iso-8859-1"`, "UTF-8"}},
		{"text/xml; charset=utf-16", []string{`charset "utf-16"`}},
		{"application/", []string{"cannot parse content type"}},
		{"json", []string{`"json" is not supported`}},
	}
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			_, err := DecodeLeads(tt.contentType, []byte(`{}`), 0)
			assertError(t, err, leadwire.EUNSUPPORTED, tt.parts...)
		})
	}
}
