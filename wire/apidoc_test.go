package wire

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
)

// TestAPILeadDocShape: the listed lead is the documented shape plus
// status, assignees ([] rather than null) and, once it left new, its
// response time in seconds.
func TestAPILeadDocShape(t *testing.T) {
	created := time.UnixMilli(1764060000123)
	l := &leadwire.Lead{ID: "l1", ChannelID: "c1", ContactID: "p1", CreatedAt: created,
		Payload: leadwire.Payload{FirstName: "Ann", SourceType: "Website"}, Raw: json.RawMessage(`{"first_name":"Ann"}`)}
	doc, err := NewAPILeadDoc(l)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(doc)
	for _, want := range []string{`"id":"l1"`, `"contact":"p1"`, `"lead_channel":"c1"`, `"created_at":1764060000.123`,
		`"raw_payload":{"first_name":"Ann"}`, `"status":"new"`, `"assignees":[]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	for _, absent := range []string{"response_time", "responded_at", "timeline"} {
		if strings.Contains(string(b), absent) {
			t.Errorf("%s has %s before the lead was worked", b, absent)
		}
	}

	l.Status, l.RespondedAt = leadwire.StatusContacted, created.Add(90*time.Second+500*time.Millisecond)
	doc, _ = NewAPILeadDoc(l)
	b, _ = json.Marshal(doc)
	for _, want := range []string{`"status":"contacted"`, `"response_time":90.5`, `"responded_at":1764060090.623`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
}

// TestLeadDetailDocKeepsContactID: "contact" stays the id a capture
// answers with; the contact itself, with its other leads, is beside it.
func TestLeadDetailDocKeepsContactID(t *testing.T) {
	l := &leadwire.Lead{ID: "l1", ContactID: "p1", Raw: json.RawMessage(`{}`)}
	other := &leadwire.Lead{ID: "l2", ContactID: "p1", Raw: json.RawMessage(`{}`)}
	doc, err := NewLeadDetailDoc(l, &leadwire.Contact{ID: "p1", Email: "a@example.com"}, []*leadwire.Lead{other}, "")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	b, _ := json.Marshal(doc)
	json.Unmarshal(b, &got)
	if got["contact"] != "p1" {
		t.Errorf("contact = %v, want the id", got["contact"])
	}
	cd, _ := got["contact_detail"].(map[string]any)
	if cd["email"] != "a@example.com" || len(cd["leads"].([]any)) != 1 {
		t.Errorf("contact_detail = %v", cd)
	}
	if tl, ok := got["timeline"].([]any); !ok || len(tl) != 0 {
		t.Errorf("timeline = %#v, want []", got["timeline"])
	}
}
