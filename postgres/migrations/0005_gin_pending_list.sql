-- The GIN indexes of leads take new entries into a pending list, which
-- the insert that finds it full merges into the index. With the default
-- limit (4 MB) that insert is one batch of captures every few seconds
-- under load, held 50-200 ms; with 64 kB the merges are small and often:
-- the load test's slowest capture went from 90-260 ms to 20-70 ms, at the
-- same number of leads per second.
ALTER INDEX leads_search SET (gin_pending_list_limit = 64);
ALTER INDEX leads_assignees SET (gin_pending_list_limit = 64);
