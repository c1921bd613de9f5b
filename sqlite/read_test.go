package sqlite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/leadwire/leadwire"
)

// TestEraseLeavesNothingInFiles checks that the values of an erased
// contact cannot be found in the database file nor its write-ahead log,
// though they shared pages with other contacts' leads.
func TestEraseLeavesNothingInFiles(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	ch := &leadwire.Channel{Name: "Site", BrandID: "b"}
	if err := s.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	capture := func(p leadwire.Payload, key string) *leadwire.Lead {
		t.Helper()
		raw, _ := json.Marshal(p)
		return mustCapture(t, s, &leadwire.Capture{ChannelID: ch.ID, IdempotencyKey: key, RequestHash: "h",
			Leads: []*leadwire.Lead{{Payload: p, Raw: raw}}})[0]
	}
	for i := range 200 {
		capture(leadwire.Payload{Email: fmt.Sprintf("before%d@example.com", i), Note: "a neighbour on the same pages"}, "")
	}
	secrets := []string{"zelda.quixote@example.com", "Zelda", "Quixotic", "2145550177", "5550177", "Marshmallow Lane", "tangerine"}
	erased := capture(leadwire.Payload{FirstName: "Zelda", LastName: "Quixotic", Email: "zelda.quixote@example.com",
		PhoneNumber: "+12145550177", Address: &leadwire.Address{Text: "12 Marshmallow Lane"},
		Assignees: []leadwire.Assignee{{Email: "agent@example.com"}}}, "form-zelda")
	again := capture(leadwire.Payload{Email: "ZELDA.quixote@example.com", Note: "tangerine"}, "")
	for i := range 200 {
		capture(leadwire.Payload{Email: fmt.Sprintf("after%d@example.com", i)}, "")
	}
	if err := s.AddActivity(ctx, &leadwire.Activity{LeadID: erased.ID, Action: leadwire.ActionSignedUp, Notes: "Zelda signed up"}); err != nil {
		t.Fatal(err)
	}
	owner := &leadwire.User{ID: uuid.NewString(), Email: "owner@example.com", Role: leadwire.RoleOwner}
	if _, err := s.UpdateLead(leadwire.NewContextWithUser(ctx, owner), again.ID, leadwire.LeadUpdate{Notes: new("Zelda asked about tangerine trees")}); err != nil {
		t.Fatal(err)
	}
	found := func() []string {
		var in []string
		for _, suffix := range []string{"", "-wal"} {
			b, err := os.ReadFile(s.path + suffix)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			for _, v := range secrets {
				if bytes.Contains(bytes.ToLower(b), bytes.ToLower([]byte(v))) {
					in = append(in, fmt.Sprintf("%q in %s", v, "leadwire.db"+suffix))
				}
			}
		}
		return in
	}
	// Indexed for search, so that the words of the leads are in the index
	// and its word list too.
	if err := s.searchable(ctx); err != nil {
		t.Fatal(err)
	}
	if len(found()) == 0 {
		t.Fatal("the values are not in the files before the erasure: the test proves nothing")
	}
	if err := s.EraseContact(leadwire.NewContextWithUser(ctx, owner), erased.ContactID); err != nil {
		t.Fatal(err)
	}
	if in := found(); len(in) > 0 {
		t.Errorf("after the erasure the files still hold %s", strings.Join(in, ", "))
	}
	for word, want := range map[string]bool{"zelda": false, "quixotic": false, "marshmallow": false, "neighbour": true, "example": true} {
		var held bool
		if err := s.read.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM search_words WHERE word = ?)", word).Scan(&held); err != nil {
			t.Fatal(err)
		}
		if held != want {
			t.Errorf("search word %q kept: %v, want %v", word, held, want)
		}
	}

	t.Run("audit", func(t *testing.T) {
		var userID, action, subject, details string
		if err := s.read.QueryRowContext(ctx, "SELECT user_id, action, subject, details FROM audit").Scan(&userID, &action, &subject, &details); err != nil {
			t.Fatal(err)
		}
		var d struct{ Leads []string }
		if err := json.Unmarshal([]byte(details), &d); err != nil {
			t.Fatal(err)
		}
		slices.Sort(d.Leads)
		want := []string{erased.ID, again.ID}
		slices.Sort(want)
		if userID != owner.ID || action != ActionContactErased || subject != erased.ContactID || !slices.Equal(d.Leads, want) {
			t.Errorf("audit = %s %s %s %v; want %s erased %s with leads %v", userID, action, subject, d.Leads, owner.ID, erased.ContactID, want)
		}
	})
	t.Run("a restart still refuses the erased capture's key", func(t *testing.T) {
		s.w.mem = nil // as after a restart: read from the database
		p := leadwire.Payload{Email: "zelda.quixote@example.com"}
		_, _, err := s.CaptureLeads(ctx, &leadwire.Capture{ChannelID: ch.ID, IdempotencyKey: "form-zelda", RequestHash: "h",
			Leads: []*leadwire.Lead{{Payload: p}}})
		if leadwire.ErrorCode(err) != leadwire.ECONFLICT {
			t.Errorf("retry after restart: %v, want a conflict", err)
		}
	})
}

// TestSearchExpandsWords checks that a word typed finds the leads holding
// words it begins, whether it begins none, a few or more words than it is
// expanded into.
func TestSearchExpandsWords(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	ch := &leadwire.Channel{Name: "Site"}
	if err := s.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	for i := range maxWordExpansion + 6 {
		mustCapture(t, s, &leadwire.Capture{ChannelID: ch.ID, Leads: []*leadwire.Lead{{Payload: leadwire.Payload{
			FirstName: fmt.Sprintf("Wanda%03d", i), LastName: "Ortiz", Note: "José asked"}}}})
	}
	mustCapture(t, s, &leadwire.Capture{ChannelID: ch.ID, Leads: []*leadwire.Lead{{Payload: leadwire.Payload{
		FirstName: "Wanderer", LastName: "Smith"}}}})
	for _, c := range []struct {
		q    string
		want int
	}{
		{"wand", maxWordExpansion + 7}, // more words than expanded: FTS5's prefix query
		{"wanda00", 10},
		{"wande", 1},
		{"WANDER smi", 1},
		{"wanda001 ortiz", 1},
		{"wandb", 0},
		{"jose", maxWordExpansion + 6},
		{"josé", maxWordExpansion + 6}, // not ASCII: FTS5's prefix query, which folds it
	} {
		leads, _, err := s.SearchLeads(ctx, leadwire.LeadFilter{Query: c.q, Limit: MaxSearchLimit})
		if err != nil || len(leads) != c.want {
			t.Errorf("q %q: %d leads, %v; want %d", c.q, len(leads), err, c.want)
		}
	}
}

// TestSearchFindsNewLeadAtOnce checks that a captured lead is searchable
// as soon as its capture is answered.
func TestSearchFindsNewLeadAtOnce(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	ch := &leadwire.Channel{Name: "Site"}
	if err := s.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	mustCapture(t, s, &leadwire.Capture{ChannelID: ch.ID, Leads: []*leadwire.Lead{{Payload: leadwire.Payload{FirstName: "Fresh"}}}})
	leads, _, err := s.SearchLeads(ctx, leadwire.LeadFilter{Query: "fresh"})
	if err != nil || len(leads) != 1 {
		t.Fatalf("SearchLeads = %d leads, %v", len(leads), err)
	}
}

// FuzzSearchQuery runs what anyone may type as q against a real index:
// the answer is leads or EINVALID, never an FTS5 syntax error.
func FuzzSearchQuery(f *testing.F) {
	for _, q := range []string{"jane", `"`, `""*`, "a OR b", "NEAR(a b)", "a:b", "-x", "^x", "*", "(", "214-555-0100",
		"+1 (214) 555-0100", "é", "a\u0301", "x\x00y", "日本語", "Ǆ", "１２３４", "a_b", "a'b", "🙂 smile", "col:x AND y"} {
		f.Add(q)
	}
	ctx := context.Background()
	s, _ := openTest(f)
	ch := &leadwire.Channel{Name: "Site"}
	if err := s.CreateChannel(ctx, ch); err != nil {
		f.Fatal(err)
	}
	mustCapture(f, s, &leadwire.Capture{ChannelID: ch.ID, Leads: []*leadwire.Lead{{Payload: leadwire.Payload{
		FirstName: "Jane", Email: "jane@example.com", PhoneNumber: "+12145550100", Note: "日本語 é a\u0301 a_b"}}}})
	f.Fuzz(func(t *testing.T, q string) {
		_, _, err := s.SearchLeads(ctx, leadwire.LeadFilter{Query: q})
		if err != nil && leadwire.ErrorCode(err) != leadwire.EINVALID {
			t.Fatalf("SearchLeads(q %q): %v", q, err)
		}
	})
}

// TestIdleWriterIndexes checks that the writer indexes new leads for
// search by itself once captures stop, without a search asking.
func TestIdleWriterIndexes(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	ch := &leadwire.Channel{Name: "Site"}
	if err := s.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		mustCapture(t, s, &leadwire.Capture{ChannelID: ch.ID, Leads: []*leadwire.Lead{{Payload: leadwire.Payload{FirstName: "Idle"}}}})
	}
	deadline := time.Now().Add(time.Second)
	for {
		var n int
		if err := s.read.QueryRowContext(ctx, "SELECT count(*) FROM leads_fts WHERE leads_fts MATCH 'idle'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 3 && !s.w.searchBehind.Load() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a second after the captures %d of 3 leads are indexed", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
