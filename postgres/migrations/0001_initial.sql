-- The schema holds every rule that makes a capture correct, so that any
-- number of leadwire servers can share the database: one lead set per
-- channel and Idempotency-Key (idempotency_keys), which contact an email
-- or phone joins (contact_keys), the leads of a capture (leads.capture_id).
-- Ids are UUIDs and times Unix milliseconds, as in the SQLite store, so a
-- database moves from one store to the other unchanged.

CREATE TABLE channels (
	id              uuid PRIMARY KEY,
	name            text NOT NULL,
	brand_id        text NOT NULL DEFAULT '',
	user_id         text NOT NULL DEFAULT '',
	allowed_origins text NOT NULL DEFAULT '[]', -- JSON array of origins
	created_at      bigint NOT NULL
);

-- Contact ids are random (version 4): they come back to whoever sends a
-- lead, and must not tell when the person became known.
CREATE TABLE contacts (
	id           uuid PRIMARY KEY,
	brand        text NOT NULL,
	first_name   text NOT NULL DEFAULT '',
	last_name    text NOT NULL DEFAULT '',
	email        text NOT NULL DEFAULT '',
	phone_number text NOT NULL DEFAULT '',
	created_at   bigint NOT NULL,
	updated_at   bigint NOT NULL
);

-- The match keys of each contact: its email (leadwire.EmailKey) and phone
-- (leadwire.PhoneKey) within its brand, at most one of each kind, with the
-- contact's updated_at. Several contacts may hold one key (a phone filled
-- into a contact another one already had); the one updated last wins, the
-- larger id on a tie: the first row of contact_keys_match.
CREATE TABLE contact_keys (
	contact_id uuid NOT NULL REFERENCES contacts (id),
	kind       text NOT NULL CHECK (kind IN ('email', 'phone')),
	brand      text NOT NULL,
	key        text NOT NULL CHECK (key != ''),
	updated_at bigint NOT NULL,
	PRIMARY KEY (contact_id, kind)
);

CREATE INDEX contact_keys_match ON contact_keys (brand, kind, key, updated_at DESC, contact_id DESC);

-- One capture per channel and Idempotency-Key: the unique key every
-- server's capture inserts into, and waits on while another server's
-- transaction holds it. A key older than leadwire.IdempotencyWindow is
-- taken over by the next capture sending it.
CREATE TABLE idempotency_keys (
	channel_id   uuid NOT NULL, -- channels (id), not a foreign key: see leads
	key          text NOT NULL,
	request_hash text NOT NULL,
	capture_id   uuid NOT NULL, -- leads.capture_id of its leads
	created_at   bigint NOT NULL,
	PRIMARY KEY (channel_id, key)
);

-- seq is the order leads were stored in: lists are newest first by it and
-- pages end below one. search holds the words a search finds the lead by
-- (internal/search) and assignees the email keys of its assignees.
-- channel_id is not a foreign key: a foreign key has each insert
-- share-lock the parent row, and every capture of a channel would lock
-- that one row (a multixact among concurrent batches), while a capture
-- checks its channel first and channels are never deleted.
CREATE TABLE leads (
	seq            bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	id             uuid PRIMARY KEY,
	channel_id     uuid NOT NULL,
	contact_id     uuid NOT NULL REFERENCES contacts (id),
	capture_id     uuid NOT NULL,
	created_at     bigint NOT NULL,
	parsed_payload text NOT NULL, -- JSON as encoded: numbers keep their text
	raw_payload    text NOT NULL DEFAULT '',
	status         text NOT NULL DEFAULT 'new',
	responded_at   bigint NOT NULL DEFAULT 0,
	assignees      text[] NOT NULL DEFAULT '{}',
	search         tsvector NOT NULL
);

CREATE INDEX leads_capture ON leads (capture_id);
CREATE INDEX leads_channel ON leads (channel_id, seq);
CREATE INDEX leads_contact ON leads (contact_id);
CREATE INDEX leads_status ON leads (status, seq) WHERE status != 'new';
CREATE INDEX leads_assignees ON leads USING gin (assignees);
CREATE INDEX leads_search ON leads USING gin (search);

-- details holds the listing, search, notes and actor of the activity as JSON.
CREATE TABLE activities (
	id              uuid PRIMARY KEY,
	lead_id         uuid NOT NULL REFERENCES leads (id),
	action          text NOT NULL,
	details         text NOT NULL,
	created_at      bigint NOT NULL,
	idempotency_key text NOT NULL DEFAULT ''
);

CREATE INDEX activities_lead ON activities (lead_id, created_at, id);
CREATE UNIQUE INDEX activities_idempotency ON activities (lead_id, idempotency_key) WHERE idempotency_key != '';

-- The idempotency keys of erased leads, hashed, for the idempotency
-- window: a retry of an erased lead's capture must neither store it again
-- nor answer with it.
CREATE TABLE erased_captures (
	key_hash   text PRIMARY KEY, -- sha256 of the channel id and the key
	created_at bigint NOT NULL
);

-- Who erased what and when: ids only, never the personal data erased.
CREATE TABLE audit (
	id         uuid PRIMARY KEY,
	user_id    text NOT NULL, -- '' for the command line
	action     text NOT NULL,
	subject    text NOT NULL,
	details    text NOT NULL,
	created_at bigint NOT NULL
);

-- Users, their API tokens and inbox sessions, as in the SQLite store:
-- tokens and sessions keep the SHA-256 of their secrets, users an
-- argon2id hash of their password.
CREATE TABLE users (
	id            uuid PRIMARY KEY,
	email         text NOT NULL,
	email_key     text NOT NULL UNIQUE,
	name          text NOT NULL DEFAULT '',
	role          text NOT NULL CHECK (role IN ('owner', 'agent')),
	password_hash text NOT NULL,
	disabled      boolean NOT NULL DEFAULT false,
	created_at    bigint NOT NULL
);

CREATE TABLE tokens (
	id           uuid PRIMARY KEY,
	user_id      uuid NOT NULL REFERENCES users (id),
	name         text NOT NULL UNIQUE,
	hash         bytea NOT NULL UNIQUE,
	created_at   bigint NOT NULL,
	last_used_at bigint NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
	hash       bytea PRIMARY KEY,
	user_id    uuid NOT NULL REFERENCES users (id),
	created_at bigint NOT NULL,
	expires_at bigint NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE channel_members (
	channel_id uuid NOT NULL REFERENCES channels (id),
	user_id    uuid NOT NULL REFERENCES users (id),
	created_at bigint NOT NULL,
	PRIMARY KEY (channel_id, user_id)
);

CREATE INDEX channel_members_user ON channel_members (user_id, channel_id);

-- Secrets the database keeps for itself (the owner setup link's hash).
CREATE TABLE secrets (
	name  text PRIMARY KEY,
	value bytea NOT NULL
);
