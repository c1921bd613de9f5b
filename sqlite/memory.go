package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"io"
	"time"

	"github.com/google/uuid"
	"github.com/leadwire/leadwire"
)

// memory is what the writer knows without reading the database: which
// contact each match key (an email or a phone within a brand) belongs to,
// which of each contact's values are still empty (a capture only ever
// fills those), and the idempotency keys of the last
// leadwire.IdempotencyWindow. It is exact only because this process is the
// only one writing leads and contacts.
//
// It holds numbers and 128-bit hashes instead of strings: about 150 bytes
// for a contact and 90 for an idempotency key (BenchmarkStartup and
// TestMemoryPerContact measure the first), and nothing the garbage
// collector has to walk, however many contacts the CRM holds. Hashes are
// keyed with seeds chosen when the memory is loaded, so nobody can craft
// two keys that collide.
type memory struct {
	seeds [2]maphash.Seed

	// index finds contacts by email (emailIndex) and by phone (phoneIndex):
	// the number in contacts of the contact a key finds.
	index    [2]map[digest]int32
	contacts blocks[contactEntry]

	captures map[digest]int64    // number in past of the newest capture with a key
	past     blocks[pastCapture] // the captures of the window, oldest first

	// erased holds the idempotency keys of the window whose leads were
	// erased (erasedKey), with when they were erased: a retry of such a
	// capture must neither store the lead again nor answer with it. Empty
	// almost always, so checking it costs captures nothing.
	erased map[string]int64
}

// digest is a 128-bit hash; the zero digest stands for no value.
type digest [2]uint64

// The match keys of a contact, in contactEntry.keys and memory.index.
const (
	emailIndex = iota
	phoneIndex
)

// contactEntry is a contact as the writer needs it.
type contactEntry struct {
	id uuid.UUID
	// keys are the digests of the contact's email and phone match keys
	// within its brand, zero when it has none. A key is only ever added to
	// a contact, never replaced, since a filled email or phone stays.
	keys    [2]digest
	updated int64 // Unix milliseconds
	// empty has bit f set while value f of contactFields is empty.
	empty uint8
}

// after tells whether c was updated after d: later, or at the same
// millisecond with the larger id, the order a restart reads them in.
func (c *contactEntry) after(d *contactEntry) bool {
	return c.updated > d.updated || c.updated == d.updated && bytes.Compare(c.id[:], d.id[:]) > 0
}

// pastCapture is a capture stored with an idempotency key. Its request
// hash and leads are in table captures, read on a repeat.
type pastCapture struct {
	key digest // its channel and idempotency key
	at  int64  // Unix milliseconds
}

func newMemory() *memory {
	return &memory{
		seeds:    [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		index:    [2]map[digest]int32{make(map[digest]int32), make(map[digest]int32)},
		captures: make(map[digest]int64),
		erased:   make(map[string]int64),
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

// contactFields lists the values of a lead a contact takes on, in the
// order of the bits of contactEntry.empty.
func contactFields(p *leadwire.Payload) [4]string {
	return [4]string{p.FirstName, p.LastName, p.Email, p.PhoneNumber}
}

// emptyFields returns the bits of the empty values among values.
func emptyFields(values [4]string) uint8 {
	var empty uint8
	for f, v := range values {
		if v == "" {
			empty |= 1 << f
		}
	}
	return empty
}

// loadMemory reads the memory from the database through conn.
func loadMemory(ctx context.Context, conn *sql.Conn, now time.Time) (*memory, error) {
	m := newMemory()
	if err := m.loadContacts(ctx, conn); err != nil {
		return nil, fmt.Errorf("loading contacts: %w", err)
	}
	if err := m.loadCaptures(ctx, conn, now); err != nil {
		return nil, fmt.Errorf("loading idempotency keys: %w", err)
	}
	if err := m.loadErased(ctx, conn, now); err != nil {
		return nil, fmt.Errorf("loading erased idempotency keys: %w", err)
	}
	return m, nil
}

// contactsQuery reads what the memory keeps of each contact, in the order
// of the file: no sort, since claim does not depend on the order. Which
// values are empty comes as the bits of contactEntry.empty.
const contactsQuery = `SELECT id, brand, email_key, phone_key, updated_at,
	(first_name = '') + 2 * (last_name = '') + 4 * (email = '') + 8 * (phone_number = '')
	FROM contacts`

// loadContacts adds every contact of the file. It reads the rows from the
// driver itself (database/sql's scanning cost a third of the time) and
// hashes them on one goroutine while another fills the indexes, whose
// lookups wait on memory more than they compute: with a million contacts
// on two cores, starting up takes about a second this way (see
// BenchmarkStartup).
func (m *memory) loadContacts(ctx context.Context, conn *sql.Conn) error {
	// The indexes are not sized ahead: as fast, since they are filled
	// while the driver reads, and a sixth smaller, since they grow a part
	// at a time.
	//
	// Chunks of entries go to the indexing goroutine and come back empty.
	const chunks, chunkSize = 4, 4096
	full, free := make(chan []contactEntry, chunks), make(chan []contactEntry, chunks)
	for range chunks {
		free <- make([]contactEntry, 0, chunkSize)
	}
	indexed := make(chan struct{})
	go func() {
		defer close(indexed)
		for chunk := range full {
			for _, c := range chunk {
				m.add(c)
			}
			free <- chunk[:0]
		}
	}()
	err := conn.Raw(func(dc any) error {
		defer close(full)
		q, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("the sqlite driver cannot query directly")
		}
		rows, err := q.QueryContext(ctx, contactsQuery, nil)
		if err != nil {
			return err
		}
		defer rows.Close()
		row := make([]driver.Value, 6)
		chunk := <-free
		for {
			if err := rows.Next(row); err == io.EOF {
				break
			} else if err != nil {
				return err
			}
			c, err := m.entryOf(row)
			if err != nil {
				return err
			}
			if chunk = append(chunk, c); len(chunk) == chunkSize {
				full <- chunk
				chunk = <-free
			}
		}
		full <- chunk
		return nil
	})
	<-indexed
	return err
}

// entryOf returns the contact of a row of contactsQuery.
func (m *memory) entryOf(row []driver.Value) (contactEntry, error) {
	id, _ := row[0].(string)
	brand, _ := row[1].(string)
	emailKey, _ := row[2].(string)
	phoneKey, _ := row[3].(string)
	updated, ok1 := row[4].(int64)
	empty, ok2 := row[5].(int64)
	if !ok1 || !ok2 {
		return contactEntry{}, fmt.Errorf("contact %q: unreadable row %v", id, row)
	}
	return m.entry(id, brand, emailKey, phoneKey, updated, empty)
}

// entry returns the contact of the values of a row of contactsQuery.
func (m *memory) entry(id, brand, emailKey, phoneKey string, updated, empty int64) (contactEntry, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return contactEntry{}, fmt.Errorf("contact %q: %w", id, err)
	}
	return contactEntry{id: u, keys: [2]digest{m.digest(brand, emailKey), m.digest(brand, phoneKey)},
		updated: updated, empty: uint8(empty)}, nil
}

// loadCaptures remembers the idempotency keys of the window before now:
// those of the newest leads, read back in rowid order, the order they were
// stored in, up to the first older lead, then remembered oldest first.
func (m *memory) loadCaptures(ctx context.Context, conn *sql.Conn, now time.Time) error {
	rows, err := conn.QueryContext(ctx, `SELECT channel_id, idempotency_key, created_at
		FROM leads ORDER BY rowid DESC`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var recent []pastCapture
	cutoff := now.Add(-leadwire.IdempotencyWindow).UnixMilli()
	for rows.Next() {
		var channelID, key string
		var at int64
		if err := rows.Scan(&channelID, &key, &at); err != nil {
			return err
		}
		if at <= cutoff {
			break
		}
		if key == "" {
			continue
		}
		p := pastCapture{key: m.digest(channelID, key), at: at}
		// The leads of one capture share key and time and come one after
		// the other.
		if n := len(recent); n > 0 && recent[n-1] == p {
			continue
		}
		recent = append(recent, p)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := len(recent) - 1; i >= 0; i-- {
		m.remember(recent[i])
	}
	return nil
}

// loadErased reads the idempotency keys of erased leads within the window.
func (m *memory) loadErased(ctx context.Context, conn *sql.Conn, now time.Time) error {
	rows, err := conn.QueryContext(ctx, "SELECT key_hash, created_at FROM erased_captures WHERE created_at > ?",
		now.Add(-leadwire.IdempotencyWindow).UnixMilli())
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var at int64
		if err := rows.Scan(&k, &at); err != nil {
			return err
		}
		m.erased[k] = at
	}
	return rows.Err()
}

// erasedKey is how erased_captures stores a channel's idempotency key: a
// SHA-256, so that a key some site made of personal data is not kept.
func erasedKey(channelID, key string) string {
	h := sha256.Sum256([]byte(channelID + "\x00" + key))
	return hex.EncodeToString(h[:])
}

// wasErased reports whether the capture with key on the channel had its
// leads erased within the idempotency window before now.
func (m *memory) wasErased(channelID, key string, now time.Time) bool {
	if len(m.erased) == 0 {
		return false
	}
	k := erasedKey(channelID, key)
	at, ok := m.erased[k]
	if ok && at <= now.Add(-leadwire.IdempotencyWindow).UnixMilli() {
		delete(m.erased, k)
		return false
	}
	return ok
}

// match returns the number of the contact with the email key or, failing
// that, the phone key.
func (m *memory) match(keys [2]digest) (int32, bool) {
	for k, key := range keys {
		if key == (digest{}) {
			continue
		}
		if i, ok := m.index[k][key]; ok {
			return i, true
		}
	}
	return 0, false
}

// add makes a new contact findable by its keys.
func (m *memory) add(c contactEntry) {
	m.claim(int32(m.contacts.push(c)))
}

// claim makes each key of contact i, just added, updated or given a key,
// find it unless another contact holding the key was updated after it.
// Keys are never taken from a contact and a contact's update time never
// goes back, so a key always finds the contact updated last among those
// holding it, whatever order they were added in: the writer keeps the same
// answers after a restart, which reads the contacts in no particular order.
func (m *memory) claim(i int32) {
	c := m.contacts.at(int64(i))
	for k, key := range c.keys {
		if key == (digest{}) {
			continue
		}
		if j, ok := m.index[k][key]; ok && j != i && m.contacts.at(int64(j)).after(c) {
			continue
		}
		m.index[k][key] = i
	}
}

// capture reports whether a capture was stored with key k within the
// idempotency window before now.
func (m *memory) capture(k digest, now time.Time) bool {
	m.forget(now)
	_, ok := m.captures[k]
	return ok
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
