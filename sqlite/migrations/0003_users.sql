-- Users who sign in to work leads, their API tokens and inbox sessions, and
-- the channels an agent is a member of. Secrets are never stored: tokens
-- and sessions keep the SHA-256 of theirs, users an argon2id hash of their
-- password. Every read of a credential joins users, so disabling a user
-- stops their tokens and sessions with the next request.

-- email_key is the email in lower case: emails are unique whatever their
-- case, while email keeps the one the user gave.
CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	email         TEXT NOT NULL,
	email_key     TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL DEFAULT '',
	role          TEXT NOT NULL CHECK (role IN ('owner', 'agent')),
	password_hash TEXT NOT NULL,
	disabled      INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL
) STRICT;

-- last_used_at is 0 until the token is first used, and is written at most
-- once a minute per token, so that using a token costs no write.
CREATE TABLE tokens (
	id           TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users (id),
	name         TEXT NOT NULL UNIQUE,
	hash         BLOB NOT NULL UNIQUE,
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE sessions (
	hash       BLOB PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES users (id),
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_user ON sessions (user_id);

-- An agent sees the leads of the channels they are a member of.
CREATE TABLE channel_members (
	channel_id TEXT NOT NULL REFERENCES channels (id),
	user_id    TEXT NOT NULL REFERENCES users (id),
	created_at INTEGER NOT NULL,
	PRIMARY KEY (channel_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX channel_members_user ON channel_members (user_id, channel_id);
