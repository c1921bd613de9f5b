-- Ids are time-ordered UUIDs (v7) as text and times are Unix milliseconds,
-- so new rows append at the end of every B-tree instead of scattering.

CREATE TABLE channels (
	id              TEXT PRIMARY KEY,
	name            TEXT NOT NULL,
	brand_id        TEXT NOT NULL DEFAULT '',
	user_id         TEXT NOT NULL DEFAULT '',
	allowed_origins TEXT NOT NULL DEFAULT '[]', -- JSON array of origins
	created_at      INTEGER NOT NULL
) STRICT;

-- email_key and phone_key are the match keys (leadwire.EmailKey and
-- leadwire.PhoneKey) of the current email and phone, kept so that starting
-- the writer does not have to parse every phone number again.
CREATE TABLE contacts (
	id           TEXT PRIMARY KEY,
	brand        TEXT NOT NULL,
	first_name   TEXT NOT NULL DEFAULT '',
	last_name    TEXT NOT NULL DEFAULT '',
	email        TEXT NOT NULL DEFAULT '',
	phone_number TEXT NOT NULL DEFAULT '',
	email_key    TEXT NOT NULL DEFAULT '',
	phone_key    TEXT NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL
) STRICT;

-- A lead is one row: its payloads are JSON text and the idempotency key and
-- request hash of the capture that stored it are columns, so storing a lead
-- is a single INSERT.
CREATE TABLE leads (
	id              TEXT PRIMARY KEY,
	channel_id      TEXT NOT NULL REFERENCES channels (id),
	contact_id      TEXT NOT NULL REFERENCES contacts (id),
	created_at      INTEGER NOT NULL,
	idempotency_key TEXT NOT NULL DEFAULT '',
	request_hash    TEXT NOT NULL DEFAULT '',
	parsed_payload  TEXT NOT NULL,
	raw_payload     TEXT NOT NULL DEFAULT ''
) STRICT;

-- Leads are listed newest first in rowid order, the order the single writer
-- stored them in, so only the channel filter needs an index: every index
-- is one more B-tree each capture writes to.
CREATE INDEX leads_channel ON leads (channel_id);

-- details holds the listing, search and notes of the activity as JSON.
CREATE TABLE activities (
	id              TEXT PRIMARY KEY,
	lead_id         TEXT NOT NULL REFERENCES leads (id),
	action          TEXT NOT NULL,
	details         TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	idempotency_key TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX activities_lead ON activities (lead_id, created_at, id);
-- A tracking event sent again with its key (a retry after a lost answer)
-- finds the activity stored the first time.
CREATE UNIQUE INDEX activities_idempotency ON activities (lead_id, idempotency_key) WHERE idempotency_key != '';
