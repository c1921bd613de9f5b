package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/leadwire/leadwire/internal/bulk"
)

func TestBlocks(t *testing.T) {
	var b blocks[int64]
	const n = 3*blockSize + 5
	for i := range int64(n) {
		if got := b.push(i * 10); got != i {
			t.Fatalf("push %d returned number %d", i, got)
		}
	}
	for range 2*blockSize + 1 {
		b.dropOldest()
	}
	if b.head != 2*blockSize+1 || len(b.list) != 2 {
		t.Fatalf("after dropping: head %d with %d blocks, want %d with 2", b.head, len(b.list), 2*blockSize+1)
	}
	for i := b.head; i < b.next; i++ {
		if got := *b.at(i); got != i*10 {
			t.Fatalf("element %d = %d, want %d", i, got, i*10)
		}
	}
	// Numbers go on where they were once the list is emptied and refilled.
	for b.head < b.next {
		b.dropOldest()
	}
	if got := b.push(7); got != n || *b.at(n) != 7 {
		t.Errorf("push after emptying: number %d holding %d, want %d holding 7", got, *b.at(got), n)
	}
}

// TestLoadMemory loads the contacts of a file holding several chunks of
// them and checks that each one is found by its keys, with its id and its
// empty values, as the writer would have left it.
func TestLoadMemory(t *testing.T) {
	const n = 10_000
	path := filepath.Join(t.TempDir(), "leadwire.db")
	fillBulk(t, path, bulk.Options{Contacts: n, Now: time.Now()})
	s, _ := openTestAt(t, path)
	m, err := loadMemory(t.Context(), s.w.conn, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := m.contacts.next; got != n {
		t.Fatalf("loaded %d contacts, want %d", got, n)
	}
	rows, err := s.read.QueryContext(t.Context(), `SELECT id, brand, email_key, phone_key,
		first_name, last_name, email, phone_number FROM contacts`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, brand, emailKey, phoneKey string
		var values [4]string
		if err := rows.Scan(&id, &brand, &emailKey, &phoneKey, &values[0], &values[1], &values[2], &values[3]); err != nil {
			t.Fatal(err)
		}
		for k, key := range []string{emailKey, phoneKey} {
			if key == "" {
				continue
			}
			keys := [2]digest{}
			keys[k] = m.digest(brand, key)
			i, ok := m.match(keys)
			if !ok {
				t.Fatalf("key %q finds no contact, want %s", key, id)
			}
			if c := m.contacts.at(int64(i)); c.id.String() != id || c.empty != emptyFields(values) {
				t.Fatalf("key %q finds contact %s with empty values %04b, want %s with %04b", key, c.id, c.empty, id, emptyFields(values))
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestMemoryPerContact holds the writer's memory to the size its comment
// states, about 150 bytes a contact.
func TestMemoryPerContact(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a database of 100,000 contacts")
	}
	const n = 100_000
	path := filepath.Join(t.TempDir(), "leadwire.db")
	fillBulk(t, path, bulk.Options{Contacts: n, Now: time.Now()})
	perContact := memoryBytes(t, path) / n
	t.Logf("%d bytes per contact", perContact)
	if perContact > 180 {
		t.Errorf("the writer's memory holds %d bytes per contact, want about 150", perContact)
	}
}
