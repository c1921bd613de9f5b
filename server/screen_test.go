package server_test

import (
	"context"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/testserver"
	"github.com/leadwire/leadwire/server"
)

// TestScreening: a bot's capture is answered as a person's and kept out of
// the lead list, where an owner finds it by status, with its reasons and
// source, and restores it; an address over its rate is refused with 429
// and Retry-After; the brand API is screened alike; /metrics counts it.
func TestScreening(t *testing.T) {
	s := testserver.Start(t, func(c *server.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	_, token := s.NewUser(t, leadwire.User{Email: "owner@example.com", Role: leadwire.RoleOwner})
	browser := []string{"User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0", "Origin", "https://homes.example"}
	from := func(address string, header ...string) []string {
		return append(append([]string{"X-Forwarded-For", address}, browser...), header...)
	}

	person := do(t, "POST", webhook(s, s.ChannelID), "application/json",
		`{"first_name":"Ann","email":"ann@example.com","message":"Still available?","_lw_website":"","_lw_t":8200}`, from("198.51.100.1")...)
	bot := do(t, "POST", webhook(s, s.ChannelID), "application/x-www-form-urlencoded",
		`first_name=Ann&email=ann%40example.com&message=Still+available%3F&_lw_website=http%3A%2F%2Fseo.example&_lw_t=8200`, from("198.51.100.2")...)
	for _, a := range []answer{person, bot} {
		d := a.data()
		if a.status != 200 || d["id"] == nil || d["status"] != nil || d["spam_reasons"] != nil {
			t.Fatalf("capture: %d %v, want the documented 200 body", a.status, a.body)
		}
		parsed := d["parsed_payload"].(map[string]any)
		if extra, _ := parsed["extra"].(map[string]any); extra["_lw_website"] != nil || extra["_lw_t"] != nil || extra["message"] != "Still available?" {
			t.Errorf("parsed_payload %v: the control fields must not be stored", parsed)
		}
	}
	personID, botID := str(person.data()["id"]), str(bot.data()["id"])
	if got := ids(t, api(t, token, "GET", s.URL+"/api/leads", "", "")); !slices.Equal(got, []string{personID}) {
		t.Fatalf("GET /api/leads = %v, want only the person's lead", got)
	}
	spam := api(t, token, "GET", s.URL+"/api/leads?status=spam", "", "")
	if got := ids(t, spam); !slices.Equal(got, []string{botID}) {
		t.Fatalf("GET /api/leads?status=spam = %v, want the bot's lead", got)
	}
	doc := spam.body["data"].([]any)[0].(map[string]any)
	source, _ := doc["source"].(map[string]any)
	if doc["status"] != "spam" || !slices.Equal(anyStrings(doc["spam_reasons"]), []string{"honeypot"}) ||
		source["address"] != "198.51.100.2" || source["origin"] != "https://homes.example" || !strings.HasPrefix(str(source["user_agent"]), "Mozilla/5.0") {
		t.Fatalf("the spam lead's document: %v", doc)
	}
	// Not spam after all.
	if a := api(t, token, "PATCH", s.URL+"/api/leads/"+botID, "application/json", `{"status":"new"}`); a.status != 200 || a.data()["status"] != "new" {
		t.Fatalf("PATCH status new: %d %v", a.status, a.body)
	}
	if got := ids(t, api(t, token, "GET", s.URL+"/api/leads", "", "")); !slices.Equal(got, []string{botID, personID}) {
		t.Fatalf("after restoring: GET /api/leads = %v", got)
	}

	// Three an hour from one address; a retry after the refusal keeps its
	// Idempotency-Key, as the SDKs' queues do.
	if _, err := s.Store.UpdateChannel(context.Background(), s.ChannelID,
		leadwire.ChannelUpdate{Screening: &leadwire.ScreeningSettings{AddressRate: 3}}); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		a := do(t, "POST", webhook(s, s.ChannelID), "application/json", `{"email":"cy@example.com"}`, from("203.0.113.9", "Idempotency-Key", "k"+string(rune('0'+i)))...)
		if i < 3 && a.status != 200 {
			t.Fatalf("capture %d: %d %v", i+1, a.status, a.body)
		}
		if i == 3 && (a.status != 429 || a.body["code"] != "too_many_requests" || a.header.Get("Retry-After") != "1200") {
			t.Fatalf("4th capture in an hour: %d %v Retry-After %q, want 429 and 1200 s", a.status, a.body, a.header.Get("Retry-After"))
		}
	}
	if a := do(t, "POST", webhook(s, s.ChannelID), "application/json", `{"email":"cy@example.com"}`, from("203.0.113.10")...); a.status != 200 {
		t.Errorf("another address: %d %v", a.status, a.body)
	}

	// The brand API screens as the webhook does.
	brand := api(t, token, "POST", s.URL+"/leads", "application/json",
		`{"metadata":{"lead_channel":"`+s.ChannelID+`"},"lead":{"first_name":"<a href=x>Win</a>","email":"win@example.com"}}`, from("198.51.100.3")...)
	if brand.status != 200 {
		t.Fatalf("brand capture: %d %v", brand.status, brand.body)
	}
	l, err := s.Store.FindLeadByID(context.Background(), str(brand.data()["id"]))
	if err != nil || l.Status != leadwire.StatusSpam || !slices.Equal(l.SpamReasons, []string{"link_in_name"}) {
		t.Fatalf("brand capture stored as %+v, %v", l, err)
	}

	res, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{`leadwire_screen_verdicts_total{verdict="quarantine"}`, `leadwire_screen_verdicts_total{verdict="refuse"}`,
		`leadwire_screen_reasons_total{reason="honeypot"}`, `leadwire_screen_reasons_total{reason="address_rate"}`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
}

func anyStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, e := range list {
		out = append(out, str(e))
	}
	return out
}
