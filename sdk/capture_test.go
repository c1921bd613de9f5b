package sdk_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/browser"
)

func TestCaptureCreatesLead(t *testing.T) {
	tests := []struct {
		name   string
		before string
	}{
		{"crypto.randomUUID", ""},
		// Pages served over plain http have no crypto.randomUUID.
		{"getRandomValues fallback", `delete Crypto.prototype.randomUUID`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t)
			tab := browser.NewTab(t)
			page := s.page("/", tt.before, "", "")
			navigate(t, tab, page)
			got := settle(t, tab, fmt.Sprintf(`sdk.Leads.capture({lead_channel: %s}, {
				first_name: 'John', last_name: 'Doe', email: 'john-doe@gmail.com', phone_number: '+18189191212',
				tag: ['buyer', 'web'], lead_source: 'Zillow', note: 'call after 5', address: '1 Main St',
				mlsid: 'M1', listing_id: 'L1', agent_mlsid: 'A1', source_type: 'Website',
				assignees: [{email: 'agent@example.com', first_name: 'Ann'}], message: 'hello'})`, jsString(s.server.ChannelID)))
			if got.Error != nil {
				t.Fatalf("capture rejected: %v", got)
			}
			leads := s.waitLeads(1)
			lead := leads[0]
			want := map[string]any{"id": lead.ID, "contact": lead.ContactID, "lead_channel": s.server.ChannelID, "source_type": "Website"}
			for k, v := range want {
				if got.OK[k] != v {
					t.Errorf("resolved %s = %v, want %v", k, got.OK[k], v)
				}
			}
			if created, ok := got.OK["created_at"].(float64); !ok || int64(created) != lead.CreatedAt.Unix() {
				t.Errorf("resolved created_at = %v, want %d", got.OK["created_at"], lead.CreatedAt.Unix())
			}
			p := lead.Payload
			wantPayload := leadwire.Payload{
				FirstName: "John", LastName: "Doe", Email: "john-doe@gmail.com", PhoneNumber: "+18189191212",
				Tag: []string{"buyer", "web"}, LeadSource: "Zillow", Note: "call after 5", Address: &leadwire.Address{Text: "1 Main St"},
				RefererURL: page, MLSID: "M1", ListingID: "L1", AgentMLSID: "A1", SourceType: "Website",
				Assignees: []leadwire.Assignee{{Email: "agent@example.com", FirstName: "Ann"}},
				Extra:     map[string]any{"message": "hello"},
			}
			if !reflect.DeepEqual(p, wantPayload) {
				t.Errorf("stored payload\n%+v\nwant\n%+v", p, wantPayload)
			}
			key := s.header.Get("Idempotency-Key")
			if !isUUID(key) || s.sentWith(key) != 1 {
				t.Errorf("Idempotency-Key %q (sent %d times), want a v4 UUID sent once", key, s.sentWith(key))
			}
		})
	}
}

func TestAttributionFromPageURL(t *testing.T) {
	s := newSite(t)
	other := s.server.NewChannel(t, leadwire.Channel{Name: "Ads"})
	tests := []struct {
		name     string
		query    url.Values
		channel  string // JS object
		lead     string // JS object
		want     leadwire.Attribution
		channel_ string
	}{
		{
			name:     "URL parameters are merged in",
			query:    url.Values{"rechat_user_id": {"u-url"}, "rechat_brand_id": {"b-url"}, "rechat_ad_campaign_id": {"ad-url"}, "rechat_email_campaign_id": {"ec-url"}, "rechat_email_campaign_email_id": {"ece-url"}},
			channel:  fmt.Sprintf(`{lead_channel: %s}`, jsString(s.server.ChannelID)),
			lead:     `{email: 'a@example.com'}`,
			want:     leadwire.Attribution{UserID: "u-url", BrandID: "b-url", AdCampaignID: "ad-url", EmailCampaignID: "ec-url", EmailCampaignEmailID: "ece-url"},
			channel_: s.server.ChannelID,
		},
		{
			name:     "explicit values win",
			query:    url.Values{"rechat_user_id": {"u-url"}, "rechat_ad_campaign_id": {"ad-url"}, "rechat_brand_id": {"b-url"}},
			channel:  fmt.Sprintf(`{lead_channel: %s, ad_campaign_id: 'ad-explicit', user_id: ''}`, jsString(s.server.ChannelID)),
			lead:     `{email: 'b@example.com', brand_id: 'b-lead'}`,
			want:     leadwire.Attribution{UserID: "u-url", BrandID: "b-lead", AdCampaignID: "ad-explicit"},
			channel_: s.server.ChannelID,
		},
		{
			name:     "lead_channel from the URL",
			query:    url.Values{"rechat_lead_channel": {other}},
			channel:  `{}`,
			lead:     `{email: 'c@example.com'}`,
			channel_: other,
		},
		{
			name:     "explicit lead_channel wins over the URL",
			query:    url.Values{"rechat_lead_channel": {other}},
			channel:  fmt.Sprintf(`{lead_channel: %s}`, jsString(s.server.ChannelID)),
			lead:     `{email: 'd@example.com'}`,
			channel_: s.server.ChannelID,
		},
	}
	page := s.page("/", "", "", "")
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := browser.NewTab(t)
			navigate(t, tab, page+"?"+tt.query.Encode())
			if got := settle(t, tab, fmt.Sprintf(`sdk.Leads.capture(%s, %s)`, tt.channel, tt.lead)); got.Error != nil {
				t.Fatalf("capture rejected: %v", got)
			}
			lead := s.waitLeads(i + 1)[i]
			if lead.Payload.Attribution != tt.want {
				t.Errorf("attribution %+v, want %+v", lead.Payload.Attribution, tt.want)
			}
			if lead.ChannelID != tt.channel_ {
				t.Errorf("lead went to channel %s, want %s", lead.ChannelID, tt.channel_)
			}
		})
	}
}

func TestCaptureErrors(t *testing.T) {
	s := newSite(t)
	tests := []struct {
		name     string
		settings string
		channel  string
		fail     int // status of the front's answer; 0 passes the request on
		status   int
		code     string
		message  string // "" accepts any non-empty message
		requests int
	}{
		{"unknown channel", "", jsString(unknownChannel), 0, 404, "not_found", "", 1},
		{"client error", "", jsString(s.server.ChannelID), 422, 422, "failed_422", "the front failed it with 422", 1},
		{"server error without offline sync", "{offline_sync: false}", jsString(s.server.ChannelID), 503, 503, "failed_503", "the front failed it with 503", 1},
		{"missing lead_channel", "", "undefined", 0, 0, "invalid", "lead_channel is required", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := browser.NewTab(t)
			navigate(t, tab, s.page("/"+tt.name, "", tt.settings, ""))
			s.failNext(1, tt.fail)
			before := s.postCount()
			got := settle(t, tab, fmt.Sprintf(`sdk.Leads.capture({lead_channel: %s}, {email: 'x@example.com'})`, tt.channel))
			if got.Error == nil {
				t.Fatalf("capture resolved %v, want a rejection", got)
			}
			if got.Error.Status != tt.status || got.Error.Code != tt.code || got.Error.Message == "" || (tt.message != "" && got.Error.Message != tt.message) {
				t.Errorf("rejected with %+v, want status %d, code %s, message %q", *got.Error, tt.status, tt.code, tt.message)
			}
			if n := s.postCount() - before; n != tt.requests {
				t.Errorf("%d requests sent, want %d", n, tt.requests)
			}
		})
	}
	if n := len(s.leads()); n != 0 {
		t.Errorf("%d leads stored, want none", n)
	}
}

func TestAPIURLSettingWins(t *testing.T) {
	s := newSite(t)
	tab := browser.NewTab(t)
	// The script comes from the front; api_url sends the lead straight to
	// the server behind it.
	navigate(t, tab, s.page("/", "", fmt.Sprintf(`{api_url: %s, sandbox: true}`, jsString(s.server.URL+"/")), ""))
	if got := settle(t, tab, capture(s, "a@example.com")); got.Error != nil {
		t.Fatalf("capture rejected: %v", got)
	}
	s.waitLeads(1)
	if n := s.postCount(); n != 0 {
		t.Errorf("the front got %d requests; api_url should have bypassed it", n)
	}
}

func TestKeepaliveLimitCountsBytes(t *testing.T) {
	s := newSite(t)
	// The page records the keepalive flag of every request.
	const record = `const send = fetch; window.keepalives = []; window.fetch = (url, init) => (keepalives.push(init.keepalive), send(url, init))`
	tests := []struct {
		name      string
		message   string
		keepalive bool
		status    int // 0: the capture resolves with a lead
	}{
		{"small body", "hello", true, 0},
		// 63 KB of UTF-8 in 21 000 characters: under the browser's limit.
		{"multi-byte body under 64 KiB", strings.Repeat("€", 21000), true, 0},
		// 75 KB in 25 000 characters: with keepalive the browser would
		// refuse to send it at all; without, the server answers.
		{"multi-byte body over 64 KiB", strings.Repeat("€", 25000), false, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := browser.NewTab(t)
			navigate(t, tab, s.page("/"+tt.name, record, "", ""))
			got := settle(t, tab, fmt.Sprintf(`sdk.Leads.capture({lead_channel: %s}, {email: 'big@example.com', message: %s})`, jsString(s.server.ChannelID), jsString(tt.message)))
			if tt.status == 0 && (got.Error != nil || got.OK["id"] == nil) {
				t.Errorf("capture settled with %v, want a lead", got)
			}
			if tt.status != 0 && (got.Error == nil || got.Error.Status != tt.status) {
				t.Errorf("capture settled with %v, want the server's %d", got, tt.status)
			}
			if k := eval[[]bool](t, tab, `keepalives`); !reflect.DeepEqual(k, []bool{tt.keepalive}) {
				t.Errorf("keepalive flags %v, want [%v]", k, tt.keepalive)
			}
		})
	}
}

func TestCaptureOutlivesThePage(t *testing.T) {
	s := newSite(t)
	tab := browser.NewTab(t)
	navigate(t, tab, s.page("/", "", "", ""))
	// The next page has no SDK: only the request started here can bring
	// the lead in.
	s.mu.Lock()
	s.pages["/gone"] = `<!doctype html><title>next page</title><p id=next>Thanks`
	s.mu.Unlock()

	// The front holds the capture until the next page shows, then a little
	// longer: a request the browser cancelled with its page has its
	// connection closed by then and is dropped.
	left := make(chan struct{})
	leave := sync.OnceFunc(func() { close(left) })
	t.Cleanup(leave) // a failed test must not hold the request forever
	alive := make(chan bool, 1)
	s.holdPosts(func(r *http.Request) bool {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		select {
		case <-left:
		case <-r.Context().Done():
		}
		select {
		case <-time.After(500 * time.Millisecond):
		case <-r.Context().Done():
		}
		ok := r.Context().Err() == nil
		alive <- ok
		return ok
	})
	eval[chromedp.Void](t, tab, `addEventListener('pagehide', e => localStorage.setItem('kept', e.persisted)); `+capture(s, "leaving@example.com")+`; location.href = '/gone'`)
	if err := chromedp.Do(tab, chromedp.WaitVisible(chromedp.ID("next"))); err != nil {
		t.Fatal(err)
	}
	leave()
	if kept := eval[string](t, tab, `localStorage.getItem('kept')`); kept != "false" {
		t.Fatalf("the page was kept in the back/forward cache (%s), not unloaded", kept)
	}
	if !<-alive {
		t.Fatal("the browser cancelled the capture when the page went away")
	}
	if lead := s.waitLeads(1)[0]; lead.Payload.Email != "leaving@example.com" {
		t.Errorf("stored %q", lead.Payload.Email)
	}
}
