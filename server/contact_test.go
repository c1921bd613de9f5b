package server_test

import (
	"testing"

	"github.com/leadwire/leadwire/internal/testserver"
)

// TestCaptureKeepsKnownContact: whoever knows a channel id can post a lead
// naming a known person's email; the contact keeps its name and phone,
// takes only the values it lacked, and the lead keeps what was sent. The
// contact id in the answer is random, so it does not tell the sender when
// the person became known.
func TestCaptureKeepsKnownContact(t *testing.T) {
	s := testserver.Start(t)
	capture := func(body string) (lead, contact string) {
		t.Helper()
		a := do(t, "POST", webhook(s, s.ChannelID), "application/json", body)
		if a.status != 200 {
			t.Fatalf("status %d: %v", a.status, a.body)
		}
		return a.data()["id"].(string), a.data()["contact"].(string)
	}
	_, alice := capture(`{"first_name":"Alice","email":"alice@example.com","phone_number":"214-555-0199"}`)
	forged, contact := capture(`{"first_name":"Mallory","last_name":"Evil","email":"ALICE@example.com","phone_number":"214-555-0666"}`)
	if contact != alice {
		t.Fatalf("the lead joined contact %s, want Alice's %s", contact, alice)
	}
	c, err := s.Store.FindContactByID(t.Context(), alice)
	if err != nil {
		t.Fatal(err)
	}
	if c.FirstName != "Alice" || c.Email != "alice@example.com" || c.PhoneNumber != "+12145550199" || c.LastName != "Evil" {
		t.Errorf("contact = %+v, want Alice's values kept and only the empty last name filled", c)
	}
	stored := s.Leads(t)[0] // the newest
	if p := stored.Payload; stored.ID != forged || p.FirstName != "Mallory" || p.Email != "ALICE@example.com" || p.PhoneNumber != "+12145550666" {
		t.Errorf("stored lead %s = %+v, want lead %s with the values sent", stored.ID, p, forged)
	}
}
