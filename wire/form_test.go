package wire

import (
	"bytes"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"strings"
	"testing"

	"github.com/leadwire/leadwire"
)

const formType = "application/x-www-form-urlencoded"

func TestDecodeLeadsForm(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		wantPayload string
		wantRaw     string
	}{
		{
			name: "every documented field",
			body: "first_name=John&last_name=Doe&email=john%40example.com&phone_number=%2B18189191212" +
				"&tag=buyer&lead_source=Site&note=hi+there&address=1+Main+St&referer_url=https%3A%2F%2Fexample.com" +
				"&mlsid=M1&listing_id=L1&agent_mlsid=A1&source_type=Website&user_id=u&brand_id=b" +
				"&ad_campaign_id=ad&email_campaign_id=ec&email_campaign_email_id=ece&lead_channel=ignored",
			wantPayload: `{"first_name": "John", "last_name": "Doe", "email": "john@example.com",
				"phone_number": "+18189191212", "tag": ["buyer"], "lead_source": "Site", "note": "hi there",
				"address": "1 Main St", "referer_url": "https://example.com", "mlsid": "M1",
				"listing_id": "L1", "agent_mlsid": "A1", "source_type": "Website", "user_id": "u",
				"brand_id": "b", "ad_campaign_id": "ad", "email_campaign_id": "ec",
				"email_campaign_email_id": "ece"}`,
			wantRaw: `{"first_name": "John", "last_name": "Doe", "email": "john@example.com",
				"phone_number": "+18189191212", "tag": "buyer", "lead_source": "Site", "note": "hi there",
				"address": "1 Main St", "referer_url": "https://example.com", "mlsid": "M1",
				"listing_id": "L1", "agent_mlsid": "A1", "source_type": "Website", "user_id": "u",
				"brand_id": "b", "ad_campaign_id": "ad", "email_campaign_id": "ec",
				"email_campaign_email_id": "ece", "lead_channel": "ignored"}`,
		},
		{
			name:        "repeated keys and [] build arrays; tags merge",
			body:        "note=n&tag=a&tag=b&tags[]=c&tags[]=d",
			wantPayload: `{"note": "n", "tag": ["a", "b", "c", "d"], "source_type": "Website"}`,
			wantRaw:     `{"note": "n", "tag": ["a", "b"], "tags[]": ["c", "d"]}`,
		},
		{
			name: "bracket notation builds assignees and listing",
			body: "note=n&assignees[0][email]=a%40x.com&assignees[0][mls_id]=M1&assignees[1][email]=b%40x.com" +
				"&assignees[1][mlsid]=M2&assignees[1][mls]=NTREIS" +
				"&listing[price]=450000&listing[mls_number]=123&listing[property][address][city]=Dallas" +
				"&listing[property][address][state_code]=TX",
			wantPayload: `{"note": "n", "assignees": [{"email": "a@x.com", "mlsid": "M1"},
				{"email": "b@x.com", "mlsid": "M2", "mls": "NTREIS"}],
				"listing": {"price": 450000, "mls_number": "123",
					"property": {"address": {"city": "Dallas", "state_code": "TX"}}},
				"source_type": "Website"}`,
			wantRaw: `{"note": "n", "assignees[0][email]": "a@x.com", "assignees[0][mls_id]": "M1",
				"assignees[1][email]": "b@x.com", "assignees[1][mlsid]": "M2", "assignees[1][mls]": "NTREIS",
				"listing[price]": "450000", "listing[mls_number]": "123",
				"listing[property][address][city]": "Dallas", "listing[property][address][state_code]": "TX"}`,
		},
		{
			name:        "indexes are ordered numerically and gaps close",
			body:        "note=n&assignees[10][email]=c%40x.com&assignees[2][email]=b%40x.com&assignees[0][email]=a%40x.com",
			wantPayload: `{"note": "n", "assignees": [{"email": "a@x.com"}, {"email": "b@x.com"}, {"email": "c@x.com"}], "source_type": "Website"}`,
		},
		{
			name:        "keys that are not indexes keep an object",
			body:        "note=n&rooms[01]=a&rooms[1]=b&floors[-1]=c&floors[0]=d",
			wantPayload: `{"note": "n", "source_type": "Website", "extra": {"rooms": {"01": "a", "1": "b"}, "floors": {"-1": "c", "0": "d"}}}`,
		},
		{
			name:        "[] objects: a new element when the key repeats",
			body:        "note=n&assignees[][email]=a%40x.com&assignees[][first_name]=Ann&assignees[][email]=b%40x.com",
			wantPayload: `{"note": "n", "assignees": [{"email": "a@x.com", "first_name": "Ann"}, {"email": "b@x.com"}], "source_type": "Website"}`,
		},
		{
			name: "unknown keys go to extra as strings or arrays of strings",
			body: "message=Hello&budget=1&budget=2&utm[source]=fb&utm[campaign]=x&empty=",
			wantPayload: `{"source_type": "Website", "extra": {"message": "Hello", "budget": ["1", "2"],
				"utm": {"source": "fb", "campaign": "x"}, "empty": ""}}`,
			wantRaw: `{"message": "Hello", "budget": ["1", "2"], "utm[source]": "fb", "utm[campaign]": "x", "empty": ""}`,
		},
		{
			name:        "keys that are not bracket notation stay as they are",
			body:        "note=n&a[b=1&c]d=2&[e]=3&f[g]h=4&flag",
			wantPayload: `{"note": "n", "source_type": "Website", "extra": {"a[b": "1", "c]d": "2", "[e]": "3", "f[g]h": "4", "flag": ""}}`,
		},
		{
			name:        "empty pairs and semicolons",
			body:        "&&first_name=A;B&&",
			wantPayload: `{"first_name": "A;B", "source_type": "Website"}`,
		},
		{
			name:        "empty listing price",
			body:        "note=n&listing[price]=&listing[url]=https%3A%2F%2Fexample.com",
			wantPayload: `{"note": "n", "listing": {"url": "https://example.com"}, "source_type": "Website"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := decodeOne(t, formType+"; charset=UTF-8", tt.body)
			assertJSON(t, "payload", l.Payload, tt.wantPayload)
			if tt.wantRaw != "" {
				assertSameJSON(t, "raw", l.Raw, tt.wantRaw)
			}
		})
	}
}

func TestDecodeLeadsFormErrors(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		parts []string
	}{
		{"bad escape in a key", "first_name=A&la%zzst=B", []string{"malformed form data at byte 14", `"%zz"`}},
		{"bad escape in a value", "first_name=A&last=%g1", []string{"malformed form data at byte 19"}},
		{"escaped invalid UTF-8", "first_name=%ff", []string{"not valid UTF-8", "first_name"}},
		{"repeated text field", "first_name=A&first_name=B", []string{`field "first_name": expected a string, got array`}},
		{"object for a text field", "email[x]=a", []string{`field "email": expected a string, got object`}},
		{"assignees as text", "assignees=a%40x.com", []string{`field "assignees": expected an array of objects, got string`}},
		{"assignee as text", "assignees[]=a", []string{`field "assignees[0]": expected an object, got string`}},
		{"price not a number", "listing[price]=%24450k", []string{`field "listing.price": expected a number, got "$450k"`}},
		{"key shape conflict", "listing=x&listing[price]=1", []string{`form key "listing[price]" conflicts`}},
		{"list and object conflict", "a[]=1&a[b]=2", []string{`form key "a[b]" conflicts`}},
		{"leaf and list conflict", "a[b]=1&a[b][]=2", []string{`form key "a[b][]" conflicts`}},
		{"nested too deep", "x" + strings.Repeat("[a]", MaxDepth) + "=1", []string{"nested deeper than 32"}},
		{"too many fields", strings.Repeat("a=1&", maxFormFields+1), []string{"more than 1000 fields"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeLeads(formType, []byte(tt.body), 0)
			assertError(t, err, leadwire.EINVALID, tt.parts...)
		})
	}
}

// multipartPart is one part of a multipart test body.
type multipartPart struct {
	header textproto.MIMEHeader
	body   string
}

// field returns a text part.
func field(name, value string) multipartPart {
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="`+name+`"`)
	return multipartPart{h, value}
}

// filePart returns a file part.
func filePart(name, filename, contentType, body string) multipartPart {
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="`+name+`"; filename="`+filename+`"`)
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return multipartPart{h, body}
}

// testBoundary is the boundary of the multipart test bodies. It is fixed
// so that the fuzz seeds match the fuzz target's content type.
const testBoundary = "leadwire-fuzz-boundary"

// multipartBody writes parts and returns the content type and body.
func multipartBody(t testing.TB, parts ...multipartPart) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.SetBoundary(testBoundary); err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		pw, err := w.CreatePart(p.header)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pw.Write([]byte(p.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), buf.Bytes()
}

func TestDecodeLeadsMultipart(t *testing.T) {
	typedPart := field("note", "typed")
	typedPart.header.Set("Content-Type", "text/plain; charset=utf-8")
	imagePart := field("photo", "\x89PNG")
	imagePart.header.Set("Content-Type", "image/png")
	ct, body := multipartBody(t,
		field("first_name", "Jane"),
		field("email", "jane@example.com"),
		field("tag", "a"), field("tag", "b"),
		field("assignees[0][email]", "agent@example.com"),
		field("listing[price]", "300000"),
		typedPart,
		filePart("resume", "cv.pdf", "application/pdf", "%PDF-1.4 binary \xff\xfe"),
		filePart("empty_file", "", "application/octet-stream", ""),
		imagePart,
		field("message", "Call after 5"),
	)
	l := decodeOne(t, ct, string(body))
	assertJSON(t, "payload", l.Payload, `{"first_name": "Jane", "email": "jane@example.com",
		"tag": ["a", "b"], "note": "typed", "assignees": [{"email": "agent@example.com"}],
		"listing": {"price": 300000}, "source_type": "Website", "extra": {"message": "Call after 5"}}`)
	assertSameJSON(t, "raw", l.Raw, `{"first_name": "Jane", "email": "jane@example.com",
		"tag": ["a", "b"], "assignees[0][email]": "agent@example.com", "listing[price]": "300000",
		"note": "typed", "message": "Call after 5"}`)
}

func TestDecodeLeadsMultipartErrors(t *testing.T) {
	ct, body := multipartBody(t, field("first_name", "Jane"))
	badCT, badBody := multipartBody(t, field("note", "bad \xff byte"))
	twiceCT, twiceBody := multipartBody(t, field("first_name", "A"), field("first_name", "B"))
	tests := []struct {
		name        string
		contentType string
		body        []byte
		parts       []string
	}{
		{"no boundary", "multipart/form-data", body, []string{"no boundary"}},
		{"wrong boundary", "multipart/form-data; boundary=nope", body, []string{"malformed multipart body", `"nope"`}},
		{"empty body", ct, nil, []string{"malformed multipart body"}},
		{"truncated", ct, body[:len(body)-10], []string{"malformed multipart body"}},
		{"invalid UTF-8 in a field", badCT, badBody, []string{`multipart field "note" is not valid UTF-8`}},
		{"type error", twiceCT, twiceBody, []string{`field "first_name": expected a string, got array`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeLeads(tt.contentType, tt.body, 0)
			assertError(t, err, leadwire.EINVALID, tt.parts...)
		})
	}
}

func TestFormPriceAsTyped(t *testing.T) {
	for _, price := range []string{"500000", "500,000", "$500,000", " $ 500,000.00 "} {
		leads, err := DecodeLeads(formType, []byte("note=n&listing[price]="+url.QueryEscape(price)), 0)
		if err != nil {
			t.Fatalf("%q: %v", price, err)
		}
		if got := leads[0].Payload.Listing.Price; got != 500000 {
			t.Errorf("price %q read as %v", price, got)
		}
	}
}

func TestFormBodyThatIsJSON(t *testing.T) {
	_, err := DecodeLeads(formType, []byte(` {"email":"a@example.com"}`), 0)
	assertError(t, err, leadwire.EUNSUPPORTED, "Content-Type: application/json")
}
