-- Wharf metadata: pull-through cache rules and the upstream credentials they name.

-- CreatePullThroughCacheRule: per registry (account), one rule per ECR repository prefix ('ROOT'
-- covers every repository no other rule covers). `upstream_url` as given; `upstream_prefix`
-- 'ROOT' when the upstream repository names are the cached ones without the ECR prefix.
CREATE TABLE pull_through_rules (
    account_id        TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    ecr_prefix        TEXT NOT NULL,
    upstream_url      TEXT NOT NULL,
    upstream_registry TEXT,
    upstream_prefix   TEXT NOT NULL,
    credential_arn    TEXT,
    custom_role_arn   TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    PRIMARY KEY (account_id, ecr_prefix)
) WITHOUT ROWID;

-- Upstream credentials, named as Secrets Manager names them (`ecr-pullthroughcache/<name>`):
-- `secret` is the JSON {"username","accessToken"} sealed with AES-256-GCM under a key that
-- `key_wrap` holds wrapped by the master keyring (NULL wrap: no keyring, stored as is).
CREATE TABLE upstream_secrets (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    secret     BLOB NOT NULL,
    key_wrap   BLOB,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
) WITHOUT ROWID;
