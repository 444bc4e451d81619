-- Wharf metadata: ECR Public (see the SQLite migration 0011 for what each holds).
--
-- Adding a column moves no cache epoch; later changes of `public` are repository updates, which
-- the existing repositories triggers already count. Nothing caches the two new tables.

ALTER TABLE repositories ADD COLUMN public BIGINT NOT NULL DEFAULT 0;

CREATE TABLE public_registries (
    account_id   TEXT COLLATE "C" PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    alias        TEXT COLLATE "C" NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    description  TEXT NOT NULL DEFAULT '',
    logo         BYTEA,
    logo_digest  TEXT COLLATE "C",
    created_at   BIGINT NOT NULL
);

CREATE TABLE repository_catalog_data (
    repository_id BIGINT PRIMARY KEY REFERENCES repositories(id) ON DELETE CASCADE,
    data          TEXT NOT NULL,
    logo          BYTEA,
    logo_digest   TEXT COLLATE "C"
);
CREATE INDEX repository_catalog_data_logo ON repository_catalog_data (logo_digest);
