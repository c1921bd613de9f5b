-- Delivery: the destinations leads are handed to and the outbox of
-- deliveries, written in the same commit as the leads they carry.

CREATE TABLE destinations (
	id                    TEXT PRIMARY KEY,
	kind                  TEXT NOT NULL, -- leadwire.DestinationKinds
	url                   TEXT NOT NULL,
	channel_id            TEXT NOT NULL, -- '' for every channel
	secret                TEXT NOT NULL,
	previous_secret       TEXT NOT NULL DEFAULT '',
	previous_secret_until INTEGER NOT NULL DEFAULT 0,
	enabled               INTEGER NOT NULL DEFAULT 1,
	created_at            INTEGER NOT NULL
) STRICT;

-- One delivery per lead and destination: its id is what a receiver
-- drops repeats by. claimed_until is when a worker's claim ends (Unix
-- milliseconds, 0 when unclaimed).
CREATE TABLE deliveries (
	id              TEXT PRIMARY KEY,
	lead_id         TEXT NOT NULL REFERENCES leads (id),
	destination_id  TEXT NOT NULL REFERENCES destinations (id),
	status          TEXT NOT NULL, -- leadwire delivery statuses
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	claimed_until   INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT NOT NULL DEFAULT '',
	give_up_at      INTEGER NOT NULL, -- pending until then at the latest
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	UNIQUE (lead_id, destination_id)
) STRICT;

-- The due ones of each destination, for the dispatcher's claims.
CREATE INDEX deliveries_due ON deliveries (destination_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_destination ON deliveries (destination_id);
CREATE INDEX deliveries_lead ON deliveries (lead_id);

CREATE TABLE delivery_attempts (
	delivery_id TEXT NOT NULL REFERENCES deliveries (id),
	at          INTEGER NOT NULL,
	status_code INTEGER NOT NULL,
	duration_ms INTEGER NOT NULL,
	response    TEXT NOT NULL,
	error       TEXT NOT NULL
) STRICT;

CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, at);

-- Routing: an agent who paused gets no lead in turn; channel_rotation
-- holds the agent of each channel who got the last lead in turn.
ALTER TABLE users ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;

CREATE TABLE channel_rotation (
	channel_id   TEXT PRIMARY KEY REFERENCES channels (id),
	last_user_id TEXT NOT NULL
) STRICT;
