// Package bulk fills a leadwire database with many contacts and leads at
// once, for the tests and benchmarks that need a CRM of realistic size: a
// million contacts take seconds to write this way instead of the minutes
// captures one by one would.
package bulk

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Options says what Fill writes.
type Options struct {
	// Contacts is how many contacts to write. Contact i has the email
	// person<i>@example.com and, unless i is a multiple of 5, the phone
	// +1214 followed by i in seven digits; every seventh has no first name.
	Contacts int
	// Leads is how many leads to write, lead i belonging to contact
	// i % Contacts, each with a payload of about 400 bytes.
	Leads int
	// Recent is how many of the newest leads fall within the idempotency
	// window before Now, each stored with an idempotency key; the others
	// are older.
	Recent int
	// Now is the time the newest lead is stored at.
	Now time.Time
}

// Fill writes o's contacts and leads, and a channel of brand "brand-1"
// holding the leads, into the database at path, which must already have
// its schema (open it with the store first). It returns the channel's id.
func Fill(ctx context.Context, path string, o Options) (channelID string, err error) {
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=synchronous(OFF)&_pragma=cache_size(-1000000)")
	if err != nil {
		return "", err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()

	channelID = "0190a000-0000-7000-8000-000000000001"
	now := o.Now.UnixMilli()
	if _, err := tx.ExecContext(ctx, `INSERT INTO channels (id, name, brand_id, created_at)
		VALUES (?, 'Bulk', 'brand-1', ?)`, channelID, now-400*24*3600*1000); err != nil {
		return "", fmt.Errorf("channel: %w", err)
	}
	// Contacts are created over the year before now, one after the other,
	// with random keys.
	if _, err := tx.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1),
		c(i, h, at) AS (SELECT i, lower(hex(randomblob(16))), ?2 - 365 * 86400000 + i * (300 * 86400000 / ?1) FROM n)
		INSERT INTO contacts (id, brand, first_name, last_name, email, phone_number, email_key, phone_key, created_at, updated_at)
		SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-' ||
				substr('89ab', 1 + i % 4, 1) || substr(h, 18, 3) || '-' || substr(h, 21, 12),
			'brand-1', iif(i % 7 = 0, '', 'Person'), 'Number ' || i,
			'person' || i || '@example.com', iif(i % 5 = 0, '', printf('+1214%07d', i)),
			'person' || i || '@example.com', iif(i % 5 = 0, '', printf('+1214%07d', i)),
			at, at + (i % 3) * 86400000
		FROM c`, o.Contacts, now); err != nil {
		return "", fmt.Errorf("contacts: %w", err)
	}
	if o.Leads > 0 {
		if err := fillLeads(ctx, tx, channelID, o); err != nil {
			return "", fmt.Errorf("leads: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return "", err
	}
	// Leave no WAL of the file's size behind for the store to replay.
	_, err = db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return channelID, err
}

// fillLeads writes the leads in time order, with time-ordered (version 7
// shaped) ids, as the writer stores them: the older ones spread over the
// year before the window, the recent ones a second apart up to now.
func fillLeads(ctx context.Context, tx *sql.Tx, channelID string, o Options) error {
	older := o.Leads - o.Recent
	_, err := tx.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1),
		l(i, at, contact) AS (SELECT n.i,
			iif(n.i < ?2, ?3 - 366 * 86400000 + n.i * (360 * 86400000 / max(?2, 1)), ?3 - (?1 - 1 - n.i) * 1000),
			(SELECT id FROM contacts WHERE rowid = 1 + n.i % ?4) FROM n)
		INSERT INTO leads (id, channel_id, contact_id, created_at, idempotency_key, request_hash, parsed_payload, raw_payload)
		SELECT printf('%08x-%04x-7%03x-8%03x-%012x', at >> 16, at & 65535, i % 4096, (i >> 12) % 4096, i),
			?5, contact, at,
			iif(i < ?2, '', 'bulk-' || i), iif(i < ?2, '', 'sha256:' || i),
			json_object('first_name', 'Person', 'last_name', 'Number ' || (i % ?4),
				'email', 'person' || (i % ?4) || '@example.com', 'phone_number', printf('+1214%07d', i % ?4),
				'tag', json_array('open-house'), 'lead_source', 'Website form', 'source_type', 'Website',
				'referer_url', 'https://example.com/listings/' || i, 'listing_id', '' || i,
				'note', 'I would like to see this home on Saturday morning, if it is still available.'),
			json_object('first_name', 'Person', 'last_name', 'Number ' || (i % ?4),
				'email', 'person' || (i % ?4) || '@example.com', 'phone_number', printf('(214) %07d', i % ?4),
				'tag', 'open-house', 'message', 'I would like to see this home on Saturday morning.')
		FROM l`, o.Leads, older, o.Now.UnixMilli(), o.Contacts, channelID)
	return err
}
