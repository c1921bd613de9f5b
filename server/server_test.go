package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/testserver"
)

// answer is a decoded API response.
type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func (a answer) data() map[string]any { d, _ := a.body["data"].(map[string]any); return d }

func do(t *testing.T, method, url, contentType, body string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: res.StatusCode, header: res.Header}
	if len(raw) > 0 && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			t.Fatalf("%s %s: answer is not a JSON object: %v\n%s", method, url, err, raw)
		}
	}
	return a
}

func webhook(s *testserver.Server, channel string) string {
	return s.URL + "/leads/channels/" + channel + "/webhook"
}

const fullLead = `{
	"first_name": " John ", "last_name": "Doe", "email": "John-Doe@Gmail.com",
	"phone_number": "(818) 919-1212", "tag": ["buyer", "hot"], "lead_source": "Zillow",
	"note": "Call after 5", "address": "1 Main St, Dallas, TX 75201",
	"referer_url": "https://example.com/listing/1", "mlsid": "M1", "listing_id": "L1",
	"agent_mlsid": "A1", "source_type": "Open House",
	"assignees": [{"email": "agent@example.com", "phone_number": "+12145550100", "first_name": "Ann",
		"last_name": "Agent", "mls_id": "AG1", "mls": "NTREIS"}],
	"listing": {"price": 1250000, "mls_number": "1841395151", "cover_image_url": "https://example.com/c.jpg",
		"property": {"address": {"street_address": "1 Main St", "city": "Dallas", "state_code": "TX", "postal_code": "75201"}}},
	"user_id": "u1", "brand_id": "b1", "ad_campaign_id": "ad1", "email_campaign_id": "ec1",
	"email_campaign_email_id": "ece1",
	"message": "Is it still available?", "budget": "500k"
}`

func TestCaptureEveryField(t *testing.T) {
	s := testserver.Start(t)
	a := do(t, "POST", webhook(s, s.ChannelID), "application/json", fullLead)
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %v", a.status, a.body)
	}
	if a.body["code"] != "OK" {
		t.Errorf("code = %v, want OK", a.body["code"])
	}
	d := a.data()
	var keys []string
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"contact", "created_at", "id", "lead_channel", "parsed_payload", "raw_payload", "source_type"}
	if !slices.Equal(keys, want) {
		t.Errorf("data keys = %v, want %v", keys, want)
	}
	if d["lead_channel"] != s.ChannelID || d["source_type"] != "Open House" {
		t.Errorf("lead_channel/source_type = %v/%v", d["lead_channel"], d["source_type"])
	}
	if _, ok := d["created_at"].(float64); !ok {
		t.Errorf("created_at = %#v, want a number", d["created_at"])
	}
	raw := d["raw_payload"].(map[string]any)
	if raw["first_name"] != " John " || raw["phone_number"] != "(818) 919-1212" || raw["message"] != "Is it still available?" {
		t.Errorf("raw_payload not as received: %v", raw)
	}

	leads := s.Leads(t)
	if len(leads) != 1 {
		t.Fatalf("%d leads stored, want 1", len(leads))
	}
	l := leads[0]
	if l.ID != d["id"] || l.ContactID != d["contact"] {
		t.Errorf("stored lead %s/%s, answered %v/%v", l.ID, l.ContactID, d["id"], d["contact"])
	}
	p := l.Payload
	checks := map[string][2]string{
		"first_name":              {p.FirstName, "John"},
		"last_name":               {p.LastName, "Doe"},
		"email":                   {p.Email, "John-Doe@Gmail.com"},
		"phone_number":            {p.PhoneNumber, "+18189191212"},
		"phone_number_original":   {p.PhoneNumberOriginal, "(818) 919-1212"},
		"lead_source":             {p.LeadSource, "Zillow"},
		"note":                    {p.Note, "Call after 5"},
		"address":                 {p.Address.Line(), "1 Main St, Dallas, TX 75201"},
		"referer_url":             {p.RefererURL, "https://example.com/listing/1"},
		"mlsid":                   {p.MLSID, "M1"},
		"listing_id":              {p.ListingID, "L1"},
		"agent_mlsid":             {p.AgentMLSID, "A1"},
		"source_type":             {p.SourceType, "Open House"},
		"user_id":                 {p.UserID, "u1"},
		"brand_id":                {p.BrandID, "b1"},
		"ad_campaign_id":          {p.AdCampaignID, "ad1"},
		"email_campaign_id":       {p.EmailCampaignID, "ec1"},
		"email_campaign_email_id": {p.EmailCampaignEmailID, "ece1"},
		"tags":                    {strings.Join(p.Tag, ","), "buyer,hot"},
		"extra.message":           {str(p.Extra["message"]), "Is it still available?"},
		"extra.budget":            {str(p.Extra["budget"]), "500k"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	wantAssignee := leadwire.Assignee{Email: "agent@example.com", PhoneNumber: "+12145550100",
		FirstName: "Ann", LastName: "Agent", MLSID: "AG1", MLS: "NTREIS"}
	if len(p.Assignees) != 1 || p.Assignees[0] != wantAssignee {
		t.Errorf("assignees = %+v", p.Assignees)
	}
	if p.Listing == nil || p.Listing.Price != 1250000 || p.Listing.MLSNumber != "1841395151" ||
		p.Listing.Property["address"].(map[string]any)["city"] != "Dallas" {
		t.Errorf("listing = %+v", p.Listing)
	}
}

func str(v any) string { s, _ := v.(string); return s }

func TestCaptureContentTypes(t *testing.T) {
	s := testserver.Start(t)
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.WriteField("first_name", "Multi")
	mw.WriteField("tag", "a")
	mw.WriteField("tag", "b")
	fw, _ := mw.CreateFormFile("resume", "cv.pdf")
	fw.Write([]byte("%PDF-1.4 binary"))
	mw.Close()

	tests := []struct {
		name, contentType, body string
		wantFirst               []string // first names of the leads answered, in order
		wantTags                []string
	}{
		{"json", "application/json", `{"first_name":"Json","tags":"solo"}`, []string{"Json"}, []string{"solo"}},
		{"json with charset", "application/json; charset=utf-8", `{"first_name":"Charset"}`, []string{"Charset"}, nil},
		{"beacon text/plain", "text/plain;charset=UTF-8", `{"first_name":"Beacon"}`, []string{"Beacon"}, nil},
		{"urlencoded", "application/x-www-form-urlencoded", "first_name=Form&tag=x&tag=y&budget=9", []string{"Form"}, []string{"x", "y"}},
		{"multipart", mw.FormDataContentType(), mp.String(), []string{"Multi"}, []string{"a", "b"}},
		{"xml lead list", "application/xml", `<?xml version="1.0"?><LeadList>
			<Lead><Contact><Name><First>Xml</First><Last>One</Last></Name><Email>x1@example.com</Email>
			<PhoneList><Phone><Number>214-555-0101</Number></Phone></PhoneList></Contact>
			<Note>Hi</Note><LeadSource>IDX</LeadSource><ListingNumber>123</ListingNumber><ListingAgentMLSID>AG</ListingAgentMLSID></Lead>
			<Lead><Contact><Name><First>Xml2</First></Name><Email>x2@example.com</Email></Contact></Lead>
			</LeadList>`, []string{"Xml", "Xml2"}, nil},
		{"text/xml", "text/xml", `<LeadList><Lead><Contact><Name><First>TextXml</First></Name></Contact></Lead></LeadList>`, []string{"TextXml"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", webhook(s, s.ChannelID), strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.contentType)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body struct {
				Code string          `json:"code"`
				Data json.RawMessage `json:"data"`
			}
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != 200 {
				t.Fatalf("status %d, %v, %+v", res.StatusCode, err, body)
			}
			var docs []map[string]any
			if len(tt.wantFirst) == 1 {
				var d map[string]any
				json.Unmarshal(body.Data, &d)
				docs = append(docs, d)
			} else if err := json.Unmarshal(body.Data, &docs); err != nil {
				t.Fatalf("several leads should answer an array: %s", body.Data)
			}
			var got []string
			for _, d := range docs {
				got = append(got, d["parsed_payload"].(map[string]any)["first_name"].(string))
			}
			if !slices.Equal(got, tt.wantFirst) {
				t.Errorf("first names = %v, want %v", got, tt.wantFirst)
			}
			stored := s.Leads(t)[0]
			if tt.wantTags != nil && !slices.Equal(stored.Payload.Tag, tt.wantTags) {
				t.Errorf("tags = %v, want %v", stored.Payload.Tag, tt.wantTags)
			}
		})
	}
	// The XML lead's fields land where an IDX service put them.
	for _, l := range s.Leads(t) {
		if l.Payload.FirstName == "Xml" {
			p := l.Payload
			if p.LastName != "One" || p.Email != "x1@example.com" || p.PhoneNumber != "+12145550101" ||
				p.Note != "Hi" || p.LeadSource != "IDX" || p.ListingID != "123" || p.AgentMLSID != "AG" {
				t.Errorf("xml lead = %+v", p)
			}
		}
		if l.Payload.FirstName == "Form" && str(l.Payload.Extra["budget"]) != "9" {
			t.Errorf("form extra = %v", l.Payload.Extra)
		}
		if l.Payload.FirstName == "Multi" && l.Payload.Extra["resume"] != nil {
			t.Errorf("a file part was stored: %v", l.Payload.Extra)
		}
	}
}

func TestContactMatching(t *testing.T) {
	s := testserver.Start(t)
	other := s.NewChannel(t, leadwire.Channel{Name: "Other brand", BrandID: "brand-2"})
	capture := func(channel, body string) (lead, contact string) {
		t.Helper()
		a := do(t, "POST", webhook(s, channel), "application/json", body)
		if a.status != 200 {
			t.Fatalf("status %d: %v", a.status, a.body)
		}
		return a.data()["id"].(string), a.data()["contact"].(string)
	}
	_, first := capture(s.ChannelID, `{"first_name":"Jane","email":"jane@example.com","phone_number":"214-555-0199"}`)
	_, sameEmail := capture(s.ChannelID, `{"email":"  JANE@Example.COM ","last_name":"Roe"}`)
	_, samePhone := capture(s.ChannelID, `{"phone_number":"+1 (214) 555 0199"}`)
	_, stranger := capture(s.ChannelID, `{"email":"someone@example.com"}`)
	_, otherBrand := capture(other, `{"email":"jane@example.com"}`)
	if sameEmail != first || samePhone != first {
		t.Errorf("same person got contacts %s, %s, %s", first, sameEmail, samePhone)
	}
	if stranger == first || otherBrand == first {
		t.Errorf("different person or brand joined contact %s", first)
	}
	c, err := s.Store.FindContactByID(t.Context(), first)
	if err != nil {
		t.Fatal(err)
	}
	if c.FirstName != "Jane" || c.LastName != "Roe" || c.PhoneNumber != "+12145550199" {
		t.Errorf("contact not updated with newer values: %+v", c)
	}
}

func TestIdempotencyKey(t *testing.T) {
	s := testserver.Start(t)
	body := `{"email":"once@example.com"}`
	first := do(t, "POST", webhook(s, s.ChannelID), "application/json", body, "Idempotency-Key", "k-1")
	again := do(t, "POST", webhook(s, s.ChannelID), "application/json", body, "Idempotency-Key", "k-1")
	if first.status != 200 || again.status != 200 {
		t.Fatalf("statuses %d, %d", first.status, again.status)
	}
	if first.data()["id"] != again.data()["id"] || first.data()["created_at"] != again.data()["created_at"] {
		t.Errorf("repeat answered another lead: %v vs %v", first.data(), again.data())
	}
	conflict := do(t, "POST", webhook(s, s.ChannelID), "application/json", `{"email":"other@example.com"}`, "Idempotency-Key", "k-1")
	if conflict.status != http.StatusConflict || conflict.body["code"] != "conflict" {
		t.Errorf("reuse with another body: %d %v", conflict.status, conflict.body)
	}
	other := do(t, "POST", webhook(s, s.ChannelID), "application/json", body, "Idempotency-Key", "k-2")
	if other.data()["id"] == first.data()["id"] {
		t.Error("another key answered the same lead")
	}
	if n := len(s.Leads(t)); n != 2 {
		t.Errorf("%d leads stored, want 2", n)
	}
}

func TestErrors(t *testing.T) {
	s := testserver.Start(t)
	a := do(t, "POST", webhook(s, s.ChannelID), "application/json", `{"email":"a@example.com"}`)
	leadID := a.data()["id"].(string)
	tests := []struct {
		name, method, path, contentType, body string
		status                                int
		code, inMessage                       string
	}{
		{"malformed json", "POST", "/leads/channels/" + s.ChannelID + "/webhook", "application/json", `{"first_name": }`, 400, "invalid", "byte"},
		{"wrong field type", "POST", "/leads/channels/" + s.ChannelID + "/webhook", "application/json", `{"first_name": {"a":1}}`, 400, "invalid", "first_name"},
		{"not an object", "POST", "/leads/channels/" + s.ChannelID + "/webhook", "application/json", `[1,2]`, 400, "invalid", ""},
		{"unknown channel", "POST", "/leads/channels/2c55e69d-adbe-42d9-97a5-bedb43783b80/webhook", "application/json", `{}`, 404, "not_found", "channel"},
		{"malformed channel id", "POST", "/leads/channels/not-a-uuid/webhook", "application/json", `{}`, 404, "not_found", "channel"},
		{"wrong method", "GET", "/leads/channels/" + s.ChannelID + "/webhook", "", "", 405, "method_not_allowed", "POST"},
		{"too large", "POST", "/leads/channels/" + s.ChannelID + "/webhook", "application/json", `{"note":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "too_large", "65536"},
		{"unsupported type", "POST", "/leads/channels/" + s.ChannelID + "/webhook", "image/png", "\x89PNG", 415, "unsupported_media_type", "image/png"},
		{"no content type", "POST", "/leads/channels/" + s.ChannelID + "/webhook", "", `{}`, 415, "unsupported_media_type", ""},
		{"xml entity attack", "POST", "/leads/channels/" + s.ChannelID + "/webhook", "application/xml", `<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><LeadList><Lead><Note>&b;</Note></Lead></LeadList>`, 400, "invalid", ""},
		{"idempotency key too long", "POST", "/leads/channels/" + s.ChannelID + "/webhook", "application/json", `{}`, 400, "invalid", "Idempotency-Key"},
		{"timeline unknown lead", "POST", "/leads/0193a6f0-0000-7000-8000-000000000000/timeline", "application/json", `{"action":"ContactSignedUp"}`, 404, "not_found", "lead"},
		{"timeline malformed lead id", "POST", "/leads/nope/timeline", "application/json", `{"action":"ContactSignedUp"}`, 404, "not_found", "lead"},
		{"timeline missing action", "POST", "/leads/" + leadID + "/timeline", "application/json", `{"notes":"x"}`, 400, "invalid", "action"},
		{"timeline bad action", "POST", "/leads/" + leadID + "/timeline", "application/json", `{"action":"drop table;"}`, 400, "invalid", "action"},
		{"timeline wrong type", "POST", "/leads/" + leadID + "/timeline", "application/xml", `<a/>`, 415, "unsupported_media_type", ""},
		{"unknown route", "GET", "/nope", "", "", 404, "not_found", "/nope"},
		{"empty channel id", "POST", "/leads/channels//webhook", "application/json", `{}`, 404, "not_found", "/leads/channels//webhook"},
		{"dot segment", "POST", "/leads/channels/./webhook", "application/json", `{}`, 404, "not_found", ""},
		{"unknown SDK file", "GET", "/sdk/other.js", "", "", 404, "not_found", "rechat.min.js"},
		{"SDK source", "GET", "/sdk/src/index.js", "", "", 404, "not_found", ""},
		{"SDK file by POST", "POST", "/sdk/rechat.min.js", "text/plain", "", 405, "method_not_allowed", "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var header []string
			if tt.name == "idempotency key too long" {
				header = []string{"Idempotency-Key", strings.Repeat("k", 300)}
			}
			a := do(t, tt.method, s.URL+tt.path, tt.contentType, tt.body, header...)
			if a.status != tt.status || a.body["code"] != tt.code {
				t.Fatalf("got %d %v, want %d %s", a.status, a.body, tt.status, tt.code)
			}
			msg, _ := a.body["message"].(string)
			if msg == "" || !strings.Contains(msg, tt.inMessage) {
				t.Errorf("message %q should mention %q", msg, tt.inMessage)
			}
		})
	}
	if n := len(s.Leads(t)); n != 1 {
		t.Errorf("%d leads stored after bad requests, want 1", n)
	}
}

func TestTimeline(t *testing.T) {
	s := testserver.Start(t)
	id := do(t, "POST", webhook(s, s.ChannelID), "application/json", `{"email":"t@example.com"}`).data()["id"].(string)
	a := do(t, "POST", s.URL+"/leads/"+id+"/timeline", "text/plain", `{"action":"ContactViewedListing",
		"listing":{"mls_number":"1841395151","price":1250000},"notes":"from the map"}`, "Origin", "https://site.example")
	if a.status != 200 || a.data()["action"] != "ContactViewedListing" {
		t.Fatalf("%d %v", a.status, a.body)
	}
	if a.header.Get("Access-Control-Allow-Origin") != "https://site.example" {
		t.Errorf("timeline CORS header = %q", a.header.Get("Access-Control-Allow-Origin"))
	}
	// A tracking event re-sent with its key (after a lost answer) is stored once.
	search := `{"action":"ContactCreatedSearch","search":{"title":"Dallas","minimum_bedrooms":3,"postal_codes":["75201"]}}`
	sent := do(t, "POST", s.URL+"/leads/"+id+"/timeline", "application/json", search, "Idempotency-Key", "event-7")
	resent := do(t, "POST", s.URL+"/leads/"+id+"/timeline", "application/json", search, "Idempotency-Key", "event-7")
	if sent.status != 200 || resent.status != 200 || sent.data()["id"] != resent.data()["id"] {
		t.Errorf("re-sent event: %v then %v", sent.body, resent.body)
	}
	tl := s.Leads(t)[0].Timeline
	if len(tl) != 2 || tl[0].Action != "ContactViewedListing" || tl[0].Listing.MLSNumber != "1841395151" ||
		tl[0].Notes != "from the map" || tl[1].Search.Title != "Dallas" || tl[1].Search.MinimumBedrooms != 3 {
		t.Errorf("timeline = %+v", tl)
	}
}

func TestCORS(t *testing.T) {
	s := testserver.Start(t)
	locked := s.NewChannel(t, leadwire.Channel{Name: "Locked", AllowedOrigins: []string{"https://mysite.example"}})
	tests := []struct {
		name, method, channel, origin string
		status                        int
	}{
		{"open channel preflight", "OPTIONS", s.ChannelID, "https://anyone.example", 204},
		{"open channel post", "POST", s.ChannelID, "https://anyone.example", 200},
		{"locked channel allowed preflight", "OPTIONS", locked, "https://mysite.example", 204},
		{"locked channel allowed post", "POST", locked, "https://mysite.example", 200},
		{"locked channel other preflight", "OPTIONS", locked, "https://evil.example", 204}, // the POST is refused, readably
		{"locked channel other post", "POST", locked, "https://evil.example", 403},
		{"locked channel without origin", "POST", locked, "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := []string{"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type,idempotency-key"}
			if tt.origin != "" {
				header = append(header, "Origin", tt.origin)
			}
			a := do(t, tt.method, webhook(s, tt.channel), "application/json", `{"email":"c@example.com"}`, header...)
			if a.status != tt.status {
				t.Fatalf("status %d %v, want %d", a.status, a.body, tt.status)
			}
			if tt.origin != "" && a.header.Get("Access-Control-Allow-Origin") != tt.origin {
				t.Errorf("Access-Control-Allow-Origin = %q", a.header.Get("Access-Control-Allow-Origin"))
			}
			if tt.status == 204 {
				h := a.header
				if !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Idempotency-Key") ||
					!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") ||
					h.Get("Access-Control-Max-Age") == "" || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
					t.Errorf("preflight headers = %v", h)
				}
			}
		})
	}
}

func TestHealthzAndOpenAPI(t *testing.T) {
	s := testserver.Start(t)
	<-s.Store.Ready() // starting, /healthz answers 503
	if a := do(t, "GET", s.URL+"/healthz", "", ""); a.status != 200 {
		t.Errorf("healthz %d", a.status)
	}
	res, err := http.Get(s.URL + "/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	doc, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !bytes.HasPrefix(doc, []byte("openapi: 3")) {
		t.Errorf("openapi.yaml: %d %.40q", res.StatusCode, doc)
	}
}
