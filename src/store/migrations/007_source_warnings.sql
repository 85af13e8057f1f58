-- What a pulled source's last good sync could not use (invalid numbers, records without a
-- name), as JSON `{"count": N, "first": [{"record", "field", "value", "message"}, …]}` with
-- at most 50 entries; written with the contacts it describes, shown with the status.
-- (006 is the targets' migration.)
ALTER TABLE sources ADD COLUMN warnings TEXT;
