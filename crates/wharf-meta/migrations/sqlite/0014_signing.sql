-- Wharf metadata: managed signing. (0013 belongs to another change; the runner counts list
-- entries, not file names.)

-- Signing profiles: Wharf-held ECDSA P-256 keys named by Signer-style ARNs
-- (arn:aws:signer:<region>:<account>:/signing-profiles/<name>). `private_key` is the PKCS#8
-- document sealed with AES-256-GCM under a profile key that `key_wrap` holds wrapped by the master
-- keyring; when no keyring is configured `key_wrap` is NULL and `private_key` is the PKCS#8 itself.
-- `public_key` is the SubjectPublicKeyInfo DER.
CREATE TABLE signing_profiles (
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    private_key BLOB NOT NULL,
    key_wrap    BLOB,
    public_key  BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
) WITHOUT ROWID;

-- The signing configuration of a registry (account): ECR's PutSigningConfiguration body, exactly
-- as validated (`{"rules":[...]}`). Nothing caches it: a push reads it.
CREATE TABLE signing_configs (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    body       TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Where each pushed image's signing stands per signing profile (DescribeImageSigningStatus):
-- IN_PROGRESS written by the push transaction that queued the sign job, then COMPLETE or FAILED
-- by the job. Goes with the manifest.
CREATE TABLE signing_statuses (
    repository_id   INTEGER NOT NULL,
    manifest_digest TEXT NOT NULL,
    profile_arn     TEXT NOT NULL,
    status          TEXT NOT NULL,
    failure_code    TEXT,
    failure_reason  TEXT,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (repository_id, manifest_digest, profile_arn),
    FOREIGN KEY (repository_id, manifest_digest)
        REFERENCES manifests(repository_id, digest) ON DELETE CASCADE
);
