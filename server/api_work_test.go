package server_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/testserver"
)

// TestAPIPatchStatusAndResponseTime: a status change and a note are
// activities naming who made them; the first step away from new records
// the response time, which later changes keep.
func TestAPIPatchStatusAndResponseTime(t *testing.T) {
	s := testserver.Start(t)
	_, owner := s.NewUser(t, leadwire.User{Email: "owner@example.com", Role: leadwire.RoleOwner})
	lead := captureID(t, s, s.ChannelID, `{"first_name":"Ann","email":"ann@example.com"}`)
	u := s.URL + "/api/leads/" + lead

	got := api(t, owner, "GET", u, "", "")
	if got.status != 200 || got.data()["status"] != "new" || got.data()["response_time"] != nil {
		t.Fatalf("new lead: %d %v", got.status, got.body)
	}
	a := api(t, owner, "PATCH", u, "application/json", `{"status":"contacted","notes":"Left a voicemail"}`)
	if a.status != 200 {
		t.Fatalf("patch: %d %v", a.status, a.body)
	}
	d := a.data()
	rt, ok := d["response_time"].(float64)
	if d["status"] != "contacted" || !ok || rt < 0 || rt > 60 || d["responded_at"] == nil {
		t.Fatalf("after the first change: status %v, response_time %v, responded_at %v", d["status"], d["response_time"], d["responded_at"])
	}
	var actions []string
	for _, e := range d["timeline"].([]any) {
		act := e.(map[string]any)
		actions = append(actions, act["action"].(string))
		if act["actor"] != "owner@example.com" {
			t.Errorf("activity %v does not name who made it", act)
		}
	}
	if strings.Join(actions, ",") != strings.Join([]string{leadwire.ActionStatusChanged, leadwire.ActionNoteAdded}, ",") &&
		strings.Join(actions, ",") != strings.Join([]string{leadwire.ActionNoteAdded, leadwire.ActionStatusChanged}, ",") {
		t.Errorf("timeline actions %v", actions)
	}

	b := api(t, owner, "PATCH", u, "application/json", `{"status":"qualified"}`)
	if b.status != 200 || b.data()["status"] != "qualified" || b.data()["response_time"] != rt || b.data()["responded_at"] != d["responded_at"] {
		t.Fatalf("a later change moved the response time: %v then %v", d, b.data())
	}
	if n := len(b.data()["timeline"].([]any)); n != 3 {
		t.Errorf("timeline of %d activities after three changes", n)
	}
	// The list shows the lead as it stands.
	list := api(t, owner, "GET", s.URL+"/api/leads?status=qualified", "", "")
	if ids(t, list)[0] != lead || list.body["data"].([]any)[0].(map[string]any)["response_time"] != rt {
		t.Errorf("list: %v", list.body)
	}

	for _, tc := range []struct{ contentType, body, names string }{
		{"application/json", `{"status":"won"}`, "won"},
		{"application/json", `{"stauts":"new"}`, "stauts"},
		{"application/json", `{}`, "nothing to change"},
		{"application/json", `{"notes":5}`, "notes"},
		{"application/json", `[`, "malformed JSON"},
	} {
		a := api(t, owner, "PATCH", u, tc.contentType, tc.body)
		if a.status != 400 || !strings.Contains(a.body["message"].(string), tc.names) {
			t.Errorf("%s: %d %v, want 400 naming %s", tc.body, a.status, a.body, tc.names)
		}
	}
	if a := api(t, owner, "PATCH", u, "text/csv", `{"status":"new"}`); a.status != 415 {
		t.Errorf("text/csv: %d %v, want 415", a.status, a.body)
	}
}

// TestAPIAssignees: the authenticated route replaces the assignees as the
// public one does, names who did it, and the agent assigned then sees the
// lead.
func TestAPIAssignees(t *testing.T) {
	s := testserver.Start(t)
	_, owner := s.NewUser(t, leadwire.User{Email: "owner@example.com", Role: leadwire.RoleOwner})
	_, ann := s.NewUser(t, leadwire.User{Email: "ann@example.com", Role: leadwire.RoleAgent})
	lead := captureID(t, s, s.ChannelID, `{"email":"p@example.com"}`)
	if a := api(t, ann, "GET", s.URL+"/api/leads/"+lead, "", ""); a.status != 404 {
		t.Fatalf("before: %d", a.status)
	}
	a := api(t, owner, "PUT", s.URL+"/api/leads/"+lead+"/assignees", "application/json", `[{"email":"Ann@example.com","first_name":"Ann"}]`)
	if a.status != 200 {
		t.Fatalf("put: %d %v", a.status, a.body)
	}
	as := a.data()["assignees"].([]any)
	if len(as) != 1 || as[0].(map[string]any)["email"] != "Ann@example.com" {
		t.Errorf("assignees %v", as)
	}
	tl := a.data()["timeline"].([]any)
	if len(tl) != 1 || tl[0].(map[string]any)["action"] != leadwire.ActionAssigneesChanged {
		t.Errorf("timeline %v", tl)
	}
	if a := api(t, ann, "GET", s.URL+"/api/leads/"+lead, "", ""); a.status != 200 {
		t.Fatalf("the assigned agent: %d %v", a.status, a.body)
	}
	if a := api(t, owner, "PUT", s.URL+"/api/leads/"+lead+"/assignees", "application/json", `{"email":"x@example.com"}`); a.status != 400 {
		t.Errorf("an object for a list: %d %v", a.status, a.body)
	}
}

// TestAPIContactAndErasure: a contact lists its leads and a lead shows
// its contact's others; erasing the contact leaves none of its values in
// the database files, and a replay of its capture does not bring it back.
func TestAPIContactAndErasure(t *testing.T) {
	s := testserver.Start(t)
	_, owner := s.NewUser(t, leadwire.User{Email: "owner@example.com", Role: leadwire.RoleOwner})
	const email, phone = "erase-me-7@example.com", "+12145550177"
	first := do(t, "POST", webhook(s, s.ChannelID), "application/json",
		`{"first_name":"Eraseme","email":"`+email+`","note":"unforgettable-note"}`, "Idempotency-Key", "k-erase-1").data()
	second := captureID(t, s, s.ChannelID, `{"email":"`+email+`","phone_number":"`+phone+`"}`)
	keep := captureID(t, s, s.ChannelID, `{"email":"keep@example.com"}`)
	contact := first["contact"].(string)

	c := api(t, owner, "GET", s.URL+"/api/contacts/"+contact, "", "")
	if c.status != 200 || c.data()["email"] != email || len(c.data()["leads"].([]any)) != 2 {
		t.Fatalf("contact: %d %v", c.status, c.body)
	}
	d := api(t, owner, "GET", s.URL+"/api/leads/"+second, "", "")
	cd := d.data()["contact_detail"].(map[string]any)
	if d.data()["contact"] != contact || cd["id"] != contact || len(cd["leads"].([]any)) != 1 ||
		cd["leads"].([]any)[0].(map[string]any)["id"] != first["id"] {
		t.Fatalf("lead detail: contact %v, contact_detail %v", d.data()["contact"], cd)
	}

	if a := api(t, owner, "DELETE", s.URL+"/api/contacts/"+contact, "", ""); a.status != 204 {
		t.Fatalf("erase: %d %v", a.status, a.body)
	}
	for _, id := range []string{first["id"].(string), second} {
		if a := api(t, owner, "GET", s.URL+"/api/leads/"+id, "", ""); a.status != 404 {
			t.Errorf("erased lead %s: %d", id, a.status)
		}
	}
	if a := api(t, owner, "GET", s.URL+"/api/contacts/"+contact, "", ""); a.status != 404 {
		t.Errorf("erased contact: %d", a.status)
	}
	if a := api(t, owner, "DELETE", s.URL+"/api/contacts/"+contact, "", ""); a.status != 404 {
		t.Errorf("erasing again: %d", a.status)
	}
	if a := api(t, owner, "GET", s.URL+"/api/leads/"+keep, "", ""); a.status != 200 {
		t.Errorf("another contact's lead: %d", a.status)
	}
	// Every file of the database: the database, its WAL and shared memory.
	files, _ := filepath.Glob(s.DB + "*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{email, phone, "2145550177", "Eraseme", "unforgettable-note"} {
			if strings.Contains(string(b), v) {
				t.Errorf("%s still holds %q", filepath.Base(f), v)
			}
		}
	}
	replay := do(t, "POST", webhook(s, s.ChannelID), "application/json",
		`{"first_name":"Eraseme","email":"`+email+`","note":"unforgettable-note"}`, "Idempotency-Key", "k-erase-1")
	if replay.status == 200 && replay.data()["id"] == first["id"] {
		t.Errorf("the replay brought the erased lead back: %v", replay.body)
	}
	if _, err := s.Store.FindLeadByID(context.Background(), first["id"].(string)); leadwire.ErrorCode(err) != leadwire.ENOTFOUND {
		t.Errorf("after the replay the erased lead is %v", err)
	}
}

// TestAPIWithTheInboxSession: the inbox works leads with its session
// cookie, and its CSRF token on changes, as a token does.
func TestAPIWithTheInboxSession(t *testing.T) {
	s := testserver.Start(t)
	s.NewUser(t, leadwire.User{Email: "ann@example.com", Role: leadwire.RoleOwner})
	cookie, csrf := signIn(t, s, "ann@example.com")
	lead := captureID(t, s, s.ChannelID, `{"email":"p@example.com"}`)
	if a := do(t, "GET", s.URL+"/api/leads", "", "", "Cookie", cookie); a.status != 200 || len(a.body["data"].([]any)) != 1 {
		t.Fatalf("list: %d %v", a.status, a.body)
	}
	a := do(t, "PATCH", s.URL+"/api/leads/"+lead, "application/json", `{"status":"contacted"}`, "Cookie", cookie, "X-CSRF-Token", csrf)
	if a.status != 200 || a.data()["timeline"].([]any)[0].(map[string]any)["actor"] != "ann@example.com" {
		t.Fatalf("patch: %d %v", a.status, a.body)
	}
}

// TestAPIContactOfManyLeads: a contact of more leads than a page holds
// lists its newest 100, as does the page of each of its leads, with the
// cursor of the others, which GET /api/leads?contact= continues; the
// inbox's lead page links to them all.
func TestAPIContactOfManyLeads(t *testing.T) {
	s := testserver.Start(t)
	_, owner := s.NewUser(t, leadwire.User{Email: "owner@example.com", Role: leadwire.RoleOwner})
	const leads = 105
	var contact, newest string
	for i := range leads {
		a := do(t, "POST", webhook(s, s.ChannelID), "application/json",
			fmt.Sprintf(`{"email":"portal@example.com","note":"lead %d"}`, i))
		if a.status != 200 {
			t.Fatalf("capture %d: %d %v", i, a.status, a.body)
		}
		contact, newest = a.data()["contact"].(string), a.data()["id"].(string)
	}
	c := api(t, owner, "GET", s.URL+"/api/contacts/"+contact, "", "")
	next, _ := c.data()["leads_next"].(string)
	if c.status != 200 || len(c.data()["leads"].([]any)) != 100 || next == "" {
		t.Fatalf("contact: %d, %d leads, leads_next %q", c.status, len(c.data()["leads"].([]any)), next)
	}
	seen := map[string]bool{}
	for _, l := range c.data()["leads"].([]any) {
		seen[l.(map[string]any)["id"].(string)] = true
	}
	rest := api(t, owner, "GET", s.URL+"/api/leads?contact="+contact+"&cursor="+url.QueryEscape(next), "", "")
	if rest.status != 200 || rest.body["next"] != nil {
		t.Fatalf("the contact's older leads: %d %v", rest.status, rest.body["next"])
	}
	for _, id := range ids(t, rest) {
		if seen[id] {
			t.Errorf("lead %s is on both pages", id)
		}
		seen[id] = true
	}
	if len(seen) != leads {
		t.Errorf("the contact's pages list %d leads, want %d", len(seen), leads)
	}
	d := api(t, owner, "GET", s.URL+"/api/leads/"+newest, "", "")
	cd := d.data()["contact_detail"].(map[string]any)
	if others := cd["leads"].([]any); len(others) != 99 || cd["leads_next"] != next {
		t.Errorf("lead detail: %d other leads, leads_next %v; want 99 and %q", len(others), cd["leads_next"], next)
	}
	if a := api(t, owner, "GET", s.URL+"/api/leads?contact=nobody", "", ""); a.status != 400 || !strings.Contains(fmt.Sprint(a.body), "contact") {
		t.Errorf("a contact that is not an id: %d %v", a.status, a.body)
	}
	// The contact's leads are no one else's business.
	if a := do(t, "GET", s.URL+"/api/leads?contact="+contact, "", ""); a.status != 401 {
		t.Errorf("the contact's leads without a credential: %d", a.status)
	}
	_, agent := s.NewUser(t, leadwire.User{Email: "agent@example.com"})
	if a := api(t, agent, "GET", s.URL+"/api/leads?contact="+contact, "", ""); a.status != 200 || len(ids(t, a)) != 0 {
		t.Errorf("an agent of none of them lists the contact's leads: %d, %d leads", a.status, len(ids(t, a)))
	}
	if a := api(t, agent, "GET", s.URL+"/api/contacts/"+contact, "", ""); a.status != 404 {
		t.Errorf("an agent of none of its leads reads the contact: %d", a.status)
	}
	in := newInboxClient(t, s)
	in.signIn("owner@example.com", testserver.Password)
	if p := in.get("/inbox/leads/" + newest); p.status != 200 || !strings.Contains(p.body, `href="/inbox/?contact=`+contact+`"`) {
		t.Errorf("the lead's page does not link to all its contact's leads: %d", p.status)
	}
	if p := in.get("/inbox/?contact=" + contact); p.status != 200 || strings.Count(p.body, `class="lead`) < 50 {
		t.Errorf("the Leads page of the contact: %d", p.status)
	}
	if p := in.get("/inbox/?contact=" + url.QueryEscape("<img src=x onerror=alert(1)>")); p.status != 400 || strings.Contains(p.body, "<img") {
		t.Errorf("a contact filter of markup: %d, shown unescaped: %v", p.status, strings.Contains(p.body, "<img"))
	}
}

// TestContactPagesEscapeVisitorValues: the pages that list a contact's
// leads show a visitor's markup as text, and its CSV export does not
// start a cell with a formula.
func TestContactPagesEscapeVisitorValues(t *testing.T) {
	s := testserver.Start(t)
	s.Unscreened(t, s.ChannelID)
	_, owner := s.NewUser(t, leadwire.User{Email: "owner@example.com", Role: leadwire.RoleOwner})
	markup := captureID(t, s, s.ChannelID, `{"first_name":"<img src=x onerror=alert(1)>","email":"same@example.com"}`)
	formula := captureID(t, s, s.ChannelID, `{"first_name":"=HYPERLINK(\"x\")","email":"same@example.com"}`)
	contact := api(t, owner, "GET", s.URL+"/api/leads/"+markup, "", "").data()["contact"].(string)
	in := newInboxClient(t, s)
	in.signIn("owner@example.com", testserver.Password)
	for _, path := range []string{"/inbox/leads/" + formula, "/inbox/?contact=" + contact} {
		if p := in.get(path); p.status != 200 || strings.Contains(p.body, "<img src=x") || !strings.Contains(p.body, "&lt;img src=x") {
			t.Errorf("GET %s: %d, the markup not shown as text", path, p.status)
		}
	}
	rows := exportRows(t, owner, s.URL+"/api/export/leads.csv?contact="+contact)
	names := map[string]string{}
	for _, r := range rows {
		names[r["id"]] = r["first_name"]
	}
	if len(rows) != 2 || names[formula] != `'=HYPERLINK("x")` || names[markup] != "<img src=x onerror=alert(1)>" {
		t.Errorf("the contact's CSV export: %v", names)
	}
}
