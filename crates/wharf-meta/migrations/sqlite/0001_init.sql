-- Wharf metadata, version 1: accounts and identities, repositories, blobs, manifests, references,
-- tags, uploads. Digests are stored as their text form (algorithm:hex); times as Unix seconds.

-- Server-wide values: the token signing key, the default account.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Accounts (12-digit ids); each account is one registry.
CREATE TABLE accounts (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (account_id, name)
);

-- Access keys: the secret is needed in clear to verify SigV4 HMACs.
CREATE TABLE access_keys (
    id         TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    secret     TEXT NOT NULL,
    active     INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Identity policies attached to users, by name.
CREATE TABLE user_policies (
    user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (user_id, name)
) WITHOUT ROWID;

-- Registry-level configuration per account.
CREATE TABLE registry_policies (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    document   TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE account_settings (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (account_id, name)
) WITHOUT ROWID;

-- Repository creation templates; `body` holds the template's settings as JSON.
CREATE TABLE creation_templates (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    prefix     TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, prefix)
) WITHOUT ROWID;

CREATE TABLE repositories (
    id                    INTEGER PRIMARY KEY,
    account_id            TEXT NOT NULL REFERENCES accounts(id),
    name                  TEXT NOT NULL,
    created_at            INTEGER NOT NULL,
    image_tag_mutability  TEXT NOT NULL DEFAULT 'MUTABLE',
    mutability_exclusions TEXT,
    scan_on_push          INTEGER NOT NULL DEFAULT 0,
    encryption_type       TEXT NOT NULL DEFAULT 'AES256',
    kms_key               TEXT,
    policy                TEXT,
    UNIQUE (account_id, name)
);

CREATE TABLE repository_tags (
    repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (repository_id, key)
) WITHOUT ROWID;

-- Every blob whose bytes are durable in the blob store. Shared by all repositories.
CREATE TABLE blobs (
    digest      TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- Which repositories may serve a blob (uploaded or mounted there).
CREATE TABLE repository_blobs (
    repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    digest        TEXT NOT NULL REFERENCES blobs(digest),
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (repository_id, digest)
) WITHOUT ROWID;
CREATE INDEX repository_blobs_digest ON repository_blobs(digest);

-- Manifests with their exact pushed bytes.
CREATE TABLE manifests (
    repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    digest        TEXT NOT NULL,
    media_type    TEXT NOT NULL,
    artifact_type TEXT,
    subject       TEXT,
    annotations   TEXT,
    size          INTEGER NOT NULL,
    -- What ECR reports as imageSizeInBytes: the layers' sizes, or the largest child of an index.
    image_size    INTEGER NOT NULL DEFAULT 0,
    body          BLOB NOT NULL,
    pushed_at     INTEGER NOT NULL,
    last_pulled_at INTEGER,
    PRIMARY KEY (repository_id, digest)
);
CREATE INDEX manifests_subject ON manifests(repository_id, subject) WHERE subject IS NOT NULL;

-- Blobs a manifest references (config and layers): the reference counts garbage collection reads.
CREATE TABLE manifest_blobs (
    repository_id   INTEGER NOT NULL,
    manifest_digest TEXT NOT NULL,
    blob_digest     TEXT NOT NULL,
    PRIMARY KEY (repository_id, manifest_digest, blob_digest),
    FOREIGN KEY (repository_id, manifest_digest) REFERENCES manifests(repository_id, digest) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX manifest_blobs_blob ON manifest_blobs(blob_digest);

-- Child manifests an index lists.
CREATE TABLE manifest_children (
    repository_id INTEGER NOT NULL,
    parent_digest TEXT NOT NULL,
    child_digest  TEXT NOT NULL,
    PRIMARY KEY (repository_id, parent_digest, child_digest),
    FOREIGN KEY (repository_id, parent_digest) REFERENCES manifests(repository_id, digest) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX manifest_children_child ON manifest_children(repository_id, child_digest);

CREATE TABLE tags (
    repository_id INTEGER NOT NULL,
    name          TEXT NOT NULL,
    digest        TEXT NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (repository_id, name),
    FOREIGN KEY (repository_id, digest) REFERENCES manifests(repository_id, digest) ON DELETE CASCADE
) WITHOUT ROWID;

-- Uploads in progress; the bytes live in the blob store's scratch space under the same id.
CREATE TABLE uploads (
    id            TEXT PRIMARY KEY,
    repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    size          INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) WITHOUT ROWID;
