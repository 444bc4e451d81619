-- Wharf metadata, version 4: background jobs claimed across nodes.
--
-- Every node runs the interval jobs (garbage collection, lifecycle, upload purge) on its own
-- timer; a job runs only on the node that moves its `last_started_at` forward first, so each
-- runs once per interval across the cluster.
CREATE TABLE jobs (
    name            TEXT PRIMARY KEY,
    last_started_at INTEGER NOT NULL,
    node            TEXT NOT NULL
) WITHOUT ROWID;
