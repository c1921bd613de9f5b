package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/search"
)

// CaptureLeads stores the leads of c once they are committed; see
// leadwire.LeadService.
func (s *Store) CaptureLeads(ctx context.Context, c *leadwire.Capture) ([]*leadwire.Lead, bool, error) {
	p, err := s.prepare(ctx, c)
	if err != nil {
		return nil, false, err
	}
	if err := s.w.do(ctx, p); err != nil {
		return nil, false, err
	}
	return p.result, p.replayed, nil
}

// prepare makes c ready for the writer.
func (s *Store) prepare(ctx context.Context, c *leadwire.Capture) (*pendingCapture, error) {
	if len(c.Leads) == 0 {
		return nil, leadwire.Errorf(leadwire.EINVALID, "a capture needs at least one lead")
	}
	ch, err := s.channel(ctx, c.ChannelID)
	if err != nil {
		return nil, err
	}
	// Everything that costs CPU (JSON, phone parsing, the words of the
	// search) happens here, on the caller's goroutine, so the writer only
	// decides and sends.
	p := &pendingCapture{channelID: ch.ID, brand: ch.Brand(), key: c.IdempotencyKey, hash: c.RequestHash,
		source: c.Source, leads: make([]pendingLead, len(c.Leads))}
	for i, l := range c.Leads {
		parsed, err := l.PayloadJSON()
		if err != nil {
			return nil, err
		}
		assignees := []string{}
		for _, a := range l.Payload.Assignees {
			if k := leadwire.EmailKey(a.Email); k != "" {
				assignees = append(assignees, k)
			}
		}
		assigneesJSON, _ := json.Marshal(assignees) // strings only: cannot fail
		pl := pendingLead{
			lead:      l,
			parsed:    string(parsed),
			status:    leadwire.StatusNew,
			emailKey:  leadwire.EmailKey(l.Payload.Email),
			phoneKey:  l.Payload.PhoneKey(),
			values:    [4]string{l.Payload.FirstName, l.Payload.LastName, l.Payload.Email, l.Payload.PhoneNumber},
			words:     strings.Join(search.LeadWords(&l.Payload), " "),
			assignees: string(assigneesJSON),
		}
		if l.Status == leadwire.StatusSpam {
			reasons, err := json.Marshal(l.SpamReasons)
			if err != nil {
				return nil, err
			}
			// Its contact is one of its own (see storeBatch): it has no
			// match keys to look up.
			pl.status, pl.reasons, pl.emailKey, pl.phoneKey = leadwire.StatusSpam, string(reasons), "", ""
		}
		p.leads[i] = pl
	}
	return p, nil
}

// pendingCapture is a capture on its way through the writer, and then its
// outcome: err when it was refused, else result, replayed or new.
type pendingCapture struct {
	channelID, brand string
	key, hash        string
	source           leadwire.Source
	leads            []pendingLead

	captureID string
	result    []*leadwire.Lead
	replayed  bool
	err       error
}

// pendingLead is a lead ready for the writer.
type pendingLead struct {
	lead               *leadwire.Lead
	parsed             string
	status, reasons    string    // reasons: JSON, for a lead quarantined as spam
	emailKey, phoneKey string    // "" for a lead quarantined as spam
	values             [4]string // what the contact takes on: first and last name, email, phone
	words              string    // the words of the search, separated by spaces
	assignees          string    // JSON array of the assignees' email keys
}

// The kinds of contact_keys, in the order of contactState.keys.
var keyKinds = [2]string{"email", "phone"}

// contactState is a contact as a batch sees and changes it.
type contactState struct {
	id, brand string
	values    [4]string
	keys      [2]string // email and phone match keys, "" for none
	created   int64
	updated   int64
	isNew     bool
	changed   bool
}

// after tells whether c was updated after d: later, or at the same
// millisecond with the larger id, the order of contact_keys_match.
func (c *contactState) after(d *contactState) bool {
	return c.updated > d.updated || c.updated == d.updated && c.id > d.id
}

// matchKey names a match key of contact_keys.
type matchKey struct{ brand, kind, key string }

// lockID is the advisory lock a batch holds while it matches and changes
// the contacts a key finds: a 64-bit hash of the key, the same in every
// process. Two keys sharing a hash only make their batches wait on each
// other.
func (k matchKey) lockID() int64 {
	h := fnv.New64a()
	h.Write([]byte("leadwire contact\x00" + k.brand + "\x00" + k.kind + "\x00" + k.key))
	return int64(h.Sum64())
}

// erasedKey is how erased_captures stores a channel's idempotency key: a
// SHA-256, so that a key some site made of personal data is not kept.
func erasedKey(channelID, key string) string {
	h := sha256.Sum256([]byte(channelID + "\x00" + key))
	return hex.EncodeToString(h[:])
}

const (
	// claimKeys inserts the captures' idempotency keys and returns each
	// one's row: the capture's own, or the one stored before. The keys go
	// in one order in every process, so that two batches never wait on
	// each other's keys in a circle. A key another transaction is
	// inserting makes this one wait until that one ends, and then find its
	// row: the conflict's update reads the row as committed, and RETURNING
	// gives it, which a second statement's snapshot would show too, at the
	// cost of a round of its own. A key older than the window ($7) is
	// taken over; a younger one is kept as it is. The keys of erased leads
	// are not inserted and return no row.
	claimKeys = `INSERT INTO idempotency_keys AS k (channel_id, key, request_hash, capture_id, created_at)
		SELECT u.channel_id, u.key, u.hash, u.capture_id, $6
		FROM unnest($1::text[]::uuid[], $2::text[], $3::text[], $4::text[]::uuid[], $5::text[]) AS u (channel_id, key, hash, capture_id, erased)
		WHERE NOT EXISTS (SELECT 1 FROM erased_captures e WHERE e.key_hash = u.erased AND e.created_at > $7)
		ORDER BY u.channel_id, u.key COLLATE "C"
		ON CONFLICT (channel_id, key) DO UPDATE SET
			request_hash = CASE WHEN k.created_at <= $7 THEN excluded.request_hash ELSE k.request_hash END,
			capture_id = CASE WHEN k.created_at <= $7 THEN excluded.capture_id ELSE k.capture_id END,
			created_at = CASE WHEN k.created_at <= $7 THEN excluded.created_at ELSE k.created_at END
		RETURNING k.channel_id::text, k.key, k.request_hash, k.capture_id::text`
	// lockKeys takes the advisory locks of the match keys, in the order
	// given (sorted, so that batches never wait on each other in a circle).
	lockKeys = `SELECT count(*) FROM (SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k) AS l`
	// findContacts returns, for each match key, the contact it finds: of
	// the contacts holding it, the one updated last (see contact_keys).
	findContacts = `SELECT q.i, c.id::text, c.first_name, c.last_name, c.email, c.phone_number, c.created_at, c.updated_at,
			coalesce((SELECT key FROM contact_keys WHERE contact_id = c.id AND kind = 'email'), ''),
			coalesce((SELECT key FROM contact_keys WHERE contact_id = c.id AND kind = 'phone'), '')
		FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS q (brand, kind, key, i)
		CROSS JOIN LATERAL (SELECT contact_id FROM contact_keys k WHERE k.brand = q.brand AND k.kind = q.kind AND k.key = q.key
			ORDER BY k.updated_at DESC, k.contact_id DESC LIMIT 1) AS m
		JOIN contacts c ON c.id = m.contact_id`
	// contactKeyRows are the match keys of the contacts $1 of brands $2,
	// updated at $3, with the email keys $4 and the phone keys $5, "" for
	// none.
	contactKeyRows = `SELECT u.id, k.kind, u.brand, k.key, u.updated_at
		FROM unnest($1::text[]::uuid[], $2::text[], $3::bigint[], $4::text[], $5::text[]) AS u (id, brand, updated_at, email, phone)
		CROSS JOIN LATERAL (VALUES ('email', u.email), ('phone', u.phone)) AS k (kind, key)
		WHERE k.key != ''`
	// insertContacts inserts new contacts, with first and last names $6
	// and $7, emails $8, phones $9 and creation times $10, and their match
	// keys, which no row can hold yet.
	insertContacts = `WITH c AS (INSERT INTO contacts (id, brand, first_name, last_name, email, phone_number, created_at, updated_at)
			SELECT * FROM unnest($1::text[]::uuid[], $2::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $3::bigint[]))
		INSERT INTO contact_keys (contact_id, kind, brand, key, updated_at) ` + contactKeyRows
	// fillContacts fills the empty values of contacts, with the values of
	// insertContacts, and moves every match key of theirs to their new
	// time, adding the keys of an email or phone filled. A value is
	// decided on the row as it is when the update runs: another server's
	// batch may have matched the same contact by its other key and filled
	// it first. A key of a kind the contact has keeps its value, as the
	// contact keeps its email or phone.
	fillContacts = `WITH f AS (UPDATE contacts c SET
			first_name = CASE WHEN c.first_name = '' THEN u.first_name ELSE c.first_name END,
			last_name = CASE WHEN c.last_name = '' THEN u.last_name ELSE c.last_name END,
			email = CASE WHEN c.email = '' THEN u.email ELSE c.email END,
			phone_number = CASE WHEN c.phone_number = '' THEN u.phone_number ELSE c.phone_number END,
			updated_at = greatest(c.updated_at, u.updated_at)
		FROM unnest($1::text[]::uuid[], $6::text[], $7::text[], $8::text[], $9::text[], $3::bigint[])
			AS u (id, first_name, last_name, email, phone_number, updated_at)
		WHERE c.id = u.id)
		INSERT INTO contact_keys (contact_id, kind, brand, key, updated_at) ` + contactKeyRows + `
		ON CONFLICT (contact_id, kind) DO UPDATE SET updated_at = greatest(contact_keys.updated_at, excluded.updated_at)`
	// insertLeads inserts the leads at $2 and their deliveries, which give
	// up at $2 + $3.
	insertLeads = `WITH l AS (INSERT INTO leads (id, channel_id, contact_id, capture_id, created_at, parsed_payload, raw_payload, assignees, search,
			status, spam_reasons, source_address, source_user_agent, source_origin)
		SELECT u.id, u.channel_id, u.contact_id, u.capture_id, $2, u.parsed, u.raw,
			ARRAY(SELECT jsonb_array_elements_text(u.assignees::jsonb)),
			array_to_tsvector(string_to_array(u.words, ' ')),
			u.status, u.reasons, u.address, u.user_agent, u.origin
		FROM unnest($1::text[]::uuid[], $4::text[]::uuid[], $5::text[]::uuid[], $6::text[]::uuid[], $7::text[], $8::text[], $9::text[], $10::text[],
				$11::text[], $12::text[], $13::text[], $14::text[], $15::text[])
			WITH ORDINALITY AS u (id, channel_id, contact_id, capture_id, parsed, raw, assignees, words,
				status, reasons, address, user_agent, origin, n)
		ORDER BY u.n
		RETURNING id, channel_id, seq, status) ` + enqueueDeliveries
)

// storeBatch stores the captures in one transaction at time at (Unix
// milliseconds), setting each one's outcome. It takes two round trips,
// the second ending in the commit, however many captures there are: the
// statements of each step go out together (a pgx batch) and take arrays.
//
//  1. The captures' idempotency keys are claimed (claimKeys), the
//     advisory locks of every match key of their leads taken, and the
//     contacts those keys find read.
//  2. Here, with no round trip, each capture is decided in order: a
//     replay, a conflict, or new leads joined to contacts found, filled
//     or created, as the batch's own earlier leads left them; a lead
//     quarantined as spam gets a new contact without match keys.
//  3. The contacts, their keys and the leads are written and the leads of
//     replayed captures read, then the transaction commits.
//
// Locks are taken in one order by every process (keys, then match keys
// sorted), so batches of several servers wait on each other without
// deadlocking; only two batches filling the same two contacts through
// different keys can, and PostgreSQL then aborts one, which the writer
// repeats (store).
func (s *Store) storeBatch(ctx context.Context, captures []*pendingCapture, at int64) error {
	for _, c := range captures {
		c.err, c.result, c.replayed = nil, nil, false
		c.captureID = newID().String()
	}
	conn, err := s.writes.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	// BEGIN rides with step 1 and COMMIT with step 3, so a batch costs two
	// round trips and the flush. Until COMMIT succeeds, anything that
	// fails rolls the transaction back.
	committed := false
	defer func() {
		if !committed {
			if _, err := conn.Exec(context.Background(), "ROLLBACK"); err != nil {
				conn.Conn().Close(context.Background()) // in an unknown state: the pool drops it
			}
		}
	}()

	// Step 1.
	type chanKey struct{ channel, key string }
	firstWithKey := map[chanKey]*pendingCapture{}
	var kChan, kKey, kHash, kCapture, kErased []string
	for _, c := range captures {
		ck := chanKey{c.channelID, c.key}
		if c.key == "" || firstWithKey[ck] != nil {
			continue
		}
		firstWithKey[ck] = c
		kChan, kKey, kHash = append(kChan, c.channelID), append(kKey, c.key), append(kHash, c.hash)
		kCapture, kErased = append(kCapture, c.captureID), append(kErased, erasedKey(c.channelID, c.key))
	}
	seenKey := map[matchKey]bool{}
	var keys []matchKey
	for _, c := range captures {
		for _, l := range c.leads {
			for k, key := range [2]string{l.emailKey, l.phoneKey} {
				if mk := (matchKey{c.brand, keyKinds[k], key}); key != "" && !seenKey[mk] {
					seenKey[mk] = true
					keys = append(keys, mk)
				}
			}
		}
	}
	locks := make([]int64, len(keys))
	var qBrand, qKind, qKey []string
	for i, k := range keys {
		locks[i] = k.lockID()
		qBrand, qKind, qKey = append(qBrand, k.brand), append(qKind, k.kind), append(qKey, k.key)
	}
	slices.Sort(locks)
	locks = slices.Compact(locks)
	cutoff := at - leadwire.IdempotencyWindow.Milliseconds()

	b := &pgx.Batch{}
	b.Queue("BEGIN")
	stored := map[chanKey]keyRow{}
	if len(kChan) > 0 {
		b.Queue(claimKeys, kChan, kKey, kHash, kCapture, kErased, at, cutoff).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var ck chanKey
				var r keyRow
				if err := rows.Scan(&ck.channel, &ck.key, &r.hash, &r.captureID); err != nil {
					return err
				}
				stored[ck] = r
			}
			return rows.Err()
		})
	}
	b.Queue(lockKeys, locks)
	contacts := map[string]*contactState{}
	index := map[matchKey]*contactState{}
	if len(keys) > 0 {
		b.Queue(findContacts, qBrand, qKind, qKey).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var i int64
				c := new(contactState)
				if err := rows.Scan(&i, &c.id, &c.values[0], &c.values[1], &c.values[2], &c.values[3],
					&c.created, &c.updated, &c.keys[0], &c.keys[1]); err != nil {
					return err
				}
				if known := contacts[c.id]; known != nil {
					c = known
				} else {
					c.brand = keys[i-1].brand
					contacts[c.id] = c
				}
				index[keys[i-1]] = c
			}
			return rows.Err()
		})
	}
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return err
	}

	// Step 2.
	var newContacts, changed []*contactState
	var leadRows leadColumns
	var replays []string
	for _, c := range captures {
		if c.key != "" {
			ck := chanKey{c.channelID, c.key}
			row, ok := stored[ck]
			first := firstWithKey[ck]
			switch {
			case !ok:
				c.err = leadwire.Errorf(leadwire.ECONFLICT, "idempotency key %q was used for a lead that has been erased; send a new key to capture it again", c.key)
				continue
			case row.hash != c.hash:
				c.err = leadwire.Errorf(leadwire.ECONFLICT, "idempotency key %q was used with another request", c.key)
				continue
			case row.captureID != c.captureID:
				c.replayed = true
				if first != c && !first.replayed && first.err == nil {
					c.result = first.result // stored by this batch
				} else {
					replays = append(replays, row.captureID) // stored before: read below
					c.captureID = row.captureID
				}
				continue
			}
		}
		c.result = make([]*leadwire.Lead, len(c.leads))
		for i := range c.leads {
			l := &c.leads[i]
			ct := matchContact(index, c.brand, l)
			switch {
			case l.status == leadwire.StatusSpam:
				// A contact of its own, without match keys, so that no
				// later lead joins it and a bot that sends someone's email
				// neither reaches nor changes that person's contact.
				ct = &contactState{id: uuid.NewString(), brand: c.brand, values: l.values, created: at, updated: at, isNew: true}
				newContacts = append(newContacts, ct)
			case ct == nil:
				ct = &contactState{id: uuid.NewString(), brand: c.brand, values: l.values,
					keys: [2]string{l.emailKey, l.phoneKey}, created: at, updated: at, isNew: true}
				newContacts = append(newContacts, ct)
				claim(index, ct)
			case fill(ct, l, at):
				if !ct.isNew && !ct.changed {
					changed = append(changed, ct)
				}
				ct.changed = true
				claim(index, ct)
			}
			id := newID().String()
			leadRows.add(id, c.channelID, ct.id, c.captureID, l, c.source)
			out := l.lead
			out.ID, out.ChannelID, out.ContactID, out.CreatedAt = id, c.channelID, ct.id, fromMillis(at)
			out.Status, out.RespondedAt, out.Source = l.status, time.Time{}, c.source
			if out.Status != leadwire.StatusSpam {
				out.SpamReasons = nil
			}
			c.result[i] = out
		}
	}

	// Step 3.
	b = &pgx.Batch{}
	if len(newContacts) > 0 {
		b.Queue(insertContacts, contactArgs(newContacts, true)...)
	}
	if len(changed) > 0 {
		b.Queue(fillContacts, contactArgs(changed, false)...)
	}
	// The outbox: the deliveries of the batch's leads, in its commit.
	queued := false
	if len(leadRows.id) > 0 {
		r := &leadRows
		b.Queue(insertLeads, r.id, at, leadwire.DeliveryGiveUp.Milliseconds(), r.channel, r.contact, r.capture, r.parsed, r.raw,
			r.assignees, r.words, r.status, r.reasons, r.address, r.userAgent, r.origin).Exec(func(tag pgconn.CommandTag) error {
			queued = tag.RowsAffected() > 0
			return nil
		})
	}
	replayed := map[string][]*leadwire.Lead{}
	if len(replays) > 0 {
		b.Queue("SELECT capture_id::text, "+leadSelect+" FROM leads WHERE capture_id = ANY($1::text[]::uuid[]) ORDER BY seq", replays).
			Query(func(rows pgx.Rows) error {
				for rows.Next() {
					var captureID string
					l, _, err := scanLead(rows, &captureID)
					if err != nil {
						return err
					}
					replayed[captureID] = append(replayed[captureID], l)
				}
				return rows.Err()
			})
	}
	b.Queue("COMMIT").Exec(func(tag pgconn.CommandTag) error {
		if tag.String() != "COMMIT" { // PostgreSQL answers a failed transaction's COMMIT with ROLLBACK
			return errRolledBack
		}
		committed = true
		return nil
	})
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	if len(leadRows.id) > 0 {
		s.leadsStored()
	}
	if queued {
		s.deliveriesQueued()
	}
	for _, c := range captures {
		if c.replayed && c.result == nil && c.err == nil {
			if c.result = replayed[c.captureID]; len(c.result) == 0 {
				c.err = leadwire.Errorf(leadwire.ECONFLICT, "idempotency key %q was used for a lead that has been erased; send a new key to capture it again", c.key)
			}
		}
	}
	return nil
}

// errRolledBack is a COMMIT that PostgreSQL answered with ROLLBACK.
var errRolledBack = errors.New("postgres: the transaction was rolled back")

// keyRow is a row of idempotency_keys.
type keyRow struct{ hash, captureID string }

// leadColumns are the rows of insertLeads, column by column.
type leadColumns struct {
	id, channel, contact, capture, parsed, raw, assignees, words []string
	status, reasons, address, userAgent, origin                  []string
}

func (r *leadColumns) add(id, channel, contact, capture string, l *pendingLead, src leadwire.Source) {
	r.id, r.channel, r.contact, r.capture = append(r.id, id), append(r.channel, channel), append(r.contact, contact), append(r.capture, capture)
	r.parsed, r.raw = append(r.parsed, l.parsed), append(r.raw, string(l.lead.Raw))
	r.assignees, r.words = append(r.assignees, l.assignees), append(r.words, l.words)
	r.status, r.reasons = append(r.status, l.status), append(r.reasons, l.reasons)
	r.address, r.userAgent, r.origin = append(r.address, src.Address), append(r.userAgent, src.UserAgent), append(r.origin, src.Origin)
}

// matchContact returns the contact of the lead's email key or, failing
// that, of its phone key, nil for none.
func matchContact(index map[matchKey]*contactState, brand string, l *pendingLead) *contactState {
	for k, key := range [2]string{l.emailKey, l.phoneKey} {
		if key == "" {
			continue
		}
		if c := index[matchKey{brand, keyKinds[k], key}]; c != nil {
			return c
		}
	}
	return nil
}

// fill gives the contact the lead's values where it has none and reports
// whether it took any. A capture never replaces a value: anyone who knows
// a channel id can send one, and someone else's name or phone must not
// become that of a person already known. An email or phone filled brings
// its match key.
func fill(c *contactState, l *pendingLead, at int64) bool {
	filled := false
	for f, v := range l.values {
		if c.values[f] == "" && v != "" {
			c.values[f], filled = v, true
			switch f {
			case 2:
				c.keys[0] = l.emailKey
			case 3:
				c.keys[1] = l.phoneKey
			}
		}
	}
	if filled {
		c.updated = max(c.updated, at)
	}
	return filled
}

// claim makes each key of c find it unless another contact holding the
// key was updated after it, as findContacts decides.
func claim(index map[matchKey]*contactState, c *contactState) {
	for k, key := range c.keys {
		if key == "" {
			continue
		}
		mk := matchKey{c.brand, keyKinds[k], key}
		if d := index[mk]; d != nil && d != c && d.after(c) {
			continue
		}
		index[mk] = c
	}
}

// contactArgs are the arguments of insertContacts for the contacts cs,
// or of fillContacts without their creation times.
func contactArgs(cs []*contactState, created bool) []any {
	n := len(cs)
	id, brand, emailKey, phoneKey := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	var values [4][]string
	for f := range values {
		values[f] = make([]string, n)
	}
	updated, createdAt := make([]int64, n), make([]int64, n)
	for i, c := range cs {
		id[i], brand[i], updated[i], createdAt[i] = c.id, c.brand, c.updated, c.created
		emailKey[i], phoneKey[i] = c.keys[0], c.keys[1]
		for f, v := range c.values {
			values[f][i] = v
		}
	}
	args := []any{id, brand, updated, emailKey, phoneKey, values[0], values[1], values[2], values[3]}
	if created {
		args = append(args, createdAt)
	}
	return args
}
