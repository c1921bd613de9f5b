package postgres

import (
	"context"
	"encoding/json"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/pgtest"
	"github.com/leadwire/leadwire/internal/storetest"
)

// TestScreeningMigratesInPlace: a database made before screening takes
// the screening migration when a server opens it, and keeps its leads and
// channels: no source, no spam reasons, default screening.
func TestScreeningMigratesInPlace(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewSchema(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	initial, err := migrations.ReadFile("migrations/0001_initial.sql")
	if err != nil {
		t.Fatal(err)
	}
	const channelID, contactID, leadID = "0190c3a4-0000-7000-8000-000000000001", "9b7c2f0e-4d1a-4e2b-8c3d-5e6f7a8b9c0d", "0190c3a4-0000-7000-8000-000000000002"
	for _, q := range []string{
		"CREATE TABLE schema_version (name text PRIMARY KEY, applied_at bigint NOT NULL)",
		string(initial),
		"INSERT INTO schema_version VALUES ('migrations/0001_initial.sql', 0)",
		"INSERT INTO channels (id, name, created_at) VALUES ('" + channelID + "', 'Site', 1)",
		"INSERT INTO contacts (id, brand, email, created_at, updated_at) VALUES ('" + contactID + "', 'channel:" + channelID + "', 'ann@example.com', 2, 2)",
		`INSERT INTO leads (id, channel_id, contact_id, capture_id, created_at, parsed_payload, search)
			VALUES ('` + leadID + `', '` + channelID + `', '` + contactID + `', gen_random_uuid(), 2, '{"email":"ann@example.com"}', '')`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	var now atomic.Pointer[time.Time]
	at := storetest.Start
	now.Store(&at)
	s := openAt(t, url, &now)
	ch, err := s.FindChannelByID(ctx, channelID)
	if err != nil || ch.Name != "Site" || !ch.Screening.Enabled("honeypot") || ch.Screening.AddressRate != 0 {
		t.Fatalf("the channel after the migration = %+v, %v", ch, err)
	}
	l, err := s.FindLeadByID(ctx, leadID)
	if err != nil || l.Status != leadwire.StatusNew || l.Source != (leadwire.Source{}) || l.SpamReasons != nil || l.Payload.Email != "ann@example.com" {
		t.Fatalf("the lead after the migration = %+v, %v", l, err)
	}
	if leads, _, err := s.SearchLeads(ctx, leadwire.LeadFilter{}); err != nil || len(leads) != 1 {
		t.Errorf("SearchLeads after the migration = %d leads, %v; want the one lead", len(leads), err)
	}
	set := leadwire.ScreeningSettings{AddressRate: 3}
	if _, err := s.UpdateChannel(ctx, channelID, leadwire.ChannelUpdate{Screening: &set}); err != nil {
		t.Fatal(err)
	}
	// Opening again applies nothing twice.
	again := openAt(t, url, &now)
	if ch, err := again.FindChannelByID(ctx, channelID); err != nil || ch.Screening.AddressRate != 3 {
		t.Errorf("the channel on reopening = %+v, %v", ch, err)
	}
}

// TestDeleteSpamLeavesNoTrace: once DeleteSpam has run, no table holds a
// value of the deleted spam (its payload, its timeline, its capture's
// Idempotency-Key), and the audit records which leads went, without them.
func TestDeleteSpamLeavesNoTrace(t *testing.T) {
	ctx := context.Background()
	s, setNow, ch := openWithChannel(t)
	p := leadwire.Payload{FirstName: "Zqxjvbot", Email: "zqxjvbot@spam.example", PhoneNumber: "+12145550166", Note: "zqxjvbot pills"}
	p.Normalize()
	raw, _ := json.Marshal(p)
	leads, _, err := s.CaptureLeads(ctx, &leadwire.Capture{ChannelID: ch.ID, IdempotencyKey: "zqxjvbot-key", RequestHash: "h",
		Source: leadwire.Source{Address: "198.51.100.4", UserAgent: "zqxjvbot/1.0"},
		Leads:  []*leadwire.Lead{{Payload: p, Raw: raw, Status: leadwire.StatusSpam, SpamReasons: []string{"honeypot"}}}})
	if err != nil {
		t.Fatal(err)
	}
	spam := leads[0]
	if err := s.AddActivity(ctx, &leadwire.Activity{LeadID: spam.ID, Action: leadwire.ActionViewedListing, Notes: "zqxjvbot viewed"}); err != nil {
		t.Fatal(err)
	}
	kept, _, err := s.CaptureLeads(ctx, &leadwire.Capture{ChannelID: ch.ID,
		Leads: []*leadwire.Lead{{Payload: leadwire.Payload{Email: "ann@example.com"}, Raw: json.RawMessage(`{}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	later := storetest.Start.Add(leadwire.SpamRetention + time.Hour)
	setNow(later)
	if n, err := s.DeleteSpam(ctx, later.Add(-leadwire.SpamRetention)); err != nil || n != 1 {
		t.Fatalf("DeleteSpam = %d, %v; want 1", n, err)
	}

	rows, err := s.pool.Query(ctx, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 10 {
		t.Fatalf("the tables: %v, %v", tables, err)
	}
	for _, table := range tables {
		var n int
		if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM "+table+" t WHERE t::text ILIKE '%zqxjvbot%' OR t::text LIKE '%2145550166%'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d rows of %s still hold the deleted spam", n, table)
		}
	}
	var userID, action, subject, details string
	var at int64
	if err := s.pool.QueryRow(ctx, "SELECT user_id, action, subject, details, created_at FROM audit").Scan(&userID, &action, &subject, &details, &at); err != nil {
		t.Fatal(err)
	}
	var d struct{ Leads []string }
	if err := json.Unmarshal([]byte(details), &d); err != nil {
		t.Fatal(err)
	}
	if userID != "" || action != ActionSpamDeleted || subject != "" || !slices.Equal(d.Leads, []string{spam.ID}) || at != later.UnixMilli() {
		t.Errorf("audit = %q %s %q %v at %d; want the command line's %s of %s at %d", userID, action, subject, d.Leads, at,
			ActionSpamDeleted, spam.ID, later.UnixMilli())
	}
	if _, err := s.FindLeadByID(ctx, kept[0].ID); err != nil {
		t.Errorf("the lead that is not spam: %v", err)
	}
}
