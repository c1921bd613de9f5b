package server_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/testserver"
)

// TestExportCSV: one row per lead with the documented fields flattened,
// the list's filters, and every cell a spreadsheet would read as a
// formula escaped.
func TestExportCSV(t *testing.T) {
	s := testserver.Start(t)
	s.Unscreened(t, s.ChannelID) // the formulas' links would quarantine the lead
	_, owner := s.NewUser(t, leadwire.User{Email: "owner@example.com", Role: leadwire.RoleOwner})
	evil := captureID(t, s, s.ChannelID, `{"first_name":"=HYPERLINK(\"https://evil.example\",\"click\")","last_name":"@SUM(1+1)",
		"email":"-2+3@example.com","phone_number":"(214) 555-0100","note":"\t=cmd","message":"+1 call me",
		"tag":["buyer","=x"],"address":"1 Main St, Dallas, TX","assignees":[{"email":"agent@example.com"},{"first_name":"Bo"}],
		"listing":{"mls_number":"M1","price":1250000},"budget":"500k","user_id":"u1"}`)
	plain := captureID(t, s, s.ChannelID, `{"first_name":"Plain","email":"plain@example.com"}`)

	rows := exportRows(t, owner, s.URL+"/api/export/leads.csv")
	if len(rows) != 2 || rows[0]["id"] != plain || rows[1]["id"] != evil {
		t.Fatalf("rows %v, want the two leads newest first", rows)
	}
	r := rows[1]
	for col, want := range map[string]string{
		"first_name":    `'=HYPERLINK("https://evil.example","click")`,
		"last_name":     "'@SUM(1+1)",
		"email":         "'-2+3@example.com",
		"phone_number":  "'+12145550100",
		"note":          "'=cmd", // trimmed on capture
		"message":       "'+1 call me",
		"tag":           "buyer; =x",
		"address":       "1 Main St, Dallas, TX",
		"assignees":     "agent@example.com; Bo",
		"listing.price": "1250000",
		"user_id":       "u1",
		"extra":         `{"budget":"500k"}`,
		"status":        "new",
		"response_time": "",
		"lead_channel":  s.ChannelID,
	} {
		if r[col] != want {
			t.Errorf("%s = %q, want %q", col, r[col], want)
		}
	}
	if got := exportRows(t, owner, s.URL+"/api/export/leads.csv?q=plain"); len(got) != 1 || got[0]["id"] != plain {
		t.Errorf("filtered export: %v", got)
	}
	if a := api(t, owner, "GET", s.URL+"/api/export/leads.csv?limit=5", "", ""); a.status != 400 || !strings.Contains(a.body["message"].(string), "limit") {
		t.Errorf("export with a limit: %d %v", a.status, a.body)
	}
}

// TestExportCSVPagesThrough: an export of more leads than a page of the
// store lists every one of them once.
func TestExportCSVPagesThrough(t *testing.T) {
	s := testserver.Start(t)
	_, owner := s.NewUser(t, leadwire.User{Email: "owner@example.com", Role: leadwire.RoleOwner})
	const n = 450 // more than two pages of 200
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				do(t, "POST", webhook(s, s.ChannelID), "application/json", fmt.Sprintf(`{"email":"p%d@example.com"}`, i))
			}
		}()
	}
	wg.Wait()
	rows := exportRows(t, owner, s.URL+"/api/export/leads.csv")
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r["email"]] = true
	}
	if len(rows) != n || len(seen) != n {
		t.Fatalf("%d rows of %d leads, %d distinct", len(rows), n, len(seen))
	}
}
