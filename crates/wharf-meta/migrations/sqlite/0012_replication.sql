-- Wharf metadata: ECR replication. (0010 and 0011 belong to other changes; the runner counts list
-- entries, not file names.)

-- The replication configuration of a registry (account): ECR's PutReplicationConfiguration body,
-- exactly as validated (`{"rules":[...]}`). Nothing caches it: a push reads it.
CREATE TABLE replication_configs (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    body       TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Where each pushed image stands per destination (DescribeImageReplicationStatus): IN_PROGRESS
-- written by the push transaction that queued the replicate job, then COMPLETE or FAILED (with
-- ECR's failure code) by the job. Goes with the manifest.
CREATE TABLE replication_statuses (
    repository_id   INTEGER NOT NULL,
    manifest_digest TEXT NOT NULL,
    region          TEXT NOT NULL,
    registry_id     TEXT NOT NULL,
    status          TEXT NOT NULL,
    failure_code    TEXT,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (repository_id, manifest_digest, region, registry_id),
    FOREIGN KEY (repository_id, manifest_digest)
        REFERENCES manifests(repository_id, digest) ON DELETE CASCADE
);
