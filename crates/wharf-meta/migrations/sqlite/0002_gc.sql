-- Wharf metadata, version 2: online garbage collection.
--
-- `touched_at` is when a blob last gained or lost a reason to exist: it was recorded (upload,
-- mount) or a manifest referencing it went away. A blob no manifest references becomes garbage
-- once `touched_at` is older than the grace period. `gc_mark` is the token of the collection pass
-- that is about to remove the blob; recording the blob again clears it (revives the blob), and the
-- pass deletes the row only if its own token is still there.
ALTER TABLE blobs ADD COLUMN touched_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE blobs ADD COLUMN gc_mark INTEGER;
ALTER TABLE blobs ADD COLUMN gc_marked_at INTEGER;
UPDATE blobs SET touched_at = max(created_at, coalesce(
    (SELECT max(rb.created_at) FROM repository_blobs rb WHERE rb.digest = blobs.digest), 0));
CREATE INDEX blobs_touched ON blobs(touched_at);

-- Losing a reference restarts the grace period and revives a blob a pass has marked (it was
-- referenced again meanwhile). Also fires for the cascade from manifests (and so from
-- repositories), which is how every manifest deletion reaches this table.
CREATE TRIGGER manifest_blobs_touch AFTER DELETE ON manifest_blobs
BEGIN
    UPDATE blobs SET touched_at = max(touched_at, CAST(strftime('%s', 'now') AS INTEGER)),
        gc_mark = NULL, gc_marked_at = NULL
    WHERE digest = OLD.blob_digest;
END;

-- At most one collection pass at a time across processes (the server's interval job and
-- `wharf gc`): a lease that expires, so a crashed pass does not block the next one.
CREATE TABLE gc_lease (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    holder     INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
