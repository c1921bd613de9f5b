package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/testserver"
)

// TestBrandAPI: Rechat's WordPress plugin posts
// {"metadata":{"lead_channel":ID},"lead":{...}} to POST /leads with a
// token; the lead is captured as the webhook captures it, answered alike,
// and a brand header must be the channel's.
func TestBrandAPI(t *testing.T) {
	s := testserver.Start(t)
	_, token := s.NewUser(t, leadwire.User{Email: "site@example.com", Role: leadwire.RoleAgent})
	branded := s.NewChannel(t, leadwire.Channel{Name: "Branded", BrandID: "brand-1"})
	const lead = `{"first_name":"Ann","email":"ann@example.com","phone_number":"(214) 555-0100","budget":"500k"}`
	body := func(channel string) string {
		return `{"metadata":{"lead_channel":"` + channel + `"},"lead":` + lead + `}`
	}

	a := api(t, token, "POST", s.URL+"/leads", "application/json", body(branded), "X-RECHAT-BRAND", "brand-1", "Idempotency-Key", "k1")
	if a.status != 200 || a.body["code"] != "OK" {
		t.Fatalf("brand capture: %d %v", a.status, a.body)
	}
	d := a.data()
	raw, _ := json.Marshal(d["raw_payload"])
	var want map[string]any
	json.Unmarshal([]byte(lead), &want)
	wantRaw, _ := json.Marshal(want)
	if d["lead_channel"] != branded || string(raw) != string(wantRaw) ||
		d["parsed_payload"].(map[string]any)["phone_number"] != "+12145550100" {
		t.Errorf("answer %v: the lead object should be the raw payload, parsed as the webhook parses it", d)
	}
	// The same lead sent to the webhook with the same key is the same
	// request, and answers the same lead.
	w := do(t, "POST", webhook(s, branded), "application/json", lead, "Idempotency-Key", "k1")
	if w.status != 200 || w.data()["id"] != d["id"] {
		t.Errorf("webhook retry: %d %v, want lead %v", w.status, w.body, d["id"])
	}
	if n := len(s.Leads(t)); n != 1 {
		t.Errorf("%d leads, want 1", n)
	}
	// Without a brand header, on a channel without a brand.
	if a := api(t, token, "POST", s.URL+"/leads", "application/json", body(s.ChannelID)); a.status != 200 {
		t.Errorf("no brand header: %d %v", a.status, a.body)
	}

	for _, tc := range []struct {
		name, body, brand string
		status            int
		names             string
	}{
		{"another brand", body(branded), "brand-2", 403, "brand-2"},
		{"a brand for a channel without one", body(s.ChannelID), "brand-1", 403, "brand-1"},
		{"unknown channel", body("00000000-0000-4000-8000-000000000000"), "", 404, "channel"},
		{"no metadata", `{"lead":` + lead + `}`, "", 400, "metadata.lead_channel"},
		{"no lead", `{"metadata":{"lead_channel":"` + branded + `"}}`, "", 400, "lead"},
		{"an empty lead", `{"metadata":{"lead_channel":"` + branded + `"},"lead":{}}`, "", 400, "empty"},
	} {
		var header []string
		if tc.brand != "" {
			header = []string{"X-RECHAT-BRAND", tc.brand}
		}
		a := api(t, token, "POST", s.URL+"/leads", "application/json", tc.body, header...)
		if a.status != tc.status || !strings.Contains(a.body["message"].(string), tc.names) {
			t.Errorf("%s: %d %v, want %d naming %s", tc.name, a.status, a.body, tc.status, tc.names)
		}
	}
	if n := len(s.Leads(t)); n != 2 {
		t.Errorf("%d leads after refused captures, want 2", n)
	}
}
