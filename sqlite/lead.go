package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/leadwire/leadwire"
)

const leadColumns = "id, channel_id, contact_id, created_at, parsed_payload, raw_payload"

// CaptureLeads stores the leads of c once they are durable on disk; see
// leadwire.LeadService.
func (s *Store) CaptureLeads(ctx context.Context, c *leadwire.Capture) ([]*leadwire.Lead, bool, error) {
	o, err := s.prepareCapture(ctx, c)
	if err != nil {
		return nil, false, err
	}
	if err := s.w.do(ctx, o); err != nil {
		return nil, false, err
	}
	if o.replayed {
		leads, err := s.leadsByID(ctx, o.leadIDs)
		return leads, true, err
	}
	for i, l := range c.Leads {
		l.ID, l.ChannelID, l.ContactID, l.CreatedAt = o.leadIDs[i], o.channel.ID, o.contactIDs[i], o.createdAt
	}
	return c.Leads, false, nil
}

// prepareCapture turns c into an op for the writer.
func (s *Store) prepareCapture(ctx context.Context, c *leadwire.Capture) (*captureOp, error) {
	if len(c.Leads) == 0 {
		return nil, leadwire.Errorf(leadwire.EINVALID, "a capture needs at least one lead")
	}
	ch, err := s.channel(ctx, c.ChannelID)
	if err != nil {
		return nil, err
	}
	// Everything that costs CPU (JSON, phone parsing) happens here, on the
	// caller's goroutine, so the single writer only decides and inserts.
	o := &captureOp{channel: ch, key: c.IdempotencyKey, hash: c.RequestHash, leads: make([]pendingLead, len(c.Leads))}
	for i, l := range c.Leads {
		parsed, err := l.PayloadJSON()
		if err != nil {
			return nil, err
		}
		o.leads[i] = pendingLead{
			parsed:   string(parsed),
			raw:      string(l.Raw),
			emailKey: leadwire.EmailKey(l.Payload.Email),
			phoneKey: leadwire.PhoneKey(l.Payload.PhoneNumber),
			contact: leadwire.Payload{FirstName: l.Payload.FirstName, LastName: l.Payload.LastName,
				Email: l.Payload.Email, PhoneNumber: l.Payload.PhoneNumber},
		}
	}
	return o, nil
}

// pendingLead is a lead ready for the writer.
type pendingLead struct {
	parsed, raw        string
	emailKey, phoneKey string
	contact            leadwire.Payload // only what Contact.Apply reads
}

// captureOp stores the leads of one capture, or finds them stored before
// under the same idempotency key.
type captureOp struct {
	channel   *leadwire.Channel
	key, hash string
	leads     []pendingLead

	leadIDs, contactIDs []string
	createdAt           time.Time
	replayed            bool
}

func (o *captureOp) apply(w *writer, now time.Time) error {
	m, err := w.memory(now)
	if err != nil {
		return err
	}
	k := captureKey{o.channel.ID, o.key}
	if o.key != "" {
		if p := m.capture(k, now); p != nil {
			if p.hash != o.hash {
				return leadwire.Errorf(leadwire.ECONFLICT, "idempotency key %q was used with another request", o.key)
			}
			o.leadIDs, o.replayed = p.leadIDs, true
			return nil
		}
	}
	at := now.UnixMilli()
	o.createdAt = fromMillis(at)
	o.leadIDs, o.contactIDs = make([]string, len(o.leads)), make([]string, len(o.leads))
	brand := o.channel.Brand()
	for i := range o.leads {
		l := &o.leads[i]
		c, err := w.contact(m, brand, l, at)
		if err != nil {
			return err
		}
		o.leadIDs[i], o.contactIDs[i] = newID(), c.ID
		if _, err := w.insertLead.Exec(o.leadIDs[i], o.channel.ID, c.ID, at, o.key, o.hash, l.parsed, l.raw); err != nil {
			return err
		}
	}
	if o.key != "" {
		m.remember(k, o.hash, o.leadIDs, o.createdAt)
	}
	return nil
}

// contact returns the contact of lead l in brand: the one matching its
// email or phone, updated with its newer values, or a new one.
func (w *writer) contact(m *memory, brand string, l *pendingLead, at int64) (*contactEntry, error) {
	c := m.match(brand, l.emailKey, l.phoneKey)
	if c == nil {
		c = &contactEntry{Contact: leadwire.Contact{ID: newID(), Brand: brand,
			CreatedAt: fromMillis(at), UpdatedAt: fromMillis(at)}}
		c.Apply(&l.contact)
		c.emailKey, c.phoneKey = l.emailKey, l.phoneKey
		if _, err := w.insertContact.Exec(c.ID, c.Brand, c.FirstName, c.LastName, c.Email, c.PhoneNumber,
			c.emailKey, c.phoneKey, at, at); err != nil {
			return nil, err
		}
		m.index(c, "", "")
		return c, nil
	}
	oldEmailKey, oldPhoneKey := c.emailKey, c.phoneKey
	if !c.Apply(&l.contact) {
		return c, nil
	}
	if l.contact.Email != "" {
		c.emailKey = l.emailKey
	}
	if l.contact.PhoneNumber != "" {
		c.phoneKey = l.phoneKey
	}
	c.UpdatedAt = fromMillis(at)
	if _, err := w.updateContact.Exec(c.FirstName, c.LastName, c.Email, c.PhoneNumber,
		c.emailKey, c.phoneKey, at, c.ID); err != nil {
		return nil, err
	}
	m.index(c, oldEmailKey, oldPhoneKey)
	return c, nil
}

// AddActivity appends a to its lead's timeline once it is durable; see
// leadwire.LeadService.
func (s *Store) AddActivity(ctx context.Context, a *leadwire.Activity) error {
	o, err := prepareActivity(a)
	if err != nil {
		return err
	}
	if err := s.w.do(ctx, o); err != nil {
		return err
	}
	if o.replayed != nil {
		*a = *o.replayed
		return nil
	}
	a.ID, a.LeadID, a.CreatedAt = o.id, o.leadID, o.createdAt
	return nil
}

// prepareActivity turns a into an op for the writer.
func prepareActivity(a *leadwire.Activity) (*activityOp, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	leadID, err := uuid.Parse(a.LeadID)
	if err != nil {
		return nil, leadwire.Errorf(leadwire.ENOTFOUND, "lead %q not found", a.LeadID)
	}
	details, err := json.Marshal(activityDetails{Listing: a.Listing, Search: a.Search, Notes: a.Notes})
	if err != nil {
		return nil, err
	}
	return &activityOp{leadID: leadID.String(), action: a.Action, details: string(details), key: a.IdempotencyKey}, nil
}

// activityDetails is the JSON of activities.details.
type activityDetails struct {
	Listing *leadwire.Listing `json:"listing,omitempty"`
	Search  *leadwire.Search  `json:"search,omitempty"`
	Notes   string            `json:"notes,omitempty"`
}

// activityOp appends one activity to a lead's timeline.
type activityOp struct {
	leadID, action, details, key string

	id        string
	createdAt time.Time
	replayed  *leadwire.Activity // the activity stored before under key
}

func (o *activityOp) apply(w *writer, now time.Time) error {
	if o.key != "" {
		a, err := scanActivity(w.findActivity.QueryRow(o.leadID, o.key))
		switch {
		case err == nil:
			a.LeadID, a.IdempotencyKey, o.replayed = o.leadID, o.key, a
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
	}
	id, at := newID(), now.UnixMilli()
	res, err := w.insertActivity.Exec(id, o.leadID, o.action, o.details, at, o.key)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return leadwire.Errorf(leadwire.ENOTFOUND, "lead %q not found", o.leadID)
	}
	o.id, o.createdAt = id, fromMillis(at)
	return nil
}

// scanActivity reads the columns id, action, details, created_at and then
// into extra.
func scanActivity(row interface{ Scan(...any) error }, extra ...any) (*leadwire.Activity, error) {
	a := new(leadwire.Activity)
	var details []byte
	var created int64
	if err := row.Scan(append([]any{&a.ID, &a.Action, &details, &created}, extra...)...); err != nil {
		return nil, err
	}
	var d activityDetails
	if err := json.Unmarshal(details, &d); err != nil {
		return nil, err
	}
	a.Listing, a.Search, a.Notes, a.CreatedAt = d.Listing, d.Search, d.Notes, fromMillis(created)
	return a, nil
}

// FindLeads returns leads newest first, each with its timeline.
func (s *Store) FindLeads(ctx context.Context, f leadwire.LeadFilter) ([]*leadwire.Lead, error) {
	if f.Limit < 0 {
		return nil, leadwire.Errorf(leadwire.EINVALID, "limit must not be negative")
	}
	var where []string
	var args []any
	if f.ChannelID != "" {
		u, err := uuid.Parse(f.ChannelID)
		if err != nil {
			return nil, nil // no channel has that id, so no lead either
		}
		where, args = append(where, "channel_id = ?"), append(args, u.String())
	}
	query := "SELECT " + leadColumns + " FROM leads"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	// rowid is the order the writer stored the leads in: newest first
	// without an index of its own.
	query += " ORDER BY rowid DESC"
	if f.Limit > 0 {
		query, args = query+" LIMIT ?", append(args, f.Limit)
	}

	// One read transaction, so the timelines belong to the same snapshot
	// as the leads.
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	leads, err := queryLeads(ctx, tx, query, args...)
	if err != nil || len(leads) == 0 {
		return leads, err
	}
	byID := make(map[string]*leadwire.Lead, len(leads))
	ids := make([]string, len(leads))
	for i, l := range leads {
		byID[l.ID], ids[i] = l, l.ID
	}
	idsJSON, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, action, details, created_at, lead_id FROM activities
		WHERE lead_id IN (SELECT value FROM json_each(?)) ORDER BY created_at, id`, string(idsJSON))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var leadID string
		a, err := scanActivity(rows, &leadID)
		if err != nil {
			return nil, err
		}
		a.LeadID = leadID
		l := byID[leadID]
		l.Timeline = append(l.Timeline, a)
	}
	return leads, rows.Err()
}

// leadsByID returns the leads with the given ids, in that order, without
// their timelines.
func (s *Store) leadsByID(ctx context.Context, ids []string) ([]*leadwire.Lead, error) {
	idsJSON, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	found, err := queryLeads(ctx, s.read, "SELECT "+leadColumns+" FROM leads WHERE id IN (SELECT value FROM json_each(?))", string(idsJSON))
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*leadwire.Lead, len(found))
	for _, l := range found {
		byID[l.ID] = l
	}
	leads := make([]*leadwire.Lead, len(ids))
	for i, id := range ids {
		if leads[i] = byID[id]; leads[i] == nil {
			return nil, fmt.Errorf("lead %s of an idempotent capture is missing", id)
		}
	}
	return leads, nil
}

func queryLeads(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) ([]*leadwire.Lead, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var leads []*leadwire.Lead
	for rows.Next() {
		l := new(leadwire.Lead)
		var parsed, raw []byte
		var created int64
		if err := rows.Scan(&l.ID, &l.ChannelID, &l.ContactID, &created, &parsed, &raw); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(parsed, &l.Payload); err != nil {
			return nil, err
		}
		if len(raw) > 0 {
			l.Raw = json.RawMessage(raw)
		}
		l.CreatedAt = fromMillis(created)
		leads = append(leads, l)
	}
	return leads, rows.Err()
}
