package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/leadwire/leadwire"
)

const leadColumns = "leads.rowid, id, channel_id, contact_id, created_at, parsed_payload, raw_payload, status, responded_at, " +
	"spam_reasons, source_address, source_user_agent, source_origin"

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
		l.ID, l.ChannelID, l.ContactID, l.CreatedAt = o.leadIDs[i], o.channelID, s.contactIDs.public(o.contactKeys[i]), o.createdAt
		l.Status, l.RespondedAt, l.Source = o.leads[i].status, time.Time{}, c.Source
		if l.Status != leadwire.StatusSpam {
			l.SpamReasons = nil
		}
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
	o := &captureOp{channelID: ch.ID, brand: ch.Brand(), key: c.IdempotencyKey, hash: c.RequestHash,
		source: c.Source, leads: make([]pendingLead, len(c.Leads))}
	for i, l := range c.Leads {
		parsed, err := l.PayloadJSON()
		if err != nil {
			return nil, err
		}
		p := pendingLead{
			parsed:   string(parsed),
			raw:      string(l.Raw),
			status:   leadwire.StatusNew,
			emailKey: leadwire.EmailKey(l.Payload.Email),
			phoneKey: l.Payload.PhoneKey(),
			contact:  contactFields(&l.Payload),
			spam:     l.Status == leadwire.StatusSpam,
		}
		if l.Status == leadwire.StatusSpam {
			reasons, err := json.Marshal(l.SpamReasons)
			if err != nil {
				return nil, err
			}
			p.status, p.reasons = leadwire.StatusSpam, string(reasons)
		}
		o.leads[i] = p
	}
	return o, nil
}

// pendingLead is a lead ready for the writer.
type pendingLead struct {
	parsed, raw        string
	status, reasons    string // reasons: JSON, for a lead quarantined as spam
	emailKey, phoneKey string
	contact            [4]string // what the contact takes on, see contactFields
	spam               bool      // screened as spam: no deliveries until marked otherwise
}

// LeadsStored returns the channel the writer signals after a commit that
// stored new leads; see leadwire.LeadService.
func (s *Store) LeadsStored() <-chan struct{} { return s.w.leadsStored }

// captureOp stores the leads of one capture, or finds them stored before
// under the same idempotency key.
type captureOp struct {
	channelID, brand string
	key, hash        string
	source           leadwire.Source
	leads            []pendingLead

	leadIDs     []string    // in a replay, those of the capture stored before under key
	contactKeys []uuid.UUID // the keys the leads' contacts are stored under
	createdAt   time.Time
	replayed    bool
}

func (o *captureOp) apply(w *writer, now time.Time) error {
	m, err := w.memory(now)
	if err != nil {
		return err
	}
	at := now.UnixMilli()
	o.createdAt = fromMillis(at)
	o.leadIDs, o.contactKeys = make([]string, len(o.leads)), make([]uuid.UUID, len(o.leads))
	for i := range o.leadIDs {
		o.leadIDs[i] = newID().String()
	}
	var key digest
	if o.key != "" {
		key = m.digest(o.channelID, o.key)
		if m.wasErased(o.channelID, o.key, now) {
			return leadwire.Errorf(leadwire.ECONFLICT, "idempotency key %q was used for a lead that has been erased; send a new key to capture it again", o.key)
		}
		if m.capture(key, now) {
			return o.replay(w, now)
		}
		if !w.sole.Load() {
			// Another handle on the file may have stored a capture with
			// this key that the memory does not know: the schema decides.
			if found, err := o.stored(w, now); err != nil || found {
				return err
			}
		}
	}
	for i := range o.leads {
		l := &o.leads[i]
		var contactKey uuid.UUID
		if l.status == leadwire.StatusSpam {
			contactKey, err = w.spamContact(o.brand, l, at)
		} else {
			contactKey, err = w.contact(m, o.brand, l, at)
		}
		if err != nil {
			return err
		}
		o.contactKeys[i] = contactKey
		if _, err := w.insertLead.Exec(o.leadIDs[i], o.channelID, contactKey.String(), at, o.key, o.hash, l.parsed, l.raw,
			l.status, l.reasons, o.source.Address, o.source.UserAgent, o.source.Origin); err != nil {
			return err
		}
		w.leadStored()
		if !l.spam {
			if err := w.enqueueDeliveries(o.leadIDs[i], o.channelID, at); err != nil {
				return err
			}
		}
	}
	if o.key != "" {
		m.remember(pastCapture{key: key, at: at})
	}
	return nil
}

// replay answers o with the capture stored before under its key, or
// refuses it when that capture's request was another.
func (o *captureOp) replay(w *writer, now time.Time) error {
	found, err := o.stored(w, now)
	if err == nil && !found {
		err = fmt.Errorf("the capture of idempotency key %q is missing", o.key)
	}
	return err
}

// stored answers o with the capture stored under its key within the
// window, if any (see replay).
func (o *captureOp) stored(w *writer, now time.Time) (bool, error) {
	var hash, ids string
	err := w.findCapture.QueryRow(o.channelID, o.key, now.Add(-leadwire.IdempotencyWindow).UnixMilli()).Scan(&hash, &ids)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if hash != o.hash {
		return true, leadwire.Errorf(leadwire.ECONFLICT, "idempotency key %q was used with another request", o.key)
	}
	o.replayed, o.leadIDs = true, nil
	return true, json.Unmarshal([]byte(ids), &o.leadIDs)
}

// findCaptureQuery finds the capture of channel ?1 with Idempotency-Key
// ?2 stored after ?3 (Unix milliseconds): its request hash and its leads'
// ids in order, from table captures, which the writer fills after the
// capture (indexCapturesQuery), and from the leads stored since. No row
// when there is none.
const findCaptureQuery = `SELECT max(hash), json_group_array(id) FROM (
	SELECT c.request_hash AS hash, j.value AS id, 0 AS part, j.key AS n
		FROM captures c, json_each(c.lead_ids) j
		WHERE c.channel_id = ?1 AND c.idempotency_key = ?2 AND c.created_at > ?3
	UNION ALL SELECT request_hash, id, 1, rowid FROM leads
		WHERE rowid > (` + lastIndexedQuery + `) AND channel_id = ?1 AND idempotency_key = ?2 AND created_at > ?3
	ORDER BY part, n)
	HAVING count(*) > 0`

// leadStored tells the writer that the lead just inserted is not yet in the
// search and assignee indexes, which the writer fills in batches of their
// own (see search.go): indexing the words of each lead here cost a third
// of the new-visitor capture rate, its assignees' emails a sixth.
func (w *writer) leadStored() {
	w.stored++
	w.searchBehind.Store(true)
}

// contact returns the key of the contact of lead l in brand: the one
// matching its email or phone, its empty values filled with the lead's,
// or a new one. A capture never replaces a value the contact has: anyone
// who knows a channel id can send one, and someone else's name or phone
// must not become that of a person already known. The lead keeps what was
// sent, so differing values stay visible there.
func (w *writer) contact(m *memory, brand string, l *pendingLead, at int64) (uuid.UUID, error) {
	keys := [2]digest{m.digest(brand, l.emailKey), m.digest(brand, l.phoneKey)}
	i, ok := m.match(keys)
	if !ok && !w.sole.Load() {
		// Another handle on the file may have stored a contact this
		// writer's memory does not know: the schema decides.
		if err := w.learnContact(m, brand, l); err != nil {
			return uuid.UUID{}, err
		}
		i, ok = m.match(keys)
	}
	if !ok {
		return w.newContact(m, brand, l, keys, at)
	}
	c := m.contacts.at(int64(i))
	fill := c.empty &^ emptyFields(l.contact)
	if fill == 0 {
		return c.id, nil // nothing the contact lacks: it stays as it is, updated_at too
	}
	// The statement fills only the columns that are empty, as fill does.
	if _, err := w.updateContact.Exec(l.contact[0], l.contact[1], l.contact[2], l.contact[3],
		l.emailKey, l.phoneKey, at, c.id.String()); err != nil {
		return uuid.UUID{}, err
	}
	// An email or phone filled brings its key (into contact_keys too,
	// with the search index: see indexContactKeysQuery); the bits are
	// those of contactFields.
	for k, bit := range [2]uint8{emailIndex: 1 << 2, phoneIndex: 1 << 3} {
		if fill&bit != 0 {
			c.keys[k] = keys[k]
		}
	}
	c.empty &^= fill
	c.updated = max(c.updated, at)
	m.claim(i)
	return c.id, nil
}

// newContact stores the contact lead l makes in brand.
func (w *writer) newContact(m *memory, brand string, l *pendingLead, keys [2]digest, at int64) (uuid.UUID, error) {
	c := contactEntry{id: newContactKey(), keys: keys, updated: at, empty: emptyFields(l.contact)}
	if _, err := w.insertContact.Exec(c.id.String(), brand, l.contact[0], l.contact[1], l.contact[2], l.contact[3],
		l.emailKey, l.phoneKey, at, at); err != nil {
		return uuid.UUID{}, err
	}
	m.add(c)
	return c.id, nil
}

// matchKinds names the match keys in contact_keys, by index.
var matchKinds = [2]string{emailIndex: "email", phoneIndex: "phone"}

// matchQuery is the rule by which a lead joins a contact, as the schema
// holds it: of the contacts of brand ?1 holding match key ?3 of kind ?2
// ('email' or 'phone'), the one updated last, and at the same millisecond
// the one with the larger key (contactEntry.after). The contacts holding
// a key are those contact_keys lists and, since the writer fills it after
// the capture (indexContactKeysQuery), those of the leads stored since.
// It reads the contact as contactsQuery does.
const matchQuery = `SELECT c.id, c.brand, c.email_key, c.phone_key, c.updated_at,
	(c.first_name = '') + 2 * (c.last_name = '') + 4 * (c.email = '') + 8 * (c.phone_number = '')
	FROM contacts c
	WHERE c.id IN (SELECT contact_id FROM contact_keys WHERE brand = ?1 AND kind = ?2 AND key = ?3
			UNION SELECT contact_id FROM leads WHERE rowid > (` + lastIndexedQuery + `))
		AND c.brand = ?1 AND iif(?2 = 'email', c.email_key, c.phone_key) = ?3
	ORDER BY c.updated_at DESC, c.id DESC LIMIT 1`

// learnContact adds to the memory the contact the schema finds for lead l
// by its email key or, failing that, its phone key, if any.
func (w *writer) learnContact(m *memory, brand string, l *pendingLead) error {
	for k, key := range [2]string{emailIndex: l.emailKey, phoneIndex: l.phoneKey} {
		if key == "" {
			continue
		}
		var id, cbrand, emailKey, phoneKey string
		var updated, empty int64
		err := w.matchContact.QueryRow(brand, matchKinds[k], key).Scan(&id, &cbrand, &emailKey, &phoneKey, &updated, &empty)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return err
		}
		c, err := m.entry(id, cbrand, emailKey, phoneKey, updated, empty)
		if err != nil {
			return err
		}
		m.add(c)
		return nil
	}
	return nil
}

// spamContact stores the contact of a quarantined lead: one of its own,
// without match keys, so that no later lead joins it and a bot that sends
// someone's email neither reaches nor changes that person's contact. The
// memory never holds it.
func (w *writer) spamContact(brand string, l *pendingLead, at int64) (uuid.UUID, error) {
	id := newContactKey()
	_, err := w.insertContact.Exec(id.String(), brand, l.contact[0], l.contact[1], l.contact[2], l.contact[3], "", "", at, at)
	return id, err
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
	details, err := json.Marshal(activityDetails{Listing: a.Listing, Search: a.Search, Notes: a.Notes, Raw: a.Raw})
	if err != nil {
		return nil, err
	}
	return &activityOp{leadID: leadID.String(), action: a.Action, details: string(details), key: a.IdempotencyKey}, nil
}

// activityDetails is the JSON of activities.details. Raw, the activity
// as received, lives here rather than in a column of its own: it is read
// only with the rest of the details.
type activityDetails struct {
	Listing *leadwire.Listing `json:"listing,omitempty"`
	Search  *leadwire.Search  `json:"search,omitempty"`
	Notes   string            `json:"notes,omitempty"`
	Actor   string            `json:"actor,omitempty"` // the email of the user who made a change
	Raw     json.RawMessage   `json:"raw_payload,omitempty"`
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
	id, at := newID().String(), now.UnixMilli()
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
	a.Listing, a.Search, a.Notes, a.Raw, a.CreatedAt = d.Listing, d.Search, d.Notes, d.Raw, fromMillis(created)
	a.Actor = d.Actor
	return a, nil
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
// memory however many leads it lists. A variable so that tests can list
// many chunks of a few leads.
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
	sel, err := s.selection(ctx, f)
	if err != nil {
		return err
	}
	// Each chunk starts below the rowid the previous one ended at. Leads
	// are only ever appended, so the walk lists the leads there were when
	// it began, however long the caller takes over them.
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

// readChunk returns up to n leads of sel with a rowid below before, newest
// first, each with its timeline, and the rowid of the last one.
func (s *Store) readChunk(ctx context.Context, sel selection, before int64, n int) ([]*leadwire.Lead, int64, error) {
	// rowid is the order the writer stored the leads in: newest first
	// without an index of its own.
	query, args := sel.query(before, n)

	// One read transaction, so the timelines belong to the same snapshot
	// as the leads.
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	leads, last, err := s.queryLeads(ctx, tx, query, args...)
	if err != nil || len(leads) == 0 {
		return leads, last, err
	}
	byID := make(map[string]*leadwire.Lead, len(leads))
	ids := make([]string, len(leads))
	for i, l := range leads {
		byID[l.ID], ids[i] = l, l.ID
	}
	idsJSON, err := json.Marshal(ids)
	if err != nil {
		return nil, 0, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, action, details, created_at, lead_id FROM activities
		WHERE lead_id IN (SELECT value FROM json_each(?)) ORDER BY created_at, id`, string(idsJSON))
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var leadID string
		a, err := scanActivity(rows, &leadID)
		if err != nil {
			return nil, 0, err
		}
		a.LeadID = leadID
		l := byID[leadID]
		l.Timeline = append(l.Timeline, a)
	}
	return leads, last, rows.Err()
}

// leadsByID returns the leads of one capture, in the order of ids,
// without their timelines.
func (s *Store) leadsByID(ctx context.Context, ids []string) ([]*leadwire.Lead, error) {
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	// A capture's leads were stored in order, so rowid order is theirs.
	leads, _, err := s.queryLeads(ctx, s.read, "SELECT "+leadColumns+` FROM leads
		WHERE id IN (SELECT value FROM json_each(?)) ORDER BY rowid`, string(list))
	if err != nil {
		return nil, err
	}
	if len(leads) != len(ids) {
		return nil, fmt.Errorf("%d of the %d leads of an idempotent capture are missing", len(ids)-len(leads), len(ids))
	}
	return leads, nil
}

// queryLeads runs a query of leadColumns and returns its leads and the
// rowid of the last one.
func (s *Store) queryLeads(ctx context.Context, q querier, query string, args ...any) ([]*leadwire.Lead, int64, error) {
	leads, rowids, err := s.queryLeadRows(ctx, q, query, args...)
	if err != nil || len(rowids) == 0 {
		return leads, 0, err
	}
	return leads, rowids[len(rowids)-1], nil
}

type querier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

// queryLeadRows runs a query of leadColumns and returns its leads and
// their rowids.
func (s *Store) queryLeadRows(ctx context.Context, q querier, query string, args ...any) ([]*leadwire.Lead, []int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var leads []*leadwire.Lead
	var rowids []int64
	for rows.Next() {
		l := new(leadwire.Lead)
		var parsed, raw, reasons []byte
		var rowid, created, responded int64
		var contactKey string
		if err := rows.Scan(&rowid, &l.ID, &l.ChannelID, &contactKey, &created, &parsed, &raw, &l.Status, &responded,
			&reasons, &l.Source.Address, &l.Source.UserAgent, &l.Source.Origin); err != nil {
			return nil, nil, err
		}
		if len(reasons) > 0 {
			if err := json.Unmarshal(reasons, &l.SpamReasons); err != nil {
				return nil, nil, err
			}
		}
		if responded != 0 {
			l.RespondedAt = fromMillis(responded)
		}
		rowids = append(rowids, rowid)
		if l.ContactID, err = s.contactIDs.publicOf(contactKey); err != nil {
			return nil, nil, err
		}
		if err := json.Unmarshal(parsed, &l.Payload); err != nil {
			return nil, nil, err
		}
		if len(raw) > 0 {
			l.Raw = json.RawMessage(raw)
		}
		l.CreatedAt = fromMillis(created)
		leads = append(leads, l)
	}
	return leads, rowids, rows.Err()
}
