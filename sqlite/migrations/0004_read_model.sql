-- The read model: where a lead stands, who it is assigned to, full-text
-- search, and the record of erasures.

-- status is one of leadwire.Statuses; responded_at is when the lead first
-- left 'new' (Unix milliseconds), 0 until then. A capture leaves both at
-- their defaults, so storing a lead writes nothing more than before.
ALTER TABLE leads ADD COLUMN status TEXT NOT NULL DEFAULT 'new';
ALTER TABLE leads ADD COLUMN responded_at INTEGER NOT NULL DEFAULT 0;

-- Only worked leads are in this index, so captures never write to it;
-- a filter on 'new' reads the leads in rowid order instead.
CREATE INDEX leads_status ON leads (status) WHERE status != 'new';

-- A contact's leads, for the contact's page and for erasure.
CREATE INDEX leads_contact ON leads (contact_id);

-- The assignees' emails (leadwire.EmailKey) of each lead, so that an agent
-- finds the leads assigned to them, and the assignee filter, without
-- reading every payload. Filled by the writer after the capture, with the
-- search index (sqlite/search.go), leads stored before this migration
-- included, and by ReplaceAssignees.
CREATE TABLE lead_assignees (
	email_key TEXT NOT NULL,
	lead_id   TEXT NOT NULL REFERENCES leads (id),
	PRIMARY KEY (email_key, lead_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX lead_assignees_lead ON lead_assignees (lead_id);


-- The words a search finds a lead by (names, email, phone digits, note,
-- message, address), under the lead's rowid; the writer fills it (see
-- sqlite/search.go), leads stored before this migration included. detail=none keeps the index
-- small: searches match words and word prefixes, not phrases. secure-delete
-- removes an erased lead's words from the index itself instead of marking
-- them deleted, so they leave the file.
CREATE VIRTUAL TABLE leads_fts USING fts5 (body, tokenize = 'unicode61', detail = none, columnsize = 0);
INSERT INTO leads_fts (leads_fts, rank) VALUES ('secure-delete', 1);

-- Who erased what and when: ids only, never the personal data erased.
CREATE TABLE audit (
	id         TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL, -- '' for the command line
	action     TEXT NOT NULL, -- 'contact.erased'
	subject    TEXT NOT NULL, -- the contact's id as the API shows it
	details    TEXT NOT NULL, -- JSON: the ids of the leads erased with it
	created_at INTEGER NOT NULL
) STRICT;

-- The idempotency keys of erased leads, hashed, for the idempotency
-- window: a retry of an erased lead's capture must neither store it again
-- nor answer with it.
CREATE TABLE erased_captures (
	key_hash   TEXT PRIMARY KEY, -- sha256 of the channel id and the key
	created_at INTEGER NOT NULL
) STRICT;
