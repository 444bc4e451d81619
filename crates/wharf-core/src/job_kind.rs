//! The closed set of background job kinds and their payloads, as the durable queue stores them:
//! the kind's name in `job_queue.kind`, and the whole value (name included) as JSON in
//! `job_queue.payload`. Adding a kind is one line in the `job_kinds!` list below (plus its handler
//! in `wharf-jobs`, which the compiler asks for: the runner's dispatch is an exhaustive match).

use serde::{Deserialize, Serialize};

/// Declares `JobKind` from one line per kind: `Variant { fields } => "name"`. The macro keeps
/// the serde name, `as_str` and `NAMES` from ever disagreeing.
macro_rules! job_kinds {
    ($(
        $(#[$doc:meta])*
        $variant:ident $({ $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? })? => $name:literal
    ),* $(,)?) => {
        /// A kind of background job with its payload.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        // Unknown fields are ignored: a payload a newer node wrote with an added optional field
        // still runs here.
        #[serde(tag = "kind")]
        pub enum JobKind {
            $(
                $(#[$doc])*
                #[serde(rename = $name)]
                $variant $({ $($(#[$fdoc])* $field: $ty),* })?,
            )*
        }

        impl JobKind {
            /// Every kind's name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            /// The kind's name, as stored in the queue and shown by `wharf jobs list`.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $(JobKind::$variant { .. } => $name,)*
                }
            }
        }
    };
}

job_kinds! {
    /// One garbage-collection pass.
    Gc => "gc",
    /// Every repository's lifecycle policy applied once.
    Lifecycle => "lifecycle",
    /// Abandoned upload sessions removed.
    UploadPurge => "upload_purge",
    /// One image scanned: layers read, inventory matched, results and SBOMs stored.
    ImageScan { account: String, repository: String, digest: String } => "image_scan",
    /// One scanned image re-matched from its stored inventory after a database import.
    Rescan { account: String, repository: String, digest: String } => "rescan",
    /// Every blob stored before encryption at rest sealed, online.
    SealBlobs => "seal_blobs",
    /// Data keys rewrapped under the newest master key (and, with `kms`, re-encrypted under
    /// their KMS keys).
    RewrapKeys { kms: bool } => "rewrap_keys",
    /// Audit records older than `days` days deleted (`audit_retention_days`).
    AuditPrune { days: u32 } => "audit_prune",
    /// One pushed image copied to one replication destination (another account here, or
    /// another region's Wharf).
    Replicate { account: String, repository: String, digest: String, region: String, registry_id: String } => "replicate",
    /// A replication backfill: the registry's existing images listed, then copied one by one
    /// to its destination (resumes where it stopped when retried).
    ReplicationBackfill { account: String, id: String } => "replication_backfill",
    /// One event POSTed to one webhook: its URL (the secret is looked up in the settings), the
    /// event's id and its exact JSON body.
    Webhook { url: String, event_id: String, body: String } => "webhook",
    /// One pushed image signed with its signing profiles (cosign signatures pushed beside it).
    Sign { account: String, repository: String, digest: String, profile_arns: Vec<String> } => "sign",
}

/// A stored job that does not decode into a `JobKind`.
#[derive(Debug, thiserror::Error)]
pub enum JobDecodeError {
    #[error("unknown job kind {0:?}")]
    UnknownKind(String),
    #[error("bad payload for job kind {kind:?}: {error}")]
    BadPayload {
        kind: String,
        error: serde_json::Error,
    },
    #[error("job of kind {stored:?} carries a {decoded:?} payload")]
    KindMismatch {
        stored: String,
        decoded: &'static str,
    },
}

impl JobKind {
    /// Whether `name` names a kind this build knows.
    pub fn is_known(name: &str) -> bool {
        JobKind::NAMES.contains(&name)
    }

    /// The job `kind` as the queue stores it: its name and its JSON payload.
    pub fn to_payload(&self) -> String {
        // Serializing a derived enum of strings and integers into a String cannot fail; an
        // empty object would be refused on decode, so nothing wrong would ever run.
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }

    /// The queue entry for this job, due now, with the default attempts and no dedupe key.
    pub fn new_job(&self) -> wharf_meta::NewJob {
        wharf_meta::NewJob::new(self.as_str(), self.to_payload())
    }

    /// Decodes a stored job: its `kind` column and `payload`.
    pub fn decode(kind: &str, payload: &str) -> Result<JobKind, JobDecodeError> {
        if !JobKind::is_known(kind) {
            return Err(JobDecodeError::UnknownKind(kind.to_string()));
        }
        let decoded: JobKind =
            serde_json::from_str(payload).map_err(|error| JobDecodeError::BadPayload {
                kind: kind.to_string(),
                error,
            })?;
        if decoded.as_str() != kind {
            return Err(JobDecodeError::KindMismatch {
                stored: kind.to_string(),
                decoded: decoded.as_str(),
            });
        }
        Ok(decoded)
    }
}

impl std::fmt::Display for JobKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_the_queue_form() {
        let check = |kind: JobKind, name: &str, payload: &str| {
            assert_eq!(kind.as_str(), name);
            assert_eq!(kind.to_payload(), payload);
            assert_eq!(JobKind::decode(name, payload).unwrap(), kind);
            let job = kind.new_job();
            assert_eq!((job.kind.as_str(), job.payload.as_str()), (name, payload));
        };
        check(JobKind::Gc, "gc", r#"{"kind":"gc"}"#);
        check(JobKind::Lifecycle, "lifecycle", r#"{"kind":"lifecycle"}"#);
        check(
            JobKind::AuditPrune { days: 90 },
            "audit_prune",
            r#"{"kind":"audit_prune","days":90}"#,
        );
        check(
            JobKind::UploadPurge,
            "upload_purge",
            r#"{"kind":"upload_purge"}"#,
        );
        check(
            JobKind::ImageScan {
                account: "123456789012".into(),
                repository: "team/app".into(),
                digest: "sha256:ab".into(),
            },
            "image_scan",
            r#"{"kind":"image_scan","account":"123456789012","repository":"team/app","digest":"sha256:ab"}"#,
        );
        assert_eq!(
            JobKind::NAMES,
            [
                "gc",
                "lifecycle",
                "upload_purge",
                "image_scan",
                "rescan",
                "seal_blobs",
                "rewrap_keys",
                "audit_prune",
                "replicate",
                "replication_backfill",
                "webhook",
                "sign"
            ]
        );
    }

    #[test]
    fn bad_stored_jobs_do_not_decode() {
        let err = |kind: &str, payload: &str| JobKind::decode(kind, payload).unwrap_err();
        assert!(matches!(err("scan", "{}"), JobDecodeError::UnknownKind(k) if k == "scan"));
        assert!(matches!(
            err("gc", "not json"),
            JobDecodeError::BadPayload { .. }
        ));
        assert!(matches!(err("gc", "{}"), JobDecodeError::BadPayload { .. }));
        assert!(matches!(
            err("gc", r#"{"kind":"lifecycle"}"#),
            JobDecodeError::KindMismatch {
                decoded: "lifecycle",
                ..
            }
        ));
    }
}
