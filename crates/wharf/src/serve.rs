//! `wharf serve`: open the stores under the data directory, start the background job runner
//! (`wharf-jobs`), serve HTTP (or HTTPS, `crate::tls`), and shut down gracefully on
//! SIGINT/SIGTERM.

use crate::config::Settings;
use anyhow::Context;
use std::time::Duration;
use tokio::net::TcpListener;
use wharf_api::{AppState, EcrSettings};
use wharf_core::{Identity, JobKind, Registry};

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
    // Before the stores open: a bad certificate or key file stops start-up at once.
    let tls = crate::tls::start(&settings)?;
    let registry = crate::open::open_registry(&settings).await?;
    let identity = registry.open_identity().await?;
    bootstrap_credentials(&settings, &identity).await?;
    let listener = TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("binding {}", settings.listen))?;
    tracing::info!(
        listen = %listener.local_addr()?,
        data_dir = %settings.data_dir.display(),
        blob_store = ?settings.blob_store,
        metadata = ?settings.metadata,
        scheme = if tls.is_some() { "https" } else { "http" },
        "wharf is serving the OCI and ECR APIs"
    );

    let metrics = wharf_metrics::Metrics::new();
    let jobs = wharf_jobs::start(
        registry.clone(),
        std::sync::Arc::new(wharf_jobs::StandardHandler {
            gc: crate::gc::options(&settings, false),
            upload_max_age: Duration::from_secs(settings.upload_max_age_secs),
            metrics: metrics.clone(),
            regions: wharf_replicate::Regions::new(settings.regions.clone())
                .map_err(|e| anyhow::anyhow!(e))?,
        }),
        wharf_jobs::RunnerConfig {
            metrics: metrics.clone(),
            ..runner_config(&settings)
        },
    );
    let (audit, audit_writer) =
        wharf_api::audit::AuditSink::start(registry.clone(), metrics.clone());
    start_encryption_work(&settings, &registry).await?;
    let ecr = EcrSettings {
        region: settings.region.clone(),
        public_host: settings.public_host.clone(),
        public_scheme: settings.public_scheme.clone(),
        registry_domain: settings.registry_domain.clone(),
        replication_regions: settings.regions.iter().map(|r| r.name.clone()).collect(),
    };
    let state = AppState::new(wharf_api::Services {
        registry: registry.clone(),
        identity,
        ecr,
        proxies: wharf_api::client::TrustedProxies::new(settings.trusted_proxies.clone()),
        metrics,
        metrics_access: if settings.metrics_public {
            wharf_api::metrics::MetricsAccess::Public
        } else {
            wharf_api::metrics::MetricsAccess::Authorized
        },
        audit,
        console: wharf_api::console::Console::new(settings.pricing),
    });
    let metrics_server = match settings.metrics_listen {
        Some(addr) => Some(serve_metrics(addr, state.clone()).await?),
        None => None,
    };
    let app = wharf_api::app(state);
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        shutdown_signal().await;
        let _ = stopping_tx.send(());
    };
    let server = async move {
        match tls {
            None => axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving HTTP"),
            Some(tls) => {
                let watching = tls.clone().watch(crate::tls::POLL);
                let served = wharf_api::tls::serve(listener, app, tls, shutdown)
                    .await
                    .context("serving HTTPS");
                watching.abort();
                served
            }
        }
    };
    let grace = Duration::from_secs(settings.shutdown_timeout_secs);
    tokio::select! {
        r = server => r?,
        _ = async { if stopping_rx.await.is_ok() { tokio::time::sleep(grace).await } else { std::future::pending::<()>().await } } => {
            tracing::warn!(seconds = grace.as_secs(), "in-flight requests did not finish in time; stopping anyway");
        }
    }
    // Jobs in flight get the same grace as requests; what is still running then goes back to
    // the queue for another node (or this one's next start).
    jobs.shutdown(grace).await;
    if let Some(task) = metrics_server {
        task.abort();
    }
    // Records of the last requests are written before the database closes.
    audit_writer.finish(grace).await;
    registry.close().await;
    tracing::info!("wharf stopped");
    Ok(())
}

/// Serves `/metrics` alone, without credentials, on `metrics_listen`.
async fn serve_metrics(
    addr: std::net::SocketAddr,
    state: AppState,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding metrics_listen {addr}"))?;
    tracing::info!(metrics_listen = %listener.local_addr()?, "serving /metrics");
    let router = wharf_api::metrics::metrics_router(state);
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "the metrics listener failed");
        }
    }))
}

/// Says how blobs are protected, and queues the sealing of blobs an older install stored in
/// plaintext (once across the cluster: the job's dedupe key).
async fn start_encryption_work(settings: &Settings, registry: &Registry) -> anyhow::Result<()> {
    let status = registry.encryption_status().await?;
    let redirect =
        matches!(&settings.blob_store, crate::storage::BlobStoreSettings::S3(c) if c.redirect);
    if !status.sealing {
        tracing::warn!("encrypt_blobs = false: new blobs are stored in PLAINTEXT (meant only for measuring encryption's cost)");
    } else if redirect {
        tracing::warn!(
            "blob_store.redirect is on, but blobs are encrypted at rest: the bucket holds only ciphertext, so downloads stream through Wharf, which decrypts them; only blobs stored before encryption and not yet sealed are redirected"
        );
    }
    tracing::info!(
        sealing = status.sealing,
        master_key_version = ?status.current_master,
        kms = registry.keys().has_kms(),
        unsealed_blobs = status.unsealed_blobs,
        "encryption at rest"
    );
    if status.sealing && status.unsealed_blobs > 0 {
        let job = JobKind::SealBlobs
            .new_job()
            .dedupe("seal_blobs".to_string());
        if registry.enqueue_job(&job).await?.is_some() {
            tracing::info!(
                blobs = status.unsealed_blobs,
                "queued sealing of blobs stored in plaintext"
            );
        }
    }
    Ok(())
}

/// The job runner the settings describe: the periodic jobs at their intervals (garbage collection
/// and upload purge at start, which also finishes whatever an interrupted pass left behind;
/// lifecycle a minute after start, so a restart loop does not hammer the database).
pub(crate) fn runner_config(settings: &Settings) -> wharf_jobs::RunnerConfig {
    let secs = Duration::from_secs;
    let lifecycle = secs(settings.lifecycle_interval_secs);
    let purge = secs(settings.upload_purge_interval_secs);
    let periodic = |kind, every, first_after| wharf_jobs::Periodic {
        kind,
        every,
        first_after,
    };
    wharf_jobs::RunnerConfig {
        workers: settings.job_workers,
        backoff: settings.job_backoff,
        periodic: vec![
            periodic(JobKind::Gc, secs(settings.gc_interval_secs), Duration::ZERO),
            periodic(JobKind::Lifecycle, lifecycle, lifecycle.min(secs(60))),
            periodic(JobKind::UploadPurge, purge, Duration::ZERO),
        ]
        .into_iter()
        // Audit records past their retention, hourly (0 days keeps them forever).
        .chain((settings.audit_retention_days > 0).then(|| {
            periodic(
                JobKind::AuditPrune {
                    days: settings.audit_retention_days,
                },
                secs(3600),
                secs(60),
            )
        }))
        .collect(),
        // Every node: hash states of uploads finished on other nodes or abandoned.
        hash_state_sweep: Some(wharf_jobs::HashStateSweep {
            every: purge,
            max_age: secs(settings.upload_max_age_secs),
        }),
        ..wharf_jobs::RunnerConfig::default()
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
