-- Wharf metadata: encryption at rest (see the SQLite migration 0008 for what each column holds).
--
-- None of this is cached by nodes, so none of it has cache-epoch triggers: recording wrapped
-- keys, sealing blobs or rewrapping never flushes any node's caches.

ALTER TABLE blobs ADD COLUMN sealed BIGINT NOT NULL DEFAULT 0;
CREATE INDEX blobs_unsealed ON blobs(digest) WHERE sealed = 0;

ALTER TABLE uploads ADD COLUMN dek_id TEXT COLLATE "C";
CREATE INDEX uploads_dek ON uploads(dek_id) WHERE dek_id IS NOT NULL;

CREATE TABLE data_keys (
    dek_id     TEXT COLLATE "C" NOT NULL,
    key_ref    TEXT COLLATE "C" NOT NULL,
    wrapped    BYTEA NOT NULL,
    digest     TEXT COLLATE "C",
    created_at BIGINT NOT NULL,
    PRIMARY KEY (dek_id, key_ref)
);
CREATE INDEX data_keys_key_ref ON data_keys(key_ref, dek_id);
CREATE INDEX data_keys_digest ON data_keys(digest);

CREATE TABLE master_keys (
    version     BIGINT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
