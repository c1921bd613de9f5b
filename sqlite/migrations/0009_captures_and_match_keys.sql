-- The two rules that make a capture correct, held by the schema: the
-- writer's memory (sqlite/memory.go) answers them faster, as a cache, and
-- the schema decides whenever the memory does not know.

-- One capture per channel and Idempotency-Key, with the hash of its
-- request and the ids of its leads in order, by which a repeat is
-- answered. A key may be used again once leadwire.IdempotencyWindow has
-- passed: its row is then replaced.
CREATE TABLE captures (
	channel_id      TEXT NOT NULL,
	idempotency_key TEXT NOT NULL,
	request_hash    TEXT NOT NULL,
	lead_ids        TEXT NOT NULL, -- JSON array
	created_at      INTEGER NOT NULL,
	PRIMARY KEY (channel_id, idempotency_key)
) STRICT, WITHOUT ROWID;

INSERT OR REPLACE INTO captures (channel_id, idempotency_key, request_hash, lead_ids, created_at)
	SELECT channel_id, idempotency_key, request_hash, json_group_array(id), created_at
	FROM (SELECT channel_id, idempotency_key, request_hash, id, created_at FROM leads
		WHERE idempotency_key != '' ORDER BY rowid)
	GROUP BY channel_id, idempotency_key, created_at
	ORDER BY min(created_at);

-- The match keys of each contact: a lead joins the contact of its brand
-- holding its email key or, failing that, its phone key; of several, the
-- one updated last (matchQuery in sqlite/lead.go).
CREATE TABLE contact_keys (
	brand      TEXT NOT NULL,
	kind       TEXT NOT NULL, -- 'email' (leadwire.EmailKey) or 'phone' (leadwire.PhoneKey)
	key        TEXT NOT NULL,
	contact_id TEXT NOT NULL REFERENCES contacts (id),
	PRIMARY KEY (brand, kind, key, contact_id)
) STRICT, WITHOUT ROWID;

INSERT INTO contact_keys (brand, kind, key, contact_id)
	SELECT brand, 'email', email_key, id FROM contacts WHERE email_key != ''
	UNION ALL SELECT brand, 'phone', phone_key, id FROM contacts WHERE phone_key != '';
