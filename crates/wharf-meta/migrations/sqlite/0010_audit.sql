-- Wharf metadata: the audit trail, CloudTrail-shaped records of every mutating call on the ECR
-- and /v2/ surfaces and of every denied request (wharf-meta/src/audit.rs writes and reads them).
-- Secrets never reach this table: request parameters are redacted before they are recorded.
-- Nothing caches it, so no cache-epoch triggers; records are pruned by the audit_prune job.
CREATE TABLE audit_events (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id           TEXT NOT NULL,
    -- Unix milliseconds.
    event_time         INTEGER NOT NULL,
    event_name         TEXT NOT NULL,
    event_source       TEXT NOT NULL,
    account_id         TEXT,
    user_arn           TEXT,
    access_key_id      TEXT,
    source_ip          TEXT,
    user_agent         TEXT,
    request_id         TEXT,
    -- JSON documents, already redacted.
    request_parameters TEXT,
    response_elements  TEXT,
    error_code         TEXT,
    error_message      TEXT
);

CREATE INDEX audit_events_time ON audit_events (event_time);
CREATE INDEX audit_events_name ON audit_events (event_name, event_time);
