-- Quotas and replacements that never hold the writer for long (issue 11).

-- What each source holds, kept with every replacement, so a directory's quota is checked
-- without counting its contacts.
ALTER TABLE sources ADD COLUMN contact_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0;

-- A replacement writes its contacts as a new generation, in chunks of short transactions,
-- then makes it the source's `generation` in one small one; readers see only the rows of
-- the current generation, so they get the old book or the new one, never a mix. The old
-- rows are deleted afterwards, again in chunks. `last_generation` hands out generations.
ALTER TABLE sources ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN last_generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
CREATE INDEX contacts_by_generation ON contacts (source_id, generation);

UPDATE sources SET
    contact_count = (SELECT count(*) FROM contacts c WHERE c.source_id = sources.id),
    stored_bytes =
        (SELECT coalesce(sum(length(CAST(external_id AS BLOB)) + length(CAST(display_name AS BLOB))
                 + length(CAST(given_name AS BLOB)) + length(CAST(family_name AS BLOB))
                 + length(CAST(company AS BLOB)) + length(CAST(department AS BLOB))
                 + length(CAST(position AS BLOB)) + length(CAST(email AS BLOB))
                 + length(CAST(group_name AS BLOB))), 0)
           FROM contacts c WHERE c.source_id = sources.id)
      + (SELECT coalesce(sum(length(CAST(n.type AS BLOB)) + length(CAST(n.value AS BLOB))), 0)
           FROM numbers n JOIN contacts c ON n.contact_id = c.id WHERE c.source_id = sources.id);
