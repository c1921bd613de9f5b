-- Delivery: the destinations leads are handed to and the outbox of
-- deliveries, written in the same transaction as the leads they carry,
-- as in the SQLite store. Servers sharing the database claim deliveries
-- with FOR UPDATE SKIP LOCKED and a lease (claimed_until), so each due
-- delivery goes to one of them, and a server that dies loses its claims
-- when they expire.

CREATE TABLE destinations (
	id                    uuid PRIMARY KEY,
	kind                  text NOT NULL, -- leadwire.DestinationKinds
	url                   text NOT NULL,
	channel_id            text NOT NULL, -- a channel's id, '' for every channel
	secret                text NOT NULL,
	previous_secret       text NOT NULL DEFAULT '',
	previous_secret_until bigint NOT NULL DEFAULT 0,
	enabled               boolean NOT NULL DEFAULT true,
	created_at            bigint NOT NULL
);

-- uuid_v7 returns a version 7 UUID of the time ms (Unix milliseconds),
-- as newID makes them: deliveries made in SQL, for every lead of a batch
-- at once, append to the B-tree of their key instead of landing on
-- random pages.
CREATE FUNCTION uuid_v7(ms bigint) RETURNS uuid LANGUAGE sql VOLATILE AS $$
	SELECT encode(set_byte(overlay(uuid_send(gen_random_uuid()) PLACING substring(int8send(ms) FROM 3) FROM 1 FOR 6),
		6, (get_byte(uuid_send(gen_random_uuid()), 6) & 15) | 112), 'hex')::uuid
$$;

-- One delivery per lead and destination: its id is what a receiver drops
-- repeats by. claimed_until is when a server's claim ends (Unix
-- milliseconds, 0 when unclaimed); seq is the order deliveries were
-- made in, newest first in lists. destination_id is not a foreign key,
-- for the reason leads.channel_id is not: every capture would share-lock
-- the destination's row. RemoveDestination deletes its deliveries.
CREATE TABLE deliveries (
	seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	id              uuid PRIMARY KEY,
	lead_id         uuid NOT NULL REFERENCES leads (id),
	destination_id  uuid NOT NULL,
	status          text NOT NULL, -- leadwire delivery statuses
	attempts        integer NOT NULL DEFAULT 0,
	next_attempt_at bigint NOT NULL,
	claimed_until   bigint NOT NULL DEFAULT 0,
	last_error      text NOT NULL DEFAULT '',
	give_up_at      bigint NOT NULL, -- pending until then at the latest
	created_at      bigint NOT NULL,
	updated_at      bigint NOT NULL,
	UNIQUE (lead_id, destination_id)
);

-- The due ones of each destination, for the claims. RemoveDestination,
-- rare, reads the table through.
CREATE INDEX deliveries_due ON deliveries (destination_id, next_attempt_at) WHERE status = 'pending';

CREATE TABLE delivery_attempts (
	seq         bigint GENERATED ALWAYS AS IDENTITY,
	delivery_id uuid NOT NULL REFERENCES deliveries (id),
	at          bigint NOT NULL,
	status_code integer NOT NULL,
	duration_ms bigint NOT NULL,
	response    text NOT NULL,
	error       text NOT NULL
);

CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, at, seq);

-- Routing: an agent who paused gets no lead in turn; channel_rotation
-- holds the agent of each channel who got the last lead in turn, its row
-- locked while the next one is chosen, so servers take turns in one
-- order.
ALTER TABLE users ADD COLUMN paused boolean NOT NULL DEFAULT false;

CREATE TABLE channel_rotation (
	channel_id   uuid PRIMARY KEY REFERENCES channels (id),
	last_user_id text NOT NULL
);
