//! `wharf encryption`: where encryption at rest stands (keys, wraps, blobs still in
//! plaintext), master-key rotation, and running the sealing or rewrap work now (safe while
//! servers run on the database; servers also run it as background jobs).

use crate::config::Settings;
use crate::encryption::KeySource;
use crate::gc::ReportFormat;
use serde_json::json;
use wharf_core::JobKind;

/// Subcommands of `wharf encryption`.
#[derive(Debug, clap::Subcommand)]
pub enum EncryptionCommand {
    /// Show master key versions, data-key wraps per key, and blobs still stored in plaintext.
    Status {
        /// Report as a table or as JSON.
        #[arg(long, value_enum, default_value = "table")]
        format: ReportFormat,
    },
    /// Add a new master key version to the keyring file and queue the rewrap of every data key
    /// under it (blob bytes are not rewritten). Restart servers with the new keyring (they
    /// reload it at start); the old version can be removed once `status` shows no wrap under it.
    RotateMasterKey,
    /// Rewrap data keys now: those under older master key versions, and with `--kms` those
    /// under KMS keys (re-encrypted with each key's current material).
    Rewrap {
        #[arg(long)]
        kms: bool,
    },
    /// Seal every blob still stored in plaintext, now.
    Seal,
}

pub async fn run(settings: Settings, command: EncryptionCommand) -> anyhow::Result<()> {
    if let EncryptionCommand::RotateMasterKey = command {
        let KeySource::File { path, .. } = &settings.encryption.key_source else {
            anyhow::bail!(
                "the master keyring comes from WHARF_MASTER_KEY: add a line `<version> <base64 key>` with the next version there, restart, then run `wharf encryption rewrap`"
            );
        };
        let version = crate::encryption::add_key_version(path)?;
        let registry = crate::open::open_registry(&settings).await?;
        let job = JobKind::RewrapKeys { kms: false }.new_job();
        registry.enqueue_job(&job).await?;
        registry.close().await;
        println!(
            "added master key version {version} to {}; queued the rewrap of data keys under older versions. Restart servers so they wrap new keys with it.",
            path.display()
        );
        return Ok(());
    }
    let registry = crate::open::open_registry(&settings).await?;
    let out = match command {
        EncryptionCommand::Status { format } => {
            let s = registry.encryption_status().await?;
            match format {
                ReportFormat::Json => json!({
                    "sealing": s.sealing,
                    "currentMasterKeyVersion": s.current_master,
                    "masterKeys": s.master_versions.iter().map(|(v, f)| json!({"version": v, "fingerprint": f})).collect::<Vec<_>>(),
                    "unsealedBlobs": s.unsealed_blobs,
                    "wraps": s.wraps.iter().map(|(k, n)| json!({"key": k, "dataKeys": n})).collect::<Vec<_>>(),
                })
                .to_string(),
                ReportFormat::Table => {
                    let mut t = format!(
                        "sealing new blobs: {}\ncurrent master key version: {}\nblobs still in plaintext: {}\n\nMASTER KEY  FINGERPRINT\n",
                        if s.sealing { "yes" } else { "NO (encrypt_blobs = false)" },
                        s.current_master.map_or("-".into(), |v| v.to_string()),
                        s.unsealed_blobs
                    );
                    for (v, f) in &s.master_versions {
                        t.push_str(&format!("{v:<11} {f}\n"));
                    }
                    t.push_str("\nWRAPPED UNDER                                       DATA KEYS\n");
                    for (k, n) in &s.wraps {
                        t.push_str(&format!("{k:<51} {n}\n"));
                    }
                    t
                }
            }
        }
        EncryptionCommand::Rewrap { kms } => {
            let r = registry.rewrap_data_keys(kms).await?;
            format!(
                "rewrapped {} data keys under the current master key and {} under KMS keys; {} skipped",
                r.master, r.kms, r.skipped
            )
        }
        EncryptionCommand::Seal => {
            let r = registry.seal_legacy_blobs().await?;
            format!(
                "sealed {} blobs ({} bytes); {} skipped",
                r.sealed, r.bytes, r.skipped
            )
        }
        EncryptionCommand::RotateMasterKey => unreachable!("handled above"),
    };
    registry.close().await;
    println!("{}", out.trim_end());
    Ok(())
}
