package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"hash/maphash"
	"time"

	"github.com/google/uuid"
	"github.com/leadwire/leadwire"
)

// memory is what the writer knows without reading the database: which
// contact each match key (an email or a phone within a brand) belongs to,
// enough of each contact to tell whether a newer lead changes it, and the
// idempotency keys of the last leadwire.IdempotencyWindow. It is exact
// only because this process is the only one writing leads and contacts.
//
// It holds numbers and 128-bit hashes instead of strings: about 260 bytes
// for a contact and its capture, and nothing the garbage collector has to
// walk, however many contacts the CRM holds. Hashes are keyed with seeds
// chosen when the memory is loaded, so nobody can craft two keys that
// collide.
type memory struct {
	seeds [2]maphash.Seed

	byEmail  map[digest]int32 // number of the contact in contacts
	byPhone  map[digest]int32
	contacts blocks[contactEntry]

	captures map[digest]int64    // number in past of the newest capture with a key
	past     blocks[pastCapture] // the captures of the window, oldest first
}

// digest is a 128-bit hash; the zero digest stands for no value.
type digest [2]uint64

// contactEntry is a contact as the writer needs it.
type contactEntry struct {
	id uuid.UUID
	// emailKey and phoneKey are the digests of the contact's current match
	// keys within its brand, zero when it has none.
	emailKey, phoneKey digest
	// fields are the hashes of the first name, last name, email and phone.
	fields [4]uint64
}

// pastCapture is a capture stored with an idempotency key.
type pastCapture struct {
	key  digest // its channel and idempotency key
	hash digest // its request hash
	at   int64  // Unix milliseconds
	// Its leads were inserted one after the other by this writer, so they
	// have consecutive rowids starting with the first lead's.
	firstLead uuid.UUID
	leads     int32
}

func newMemory() *memory {
	return &memory{
		seeds:    [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		byEmail:  make(map[digest]int32),
		byPhone:  make(map[digest]int32),
		captures: make(map[digest]int64),
	}
}

// digest hashes a key within a scope (a brand, a channel); an empty key
// gives the zero digest.
func (m *memory) digest(scope, key string) digest {
	if key == "" {
		return digest{}
	}
	var d digest
	for i, seed := range m.seeds {
		var h maphash.Hash
		h.SetSeed(seed)
		h.WriteString(scope)
		h.WriteByte(0)
		h.WriteString(key)
		d[i] = h.Sum64()
	}
	return d
}

// fields hashes the values a contact takes on (see contactFields).
func (m *memory) fields(values [4]string) [4]uint64 {
	var f [4]uint64
	for i, v := range values {
		f[i] = maphash.String(m.seeds[0], v)
	}
	return f
}

// contactFields lists the values of a lead a contact takes on, in
// contactEntry.fields order.
func contactFields(p *leadwire.Payload) [4]string {
	return [4]string{p.FirstName, p.LastName, p.Email, p.PhoneNumber}
}

func loadMemory(ctx context.Context, conn *sql.Conn, now time.Time) (*memory, error) {
	m := newMemory()
	// Oldest update first, so that when two contacts share a key the one
	// updated last wins, as it does while the writer runs.
	rows, err := conn.QueryContext(ctx, `SELECT id, brand, first_name, last_name, email, phone_number,
		email_key, phone_key FROM contacts ORDER BY updated_at, id`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id, brand, emailKey, phoneKey string
		var p leadwire.Payload
		if err := rows.Scan(&id, &brand, &p.FirstName, &p.LastName, &p.Email, &p.PhoneNumber, &emailKey, &phoneKey); err != nil {
			rows.Close()
			return nil, err
		}
		u, err := uuid.Parse(id)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("contact id %q: %w", id, err)
		}
		m.add(contactEntry{id: u, emailKey: m.digest(brand, emailKey), phoneKey: m.digest(brand, phoneKey), fields: m.fields(contactFields(&p))})
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
	var recent []pastCapture
	cutoff := now.Add(-leadwire.IdempotencyWindow).UnixMilli()
	for rows.Next() {
		var channelID, key, hash, id string
		var at int64
		if err := rows.Scan(&channelID, &key, &hash, &id, &at); err != nil {
			rows.Close()
			return nil, err
		}
		if at <= cutoff {
			break
		}
		if key == "" {
			continue
		}
		u, err := uuid.Parse(id)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("lead id %q: %w", id, err)
		}
		p := pastCapture{key: m.digest(channelID, key), hash: m.digest("", hash), at: at, firstLead: u, leads: 1}
		// The leads of one capture share key, hash and time and come one
		// after the other; reading backwards, each one met is the first so far.
		if n := len(recent); n > 0 && recent[n-1].key == p.key && recent[n-1].hash == p.hash && recent[n-1].at == at {
			recent[n-1].firstLead = u
			recent[n-1].leads++
			continue
		}
		recent = append(recent, p)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	for i := len(recent) - 1; i >= 0; i-- {
		m.remember(recent[i])
	}
	return m, nil
}

// match returns the index of the contact with the email key or, failing
// that, the phone key.
func (m *memory) match(emailKey, phoneKey digest) (int32, bool) {
	if emailKey != (digest{}) {
		if i, ok := m.byEmail[emailKey]; ok {
			return i, true
		}
	}
	if phoneKey != (digest{}) {
		i, ok := m.byPhone[phoneKey]
		return i, ok
	}
	return 0, false
}

// add makes a new contact findable by its keys.
func (m *memory) add(c contactEntry) {
	i := int32(m.contacts.push(c))
	if c.emailKey != (digest{}) {
		m.byEmail[c.emailKey] = i
	}
	if c.phoneKey != (digest{}) {
		m.byPhone[c.phoneKey] = i
	}
}

// rekey points the current key of contact i in index at it, dropping the
// key it had before only when no other contact took that key since.
func rekey(index map[digest]int32, i int32, old, cur digest) {
	if j, ok := index[old]; ok && j == i && old != cur {
		delete(index, old)
	}
	if cur != (digest{}) {
		index[cur] = i
	}
}

// capture returns the capture stored with key k within the idempotency
// window before now.
func (m *memory) capture(k digest, now time.Time) (pastCapture, bool) {
	m.forget(now)
	n, ok := m.captures[k]
	if !ok {
		return pastCapture{}, false
	}
	return *m.past.at(n), true
}

func (m *memory) remember(p pastCapture) {
	m.captures[p.key] = m.past.push(p)
}

// forget drops the captures that left the idempotency window.
func (m *memory) forget(now time.Time) {
	cutoff := now.Add(-leadwire.IdempotencyWindow).UnixMilli()
	for m.past.head < m.past.next {
		oldest := m.past.at(m.past.head)
		if oldest.at > cutoff {
			return
		}
		if n := m.captures[oldest.key]; n == m.past.head {
			delete(m.captures, oldest.key)
		}
		m.past.dropOldest()
	}
}

// blocks is a list numbered from 0 that grows at its end and shrinks at its
// start. It grows a block at a time, so appending never copies what it
// holds: copying a list of millions at once would hold up the writer, and
// every capture waiting on it, for as long as the copy takes.
type blocks[T any] struct {
	list [][]T // each blockSize long; list[0] is the block holding head
	head int64 // number of the oldest element kept
	next int64 // number the next element pushed gets
}

const blockSize = 4096

// push appends v and returns its number.
func (b *blocks[T]) push(v T) int64 {
	if b.next%blockSize == 0 { // the last block is full, or there is none
		b.list = append(b.list, make([]T, blockSize))
	}
	n := b.next
	*b.at(n) = v
	b.next++
	return n
}

// at returns element n, which must be kept.
func (b *blocks[T]) at(n int64) *T {
	return &b.list[n/blockSize-b.head/blockSize][n%blockSize]
}

// dropOldest forgets the oldest element, freeing its block once every
// element of the block is gone.
func (b *blocks[T]) dropOldest() {
	b.head++
	if b.head%blockSize == 0 {
		b.list[0] = nil
		b.list = b.list[1:]
	}
}
