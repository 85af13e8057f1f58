-- The book's change log (see book::changes): every contact id a directory's book has held
-- since its log began, with the ETag it was last logged with and the versions at which it
-- appeared, last changed and left. Rows of removed contacts are the tombstones.
CREATE TABLE book_entries (
    directory_id  INTEGER NOT NULL REFERENCES directories(id) ON DELETE CASCADE,
    -- ContactId's 64 bits.
    contact_id    INTEGER NOT NULL,
    -- 64 bits of the SHA-256 of the contact's vCard.
    etag          INTEGER NOT NULL,
    added         INTEGER NOT NULL,
    changed       INTEGER NOT NULL,
    -- The version it left the book, and when (unix seconds); NULL while it is in the book.
    removed       INTEGER,
    removed_at    INTEGER,
    PRIMARY KEY (directory_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX book_entries_changed ON book_entries (directory_id, changed);

-- The versions whose book was logged: "since V" is answered for these.
CREATE TABLE book_versions (
    directory_id  INTEGER NOT NULL REFERENCES directories(id) ON DELETE CASCADE,
    version       INTEGER NOT NULL,
    logged_at     INTEGER NOT NULL,
    PRIMARY KEY (directory_id, version)
) WITHOUT ROWID;

-- Values the server keeps for itself, such as the salt that makes ETags opaque.
CREATE TABLE meta (
    name   TEXT PRIMARY KEY,
    value  BLOB NOT NULL
);
