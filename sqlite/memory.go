package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/leadwire/leadwire"
)

// memory is what the writer knows without reading the database: every
// contact by its match keys and the idempotency keys of the last
// leadwire.IdempotencyWindow. It is exact only because this process is the
// only one writing leads and contacts.
type memory struct {
	byEmail map[matchKey]*contactEntry
	byPhone map[matchKey]*contactEntry

	captures map[captureKey]*pastCapture
	// order lists captures oldest first, to forget them as they age.
	order []*pastCapture
}

// matchKey is a contact match key (email or phone) within a brand.
type matchKey struct{ brand, key string }

// contactEntry is a contact with the match keys of its current email and
// phone.
type contactEntry struct {
	leadwire.Contact
	emailKey, phoneKey string
}

// captureKey is an idempotency key on a channel.
type captureKey struct{ channelID, key string }

// pastCapture is a capture stored with an idempotency key.
type pastCapture struct {
	captureKey
	hash    string
	leadIDs []string
	at      time.Time
}

func loadMemory(ctx context.Context, conn *sql.Conn, now time.Time) (*memory, error) {
	m := &memory{
		byEmail:  make(map[matchKey]*contactEntry),
		byPhone:  make(map[matchKey]*contactEntry),
		captures: make(map[captureKey]*pastCapture),
	}
	// Oldest update first, so that when two contacts share a key the one
	// updated last wins, as it does while the writer runs.
	rows, err := conn.QueryContext(ctx, `SELECT id, brand, first_name, last_name, email, phone_number,
		email_key, phone_key, created_at, updated_at FROM contacts ORDER BY updated_at, id`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		c := new(contactEntry)
		var created, updated int64
		if err := rows.Scan(&c.ID, &c.Brand, &c.FirstName, &c.LastName, &c.Email, &c.PhoneNumber,
			&c.emailKey, &c.phoneKey, &created, &updated); err != nil {
			rows.Close()
			return nil, err
		}
		c.CreatedAt, c.UpdatedAt = fromMillis(created), fromMillis(updated)
		m.index(c, "", "")
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}

	// The keys of the window are those of the newest leads: read back in
	// rowid order, the order they were stored in, up to the first older
	// lead, then remember them oldest first.
	rows, err = conn.QueryContext(ctx, `SELECT channel_id, idempotency_key, request_hash, id, created_at
		FROM leads ORDER BY rowid DESC`)
	if err != nil {
		return nil, err
	}
	type keyed struct {
		k        captureKey
		hash, id string
		at       int64
	}
	var recent []keyed
	cutoff := now.Add(-leadwire.IdempotencyWindow).UnixMilli()
	for rows.Next() {
		var r keyed
		if err := rows.Scan(&r.k.channelID, &r.k.key, &r.hash, &r.id, &r.at); err != nil {
			rows.Close()
			return nil, err
		}
		if r.at <= cutoff {
			break
		}
		if r.k.key != "" {
			recent = append(recent, r)
		}
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	for i := len(recent) - 1; i >= 0; i-- {
		r := recent[i]
		// The leads of one capture share key, hash and time; a later
		// capture with the same key (after the window) replaces it.
		if p := m.captures[r.k]; p != nil && p.hash == r.hash && p.at.Equal(fromMillis(r.at)) {
			p.leadIDs = append(p.leadIDs, r.id)
			continue
		}
		m.remember(r.k, r.hash, []string{r.id}, fromMillis(r.at))
	}
	return m, nil
}

// match returns the brand's contact with the email key or, failing that,
// the phone key, or nil.
func (m *memory) match(brand, emailKey, phoneKey string) *contactEntry {
	if emailKey != "" {
		if c := m.byEmail[matchKey{brand, emailKey}]; c != nil {
			return c
		}
	}
	if phoneKey != "" {
		return m.byPhone[matchKey{brand, phoneKey}]
	}
	return nil
}

// index makes c findable by its current keys, dropping the keys it had
// before (oldEmailKey, oldPhoneKey) unless another contact holds them.
func (m *memory) index(c *contactEntry, oldEmailKey, oldPhoneKey string) {
	for _, ix := range []struct {
		keys     map[matchKey]*contactEntry
		old, cur string
	}{
		{m.byEmail, oldEmailKey, c.emailKey},
		{m.byPhone, oldPhoneKey, c.phoneKey},
	} {
		if ix.old != "" && ix.old != ix.cur && ix.keys[matchKey{c.Brand, ix.old}] == c {
			delete(ix.keys, matchKey{c.Brand, ix.old})
		}
		if ix.cur != "" {
			ix.keys[matchKey{c.Brand, ix.cur}] = c
		}
	}
}

// capture returns the capture stored with k within the idempotency window
// before now, or nil.
func (m *memory) capture(k captureKey, now time.Time) *pastCapture {
	m.forget(now)
	if p := m.captures[k]; p != nil && now.Sub(p.at) < leadwire.IdempotencyWindow {
		return p
	}
	return nil
}

func (m *memory) remember(k captureKey, hash string, leadIDs []string, at time.Time) {
	p := &pastCapture{captureKey: k, hash: hash, leadIDs: leadIDs, at: at}
	m.captures[k] = p
	m.order = append(m.order, p)
}

// forget drops the captures that left the idempotency window.
func (m *memory) forget(now time.Time) {
	for len(m.order) > 0 && now.Sub(m.order[0].at) >= leadwire.IdempotencyWindow {
		if p := m.order[0]; m.captures[p.captureKey] == p {
			delete(m.captures, p.captureKey)
		}
		m.order[0] = nil
		m.order = m.order[1:]
	}
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
