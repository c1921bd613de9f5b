package wire

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/leadwire/leadwire"
)

func TestDecodeActivity(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		want        string // the activity as JSON
	}{
		{
			name:        "viewed listing",
			contentType: "application/json",
			body: `{"action": "ContactViewedListing", "notes": "from email",
				"listing": {"id": "l1", "url": "https://example.com/l1", "mls": "NTREIS", "mls_number": 123,
					"price": "450000", "cover_image_url": "https://example.com/c.jpg",
					"property": {"beds": 3}}}`,
			want: `{"id": "", "lead": "", "action": "ContactViewedListing", "notes": "from email",
				"listing": {"id": "l1", "url": "https://example.com/l1", "mls": "NTREIS", "mls_number": "123",
					"price": 450000, "cover_image_url": "https://example.com/c.jpg", "property": {"beds": 3}}}`,
		},
		{
			name:        "searched listings, sent by sendBeacon as text/plain",
			contentType: "text/plain;charset=UTF-8",
			body: `{"action": "ContactSearchedListings", "search": {"url": "https://example.com/s?q=1",
				"title": "Dallas homes", "search": "dallas", "minimum_price": 100000, "maximum_price": "900000",
				"minimum_bedrooms": 2, "maximum_bedrooms": 5, "minimum_bathrooms": 1.5, "maximum_bathrooms": 4,
				"property_types": ["Residential", "Condo"], "postal_codes": [75201, "75202"], "pool": true}}`,
			want: `{"id": "", "lead": "", "action": "ContactSearchedListings", "search": {"url": "https://example.com/s?q=1",
				"title": "Dallas homes", "search": "dallas", "minimum_price": 100000, "maximum_price": 900000,
				"minimum_bedrooms": 2, "maximum_bedrooms": 5, "minimum_bathrooms": 1.5, "maximum_bathrooms": 4,
				"property_types": ["Residential", "Condo"], "postal_codes": ["75201", "75202"], "pool": true}}`,
		},
		{
			name:        "custom action, unknown keys ignored",
			contentType: "application/json; charset=utf-8",
			body:        `{"action": "Custom_Action_1", "idempotency_key": "k", "lead": "x"}`,
			want:        `{"id": "", "lead": "", "action": "Custom_Action_1"}`,
		},
		{
			name:        "no action but a listing_id is a listing view",
			contentType: "application/json",
			body:        `{"listing_id": "1841395151"}`,
			want:        `{"id": "", "lead": "", "action": "ContactViewedListing", "listing": {"id": "1841395151"}}`,
		},
		{
			name:        "no action but an mlsid number is a listing view",
			contentType: "text/plain",
			body:        `{"mlsid": 1841395151, "notes": "n"}`,
			want:        `{"id": "", "lead": "", "action": "ContactViewedListing", "notes": "n", "listing": {"mls_number": "1841395151"}}`,
		},
		{
			name:        "no action but a listing; top-level keys fill what it lacks, mls_number wins over mlsid",
			contentType: "application/json",
			body:        `{"listing": {"id": "own", "url": "https://example.com/l"}, "listing_id": "top", "mlsid": "M", "mls_number": "N"}`,
			want: `{"id": "", "lead": "", "action": "ContactViewedListing",
				"listing": {"id": "own", "url": "https://example.com/l", "mls_number": "N"}}`,
		},
		{
			name:        "an action given is kept, with the listing filled",
			contentType: "application/json",
			body:        `{"action": "ContactFavoritedListing", "mls_number": "9"}`,
			want:        `{"id": "", "lead": "", "action": "ContactFavoritedListing", "listing": {"mls_number": "9"}}`,
		},
		{
			name:        "pool false is kept",
			contentType: "application/json",
			body:        `{"action": "ContactCreatedSearch", "search": {"pool": false}}`,
			want:        `{"id": "", "lead": "", "action": "ContactCreatedSearch", "search": {"pool": false}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := DecodeActivity(tt.contentType, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			assertJSON(t, "activity", a, tt.want)
		})
	}
}

func TestDecodeActivityRaw(t *testing.T) {
	// Every key is kept in Raw, those the activity's fields leave out
	// (minimum_square_meters, open_house) and numbers no float64 holds
	// included.
	body := ` {"action": "ContactSearchedListings", "search": {"minimum_square_meters": 90, "title": "t"},
		"listing": {"id": "l", "open_house": {"day": "Sat"}}, "n": 1e999} `
	a, err := DecodeActivity("application/json", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if string(a.Raw) != strings.TrimSpace(body) {
		t.Errorf("raw = %s, want the body as sent", a.Raw)
	}
	b, err := json.Marshal(NewActivityDoc(a))
	if err != nil {
		t.Fatal(err)
	}
	for _, kept := range []string{`"raw_payload":{`, `"minimum_square_meters":90`, `"open_house":{"day":"Sat"}`, `"n":1e999`} {
		if !strings.Contains(string(b), kept) {
			t.Errorf("activity document %s lacks %s", b, kept)
		}
	}
}

func TestDecodeActivityErrors(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		code        string
		parts       []string
	}{
		{"no action, no listing", "application/json", `{"notes": "x"}`, leadwire.EINVALID, []string{`field "action" is required`, "listing_id"}},
		{"no action, a null listing", "application/json", `{"listing": null, "listing_id": ""}`, leadwire.EINVALID, []string{`field "action" is required`}},
		{"listing_id not a string", "application/json", `{"listing_id": {}}`, leadwire.EINVALID, []string{`field "listing_id": expected a string, got object`}},
		{"bad action", "application/json", `{"action": "Viewed Listing"}`, leadwire.EINVALID, []string{`action "Viewed Listing"`}},
		{"action not a string", "application/json", `{"action": 1}`, leadwire.EINVALID, []string{`field "action": expected a string, got number`}},
		{"notes not a string", "application/json", `{"action": "A", "notes": ["x"]}`, leadwire.EINVALID, []string{`field "notes"`}},
		{"pool not a boolean", "application/json", `{"action": "A", "search": {"pool": "yes"}}`, leadwire.EINVALID, []string{`field "search.pool": expected a boolean, got string`}},
		{"price not a number", "application/json", `{"action": "A", "search": {"minimum_price": []}}`, leadwire.EINVALID, []string{`field "search.minimum_price": expected a number, got array`}},
		{"postal code object", "application/json", `{"action": "A", "search": {"postal_codes": [{}]}}`, leadwire.EINVALID, []string{`field "search.postal_codes[0]"`}},
		{"listing not an object", "application/json", `{"action": "A", "listing": 5}`, leadwire.EINVALID, []string{`field "listing": expected an object, got number`}},
		{"malformed", "application/json", `{"action": }`, leadwire.EINVALID, []string{"malformed JSON at byte 12"}},
		{"not an object", "application/json", `[]`, leadwire.EINVALID, []string{"expected a JSON object"}},
		{"invalid UTF-8", "application/json", "{\"action\": \"A\", \"notes\": \"\xfe\"}", leadwire.EINVALID, []string{"not valid UTF-8"}},
		{"form", formType, `action=A`, leadwire.EUNSUPPORTED, []string{`"application/x-www-form-urlencoded" is not supported`, "application/json"}},
		{"xml", "application/xml", `<a/>`, leadwire.EUNSUPPORTED, []string{"not supported"}},
		{"missing type", "", `{"action": "A"}`, leadwire.EUNSUPPORTED, []string{"missing content type"}},
		{"latin-1", "text/plain; charset=latin1", `{"action": "A"}`, leadwire.EUNSUPPORTED, []string{`charset "latin1"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeActivity(tt.contentType, []byte(tt.body))
			assertError(t, err, tt.code, tt.parts...)
		})
	}
}
