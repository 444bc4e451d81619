-- Wharf metadata, version 5: the durable job queue.
--
-- A job is a unit of background work (a scan, a garbage-collection pass, ...) that any node may
-- run. Workers claim due jobs by moving them to `running` with a lease (`locked_by`,
-- `locked_until`); a job whose lease ran out (its node died) is claimable again. A failed attempt
-- goes back to `failed` with a later `run_at` until `max_attempts` is spent, then to `dead`.
--
-- States: queued (waiting for run_at), running (leased), failed (waiting to retry at run_at),
-- done and dead (finished, kept for inspection until pruned).
CREATE TABLE job_queue (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    dedupe_key   TEXT,
    state        TEXT NOT NULL
                 CHECK (state IN ('queued', 'running', 'failed', 'done', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    run_at       INTEGER NOT NULL,
    locked_by    TEXT,
    locked_until INTEGER,
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    finished_at  INTEGER
);

-- At most one unfinished job per dedupe key: enqueueing a second is a no-op.
CREATE UNIQUE INDEX job_queue_dedupe ON job_queue (dedupe_key)
    WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'running', 'failed');

-- Claims look for due jobs by time; finished jobs stay out of the index.
CREATE INDEX job_queue_due ON job_queue (run_at, id)
    WHERE state IN ('queued', 'running', 'failed');

-- Listing and pruning by state.
CREATE INDEX job_queue_state ON job_queue (state, kind);
