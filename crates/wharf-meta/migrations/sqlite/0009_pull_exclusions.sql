-- Wharf metadata: ECR's pull time update exclusions, the part sizes of ECR layer uploads, and
-- imageSizeInBytes counting the config blob. (0008 belongs to another change; the runner counts
-- list entries, not file names.)

-- Principals whose pulls leave lastRecordedPullTime unchanged, per registry (account): ECR's
-- Register/Deregister/ListPullTimeUpdateExclusions. Nothing caches this table.
CREATE TABLE pull_time_update_exclusions (
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    principal_arn TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (account_id, principal_arn)
) WITHOUT ROWID;

-- The parts of an upload sent with ECR's UploadLayerPart: the size of the last one, and the
-- smallest of those before it (ECR requires every part but the last to be at least 5 MiB, and
-- says so at CompleteLayerUpload). NULL while no such part was sent; /v2/ chunks leave them alone.
ALTER TABLE uploads ADD COLUMN last_part_size INTEGER;
ALTER TABLE uploads ADD COLUMN smallest_earlier_part INTEGER;

-- imageSizeInBytes is the layers plus the config blob (it was the layers alone): add each image
-- manifest's config size, then size every index again as its largest child. The body is read as
-- text: SQLite takes a BLOB argument of the JSON functions for JSONB.
UPDATE manifests
SET image_size = image_size + json_extract(CAST(body AS TEXT), '$.config.size')
WHERE json_valid(CAST(body AS TEXT))
  AND json_type(CAST(body AS TEXT), '$.config.size') = 'integer';

UPDATE manifests
SET image_size = (
    SELECT COALESCE(MAX(c.image_size), 0)
    FROM manifest_children mc
    JOIN manifests c ON c.repository_id = mc.repository_id AND c.digest = mc.child_digest
    WHERE mc.repository_id = manifests.repository_id AND mc.parent_digest = manifests.digest)
WHERE EXISTS (
    SELECT 1 FROM manifest_children mc
    WHERE mc.repository_id = manifests.repository_id AND mc.parent_digest = manifests.digest);
