package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"time"

	"github.com/leadwire/leadwire"
	sqlitedriver "modernc.org/sqlite"
)

func init() {
	// email_key is leadwire.EmailKey in SQL, so that the assignee index the
	// writer fills in SQL holds the very keys Go code looks up.
	sqlitedriver.MustRegisterDeterministicScalarFunction("email_key", 1,
		func(_ *sqlitedriver.FunctionContext, args []driver.Value) (driver.Value, error) {
			email, _ := args[0].(string)
			return leadwire.EmailKey(email), nil
		})
}

// The search index (leads_fts) is filled by the writer when it has time,
// not by each capture: indexing a lead's words costs the writer about 25
// µs, which took the new-visitor capture rate of the load test from 0.43
// to 0.31 of the ceiling, whether inside the capture's transaction or in
// the batches under load; indexed when the writer is idle, the rate stays
// at 0.45. So the writer indexes once no capture came for searchIdle, and
// under constant load only once maxSearchBacklog leads wait (about ten
// seconds of captures at full speed), in a batch of captures, sharing its
// commit. A search has what is missing indexed first, so a lead whose
// capture was answered is always found; only under such constant load
// does the search wait, for up to about two seconds.
const (
	searchIdle       = 20 * time.Millisecond // how long the writer waits for captures before it indexes
	maxSearchBacklog = 100_000
	searchIndexBatch = 500
)

// indexSearchQuery indexes up to ? leads not yet in the search index, the
// oldest first: their names, email, note, message and address, and their
// phone numbers' digits together with the last ten and the last seven of
// them, so that a search for "5550100" or "214-555-0100" finds
// +12145550100 (a search matches the start of words only).
var indexSearchQuery = `INSERT INTO leads_fts (rowid, body)
	SELECT r, concat_ws(' ', p ->> '$.first_name', p ->> '$.last_name', p ->> '$.email',
		p ->> '$.note', p ->> '$.extra.message',
		(SELECT group_concat(value, ' ') FROM json_each(p, '$.address')),
		d, iif(length(d) > 10, substr(d, -10), NULL), iif(length(d) > 7, substr(d, -7), NULL),
		o, iif(length(o) > 10, substr(o, -10), NULL), iif(length(o) > 7, substr(o, -7), NULL))
	FROM (SELECT rowid AS r, jsonb(parsed_payload) AS p,` + digitsOf("parsed_payload ->> '$.phone_number'") + ` AS d,` +
	digitsOf("parsed_payload ->> '$.phone_number_original'") + ` AS o
		FROM leads WHERE rowid > coalesce((SELECT rowid FROM leads_fts ORDER BY rowid DESC LIMIT 1), 0)
		ORDER BY rowid LIMIT ?)`

// indexAssigneesQuery records the assignees' emails of the leads
// indexSearchQuery indexes next (table lead_assignees), by which an agent
// finds the leads assigned to them.
var indexAssigneesQuery = `INSERT OR IGNORE INTO lead_assignees (email_key, lead_id)
	SELECT email_key(a.value ->> '$.email'), l.id
	FROM (SELECT id, parsed_payload FROM leads
		WHERE rowid > coalesce((SELECT rowid FROM leads_fts ORDER BY rowid DESC LIMIT 1), 0)
		ORDER BY rowid LIMIT ?) AS l, json_each(l.parsed_payload, '$.assignees') AS a
	WHERE email_key(a.value ->> '$.email') != ''`

// indexContactsQuery records which contact each lead indexSearchQuery
// indexes next belongs to (table contact_leads).
var indexContactsQuery = `INSERT OR IGNORE INTO contact_leads (contact_id, lead_rowid)
	SELECT contact_id, rowid FROM leads
	WHERE rowid > coalesce((SELECT rowid FROM leads_fts ORDER BY rowid DESC LIMIT 1), 0)
	ORDER BY rowid LIMIT ?`

// indexContactKeysQuery records the match keys of the contacts of the
// leads indexSearchQuery indexes next (table contact_keys). Every key a
// contact holds came with one of its leads, so the keys of every contact
// are there once its leads are indexed; matchQuery reads the contacts of
// the leads after them itself. Filled here rather than by the capture:
// each key lands on a page of the table of its own, and in the capture
// the two of a new visitor took a third more of the writer's time.
var indexContactKeysQuery = `INSERT OR IGNORE INTO contact_keys (brand, kind, key, contact_id)
	SELECT brand, 'email', email_key, id FROM contacts WHERE email_key != '' AND id IN (` + nextContacts + `)
	UNION ALL SELECT brand, 'phone', phone_key, id FROM contacts WHERE phone_key != '' AND id IN (` + nextContacts + `)`

// indexCapturesQuery records the captures with an Idempotency-Key of the
// leads indexSearchQuery indexes next (table captures). A key used again
// after the window takes its row over; the leads of one capture split
// between two batches join their row (a replay reads them in rowid
// order, whatever order the row lists them in). Filled here rather than by the
// capture: each key lands on a page of the table of its own, which took a
// third of the capture rate; findCaptureQuery reads the leads after them
// itself.
var indexCapturesQuery = `INSERT INTO captures (channel_id, idempotency_key, request_hash, lead_ids, created_at)
	SELECT channel_id, idempotency_key, request_hash, json_group_array(id), created_at
	FROM (SELECT channel_id, idempotency_key, request_hash, id, created_at FROM leads
		WHERE rowid > coalesce((SELECT rowid FROM leads_fts ORDER BY rowid DESC LIMIT 1), 0) AND idempotency_key != ''
		ORDER BY rowid LIMIT ?1)
	WHERE true GROUP BY channel_id, idempotency_key, created_at
	ON CONFLICT (channel_id, idempotency_key) DO UPDATE SET
		lead_ids = iif(captures.created_at = excluded.created_at,
			(SELECT json_group_array(value) FROM (SELECT value FROM json_each(captures.lead_ids)
				UNION SELECT value FROM json_each(excluded.lead_ids))),
			excluded.lead_ids),
		request_hash = excluded.request_hash, created_at = excluded.created_at`

// nextContacts selects the contacts of the next ?1 leads to index.
const nextContacts = `SELECT contact_id FROM (SELECT contact_id FROM leads
	WHERE rowid > coalesce((SELECT rowid FROM leads_fts ORDER BY rowid DESC LIMIT 1), 0) ORDER BY rowid LIMIT ?1)`

// digitsOf is the SQL of the digits of a phone number written with the
// usual signs, NULL for none.
func digitsOf(x string) string {
	for _, sign := range []string{"+", "-", " ", "(", ")", "."} {
		x = "replace(" + x + ", '" + sign + "', '')"
	}
	return "nullif(coalesce(" + x + ", ''), '')"
}

// lastIndexedQuery is the rowid of the last lead in the search index, 0
// for none.
const lastIndexedQuery = "SELECT coalesce((SELECT rowid FROM leads_fts ORDER BY rowid DESC LIMIT 1), 0)"

// searchWords keeps table search_words, the words of the search index,
// which a search expands what was typed into (see ftsQuery). The words
// of some leads are found with the index's own tokenizer: their bodies are
// put into a temporary index of the same kind (search_words_batch), whose
// vocabulary (search_words_terms) then lists exactly their words.
type searchWords struct {
	conn *sql.Conn
}

// searchWordsSetup creates the temporary tables of searchWords on the
// writer's connection. They live in memory (temp_store), are filled and
// emptied within one op, and roll back with its transaction.
var searchWordsSetup = []string{
	`CREATE VIRTUAL TABLE temp.search_words_batch USING fts5 (body, tokenize = 'unicode61', detail = none, columnsize = 0, content = '')`,
	`CREATE VIRTUAL TABLE temp.search_words_terms USING fts5vocab(temp, search_words_batch, row)`,
}

// load puts the words of the indexed leads whose leads_fts rows where
// selects into the temporary index, in place of what it held.
func (sw searchWords) load(where string, args ...any) error {
	if err := sw.clear(); err != nil {
		return err
	}
	_, err := sw.conn.ExecContext(context.Background(),
		"INSERT INTO temp.search_words_batch (rowid, body) SELECT rowid, body FROM leads_fts WHERE "+where, args...)
	return err
}

// keep adds the words loaded to search_words.
func (sw searchWords) keep() error {
	_, err := sw.conn.ExecContext(context.Background(),
		`INSERT OR IGNORE INTO search_words (word) SELECT term FROM temp.search_words_terms`)
	return errors.Join(err, sw.clear())
}

// prune takes the words loaded that no lead in the index holds any more
// out of search_words: loaded before leads are taken out of the index,
// pruned after.
func (sw searchWords) prune() error {
	_, err := sw.conn.ExecContext(context.Background(), `DELETE FROM search_words
		WHERE word IN (SELECT term FROM temp.search_words_terms) AND NOT EXISTS
			(SELECT 1 FROM leads_fts WHERE leads_fts MATCH '"' || replace(word, '"', '""') || '"')`)
	return errors.Join(err, sw.clear())
}

func (sw searchWords) clear() error {
	_, err := sw.conn.ExecContext(context.Background(),
		"INSERT INTO temp.search_words_batch (search_words_batch) VALUES ('delete-all')")
	return err
}

// indexOp brings the search index up to date.
type indexOp struct {
	// all is whether it indexed every lead stored when it ran, the
	// w.stored-th of them.
	all    bool
	stored int64
}

func newIndexRequest() *request {
	return &request{ctx: context.Background(), op: &indexOp{}, done: make(chan error, 1)}
}

func (o *indexOp) apply(w *writer, now time.Time) error {
	// The assignees and contacts of the leads about to be indexed first:
	// all take the leads after the last one in the search index.
	var last int64
	err := w.conn.QueryRowContext(context.Background(), lastIndexedQuery).Scan(&last)
	if err == nil {
		_, err = w.indexAssignees.Exec(searchIndexBatch)
	}
	if err == nil {
		_, err = w.indexContacts.Exec(searchIndexBatch)
	}
	if err == nil {
		_, err = w.indexKeys.Exec(searchIndexBatch)
	}
	if err == nil {
		_, err = w.indexCaptures.Exec(searchIndexBatch)
	}
	var res sql.Result
	if err == nil {
		res, err = w.indexSearch.Exec(searchIndexBatch)
	}
	if err == nil {
		err = w.words.load("rowid > ?", last)
	}
	if err == nil {
		err = w.words.keep()
	}
	if err != nil {
		// A failed statement is undone alone: the captures of the batch
		// are committed all the same.
		w.indexFailed = time.Now()
		return leadwire.Errorf(leadwire.EINTERNAL, "indexing leads for search: %v", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	o.all, o.stored = n < searchIndexBatch, w.stored
	return nil
}

// committed says the index is up to date only once it is committed, for
// searches read what is committed, and only when no lead was stored after
// it in the same batch.
func (o *indexOp) committed(w *writer) error {
	if o.all && w.stored == o.stored {
		w.searchBehind.Store(false)
		w.indexed = o.stored
	}
	return nil
}

// searchDue reports whether the writer should index now.
func (w *writer) searchDue() bool {
	return w.searchBehind.Load() && time.Since(w.indexFailed) > time.Second
}

// searchable makes every lead stored so far searchable. It waits for the
// writer only while the index is behind, which it is for at most
// maxSearchLag under load and not at all otherwise.
func (s *Store) searchable(ctx context.Context) error {
	if !s.w.searchBehind.Load() {
		return nil
	}
	for {
		o := &indexOp{}
		if err := s.w.do(ctx, o); err != nil || o.all {
			return err
		}
	}
}
