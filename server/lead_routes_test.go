package server_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/testserver"
)

// captureID captures a lead on channel and returns its id.
func captureID(t *testing.T, s *testserver.Server, channel, body string) string {
	t.Helper()
	a := do(t, "POST", webhook(s, channel), "application/json", body)
	if a.status != 200 {
		t.Fatalf("capture: %d %v", a.status, a.body)
	}
	return a.data()["id"].(string)
}

// TestLeadRoutesApplyAllowedOrigins: what a page sends about a lead is
// held to the allowed origins of the lead's channel, as its capture was.
func TestLeadRoutesApplyAllowedOrigins(t *testing.T) {
	s := testserver.Start(t)
	locked := s.NewChannel(t, leadwire.Channel{Name: "Locked", AllowedOrigins: []string{"https://mysite.example"}})
	lockedLead := captureID(t, s, locked, `{"email":"l@example.com"}`)
	openLead := captureID(t, s, s.ChannelID, `{"email":"o@example.com"}`)
	routes := []struct{ method, path, body string }{
		{"POST", "/timeline", `{"action":"ContactSignedUp"}`},
		{"PUT", "/assignees", `[{"email":"agent@example.com"}]`},
	}
	tests := []struct {
		name, lead, origin string
		status             int
	}{
		{"locked channel, allowed origin", lockedLead, "https://mysite.example", 200},
		{"locked channel, other origin", lockedLead, "https://evil.example", 403},
		{"locked channel, no origin", lockedLead, "", 200},
		{"open channel, any origin", openLead, "https://anyone.example", 200},
	}
	for _, rt := range routes {
		for _, tt := range tests {
			t.Run(rt.method+" "+rt.path+" "+tt.name, func(t *testing.T) {
				var header []string
				if tt.origin != "" {
					header = []string{"Origin", tt.origin}
				}
				a := do(t, rt.method, s.URL+"/leads/"+tt.lead+rt.path, "application/json", rt.body, header...)
				if a.status != tt.status {
					t.Fatalf("status %d %v, want %d", a.status, a.body, tt.status)
				}
				if tt.status == 403 && (a.body["code"] != "forbidden" || !strings.Contains(a.body["message"].(string), tt.origin)) {
					t.Errorf("refusal %v should name the origin", a.body)
				}
				if tt.origin != "" && a.header.Get("Access-Control-Allow-Origin") != tt.origin {
					t.Errorf("Access-Control-Allow-Origin = %q, want the origin echoed so the page reads the answer", a.header.Get("Access-Control-Allow-Origin"))
				}
			})
		}
	}
	// The allowed origin and the request without one wrote; the refused
	// origin did not.
	for _, l := range s.Leads(t) {
		signups := 0
		for _, a := range l.Timeline {
			if a.Action == leadwire.ActionSignedUp {
				signups++
			}
		}
		if l.ID == lockedLead && signups != 2 {
			t.Errorf("the locked channel's lead has %d sign-ups on its timeline, want 2", signups)
		}
	}
}

// TestOneURLPerRecord: a channel or lead id in any form but the canonical
// one names nothing.
func TestOneURLPerRecord(t *testing.T) {
	s := testserver.Start(t)
	lead := captureID(t, s, s.ChannelID, `{"email":"v@example.com"}`)
	spell := func(id string) map[string]string {
		return map[string]string{
			"upper case": strings.ToUpper(id),
			"braces":     "{" + id + "}",
			"urn":        "urn:uuid:" + id,
			"no dashes":  strings.ReplaceAll(id, "-", ""),
		}
	}
	for form, id := range spell(s.ChannelID) {
		t.Run("channel "+form, func(t *testing.T) {
			a := do(t, "POST", webhook(s, id), "application/json", `{"email":"x@example.com"}`)
			if a.status != 404 || a.body["code"] != "not_found" || !strings.Contains(a.body["message"].(string), "channel") {
				t.Errorf("%d %v, want 404 naming the channel", a.status, a.body)
			}
		})
	}
	for form, id := range spell(lead) {
		t.Run("lead "+form, func(t *testing.T) {
			for _, r := range []struct{ method, path, body string }{
				{"POST", "/timeline", `{"action":"ContactSignedUp"}`},
				{"PUT", "/assignees", `[{"email":"agent@example.com"}]`},
			} {
				a := do(t, r.method, s.URL+"/leads/"+id+r.path, "application/json", r.body)
				if a.status != 404 || a.body["code"] != "not_found" || !strings.Contains(a.body["message"].(string), "lead") {
					t.Errorf("%s %s: %d %v, want 404 naming the lead", r.method, r.path, a.status, a.body)
				}
			}
		})
	}
	leads := s.Leads(t)
	if len(leads) != 1 || len(leads[0].Timeline) != 0 || leads[0].Payload.Assignees != nil {
		t.Errorf("requests to other spellings changed the data: %+v", leads)
	}
}

func TestReplaceAssignees(t *testing.T) {
	s := testserver.Start(t)
	captured := do(t, "POST", webhook(s, s.ChannelID), "application/json",
		`{"email":"v@example.com","assignees":[{"email":"ann@example.com","mls_id":"A1"}],"budget":"500k"}`)
	id := captured.data()["id"].(string)
	url := s.URL + "/leads/" + id + "/assignees"

	a := do(t, "PUT", url, "application/json; charset=utf-8",
		`[{"email":" bob@example.com ","phone_number":"(214) 555-0101","first_name":"Bob","last_name":"Broker","mls":"NTREIS","mlsid":"B2"},
		  {"email":"carol@example.com","mls_id":"C3"}]`, "Origin", "https://site.example")
	if a.status != 200 || a.body["code"] != "OK" {
		t.Fatalf("%d %v", a.status, a.body)
	}
	if a.header.Get("Access-Control-Allow-Origin") != "https://site.example" {
		t.Errorf("Access-Control-Allow-Origin = %q", a.header.Get("Access-Control-Allow-Origin"))
	}
	d := a.data()
	for _, k := range []string{"id", "contact", "lead_channel", "created_at", "source_type", "raw_payload"} {
		if !reflect.DeepEqual(d[k], captured.data()[k]) {
			t.Errorf("%s = %v, want %v as captured", k, d[k], captured.data()[k])
		}
	}
	want := []any{
		map[string]any{"email": "bob@example.com", "phone_number": "+12145550101", "first_name": "Bob", "last_name": "Broker", "mls": "NTREIS", "mlsid": "B2"},
		map[string]any{"email": "carol@example.com", "mlsid": "C3"},
	}
	parsed := d["parsed_payload"].(map[string]any)
	if !reflect.DeepEqual(parsed["assignees"], want) || parsed["email"] != "v@example.com" || parsed["extra"].(map[string]any)["budget"] != "500k" {
		t.Errorf("parsed_payload = %v", parsed)
	}

	stored := s.Leads(t)[0]
	if len(stored.Payload.Assignees) != 2 || stored.Payload.Assignees[1].MLSID != "C3" {
		t.Errorf("stored assignees = %+v", stored.Payload.Assignees)
	}
	if len(stored.Timeline) != 1 || stored.Timeline[0].Action != leadwire.ActionAssigneesChanged ||
		!strings.Contains(stored.Timeline[0].Notes, "ann@example.com") || !strings.Contains(stored.Timeline[0].Notes, "carol@example.com") {
		t.Errorf("timeline = %+v, want the change recorded with both lists", stored.Timeline)
	}

	t.Run("a retry with its key is done once", func(t *testing.T) {
		body := `[{"email":"dave@example.com"}]`
		first := do(t, "PUT", url, "application/json", body, "Idempotency-Key", "put-7")
		do(t, "PUT", url, "application/json", `[]`) // someone else clears the list
		retry := do(t, "PUT", url, "application/json", body, "Idempotency-Key", "put-7")
		if first.status != 200 || retry.status != 200 {
			t.Fatalf("statuses %d, %d", first.status, retry.status)
		}
		if got := s.Leads(t)[0]; got.Payload.Assignees != nil || len(got.Timeline) != 3 {
			t.Errorf("the retry was applied again: %+v, timeline %d", got.Payload.Assignees, len(got.Timeline))
		}
	})

	t.Run("preflight allows PUT", func(t *testing.T) {
		a := do(t, "OPTIONS", url, "", "", "Origin", "https://site.example", "Access-Control-Request-Method", "PUT")
		if a.status != 204 || !strings.Contains(a.header.Get("Access-Control-Allow-Methods"), "PUT") ||
			a.header.Get("Access-Control-Allow-Origin") != "https://site.example" {
			t.Errorf("%d %v", a.status, a.header)
		}
	})
}

func TestReplaceAssigneesErrors(t *testing.T) {
	s := testserver.Start(t)
	id := captureID(t, s, s.ChannelID, `{"email":"v@example.com","assignees":[{"email":"ann@example.com"}]}`)
	url := s.URL + "/leads/" + id + "/assignees"
	tests := []struct {
		name, method, url, contentType, body string
		status                               int
		code, inMessage                      string
	}{
		{"not an array", "PUT", url, "application/json", `{"email":"a@example.com"}`, 400, "invalid", "array"},
		{"not JSON", "PUT", url, "application/json", `[{"email": }]`, 400, "invalid", "byte"},
		{"wrong field type", "PUT", url, "application/json", `[{"email":"a@example.com"},{"mls":true}]`, 400, "invalid", "assignees[1].mls"},
		{"element not an object", "PUT", url, "application/json", `["a@example.com"]`, 400, "invalid", "assignees[0]"},
		{"a form", "PUT", url, "application/x-www-form-urlencoded", `email=a`, 415, "unsupported_media_type", "application/json"},
		{"unknown lead", "PUT", s.URL + "/leads/0193a6f0-0000-7000-8000-000000000000/assignees", "application/json", `[]`, 404, "not_found", "lead"},
		{"POST", "POST", url, "application/json", `[]`, 405, "method_not_allowed", "PUT"},
		{"too large", "PUT", url, "application/json", `[{"email":"` + strings.Repeat("x", 70<<10) + `"}]`, 413, "too_large", "65536"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, tt.method, tt.url, tt.contentType, tt.body)
			if a.status != tt.status || a.body["code"] != tt.code {
				t.Fatalf("got %d %v, want %d %s", a.status, a.body, tt.status, tt.code)
			}
			if msg, _ := a.body["message"].(string); !strings.Contains(msg, tt.inMessage) {
				t.Errorf("message %q should mention %q", msg, tt.inMessage)
			}
		})
	}
	if l := s.Leads(t)[0]; len(l.Payload.Assignees) != 1 || len(l.Timeline) != 0 {
		t.Errorf("bad requests changed the lead: %+v %+v", l.Payload.Assignees, l.Timeline)
	}
}
