//! `wharf serve`: open the stores under the data directory, start background jobs, serve HTTP, and
//! shut down gracefully on SIGINT/SIGTERM.

use crate::config::Settings;
use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use wharf_api::AppState;
use wharf_blob::FsBlobStore;
use wharf_core::Registry;
use wharf_meta::MetaStore;

/// Opens the embedded stores under the data directory.
pub async fn open_registry(settings: &Settings) -> anyhow::Result<(Registry, MetaStore)> {
    let dir = &settings.data_dir;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating data directory {}", dir.display()))?;
    let blobs = FsBlobStore::open(dir.join("blobs-store"))
        .with_context(|| format!("opening blob store under {}", dir.display()))?;
    let meta = MetaStore::open_sqlite(&dir.join("metadata.db"))
        .await
        .with_context(|| format!("opening metadata database under {}", dir.display()))?;
    Ok((Registry::new(Arc::new(blobs), meta.clone()), meta))
}

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let (registry, meta) = open_registry(&settings).await?;
    let listener = TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("binding {}", settings.listen))?;
    tracing::info!(
        listen = %listener.local_addr()?,
        data_dir = %settings.data_dir.display(),
        "wharf is serving the OCI API; blobs on the filesystem and metadata in SQLite under the data directory"
    );

    let purge = tokio::spawn(purge_uploads(
        registry.clone(),
        settings.upload_max_age_secs,
        settings.upload_purge_interval_secs,
    ));
    let app = wharf_api::app(AppState { registry });
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
    meta.close().await;
    tracing::info!("wharf stopped");
    Ok(())
}

/// Removes abandoned uploads on an interval.
async fn purge_uploads(registry: Registry, max_age: u64, interval: u64) {
    let mut tick = tokio::time::interval(Duration::from_secs(interval));
    loop {
        tick.tick().await;
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
