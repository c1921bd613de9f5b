package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/search"
)

// DefaultSearchLimit and MaxSearchLimit bound a page of SearchLeads.
const (
	DefaultSearchLimit = 50
	MaxSearchLimit     = 200
)

// leadSelect are the columns scanLead reads.
const leadSelect = `leads.seq, leads.id::text, leads.channel_id::text, leads.contact_id::text, leads.created_at,
	leads.parsed_payload, leads.raw_payload, leads.status, leads.responded_at,
	leads.spam_reasons, leads.source_address, leads.source_user_agent, leads.source_origin`

// scanLead reads the columns first and then those of leadSelect, and
// returns the lead and its seq.
func scanLead(row pgx.Row, first ...any) (*leadwire.Lead, int64, error) {
	l := new(leadwire.Lead)
	var parsed, raw, reasons string
	var seq, created, responded int64
	if err := row.Scan(append(first, &seq, &l.ID, &l.ChannelID, &l.ContactID, &created, &parsed, &raw, &l.Status, &responded,
		&reasons, &l.Source.Address, &l.Source.UserAgent, &l.Source.Origin)...); err != nil {
		return nil, 0, err
	}
	if reasons != "" {
		if err := json.Unmarshal([]byte(reasons), &l.SpamReasons); err != nil {
			return nil, 0, err
		}
	}
	if err := json.Unmarshal([]byte(parsed), &l.Payload); err != nil {
		return nil, 0, err
	}
	if raw != "" {
		l.Raw = json.RawMessage(raw)
	}
	l.CreatedAt = fromMillis(created)
	if responded != 0 {
		l.RespondedAt = fromMillis(responded)
	}
	return l, seq, nil
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// queryLeads runs a query of leadSelect and returns its leads and their seqs.
func queryLeads(ctx context.Context, q querier, sql string, args ...any) ([]*leadwire.Lead, []int64, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, nil, storageFault(err)
	}
	defer rows.Close()
	var leads []*leadwire.Lead
	var seqs []int64
	for rows.Next() {
		l, seq, err := scanLead(rows)
		if err != nil {
			return nil, nil, err
		}
		leads, seqs = append(leads, l), append(seqs, seq)
	}
	return leads, seqs, storageFault(rows.Err())
}

// selection is a query of leads, newest first: conditions on the table
// leads and their arguments, numbered $1, $2, ... in order.
type selection struct {
	where []string
	args  []any
}

// arg adds an argument and returns its placeholder.
func (sel *selection) arg(v any) string {
	sel.args = append(sel.args, v)
	return fmt.Sprintf("$%d", len(sel.args))
}

// query returns the query of up to n leads below the seq before.
func (sel selection) query(before int64, n int) (string, []any) {
	sel.where, sel.args = slices.Clone(sel.where), slices.Clone(sel.args)
	sel.where = append(sel.where, "leads.seq < "+sel.arg(before))
	return "SELECT " + leadSelect + " FROM leads WHERE " + strings.Join(sel.where, " AND ") +
		" ORDER BY leads.seq DESC LIMIT " + sel.arg(n), sel.args
}

// visibility adds the condition that keeps the leads the user of ctx may
// see: everything for an owner or for no user (the command line, the
// public routes); for anyone else, the leads with an assignee of their
// email and the leads of the channels they are a member of. Any role but
// owner is treated as an agent, so an unknown role sees less, not more.
func (sel *selection) visibility(ctx context.Context) {
	u := leadwire.UserFromContext(ctx)
	if u == nil || u.Role == leadwire.RoleOwner {
		return
	}
	userID := uuid.Nil.String()
	if leadwire.IsCanonicalID(u.ID) {
		userID = u.ID
	}
	sel.where = append(sel.where, "(leads.assignees @> ARRAY["+sel.arg(leadwire.EmailKey(u.Email))+
		"::text] OR leads.channel_id IN (SELECT channel_id FROM channel_members WHERE user_id = "+sel.arg(userID)+"::uuid))")
}

// selectLeads returns the selection of the leads of f (but its limit and
// cursor) the caller may see.
func selectLeads(ctx context.Context, f leadwire.LeadFilter) (selection, error) {
	var sel selection
	if f.Query != "" {
		words, err := search.QueryWords(f.Query)
		if err != nil {
			return sel, err
		}
		// Every word typed must begin a word of the lead. The words hold
		// letters and digits only, so nothing typed is read as tsquery
		// syntax.
		terms := make([]string, len(words))
		for i, w := range words {
			terms[i] = "'" + strings.ToLower(w) + "':*"
		}
		sel.where = append(sel.where, "leads.search @@ "+sel.arg(strings.Join(terms, " & "))+"::tsquery")
	}
	if f.ChannelID != "" {
		if !leadwire.IsCanonicalID(f.ChannelID) {
			return sel, leadwire.Errorf(leadwire.EINVALID, "channel %q is not a channel id", f.ChannelID)
		}
		sel.where = append(sel.where, "leads.channel_id = "+sel.arg(f.ChannelID)+"::uuid")
	}
	if f.LeadID != "" {
		if !leadwire.IsCanonicalID(f.LeadID) {
			return sel, leadwire.Errorf(leadwire.EINVALID, "lead %q is not a lead id", f.LeadID)
		}
		sel.where = append(sel.where, "leads.id = "+sel.arg(f.LeadID)+"::uuid")
	}
	if f.ContactID != "" {
		if !leadwire.IsCanonicalID(f.ContactID) {
			return sel, leadwire.Errorf(leadwire.EINVALID, "contact %q is not a contact id", f.ContactID)
		}
		sel.where = append(sel.where, "leads.contact_id = "+sel.arg(f.ContactID)+"::uuid")
	}
	if f.Status == "" {
		// Quarantined leads are listed only when asked for.
		sel.where = append(sel.where, "leads.status != 'spam'")
	} else {
		if !slices.Contains(leadwire.Statuses, f.Status) {
			return sel, leadwire.Errorf(leadwire.EINVALID, "status %q is not one of %s", f.Status, strings.Join(leadwire.Statuses, ", "))
		}
		sel.where = append(sel.where, "leads.status = "+sel.arg(f.Status))
	}
	if f.Assignee != "" {
		sel.where = append(sel.where, "leads.assignees @> ARRAY["+sel.arg(leadwire.EmailKey(f.Assignee))+"::text]")
	}
	if f.Tag != "" {
		sel.where = append(sel.where, "EXISTS (SELECT 1 FROM json_array_elements_text(leads.parsed_payload::json -> 'tag') AS t WHERE t = "+sel.arg(f.Tag)+")")
	}
	if !f.Since.IsZero() {
		sel.where = append(sel.where, "leads.created_at >= "+sel.arg(f.Since.UnixMilli()))
	}
	if !f.Until.IsZero() {
		sel.where = append(sel.where, "leads.created_at < "+sel.arg(f.Until.UnixMilli()))
	}
	sel.visibility(ctx)
	return sel, nil
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
	sel, err := selectLeads(ctx, f)
	if err != nil {
		return nil, "", err
	}
	before := int64(math.MaxInt64)
	if f.Cursor != "" {
		if before, err = search.ParseCursor(f.Cursor); err != nil {
			return nil, "", err
		}
	}
	// Pages end below a seq, and new leads only ever get larger ones: a
	// page after the first lists the same leads however many arrive. One
	// more than the page tells whether another page follows.
	query, args := sel.query(before, limit+1)
	leads, seqs, err := queryLeads(ctx, s.pool, query, args...)
	if err != nil {
		return nil, "", err
	}
	if len(leads) <= limit {
		return leads, "", nil
	}
	return leads[:limit], search.FormatCursor(seqs[limit-1]), nil
}

// FindLeads returns leads newest first, each with its timeline; see
// leadwire.LeadService.
func (s *Store) FindLeads(ctx context.Context, f leadwire.LeadFilter) ([]*leadwire.Lead, error) {
	var leads []*leadwire.Lead
	err := s.WalkLeads(ctx, f, func(l *leadwire.Lead) error {
		leads = append(leads, l)
		return nil
	})
	return leads, err
}

// leadChunk is how many leads WalkLeads reads at a time: what it holds in
// memory however many leads it lists.
var leadChunk = 500

// WalkLeads calls fn with each lead f selects, newest first, each with its
// timeline; see leadwire.LeadService.
func (s *Store) WalkLeads(ctx context.Context, f leadwire.LeadFilter, fn func(*leadwire.Lead) error) error {
	if f.Limit < 0 {
		return leadwire.Errorf(leadwire.EINVALID, "limit must not be negative")
	}
	if f.ChannelID != "" {
		u, err := uuid.Parse(f.ChannelID)
		if err != nil {
			return nil // no channel has that id, so no lead either
		}
		f.ChannelID = u.String()
	}
	if f.Cursor != "" {
		return leadwire.Errorf(leadwire.EINVALID, "a walk lists every lead: it takes no cursor")
	}
	// The filters and the caller's visibility are those of SearchLeads,
	// so that an export lists what the pages list.
	sel, err := selectLeads(ctx, f)
	if err != nil {
		return err
	}
	before := int64(math.MaxInt64)
	for left := f.Limit; ; {
		n := leadChunk
		if f.Limit > 0 {
			n = min(n, left)
			left -= n
		}
		leads, last, err := s.readChunk(ctx, sel, before, n)
		if err != nil {
			return err
		}
		for _, l := range leads {
			if err := fn(l); err != nil {
				return err
			}
		}
		if len(leads) < n || f.Limit > 0 && left == 0 {
			return nil
		}
		before = last
	}
}

// readChunk returns up to n leads of sel with a seq below before, newest
// first, each with its timeline, and the seq of the last one.
func (s *Store) readChunk(ctx context.Context, sel selection, before int64, n int) ([]*leadwire.Lead, int64, error) {
	var leads []*leadwire.Lead
	var last int64
	// One snapshot, so the timelines belong to the leads read.
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		query, args := sel.query(before, n)
		var seqs []int64
		var err error
		leads, seqs, err = queryLeads(ctx, tx, query, args...)
		if err != nil || len(leads) == 0 {
			return err
		}
		last = seqs[len(seqs)-1]
		return readTimelines(ctx, tx, leads)
	})
	return leads, last, storageFault(err)
}

// readTimelines fills the timelines of leads.
func readTimelines(ctx context.Context, q querier, leads []*leadwire.Lead) error {
	byID := make(map[string]*leadwire.Lead, len(leads))
	ids := make([]string, len(leads))
	for i, l := range leads {
		byID[l.ID], ids[i] = l, l.ID
	}
	rows, err := q.Query(ctx, `SELECT id::text, action, details, created_at, lead_id::text FROM activities
		WHERE lead_id = ANY($1::text[]::uuid[]) ORDER BY created_at, id`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var leadID string
		a, err := scanActivity(rows, &leadID)
		if err != nil {
			return err
		}
		a.LeadID = leadID
		l := byID[leadID]
		l.Timeline = append(l.Timeline, a)
	}
	return rows.Err()
}

// FindLeadByID returns the lead without its timeline, when the caller may
// see it; see leadwire.LeadService.
func (s *Store) FindLeadByID(ctx context.Context, id string) (*leadwire.Lead, error) {
	if !leadwire.IsCanonicalID(id) {
		return nil, leadNotFound(id)
	}
	var sel selection
	sel.where = append(sel.where, "leads.id = "+sel.arg(id)+"::uuid")
	sel.visibility(ctx)
	query, args := sel.query(math.MaxInt64, 1)
	leads, _, err := queryLeads(ctx, s.pool, query, args...)
	if err != nil {
		return nil, err
	}
	if len(leads) == 0 {
		return nil, leadNotFound(id)
	}
	return leads[0], nil
}

func leadNotFound(id string) error {
	return leadwire.Errorf(leadwire.ENOTFOUND, "lead %q not found", id)
}

// activityDetails is the JSON of activities.details, as the SQLite store
// writes it.
type activityDetails struct {
	Listing *leadwire.Listing `json:"listing,omitempty"`
	Search  *leadwire.Search  `json:"search,omitempty"`
	Notes   string            `json:"notes,omitempty"`
	Actor   string            `json:"actor,omitempty"` // the email of the user who made a change
	Raw     json.RawMessage   `json:"raw_payload,omitempty"`
}

// scanActivity reads the columns id, action, details, created_at and then
// into extra.
func scanActivity(row pgx.Row, extra ...any) (*leadwire.Activity, error) {
	a := new(leadwire.Activity)
	var details string
	var created int64
	if err := row.Scan(append([]any{&a.ID, &a.Action, &details, &created}, extra...)...); err != nil {
		return nil, err
	}
	var d activityDetails
	if err := json.Unmarshal([]byte(details), &d); err != nil {
		return nil, err
	}
	a.Listing, a.Search, a.Notes, a.Raw, a.CreatedAt, a.Actor = d.Listing, d.Search, d.Notes, d.Raw, fromMillis(created), d.Actor
	return a, nil
}

// AddActivity appends a to its lead's timeline once it is committed; see
// leadwire.LeadService.
func (s *Store) AddActivity(ctx context.Context, a *leadwire.Activity) error {
	if err := a.Validate(); err != nil {
		return err
	}
	leadID, err := uuid.Parse(a.LeadID)
	if err != nil {
		return leadNotFound(a.LeadID)
	}
	details, err := json.Marshal(activityDetails{Listing: a.Listing, Search: a.Search, Notes: a.Notes, Raw: a.Raw})
	if err != nil {
		return err
	}
	id, at := newID().String(), s.nowMillis()
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// The existence check rides along with the insert, and a key sent
		// again finds the activity stored the first time.
		var stored string
		err := tx.QueryRow(ctx, `INSERT INTO activities (id, lead_id, action, details, created_at, idempotency_key)
			SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM leads WHERE id = $2)
			ON CONFLICT (lead_id, idempotency_key) WHERE idempotency_key != '' DO NOTHING
			RETURNING id::text`, id, leadID, a.Action, string(details), at, a.IdempotencyKey).Scan(&stored)
		if err == nil {
			a.ID, a.LeadID, a.CreatedAt = stored, leadID.String(), fromMillis(at)
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if a.IdempotencyKey != "" {
			first, err := scanActivity(tx.QueryRow(ctx, `SELECT id::text, action, details, created_at FROM activities
				WHERE lead_id = $1 AND idempotency_key = $2`, leadID, a.IdempotencyKey))
			if err == nil {
				first.LeadID, first.IdempotencyKey = leadID.String(), a.IdempotencyKey
				*a = *first
				return nil
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		return leadNotFound(a.LeadID)
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23503" { // the lead was erased meanwhile
		return leadNotFound(a.LeadID)
	}
	return err
}
