package leadwire

import (
	"slices"
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

func TestNormalize(t *testing.T) {
	p := Payload{
		FirstName: "  Jane ", Email: " Jane@Example.com ", PhoneNumber: "(214) 555-0199",
		Tag:       []string{" buyer ", "", "  "},
		Assignees: []Assignee{{Email: " a@example.com ", PhoneNumber: "214.555.0100"}, {FirstName: "  "}},
		Extra:     map[string]any{},
	}
	p.Normalize()
	if p.FirstName != "Jane" || p.Email != "Jane@Example.com" || p.SourceType != DefaultSourceType {
		t.Errorf("text fields: %+v", p)
	}
	if p.PhoneNumber != "+12145550199" || p.PhoneNumberOriginal != "(214) 555-0199" {
		t.Errorf("phone = %q (original %q)", p.PhoneNumber, p.PhoneNumberOriginal)
	}
	if !slices.Equal(p.Tag, []string{"buyer"}) {
		t.Errorf("tags = %q", p.Tag)
	}
	if len(p.Assignees) != 1 || p.Assignees[0] != (Assignee{Email: "a@example.com", PhoneNumber: "+12145550100"}) {
		t.Errorf("assignees = %+v", p.Assignees)
	}
	if p.Extra != nil {
		t.Errorf("empty extra should be nil: %v", p.Extra)
	}
}

func TestPhoneKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+18189191212", "+18189191212"},
		{"(818) 919-1212", "+18189191212"},
		{"818.919.1212", "+18189191212"},
		{"+44 20 7946 0958", "+442079460958"},
		{"call me", ""},
		{"12", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := PhoneKey(tt.in); got != tt.want {
			t.Errorf("PhoneKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	var p Payload
	p.PhoneNumber = "call me maybe"
	p.Normalize()
	if p.PhoneNumber != "call me maybe" || p.PhoneNumberOriginal != "" {
		t.Errorf("an unparseable phone is kept as sent: %q %q", p.PhoneNumber, p.PhoneNumberOriginal)
	}
}

func TestEmailKey(t *testing.T) {
	if EmailKey(" John-Doe@Gmail.COM ") != "john-doe@gmail.com" {
		t.Error("EmailKey should trim and lower-case")
	}
}

func TestChannel(t *testing.T) {
	c := Channel{Name: " Site ", AllowedOrigins: []string{"https://Example.com/", "http://localhost:3000"}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Name != "Site" || !slices.Equal(c.AllowedOrigins, []string{"https://Example.com", "http://localhost:3000"}) {
		t.Errorf("validated channel = %+v", c)
	}
	for origin, want := range map[string]bool{"https://example.com": true, "http://localhost:3000": true, "": true,
		"https://evil.example": false, "http://example.com": false} {
		if got := c.AllowsOrigin(origin); got != want {
			t.Errorf("AllowsOrigin(%q) = %v, want %v", origin, got, want)
		}
	}
	for _, bad := range []Channel{{}, {Name: "x", AllowedOrigins: []string{"example.com"}},
		{Name: "x", AllowedOrigins: []string{"https://example.com/path"}}, {Name: "x", AllowedOrigins: []string{"ftp://x"}}} {
		if err := bad.Validate(); ErrorCode(err) != EINVALID {
			t.Errorf("Validate(%+v) = %v, want EINVALID", bad, err)
		}
	}
	if (&Channel{ID: "c1"}).Brand() != "channel:c1" || (&Channel{ID: "c1", BrandID: "b"}).Brand() != "b" {
		t.Error("Brand: the brand id, or the channel itself")
	}
}

func TestActivityValidate(t *testing.T) {
	for action, ok := range map[string]bool{ActionViewedListing: true, "custom_1": true, "": false,
		"with space": false, "x;drop": false, string(make([]byte, 65)): false} {
		err := (&Activity{Action: action}).Validate()
		if (err == nil) != ok {
			t.Errorf("Validate(%q) = %v", action, err)
		}
	}
}

// TestParseNANPAgreesWithLibrary checks the fast path against the phone
// library on every shape of North American number it accepts, and on
// shapes it must leave to the library.
func TestParseNANPAgreesWithLibrary(t *testing.T) {
	national := []string{"2145550101", "8189191212", "2125550000", "9995551234", "2002000000", "1145550101", "2141550101",
		"2140550101", "8181000000", "9990001234", "3000000000", "0145550101"}
	shapes := []func(d string) string{
		func(d string) string { return d },
		func(d string) string { return "(" + d[:3] + ") " + d[3:6] + "-" + d[6:] },
		func(d string) string { return d[:3] + "-" + d[3:6] + "-" + d[6:] },
		func(d string) string { return d[:3] + "." + d[3:6] + "." + d[6:] },
		func(d string) string { return "1" + d },
		func(d string) string { return "1-" + d[:3] + "-" + d[3:6] + "-" + d[6:] },
		func(d string) string { return "+1" + d },
		func(d string) string { return "+1 (" + d[:3] + ") " + d[3:6] + " " + d[6:] },
		func(d string) string { return "+" + d },
		func(d string) string { return d[:9] },
		func(d string) string { return d + "9" },
		func(d string) string { return "2" + d },
		func(d string) string { return "((" + d[:3] + "))" + d[3:] },
		func(d string) string { return d[:3] + " - " + d[3:] + "." },
	}
	for _, d := range national {
		for _, shape := range shapes {
			in := shape(d)
			fast, ok := parseNANP(in)
			if !ok {
				continue
			}
			n, err := phonenumbers.Parse(in, DefaultPhoneRegion)
			if err != nil || !phonenumbers.IsPossibleNumber(n) {
				t.Errorf("parseNANP(%q) = %q, but the library refuses it", in, fast)
				continue
			}
			if lib := phonenumbers.Format(n, phonenumbers.E164); lib != fast {
				t.Errorf("parseNANP(%q) = %q, library says %q", in, fast, lib)
			}
		}
	}
	for _, in := range []string{"+44 20 7946 0958", "214-555-0101 ext 7", "1145550101", "0145550101", "+2145550101", "21455501011"} {
		if got, ok := parseNANP(in); ok {
			t.Errorf("parseNANP(%q) = %q; it should leave this to the library", in, got)
		}
	}
}

func FuzzParseNANP(f *testing.F) {
	for _, s := range []string{"(214) 555-0101", "+1 818 919 1212", "1-800-555-0199", "214.555.0101", "12"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		fast, ok := parseNANP(in)
		if !ok {
			return
		}
		n, err := phonenumbers.Parse(in, DefaultPhoneRegion)
		if err != nil || !phonenumbers.IsPossibleNumber(n) || phonenumbers.Format(n, phonenumbers.E164) != fast {
			t.Errorf("parseNANP(%q) = %q disagrees with the library (%v)", in, fast, err)
		}
	})
}

// phoneInputs are phone numbers as visitors send them: North American in
// the usual forms, international, and ones that cannot be parsed.
var phoneInputs = []string{"(214) 555-0101", " 214.555.0101 ", "+12145550101", "1-214-555-0101",
	"(214) 155-0101", "+44 20 7946 0958", "+44 (0) 20 7946 0958", "+33 6 12 34 56 78", "+8613912345678",
	"214-555-0101 ext 7", "call me", "12", "", "  ",
	"+6100AAA00"} // the library's E.164 form "+61022200" parses again to "+6122200"

func TestPayloadPhoneKey(t *testing.T) {
	for _, in := range phoneInputs {
		t.Run(in, func(t *testing.T) {
			p := Payload{PhoneNumber: in}
			if got, want := p.PhoneKey(), PhoneKey(in); got != want {
				t.Errorf("before Normalize: PhoneKey() = %q, want %q", got, want)
			}
			p.Normalize()
			if got, want := p.PhoneKey(), PhoneKey(in); got != want {
				t.Errorf("after Normalize: PhoneKey() = %q, want %q", got, want)
			}
			p.PhoneNumber = "+1 818 919 1212"
			if got := p.PhoneKey(); got != "+18189191212" {
				t.Errorf("after the number changed: PhoneKey() = %q, want the new number's key", got)
			}
		})
	}
}

// TestPayloadPhoneKeyParsesOnce holds the store's match key to the parse
// Normalize made: a second parse of an international number costs about
// 10 µs and 34 allocations.
func TestPayloadPhoneKeyParsesOnce(t *testing.T) {
	for _, in := range phoneInputs {
		p := Payload{PhoneNumber: in}
		p.Normalize()
		if allocs := testing.AllocsPerRun(10, func() { p.PhoneKey() }); allocs != 0 {
			t.Errorf("PhoneKey() of %q after Normalize allocates %.0f times: it parses the number again", in, allocs)
		}
	}
}

// FuzzPayloadPhoneKey holds the key Normalize keeps to the key of the
// number as sent. (Parsing the E.164 form again is not always the same:
// see "+6100AAA00".)
func FuzzPayloadPhoneKey(f *testing.F) {
	for _, in := range phoneInputs {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p := Payload{PhoneNumber: in}
		p.Normalize()
		if got, want := p.PhoneKey(), PhoneKey(in); got != want {
			t.Errorf("Normalize(%q) leaves %q with key %q, want %q", in, p.PhoneNumber, got, want)
		}
	})
}

// TestParseInternationalAgreesWithLibrary checks the fast path against the
// phone library on the example numbers of every country and number type,
// written the ways people write them, and on shapes it must leave to the
// library.
func TestParseInternationalAgreesWithLibrary(t *testing.T) {
	var examples []*phonenumbers.PhoneNumber
	for region := range phonenumbers.GetSupportedRegions() {
		for typ := phonenumbers.FIXED_LINE; typ <= phonenumbers.VOICEMAIL; typ++ {
			if n := phonenumbers.GetExampleNumberForType(region, typ); n != nil {
				examples = append(examples, n)
			}
		}
	}
	for cc := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		if n := phonenumbers.GetExampleNumberForNonGeoEntity(cc); n != nil {
			examples = append(examples, n)
		}
	}
	fast := 0
	for _, n := range examples {
		e164 := phonenumbers.Format(n, phonenumbers.E164)
		cc := strconv.Itoa(int(n.GetCountryCode()))
		nsn := phonenumbers.GetNationalSignificantNumber(n)
		for _, in := range []string{
			e164,
			phonenumbers.Format(n, phonenumbers.INTERNATIONAL),
			"+" + cc + " (" + nsn[:min(3, len(nsn))] + ") " + nsn[min(3, len(nsn)):],
			"+" + cc + "-" + nsn,
			"+" + cc + " 0" + nsn,
			"+" + cc + " (0) " + nsn,
			"+" + cc + nsn[:len(nsn)-1],
			"+" + cc + nsn + "1",
			"+" + cc + nsn + "123456",
		} {
			got, ok := parseInternational(in)
			if !ok {
				continue
			}
			fast++
			n, err := phonenumbers.Parse(in, DefaultPhoneRegion)
			if err != nil || !phonenumbers.IsPossibleNumber(n) {
				t.Errorf("parseInternational(%q) = %q, but the library refuses it", in, got)
				continue
			}
			if lib := phonenumbers.Format(n, phonenumbers.E164); lib != got {
				t.Errorf("parseInternational(%q) = %q, library says %q", in, got, lib)
			}
		}
	}
	t.Logf("the fast path read %d forms of %d example numbers", fast, len(examples))
	if fast < len(examples) {
		t.Errorf("the fast path read %d forms of %d example numbers: it should read most", fast, len(examples))
	}
	for _, in := range []string{"+44 (0) 20 7946 0958", "+39 06 6982 0000", "+44 20 7946 0958 ext 7", "+999 1234 5678",
		"0044 20 7946 0958", "+44 20", "(214) 555-0101", "++44 20 7946 0958", "+44 20 7946 0958#"} {
		if got, ok := parseInternational(in); ok {
			t.Errorf("parseInternational(%q) = %q; it should leave this to the library", in, got)
		}
	}
}

func FuzzParseInternational(f *testing.F) {
	for _, s := range []string{"+44 20 7946 0958", "+33 6 12 34 56 78", "+8613912345678", "+52 55 1234 5678", "+6100AAA00", "+800 1234 5678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		fast, ok := parseInternational(in)
		if !ok {
			return
		}
		n, err := phonenumbers.Parse(in, DefaultPhoneRegion)
		if err != nil || !phonenumbers.IsPossibleNumber(n) || phonenumbers.Format(n, phonenumbers.E164) != fast {
			t.Errorf("parseInternational(%q) = %q disagrees with the library (%v)", in, fast, err)
		}
	})
}
