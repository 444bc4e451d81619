-- Wharf metadata: ECR Public.
--
-- A public repository is an ordinary repository with the `public` marker: same images, tags,
-- policies and resource tags, listed by the ECR Public API and pullable without credentials.
ALTER TABLE repositories ADD COLUMN public INTEGER NOT NULL DEFAULT 0;

-- Each account's public registry: its alias (the first path segment of /v2/<alias>/<name>,
-- unique across accounts) and the registry catalog data. Created on first use with the default
-- alias derived from the account. Nothing caches this table.
CREATE TABLE public_registries (
    account_id   TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    alias        TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    description  TEXT NOT NULL DEFAULT '',
    logo         BLOB,
    logo_digest  TEXT,
    created_at   INTEGER NOT NULL
);

-- The catalog data of a public repository: the text fields as one JSON object (description,
-- aboutText, usageText, architectures, operatingSystems), and the logo image's bytes with their
-- sha256 (logoUrl names the digest). Goes with the repository.
CREATE TABLE repository_catalog_data (
    repository_id INTEGER PRIMARY KEY REFERENCES repositories(id) ON DELETE CASCADE,
    data          TEXT NOT NULL,
    logo          BLOB,
    logo_digest   TEXT
);
CREATE INDEX repository_catalog_data_logo ON repository_catalog_data (logo_digest);
