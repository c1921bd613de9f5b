-- A contact's leads, for the contact's page and for erasure. An index on
-- leads (contact_id) made every capture of a returning visitor write to a
-- page in the middle of that index: the returning-visitor capture rate of
-- the load test fell from 0.48 to 0.37 of the ceiling. This table is
-- filled by the writer with the search index instead, after the capture
-- and many leads at a time (sqlite/search.go), and a read by contact has
-- it brought up to date first.
CREATE TABLE contact_leads (
	contact_id TEXT NOT NULL,
	lead_rowid INTEGER NOT NULL,
	PRIMARY KEY (contact_id, lead_rowid)
) STRICT, WITHOUT ROWID;

INSERT INTO contact_leads (contact_id, lead_rowid)
	SELECT contact_id, leads.rowid FROM leads JOIN leads_fts ON leads_fts.rowid = leads.rowid;
DROP INDEX leads_contact;
