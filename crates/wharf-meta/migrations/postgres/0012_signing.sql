-- Wharf metadata: managed signing (see the SQLite migration 0014 for what each table holds).
-- (0011 belongs to another change; the runner counts list entries, not file names.)
--
-- Nothing caches these, so no cache-epoch triggers.

CREATE TABLE signing_profiles (
    account_id  TEXT COLLATE "C" NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT COLLATE "C" NOT NULL,
    private_key BYTEA NOT NULL,
    key_wrap    BYTEA,
    public_key  BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, name)
);

CREATE TABLE signing_configs (
    account_id TEXT COLLATE "C" PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    body       TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE signing_statuses (
    repository_id   BIGINT NOT NULL,
    manifest_digest TEXT COLLATE "C" NOT NULL,
    profile_arn     TEXT COLLATE "C" NOT NULL,
    status          TEXT NOT NULL,
    failure_code    TEXT,
    failure_reason  TEXT,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (repository_id, manifest_digest, profile_arn),
    FOREIGN KEY (repository_id, manifest_digest)
        REFERENCES manifests(repository_id, digest) ON DELETE CASCADE
);
