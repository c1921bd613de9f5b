package sqlite

import (
	"bytes"
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

	index    [2]keyIndex // by email (emailIndex) and by phone (phoneIndex)
	contacts blocks[contactEntry]

	captures map[digest]int64    // number in past of the newest capture with a key
	past     blocks[pastCapture] // the captures of the window, oldest first
}

// digest is a 128-bit hash; the zero digest stands for no value.
type digest [2]uint64

// The match keys of a contact, in contactEntry.keys and memory.index.
const (
	emailIndex = iota
	phoneIndex
)

// keyIndex finds contacts by one kind of match key. Several contacts may
// hold one key (a contact matched by email takes a new phone another
// contact has); the key then finds the one updated last.
type keyIndex struct {
	holder map[digest]int32 // number in contacts of the contact the key finds
	shared map[digest]int32 // how many contacts hold a key, for keys held by several
}

// contactEntry is a contact as the writer needs it.
type contactEntry struct {
	id uuid.UUID
	// keys are the digests of the contact's current email and phone match
	// keys within its brand, zero when it has none.
	keys [2]digest
	// fields are the hashes of the first name, last name, email and phone.
	fields  [4]uint64
	updated int64 // Unix milliseconds
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
		seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		index: [2]keyIndex{
			{holder: make(map[digest]int32), shared: make(map[digest]int32)},
			{holder: make(map[digest]int32), shared: make(map[digest]int32)},
		},
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
		email_key, phone_key, updated_at FROM contacts ORDER BY updated_at, id`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id, brand, emailKey, phoneKey string
		var p leadwire.Payload
		var updated int64
		if err := rows.Scan(&id, &brand, &p.FirstName, &p.LastName, &p.Email, &p.PhoneNumber, &emailKey, &phoneKey, &updated); err != nil {
			rows.Close()
			return nil, err
		}
		u, err := uuid.Parse(id)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("contact id %q: %w", id, err)
		}
		m.add(contactEntry{id: u, keys: [2]digest{m.digest(brand, emailKey), m.digest(brand, phoneKey)},
			fields: m.fields(contactFields(&p)), updated: updated})
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

// match returns the number of the contact with the email key or, failing
// that, the phone key.
func (m *memory) match(keys [2]digest) (int32, bool) {
	for k, key := range keys {
		if key == (digest{}) {
			continue
		}
		if i, ok := m.index[k].holder[key]; ok {
			return i, true
		}
	}
	return 0, false
}

// add makes a new contact findable by its keys.
func (m *memory) add(c contactEntry) {
	i := int32(m.contacts.push(c))
	for k, key := range c.keys {
		m.index[k].move(m, k, i, digest{}, key)
	}
}

// rekey gives contact i, just updated, the match keys keys: each key finds
// it from now on, and a key it gave up finds the contact updated last among
// those still holding it.
func (m *memory) rekey(i int32, keys [2]digest) {
	c := m.contacts.at(int64(i))
	for k, key := range keys {
		m.index[k].move(m, k, i, c.keys[k], key)
	}
	c.keys = keys
}

// move records that contact i holds the key cur of kind k instead of old,
// and is the contact cur finds.
func (ix *keyIndex) move(m *memory, k int, i int32, old, cur digest) {
	if old != cur {
		ix.release(m, k, i, old)
		if j, ok := ix.holder[cur]; ok && j != i && cur != (digest{}) {
			ix.shared[cur] = max(ix.shared[cur], 1) + 1
		}
	}
	if cur != (digest{}) {
		ix.holder[cur] = i
	}
}

// release records that contact i no longer holds key of kind k.
func (ix *keyIndex) release(m *memory, k int, i int32, key digest) {
	if key == (digest{}) {
		return
	}
	holders := max(ix.shared[key], 1)
	switch {
	case holders > 2:
		ix.shared[key] = holders - 1
	case holders == 2:
		delete(ix.shared, key)
	}
	if j, ok := ix.holder[key]; !ok || j != i {
		return
	}
	if holders == 1 {
		delete(ix.holder, key)
		return
	}
	// Keys held by several contacts are rare, so finding the next one
	// may read every contact.
	var last *contactEntry
	for n := m.contacts.head; n < m.contacts.next; n++ {
		c := m.contacts.at(n)
		if int32(n) != i && c.keys[k] == key && (last == nil || c.updated > last.updated ||
			c.updated == last.updated && bytes.Compare(c.id[:], last.id[:]) > 0) {
			ix.holder[key], last = int32(n), c
		}
	}
	if last == nil { // cannot happen while the counts are right
		delete(ix.holder, key)
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
