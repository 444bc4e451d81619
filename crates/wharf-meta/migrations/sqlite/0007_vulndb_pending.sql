-- Lookup keys whose advisories an import wrote (new, changed, or dropped by a changed
-- advisory) and whose images continuous scanning has not yet been asked to rescan. Written in
-- the same transaction as each import batch, so an import that fails partway still leaves them
-- for the next import to act on.
CREATE TABLE vulndb_pending_keys (
    ecosystem TEXT NOT NULL,
    name      TEXT NOT NULL,
    PRIMARY KEY (ecosystem, name)
) WITHOUT ROWID;
