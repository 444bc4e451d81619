-- Wharf metadata: replication backfills (StartReplicationBackfill). (0011 and 0012 belong to
-- other changes; the runner counts list entries, not file names.)

-- One backfill of a registry's existing images to one destination. Status: PREPARING (its job
-- has not listed the images yet), IN_PROGRESS, STOPPING, STOPPED, COMPLETE, FAILED.
CREATE TABLE replication_backfills (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    region       TEXT NOT NULL,
    registry_id  TEXT NOT NULL,
    status       TEXT NOT NULL,
    failure_code TEXT,
    started_at   BIGINT NOT NULL,
    ended_at     BIGINT
);
CREATE INDEX replication_backfills_by_account ON replication_backfills (account_id, started_at);

-- The images a backfill replicates, each with its result once its copy ended (status NULL while
-- pending; COMPLETE or FAILED with ECR's failure code).
CREATE TABLE replication_backfill_items (
    backfill_id     TEXT NOT NULL REFERENCES replication_backfills(id) ON DELETE CASCADE,
    repository_name TEXT NOT NULL,
    manifest_digest TEXT NOT NULL,
    image_tag       TEXT,
    status          TEXT,
    failure_code    TEXT,
    PRIMARY KEY (backfill_id, repository_name, manifest_digest)
);
