-- An agent's MLS id, by which a lead's assignee finds the agent when it
-- names no email (leadwire.Assignee.MLSID); '' for none.
ALTER TABLE users ADD COLUMN mls_id TEXT NOT NULL DEFAULT '';
CREATE INDEX users_mls_id ON users (mls_id) WHERE mls_id != '';
