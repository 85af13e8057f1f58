-- Keys with scopes. Every key that opens a directory (its directory key, and the read and
-- push keys made for phones and scripts) is stored only as HMAC-SHA256 under the server's
-- secret key (see secret::Keyring) and looked up by that hash.
CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    directory_id  INTEGER NOT NULL REFERENCES directories(id) ON DELETE CASCADE,
    hash          BLOB NOT NULL UNIQUE,
    scope         TEXT NOT NULL CHECK (scope IN ('directory', 'push', 'read')),
    -- The first four characters, which listings and logs show in place of the key.
    hint          TEXT NOT NULL,
    label         TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    -- Unix seconds, to the minute; NULL = never used.
    last_used     INTEGER
);
CREATE INDEX api_keys_by_directory ON api_keys (directory_id, scope);
CREATE UNIQUE INDEX one_directory_key ON api_keys (directory_id) WHERE scope = 'directory';

-- From now on `directories.key` holds the directory key sealed with the secret key
-- (`sealed:v1:…`), never the key itself: the scheduler and `phonedir directory list` need it
-- back. Store::open moves existing keys over, since hashing and sealing need the secret key,
-- which SQL does not have. Nothing may look a directory up by this column.

-- What the server must know about itself: `key_check` tells whether the secret key in use is
-- the one this database was written with.
CREATE TABLE server_meta (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

-- Keys that were revoked, or whose directory was deleted, by hash: such a key never opens or
-- names a directory again. Else whoever holds a leaked read key could, after its revocation,
-- push to it, open registration would make it a new directory, and the phones still set up
-- with it would show that stranger's book.
CREATE TABLE retired_keys (
    hash        BLOB PRIMARY KEY,
    retired_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) WITHOUT ROWID;
