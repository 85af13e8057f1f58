-- Directories, their sources, and the contacts each source holds.
CREATE TABLE directories (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    key         TEXT NOT NULL UNIQUE,
    -- DirectorySettings as JSON (name, region, number shape, …), validated before stored.
    settings    TEXT NOT NULL DEFAULT '{}',
    -- Bumped on every change of the directory's contents; part of every ETag.
    version     INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE sources (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    directory_id  INTEGER NOT NULL REFERENCES directories(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL DEFAULT 'push',
    -- SHA-256 of the contacts last stored, so an identical push changes nothing.
    content_hash  TEXT NOT NULL DEFAULT '',
    last_success  TEXT,
    UNIQUE (directory_id, name)
);

CREATE TABLE contacts (
    id            INTEGER PRIMARY KEY,
    source_id     INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    external_id   TEXT NOT NULL DEFAULT '',
    display_name  TEXT NOT NULL,
    given_name    TEXT NOT NULL DEFAULT '',
    family_name   TEXT NOT NULL DEFAULT '',
    company       TEXT NOT NULL DEFAULT '',
    department    TEXT NOT NULL DEFAULT '',
    position      TEXT NOT NULL DEFAULT '',
    email         TEXT NOT NULL DEFAULT '',
    group_name    TEXT NOT NULL DEFAULT '',
    sort_key      TEXT NOT NULL
);
CREATE INDEX contacts_by_source ON contacts (source_id, sort_key);

CREATE TABLE numbers (
    contact_id  INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    type        TEXT NOT NULL,
    -- E.164 (+4923648873040), or the digits of an internal extension.
    value       TEXT NOT NULL,
    PRIMARY KEY (contact_id, position)
) WITHOUT ROWID;
CREATE INDEX numbers_by_value ON numbers (value);
