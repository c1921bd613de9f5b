package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/leadwire/leadwire/internal/testserver"
	"github.com/leadwire/leadwire/rechat"
)

// TestSite runs the site against a real leadwire server the way its
// command line does, and walks through a visit: a listing, the contact
// form, another listing.
func TestSite(t *testing.T) {
	api := testserver.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan string, 1)
	done := make(chan error, 1)
	env := map[string]string{"LEADWIRE_CHANNEL": api.ChannelID, "LEADWIRE_OUTBOX": t.TempDir()}
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-api", api.URL}, func(k string) string { return env[k] }, io.Discard, listening)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	var base string
	select {
	case base = <-listening:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("the site did not start")
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	page := func(path string) string {
		t.Helper()
		resp, err := browser.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		return string(b)
	}
	submit := func(form url.Values) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/contact", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Referer", base+"/listings/1841395151?rechat_ad_campaign_id=spring")
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	if body := page("/"); !strings.Contains(body, `href="/listings/1841395151"`) {
		t.Fatalf("index lists no listing:\n%s", body)
	}
	if body := page("/listings/1841395151"); !strings.Contains(body, `action="/contact"`) {
		t.Fatalf("listing page has no contact form:\n%s", body)
	}

	resp, body := submit(url.Values{"mlsid": {"1841395151"}, "first_name": {"Ada"}})
	if resp.Request.URL.Path != "/listings/1841395151" || !strings.Contains(body, "email address or a phone number") {
		t.Errorf("a form without email or phone ended on %s:\n%s", resp.Request.URL, body)
	}
	if n := len(api.Leads(t)); n != 0 {
		t.Fatalf("%d leads stored from a rejected form", n)
	}

	resp, _ = submit(url.Values{
		"mlsid": {"1841395151"}, "lead_source": {"Listing page"}, "first_name": {"Ada"},
		"email": {"ada@example.com"}, "note": {"Can I see it Saturday?"}, "tag": {"buyer", "pre-approved"},
	})
	if resp.Request.URL.Path != "/thanks" {
		t.Errorf("form ended on %s, want /thanks", resp.Request.URL)
	}
	leads := api.Leads(t)
	if len(leads) != 1 {
		t.Fatalf("%d leads stored, want 1", len(leads))
	}
	p := leads[0].Payload
	if p.Email != "ada@example.com" || p.MLSID != "1841395151" || p.AdCampaignID != "spring" || len(p.Tag) != 2 || p.Note != "Can I see it Saturday?" {
		t.Errorf("stored lead = %+v", p)
	}

	page("/listings/1841395177")
	timeline := api.Leads(t)[0].Timeline
	if len(timeline) != 1 || timeline[0].Action != rechat.ContactViewedListing || timeline[0].Listing == nil || timeline[0].Listing.MLSNumber != "1841395177" {
		t.Fatalf("timeline = %+v, want one view of 1841395177", timeline)
	}
	if got := timeline[0].Listing.URL; got != base+"/listings/1841395177" {
		t.Errorf("viewed listing URL = %q", got)
	}
}

func TestRunNeedsChannel(t *testing.T) {
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0"}, func(string) string { return "" }, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "-channel") {
		t.Errorf("err = %v", err)
	}
}
