package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/leadwire/leadwire"
)

// checkResult fails unless err is a client error (EINVALID or
// EUNSUPPORTED) or the leads are well formed: at least one, each with a Raw
// that is a JSON object and a payload that marshals.
func checkResult(t *testing.T, leads []*leadwire.Lead, err error) {
	t.Helper()
	if err != nil {
		checkClientError(t, err)
		return
	}
	if len(leads) == 0 {
		t.Fatal("no error and no lead")
	}
	for i, l := range leads {
		if !json.Valid(l.Raw) || !bytes.HasPrefix(l.Raw, []byte("{")) {
			t.Fatalf("lead %d: raw %q is not a JSON object", i, l.Raw)
		}
		if _, err := json.Marshal(l.Payload); err != nil {
			t.Fatalf("lead %d: payload does not marshal: %v", i, err)
		}
	}
}

// checkClientError fails unless err is a *leadwire.Error blaming the
// request.
func checkClientError(t *testing.T, err error) {
	t.Helper()
	var e *leadwire.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *leadwire.Error", err, err)
	}
	if e.Code != leadwire.EINVALID && e.Code != leadwire.EUNSUPPORTED {
		t.Fatalf("error code %q (%s), want invalid or unsupported_media_type", e.Code, e.Message)
	}
}

// jsonSeeds are lead bodies that reach every documented field and type.
var jsonSeeds = []string{
	`{}`,
	`{"first_name":"John","last_name":"Doe","email":"john-doe@gmail.com","phone_number":"+18189191212"}`,
	`{"email":"a@b.co","tag":["buyer","hot"],"tags":"x","lead_source":"Zillow","note":"Call me","address":"1 Main St","referer_url":"https://example.com","mlsid":1234,"listing_id":"L1","agent_mlsid":"A1","source_type":"Website"}`,
	`{"user_id":"u","brand_id":"b","ad_campaign_id":"ad","email_campaign_id":"ec","email_campaign_email_id":"ece","lead_channel":"2c55e69d-adbe-42d9-97a5-bedb43783b80"}`,
	`{"assignees":[{"email":"agent@example.com","phone_number":2145550100,"first_name":"Ann","last_name":"Agent","mls_id":"X9","mls":"NTREIS"}]}`,
	`{"listing":{"id":"l1","price":"450000","mls_number":123,"cover_image_url":"https://example.com/c.jpg","property":{"address":{"street_address":"1 Main","city":"Dallas","state_code":"TX","postal_code":"75201"}}}}`,
	`{"message":"Hi","budget":5e5,"preferred_time":null,"newsletter":true,"pets":["dog",{"cat":1}]}`,
	`{"first_name": 12}`,
	`{"a":[[[[[[]]]]]]}`,
	`[1,2]`,
	`{"note":"\ud83d\ude00 \u00e9"}`,
}

func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range jsonSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		leads, err := DecodeLeads("application/json", body)
		checkResult(t, leads, err)
		if err == nil && len(leads) != 1 {
			t.Fatalf("JSON gave %d leads", len(leads))
		}
	})
}

func FuzzDecodeForm(f *testing.F) {
	for _, seed := range []string{
		``,
		`first_name=John&last_name=Doe&email=john-doe%40gmail.com&phone_number=%2B18189191212`,
		`tag=a&tag=b&tags[]=c&message=Hello+there&budget=1&budget=2`,
		`assignees[0][email]=a%40x.com&assignees[0][mls_id]=M1&assignees[1][email]=b%40x.com`,
		`assignees[][email]=a%40x.com&assignees[][first_name]=Ann&assignees[][email]=b%40x.com`,
		`listing[price]=450000&listing[property][address][city]=Dallas&listing[mls_number]=9`,
		`listing=x&listing[price]=1`,
		`a[b=1&c]d=2&[e]=3&f[g]h=4&flag`,
		`first_name=%zz`,
		`utm[source]=fb&utm[0]=x&utm[]=y`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		leads, err := DecodeLeads(formType, body)
		checkResult(t, leads, err)
	})
}

func FuzzDecodeMultipart(f *testing.F) {
	seeds := [][]multipartPart{
		{},
		{field("first_name", "Jane"), field("email", "jane@example.com"), field("tag", "a"), field("tag", "b")},
		{field("assignees[0][email]", "a@x.com"), field("listing[price]", "300000"), field("message", "Hi")},
		{field("first_name", "Jane"), filePart("resume", "cv.pdf", "application/pdf", "%PDF-1.4 \xff\xfe")},
		{filePart("empty", "", "", ""), field("note", "n")},
	}
	for _, parts := range seeds {
		_, body := multipartBody(f, parts...)
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		leads, err := DecodeLeads("multipart/form-data; boundary="+testBoundary, body)
		checkResult(t, leads, err)
	})
}

func FuzzDecodeXML(f *testing.F) {
	for _, seed := range []string{
		leadListXML,
		`<Lead><Contact><Email>a@b.co</Email></Contact></Lead>`,
		`<Lead><Contact><PhoneList><Phone>+12145550100</Phone><Phone>1</Phone></PhoneList></Contact><Tags>solo</Tags></Lead>`,
		`<l:LeadList xmlns:l="urn:x"><l:Lead id="1"><Budget currency="USD">5</Budget></l:Lead></l:LeadList>`,
		`<LeadList><Lead/><Lead><Note><p>x</p></Note></Lead></LeadList>`,
		billionLaughs,
		`<Lead>text<a>1</a>more</Lead>`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		leads, err := DecodeLeads("application/xml", body)
		checkResult(t, leads, err)
		if err == nil && len(leads) > MaxLeads {
			t.Fatalf("%d leads", len(leads))
		}
	})
}

// activitySeeds are timeline bodies with their content types: every
// activity field, and bodies refused for their action or content type.
var activitySeeds = []struct{ contentType, body string }{
	{"application/json", `{"action":"ContactViewedListing","listing":{"id":"l1","mls_number":"123","price":450000,"property":{"beds":3}},"notes":"n"}`},
	{"text/plain;charset=UTF-8", `{"action":"ContactSearchedListings","search":{"url":"https://example.com/s","minimum_price":1,"property_types":["Condo"],"postal_codes":[75201],"pool":true}}`},
	{"application/json", `{"action":"ContactSignedUp"}`},
	{"application/json", `{"action":"bad action"}`},
	{"application/xml", `<a/>`},
	{"", `{}`},
}

func FuzzDecodeActivity(f *testing.F) {
	for _, seed := range activitySeeds {
		f.Add(seed.contentType, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		a, err := DecodeActivity(contentType, body)
		if err != nil {
			checkClientError(t, err)
			return
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("decoded activity does not validate: %v", err)
		}
		if _, err := json.Marshal(NewActivityDoc(a)); err != nil {
			t.Fatalf("activity does not marshal: %v", err)
		}
	})
}
