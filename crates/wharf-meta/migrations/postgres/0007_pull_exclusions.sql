-- Wharf metadata: ECR's pull time update exclusions, the part sizes of ECR layer uploads, and
-- imageSizeInBytes counting the config blob (see the SQLite migration 0009 for what each holds).
-- (0006 belongs to another change; the runner counts list entries, not file names.)
--
-- Nothing caches these, so no cache-epoch triggers: an exclusion is read at each recorded pull.

CREATE TABLE pull_time_update_exclusions (
    account_id    TEXT COLLATE "C" NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    principal_arn TEXT COLLATE "C" NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (account_id, principal_arn)
);

ALTER TABLE uploads ADD COLUMN last_part_size BIGINT;
ALTER TABLE uploads ADD COLUMN smallest_earlier_part BIGINT;

UPDATE manifests
SET image_size = image_size + ((convert_from(body, 'UTF8')::jsonb -> 'config' ->> 'size')::numeric)::bigint
WHERE jsonb_typeof(convert_from(body, 'UTF8')::jsonb -> 'config' -> 'size') = 'number';

UPDATE manifests AS p
SET image_size = (
    SELECT COALESCE(MAX(c.image_size), 0)
    FROM manifest_children mc
    JOIN manifests c ON c.repository_id = mc.repository_id AND c.digest = mc.child_digest
    WHERE mc.repository_id = p.repository_id AND mc.parent_digest = p.digest)
WHERE EXISTS (
    SELECT 1 FROM manifest_children mc
    WHERE mc.repository_id = p.repository_id AND mc.parent_digest = p.digest);
