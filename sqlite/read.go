package sqlite

import (
	"context"
	"math"
	"slices"
	"strings"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/search"
)

// DefaultSearchLimit and MaxSearchLimit bound a page of SearchLeads.
const (
	DefaultSearchLimit = 50
	MaxSearchLimit     = 200
)

// visibility returns the condition on the leads table (columns id and
// channel_id) that keeps the leads the user of ctx may see, with its
// arguments: nothing for an owner or for no user (the command line, the
// public routes); for anyone else, the leads with an assignee of their
// email and the leads of the channels they are a member of. Any role but
// owner is treated as an agent, so an unknown role sees less, not more.
// For an agent it first has every lead stored so far put in the assignee
// index, which the writer fills after the capture (see search.go).
func (s *Store) visibility(ctx context.Context) (string, []any, error) {
	u := leadwire.UserFromContext(ctx)
	if u == nil || u.Role == leadwire.RoleOwner {
		return "", nil, nil
	}
	if err := s.searchable(ctx); err != nil {
		return "", nil, err
	}
	return `(id IN (SELECT lead_id FROM lead_assignees WHERE email_key = ?)
		OR channel_id IN (SELECT channel_id FROM channel_members WHERE user_id = ?))`,
		[]any{leadwire.EmailKey(u.Email), u.ID}, nil
}

// SearchLeads returns one page of the leads f selects that the caller may
// see; see leadwire.LeadService.
func (s *Store) SearchLeads(ctx context.Context, f leadwire.LeadFilter) ([]*leadwire.Lead, string, error) {
	limit := f.Limit
	switch {
	case limit == 0:
		limit = DefaultSearchLimit
	case limit < 0 || limit > MaxSearchLimit:
		return nil, "", leadwire.Errorf(leadwire.EINVALID, "limit %d is not between 1 and %d", limit, MaxSearchLimit)
	}
	before := int64(math.MaxInt64)
	if f.Cursor != "" {
		var err error
		if before, err = search.ParseCursor(f.Cursor); err != nil {
			return nil, "", err
		}
	}
	sel, err := s.selection(ctx, f)
	if err != nil {
		return nil, "", err
	}
	// Pages end below a rowid, and new leads only ever get larger ones: a
	// page after the first lists the same leads however many arrive. One
	// more than the page tells whether another page follows.
	query, args := sel.query(before, limit+1)
	leads, rowids, err := s.queryLeadRows(ctx, s.read, query, args...)
	if err != nil {
		return nil, "", err
	}
	if len(leads) <= limit {
		return leads, "", nil
	}
	return leads[:limit], search.FormatCursor(rowids[limit-1]), nil
}

// selection is a query of leads, newest first.
type selection struct {
	// from is the table, or the join, and key the rowid the leads are
	// ordered and paged by: that of the search index when there is a
	// query, which then hands its matches over newest first. FTS5 still
	// merges the whole list of a prefix's matches first: on a million
	// leads a word few leads hold takes 1 ms (p99), one every lead holds
	// 300 ms (BenchmarkSearchLeads1M).
	from, key string
	where     []string
	args      []any
}

// query returns the query of up to n leads below the rowid before.
func (sel selection) query(before int64, n int) (string, []any) {
	where := append(slices.Clip(sel.where), sel.key+" < ?")
	return "SELECT " + leadColumns + " FROM " + sel.from + " WHERE " + strings.Join(where, " AND ") +
		" ORDER BY " + sel.key + " DESC LIMIT ?", append(slices.Clip(sel.args), before, n)
}

// selection returns the selection of the leads of f (but its limit and
// cursor) the caller may see.
func (s *Store) selection(ctx context.Context, f leadwire.LeadFilter) (selection, error) {
	sel := selection{from: "leads", key: "leads.rowid"}
	where, args, err := s.conditions(ctx, f)
	if err != nil {
		return sel, err
	}
	if f.Query != "" {
		if err := s.searchable(ctx); err != nil {
			return sel, err
		}
		match, err := s.ftsQuery(ctx, f.Query)
		if err != nil {
			return sel, err
		}
		sel.from, sel.key = "leads_fts JOIN leads ON leads.rowid = leads_fts.rowid", "leads_fts.rowid"
		where, args = append([]string{"leads_fts MATCH ?"}, where...), append([]any{match}, args...)
	}
	sel.where, sel.args = where, args
	return sel, nil
}

// conditions returns the conditions on the leads table that select the
// leads of f (but its query, limit and cursor) the caller may see, with
// their arguments.
func (s *Store) conditions(ctx context.Context, f leadwire.LeadFilter) (where []string, args []any, err error) {
	if f.Query != "" {
		// Checked first, so that a bad query is refused whatever else.
		if _, err := search.QueryWords(f.Query); err != nil {
			return nil, nil, err
		}
	}
	add := func(cond string, arg ...any) {
		where, args = append(where, cond), append(args, arg...)
	}
	if f.ChannelID != "" {
		if !leadwire.IsCanonicalID(f.ChannelID) {
			return nil, nil, leadwire.Errorf(leadwire.EINVALID, "channel %q is not a channel id", f.ChannelID)
		}
		add("channel_id = ?", f.ChannelID)
	}
	if f.LeadID != "" {
		if !leadwire.IsCanonicalID(f.LeadID) {
			return nil, nil, leadwire.Errorf(leadwire.EINVALID, "lead %q is not a lead id", f.LeadID)
		}
		add("id = ?", f.LeadID)
	}
	if f.ContactID != "" {
		key, ok := s.contactIDs.key(f.ContactID)
		if !ok {
			return nil, nil, leadwire.Errorf(leadwire.EINVALID, "contact %q is not a contact id", f.ContactID)
		}
		if err := s.searchable(ctx); err != nil { // contact_leads is filled after the capture
			return nil, nil, err
		}
		add("leads.rowid IN (SELECT lead_rowid FROM contact_leads WHERE contact_id = ?)", key)
	}
	if f.Status == "" {
		// Quarantined leads are listed only when asked for.
		add("status != 'spam'")
	} else {
		if !slices.Contains(leadwire.Statuses, f.Status) {
			return nil, nil, leadwire.Errorf(leadwire.EINVALID, "status %q is not one of %s", f.Status, strings.Join(leadwire.Statuses, ", "))
		}
		add("status = ?", f.Status)
		if f.Status != leadwire.StatusNew {
			// Spelled out, so that SQLite sees the index of worked leads
			// applies: it cannot tell from a parameter.
			add("status != 'new'")
		}
	}
	if f.Assignee != "" {
		if err := s.searchable(ctx); err != nil { // the assignee index is filled after the capture
			return nil, nil, err
		}
		add("id IN (SELECT lead_id FROM lead_assignees WHERE email_key = ?)", leadwire.EmailKey(f.Assignee))
	}
	if f.Tag != "" {
		add("EXISTS (SELECT 1 FROM json_each(parsed_payload, '$.tag') WHERE value = ?)", f.Tag)
	}
	if !f.Since.IsZero() {
		add("created_at >= ?", f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		add("created_at < ?", f.Until.UnixMilli())
	}
	cond, arg, err := s.visibility(ctx)
	if err != nil {
		return nil, nil, err
	}
	if cond != "" {
		add(cond, arg...)
	}
	return where, args, nil
}

// ftsQuery turns what someone typed into an FTS5 query: every word must
// match the start of a word of the lead. Each word becomes the words of
// the index it begins (table search_words), quoted, so nothing typed is
// read as FTS5 syntax: FTS5 reads whole words as the leads it needs to
// show, newest first, where its own prefix query ("sat"*) first merges
// the list of every lead the prefix matches (300 ms for a word every lead
// of a million holds, against 1 ms). A word that begins more than
// maxWordExpansion words, or that is not ASCII (whose letters the index
// folds in ways of its own), is left to FTS5's prefix query.
func (s *Store) ftsQuery(ctx context.Context, q string) (string, error) {
	words, err := search.QueryWords(q)
	if err != nil {
		return "", err
	}
	for i, w := range words {
		if words[i], err = s.expandWord(ctx, w); err != nil {
			return "", err
		}
	}
	return strings.Join(words, " AND "), nil
}

// maxWordExpansion is the most words of the index one word typed is
// expanded into.
const maxWordExpansion = 64

// expandWord returns the FTS5 query of the words of the index that begin
// with w.
func (s *Store) expandWord(ctx context.Context, w string) (string, error) {
	prefix := `"` + strings.ReplaceAll(w, `"`, `""`) + `"*`
	if !isASCII(w) {
		return prefix, nil
	}
	w = strings.ToLower(w)
	rows, err := s.read.QueryContext(ctx, `SELECT word FROM search_words WHERE word >= ? AND word < ?
		ORDER BY word LIMIT ?`, w, w+"\U0010FFFF", maxWordExpansion+1)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var terms []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return "", err
		}
		terms = append(terms, `"`+strings.ReplaceAll(t, `"`, `""`)+`"`)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	switch {
	case len(terms) > maxWordExpansion:
		return prefix, nil
	case len(terms) == 0:
		return `"` + strings.ReplaceAll(w, `"`, `""`) + `"`, nil // a word of no lead: matches nothing
	}
	return "(" + strings.Join(terms, " OR ") + ")", nil
}

func isASCII(w string) bool {
	for i := range len(w) {
		if w[i] >= 0x80 {
			return false
		}
	}
	return true
}
