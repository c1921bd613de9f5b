package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/leadwire/leadwire"
)

// spamCases test screening's side of the store: sources, quarantined
// leads, their deletion, and the channels' settings.
var spamCases = []storeCase{
	{"Quarantine", testQuarantine},
	{"DeleteSpam", testDeleteSpam},
	{"UpdateChannel", testUpdateChannel},
}

var visitor = leadwire.Source{Address: "203.0.113.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", Origin: "https://homes.example"}

// captureSpam stores one lead as screening quarantines it.
func captureSpam(t *testing.T, s Store, ch *leadwire.Channel, p leadwire.Payload, reasons ...string) *leadwire.Lead {
	t.Helper()
	leads, _, err := s.CaptureLeads(context.Background(), &leadwire.Capture{
		ChannelID: ch.ID, Source: visitor,
		Leads: []*leadwire.Lead{{Payload: p, Raw: rawOf(t, p), Status: leadwire.StatusSpam, SpamReasons: reasons}},
	})
	if err != nil || len(leads) != 1 {
		t.Fatalf("CaptureLeads of spam = %d leads, %v", len(leads), err)
	}
	return leads[0]
}

func testQuarantine(t *testing.T, open Open) {
	s := openClock(t, open)
	ctx := as(owner)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	known := capture(t, s, ch, leadwire.Payload{Email: "ann@example.com"})

	spam := captureSpam(t, s, ch, leadwire.Payload{FirstName: "Cheap pills", Email: "ANN@example.com"}, "link_in_name", "honeypot")
	if spam.Status != leadwire.StatusSpam || !slices.Equal(spam.SpamReasons, []string{"link_in_name", "honeypot"}) || spam.Source != visitor {
		t.Fatalf("captured spam: status %q, reasons %v, source %+v", spam.Status, spam.SpamReasons, spam.Source)
	}
	got, err := s.FindLeadByID(ctx, spam.ID)
	if err != nil || got.Status != leadwire.StatusSpam || !slices.Equal(got.SpamReasons, spam.SpamReasons) || got.Source != visitor {
		t.Fatalf("FindLeadByID(spam) = %+v, %v", got, err)
	}
	// A bot sending someone's email neither joins nor changes their contact.
	if spam.ContactID == known.ContactID {
		t.Error("the spam lead joined the contact of its email")
	}
	if c := findContact(t, s, known.ContactID); c.FirstName != "" {
		t.Errorf("the spam lead set the known contact's first name to %q", c.FirstName)
	}
	later := capture(t, s, ch, leadwire.Payload{Email: "ann@example.com", FirstName: "Ann"})
	if later.ContactID != known.ContactID {
		t.Error("a lead after the spam did not join the known contact")
	}

	// Spam is listed only when asked for.
	wantIDs(t, "SearchLeads()", search(t, s, ctx, leadwire.LeadFilter{}), later, known)
	wantIDs(t, "SearchLeads(spam)", search(t, s, ctx, leadwire.LeadFilter{Status: leadwire.StatusSpam}), spam)
	wantIDs(t, "FindLeads()", idsOf(findLeads(t, s, leadwire.LeadFilter{})...), later, known)

	// Not spam after all: restored as new, with the reasons it was held for.
	restored, err := s.UpdateLead(ctx, spam.ID, leadwire.LeadUpdate{Status: ptr(leadwire.StatusNew)})
	if err != nil || restored.Status != leadwire.StatusNew || !slices.Equal(restored.SpamReasons, spam.SpamReasons) {
		t.Fatalf("UpdateLead(spam -> new) = %+v, %v", restored, err)
	}
	wantIDs(t, "SearchLeads() after restoring", search(t, s, ctx, leadwire.LeadFilter{}), later, spam, known)

	// Every lead records its source, accepted ones too.
	leads, _, err := s.CaptureLeads(context.Background(), &leadwire.Capture{ChannelID: ch.ID, Source: visitor,
		Leads: []*leadwire.Lead{{Payload: leadwire.Payload{Email: "bo@example.com"}, Raw: rawOf(t, leadwire.Payload{Email: "bo@example.com"})}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.FindLeadByID(ctx, leads[0].ID); err != nil || got.Source != visitor || got.Status != leadwire.StatusNew || got.SpamReasons != nil {
		t.Fatalf("FindLeadByID(accepted) = %+v, %v", got, err)
	}
}

func testDeleteSpam(t *testing.T, open Open) {
	s := openClock(t, open)
	ctx := as(owner)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	old := captureSpam(t, s, ch, leadwire.Payload{FirstName: "Old bot", Email: "bot@spam.example", Note: "zyxwvut words"}, "honeypot")
	person := capture(t, s, ch, leadwire.Payload{Email: "cy@example.com"})
	marked := capture(t, s, ch, leadwire.Payload{Email: "cy@example.com", Note: "second"})
	if _, err := s.UpdateLead(ctx, marked.ID, leadwire.LeadUpdate{Status: ptr(leadwire.StatusSpam)}); err != nil {
		t.Fatal(err)
	}
	s.advance(20 * 24 * time.Hour)
	recent := captureSpam(t, s, ch, leadwire.Payload{FirstName: "New bot"}, "too_fast")
	now := s.advance(11 * 24 * time.Hour)

	n, err := s.DeleteSpam(context.Background(), now.Add(-leadwire.SpamRetention))
	if err != nil || n != 2 {
		t.Fatalf("DeleteSpam = %d, %v; want the 2 leads quarantined over 30 days ago", n, err)
	}
	wantIDs(t, "spam left", search(t, s, ctx, leadwire.LeadFilter{Status: leadwire.StatusSpam}), recent)
	wantIDs(t, "leads left", search(t, s, ctx, leadwire.LeadFilter{}), person)
	if _, err := s.FindContactByID(ctx, old.ContactID); leadwire.ErrorCode(err) != leadwire.ENOTFOUND {
		t.Errorf("the contact of deleted spam: %v, want it gone", err)
	}
	findContact(t, s, person.ContactID) // still holds a lead
	if ids := search(t, s, ctx, leadwire.LeadFilter{Query: "zyxwvut", Status: leadwire.StatusSpam}); len(ids) != 0 {
		t.Errorf("a search still finds deleted spam: %v", ids)
	}
	// The contact kept its keys: a new lead joins it.
	if l := capture(t, s, ch, leadwire.Payload{Email: "cy@example.com"}); l.ContactID != person.ContactID {
		t.Error("after deleting spam a lead did not join its contact")
	}
	if n, err := s.DeleteSpam(context.Background(), now.Add(-leadwire.SpamRetention)); err != nil || n != 0 {
		t.Errorf("DeleteSpam again = %d, %v; want 0", n, err)
	}
}

func testUpdateChannel(t *testing.T, open Open) {
	s := openClock(t, open)
	ctx := context.Background()
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	if got, _ := s.FindChannelByID(ctx, ch.ID); !got.Screening.Enabled("honeypot") || got.Screening.Off {
		t.Fatalf("a new channel's screening: %+v, want on with the defaults", got.Screening)
	}
	set := leadwire.ScreeningSettings{AddressRate: 5, MinFormTime: 3 * time.Second, Disabled: []string{"too_fast"},
		Captcha: leadwire.CaptchaTurnstile, CaptchaSecret: "s3cret"}
	updated, err := s.UpdateChannel(ctx, ch.ID, leadwire.ChannelUpdate{Screening: &set})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.FindChannelByID(ctx, ch.ID)
	if err != nil || got.Name != "Site" || got.Screening.AddressRate != 5 || got.Screening.MinFormTime != 3*time.Second ||
		got.Screening.Enabled("too_fast") || got.Screening.Captcha != leadwire.CaptchaTurnstile || updated.Screening.CaptchaSecret != "s3cret" {
		t.Fatalf("after UpdateChannel: %+v, %v", got, err)
	}
	for _, bad := range []leadwire.ScreeningSettings{{AddressRate: -1}, {Captcha: "nope", CaptchaSecret: "x"},
		{Captcha: leadwire.CaptchaHCaptcha}, {Captcha: leadwire.CaptchaHCaptcha, CaptchaSecret: "x", CaptchaVerifyURL: "ftp://x"}} {
		_, err := s.UpdateChannel(ctx, ch.ID, leadwire.ChannelUpdate{Screening: &bad})
		wantCode(t, err, leadwire.EINVALID)
	}
	_, err = s.UpdateChannel(ctx, uuid.NewString(), leadwire.ChannelUpdate{Screening: &set})
	wantCode(t, err, leadwire.ENOTFOUND)

	// The allowed origins change alone; the screening stays.
	origins := []string{"https://www.example.com", "http://localhost:3000"}
	if _, err := s.UpdateChannel(ctx, ch.ID, leadwire.ChannelUpdate{AllowedOrigins: &origins}); err != nil {
		t.Fatal(err)
	}
	got, err = s.FindChannelByID(ctx, ch.ID)
	if err != nil || !slices.Equal(got.AllowedOrigins, []string{"https://www.example.com", "http://localhost:3000"}) ||
		got.Screening.AddressRate != 5 {
		t.Fatalf("after changing the allowed origins: %+v, %v", got, err)
	}
	bad := []string{"not a url"}
	_, err = s.UpdateChannel(ctx, ch.ID, leadwire.ChannelUpdate{AllowedOrigins: &bad})
	wantCode(t, err, leadwire.EINVALID)
	none := []string{}
	if got, err := s.UpdateChannel(ctx, ch.ID, leadwire.ChannelUpdate{AllowedOrigins: &none}); err != nil || len(got.AllowedOrigins) != 0 {
		t.Fatalf("after allowing every origin: %+v, %v", got, err)
	}
}
