package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
)

// TestEraseLocksKeysGivenMeanwhile: a capture holding a contact's email
// key gives the contact a phone and commits while an erasure waits for
// that key; the erasure then holds the phone's lock too, so that no
// capture finds the contact by it until the erasure ends.
func TestEraseLocksKeysGivenMeanwhile(t *testing.T) {
	ctx := context.Background()
	s, _, ch := openWithChannel(t)
	leads, _, err := s.CaptureLeads(ctx, &leadwire.Capture{ChannelID: ch.ID,
		Leads: []*leadwire.Lead{{Payload: leadwire.Payload{Email: "ann@example.com"}, Raw: []byte(`{}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	contact := leads[0].ContactID
	email := matchKey{ch.Brand(), "email", leadwire.EmailKey("ann@example.com")}
	phone := matchKey{ch.Brand(), "phone", "+12145550100"}

	// The capture: holds the email's lock.
	capture, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer capture.Rollback(ctx)
	if _, err := capture.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", email.lockID()); err != nil {
		t.Fatal(err)
	}
	// The erasure's first step, which waits for the email's lock.
	erase, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer erase.Rollback(ctx)
	locked := make(chan error, 1)
	go func() { locked <- lockContactKeys(ctx, erase, []string{contact}) }()
	waiting := false
	for deadline := time.Now().Add(5 * time.Second); !waiting && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted)").Scan(&waiting); err != nil {
			t.Fatal(err)
		}
	}
	if !waiting {
		t.Fatal("the erasure did not wait for the email's lock")
	}
	// The capture fills the phone and commits.
	if _, err := capture.Exec(ctx, "INSERT INTO contact_keys (contact_id, kind, brand, key, updated_at) VALUES ($1, 'phone', $2, $3, 1)",
		contact, phone.brand, phone.key); err != nil {
		t.Fatal(err)
	}
	if err := capture.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-locked; err != nil {
		t.Fatal(err)
	}
	var free bool
	if err := s.pool.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", phone.lockID()).Scan(&free); err != nil {
		t.Fatal(err)
	}
	if free {
		t.Error("a capture could take the lock of the phone the contact was given while the erasure waited")
		s.pool.Exec(ctx, "SELECT pg_advisory_unlock($1)", phone.lockID())
	}
}
