-- Wharf metadata: image scanning and the vulnerability database (see the SQLite migration for
-- what each table holds).
--
-- None of these tables is cached by nodes, so none has cache-epoch triggers: writing scan
-- results or importing advisories never flushes any node's caches.

CREATE TABLE registry_scanning (
    account_id TEXT COLLATE "C" PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    scan_type  TEXT NOT NULL,
    rules      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE image_scans (
    repository_id     BIGINT NOT NULL,
    manifest_digest   TEXT COLLATE "C" NOT NULL,
    status            TEXT NOT NULL,
    description       TEXT,
    scan_type         TEXT NOT NULL,
    requested_at      BIGINT NOT NULL,
    started_at        BIGINT,
    completed_at      BIGINT,
    source_updated_at BIGINT,
    inventory         TEXT,
    findings          TEXT,
    severity_counts   TEXT,
    finding_count     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (repository_id, manifest_digest),
    FOREIGN KEY (repository_id, manifest_digest)
        REFERENCES manifests(repository_id, digest) ON DELETE CASCADE
);

CREATE TABLE image_scan_keys (
    repository_id   BIGINT NOT NULL,
    manifest_digest TEXT COLLATE "C" NOT NULL,
    ecosystem       TEXT COLLATE "C" NOT NULL,
    name            TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (repository_id, manifest_digest, ecosystem, name),
    FOREIGN KEY (repository_id, manifest_digest)
        REFERENCES image_scans(repository_id, manifest_digest) ON DELETE CASCADE
);
CREATE INDEX image_scan_keys_key ON image_scan_keys(ecosystem, name);

CREATE TABLE advisories (
    id         TEXT COLLATE "C" PRIMARY KEY,
    modified   TEXT NOT NULL,
    document   TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);
CREATE INDEX advisories_changed ON advisories(changed_at);

CREATE TABLE advisory_keys (
    ecosystem   TEXT COLLATE "C" NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    advisory_id TEXT COLLATE "C" NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
    PRIMARY KEY (ecosystem, name, advisory_id)
);
CREATE INDEX advisory_keys_advisory ON advisory_keys(advisory_id);

CREATE TABLE vulndb_state (
    id         SMALLINT PRIMARY KEY CHECK (id = 1),
    updated_at BIGINT NOT NULL
);
