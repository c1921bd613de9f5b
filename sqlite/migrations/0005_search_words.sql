-- Every word of the search index (leads_fts), as its tokenizer wrote it.
-- A search turns the last letters typed into the words they begin
-- (sqlite/read.go): a query of a few whole words reads only the leads it
-- shows, where FTS5's own prefix query reads every lead a prefix matches.
-- The writer adds the words of the leads it indexes and an erasure takes
-- out the words no other lead holds.
CREATE TABLE search_words (
	word TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;

CREATE VIRTUAL TABLE temp.leads_fts_terms USING fts5vocab(main, leads_fts, row);
INSERT INTO search_words (word) SELECT term FROM temp.leads_fts_terms;
DROP TABLE temp.leads_fts_terms;
