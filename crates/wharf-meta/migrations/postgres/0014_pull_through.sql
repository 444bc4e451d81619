-- Wharf metadata: pull-through cache rules and upstream credentials (see the SQLite migration
-- 0016 for what each table holds). Nothing caches them across nodes, so no cache-epoch triggers.

CREATE TABLE pull_through_rules (
    account_id        TEXT COLLATE "C" NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    ecr_prefix        TEXT COLLATE "C" NOT NULL,
    upstream_url      TEXT NOT NULL,
    upstream_registry TEXT,
    upstream_prefix   TEXT NOT NULL,
    credential_arn    TEXT,
    custom_role_arn   TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (account_id, ecr_prefix)
);

CREATE TABLE upstream_secrets (
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT COLLATE "C" NOT NULL,
    secret     BYTEA NOT NULL,
    key_wrap   BYTEA,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, name)
);
