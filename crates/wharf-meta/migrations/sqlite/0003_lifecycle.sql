-- Wharf metadata, version 3: lifecycle policies and the archive storage class.
--
-- A repository holds at most one lifecycle policy (the exact text the client sent, already
-- validated) and when it was last evaluated. A manifest is ACTIVE (pullable) or ARCHIVED (listed
-- and described, not pullable until restored); `archived_at` and `activated_at` are ECR's
-- `lastArchivedAt` and `lastActivatedAt`.
ALTER TABLE repositories ADD COLUMN lifecycle_policy TEXT;
ALTER TABLE repositories ADD COLUMN lifecycle_evaluated_at INTEGER;
ALTER TABLE manifests ADD COLUMN image_status TEXT NOT NULL DEFAULT 'ACTIVE';
ALTER TABLE manifests ADD COLUMN archived_at INTEGER;
ALTER TABLE manifests ADD COLUMN activated_at INTEGER;

-- The last lifecycle policy preview of a repository: the policy text previewed, its status and
-- the results as the JSON array GetLifecyclePolicyPreview pages through.
CREATE TABLE lifecycle_previews (
    repository_id INTEGER PRIMARY KEY REFERENCES repositories(id) ON DELETE CASCADE,
    policy_text   TEXT NOT NULL,
    status        TEXT NOT NULL,
    started_at    INTEGER NOT NULL,
    results       TEXT NOT NULL
);
