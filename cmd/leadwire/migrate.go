package main

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/search"
	"github.com/leadwire/leadwire/postgres"
	"github.com/leadwire/leadwire/sqlite"
)

// migrateChunk is how many rows one INSERT of the copy carries.
const migrateChunk = 1000

func migrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", "Copies a SQLite database (channels, contacts, leads, timelines, idempotency keys, users, tokens, "+
		"sessions, channel members, destinations, deliveries and their attempts, the erasure record) into an empty PostgreSQL database in one transaction, "+
		"and checks that every count matches. Stop the server using the SQLite file first.", stderr)
	from := fs.String("from", "", "the SQLite database file to copy (required)")
	to := fs.String("to", "", "the PostgreSQL database to copy into, postgres://USER@HOST/DB (required)")
	if err := parse(fs, args, stdout, nil); err != nil {
		return err
	}
	if *from == "" || !postgres.IsURL(*to) {
		return errors.New("migrate: give --from PATH.db and --to postgres://USER@HOST/DB")
	}
	if _, err := os.Stat(*from); err != nil {
		return fmt.Errorf("migrate: no database at %s", *from)
	}
	// Opening brings the file's schema up to date, as serve would.
	old, err := sqlite.Open(*from)
	if err != nil {
		return err
	}
	old.Close()
	src, err := sql.Open("sqlite", *from+"?_pragma=query_only(1)&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer src.Close()
	// The migrations of the target.
	s, err := postgres.Open(ctx, *to)
	if err != nil {
		return err
	}
	s.Close()
	dst, err := pgx.Connect(ctx, *to)
	if err != nil {
		return err
	}
	defer dst.Close(context.Background())

	// One snapshot of the source, one transaction on the target: a
	// failed copy leaves the target as it was.
	rtx, err := src.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer rtx.Rollback()
	var copied []copyCount
	err = pgx.BeginFunc(ctx, dst, func(tx pgx.Tx) error {
		var used bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM channels) OR EXISTS (SELECT 1 FROM users)").Scan(&used); err != nil {
			return err
		}
		if used {
			return errors.New("migrate: the PostgreSQL database already holds channels or users; copy into an empty one")
		}
		c := &copier{ctx: ctx, src: rtx, dst: tx}
		if err := c.loadContactKey(); err != nil {
			return err
		}
		copied, err = c.copyAll()
		return err
	})
	if err != nil {
		return err
	}
	for _, c := range copied {
		fmt.Fprintf(stdout, "%-16s %d\n", c.table, c.n)
	}
	return nil
}

// copyCount is how many rows of a table were copied and found.
type copyCount struct {
	table string
	n     int
}

// copier copies the tables of a SQLite database into PostgreSQL.
type copier struct {
	ctx   context.Context
	src   *sql.Tx
	dst   pgx.Tx
	block cipher.Block // the SQLite store's contact id key
	// keys holds, by channel and Idempotency-Key, the latest capture of
	// the leads copied that was sent with it.
	keys map[[2]string]capture
}

// loadContactKey reads the key the SQLite store shows contact ids with:
// contacts are stored under time-ordered keys there and shown encrypted,
// while PostgreSQL stores them under the ids shown.
func (c *copier) loadContactKey() error {
	var key []byte
	if err := c.src.QueryRowContext(c.ctx, "SELECT value FROM secrets WHERE name = 'contact_ids'").Scan(&key); err != nil {
		return fmt.Errorf("reading the contact id key: %w", err)
	}
	var err error
	c.block, err = aes.NewCipher(key)
	return err
}

// contactID is the id the SQLite store shows for the contact stored
// under key.
func (c *copier) contactID(key string) (string, error) {
	k, err := uuid.Parse(key)
	if err != nil {
		return "", fmt.Errorf("contact key %q: %w", key, err)
	}
	var id uuid.UUID
	c.block.Encrypt(id[:], k[:])
	return id.String(), nil
}

// table is one table to copy: the SQLite query of its rows, every column
// as text, and the PostgreSQL statement that inserts a chunk of them from
// one text array per column.
type table struct {
	name, query, insert string
	// row turns a row of the query into the rows of the insert (the
	// contact keys of a contact), nil for as it is.
	row func(cols []string) ([][]string, error)
}

func (c *copier) copyAll() ([]copyCount, error) {
	tables := []table{
		{name: "channels", query: "SELECT id, name, brand_id, user_id, allowed_origins, screening, created_at FROM channels ORDER BY rowid",
			insert: `INSERT INTO channels (id, name, brand_id, user_id, allowed_origins, screening, created_at)
				SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])`},
		{name: "contacts", query: "SELECT id, brand, first_name, last_name, email, phone_number, created_at, updated_at FROM contacts",
			insert: `INSERT INTO contacts (id, brand, first_name, last_name, email, phone_number, created_at, updated_at)
				SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[])`,
			row: func(cols []string) ([][]string, error) {
				id, err := c.contactID(cols[0])
				cols[0] = id
				return [][]string{cols}, err
			}},
		{name: "contact_keys", query: `SELECT id, 'email', brand, email_key, updated_at FROM contacts WHERE email_key != ''
				UNION ALL SELECT id, 'phone', brand, phone_key, updated_at FROM contacts WHERE phone_key != ''`,
			insert: `INSERT INTO contact_keys (contact_id, kind, brand, key, updated_at)
				SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bigint[])`,
			row: func(cols []string) ([][]string, error) {
				id, err := c.contactID(cols[0])
				cols[0] = id
				return [][]string{cols}, err
			}},
		c.leadsTable(),
		{name: "activities", query: "SELECT id, lead_id, action, details, created_at, idempotency_key FROM activities ORDER BY rowid",
			insert: `INSERT INTO activities (id, lead_id, action, details, created_at, idempotency_key)
				SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::bigint[], $6::text[])`},
		{name: "users", query: "SELECT id, email, email_key, name, role, password_hash, disabled != 0, paused != 0, mls_id, created_at FROM users ORDER BY rowid",
			insert: `INSERT INTO users (id, email, email_key, name, role, password_hash, disabled, paused, mls_id, created_at)
				SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[], $8::boolean[], $9::text[], $10::bigint[])`},
		{name: "tokens", query: "SELECT id, user_id, name, hex(hash), created_at, last_used_at FROM tokens ORDER BY rowid",
			insert: `INSERT INTO tokens (id, user_id, name, hash, created_at, last_used_at)
				SELECT id, user_id, name, decode(hash, 'hex'), created_at, last_used_at
				FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::bigint[], $6::bigint[]) AS t (id, user_id, name, hash, created_at, last_used_at)`},
		{name: "sessions", query: "SELECT hex(hash), user_id, created_at, expires_at FROM sessions",
			insert: `INSERT INTO sessions (hash, user_id, created_at, expires_at)
				SELECT decode(hash, 'hex'), user_id, created_at, expires_at
				FROM unnest($1::text[], $2::uuid[], $3::bigint[], $4::bigint[]) AS s (hash, user_id, created_at, expires_at)`},
		{name: "channel_members", query: "SELECT channel_id, user_id, created_at FROM channel_members",
			insert: `INSERT INTO channel_members (channel_id, user_id, created_at) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[])`},
		{name: "channel_rotation", query: "SELECT channel_id, last_user_id FROM channel_rotation",
			insert: `INSERT INTO channel_rotation (channel_id, last_user_id) SELECT * FROM unnest($1::uuid[], $2::text[])`},
		{name: "destinations", query: `SELECT id, kind, url, channel_id, secret, previous_secret, previous_secret_until, enabled != 0,
				created_at FROM destinations ORDER BY rowid`,
			insert: `INSERT INTO destinations (id, kind, url, channel_id, secret, previous_secret, previous_secret_until, enabled, created_at)
				SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[],
					$8::boolean[], $9::bigint[])`},
		// Every delivery, its claim ended: the server that held it is
		// stopped. The pending ones go out from PostgreSQL.
		{name: "deliveries", query: `SELECT id, lead_id, destination_id, status, attempts, next_attempt_at, last_error, give_up_at,
				created_at, updated_at FROM deliveries ORDER BY rowid`,
			insert: `INSERT INTO deliveries (id, lead_id, destination_id, status, attempts, next_attempt_at, last_error, give_up_at,
					created_at, updated_at)
				SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::integer[], $6::bigint[], $7::text[],
					$8::bigint[], $9::bigint[], $10::bigint[])`},
		{name: "delivery_attempts", query: `SELECT delivery_id, at, status_code, duration_ms, response, error
				FROM delivery_attempts ORDER BY rowid`,
			insert: `INSERT INTO delivery_attempts (delivery_id, at, status_code, duration_ms, response, error)
				SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::integer[], $4::bigint[], $5::text[], $6::text[])`},
		{name: "erased_captures", query: "SELECT key_hash, created_at FROM erased_captures",
			insert: `INSERT INTO erased_captures (key_hash, created_at) SELECT * FROM unnest($1::text[], $2::bigint[])`},
		{name: "audit", query: "SELECT id, user_id, action, subject, details, created_at FROM audit ORDER BY rowid",
			insert: `INSERT INTO audit (id, user_id, action, subject, details, created_at)
				SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])`},
	}
	var counts []copyCount
	for _, t := range tables {
		n, err := c.copyTable(t)
		if err != nil {
			return nil, fmt.Errorf("copying %s: %w", t.name, err)
		}
		if t.name == "leads" {
			// The keys of the captures the leads were grouped into.
			if err := c.insertKeys(); err != nil {
				return nil, fmt.Errorf("copying idempotency keys: %w", err)
			}
			counts = append(counts, copyCount{"idempotency_keys", len(c.keys)})
		}
		counts = append(counts, copyCount{t.name, n})
	}
	// Every count checked on the target, in the same transaction.
	for _, cc := range counts {
		var n int
		if err := c.dst.QueryRow(c.ctx, "SELECT count(*) FROM "+cc.table).Scan(&n); err != nil {
			return nil, err
		}
		if n != cc.n {
			return nil, fmt.Errorf("%s: %d rows read from SQLite, %d in PostgreSQL", cc.table, cc.n, n)
		}
	}
	for _, name := range []string{"channels", "contacts", "leads", "activities", "users", "tokens", "destinations", "deliveries"} {
		var n int
		if err := c.src.QueryRowContext(c.ctx, "SELECT count(*) FROM "+name).Scan(&n); err != nil {
			return nil, err
		}
		for _, cc := range counts {
			if cc.table == name && cc.n != n {
				return nil, fmt.Errorf("%s: %d rows in SQLite, %d copied", name, n, cc.n)
			}
		}
	}
	return counts, nil
}

// copyTable copies the rows of t in chunks and returns how many rows it
// inserted.
func (c *copier) copyTable(t table) (int, error) {
	rows, err := c.src.QueryContext(c.ctx, t.query)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	var cols [][]string // the columns of the insert, sized by the first row
	inserted := 0
	flush := func() error {
		if len(cols) == 0 || len(cols[0]) == 0 {
			return nil
		}
		args := make([]any, len(cols))
		for i := range cols {
			args[i] = cols[i]
		}
		if _, err := c.dst.Exec(c.ctx, t.insert, args...); err != nil {
			return err
		}
		inserted += len(cols[0])
		for i := range cols {
			cols[i] = cols[i][:0]
		}
		return nil
	}
	values := make([]sql.NullString, len(names))
	dest := make([]any, len(names))
	for i := range values {
		dest[i] = &values[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return 0, err
		}
		row := make([]string, len(values))
		for i, v := range values {
			row[i] = v.String
		}
		out := [][]string{row}
		if t.row != nil {
			if out, err = t.row(row); err != nil {
				return 0, err
			}
		}
		for _, r := range out {
			if cols == nil {
				cols = make([][]string, len(r))
			}
			for i, v := range r {
				cols[i] = append(cols[i], v)
			}
		}
		if len(cols) > 0 && len(cols[0]) >= migrateChunk {
			if err := flush(); err != nil {
				return 0, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	return inserted, flush()
}

// capture is a capture with an Idempotency-Key, as the leads' columns
// recorded it.
type capture struct {
	id, hash, at string
}

// leadsTable copies the leads in the order they were stored. A capture
// is the leads stored one after the other with the same channel, key,
// request hash and time, as the SQLite writer stored them; each gets a
// capture id, and each channel's key the latest capture sent with it.
func (c *copier) leadsTable() table {
	c.keys = map[[2]string]capture{}
	var last [4]string
	var lastCapture string
	return table{name: "leads",
		query: `SELECT id, channel_id, contact_id, created_at, idempotency_key, request_hash, parsed_payload, raw_payload,
			status, responded_at, spam_reasons, source_address, source_user_agent, source_origin FROM leads ORDER BY rowid`,
		insert: `INSERT INTO leads (id, channel_id, contact_id, created_at, capture_id, parsed_payload, raw_payload,
				status, responded_at, spam_reasons, source_address, source_user_agent, source_origin, assignees, search)
			SELECT u.id, u.channel_id, u.contact_id, u.created_at, u.capture_id, u.parsed, u.raw, u.status, u.responded_at,
				u.reasons, u.address, u.user_agent, u.origin,
				ARRAY(SELECT jsonb_array_elements_text(u.assignees::jsonb)), array_to_tsvector(string_to_array(u.words, ' '))
			FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bigint[], $5::uuid[], $6::text[], $7::text[],
				$8::text[], $9::bigint[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[])
				WITH ORDINALITY AS u (id, channel_id, contact_id, created_at, capture_id, parsed, raw, status, responded_at,
					reasons, address, user_agent, origin, assignees, words, n)
			ORDER BY u.n`,
		row: func(cols []string) ([][]string, error) {
			id, channel, contactKey, at, key, hash, parsed := cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6]
			contactID, err := c.contactID(contactKey)
			if err != nil {
				return nil, err
			}
			group := [4]string{channel, key, hash, at}
			if key == "" || group != last || lastCapture == "" {
				lastCapture = uuid.Must(uuid.NewV7()).String()
			}
			last = group
			if key != "" {
				c.keys[[2]string{channel, key}] = capture{id: lastCapture, hash: hash, at: at}
			}
			var p leadwire.Payload
			if err := json.Unmarshal([]byte(parsed), &p); err != nil {
				return nil, fmt.Errorf("lead %s: %w", id, err)
			}
			assignees := []string{}
			for _, a := range p.Assignees {
				if k := leadwire.EmailKey(a.Email); k != "" {
					assignees = append(assignees, k)
				}
			}
			assigneesJSON, _ := json.Marshal(assignees)
			return [][]string{{id, channel, contactID, at, lastCapture, parsed, cols[7], cols[8], cols[9],
				cols[10], cols[11], cols[12], cols[13], string(assigneesJSON), strings.Join(search.LeadWords(&p), " ")}}, nil
		}}
}

// insertKeys inserts the idempotency keys of the leads copied.
func (c *copier) insertKeys() error {
	var channels, keys, hashes, captures, ats []string
	flush := func() error {
		if len(channels) == 0 {
			return nil
		}
		_, err := c.dst.Exec(c.ctx, `INSERT INTO idempotency_keys (channel_id, key, request_hash, capture_id, created_at)
			SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::bigint[])`, channels, keys, hashes, captures, ats)
		channels, keys, hashes, captures, ats = channels[:0], keys[:0], hashes[:0], captures[:0], ats[:0]
		return err
	}
	for k, cp := range c.keys {
		channels, keys, hashes, captures, ats = append(channels, k[0]), append(keys, k[1]), append(hashes, cp.hash), append(captures, cp.id), append(ats, cp.at)
		if len(channels) >= migrateChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}
