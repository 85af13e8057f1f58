-- Targets (issue 14): PBX contact stores phonedir writes the book into, and what it wrote.

CREATE TABLE targets (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    directory_id   INTEGER NOT NULL REFERENCES directories(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    -- The settings as JSON with their secrets sealed (see sources::secret).
    config         TEXT NOT NULL,
    -- Seconds between reconciling runs; 0 = none (runs still follow new versions).
    interval_s     INTEGER NOT NULL DEFAULT 3600,
    -- Quiet seconds after a new directory version before the target runs.
    debounce_s     INTEGER NOT NULL DEFAULT 10,
    -- ok, error, never_run, running.
    status         TEXT NOT NULL DEFAULT 'never_run',
    last_success   TEXT,
    last_error     TEXT,
    last_attempt   TEXT,
    -- Unix seconds of the next reconciling (or retried) run; NULL = none.
    next_run       INTEGER,
    -- Failed runs in a row, for backoff.
    failures       INTEGER NOT NULL DEFAULT 0,
    -- The directory version the last run started from: a newer one makes the target run.
    seen_version   INTEGER,
    -- The book version the last complete run wrote (a version the change log handed out):
    -- the next run after a new version writes only what changed since.
    synced_version INTEGER,
    -- Contacts of the book at the last complete run, for the mass-delete guard.
    book_contacts  INTEGER,
    -- The last run's counts, warnings and failures as JSON.
    last_run       TEXT,
    -- The last dry run's plan as JSON.
    dry_run        TEXT,
    -- Snapshot kinds (innovaphone): SHA-256 of the last file the PBX accepted.
    snapshot_hash  TEXT,
    -- Writes made by this target since it was created.
    writes         INTEGER NOT NULL DEFAULT 0,
    UNIQUE (directory_id, name)
);

-- One row per contact the target holds (or is about to hold): the mapping contact id →
-- remote id, where it came from, and what was last written. A row with no remote id is a
-- create that was sent and not yet answered (a crash in between): the next run looks for
-- the entry before it creates it again.
CREATE TABLE target_entries (
    target_id    INTEGER NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
    contact_id   INTEGER NOT NULL,
    remote_id    TEXT,
    -- created or adopted: either way phonedir owns it now.
    origin       TEXT NOT NULL,
    -- SHA-256 (16 hex digits) of `payload`.
    fingerprint  TEXT NOT NULL DEFAULT '',
    -- The entry as last written, in the target's field names (JSON).
    payload      TEXT NOT NULL DEFAULT '{}',
    -- Unix seconds of the write (of the create sent, for a row without remote id).
    written_at   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (target_id, contact_id)
) WITHOUT ROWID;
