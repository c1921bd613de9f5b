package rechat_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/leadwire/leadwire/internal/testserver"
	"github.com/leadwire/leadwire/rechat"
)

// site is a website in front of a real leadwire server, with the form
// handler mounted at /contact.
type site struct {
	api    *testserver.Server
	sdk    *rechat.Sdk
	url    string
	client *http.Client // does not follow redirects
}

func newSite(t *testing.T, ch func(api *testserver.Server) rechat.Channel, ev rechat.FormEvents, edit ...func(*rechat.Settings)) *site {
	t.Helper()
	api := testserver.Start(t)
	sdk := newSdk(t, api.URL, "", edit...)
	mux := http.NewServeMux()
	mux.Handle("/contact", sdk.Leads.Form(ch(api), ev))
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return &site{api: api, sdk: sdk, url: hs.URL, client: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func websiteChannel(api *testserver.Server) rechat.Channel {
	return rechat.Channel{LeadChannel: api.ChannelID}
}

// post submits body to the form handler from page (the Referer).
func (s *site) post(t *testing.T, action, contentType string, body []byte, page string, accept string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.url+action, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if page != "" {
		req.Header.Set("Referer", page)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func trackerCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == rechat.DefaultTrackerCookie {
			return c
		}
	}
	return nil
}

func TestFormURLEncoded(t *testing.T) {
	s := newSite(t, func(api *testserver.Server) rechat.Channel {
		return rechat.Channel{LeadChannel: api.ChannelID, UserID: "explicit-user"}
	}, rechat.FormEvents{})
	page := s.url + "/listings/1?rechat_user_id=page-user&rechat_brand_id=page-brand&rechat_ad_campaign_id=page-ad" +
		"&rechat_email_campaign_id=page-ec&rechat_email_campaign_email_id=page-ece"
	form := url.Values{
		"first_name": {"Jane"}, "email": {"jane@example.com"}, "tag": {"buyer", "vip"},
		"message": {"Is it still available?"}, "interests": {"pool", "garden"},
		"password": {"hunter2"}, "cc-number": {"4111111111111111"}, "card_number": {"4111"},
		"cvc": {"123"}, "cc_exp": {"12/30"}, "expiry": {"12/30"}, "Card-CVV": {"999"},
	}
	resp := s.post(t, "/contact?rechat_brand_id=action-brand", "application/x-www-form-urlencoded",
		[]byte(form.Encode()), page, "text/html")

	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != page {
		t.Errorf("answer %d to %q, want 303 back to the page", resp.StatusCode, resp.Header.Get("Location"))
	}
	lead := leadByEmail(t, s.api, "jane@example.com")
	cookie := trackerCookie(resp)
	if cookie == nil || cookie.Value != lead.ID || cookie.MaxAge != 365*24*3600 || cookie.HttpOnly {
		t.Errorf("tracker cookie = %+v, want the lead id %s readable by scripts", cookie, lead.ID)
	}
	p := lead.Payload
	if p.FirstName != "Jane" || strings.Join(p.Tag, ",") != "buyer,vip" || p.RefererURL != page {
		t.Errorf("payload = %+v", p)
	}
	if p.UserID != "explicit-user" || p.BrandID != "action-brand" || p.AdCampaignID != "page-ad" ||
		p.EmailCampaignID != "page-ec" || p.EmailCampaignEmailID != "page-ece" {
		t.Errorf("attribution = %+v, want explicit user, action-URL brand, page campaigns", p.Attribution)
	}
	if p.Extra["message"] != "Is it still available?" {
		t.Errorf("extra = %v", p.Extra)
	}
	if interests, _ := p.Extra["interests"].([]any); len(interests) != 2 {
		t.Errorf("repeated field interests = %#v, want a list", p.Extra["interests"])
	}
	for _, secret := range []string{"hunter2", "4111", "123", "12/30", "999"} {
		if bytes.Contains(lead.Raw, []byte(secret)) {
			t.Errorf("raw payload carries %q: %s", secret, lead.Raw)
		}
	}
}

func TestFormMultipartJSON(t *testing.T) {
	s := newSite(t, websiteChannel, rechat.FormEvents{})
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("first_name", "Mo")
	mw.WriteField("email", "mo@example.com")
	mw.WriteField("tag", "seller")
	mw.WriteField("tag", "investor")
	mw.WriteField("user_password", "secret-pw")
	fw, _ := mw.CreateFormFile("resume", "resume.txt")
	fw.Write([]byte("file-content-never-sent"))
	mw.Close()

	resp := s.post(t, "/contact", mw.FormDataContentType(), body.Bytes(), s.url+"/", "application/json")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var answer struct {
		Code string               `json:"code"`
		Data rechat.CaptureResult `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		t.Fatal(err)
	}
	lead := leadByEmail(t, s.api, "mo@example.com")
	if answer.Code != "OK" || answer.Data.ID != lead.ID || answer.Data.CreatedAt.IsZero() {
		t.Errorf("answer = %+v, stored lead %s", answer, lead.ID)
	}
	if c := trackerCookie(resp); c == nil || c.Value != lead.ID {
		t.Errorf("tracker cookie = %+v", c)
	}
	if strings.Join(lead.Payload.Tag, ",") != "seller,investor" {
		t.Errorf("tags = %v", lead.Payload.Tag)
	}
	for _, secret := range []string{"secret-pw", "file-content-never-sent", "resume"} {
		if bytes.Contains(lead.Raw, []byte(secret)) {
			t.Errorf("raw payload carries %q: %s", secret, lead.Raw)
		}
	}
}

func TestFormFailures(t *testing.T) {
	requireEmail := rechat.FormEvents{
		Validate: func(r *http.Request, p rechat.Payload) bool { return p.Get("email") != "" },
	}
	tests := []struct {
		name        string
		channel     func(*testserver.Server) rechat.Channel
		events      rechat.FormEvents
		method      string
		contentType string
		body        string
		accept      string
		status      int
		location    string
	}{
		{"validate false", websiteChannel, requireEmail, "POST", "application/x-www-form-urlencoded", "first_name=NoEmail", "", 422, ""},
		{"validate false JSON", websiteChannel, requireEmail, "POST", "application/x-www-form-urlencoded", "first_name=NoEmail", "application/json", 422, ""},
		{"validate false error page", websiteChannel, rechat.FormEvents{Validate: requireEmail.Validate, ErrorURL: "/oops"}, "POST", "application/x-www-form-urlencoded", "first_name=NoEmail", "", 303, "/oops"},
		{"GET", websiteChannel, rechat.FormEvents{}, "GET", "", "", "", 405, ""},
		{"JSON body", websiteChannel, rechat.FormEvents{}, "POST", "application/json", `{"email":"x@example.com"}`, "", 415, ""},
		{"unknown channel", func(*testserver.Server) rechat.Channel {
			return rechat.Channel{LeadChannel: "0193a6f0-0000-7000-8000-000000000000"}
		}, rechat.FormEvents{}, "POST", "application/x-www-form-urlencoded", "email=x@example.com", "application/json", 502, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t, tt.channel, tt.events)
			req, _ := http.NewRequest(tt.method, s.url+"/contact", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.contentType)
			req.Header.Set("Accept", tt.accept)
			resp, err := s.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status || resp.Header.Get("Location") != tt.location {
				t.Errorf("answer %d to %q, want %d to %q", resp.StatusCode, resp.Header.Get("Location"), tt.status, tt.location)
			}
			if tt.accept == "application/json" {
				var e struct{ Code, Message string }
				if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Code == "" || e.Message == "" {
					t.Errorf("JSON error body = %+v, %v", e, err)
				}
			}
			if n := len(s.api.Leads(t)); n != 0 {
				t.Errorf("%d leads stored", n)
			}
			if trackerCookie(resp) != nil {
				t.Error("tracker cookie set on a failure")
			}
		})
	}
}

func TestFormCallbacks(t *testing.T) {
	var gotRes *rechat.CaptureResult
	var gotErr error
	ev := rechat.FormEvents{
		Validate: func(r *http.Request, p rechat.Payload) bool { return p.Get("email") != "" },
		OnSuccess: func(w http.ResponseWriter, r *http.Request, res *rechat.CaptureResult) {
			gotRes = res
			w.Write([]byte("thanks"))
		},
		OnError: func(w http.ResponseWriter, r *http.Request, err error) {
			gotErr = err
			http.Error(w, "sorry", http.StatusTeapot)
		},
	}
	s := newSite(t, websiteChannel, ev)

	resp := s.post(t, "/contact", "application/x-www-form-urlencoded", []byte("email=cb@example.com"), "", "")
	lead := leadByEmail(t, s.api, "cb@example.com")
	if resp.StatusCode != 200 || gotRes == nil || gotRes.ID != lead.ID || trackerCookie(resp) == nil {
		t.Errorf("success: status %d, result %+v", resp.StatusCode, gotRes)
	}
	resp = s.post(t, "/contact", "application/x-www-form-urlencoded", []byte("first_name=x"), "", "")
	if resp.StatusCode != http.StatusTeapot || !errors.Is(gotErr, rechat.ErrFormRejected) {
		t.Errorf("rejection: status %d, err %v", resp.StatusCode, gotErr)
	}
}

func TestFormWithTrackerDisabled(t *testing.T) {
	s := newSite(t, websiteChannel, rechat.FormEvents{SuccessURL: "/thanks"}, func(st *rechat.Settings) { st.DisableTracker = true })
	resp := s.post(t, "/contact", "application/x-www-form-urlencoded", []byte("email=quiet@example.com"), "https://elsewhere.example/", "")
	leadByEmail(t, s.api, "quiet@example.com")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/thanks" || trackerCookie(resp) != nil {
		t.Errorf("answer %d to %q, cookie %v", resp.StatusCode, resp.Header.Get("Location"), trackerCookie(resp))
	}
}

func TestFormNeverRedirectsOffSite(t *testing.T) {
	s := newSite(t, websiteChannel, rechat.FormEvents{})
	resp := s.post(t, "/contact", "application/x-www-form-urlencoded", []byte("email=off@example.com"), "https://evil.example/page", "")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("answer %d to %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestFormDocumentedFields posts every documented lead field of a form
// twice: each must arrive as the lead's field with the first value, not as
// an extra list.
func TestFormDocumentedFields(t *testing.T) {
	s := newSite(t, websiteChannel, rechat.FormEvents{})
	first := map[string]string{
		"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
		"phone_number": "+18189191212", "lead_source": "Zillow", "note": "call after 5",
		"address": "1 Main St", "referer_url": "https://example.com/listing/1", "mlsid": "mls-1",
		"listing_id": "listing-1", "agent_mlsid": "agent-1", "source_type": "Open House",
	}
	form := url.Values{
		"tag": {"buyer"}, "tags": {"vip"}, "assignees": {"agent@example.com", " ", "second@example.com"},
		"budget": {"500k"},
	}
	for name, v := range first {
		form[name] = []string{v, "second " + v}
	}
	s.post(t, "/contact", "application/x-www-form-urlencoded", []byte(form.Encode()), "", "application/json")

	p := leadByEmail(t, s.api, "ada@example.com").Payload
	got := map[string]string{
		"first_name": p.FirstName, "last_name": p.LastName, "email": p.Email,
		"phone_number": p.PhoneNumber, "lead_source": p.LeadSource, "note": p.Note,
		"address": p.Address.Line(), "referer_url": p.RefererURL, "mlsid": p.MLSID,
		"listing_id": p.ListingID, "agent_mlsid": p.AgentMLSID, "source_type": p.SourceType,
	}
	for name, want := range first {
		t.Run(name, func(t *testing.T) {
			if got[name] != want {
				t.Errorf("%s = %q, want %q", name, got[name], want)
			}
			if _, ok := p.Extra[name]; ok {
				t.Errorf("%s also in extra: %v", name, p.Extra[name])
			}
		})
	}
	if strings.Join(p.Tag, ",") != "buyer,vip" {
		t.Errorf("tags = %v", p.Tag)
	}
	if len(p.Assignees) != 2 || p.Assignees[0].Email != "agent@example.com" || p.Assignees[1].Email != "second@example.com" {
		t.Errorf("assignees = %+v", p.Assignees)
	}
	if len(p.Extra) != 1 || p.Extra["budget"] != "500k" {
		t.Errorf("extra = %v", p.Extra)
	}
}
