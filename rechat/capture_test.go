package rechat_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/testserver"
	"github.com/leadwire/leadwire/rechat"
)

func TestCaptureSendsEveryField(t *testing.T) {
	s := testserver.Start(t)
	rc, url := startRecorder(t, s)
	sdk := newSdk(t, url, "")
	ch := rechat.Channel{
		LeadChannel: s.ChannelID, UserID: "user-1", BrandID: "brand-1",
		AdCampaignID: "ad-1", EmailCampaignID: "ec-1", EmailCampaignEmailID: "ece-1",
	}
	lead := rechat.Lead{
		FirstName: "John", LastName: "Doe", Email: "john-doe@gmail.com",
		PhoneNumber: "+18189191212", Tag: []string{"buyer", "vip"},
		LeadSource: "Zillow", Note: "call after 5", Address: "1 Main St",
		RefererURL: "https://example.com/listing/1", MLSID: "mls-1",
		ListingID: "listing-1", AgentMLSID: "agent-1", SourceType: "Open House",
		Assignees: []rechat.Assignee{{Email: "agent@example.com", PhoneNumber: "+12145550100",
			FirstName: "Ann", LastName: "Agent", MLSID: "a-1", MLS: "NTREIS"}},
		Listing: &rechat.Listing{MLSNumber: "1841395151", Price: 1250000, CoverImageURL: "https://example.com/c.jpg",
			Property: map[string]any{"address": map[string]any{"city": "Dallas"}}},
		Extra: map[string]any{"budget": "500k", "email": "ignored@example.com"},
	}
	start := time.Now()
	res, err := sdk.Leads.Capture(context.Background(), ch, lead)
	if err != nil {
		t.Fatal(err)
	}
	if res.Queued || res.ID == "" || res.Contact == "" || res.LeadChannel != s.ChannelID || res.SourceType != "Open House" {
		t.Errorf("result = %+v", res)
	}
	if res.CreatedAt.Before(start.Add(-time.Minute)) || res.CreatedAt.After(time.Now().Add(time.Minute)) {
		t.Errorf("created_at = %v, captured at %v", res.CreatedAt, start)
	}
	keys := rc.Keys()
	if len(keys) != 1 || keys[0] == "" {
		t.Errorf("Idempotency-Key headers = %q", keys)
	}

	stored := leadByEmail(t, s, "john-doe@gmail.com")
	if stored.ID != res.ID {
		t.Errorf("stored id %s, result id %s", stored.ID, res.ID)
	}
	p := stored.Payload
	want := leadwire.Payload{
		FirstName: "John", LastName: "Doe", Email: "john-doe@gmail.com",
		PhoneNumber: "+18189191212", Tag: []string{"buyer", "vip"},
		LeadSource: "Zillow", Note: "call after 5", Address: &leadwire.Address{Text: "1 Main St"},
		RefererURL: "https://example.com/listing/1", MLSID: "mls-1",
		ListingID: "listing-1", AgentMLSID: "agent-1", SourceType: "Open House",
		Assignees: []leadwire.Assignee{{Email: "agent@example.com", PhoneNumber: "+12145550100",
			FirstName: "Ann", LastName: "Agent", MLSID: "a-1", MLS: "NTREIS"}},
		Listing: &leadwire.Listing{MLSNumber: "1841395151", Price: 1250000, CoverImageURL: "https://example.com/c.jpg",
			Property: map[string]any{"address": map[string]any{"city": "Dallas"}}},
		Attribution: leadwire.Attribution{UserID: "user-1", BrandID: "brand-1",
			AdCampaignID: "ad-1", EmailCampaignID: "ec-1", EmailCampaignEmailID: "ece-1"},
		Extra: map[string]any{"budget": "500k"},
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("stored payload\n got %+v\nwant %+v", p, want)
	}
}

func TestCaptureErrors(t *testing.T) {
	s := testserver.Start(t)
	rc, url := startRecorder(t, s)
	sdk := newSdk(t, url, "")
	ctx := context.Background()

	if _, err := sdk.Leads.Capture(ctx, rechat.Channel{}, rechat.Lead{Email: "a@example.com"}); !errors.Is(err, rechat.ErrMissingLeadChannel) {
		t.Errorf("no lead channel: err = %v", err)
	}
	if n := len(rc.Keys()); n != 0 {
		t.Errorf("%d requests sent for a channel-less capture", n)
	}

	tests := []struct {
		name    string
		channel string
		lead    rechat.Lead
		status  int
		code    string
	}{
		{"unknown channel", "0193a6f0-0000-7000-8000-000000000000", rechat.Lead{Email: "a@example.com"}, 404, "not_found"},
		{"malformed channel", "not-a-channel", rechat.Lead{Email: "a@example.com"}, 404, "not_found"},
		{"bad extra", s.ChannelID, rechat.Lead{Extra: map[string]any{"tag": map[string]any{"x": 1}}}, 400, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := sdk.Leads.Capture(ctx, rechat.Channel{LeadChannel: tt.channel}, tt.lead)
			var apiErr *rechat.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v (result %+v), want an *APIError", err, res)
			}
			if apiErr.Status != tt.status || apiErr.Code != tt.code || apiErr.Message == "" || apiErr.Temporary() {
				t.Errorf("APIError = %+v, want status %d code %s", apiErr, tt.status, tt.code)
			}
		})
	}
	if p, err := sdk.Leads.Pending(); err != nil || len(p) != 0 {
		t.Errorf("refused captures were queued: %v %v", p, err)
	}
}

func TestCaptureOverloadedAPIError(t *testing.T) {
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
		json.NewEncoder(w).Encode(map[string]string{"code": "rate_limited", "message": "slow down"})
	}))
	defer busy.Close()
	sdk := newSdk(t, busy.URL, "", func(s *rechat.Settings) { s.DisableOfflineSync = true })
	_, err := sdk.Leads.Capture(context.Background(), rechat.Channel{LeadChannel: "c"}, rechat.Lead{})
	var apiErr *rechat.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 429 || apiErr.Code != "rate_limited" || !apiErr.Temporary() || apiErr.RetryAfter != 7*time.Second {
		t.Fatalf("err = %#v", err)
	}
}

func TestCaptureResultJSON(t *testing.T) {
	var res rechat.CaptureResult
	in := `{"id":"l1","contact":"c1","lead_channel":"ch","source_type":"Website","created_at":1752247298.819}`
	if err := json.Unmarshal([]byte(in), &res); err != nil {
		t.Fatal(err)
	}
	if got := res.CreatedAt.UnixMilli(); got != 1752247298819 {
		t.Errorf("created_at = %d ms", got)
	}
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	json.Unmarshal(out, &back)
	if back["created_at"] != 1752247298.819 || back["id"] != "l1" {
		t.Errorf("marshaled = %s", out)
	}
}

func TestNewSdkSettings(t *testing.T) {
	tests := []struct {
		name    string
		s       rechat.Settings
		wantErr bool
	}{
		{"defaults", rechat.Settings{DisableOfflineSync: true}, false},
		{"sandbox", rechat.Settings{Sandbox: true, DisableOfflineSync: true}, false},
		{"not a URL", rechat.Settings{APIURL: "ftp://x", DisableOfflineSync: true}, true},
		{"no host", rechat.Settings{APIURL: "http://", DisableOfflineSync: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sdk, err := rechat.NewSdk(tt.s)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if sdk != nil {
				sdk.Close(context.Background())
			}
		})
	}
}
