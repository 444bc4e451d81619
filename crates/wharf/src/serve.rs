//! `wharf serve`: open the stores under the data directory, start background jobs, serve HTTP, and
//! shut down gracefully on SIGINT/SIGTERM.

use crate::config::Settings;
use anyhow::Context;
use std::time::Duration;
use tokio::net::TcpListener;
use wharf_api::{AppState, EcrSettings};
use wharf_core::{Identity, Registry};
use wharf_meta::MetaStore;

/// Opens the blob and metadata stores the settings name (by default both under the data
/// directory), checking that the blob store answers.
pub async fn open_registry(settings: &Settings) -> anyhow::Result<(Registry, MetaStore)> {
    let dir = &settings.data_dir;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating data directory {}", dir.display()))?;
    let blobs = crate::storage::open(&settings.blob_store, dir)?;
    // Fail at start, not at the first push, when the store is unreachable or refuses the keys.
    blobs
        .stat(&wharf_oci::Digest::sha256(b""))
        .await
        .context("reaching the blob store")?;
    let meta = crate::metadata::open(&settings.metadata, dir).await?;
    check_owner(blobs.as_ref(), &meta).await?;
    let registry = Registry::new(blobs, meta.clone()).with_region(&settings.region);
    Ok((registry, meta))
}

/// Pairs the blob store with the metadata database: the first start marks the store with the
/// database's id; later starts refuse a store another database marked. A node pointed at a shared
/// bucket but (by a missing `metadata.url`) at an empty embedded database would otherwise see
/// every blob as unreferenced, and its garbage collection would delete them all.
async fn check_owner(blobs: &dyn wharf_blob::BlobStore, meta: &MetaStore) -> anyhow::Result<()> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let fresh: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let id = meta.init_setting("store_id", &fresh).await?;
    match blobs
        .owner()
        .await
        .context("reading the blob store's owner mark")?
    {
        None => blobs
            .set_owner(&id)
            .await
            .context("marking the blob store with the metadata database's id")?,
        Some(owner) if owner == id => {}
        Some(owner) => anyhow::bail!(
            "the blob store belongs to another metadata database (the store is marked {owner}, \
             this database is {id}); refusing to start, since garbage collection here would \
             delete that installation's blobs. Point metadata.url (WHARF_METADATA_URL) at the \
             database the store was used with, or use an empty bucket or prefix"
        ),
    }
    Ok(())
}

/// Creates the administrator on first start and writes its keys, in the AWS shared-credentials
/// format, to `<data-dir>/credentials` (mode 0600).
pub async fn bootstrap_credentials(settings: &Settings, identity: &Identity) -> anyhow::Result<()> {
    let Some(key) = identity.bootstrap_admin().await? else {
        return Ok(());
    };
    let path = settings.data_dir.join("credentials");
    let text = format!(
        "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        key.id, key.secret
    );
    write_private(&path, &text).with_context(|| format!("writing {}", path.display()))?;
    tracing::info!(
        path = %path.display(),
        access_key = %key.id,
        "created the administrator; its access key is in the credentials file (AWS_SHARED_CREDENTIALS_FILE)"
    );
    Ok(())
}

/// Writes a file only its owner can read.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let (registry, meta) = open_registry(&settings).await?;
    let identity = Identity::open(meta.clone()).await?;
    bootstrap_credentials(&settings, &identity).await?;
    let listener = TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("binding {}", settings.listen))?;
    tracing::info!(
        listen = %listener.local_addr()?,
        data_dir = %settings.data_dir.display(),
        blob_store = ?settings.blob_store,
        metadata = ?settings.metadata,
        "wharf is serving the OCI and ECR APIs"
    );

    let purge = tokio::spawn(purge_uploads(
        registry.clone(),
        settings.upload_max_age_secs,
        settings.upload_purge_interval_secs,
    ));
    let gc = tokio::spawn(crate::gc::interval(registry.clone(), settings.clone()));
    let lifecycle = tokio::spawn(crate::lifecycle::interval(
        registry.clone(),
        settings.clone(),
    ));
    let ecr = EcrSettings {
        region: settings.region.clone(),
        public_host: settings.public_host.clone(),
        public_scheme: settings.public_scheme.clone(),
        registry_domain: settings.registry_domain.clone(),
    };
    let app = wharf_api::app(AppState {
        registry,
        identity,
        ecr,
        proxies: wharf_api::client::TrustedProxies::new(settings.trusted_proxies.clone()),
    })
    .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown_signal().await;
        let _ = stopping_tx.send(());
    });
    let grace = Duration::from_secs(settings.shutdown_timeout_secs);
    tokio::select! {
        r = server => r.context("serving HTTP")?,
        _ = async { if stopping_rx.await.is_ok() { tokio::time::sleep(grace).await } else { std::future::pending::<()>().await } } => {
            tracing::warn!(seconds = grace.as_secs(), "in-flight requests did not finish in time; stopping anyway");
        }
    }
    purge.abort();
    gc.abort();
    lifecycle.abort();
    meta.close().await;
    tracing::info!("wharf stopped");
    Ok(())
}

/// Whether this node runs the interval job `name` now: every node ticks, the first to claim the
/// job in the database runs it, so it runs once per interval across the cluster.
pub(crate) async fn claimed(registry: &Registry, name: &str, interval_secs: u64) -> bool {
    match registry.claim_job(name, interval_secs).await {
        Ok(true) => true,
        Ok(false) => {
            tracing::debug!(job = name, "job ran on another node within its interval");
            false
        }
        Err(e) => {
            tracing::warn!(job = name, error = %e, "claiming a background job failed");
            false
        }
    }
}

/// Removes abandoned uploads on an interval.
async fn purge_uploads(registry: Registry, max_age: u64, interval: u64) {
    let mut tick = tokio::time::interval(Duration::from_secs(interval));
    loop {
        tick.tick().await;
        // Every node: hash states of uploads finished on other nodes or abandoned.
        registry.forget_idle_hash_states(Duration::from_secs(max_age));
        if !claimed(&registry, "upload-purge", interval).await {
            continue;
        }
        match registry.purge_stale_uploads(max_age).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "purged abandoned uploads"),
            Err(e) => tracing::warn!(error = %e, "purging abandoned uploads failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
