package sqlite

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/leadwire/leadwire"
)

// TestReplaceAssigneesKeepsThePayloadText checks what the file holds after
// a change of assignees: the other values of the parsed payload as they
// were written (a number too long for a float64 included), and both lists
// in full in the activity's details.
func TestReplaceAssigneesKeepsThePayloadText(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	ch, _, err := leadwire.EnsureDefaultChannel(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	before := []leadwire.Assignee{{Email: "ann@example.com", MLSID: "A1"}}
	after := []leadwire.Assignee{{Email: "bob@example.com"}, {FirstName: "Carol", MLS: "NTREIS"}}
	lead := mustCapture(t, s, &leadwire.Capture{ChannelID: ch.ID, Leads: []*leadwire.Lead{{
		Payload: leadwire.Payload{Email: "v@example.com", Assignees: before, Extra: map[string]any{"budget": json.Number("123456789012345678901")}},
		Raw:     json.RawMessage(`{"email":"v@example.com"}`),
	}}})[0]
	if _, err := s.ReplaceAssignees(ctx, lead.ID, after, ""); err != nil {
		t.Fatal(err)
	}
	var extra, assignees, details string
	if err := s.read.QueryRowContext(ctx, `SELECT json_extract(parsed_payload, '$.extra'), json_extract(parsed_payload, '$.assignees')
		FROM leads WHERE id = ?`, lead.ID).Scan(&extra, &assignees); err != nil {
		t.Fatal(err)
	}
	if extra != `{"budget":123456789012345678901}` {
		t.Errorf("extra reads %s, want the text it was stored with", extra)
	}
	var stored []leadwire.Assignee
	if err := json.Unmarshal([]byte(assignees), &stored); err != nil || !reflect.DeepEqual(stored, after) {
		t.Errorf("assignees = %s (%v), want %+v", assignees, err, after)
	}
	if err := s.read.QueryRowContext(ctx, "SELECT details FROM activities WHERE lead_id = ? AND action = ?",
		lead.ID, leadwire.ActionAssigneesChanged).Scan(&details); err != nil {
		t.Fatal(err)
	}
	var change assigneesChange
	if err := json.Unmarshal([]byte(details), &change); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(change.Before, before) || !reflect.DeepEqual(change.After, after) {
		t.Errorf("details = %s, want the lists before and after", details)
	}
}
