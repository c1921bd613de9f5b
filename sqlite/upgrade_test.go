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
// upgraded, as a lead captured after it is.
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
		`INSERT INTO leads (id, channel_id, contact_id, created_at, parsed_payload) VALUES ('` + lead + `', '` + channel + `', '` + contact +
			`', 0, '{"email":"jo@example.com","assignees":[{"email":" Ana@Example.com "},{"first_name":"no email"}]}')`,
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
	other := leadwire.NewContextWithUser(ctx, &leadwire.User{ID: "u2", Email: "bo@example.com", Role: leadwire.RoleAgent})
	if leads, _, err := s.SearchLeads(other, leadwire.LeadFilter{}); err != nil || len(leads) != 0 {
		t.Errorf("another agent sees %d leads (%v), want none", len(leads), err)
	}
}
