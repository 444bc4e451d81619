-- Wharf metadata: encryption at rest.
--
-- Every blob stored since this version is sealed under a data key (DEK) of its own upload; the
-- DEK is kept only wrapped, under one or more key references. None of this is cached by nodes,
-- so none of it moves the cache epoch (PostgreSQL).

-- Whether the blob's stored bytes are sealed. Rows from before this version are legacy plaintext
-- (0) until a re-encryption job seals them.
ALTER TABLE blobs ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;
-- The unsealed blobs, in digest order, for the re-encryption job.
CREATE INDEX blobs_unsealed ON blobs(digest) WHERE sealed = 0;

-- The DEK an upload seals under (32 lowercase hex), NULL for a plaintext upload.
ALTER TABLE uploads ADD COLUMN dek_id TEXT;
CREATE INDEX uploads_dek ON uploads(dek_id) WHERE dek_id IS NOT NULL;

-- Wrapped DEKs. `key_ref` is `master:<version>` (wrapped: AES-256-GCM under that master key
-- version) or `kms:<key ARN>` (wrapped: the KMS CiphertextBlob); one DEK may be wrapped under
-- several refs. `digest` binds the DEK to the blob it encrypts, set when the blob is recorded: a
-- reader refuses a file whose DEK is bound to another digest.
CREATE TABLE data_keys (
    dek_id     TEXT NOT NULL,
    key_ref    TEXT NOT NULL,
    wrapped    BLOB NOT NULL,
    digest     TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (dek_id, key_ref)
) WITHOUT ROWID;
CREATE INDEX data_keys_key_ref ON data_keys(key_ref, dek_id);
CREATE INDEX data_keys_digest ON data_keys(digest);

-- The master key versions this installation has used, by fingerprint (never the key): a server
-- started with a keyring that lacks one, or holds another key under its version, refuses to run.
CREATE TABLE master_keys (
    version     INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
