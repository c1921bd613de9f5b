package leadwire

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestAddressLine(t *testing.T) {
	tests := []struct {
		name string
		a    *Address
		want string
	}{
		{"nil", nil, ""},
		{"text", &Address{Text: "1 Main St"}, "1 Main St"},
		{"atomic", &Address{StreetNumber: "12", StreetDirPrefix: "N", StreetName: "Main", StreetSuffix: "St",
			UnitNumber: "3", City: "Dallas", StateCode: "TX", PostalCode: "75201"}, "12 N Main St #3, Dallas, TX 75201"},
		{"unit naming its kind", &Address{StreetName: "Main", UnitNumber: "Apt 3"}, "Main Apt 3"},
		{"only a postal code", &Address{PostalCode: "75201"}, "75201"},
		{"street_address", &Address{StreetAddress: "1 Elm St", StreetName: "Elm", City: "Austin", Country: "US"}, "1 Elm St, Austin, US"},
		{"line1 and line2", &Address{Line1: "1 Elm St", Line2: "Suite 4", City: "Austin"}, "1 Elm St, Suite 4, Austin"},
		{"full_address", &Address{FullAddress: "whole", Full: "other", City: "Austin"}, "whole"},
		{"full", &Address{Full: "whole", Line1: "1 Elm St"}, "whole"},
		{"only extra keys", &Address{Extra: map[string]any{"county": "Travis"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Line(); got != tt.want {
				t.Errorf("Line() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPayloadNumbersReadBack(t *testing.T) {
	// A payload carries numbers as the form sent them; reading the stored
	// JSON back keeps each one's text, including those no float64 holds.
	stored := `{"address":{"city":"Dallas","lat":1e999},"listing":{"price":5,"property":{"rooms":[1e-400],"sqft":-1e400}},` +
		`"extra":{"big":123456789012345678901234567890,"budget":1e999,"nested":[{"n":1.8e308}]}}`
	var p Payload
	if err := json.Unmarshal([]byte(stored), &p); err != nil {
		t.Fatal(err)
	}
	if p.Extra["budget"] != json.Number("1e999") || p.Listing.Property["sqft"] != json.Number("-1e400") ||
		p.Address.Extra["lat"] != json.Number("1e999") {
		t.Errorf("numbers read as %#v, %#v, %#v", p.Extra["budget"], p.Listing.Property["sqft"], p.Address.Extra["lat"])
	}
	again, err := json.Marshal(&p)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != stored {
		t.Errorf("read back and written again:\n got  %s\n want %s", again, stored)
	}
	var l Listing
	if err := json.Unmarshal([]byte(`{"property":{"n":1e999}}`), &l); err != nil || l.Property["n"] != json.Number("1e999") {
		t.Errorf("listing alone: %#v, %v", l.Property, err)
	}
}

func TestPayloadValidate(t *testing.T) {
	tests := []struct {
		name string
		p    Payload
		ok   bool
	}{
		{"empty", Payload{}, false},
		{"only spaces", Payload{FirstName: " ", Note: "\t"}, false},
		{"only a tag, an address and extra", Payload{Tag: []string{"x"}, Address: &Address{Text: "1 Main"},
			Extra: map[string]any{"budget": json.Number("5")}}, false},
		{"a message that is not text", Payload{Extra: map[string]any{"message": json.Number("5")}}, false},
		{"first name", Payload{FirstName: "A"}, true},
		{"last name", Payload{LastName: "B"}, true},
		{"email", Payload{Email: "a@x.co"}, true},
		{"phone", Payload{PhoneNumber: "+12145550100"}, true},
		{"note", Payload{Note: "n"}, true},
		{"message", Payload{Extra: map[string]any{"message": "Is it available?"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if ok := err == nil; ok != tt.ok {
				t.Fatalf("Validate() = %v, want ok %v", err, tt.ok)
			}
			if err != nil && ErrorCode(err) != EINVALID {
				t.Errorf("code %q, want %q", ErrorCode(err), EINVALID)
			}
		})
	}
}

func FuzzAddressJSON(f *testing.F) {
	for _, seed := range []string{
		`"1 Main St"`,
		`{"street_number":"1","street_name":"Main","unit_number":"2","city":"Dallas","geo":{"lat":1e999}}`,
		`{"line1":"a","line2":"b","full":"c","full_address":"d","street_address":"e"}`,
		`{"city":5}`,
		`null`,
		`{}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var a Address
		if err := json.Unmarshal(b, &a); err != nil {
			return
		}
		a.Line()
		out, err := json.Marshal(a)
		if err != nil {
			t.Fatalf("%q reads as %#v, which does not marshal: %v", b, a, err)
		}
		var back Address
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%s does not read back: %v", out, err)
		}
		if again, _ := json.Marshal(back); !bytes.Equal(again, out) {
			t.Fatalf("%s reads back as %s", out, again)
		}
	})
}
