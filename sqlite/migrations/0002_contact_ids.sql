-- Keys the database keeps for itself. contact_ids encrypts the contacts'
-- time-ordered row keys into the ids the API shows (see contactid.go):
-- contacts append to their B-tree like every other table, yet an id tells
-- nobody when the person became known.
CREATE TABLE secrets (
	name  TEXT PRIMARY KEY,
	value BLOB NOT NULL
) STRICT;

INSERT INTO secrets (name, value) VALUES ('contact_ids', randomblob(16));
