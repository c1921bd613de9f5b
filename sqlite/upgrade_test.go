package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/leadwire/leadwire"
)

// TestUpgradeKeepsAgentsLeads: a lead stored before the read model existed
// is found by the agent it names as an assignee once the database is
// upgraded, as a lead captured after it is, and by its contact; its
// capture and its contact's match keys are in the schema.
func TestUpgradeKeepsAgentsLeads(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "leadwire.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE schema_version (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"migrations/0001_initial.sql", "migrations/0002_contact_ids.sql", "migrations/0003_users.sql"} {
		body, err := migrations.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := db.Exec("INSERT INTO schema_version VALUES (?, 0)", name); err != nil {
			t.Fatal(err)
		}
	}
	const channel, contact, lead = "01a23000-0000-7000-8000-000000000001", "01a23000-0000-7000-8000-000000000002", "01a23000-0000-7000-8000-000000000003"
	for _, q := range []string{
		`INSERT INTO channels (id, name, created_at) VALUES ('` + channel + `', 'Site', 0)`,
		`INSERT INTO contacts (id, brand, email, email_key, created_at, updated_at) VALUES ('` + contact + `', 'b', 'jo@example.com', 'jo@example.com', 0, 0)`,
		`INSERT INTO leads (id, channel_id, contact_id, created_at, idempotency_key, request_hash, parsed_payload) VALUES ('` + lead + `', '` + channel + `', '` + contact +
			`', 0, 'k', 'h', '{"email":"jo@example.com","assignees":[{"email":" Ana@Example.com "},{"first_name":"no email"}]}')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, _ := openTestAt(t, path)
	agent := leadwire.NewContextWithUser(ctx, &leadwire.User{ID: "u1", Email: "ana@example.com", Role: leadwire.RoleAgent})
	leads, _, err := s.SearchLeads(agent, leadwire.LeadFilter{})
	if err != nil || len(leads) != 1 || leads[0].ID != lead {
		t.Fatalf("the agent's leads after the upgrade: %d, %v; want the lead stored before it", len(leads), err)
	}
	if mine, _, err := s.SearchLeads(ctx, leadwire.LeadFilter{ContactID: leads[0].ContactID}); err != nil || len(mine) != 1 {
		t.Errorf("the contact's leads after the upgrade: %d, %v; want its lead", len(mine), err)
	}
	var ids, holder string
	if err := s.read.QueryRow("SELECT lead_ids FROM captures WHERE channel_id = ? AND idempotency_key = 'k' AND request_hash = 'h'", channel).Scan(&ids); err != nil || ids != `["`+lead+`"]` {
		t.Errorf("the capture of the lead after the upgrade: %s, %v", ids, err)
	}
	if err := s.read.QueryRow("SELECT contact_id FROM contact_keys WHERE brand = 'b' AND kind = 'email' AND key = 'jo@example.com'").Scan(&holder); err != nil || holder != contact {
		t.Errorf("the contact of the email after the upgrade: %s, %v; want %s", holder, err, contact)
	}
	other := leadwire.NewContextWithUser(ctx, &leadwire.User{ID: "u2", Email: "bo@example.com", Role: leadwire.RoleAgent})
	if leads, _, err := s.SearchLeads(other, leadwire.LeadFilter{}); err != nil || len(leads) != 0 {
		t.Errorf("another agent sees %d leads (%v), want none", len(leads), err)
	}
}
