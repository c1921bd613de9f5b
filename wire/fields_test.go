package wire

import (
	"testing"

	"github.com/leadwire/leadwire"
)

func TestDecodeLeadAddress(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		wantAddress string // parsed_payload.address as JSON
		wantLine    string
	}{
		{
			name:        "a string stays a string",
			contentType: "application/json",
			body:        `{"email": "a@x.co", "address": " 1 Main St, Dallas "}`,
			wantAddress: `"1 Main St, Dallas"`,
			wantLine:    "1 Main St, Dallas",
		},
		{
			name:        "atomic parts, numbers kept as their text, other keys kept",
			contentType: "application/json",
			body: `{"email": "a@x.co", "address": {"street_number": 123, "street_dir_prefix": "N",
				"street_name": "Main", "street_suffix": "St", "street_dir_suffix": "SW", "unit_number": "4B",
				"city": "Dallas", "state_code": "TX", "postal_code": 75201, "country": "US",
				"county": "Dallas", "geo": {"lat": 32.78, "lng": -96.8}}}`,
			wantAddress: `{"street_number": "123", "street_dir_prefix": "N", "street_name": "Main",
				"street_suffix": "St", "street_dir_suffix": "SW", "unit_number": "4B", "city": "Dallas",
				"state_code": "TX", "postal_code": "75201", "country": "US",
				"county": "Dallas", "geo": {"lat": 32.78, "lng": -96.8}}`,
			wantLine: "123 N Main St SW #4B, Dallas, TX 75201, US",
		},
		{
			name:        "street_address beats the street parts",
			contentType: "application/json",
			body:        `{"email": "a@x.co", "address": {"street_address": "1 Elm St", "street_name": "Elm", "city": "Austin", "unit_number": "Apt 2"}}`,
			wantAddress: `{"street_address": "1 Elm St", "street_name": "Elm", "city": "Austin", "unit_number": "Apt 2"}`,
			wantLine:    "1 Elm St, Austin",
		},
		{
			name:        "full_address is the line",
			contentType: "application/json",
			body:        `{"email": "a@x.co", "address": {"full_address": "1 Elm St, Austin, TX", "city": "Austin"}}`,
			wantAddress: `{"full_address": "1 Elm St, Austin, TX", "city": "Austin"}`,
			wantLine:    "1 Elm St, Austin, TX",
		},
		{
			name:        "line1 and line2",
			contentType: "application/json",
			body:        `{"email": "a@x.co", "address": {"line1": "1 Main St", "line2": "Apt 2", "city": "Dallas", "state_code": "TX"}}`,
			wantAddress: `{"line1": "1 Main St", "line2": "Apt 2", "city": "Dallas", "state_code": "TX"}`,
			wantLine:    "1 Main St, Apt 2, Dallas, TX",
		},
		{
			name:        "full beside line1",
			contentType: "application/json",
			body:        `{"email": "a@x.co", "address": {"line1": "1 Main St", "full": "1 Main St, Dallas TX 75201"}}`,
			wantAddress: `{"line1": "1 Main St", "full": "1 Main St, Dallas TX 75201"}`,
			wantLine:    "1 Main St, Dallas TX 75201",
		},
		{
			name:        "parts of only spaces leave no address",
			contentType: "application/json",
			body:        `{"email": "a@x.co", "address": {"city": " ", "line1": ""}}`,
			wantAddress: `null`,
		},
		{
			name:        "form bracket notation",
			contentType: formType,
			body:        "email=a%40x.co&address[street_address]=1+Main+St&address[city]=Dallas&address[postal_code]=75201&address[gate]=7",
			wantAddress: `{"street_address": "1 Main St", "city": "Dallas", "postal_code": "75201", "gate": "7"}`,
			wantLine:    "1 Main St, Dallas, 75201",
		},
		{
			name:        "XML address elements",
			contentType: "application/xml",
			body:        `<Lead><Note>n</Note><Address><Street>1 Main St</Street><City>Dallas</City><State>TX</State><Zip>75201</Zip></Address></Lead>`,
			wantAddress: `{"street_address": "1 Main St", "city": "Dallas", "state_code": "TX", "postal_code": "75201"}`,
			wantLine:    "1 Main St, Dallas, TX 75201",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := decodeOne(t, tt.contentType, tt.body)
			assertJSON(t, "address", l.Payload.Address, tt.wantAddress)
			if got := l.Payload.Address.Line(); got != tt.wantLine {
				t.Errorf("Line() = %q, want %q", got, tt.wantLine)
			}
			if _, ok := l.Payload.Extra["address"]; ok {
				t.Errorf("address also in extra: %v", l.Payload.Extra)
			}
		})
	}
}

func TestDecodeLeadAddressErrors(t *testing.T) {
	tests := []struct{ body, part string }{
		{`{"email": "a@x.co", "address": 7}`, `field "address": expected a string or an object, got number`},
		{`{"email": "a@x.co", "address": ["1 Main St"]}`, `field "address": expected a string or an object, got array`},
		{`{"email": "a@x.co", "address": {"city": {"name": "Dallas"}}}`, `field "address.city": expected a string, got object`},
		{`{"email": "a@x.co", "address": {"postal_code": true}}`, `field "address.postal_code": expected a string, got boolean`},
	}
	for _, tt := range tests {
		t.Run(tt.part, func(t *testing.T) {
			_, err := DecodeLeads("application/json", []byte(tt.body), 0)
			assertError(t, err, leadwire.EINVALID, tt.part)
		})
	}
}

func TestDecodeLeadAliases(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		wantPayload string
	}{
		{"phone alone", "application/json", `{"phone": "(214) 555-0100"}`,
			`{"phone_number": "+12145550100", "phone_number_original": "(214) 555-0100", "source_type": "Website"}`},
		{"phone as a number", "application/json", `{"phone": 2145550100}`,
			`{"phone_number": "+12145550100", "phone_number_original": "2145550100", "source_type": "Website"}`},
		{"phone_number wins over phone", "application/json", `{"phone": "214-555-0100", "phone_number": "+18189191212"}`,
			`{"phone_number": "+18189191212", "source_type": "Website"}`},
		{"an empty phone_number leaves phone", "application/json", `{"phone": "+12145550100", "phone_number": ""}`,
			`{"phone_number": "+12145550100", "source_type": "Website"}`},
		{"phone in a form", formType, "phone=%2B12145550100&first_name=A",
			`{"first_name": "A", "phone_number": "+12145550100", "source_type": "Website"}`},
		{"mlsid and agent_mlsid numbers keep their decimal text", "application/json",
			`{"email": "a@x.co", "mlsid": 1841395151, "agent_mlsid": 98765432109876543210}`,
			`{"email": "a@x.co", "mlsid": "1841395151", "agent_mlsid": "98765432109876543210", "source_type": "Website"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := decodeOne(t, tt.contentType, tt.body)
			assertJSON(t, "payload", l.Payload, tt.wantPayload)
		})
	}
}

func TestDecodeLeadsEmpty(t *testing.T) {
	ct, emptyForm := multipartBody(t, field("tag", "x"))
	tests := []struct {
		name        string
		contentType string
		body        string
		parts       []string
	}{
		{"empty JSON object", "application/json", `{}`, []string{"the lead is empty", "first_name", "message"}},
		{"only blank names", "application/json", `{"first_name": " ", "last_name": "", "email": null}`, []string{"the lead is empty"}},
		{"only tags and attribution", "application/json", `{"tag": "buyer", "user_id": "u", "budget": 5}`, []string{"the lead is empty"}},
		{"a blank message", "application/json", `{"message": "  "}`, []string{"the lead is empty"}},
		{"a message that is not text", "application/json", `{"message": 5}`, []string{"the lead is empty"}},
		{"empty form", formType, ``, []string{"the lead is empty"}},
		{"multipart form of only a tag", ct, string(emptyForm), []string{"the lead is empty"}},
		{"empty XML lead", "application/xml", `<Lead/>`, []string{"lead 1 of the list", "the lead is empty"}},
		{"the second lead of a list", "application/xml", `<LeadList><Lead><Note>n</Note></Lead><Lead><Tag>x</Tag></Lead></LeadList>`,
			[]string{"lead 2 of the list", "the lead is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeLeads(tt.contentType, []byte(tt.body), 0)
			assertError(t, err, leadwire.EINVALID, tt.parts...)
		})
	}
	for _, body := range []string{`{"first_name": "A"}`, `{"last_name": "B"}`, `{"email": "a@x.co"}`,
		`{"phone_number": "x"}`, `{"phone": "214"}`, `{"note": "n"}`, `{"message": "Is it available?"}`} {
		t.Run("enough: "+body, func(t *testing.T) {
			decodeOne(t, "application/json", body)
		})
	}
}
