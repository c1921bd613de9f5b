package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/sqlite"
)

// TestChannelUpdate: the flags given change the channel's screening, the
// others stay; a mistake is named.
func TestChannelUpdate(t *testing.T) {
	db := filepath.Join(t.TempDir(), "leadwire.db")
	id, errOut, code := runCLI(t, "channel", "create", "--db", db, "--name", "Site")
	if code != 0 {
		t.Fatal(errOut)
	}
	id = strings.TrimSpace(id)
	update := func(args ...string) leadwire.ScreeningSettings {
		t.Helper()
		out, errOut, code := runCLI(t, append([]string{"channel", "update", "--db", db, "--channel", id}, args...)...)
		if code != 0 {
			t.Fatalf("channel update %v: %s", args, errOut)
		}
		var ch leadwire.Channel
		if err := json.Unmarshal([]byte(out), &ch); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return ch.Screening
	}
	set := update("--address-rate", "10", "--min-form-time", "3s", "--disable", "too_fast", "--disable", "scripted_client")
	if set.AddressRate != 10 || set.MinFormTime != 3*time.Second || strings.Join(set.Disabled, ",") != "too_fast,scripted_client" {
		t.Fatalf("settings %+v", set)
	}
	set = update("--enable", "too_fast", "--captcha", "turnstile", "--captcha-secret", "s3", "--screening", "off")
	if set.AddressRate != 10 || strings.Join(set.Disabled, ",") != "scripted_client" || set.Captcha != "turnstile" || !set.Off ||
		set.CaptchaSecret != "(set)" {
		t.Fatalf("settings after a second update %+v", set)
	}
	if set = update("--captcha", "none", "--screening", "on"); set.Captcha != "" || set.Off {
		t.Fatalf("settings after turning the CAPTCHA off %+v", set)
	}
	for _, bad := range [][]string{
		{"--disable", "nonsense"}, {"--screening", "maybe"}, {"--captcha", "friendlycaptcha"}, {"--address-rate", "-1"},
		{"--captcha", "hcaptcha", "--captcha-secret", ""}, {"--captcha", "hcaptcha", "--captcha-verify-url", "ftp://x"},
	} {
		if _, errOut, code := runCLI(t, append([]string{"channel", "update", "--db", db, "--channel", id}, bad...)...); code == 0 || errOut == "" {
			t.Errorf("channel update %v: exit %d, want an error", bad, code)
		}
	}
	if _, errOut, code := runCLI(t, "channel", "update", "--db", db, "--channel", "00000000-0000-4000-8000-000000000000"); code == 0 || !strings.Contains(errOut, "not found") {
		t.Errorf("unknown channel: exit %d %s", code, errOut)
	}
	if _, errOut, code := runCLI(t, "serve", "--db", db, "--trusted-proxy", "10.0.0.0/33"); code == 0 || !strings.Contains(errOut, "--trusted-proxy") {
		t.Errorf("serve with a bad proxy: exit %d %s", code, errOut)
	}
}

// TestServeDeletesOldSpam: serve deletes spam older than 30 days when it
// starts (and every hour after), and keeps newer spam and every lead.
func TestServeDeletesOldSpam(t *testing.T) {
	db := filepath.Join(t.TempDir(), "leadwire.db")
	store, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ch, _, err := leadwire.EnsureDefaultChannel(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	capture := func(age time.Duration, status string) {
		store.Now = func() time.Time { return time.Now().Add(-age) }
		p := leadwire.Payload{Email: "x@example.com"}
		if _, _, err := store.CaptureLeads(ctx, &leadwire.Capture{ChannelID: ch.ID,
			Leads: []*leadwire.Lead{{Payload: p, Raw: json.RawMessage(`{}`), Status: status, SpamReasons: []string{"honeypot"}}}}); err != nil {
			t.Fatal(err)
		}
	}
	capture(31*24*time.Hour, leadwire.StatusSpam)
	capture(29*24*time.Hour, leadwire.StatusSpam)
	capture(40*24*time.Hour, leadwire.StatusNew)
	store.Close()

	s := startServe(t, db)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.log.String(), "deleted old spam") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(s.log.String(), "leads=1") {
		t.Fatalf("serve did not log deleting the one old spam lead:\n%s", s.log)
	}
	s.stop(t)
	store, err = sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	spam, _ := store.FindLeads(ctx, leadwire.LeadFilter{Status: leadwire.StatusSpam})
	leads, _ := store.FindLeads(ctx, leadwire.LeadFilter{})
	if len(spam) != 1 || len(leads) != 1 {
		t.Errorf("after serve: %d spam and %d leads, want 1 of each", len(spam), len(leads))
	}
}
