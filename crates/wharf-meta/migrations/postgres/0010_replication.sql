-- Wharf metadata: ECR replication (see the SQLite migration 0012 for what each table holds).
-- (0008 and 0009 belong to other changes; the runner counts list entries, not file names.)
--
-- Nothing caches these, so no cache-epoch triggers.

CREATE TABLE replication_configs (
    account_id TEXT COLLATE "C" PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    body       TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE replication_statuses (
    repository_id   BIGINT NOT NULL,
    manifest_digest TEXT COLLATE "C" NOT NULL,
    region          TEXT COLLATE "C" NOT NULL,
    registry_id     TEXT COLLATE "C" NOT NULL,
    status          TEXT NOT NULL,
    failure_code    TEXT,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (repository_id, manifest_digest, region, registry_id),
    FOREIGN KEY (repository_id, manifest_digest)
        REFERENCES manifests(repository_id, digest) ON DELETE CASCADE
);
