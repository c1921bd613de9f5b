package sqlite

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/leadwire/leadwire"
)

// DefaultSearchLimit and MaxSearchLimit bound a page of SearchLeads.
const (
	DefaultSearchLimit = 50
	MaxSearchLimit     = 200
)

// maxQueryWords bounds the words of a search, so that one request cannot
// ask the index for hundreds of lookups.
const maxQueryWords = 16

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
		if before, err = parseCursor(f.Cursor); err != nil {
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
	return leads[:limit], formatCursor(rowids[limit-1]), nil
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
		if _, err := queryWords(f.Query); err != nil {
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
	if f.ContactID != "" {
		key, ok := s.contactIDs.key(f.ContactID)
		if !ok {
			return nil, nil, leadwire.Errorf(leadwire.EINVALID, "contact %q is not a contact id", f.ContactID)
		}
		add("contact_id = ?", key)
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

// formatCursor returns the cursor of the page after the lead with rowid:
// the rowid in 8 bytes, base64url. Opaque to clients, so that what it holds
// can change.
func formatCursor(rowid int64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(rowid))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// parseCursor returns the rowid of a cursor formatCursor made. Only the
// exact text it makes is accepted, so that a cursor has one spelling.
func parseCursor(cursor string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) != 8 {
		return 0, leadwire.Errorf(leadwire.EINVALID, "cursor %q is not a cursor of this API: pass the next value of a page as it is", cursor)
	}
	rowid := int64(binary.BigEndian.Uint64(b))
	if rowid <= 0 || formatCursor(rowid) != cursor {
		return 0, leadwire.Errorf(leadwire.EINVALID, "cursor %q is not a cursor of this API: pass the next value of a page as it is", cursor)
	}
	return rowid, nil
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
	words, err := queryWords(q)
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

// queryWords returns the words of a search: a query of digits and the
// signs phone numbers are written with is one number, matched however the
// lead's number was written (see indexSearchQuery).
func queryWords(q string) ([]string, error) {
	if len(q) > 200 {
		return nil, leadwire.Errorf(leadwire.EINVALID, "q is %d bytes long, more than 200", len(q))
	}
	var words []string
	if d := phoneDigits(q); d != "" {
		words = []string{d}
	} else {
		words = strings.FieldsFunc(q, isSeparator)
	}
	if len(words) == 0 {
		return nil, leadwire.Errorf(leadwire.EINVALID, "q %q has no letters or digits to search for", q)
	}
	if len(words) > maxQueryWords {
		return nil, leadwire.Errorf(leadwire.EINVALID, "q has %d words, more than %d", len(words), maxQueryWords)
	}
	return words, nil
}

// isSeparator reports whether r separates words. It is a superset of what
// FTS5's unicode61 tokenizer separates words with (everything but letters,
// numbers and private-use characters), so that a word of a query is never
// several words to the index, which would make it a phrase.
func isSeparator(r rune) bool {
	return !unicode.IsLetter(r) && !unicode.IsNumber(r)
}

// phoneDigits returns the digits of q when q is written like a phone number
// (digits, spaces and "+-().", with at least 4 digits), else "". A leading
// country code 1 goes, so "+1 214-555-0100" finds what "214-555-0100" does.
func phoneDigits(q string) string {
	var b strings.Builder
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case strings.ContainsRune(" +-().", r):
		default:
			return ""
		}
	}
	d := b.String()
	if len(d) < 4 {
		return ""
	}
	if len(d) == 11 && d[0] == '1' {
		d = d[1:]
	}
	return d
}
