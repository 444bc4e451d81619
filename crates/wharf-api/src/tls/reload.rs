//! Certificate reload without a restart: the reloader holds the current `ServerConfig`, which the
//! listener reads once per accepted connection, and rebuilds it when the certificate, key or
//! client CA files change (polled every few seconds) or on SIGHUP. A file that fails the start-up
//! checks keeps the old configuration in place and is logged as an error; connections already
//! open keep the configuration they were accepted with.

use super::{server_config, TlsError, TlsSettings};
use rustls::ServerConfig;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

/// What identifies a version of a file: replacing it (even by rename) changes one of these.
type Stamp = Option<(SystemTime, u64, u64)>;

fn stamp(path: &Path) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len(), m.ino()))
}

/// The current TLS configuration and what the files looked like when it was (last tried to be)
/// loaded.
#[derive(Debug)]
pub struct TlsReloader {
    settings: TlsSettings,
    current: RwLock<Arc<ServerConfig>>,
    seen: Mutex<Vec<Stamp>>,
}

impl TlsReloader {
    /// Loads the files once; an error here is a start-up error.
    pub fn new(settings: TlsSettings) -> Result<Arc<TlsReloader>, TlsError> {
        let seen = Mutex::new(stamps(&settings));
        let config = server_config(&settings)?;
        Ok(Arc::new(TlsReloader {
            settings,
            current: RwLock::new(config),
            seen,
        }))
    }

    /// The configuration new connections use.
    pub fn config(&self) -> Arc<ServerConfig> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Rebuilds the configuration from the files, keeping the old one if they fail the checks.
    pub fn reload(&self) -> Result<(), TlsError> {
        *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = stamps(&self.settings);
        let config = server_config(&self.settings)?;
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = config;
        Ok(())
    }

    /// Reloads when any file changed since the last attempt: `Ok(true)` when a new configuration
    /// is in place, `Ok(false)` when nothing changed. A failed attempt is not retried until a file
    /// changes again, so a bad file is reported once, not at every poll.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let now = stamps(&self.settings);
        if *self.seen.lock().unwrap_or_else(|p| p.into_inner()) == now {
            return Ok(false);
        }
        self.reload().map(|()| true)
    }

    /// Polls the files every `every` and reloads on SIGHUP, logging what happened, until the
    /// returned task is aborted.
    pub fn watch(self: Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut hup =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let forced = tokio::select! {
                    _ = tick.tick() => false,
                    Some(()) = async {
                        match hup.as_mut() {
                            Some(h) => h.recv().await,
                            None => std::future::pending().await,
                        }
                    } => true,
                };
                let result = if forced {
                    self.reload().map(|()| true)
                } else {
                    self.reload_if_changed()
                };
                match result {
                    Ok(true) => tracing::info!(
                        cert = %self.settings.cert.display(),
                        "reloaded the TLS certificate; new connections use it"
                    ),
                    Ok(false) => {}
                    Err(e) => tracing::error!(
                        error = %e,
                        "the new TLS files are unusable; still serving the previous certificate"
                    ),
                }
            }
        })
    }
}

fn stamps(settings: &TlsSettings) -> Vec<Stamp> {
    let mut files = vec![settings.cert.as_path(), settings.key.as_path()];
    files.extend(settings.client_ca.as_deref());
    files.into_iter().map(stamp).collect()
}
