package storetest

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/leadwire/leadwire"
)

// nonCanonical spells id in every other way a UUID parser accepts.
func nonCanonical(id string) []string {
	return []string{strings.ToUpper(id), "{" + id + "}", "urn:uuid:" + id, strings.ReplaceAll(id, "-", "")}
}

// testIDs checks that channels and leads are found by their canonical id
// only.
func testIDs(t *testing.T, open Open) {
	ctx := context.Background()
	s := openClock(t, open)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	lead := capture(t, s, ch, leadwire.Payload{Email: "visitor@example.com"})
	if !leadwire.IsCanonicalID(ch.ID) || !leadwire.IsCanonicalID(lead.ID) {
		t.Fatalf("ids %q and %q are not canonical", ch.ID, lead.ID)
	}
	for _, id := range nonCanonical(ch.ID) {
		_, err := s.FindChannelByID(ctx, id)
		wantCode(t, err, leadwire.ENOTFOUND)
		_, _, err = s.CaptureLeads(ctx, &leadwire.Capture{ChannelID: id, Leads: []*leadwire.Lead{{}}})
		wantCode(t, err, leadwire.ENOTFOUND)
	}
	for _, id := range nonCanonical(lead.ID) {
		_, err := s.FindLeadByID(ctx, id)
		wantCode(t, err, leadwire.ENOTFOUND)
		_, err = s.ReplaceAssignees(ctx, id, []leadwire.Assignee{{Email: "a@example.com"}}, "")
		wantCode(t, err, leadwire.ENOTFOUND)
	}
}

// testFindLeadByID checks reading one lead.
func testFindLeadByID(t *testing.T, open Open) {
	ctx := context.Background()
	s := openClock(t, open)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	now := s.advance(time.Second)
	want := capture(t, s, ch, fullPayload())
	capture(t, s, ch, leadwire.Payload{Email: "other@example.com"})
	if err := s.AddActivity(ctx, &leadwire.Activity{LeadID: want.ID, Action: leadwire.ActionSignedUp}); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindLeadByID(ctx, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != want.ID || got.ChannelID != ch.ID || got.ContactID != want.ContactID || !got.CreatedAt.Equal(now) {
		t.Errorf("FindLeadByID = %+v, want %+v", got, want)
	}
	if !reflect.DeepEqual(got.Payload, fullPayload()) || string(got.Raw) != string(rawOf(t, fullPayload())) {
		t.Errorf("payloads:\n got %#v %s\nwant %#v", got.Payload, got.Raw, fullPayload())
	}
	for _, id := range []string{"", "nope", uuid.NewString(), "'; DROP TABLE leads; --"} {
		_, err := s.FindLeadByID(ctx, id)
		wantCode(t, err, leadwire.ENOTFOUND)
	}
}

// testAssignees checks replacing a lead's assignees and the timeline entry
// that records it.
func testAssignees(t *testing.T, open Open) {
	ctx := context.Background()
	s := openClock(t, open)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	p := fullPayload()
	lead := capture(t, s, ch, p)
	other := capture(t, s, ch, leadwire.Payload{Email: "other@example.com", Assignees: []leadwire.Assignee{{Email: "keep@example.com"}}})
	before := p.Assignees

	replace := func(list []leadwire.Assignee, key string) *leadwire.Lead {
		t.Helper()
		got, err := s.ReplaceAssignees(ctx, lead.ID, list, key)
		if err != nil {
			t.Fatalf("ReplaceAssignees(%+v): %v", list, err)
		}
		return got
	}
	timeline := func() []*leadwire.Activity {
		t.Helper()
		for _, l := range findLeads(t, s, leadwire.LeadFilter{}) {
			if l.ID == lead.ID {
				return l.Timeline
			}
		}
		t.Fatal("the lead is gone")
		return nil
	}

	newList := []leadwire.Assignee{
		{Email: " bob@example.com ", FirstName: "Bob", PhoneNumber: "(214) 555-0101"},
		{},
		{MLSID: "M2", MLS: "NTREIS"},
	}
	normalized := []leadwire.Assignee{{Email: "bob@example.com", FirstName: "Bob", PhoneNumber: "+12145550101"}, {MLSID: "M2", MLS: "NTREIS"}}
	changedAt := s.advance(time.Minute)
	got := replace(newList, "put-1")
	if !reflect.DeepEqual(got.Payload.Assignees, normalized) {
		t.Errorf("assignees = %+v, want %+v", got.Payload.Assignees, normalized)
	}
	p.Assignees = normalized
	if !reflect.DeepEqual(got.Payload, p) {
		t.Errorf("other fields changed:\n got %#v\nwant %#v", got.Payload, p)
	}
	if string(got.Raw) != string(lead.Raw) || got.ContactID != lead.ContactID || !got.CreatedAt.Equal(lead.CreatedAt) {
		t.Errorf("the lead changed beyond its assignees: %+v", got)
	}
	tl := timeline()
	if len(tl) != 1 || tl[0].Action != leadwire.ActionAssigneesChanged || !tl[0].CreatedAt.Equal(changedAt) {
		t.Fatalf("timeline = %s, want one %s activity at %v", dump(tl), leadwire.ActionAssigneesChanged, changedAt)
	}
	if want := leadwire.AssigneesChangeNotes(before, normalized); tl[0].Notes != want {
		t.Errorf("notes = %q, want %q", tl[0].Notes, want)
	}

	t.Run("retry with the key changes nothing", func(t *testing.T) {
		s.advance(time.Minute)
		got := replace([]leadwire.Assignee{{Email: "late@example.com"}}, "put-1")
		if !reflect.DeepEqual(got.Payload.Assignees, normalized) || len(timeline()) != 1 {
			t.Errorf("a retry changed the lead: %+v, timeline %s", got.Payload.Assignees, dump(timeline()))
		}
	})
	t.Run("an equal list records nothing", func(t *testing.T) {
		replace(normalized, "")
		if n := len(timeline()); n != 1 {
			t.Errorf("timeline has %d activities, want 1", n)
		}
	})
	t.Run("an empty list removes them", func(t *testing.T) {
		got := replace(nil, "")
		if got.Payload.Assignees != nil {
			t.Errorf("assignees = %+v, want none", got.Payload.Assignees)
		}
		tl := timeline()
		if len(tl) != 2 || tl[1].Notes != leadwire.AssigneesChangeNotes(normalized, nil) {
			t.Errorf("timeline = %s", dump(tl))
		}
	})
	t.Run("other leads keep theirs", func(t *testing.T) {
		found, err := s.FindLeadByID(ctx, other.ID)
		if err != nil || len(found.Payload.Assignees) != 1 || found.Payload.Assignees[0].Email != "keep@example.com" {
			t.Errorf("other lead = %+v, %v", found, err)
		}
	})
	t.Run("unknown lead", func(t *testing.T) {
		for _, id := range []string{uuid.NewString(), "lead-1"} {
			_, err := s.ReplaceAssignees(ctx, id, normalized, "")
			wantCode(t, err, leadwire.ENOTFOUND)
		}
	})
}
