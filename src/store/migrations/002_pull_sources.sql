-- Pulled sources (graph, carddav, rest): their settings, schedule and sync status.
-- Push sources get the same status columns so the status view treats all sources alike.

-- Merge order: lower wins conflicting fields when entries of two sources are folded.
ALTER TABLE sources ADD COLUMN priority INTEGER NOT NULL DEFAULT 100;
-- The source's settings as JSON with its secrets sealed (see sources::secret); NULL for push.
ALTER TABLE sources ADD COLUMN config TEXT;
-- Seconds between scheduled syncs; 0 = only on demand.
ALTER TABLE sources ADD COLUMN interval_s INTEGER NOT NULL DEFAULT 0;
-- ok, error, never_synced, syncing.
ALTER TABLE sources ADD COLUMN status TEXT NOT NULL DEFAULT 'never_synced';
ALTER TABLE sources ADD COLUMN last_error TEXT;
ALTER TABLE sources ADD COLUMN last_attempt TEXT;
-- Unix seconds of the next scheduled run; NULL = none.
ALTER TABLE sources ADD COLUMN next_run INTEGER;
-- Failed syncs in a row, for backoff.
ALTER TABLE sources ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
-- What an incremental sync needs (CardDAV ETags, Graph delta link) as JSON; written in the
-- same transaction as the contacts it describes.
ALTER TABLE sources ADD COLUMN sync_state TEXT;

UPDATE sources SET status = 'ok' WHERE last_success IS NOT NULL;
CREATE INDEX sources_due ON sources (next_run) WHERE config IS NOT NULL;
