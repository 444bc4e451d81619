-- Wharf metadata: image scanning and the vulnerability database.
--
-- None of these tables is cached by nodes, so none moves the cache epoch (PostgreSQL).

-- An account's registry scanning configuration: BASIC or ENHANCED, and its rules as the JSON
-- array wharf-core validated (at most two rules of frequency and repository filters).
CREATE TABLE registry_scanning (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    scan_type  TEXT NOT NULL,
    rules      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- The last scan of an image. `status` is ECR's ScanStatus; `inventory` is the package inventory
-- as JSON (wharf_scan::Inventory), kept so that a rescan after a database import re-matches
-- without reading layers again; `findings` the JSON array of findings in report order;
-- `severity_counts` a JSON object of severity → count. Goes with its manifest.
CREATE TABLE image_scans (
    repository_id     INTEGER NOT NULL,
    manifest_digest   TEXT NOT NULL,
    status            TEXT NOT NULL,
    description       TEXT,
    scan_type         TEXT NOT NULL,
    requested_at      INTEGER NOT NULL,
    started_at        INTEGER,
    completed_at      INTEGER,
    source_updated_at INTEGER,
    inventory         TEXT,
    findings          TEXT,
    severity_counts   TEXT,
    finding_count     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (repository_id, manifest_digest),
    FOREIGN KEY (repository_id, manifest_digest)
        REFERENCES manifests(repository_id, digest) ON DELETE CASCADE
);

-- The advisory lookup keys (OSV ecosystem, package name) of a scanned image's packages: an
-- import that touches one of them makes the image due for a rescan.
CREATE TABLE image_scan_keys (
    repository_id   INTEGER NOT NULL,
    manifest_digest TEXT NOT NULL,
    ecosystem       TEXT NOT NULL,
    name            TEXT NOT NULL,
    PRIMARY KEY (repository_id, manifest_digest, ecosystem, name),
    FOREIGN KEY (repository_id, manifest_digest)
        REFERENCES image_scans(repository_id, manifest_digest) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX image_scan_keys_key ON image_scan_keys(ecosystem, name);

-- OSV advisories, the documents exactly as imported. `changed_at` is the import that last
-- created or changed the record.
CREATE TABLE advisories (
    id         TEXT PRIMARY KEY,
    modified   TEXT NOT NULL,
    document   TEXT NOT NULL,
    changed_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX advisories_changed ON advisories(changed_at);

-- The (ecosystem, package name) pairs each advisory is filed under.
CREATE TABLE advisory_keys (
    ecosystem   TEXT NOT NULL,
    name        TEXT NOT NULL,
    advisory_id TEXT NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
    PRIMARY KEY (ecosystem, name, advisory_id)
) WITHOUT ROWID;
CREATE INDEX advisory_keys_advisory ON advisory_keys(advisory_id);

-- When the vulnerability database last changed (ECR's vulnerabilitySourceUpdatedAt).
CREATE TABLE vulndb_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    updated_at INTEGER NOT NULL
);
