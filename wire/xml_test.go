package wire

import (
	"strings"
	"testing"

	"github.com/leadwire/leadwire"
)

const leadListXML = `<?xml version="1.0" encoding="UTF-8"?>
<LeadList>
  <Lead>
    <Contact>
      <Name><First>John</First><Last>Doe</Last></Name>
      <Email>john@example.com</Email>
      <PhoneList>
        <Phone><Type>Mobile</Type><Number>(818) 919-1212</Number></Phone>
        <Phone><Type>Work</Type><Number>214-555-0100</Number></Phone>
      </PhoneList>
      <Company>Acme</Company>
    </Contact>
    <Note>Wants a tour</Note>
    <Address><Street>1 Main St</Street><City>Dallas</City><State>TX</State><Zip>75201</Zip><Country>US</Country></Address>
    <LeadSource>Realtor.com</LeadSource>
    <ListingNumber>MLS123</ListingNumber>
    <ListingAgentMLSID>AG7</ListingAgentMLSID>
    <Tag>buyer</Tag>
    <Tag>hot</Tag>
    <ReferrerURL>https://example.com/listing/1</ReferrerURL>
    <SourceType>IDX</SourceType>
    <Budget currency="USD">500000</Budget>
    <Preferences><Beds>3</Beds><Baths>2</Baths></Preferences>
  </Lead>
  <Lead id="2">
    <Contact>
      <Name><First>Ann</First></Name>
      <EmailList><Email>ann@example.com</Email><Email>ann@work.example</Email></EmailList>
    </Contact>
    <Comments><![CDATA[Prefers <email> & text]]></Comments>
    <RefererURL>https://example.com/r</RefererURL>
    <Tags><Tag>seller</Tag><Tag>cold</Tag></Tags>
  </Lead>
</LeadList>`

func TestDecodeLeadsXML(t *testing.T) {
	leads, err := DecodeLeads("application/xml", []byte(leadListXML), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(leads) != 2 {
		t.Fatalf("got %d leads, want 2", len(leads))
	}
	assertJSON(t, "payload 1", leads[0].Payload, `{
		"first_name": "John", "last_name": "Doe", "email": "john@example.com",
		"phone_number": "+18189191212", "phone_number_original": "(818) 919-1212",
		"tag": ["buyer", "hot"], "lead_source": "Realtor.com", "note": "Wants a tour",
		"address": {"street_address": "1 Main St", "city": "Dallas", "state_code": "TX", "postal_code": "75201", "country": "US"},
		"referer_url": "https://example.com/listing/1",
		"mlsid": "MLS123", "listing_id": "MLS123", "agent_mlsid": "AG7", "source_type": "IDX",
		"extra": {
			"Contact": {"PhoneList": {"Phone": [{"Type": "Mobile"}, {"Type": "Work", "Number": "214-555-0100"}]}, "Company": "Acme"},
			"Budget": {"@currency": "USD", "#text": "500000"},
			"Preferences": {"Beds": "3", "Baths": "2"}
		}}`)
	assertSameJSON(t, "raw 1", leads[0].Raw, `{
		"Contact": {"Name": {"First": "John", "Last": "Doe"}, "Email": "john@example.com",
			"PhoneList": {"Phone": [{"Type": "Mobile", "Number": "(818) 919-1212"}, {"Type": "Work", "Number": "214-555-0100"}]},
			"Company": "Acme"},
		"Note": "Wants a tour",
		"Address": {"Street": "1 Main St", "City": "Dallas", "State": "TX", "Zip": "75201", "Country": "US"},
		"LeadSource": "Realtor.com", "ListingNumber": "MLS123", "ListingAgentMLSID": "AG7",
		"Tag": ["buyer", "hot"], "ReferrerURL": "https://example.com/listing/1", "SourceType": "IDX",
		"Budget": {"@currency": "USD", "#text": "500000"},
		"Preferences": {"Beds": "3", "Baths": "2"}}`)
	assertJSON(t, "payload 2", leads[1].Payload, `{
		"first_name": "Ann", "email": "ann@example.com", "note": "Prefers <email> & text",
		"tag": ["seller", "cold"], "referer_url": "https://example.com/r", "source_type": "Website",
		"extra": {"@id": "2", "Contact": {"EmailList": {"Email": "ann@work.example"}}}}`)
	assertSameJSON(t, "raw 2", leads[1].Raw, `{"@id": "2",
		"Contact": {"Name": {"First": "Ann"}, "EmailList": {"Email": ["ann@example.com", "ann@work.example"]}},
		"Comments": "Prefers <email> & text", "RefererURL": "https://example.com/r",
		"Tags": {"Tag": ["seller", "cold"]}}`)
}

func TestDecodeLeadsXMLShapes(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		wantPayload string
		wantRaw     string
	}{
		{
			name:        "a bare Lead root",
			contentType: "text/xml; charset=utf-8",
			body:        `<Lead><Contact><Email>a@b.co</Email></Contact></Lead>`,
			wantPayload: `{"email": "a@b.co", "source_type": "Website"}`,
			wantRaw:     `{"Contact": {"Email": "a@b.co"}}`,
		},
		{
			name:        "text beside elements is kept in extra",
			contentType: "application/xml",
			body:        `<Lead>call me<Note>n</Note></Lead>`,
			wantPayload: `{"note": "n", "source_type": "Website", "extra": {"#text": "call me"}}`,
			wantRaw:     `{"#text": "call me", "Note": "n"}`,
		},
		{
			name:        "phones as plain text, note beats comments, partial address",
			contentType: "application/xml",
			body: `<Lead><Contact><PhoneList><Phone>+12145550100</Phone><Phone>+12145550101</Phone></PhoneList></Contact>
				<Note>n</Note><Comments>c</Comments><Address><City>Austin</City><Zip>78701</Zip></Address>
				<Tags>solo</Tags></Lead>`,
			wantPayload: `{"phone_number": "+12145550100", "note": "n", "address": {"city": "Austin", "postal_code": "78701"},
				"tag": ["solo"], "source_type": "Website",
				"extra": {"Contact": {"PhoneList": {"Phone": "+12145550101"}}, "Comments": "c"}}`,
		},
		{
			name:        "namespaces and declarations are not data",
			contentType: "application/xml",
			body:        `<?xml version="1.0"?><!-- forwarded --><l:LeadList xmlns:l="urn:x"><l:Lead xmlns="urn:y"><LeadSource>Z</LeadSource><Note>n</Note></l:Lead></l:LeadList>`,
			wantPayload: `{"lead_source": "Z", "note": "n", "source_type": "Website"}`,
			wantRaw:     `{"LeadSource": "Z", "Note": "n"}`,
		},
		{
			name:        "attributes beside text, repeated elements, repeated containers",
			contentType: "application/xml",
			body: `<Lead><Tag kind="a">x</Tag><Tag>y</Tag><Tag>z</Tag>
				<Contact><Email type="home">a@b.co</Email><Name><First>A</First><Middle>M</Middle></Name></Contact>
				<Contact><Email>second@b.co</Email></Contact>
				<LeadSource>one</LeadSource><LeadSource>two</LeadSource><LeadSource>three</LeadSource></Lead>`,
			wantPayload: `{"first_name": "A", "email": "a@b.co", "tag": ["x", "y", "z"], "lead_source": "one",
				"source_type": "Website", "extra": {"Contact": [{"Name": {"Middle": "M"}}, {"Email": "second@b.co"}],
				"LeadSource": ["two", "three"]}}`,
		},
		{
			name:        "other elements of the list are not leads",
			contentType: "application/xml",
			body:        `<LeadList><Source>IDX</Source><Lead><Note>x</Note></Lead></LeadList>`,
			wantPayload: `{"note": "x", "source_type": "Website"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := decodeOne(t, tt.contentType, tt.body)
			assertJSON(t, "payload", l.Payload, tt.wantPayload)
			if tt.wantRaw != "" {
				assertSameJSON(t, "raw", l.Raw, tt.wantRaw)
			}
		})
	}
}

const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Lead><Note>&lol3;</Note></Lead>`

func TestDecodeLeadsXMLErrors(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		parts []string
	}{
		{"billion laughs", billionLaughs, []string{"document type declarations", "not accepted"}},
		{"external entity", `<!DOCTYPE Lead [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Lead><Note>&xxe;</Note></Lead>`, []string{"document type declarations"}},
		{"undeclared entity", `<Lead><Note>&lol;</Note></Lead>`, []string{"malformed XML at byte", "line 1", "entity"}},
		{"mismatched tags", "<Lead>\n<Note>x</Lead>", []string{"malformed XML at byte", "line 2"}},
		{"unclosed", `<LeadList><Lead>`, []string{"malformed XML at byte 16"}},
		{"empty document", ``, []string{"empty XML document"}},
		{"only a declaration", `<?xml version="1.0"?>`, []string{"empty XML document"}},
		{"wrong root", `<Leads><Lead/></Leads>`, []string{"expected a <LeadList> or <Lead> root element, got <Leads>"}},
		{"no leads", `<LeadList></LeadList>`, []string{"holds no <Lead>"}},
		{"two roots", `<Lead/><Lead/>`, []string{"more than one root element"}},
		{"text outside the root", `<Lead/>junk`, []string{"text outside the root"}},
		{"nested too deep", "<Lead>" + strings.Repeat("<a>", MaxDepth) + strings.Repeat("</a>", MaxDepth) + "</Lead>", []string{"nested deeper than 32"}},
		{"elements where text belongs", `<Lead><Contact><Name><First><b>J</b></First></Name></Contact></Lead>`, []string{"lead 1", "<Contact/Name/First> must hold text"}},
		{"error names the lead", `<LeadList><Lead/><Lead><Note><p>x</p></Note></Lead></LeadList>`, []string{"lead 2", "<Note>"}},
		{"unsupported encoding declared", `<?xml version="1.0" encoding="UTF-16"?><Lead/>`, []string{"UTF-16", "not supported"}},
		{"invalid UTF-8", "<Lead><Note>\xc3\x28</Note></Lead>", []string{"invalid UTF-8", "byte 14"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeLeads("application/xml", []byte(tt.body), 0)
			assertError(t, err, leadwire.EINVALID, tt.parts...)
		})
	}
}

func TestDecodeLeadsXMLLimits(t *testing.T) {
	list := func(n int, lead, after string) string {
		return "<LeadList>" + strings.Repeat(lead, n) + after
	}
	const note = "<Lead><Note>n</Note></Lead>"
	tests := []struct {
		name     string
		body     string
		maxLeads int
		want     int      // leads decoded, when no error
		parts    []string // of the too_large message, when refused
	}{
		{"the default limit", list(DefaultMaxLeads, note, "</LeadList>"), 0, DefaultMaxLeads, nil},
		{"one over the default limit", list(DefaultMaxLeads+1, note, "</LeadList>"), 0, 0, []string{"more than 100 leads", "at most 100"}},
		{"a thousand empty leads", list(1000, "<Lead/>", "</LeadList>"), 0, 0, []string{"more than 100 leads"}},
		{"a configured limit", list(3, note, "</LeadList>"), 3, 3, nil},
		{"one over a configured limit", list(4, note, "</LeadList>"), 3, 0, []string{"more than 3 leads", "at most 3"}},
		// The decoder stops at the lead over the limit: what follows,
		// malformed here, is never read.
		{"stops at the lead over the limit", list(4, note, "<Lead><Unclosed>"), 3, 0, []string{"more than 3 leads"}},
		{"other elements do not count", list(3, note+"<Header/>", "</LeadList>"), 3, 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leads, err := DecodeLeads("application/xml", []byte(tt.body), tt.maxLeads)
			if tt.parts != nil {
				assertError(t, err, leadwire.ETOOLARGE, tt.parts...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(leads) != tt.want {
				t.Errorf("got %d leads, want %d", len(leads), tt.want)
			}
		})
	}
}

func TestDecodeLeadsXMLDepthLimit(t *testing.T) {
	deep := "<Lead><Note>n</Note>" + strings.Repeat("<a>", MaxDepth-1) + "x" + strings.Repeat("</a>", MaxDepth-1) + "</Lead>"
	decodeOne(t, "application/xml", deep)
}

func TestXMLDeclaredEncodings(t *testing.T) {
	latin1 := append([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><LeadList><Lead><Contact><Name><First>Jos`),
		0xe9) // é in ISO-8859-1
	latin1 = append(latin1, []byte(`</First></Name></Contact></Lead></LeadList>`)...)
	leads, err := DecodeLeads("application/xml", latin1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := leads[0].Payload.FirstName; got != "José" {
		t.Errorf("first name = %q, want José", got)
	}
	_, err = DecodeLeads("text/xml", []byte(`<?xml version="1.0" encoding="EBCDIC"?><LeadList/>`), 0)
	assertError(t, err, leadwire.EINVALID, "EBCDIC")
	_, err = DecodeLeads("text/xml", []byte("<LeadList><Lead><Note>caf\xe9</Note></Lead></LeadList>"), 0)
	assertError(t, err, leadwire.EINVALID, "UTF-8")
}
