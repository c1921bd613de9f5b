package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadwire/leadwire"
)

// inboxFuncs are the functions the inbox's templates call.
var inboxFuncs = template.FuncMap{
	"static": func(name string) string {
		return "/inbox/static/" + name + "?v=" + inboxStatic[name].hash
	},
	"ago":      ago,
	"when":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"duration": duration,
	"tel":      telURL,
}

// ago says how long ago t was, as a person would.
func ago(t time.Time) string {
	d := time.Since(t)
	if d < time.Minute {
		return "just now"
	}
	return duration(d) + " ago"
}

// duration writes d in its largest unit: 0.4 s, 45 s, 12 min, 3 h, 5 d.
func duration(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 0, 64) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " d"
}

// telURL is the tel: link of a phone number: its digits and a leading +,
// nothing else a visitor typed.
func telURL(phone string) template.URL {
	var b strings.Builder
	for i, r := range phone {
		if (r >= '0' && r <= '9') || (r == '+' && i == 0) {
			b.WriteRune(r)
		}
	}
	return template.URL("tel:" + b.String())
}

// rowView is one lead as the Leads page lists it.
type rowView struct {
	ID, Name, Email, Phone, Channel, Source, Summary, Status string
	Assignees                                                []string
	CreatedAt                                                time.Time
}

// New reports whether nobody has acted on the lead yet.
func (r rowView) New() bool { return r.Status == leadwire.StatusNew }

// summaryLength is the most characters of a listing or message a row shows.
const summaryLength = 90

func (s *Server) leadRowView(ctx context.Context, p *page, l *leadwire.Lead) rowView {
	pl := &l.Payload
	row := rowView{ID: l.ID, Name: leadName(l), Email: pl.Email, Phone: pl.PhoneNumber,
		Channel: s.channelName(ctx, p, l.ChannelID), Source: pl.LeadSource, Status: l.Status, CreatedAt: l.CreatedAt}
	if row.Status == "" {
		row.Status = leadwire.StatusNew
	}
	if row.Source == "" {
		row.Source = pl.SourceType
	}
	if pl.Listing != nil {
		row.Summary = "Listing " + listingTitle(pl.Listing)
	}
	if msg, _ := pl.Extra[messageField].(string); msg != "" {
		row.Summary = joinSummary(row.Summary, msg)
	} else if pl.Note != "" {
		row.Summary = joinSummary(row.Summary, pl.Note)
	}
	row.Summary = shorten(row.Summary, summaryLength)
	for _, a := range pl.Assignees {
		row.Assignees = append(row.Assignees, assigneeCell(a))
	}
	return row
}

// messageField is the undocumented field nearly every website's form
// sends what the visitor wrote in.
const messageField = "message"

// leadName names a lead's person: their name, else their email or phone.
func leadName(l *leadwire.Lead) string {
	p := &l.Payload
	for _, s := range []string{strings.TrimSpace(p.FirstName + " " + p.LastName), p.Email, p.PhoneNumber} {
		if s != "" {
			return s
		}
	}
	return "(no name)"
}

// listingTitle names a listing by its address, else its MLS number or id.
func listingTitle(li *leadwire.Listing) string {
	if a, _ := li.Property["address"].(string); a != "" {
		return a
	}
	for _, s := range []string{li.MLSNumber, li.ID, li.URL} {
		if s != "" {
			return s
		}
	}
	return ""
}

// shorten cuts s to n characters, on one line.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// channelName is the name of a channel, read with every channel once
// per page.
func (s *Server) channelName(ctx context.Context, p *page, id string) string {
	if p.channels == nil {
		p.channels = map[string]*leadwire.Channel{}
		if channels, err := s.cfg.Channels.FindChannels(ctx); err == nil {
			for _, c := range channels {
				p.channels[c.ID] = c
			}
		}
	}
	if c, ok := p.channels[id]; ok {
		return c.Name
	}
	return id
}

// leadsView is what the Leads page shows.
type leadsView struct {
	Q, Channel, Contact, Status, Assignee, Tag string
	Channels                                   []*leadwire.Channel
	Statuses                                   []string
	Rows                                       []rowView
	Older, Newest, Export, Events              string // URLs; "" when there is none
}

// inboxLeads serves the Leads page: one page of the leads the filter of
// the query selects, newest first, with the link to the next page. The
// first page also streams new leads.
func (s *Server) inboxLeads(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	query := r.URL.Query()
	read := time.Now()
	f, err := parseLeadFilter(query, true)
	if err != nil {
		p.Title = "Leads"
		s.inboxError(w, r, p, err)
		return
	}
	v := leadsView{Q: f.Query, Channel: f.ChannelID, Contact: f.ContactID, Status: f.Status, Assignee: f.Assignee, Tag: f.Tag, Statuses: leadwire.Statuses}
	p.Title, p.Nav = "Leads", "leads"
	if f.Status == leadwire.StatusSpam {
		p.Title, p.Nav = "Spam", "spam"
	}
	leads, next, err := s.cfg.Leads.SearchLeads(ctx, f)
	if err != nil {
		s.inboxError(w, r, p, err)
		return
	}
	for _, l := range leads {
		v.Rows = append(v.Rows, s.leadRowView(ctx, p, l))
	}
	s.channelName(ctx, p, "")
	for _, c := range p.channels {
		v.Channels = append(v.Channels, c)
	}
	slices.SortFunc(v.Channels, func(a, b *leadwire.Channel) int { return strings.Compare(a.Name, b.Name) })

	filter := url.Values{}
	for _, k := range []string{"q", "channel", "contact", "status", "assignee", "tag"} {
		if val := strings.TrimSpace(query.Get(k)); val != "" {
			filter.Set(k, val)
		}
	}
	withFilter := func(base string, extra ...string) string {
		q := url.Values{}
		for k, vs := range filter {
			q[k] = vs
		}
		for i := 0; i+1 < len(extra); i += 2 {
			q.Set(extra[i], extra[i+1])
		}
		if len(q) == 0 {
			return base
		}
		return base + "?" + q.Encode()
	}
	v.Export = withFilter("/api/export/leads.csv")
	if next != "" {
		v.Older = withFilter("/inbox/", "cursor", next)
	}
	if f.Cursor != "" {
		v.Newest = withFilter("/inbox/")
	} else {
		v.Events = withFilter("/inbox/events", "since", strconv.FormatInt(read.UnixMilli(), 10))
	}
	s.render(w, r, http.StatusOK, "leads.html", p, v)
}

// field is one labelled value of a lead.
type field struct {
	Label, Value string
	URL          string // a link to show the value as, when it is one
}

// listingView is a listing's card.
type listingView struct {
	Title, ID, Price, MLSNumber, MLS, URL, Photo string
	Property                                     []field
}

// timelineEntry is one line of a lead's timeline.
type timelineEntry struct {
	At                 time.Time
	What, Notes, Actor string
	Listing, Search    string
}

// leadView is what a lead's page shows.
type leadView struct {
	Row          rowView
	Lead         *leadwire.Lead
	Contact      *leadwire.Contact
	Others       []rowView
	AllOfContact string // the Leads page of the contact's leads, when Others are not all
	Fields       []field
	Attribution  []field
	Listing      *listingView
	Timeline     []timelineEntry
	Raw          string
	Statuses     []string
	Assignees    string // the assignees' emails, as the Assign box holds them
	Responded    bool
	ResponseTime time.Duration
}

// inboxLead serves a lead's page. A lead the user may not see does not
// exist for them.
func (s *Server) inboxLead(w http.ResponseWriter, r *http.Request, p *page) {
	s.showLead(w, r, p, http.StatusOK)
}

// showLead renders the page of the lead of the request's path, with the
// status given (a form's error is shown on the page it came from).
func (s *Server) showLead(w http.ResponseWriter, r *http.Request, p *page, status int) {
	ctx := r.Context()
	p.Nav = "leads"
	l, err := s.cfg.Leads.FindLeadByID(ctx, r.PathValue("lead_id"))
	if err != nil {
		p.Title = "Lead"
		s.inboxError(w, r, p, err)
		return
	}
	c, others, next, err := s.leadDetail(ctx, l)
	if err != nil {
		s.inboxError(w, r, p, err)
		return
	}
	v := leadView{Row: s.leadRowView(ctx, p, l), Lead: l, Contact: c, Statuses: leadwire.Statuses}
	p.Title = v.Row.Name
	for _, o := range others {
		v.Others = append(v.Others, s.leadRowView(ctx, p, o))
	}
	if next != "" {
		v.AllOfContact = "/inbox/?" + url.Values{"contact": {c.ID}}.Encode()
	}
	if !l.RespondedAt.IsZero() {
		v.Responded, v.ResponseTime = true, l.RespondedAt.Sub(l.CreatedAt)
	}
	pl := &l.Payload
	var emails []string
	for _, a := range pl.Assignees {
		if a.Email != "" {
			emails = append(emails, a.Email)
		}
	}
	v.Assignees = strings.Join(emails, ", ")
	add := func(list *[]field, label, value string) {
		if value != "" {
			*list = append(*list, field{Label: label, Value: value})
		}
	}
	add(&v.Fields, "First name", pl.FirstName)
	add(&v.Fields, "Last name", pl.LastName)
	add(&v.Fields, "Email", pl.Email)
	add(&v.Fields, "Phone", pl.PhoneNumber)
	add(&v.Fields, "Phone as sent", pl.PhoneNumberOriginal)
	add(&v.Fields, "Address", pl.Address.Line())
	add(&v.Fields, "Note", pl.Note)
	add(&v.Fields, "Tags", strings.Join(pl.Tag, ", "))
	add(&v.Fields, "Assignees", strings.Join(v.Row.Assignees, ", "))
	add(&v.Fields, "Listing id", pl.ListingID)
	add(&v.Fields, "MLS id", pl.MLSID)
	add(&v.Fields, "Listing agent's MLS id", pl.AgentMLSID)
	for _, k := range sortedKeys(pl.Extra) {
		add(&v.Fields, k, fieldText(pl.Extra[k]))
	}
	add(&v.Attribution, "Source", pl.LeadSource)
	add(&v.Attribution, "Source type", pl.SourceType)
	add(&v.Attribution, "Channel", v.Row.Channel)
	if pl.RefererURL != "" {
		v.Attribution = append(v.Attribution, field{Label: "Referer", Value: pl.RefererURL, URL: webURL(pl.RefererURL)})
	}
	add(&v.Attribution, "Ad campaign", pl.AdCampaignID)
	add(&v.Attribution, "Email campaign", pl.EmailCampaignID)
	add(&v.Attribution, "Email campaign email", pl.EmailCampaignEmailID)
	add(&v.Attribution, "User id", pl.UserID)
	add(&v.Attribution, "Brand id", pl.BrandID)
	if li := pl.Listing; li != nil {
		lv := &listingView{Title: listingTitle(li), ID: li.ID, MLSNumber: li.MLSNumber, MLS: li.MLS, URL: webURL(li.URL), Photo: webURL(li.CoverImageURL)}
		if li.Price != 0 {
			lv.Price = "$" + thousands(li.Price)
		}
		for _, k := range sortedKeys(li.Property) {
			if k != "address" {
				lv.Property = append(lv.Property, field{Label: k, Value: fieldText(li.Property[k])})
			}
		}
		v.Listing = lv
	}
	for _, a := range l.Timeline {
		v.Timeline = append(v.Timeline, timelineView(a))
	}
	var raw bytes.Buffer
	if json.Indent(&raw, l.Raw, "", "  ") == nil {
		v.Raw = raw.String()
	} else {
		v.Raw = string(l.Raw)
	}
	s.render(w, r, status, "lead.html", p, v)
}

// actionLabels say in words what a timeline's actions are.
var actionLabels = map[string]string{
	leadwire.ActionViewedListing:          "Viewed a listing",
	leadwire.ActionSharedListing:          "Shared a listing",
	leadwire.ActionFavoritedListing:       "Saved a listing",
	leadwire.ActionRemovedFavoriteListing: "Removed a saved listing",
	leadwire.ActionValuedListing:          "Asked for a valuation",
	leadwire.ActionSearchedListings:       "Searched listings",
	leadwire.ActionCreatedSearch:          "Saved a search",
	leadwire.ActionRemovedSearch:          "Removed a saved search",
	leadwire.ActionSignedUp:               "Signed up",
	leadwire.ActionLoggedIn:               "Logged in",
	leadwire.ActionStatusChanged:          "Status changed",
	leadwire.ActionNoteAdded:              "Note",
	leadwire.ActionAssigneesChanged:       "Assignees changed",
}

func timelineView(a *leadwire.Activity) timelineEntry {
	e := timelineEntry{At: a.CreatedAt, What: actionLabels[a.Action], Notes: a.Notes, Actor: a.Actor}
	if e.What == "" {
		e.What = a.Action
	}
	if a.Listing != nil {
		e.Listing = listingTitle(a.Listing)
		if a.Listing.Price != 0 {
			e.Listing += " · $" + thousands(a.Listing.Price)
		}
	}
	if sr := a.Search; sr != nil {
		e.Search = strings.TrimSpace(sr.Title + " " + sr.Search)
		if e.Search == "" {
			e.Search = sr.URL
		}
	}
	return e
}

// webURL returns u when it is an http or https URL, else "": only those
// become links and images.
func webURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return u
}

// thousands writes a price with thousands separators: 1,250,000.
func thousands(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 && whole[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}

// fieldText writes a field of any JSON value as text.
func fieldText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func sortedKeys(m leadwire.Fields) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// inboxStatus changes a lead's status from its page; "Not spam" sets a
// spam lead back to new.
func (s *Server) inboxStatus(w http.ResponseWriter, r *http.Request, p *page) {
	status := r.PostForm.Get("status")
	s.updateLead(w, r, p, leadwire.LeadUpdate{Status: &status})
}

// inboxNote adds a note to a lead's timeline from its page.
func (s *Server) inboxNote(w http.ResponseWriter, r *http.Request, p *page) {
	note := r.PostForm.Get("note")
	s.updateLead(w, r, p, leadwire.LeadUpdate{Notes: &note})
}

func (s *Server) updateLead(w http.ResponseWriter, r *http.Request, p *page, u leadwire.LeadUpdate) {
	if _, err := s.cfg.Leads.UpdateLead(r.Context(), r.PathValue("lead_id"), u); err != nil {
		s.formError(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/inbox/leads/"+r.PathValue("lead_id"), http.StatusSeeOther)
}

// formError shows a form's error on the lead's page it came from, or on
// a page of its own when the lead is not there.
func (s *Server) formError(w http.ResponseWriter, r *http.Request, p *page, err error) {
	switch leadwire.ErrorCode(err) {
	case leadwire.EINVALID, leadwire.EFORBIDDEN:
		p.Error = leadwire.ErrorMessage(err)
		s.showLead(w, r, p, statusOf[leadwire.ErrorCode(err)])
	default:
		s.inboxError(w, r, p, err)
	}
}

// inboxAssign sets a lead's assignees from the emails of its Assign box.
// An assignee already on the lead keeps what else it has (name, phone);
// assignees without an email, which the box cannot show, stay.
func (s *Server) inboxAssign(w http.ResponseWriter, r *http.Request, p *page) {
	ctx, id := r.Context(), r.PathValue("lead_id")
	l, err := s.cfg.Leads.FindLeadByID(ctx, id)
	if err != nil {
		s.inboxError(w, r, p, err)
		return
	}
	var list []leadwire.Assignee
	for _, a := range l.Payload.Assignees {
		if a.Email == "" {
			list = append(list, a)
		}
	}
	for _, e := range emailList(r.PostForm.Get("assignees")) {
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
			s.formError(w, r, p, leadwire.Errorf(leadwire.EINVALID, "%q is not an email address like agent@example.com", e))
			return
		}
		i := slices.IndexFunc(l.Payload.Assignees, func(a leadwire.Assignee) bool { return leadwire.EmailKey(a.Email) == leadwire.EmailKey(e) })
		if i >= 0 {
			list = append(list, l.Payload.Assignees[i])
		} else {
			list = append(list, leadwire.Assignee{Email: e})
		}
	}
	if _, err := s.cfg.Leads.ReplaceAssignees(ctx, id, list, ""); err != nil {
		s.formError(w, r, p, err)
		return
	}
	// An agent who handed the lead on may no longer see it.
	if _, err := s.cfg.Leads.FindLeadByID(ctx, id); leadwire.ErrorCode(err) == leadwire.ENOTFOUND {
		http.Redirect(w, r, "/inbox/", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/inbox/leads/"+id, http.StatusSeeOther)
}

// joinSummary puts what the visitor wrote after the listing they wrote
// about.
func joinSummary(listing, text string) string {
	if listing == "" {
		return text
	}
	return listing + " · " + text
}
