package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/leadwire/leadwire"
)

// readCases test the read model: SearchLeads, UpdateLead, visibility by
// user, and erasure.
var readCases = []storeCase{
	{"UpdateLead", testUpdateLead},
	{"Visibility", testVisibility},
	{"MemberVisibility", testMemberVisibility},
	{"SearchFilters", testSearchFilters},
	{"SearchQuery", testSearchQuery},
	{"SearchPages", testSearchPages},
	{"EraseContact", testEraseContact},
}

// Users the read cases act as. They need not be stored: the services
// decide by the user in the context.
var (
	owner  = &leadwire.User{ID: uuid.NewString(), Email: "owner@example.com", Role: leadwire.RoleOwner}
	agentA = &leadwire.User{ID: uuid.NewString(), Email: "Agent.A@Example.com", Role: leadwire.RoleAgent}
	agentB = &leadwire.User{ID: uuid.NewString(), Email: "agent.b@example.com", Role: leadwire.RoleAgent}
)

func as(u *leadwire.User) context.Context {
	return leadwire.NewContextWithUser(context.Background(), u)
}

// search returns the ids of every lead f selects for ctx, page by page.
func search(t *testing.T, s Store, ctx context.Context, f leadwire.LeadFilter) []string {
	t.Helper()
	var ids []string
	for range 1000 {
		leads, next, err := s.SearchLeads(ctx, f)
		if err != nil {
			t.Fatalf("SearchLeads(%+v): %v", f, err)
		}
		for _, l := range leads {
			ids = append(ids, l.ID)
		}
		if next == "" {
			return ids
		}
		f.Cursor = next
	}
	t.Fatal("SearchLeads never ends")
	return nil
}

func idsOf(leads ...*leadwire.Lead) []string {
	ids := make([]string, len(leads))
	for i, l := range leads {
		ids[i] = l.ID
	}
	return ids
}

func wantIDs(t *testing.T, what string, got []string, want ...*leadwire.Lead) {
	t.Helper()
	if w := idsOf(want...); !slices.Equal(got, w) {
		t.Errorf("%s = %v, want %v", what, got, w)
	}
}

func timelineOf(t *testing.T, s Store, id string) []*leadwire.Activity {
	t.Helper()
	for _, l := range findLeads(t, s, leadwire.LeadFilter{}) {
		if l.ID == id {
			return l.Timeline
		}
	}
	t.Fatalf("lead %s is gone", id)
	return nil
}

func ptr[T any](v T) *T { return &v }

// testUpdateLead checks status changes, notes, the timeline naming who
// made each change and the response time.
func testUpdateLead(t *testing.T, open Open) {
	s := openClock(t, open)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	captured := s.now
	lead := capture(t, s, ch, leadwire.Payload{Email: "visitor@example.com"})
	if lead.Status != leadwire.StatusNew || !lead.RespondedAt.IsZero() {
		t.Errorf("captured lead: status %q, responded at %v; want new and never", lead.Status, lead.RespondedAt)
	}
	found, err := s.FindLeadByID(as(owner), lead.ID)
	if err != nil || found.Status != leadwire.StatusNew || !found.RespondedAt.IsZero() {
		t.Fatalf("FindLeadByID = %+v, %v; want status new, no response", found, err)
	}

	respondedAt := s.advance(90 * time.Second)
	got, err := s.UpdateLead(as(owner), lead.ID, leadwire.LeadUpdate{Status: ptr(leadwire.StatusContacted)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != leadwire.StatusContacted || !got.RespondedAt.Equal(respondedAt) {
		t.Errorf("after contacting: status %q, responded at %v; want contacted at %v", got.Status, got.RespondedAt, respondedAt)
	}
	if rt := got.RespondedAt.Sub(captured); rt != 90*time.Second {
		t.Errorf("response time = %v, want 90s", rt)
	}
	tl := timelineOf(t, s, lead.ID)
	if len(tl) != 1 || tl[0].Action != leadwire.ActionStatusChanged || tl[0].Actor != owner.Email ||
		!tl[0].CreatedAt.Equal(respondedAt) || !strings.Contains(tl[0].Notes, "new") || !strings.Contains(tl[0].Notes, "contacted") {
		t.Fatalf("timeline = %s, want one %s by %s", dump(tl), leadwire.ActionStatusChanged, owner.Email)
	}

	t.Run("later changes keep the response time", func(t *testing.T) {
		for _, st := range []string{leadwire.StatusNew, leadwire.StatusQualified} {
			s.advance(time.Hour)
			got, err := s.UpdateLead(as(owner), lead.ID, leadwire.LeadUpdate{Status: ptr(st)})
			if err != nil || got.Status != st || !got.RespondedAt.Equal(respondedAt) {
				t.Errorf("UpdateLead(%s) = %+v, %v; want responded at %v still", st, got, err, respondedAt)
			}
		}
	})
	t.Run("notes, and the same status records nothing", func(t *testing.T) {
		at := s.advance(time.Minute)
		n := len(timelineOf(t, s, lead.ID))
		_, err := s.UpdateLead(as(agentA), lead.ID, leadwire.LeadUpdate{Status: ptr(leadwire.StatusQualified), Notes: ptr("  Called, wants a tour  ")})
		wantCode(t, err, leadwire.ENOTFOUND) // agentA cannot see it yet
		got, err := s.UpdateLead(context.Background(), lead.ID, leadwire.LeadUpdate{Status: ptr(leadwire.StatusQualified), Notes: ptr("  Called, wants a tour  ")})
		if err != nil {
			t.Fatal(err)
		}
		tl := timelineOf(t, s, lead.ID)
		if len(tl) != n+1 || got.Status != leadwire.StatusQualified {
			t.Fatalf("timeline = %s, want one more activity", dump(tl))
		}
		note := tl[n]
		if note.Action != leadwire.ActionNoteAdded || note.Notes != "Called, wants a tour" || note.Actor != "" || !note.CreatedAt.Equal(at) {
			t.Errorf("note = %s", dump(note))
		}
	})
	t.Run("bad updates", func(t *testing.T) {
		n := len(timelineOf(t, s, lead.ID))
		for _, u := range []leadwire.LeadUpdate{
			{}, {Status: ptr("")}, {Status: ptr("won")}, {Status: ptr("New")}, {Notes: ptr("   ")},
			{Notes: ptr(strings.Repeat("x", 10001))}, {Status: ptr(leadwire.StatusClosed), Notes: ptr("")},
		} {
			_, err := s.UpdateLead(as(owner), lead.ID, u)
			wantCode(t, err, leadwire.EINVALID)
		}
		if tl := timelineOf(t, s, lead.ID); len(tl) != n {
			t.Errorf("a refused update changed the timeline: %s", dump(tl))
		}
		for _, id := range append(nonCanonical(lead.ID), uuid.NewString(), "nope") {
			_, err := s.UpdateLead(as(owner), id, leadwire.LeadUpdate{Status: ptr(leadwire.StatusClosed)})
			wantCode(t, err, leadwire.ENOTFOUND)
		}
	})
}

// testVisibility checks what an agent sees: the leads assigned to them
// by email, whatever its case, and nothing else, which does not exist for
// them; an owner and the command line see everything.
func testVisibility(t *testing.T, open Open) {
	s := openClock(t, open)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	mine := capture(t, s, ch, leadwire.Payload{Email: "mine@example.com", Assignees: []leadwire.Assignee{{Email: " agent.a@EXAMPLE.com"}}})
	other := capture(t, s, ch, leadwire.Payload{Email: "other@example.com", Assignees: []leadwire.Assignee{{Email: "agent.b@example.com"}}})
	free := capture(t, s, ch, leadwire.Payload{Email: "free@example.com"})

	for _, ctx := range []context.Context{context.Background(), as(owner)} {
		wantIDs(t, "everything", search(t, s, ctx, leadwire.LeadFilter{}), free, other, mine)
		for _, l := range []*leadwire.Lead{mine, other, free} {
			if _, err := s.FindLeadByID(ctx, l.ID); err != nil {
				t.Errorf("FindLeadByID(%s): %v", l.Payload.Email, err)
			}
			findContact(t, s, l.ContactID)
		}
	}
	a := as(agentA)
	wantIDs(t, "agent A's leads", search(t, s, a, leadwire.LeadFilter{}), mine)
	if got, err := s.FindLeadByID(a, mine.ID); err != nil || got.ID != mine.ID {
		t.Errorf("FindLeadByID(mine) = %v, %v", got, err)
	}
	if _, err := s.FindContactByID(a, mine.ContactID); err != nil {
		t.Errorf("FindContactByID(mine): %v", err)
	}
	if _, err := s.UpdateLead(a, mine.ID, leadwire.LeadUpdate{Status: ptr(leadwire.StatusContacted)}); err != nil {
		t.Errorf("UpdateLead(mine): %v", err)
	}
	for _, l := range []*leadwire.Lead{other, free} {
		_, err := s.FindLeadByID(a, l.ID)
		wantCode(t, err, leadwire.ENOTFOUND)
		_, err = s.FindContactByID(a, l.ContactID)
		wantCode(t, err, leadwire.ENOTFOUND)
		_, err = s.UpdateLead(a, l.ID, leadwire.LeadUpdate{Status: ptr(leadwire.StatusSpam)})
		wantCode(t, err, leadwire.ENOTFOUND)
		_, err = s.ReplaceAssignees(a, l.ID, []leadwire.Assignee{{Email: agentA.Email}}, "")
		wantCode(t, err, leadwire.ENOTFOUND)
		if got, err := s.FindLeadByID(context.Background(), l.ID); err != nil || got.Status != leadwire.StatusNew {
			t.Errorf("a refused agent changed %s: %+v, %v", l.Payload.Email, got, err)
		}
	}
	wantIDs(t, "agent A's leads of another's contact", search(t, s, a, leadwire.LeadFilter{ContactID: other.ContactID}))

	t.Run("assignment follows ReplaceAssignees", func(t *testing.T) {
		if _, err := s.ReplaceAssignees(as(owner), free.ID, []leadwire.Assignee{{Email: "AGENT.A@example.com"}}, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ReplaceAssignees(a, mine.ID, []leadwire.Assignee{{Email: agentB.Email}}, ""); err != nil {
			t.Fatal(err) // an agent may hand their lead on
		}
		wantIDs(t, "agent A's leads", search(t, s, a, leadwire.LeadFilter{}), free)
		wantIDs(t, "agent B's leads", search(t, s, as(agentB), leadwire.LeadFilter{}), other, mine)
		_, err := s.FindLeadByID(a, mine.ID)
		wantCode(t, err, leadwire.ENOTFOUND)
		tl := timelineOf(t, s, mine.ID)
		if last := tl[len(tl)-1]; last.Action != leadwire.ActionAssigneesChanged || last.Actor != agentA.Email {
			t.Errorf("last activity = %s, want an assignee change by %s", dump(last), agentA.Email)
		}
	})
	t.Run("a role that is not owner sees as an agent", func(t *testing.T) {
		odd := &leadwire.User{ID: uuid.NewString(), Email: "agent.a@example.com", Role: "admin"}
		wantIDs(t, "unknown role's leads", search(t, s, as(odd), leadwire.LeadFilter{}), free)
	})
}

// testMemberVisibility checks that an agent sees the leads of the channels
// they are a member of, and only those.
func testMemberVisibility(t *testing.T, open Open) {
	ctx := context.Background()
	s := openClock(t, open)
	mine := mustChannel(t, s, leadwire.Channel{Name: "Mine"})
	other := mustChannel(t, s, leadwire.Channel{Name: "Other"})
	inMine := capture(t, s, mine, leadwire.Payload{Email: "one@example.com"})
	inOther := capture(t, s, other, leadwire.Payload{Email: "two@example.com"})
	agent := &leadwire.User{Email: "member@example.com", Role: leadwire.RoleAgent}
	if err := s.CreateUser(ctx, agent, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	a := as(agent)
	wantIDs(t, "before joining", search(t, s, a, leadwire.LeadFilter{}))
	if err := s.AddChannelMember(ctx, mine.ID, "MEMBER@example.com"); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "a member's leads", search(t, s, a, leadwire.LeadFilter{}), inMine)
	if _, err := s.FindLeadByID(a, inMine.ID); err != nil {
		t.Error(err)
	}
	if _, err := s.FindContactByID(a, inMine.ContactID); err != nil {
		t.Error(err)
	}
	if _, err := s.UpdateLead(a, inMine.ID, leadwire.LeadUpdate{Notes: ptr("called")}); err != nil {
		t.Error(err)
	}
	_, err := s.FindLeadByID(a, inOther.ID)
	wantCode(t, err, leadwire.ENOTFOUND)
	_, err = s.FindContactByID(a, inOther.ContactID)
	wantCode(t, err, leadwire.ENOTFOUND)
	var n int
	if err := s.WalkLeads(a, leadwire.LeadFilter{}, func(*leadwire.Lead) error { n++; return nil }); err != nil || n != 1 {
		t.Errorf("WalkLeads as a member listed %d leads, %v; want 1", n, err)
	}
}

// testSearchFilters checks each filter of SearchLeads and the refusal of
// malformed ones.
func testSearchFilters(t *testing.T, open Open) {
	ctx := as(owner)
	s := openClock(t, open)
	ch1 := mustChannel(t, s, leadwire.Channel{Name: "One", BrandID: "b"})
	ch2 := mustChannel(t, s, leadwire.Channel{Name: "Two", BrandID: "b"})
	t0 := s.advance(time.Hour)
	a := capture(t, s, ch1, leadwire.Payload{Email: "a@example.com", Tag: []string{"buyer"}})
	t1 := s.advance(time.Hour)
	b := capture(t, s, ch2, leadwire.Payload{Email: "b@example.com", Tag: []string{"seller", "buyer"},
		Assignees: []leadwire.Assignee{{Email: "Ann@Example.com"}}})
	t2 := s.advance(time.Hour)
	c := capture(t, s, ch1, leadwire.Payload{Email: "A@example.com", Note: "same person as a"})
	if _, err := s.UpdateLead(ctx, b.ID, leadwire.LeadUpdate{Status: ptr(leadwire.StatusClosed)}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		f    leadwire.LeadFilter
		want []*leadwire.Lead
	}{
		{"none", leadwire.LeadFilter{}, []*leadwire.Lead{c, b, a}},
		{"channel", leadwire.LeadFilter{ChannelID: ch1.ID}, []*leadwire.Lead{c, a}},
		{"unknown channel", leadwire.LeadFilter{ChannelID: uuid.NewString()}, nil},
		{"contact", leadwire.LeadFilter{ContactID: a.ContactID}, []*leadwire.Lead{c, a}},
		{"unknown contact", leadwire.LeadFilter{ContactID: uuid.NewString()}, nil},
		{"status new", leadwire.LeadFilter{Status: leadwire.StatusNew}, []*leadwire.Lead{c, a}},
		{"status closed", leadwire.LeadFilter{Status: leadwire.StatusClosed}, []*leadwire.Lead{b}},
		{"status spam", leadwire.LeadFilter{Status: leadwire.StatusSpam}, nil},
		{"assignee", leadwire.LeadFilter{Assignee: " ann@example.COM"}, []*leadwire.Lead{b}},
		{"tag", leadwire.LeadFilter{Tag: "buyer"}, []*leadwire.Lead{b, a}},
		{"tag seller", leadwire.LeadFilter{Tag: "seller"}, []*leadwire.Lead{b}},
		{"since", leadwire.LeadFilter{Since: t1}, []*leadwire.Lead{c, b}},
		{"until", leadwire.LeadFilter{Until: t1}, []*leadwire.Lead{a}},
		{"since and until", leadwire.LeadFilter{Since: t0, Until: t2}, []*leadwire.Lead{b, a}},
		{"several", leadwire.LeadFilter{ChannelID: ch1.ID, Tag: "buyer", Status: leadwire.StatusNew}, []*leadwire.Lead{a}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantIDs(t, "SearchLeads", search(t, s, ctx, tc.f), tc.want...)
		})
	}
	for _, f := range []leadwire.LeadFilter{
		{ChannelID: "nope"}, {ChannelID: strings.ToUpper(ch1.ID)}, {ContactID: "nope"},
		{Status: "won"}, {Status: "NEW"}, {Limit: -1}, {Limit: 201}, {Query: "  ,;  "}, {Query: strings.Repeat("a ", 17)},
		{Query: strings.Repeat("a", 201)},
	} {
		_, _, err := s.SearchLeads(ctx, f)
		wantCode(t, err, leadwire.EINVALID)
	}
}

// testSearchQuery checks full-text search over the fields a person is
// looked up by, phone numbers however they are written.
func testSearchQuery(t *testing.T, open Open) {
	ctx := as(owner)
	s := openClock(t, open)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	full := capture(t, s, ch, fullPayload()) // John Doe, +18189191212, Dallas
	jane := capture(t, s, ch, leadwire.Payload{FirstName: "Jane", LastName: "Smith-Ortiz", Email: "jane.smith@example.org",
		PhoneNumber: "+12145550100", Note: "Looking for a condo", Extra: leadwire.Fields{"message": "Please call back"},
		Address: &leadwire.Address{Text: "42 Elm Street, Plano TX 75024"}})
	other := capture(t, s, ch, leadwire.Payload{FirstName: "Bob", Email: "bob@example.net", PhoneNumber: "+442071838750"})

	for q, want := range map[string][]*leadwire.Lead{
		"jane":                   {jane},
		"JANE smith":             {jane},
		"smith-ortiz":            {jane},
		"ortiz":                  {jane},
		"jane.smith@example.org": {jane},
		"example":                {other, jane},
		"5550100":                {jane},
		"214-555-0100":           {jane},
		"(214) 555-0100":         {jane},
		"+1 214 555 0100":        {jane},
		"12145550100":            {jane},
		"818 919 1212":           {full},
		"2071838750":             {other},
		"condo":                  {jane},
		"please call":            {jane},
		"plano":                  {jane},
		"75024":                  {jane},
		"dallas":                 {full},
		"yard garage":            {full},
		"after 5pm":              {full},
		"jan":                    {jane}, // a word's start
		"nobody":                 nil,
		"jane bob":               nil, // every word must match
		`"jane" OR bob*`:         nil, // no FTS5 syntax: "or" is a word like any other
		"NEAR(jane bob)":         nil,
		"buyer":                  nil, // tags are a filter, not text
	} {
		t.Run(q, func(t *testing.T) {
			wantIDs(t, "SearchLeads(q)", search(t, s, ctx, leadwire.LeadFilter{Query: q}), want...)
		})
	}
	t.Run("with other filters", func(t *testing.T) {
		wantIDs(t, "SearchLeads", search(t, s, ctx, leadwire.LeadFilter{Query: "example", Status: leadwire.StatusSpam}))
		wantIDs(t, "SearchLeads", search(t, s, ctx, leadwire.LeadFilter{Query: "example", ChannelID: ch.ID}), other, jane)
	})
	t.Run("an agent searches their leads only", func(t *testing.T) {
		wantIDs(t, "SearchLeads", search(t, s, as(agentB), leadwire.LeadFilter{Query: "jane"}))
	})
}

// testSearchPages checks cursors: pages cover every lead once, newest
// first, and stay the same while new leads arrive.
func testSearchPages(t *testing.T, open Open) {
	ctx := as(owner)
	s := openClock(t, open)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	var leads []*leadwire.Lead
	for i := range 7 {
		s.advance(time.Second)
		leads = append(leads, capture(t, s, ch, leadwire.Payload{Email: fmt.Sprintf("p%d@example.com", i)}))
	}
	slices.Reverse(leads) // newest first

	page1, next, err := s.SearchLeads(ctx, leadwire.LeadFilter{Limit: 3})
	if err != nil || next == "" {
		t.Fatalf("page 1: %v, next %q", err, next)
	}
	wantIDs(t, "page 1", idsOf(page1...), leads[:3]...)
	for range 3 { // new leads arrive between pages
		capture(t, s, ch, leadwire.Payload{Email: "late@example.com"})
	}
	page2, next2, err := s.SearchLeads(ctx, leadwire.LeadFilter{Limit: 3, Cursor: next})
	if err != nil || next2 == "" {
		t.Fatalf("page 2: %v, next %q", err, next2)
	}
	wantIDs(t, "page 2", idsOf(page2...), leads[3:6]...)
	again, againNext, err := s.SearchLeads(ctx, leadwire.LeadFilter{Limit: 3, Cursor: next})
	if err != nil || againNext != next2 {
		t.Fatalf("page 2 again: %v, next %q, want %q", err, againNext, next2)
	}
	wantIDs(t, "page 2 again", idsOf(again...), leads[3:6]...)
	page3, next3, err := s.SearchLeads(ctx, leadwire.LeadFilter{Limit: 3, Cursor: next2})
	if err != nil || next3 != "" {
		t.Fatalf("page 3: %v, next %q, want the last page", err, next3)
	}
	wantIDs(t, "page 3", idsOf(page3...), leads[6:]...)

	t.Run("a full last page has no next", func(t *testing.T) {
		_, next, err := s.SearchLeads(ctx, leadwire.LeadFilter{Limit: 10})
		if err != nil || next != "" {
			t.Errorf("SearchLeads(limit 10 of 10) = next %q, %v; want none", next, err)
		}
	})
	t.Run("default limit", func(t *testing.T) {
		for range 41 {
			capture(t, s, ch, leadwire.Payload{Email: "more@example.com"})
		}
		page, next, err := s.SearchLeads(ctx, leadwire.LeadFilter{})
		if err != nil || len(page) != 50 || next == "" {
			t.Errorf("SearchLeads() = %d leads, next %q, %v; want 50 and a next page", len(page), next, err)
		}
		page, _, err = s.SearchLeads(ctx, leadwire.LeadFilter{Limit: 200})
		if err != nil || len(page) != 51 {
			t.Errorf("SearchLeads(limit 200) = %d leads, %v; want all 51", len(page), err)
		}
	})
	t.Run("malformed cursors", func(t *testing.T) {
		for _, c := range []string{"x", "nope!", next + "A", next[:len(next)-1], "AAAAAAAAAAA", "____________",
			"gAAAAAAAAAA", next + "=", " " + next} {
			_, _, err := s.SearchLeads(ctx, leadwire.LeadFilter{Cursor: c})
			wantCode(t, err, leadwire.EINVALID)
		}
	})
}

// testEraseContact checks that erasing a contact takes its leads and
// timelines along, leaves other contacts alone, is refused to agents, and
// that a retry of an erased lead's capture does not bring it back.
func testEraseContact(t *testing.T, open Open) {
	s := openClock(t, open)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site", BrandID: "b"})
	p := leadwire.Payload{FirstName: "Erin", Email: "erin@example.com", PhoneNumber: "+12145550177",
		Assignees: []leadwire.Assignee{{Email: agentA.Email}}}
	c := &leadwire.Capture{ChannelID: ch.ID, IdempotencyKey: "form-1", RequestHash: "h1",
		Leads: []*leadwire.Lead{{Payload: p, Raw: rawOf(t, p)}}}
	first, _, err := s.CaptureLeads(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	erin := first[0]
	second := capture(t, s, ch, leadwire.Payload{Email: "ERIN@example.com", Note: "again"})
	if second.ContactID != erin.ContactID {
		t.Fatal("the second lead did not join the contact")
	}
	if err := s.AddActivity(context.Background(), &leadwire.Activity{LeadID: erin.ID, Action: leadwire.ActionSignedUp}); err != nil {
		t.Fatal(err)
	}
	keep := capture(t, s, ch, leadwire.Payload{Email: "keep@example.com", Assignees: []leadwire.Assignee{{Email: agentA.Email}}})

	err = s.EraseContact(as(agentA), erin.ContactID)
	wantCode(t, err, leadwire.EFORBIDDEN) // agent A sees the contact
	err = s.EraseContact(as(agentB), erin.ContactID)
	wantCode(t, err, leadwire.ENOTFOUND) // agent B does not
	for _, id := range []string{uuid.NewString(), "nope", strings.ToUpper(erin.ContactID)} {
		wantCode(t, s.EraseContact(as(owner), id), leadwire.ENOTFOUND)
	}
	findContact(t, s, erin.ContactID)

	if err := s.EraseContact(as(owner), erin.ContactID); err != nil {
		t.Fatal(err)
	}
	_, err = s.FindContactByID(context.Background(), erin.ContactID)
	wantCode(t, err, leadwire.ENOTFOUND)
	for _, l := range []*leadwire.Lead{erin, second} {
		_, err = s.FindLeadByID(context.Background(), l.ID)
		wantCode(t, err, leadwire.ENOTFOUND)
	}
	wantIDs(t, "leads left", search(t, s, context.Background(), leadwire.LeadFilter{}), keep)
	wantIDs(t, "FindLeads", idsOf(findLeads(t, s, leadwire.LeadFilter{})...), keep)
	for _, q := range []string{"erin", "5550177", "again"} {
		wantIDs(t, "search "+q, search(t, s, context.Background(), leadwire.LeadFilter{Query: q}))
	}
	wantIDs(t, "agent A's leads", search(t, s, as(agentA), leadwire.LeadFilter{}), keep)
	wantCode(t, s.EraseContact(as(owner), erin.ContactID), leadwire.ENOTFOUND)

	t.Run("a retry of the erased capture stores nothing", func(t *testing.T) {
		s.advance(time.Minute)
		retry := &leadwire.Capture{ChannelID: ch.ID, IdempotencyKey: "form-1", RequestHash: "h1",
			Leads: []*leadwire.Lead{{Payload: p, Raw: rawOf(t, p)}}}
		leads, _, err := s.CaptureLeads(context.Background(), retry)
		wantCode(t, err, leadwire.ECONFLICT)
		if len(leads) != 0 {
			t.Errorf("the retry answered %s", dump(leads))
		}
		wantIDs(t, "leads left", search(t, s, context.Background(), leadwire.LeadFilter{}), keep)
	})
	t.Run("the same person sending again is a new contact", func(t *testing.T) {
		again := capture(t, s, ch, leadwire.Payload{Email: "erin@example.com"})
		if again.ContactID == erin.ContactID {
			t.Error("a new lead joined the erased contact")
		}
		findContact(t, s, again.ContactID)
		if got := findContact(t, s, keep.ContactID); got.Email != "keep@example.com" {
			t.Errorf("the other contact changed: %+v", got)
		}
	})
	t.Run("the command line may erase", func(t *testing.T) {
		if err := s.EraseContact(context.Background(), keep.ContactID); err != nil {
			t.Fatal(err)
		}
		_, err := s.FindLeadByID(context.Background(), keep.ID)
		wantCode(t, err, leadwire.ENOTFOUND)
	})
}
