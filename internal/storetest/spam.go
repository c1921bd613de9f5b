package storetest

import (
	"context"
	"reflect"
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
	{"SpamContact", testSpamContact},
	{"DeleteSpam", testDeleteSpam},
	{"DeleteMarkedSpam", testDeleteMarkedSpam},
	{"DeletedSpamNotReplayed", testDeletedSpamNotReplayed},
	{"UpdateChannel", testUpdateChannel},
	{"ChannelScreening", testChannelScreening},
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

// testSpamContact: a quarantined lead's contact is its own, whatever came
// before or after: no later lead joins it, and neither does other spam
// with the same email, in the same capture or another.
func testSpamContact(t *testing.T, open Open) {
	s := openClock(t, open)
	ctx := as(owner)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	dee := leadwire.Payload{FirstName: "Buy now", Email: "dee@example.com", PhoneNumber: "+12145550177"}
	spam := captureSpam(t, s, ch, dee, "honeypot")
	if c := findContact(t, s, spam.ContactID); c.FirstName != "Buy now" || c.Email != "dee@example.com" {
		t.Errorf("the spam lead's contact = %+v, want its values", c)
	}
	person := capture(t, s, ch, leadwire.Payload{FirstName: "Dee", Email: "DEE@example.com"})
	byPhone := capture(t, s, ch, leadwire.Payload{PhoneNumber: "214-555-0177"})
	if person.ContactID == spam.ContactID || byPhone.ContactID == spam.ContactID {
		t.Fatalf("a lead after the spam with its email or phone joined the spam's contact %s", spam.ContactID)
	}
	if c := findContact(t, s, person.ContactID); c.FirstName != "Dee" {
		t.Errorf("the person's contact took %q from the spam before it, want their own name", c.FirstName)
	}
	if c := findContact(t, s, spam.ContactID); c.FirstName != "Buy now" {
		t.Errorf("the spam's contact became %+v", c)
	}
	leads, _, err := s.CaptureLeads(context.Background(), &leadwire.Capture{ChannelID: ch.ID, Source: visitor, Leads: []*leadwire.Lead{
		{Payload: dee, Raw: rawOf(t, dee), Status: leadwire.StatusSpam, SpamReasons: []string{"honeypot"}},
		{Payload: dee, Raw: rawOf(t, dee), Status: leadwire.StatusSpam, SpamReasons: []string{"honeypot"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{spam.ContactID, person.ContactID, leads[0].ContactID, leads[1].ContactID}
	for i, id := range ids {
		if slices.Contains(ids[:i], id) {
			t.Fatalf("contacts %v: spam shares a contact with another lead", ids)
		}
	}
	wantIDs(t, "the person's leads", search(t, s, ctx, leadwire.LeadFilter{ContactID: person.ContactID}), person)
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

// testDeleteMarkedSpam: a lead an agent marked spam, alone on a contact
// its email and phone find, goes with that contact; the next lead with
// them makes a new one.
func testDeleteMarkedSpam(t *testing.T, open Open) {
	s := openClock(t, open)
	ctx := as(owner)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	eve := leadwire.Payload{FirstName: "Eve", Email: "eve@example.com", PhoneNumber: "+12145550155"}
	marked := capture(t, s, ch, eve)
	if _, err := s.UpdateLead(ctx, marked.ID, leadwire.LeadUpdate{Status: ptr(leadwire.StatusSpam)}); err != nil {
		t.Fatal(err)
	}
	now := s.advance(leadwire.SpamRetention + time.Hour)
	if n, err := s.DeleteSpam(context.Background(), now.Add(-leadwire.SpamRetention)); err != nil || n != 1 {
		t.Fatalf("DeleteSpam = %d, %v; want 1", n, err)
	}
	if _, err := s.FindContactByID(ctx, marked.ContactID); leadwire.ErrorCode(err) != leadwire.ENOTFOUND {
		t.Errorf("the contact only the marked spam held: %v, want it gone", err)
	}
	for _, p := range []leadwire.Payload{{Email: "EVE@example.com"}, {PhoneNumber: "214-555-0155"}} {
		if l := capture(t, s, ch, p); l.ContactID == marked.ContactID {
			t.Errorf("a lead after the deletion joined the deleted contact %s", marked.ContactID)
		}
	}
}

// testDeletedSpamNotReplayed: spam deleted within the idempotency window
// is not brought back by its capture sent again, as an erased lead is not.
func testDeletedSpamNotReplayed(t *testing.T, open Open) {
	s := openClock(t, open)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	p := leadwire.Payload{FirstName: "Bot", Email: "bot@spam.example"}
	send := func() ([]*leadwire.Lead, bool, error) {
		return s.CaptureLeads(context.Background(), &leadwire.Capture{ChannelID: ch.ID, IdempotencyKey: "k", RequestHash: "h",
			Source: visitor, Leads: []*leadwire.Lead{{Payload: p, Raw: rawOf(t, p), Status: leadwire.StatusSpam, SpamReasons: []string{"honeypot"}}}})
	}
	if _, _, err := send(); err != nil {
		t.Fatal(err)
	}
	now := s.advance(time.Minute)
	if n, err := s.DeleteSpam(context.Background(), now); err != nil || n != 1 {
		t.Fatalf("DeleteSpam = %d, %v; want 1", n, err)
	}
	leads, replayed, err := send()
	if leadwire.ErrorCode(err) != leadwire.ECONFLICT {
		t.Errorf("the deleted spam's capture sent again = %d leads, replayed %v, %v; want a conflict", len(leads), replayed, err)
	}
	wantIDs(t, "spam after the capture sent again", search(t, s, as(owner), leadwire.LeadFilter{Status: leadwire.StatusSpam}))
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

// testChannelScreening: a channel is created with its screening settings,
// finds them back as a copy, and an update without settings keeps them.
func testChannelScreening(t *testing.T, open Open) {
	s := openClock(t, open)
	ctx := context.Background()
	set := leadwire.ScreeningSettings{Off: true, ChannelBurst: 50, ChannelRate: 10, Disabled: []string{"honeypot", "too_fast"},
		Captcha: leadwire.CaptchaReCaptcha, CaptchaSecret: "s", CaptchaVerifyURL: "http://127.0.0.1:9/verify"}
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site", Screening: set})
	got, err := s.FindChannelByID(ctx, ch.ID)
	if err != nil || !reflect.DeepEqual(got.Screening, set) {
		t.Fatalf("FindChannelByID = %+v, %v; want screening %+v", got, err, set)
	}
	got.Screening.Disabled[0] = "changed"
	if again, _ := s.FindChannelByID(ctx, ch.ID); !reflect.DeepEqual(again.Screening, set) {
		t.Errorf("changing a found channel's settings changed the store: %+v", again.Screening)
	}
	if kept, err := s.UpdateChannel(ctx, ch.ID, leadwire.ChannelUpdate{}); err != nil || !reflect.DeepEqual(kept.Screening, set) {
		t.Errorf("UpdateChannel without settings = %+v, %v; want them kept", kept, err)
	}
	channels, err := s.FindChannels(ctx)
	if err != nil || len(channels) != 1 || !reflect.DeepEqual(channels[0].Screening, set) {
		t.Errorf("FindChannels = %s, %v", dump(channels), err)
	}
	c := leadwire.Channel{Name: "Bad", Screening: leadwire.ScreeningSettings{Captcha: leadwire.CaptchaTurnstile}}
	wantCode(t, s.CreateChannel(ctx, &c), leadwire.EINVALID)
}
