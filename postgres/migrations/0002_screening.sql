-- Spam screening: where each capture came from, why a quarantined lead
-- was quarantined, and each channel's screening settings, as in the
-- SQLite store. Columns with a constant default are added without
-- rewriting the table, so a large database migrates in place at once.

-- The client's address, User-Agent and Origin of the capture that stored
-- the lead.
ALTER TABLE leads ADD COLUMN source_address text NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN source_user_agent text NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN source_origin text NOT NULL DEFAULT '';
-- The signals that quarantined the lead (status 'spam'), as a JSON array;
-- '' for a lead screening accepted. The index of worked leads
-- (leads_status) finds the spam to delete after 30 days.
ALTER TABLE leads ADD COLUMN spam_reasons text NOT NULL DEFAULT '';

-- leadwire.ScreeningSettings as JSON; '{}' screens with the defaults.
ALTER TABLE channels ADD COLUMN screening text NOT NULL DEFAULT '{}';
