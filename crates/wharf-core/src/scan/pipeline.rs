//! The scan of one image: what the manifest says can be scanned (`classify`), its layers
//! streamed from the blob store into `wharf-scan`'s inventory builder on the blocking pool, the
//! inventory matched against the stored advisories (`matcher.rs`), the result stored and SBOMs
//! attached.
//!
//! Image content never makes a scan return an error: unreadable or hostile layers give FAILED
//! with the reason, and a panic inside the scanner is caught at the task boundary and reported
//! the same way. A blob-store fault (a layer missing or its stream broken) is an error, so the
//! job is retried rather than the image marked FAILED for good. A FAILED, UNSUPPORTED or
//! ARCHIVED outcome keeps the previous result's inventory, findings and keys. Blob bytes are
//! only ever read.

use super::matcher::Matched;
use super::{Inventory, ScanStatus, ScanType};
use crate::{unix_now, CoreError, Registry, Repo};
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio_util::io::{StreamReader, SyncIoBridge};
use wharf_meta::ScanResult;
use wharf_oci::{Digest, Manifest};
use wharf_scan::{Compression, InventoryBuilder, Limits};

/// The description of a successful scan, as ECR words it.
pub(crate) const COMPLETE_DESCRIPTION: &str = "The scan was completed successfully.";

/// Config media types of container images; any other config makes the manifest an artifact.
const IMAGE_CONFIGS: [&str; 2] = [
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];

/// What the scanner makes of a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scannable {
    /// An image: its layers in order, with size and compression.
    Layers(Vec<(Digest, u64, Compression)>),
    /// Not scannable, and why (the UNSUPPORTED_IMAGE description).
    Unsupported(String),
}

/// The compression of a layer media type; `Err` with the reason for layers not scanned.
fn layer_compression(media_type: &str) -> Result<Compression, &'static str> {
    match media_type {
        "application/vnd.oci.image.layer.v1.tar" => Ok(Compression::None),
        "application/vnd.oci.image.layer.v1.tar+gzip"
        | "application/vnd.docker.image.rootfs.diff.tar.gzip" => Ok(Compression::Gzip),
        "application/vnd.oci.image.layer.v1.tar+zstd" => Ok(Compression::Zstd),
        m if m.contains("foreign") || m.contains("nondistributable") => {
            Err("is a foreign layer, which this registry does not store")
        }
        _ => Err("has a media type the scanner does not read"),
    }
}

/// Classifies a parsed manifest: an image with readable layers, or why it is not one.
pub(crate) fn classify(manifest: &Manifest) -> Scannable {
    if manifest.media_type.is_index() {
        return Scannable::Unsupported(
            "The image is an image index (multi-platform); its platform images are scanned on their own.".into(),
        );
    }
    let config_type = manifest
        .config
        .as_ref()
        .map_or("", |c| c.media_type.as_str());
    if let Some(t) = manifest.artifact_type.as_deref() {
        return Scannable::Unsupported(format!(
            "The artifact type '{t}' is not a container image and cannot be scanned."
        ));
    }
    if !IMAGE_CONFIGS.contains(&config_type) {
        return Scannable::Unsupported(format!(
            "The artifact type '{config_type}' is not a container image and cannot be scanned."
        ));
    }
    let mut layers = Vec::with_capacity(manifest.layers.len());
    for (i, l) in manifest.layers.iter().enumerate() {
        match layer_compression(&l.media_type) {
            Ok(c) => layers.push((l.digest.clone(), l.size, c)),
            Err(why) => {
                return Scannable::Unsupported(format!("Layer {i} ('{}') {why}.", l.media_type))
            }
        }
    }
    Scannable::Layers(layers)
}

/// Whether a manifest is an image the scanner reads (pushes of anything else never scan).
pub(crate) fn is_scannable(manifest: &Manifest) -> bool {
    matches!(classify(manifest), Scannable::Layers(_))
}

/// A flag the blocking layer walk polls: set, the walk's reads fail and the walk ends. The async
/// side sets it when it goes away (its future dropped because the job runner aborted the task),
/// so an abandoned walk stops within one read instead of decompressing the rest of the image.
#[derive(Debug, Clone, Default)]
pub(crate) struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// Asks the walk to stop.
    pub(crate) fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether the walk was asked to stop.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// A guard that sets the flag when dropped, unless disarmed first.
    pub(crate) fn guard(&self) -> CancelGuard {
        CancelGuard(Some(self.clone()))
    }
}

/// Sets its [`CancelFlag`] when dropped (the owning future was dropped mid-scan), unless
/// [`CancelGuard::disarm`]ed after the walk finished.
#[derive(Debug)]
pub(crate) struct CancelGuard(Option<CancelFlag>);

impl CancelGuard {
    /// The walk ended on its own: dropping the guard no longer cancels anything.
    pub(crate) fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if let Some(flag) = self.0.take() {
            flag.cancel();
        }
    }
}

/// The layer walk's reader over a blob stream: fails every read once its flag is set, and
/// remembers whether the stream itself failed, so a blob-store fault (retried) is told apart
/// from bad image content (FAILED).
pub(crate) struct GuardedReader<R> {
    inner: R,
    cancel: CancelFlag,
    stream_failed: bool,
}

impl<R: Read> GuardedReader<R> {
    /// Wraps `inner`, polling `cancel` before each read.
    pub(crate) fn new(inner: R, cancel: CancelFlag) -> Self {
        GuardedReader {
            inner,
            cancel,
            stream_failed: false,
        }
    }

    /// Whether a read failed because of the stream (or the cancel flag), not the content.
    pub(crate) fn stream_failed(&self) -> bool {
        self.stream_failed
    }
}

impl<R: Read> Read for GuardedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancel.is_cancelled() {
            self.stream_failed = true;
            return Err(std::io::Error::other("the scan was cancelled"));
        }
        self.inner
            .read(buf)
            .inspect_err(|_| self.stream_failed = true)
    }
}

/// The reason the walk stopped: the image's content (FAILED with the reason) or the blob store
/// (a transient error; the job is retried).
enum WalkError {
    Content(String),
    Store(String),
}

/// Reads the layers, lowest first, into an inventory on the blocking pool. `Ok(Err(_))` is the
/// FAILED reason; `Err` is a blob-store fault (a blob missing or its stream broken), which a
/// retry may cure.
async fn read_layers(
    registry: crate::Registry,
    repo: Repo,
    layers: Vec<(Digest, u64, Compression)>,
    limits: Limits,
) -> Result<Result<Inventory, String>, CoreError> {
    let handle = tokio::runtime::Handle::current();
    let cancel = CancelFlag::default();
    // Dropped with this future (the runner aborted the job), the guard stops the walk.
    let guard = cancel.guard();
    let task = tokio::task::spawn_blocking(move || {
        let mut builder = InventoryBuilder::new(limits);
        for (i, (digest, size, compression)) in layers.iter().enumerate() {
            let stream = handle
                .block_on(registry.read_blob(&repo, digest, 0, *size))
                .map_err(|e| match e {
                    // Stored bytes that fail authentication will not heal on a retry.
                    CoreError::Integrity(_) => {
                        WalkError::Content(format!("layer {i}: blob {digest}: {e}"))
                    }
                    e => {
                        WalkError::Store(format!("layer {i}: blob {digest} could not be read: {e}"))
                    }
                })?;
            let mut reader = GuardedReader::new(
                SyncIoBridge::new_with_handle(StreamReader::new(stream), handle.clone()),
                cancel.clone(),
            );
            if let Err(e) = builder.add_layer(*compression, &mut reader) {
                return Err(if reader.stream_failed() {
                    WalkError::Store(format!("layer {i}: blob {digest} could not be read: {e}"))
                } else {
                    WalkError::Content(e.to_string())
                });
            }
        }
        Ok(builder.finish())
    });
    let result = task.await;
    guard.disarm();
    match result {
        Ok(Ok(inventory)) => Ok(Ok(inventory)),
        Ok(Err(WalkError::Content(reason))) => Ok(Err(reason)),
        Ok(Err(WalkError::Store(reason))) => Err(CoreError::Internal(reason)),
        Err(e) => {
            tracing::error!(error = %e, "the layer scanner panicked");
            Ok(Err(
                "the scanner stopped unexpectedly while reading the layers".into(),
            ))
        }
    }
}

impl Registry {
    /// The scan type in effect for an account.
    pub(crate) async fn scan_type(&self, repo: &Repo) -> Result<ScanType, CoreError> {
        Ok(self
            .registry_scanning_configuration(&repo.account)
            .await?
            .scan_type)
    }

    /// Stores a final status that carries no findings (FAILED, UNSUPPORTED_IMAGE,
    /// IMAGE_ARCHIVED), keeping a previous result's inventory, findings and keys.
    async fn store_outcome(
        &self,
        repo: &Repo,
        digest: &Digest,
        status: ScanStatus,
        description: &str,
        scan_type: ScanType,
        started_at: i64,
    ) -> Result<ScanStatus, CoreError> {
        if status == ScanStatus::Failed {
            tracing::warn!(repository = %repo.qualified(), %digest, reason = description, "image scan failed");
        }
        // A previous good result's inventory, findings and keys stay (only status, description
        // and times change), so a failed repeat scan does not erase it.
        self.meta
            .store_scan_status(
                repo.key(),
                digest,
                &ScanResult {
                    status: status.as_str(),
                    description: Some(description),
                    scan_type: scan_type.as_str(),
                    started_at: Some(started_at),
                    completed_at: Some(unix_now()),
                    ..ScanResult::default()
                },
            )
            .await?;
        Ok(status)
    }

    /// Stores a matched inventory as a COMPLETE scan.
    pub(crate) async fn store_matched(
        &self,
        repo: &Repo,
        digest: &Digest,
        scan_type: ScanType,
        started_at: i64,
        inventory: &Inventory,
        matched: &Matched,
    ) -> Result<bool, CoreError> {
        let json = |e: serde_json::Error| CoreError::Internal(format!("scan result: {e}"));
        let inventory = serde_json::to_string(inventory).map_err(json)?;
        let findings = serde_json::to_string(&matched.findings).map_err(json)?;
        let counts: serde_json::Map<String, serde_json::Value> = matched
            .counts
            .iter()
            .map(|(s, n)| (s.as_str().to_string(), serde_json::Value::from(*n)))
            .collect();
        let counts = serde_json::Value::Object(counts).to_string();
        Ok(self
            .meta
            .store_scan(
                repo.key(),
                digest,
                &ScanResult {
                    status: ScanStatus::Complete.as_str(),
                    description: Some(COMPLETE_DESCRIPTION),
                    scan_type: scan_type.as_str(),
                    started_at: Some(started_at),
                    completed_at: Some(unix_now()),
                    source_updated_at: matched.source_updated_at,
                    inventory: Some(&inventory),
                    findings: Some(&findings),
                    severity_counts: Some(&counts),
                    finding_count: matched.findings.len() as i64,
                    keys: &matched.keys,
                },
            )
            .await?)
    }

    /// Scans an image and stores the result; answers the final status. Image content never
    /// makes this fail: bad layers give FAILED with the reason. A blob-store fault is an error
    /// (`Internal`), which the job runner retries. `ManifestUnknown` when the
    /// image does not exist (deleted before its scan ran), `NameUnknown` for the repository.
    pub async fn scan_image(&self, repo: &Repo, digest: &Digest) -> Result<ScanStatus, CoreError> {
        let image = self
            .meta
            .image(repo.key(), digest)
            .await?
            .ok_or(CoreError::ManifestUnknown)?;
        let scan_type = self.scan_type(repo).await?;
        let started_at = unix_now();
        if image.status == "ARCHIVED" {
            return self
                .store_outcome(
                    repo,
                    digest,
                    ScanStatus::ImageArchived,
                    "The image is archived; restore it to scan it.",
                    scan_type,
                    started_at,
                )
                .await;
        }
        let stored = self
            .meta
            .get_manifest(repo.key(), &wharf_oci::Reference::Digest(digest.clone()))
            .await?
            .ok_or(CoreError::ManifestUnknown)?;
        let manifest = match Manifest::parse(&stored.body, Some(&stored.media_type)) {
            Ok(m) => m,
            Err(e) => {
                return self
                    .store_outcome(
                        repo,
                        digest,
                        ScanStatus::UnsupportedImage,
                        &format!("The image manifest could not be read: {e}."),
                        scan_type,
                        started_at,
                    )
                    .await
            }
        };
        let layers = match classify(&manifest) {
            Scannable::Layers(l) => l,
            Scannable::Unsupported(why) => {
                return self
                    .store_outcome(
                        repo,
                        digest,
                        ScanStatus::UnsupportedImage,
                        &why,
                        scan_type,
                        started_at,
                    )
                    .await
            }
        };
        if !self
            .meta
            .mark_scan(
                repo.key(),
                digest,
                ScanStatus::InProgress.as_str(),
                scan_type.as_str(),
                started_at,
                true,
            )
            .await?
        {
            return Err(CoreError::ManifestUnknown);
        }
        // A blob-store fault returns the error: the job is retried, and the scan ends FAILED
        // only when its attempts are spent.
        let inventory =
            match read_layers(self.clone(), repo.clone(), layers, Limits::default()).await? {
                Ok(i) => i,
                Err(reason) => {
                    return self
                        .store_outcome(
                            repo,
                            digest,
                            ScanStatus::Failed,
                            &reason,
                            scan_type,
                            started_at,
                        )
                        .await
                }
            };
        let previous = self.meta.image_scan(repo.key(), digest).await?;
        let matched = match self
            .match_inventory(
                &inventory,
                previous.as_ref().and_then(|p| p.findings.as_deref()),
            )
            .await?
        {
            Ok(m) => m,
            Err(reason) => {
                return self
                    .store_outcome(
                        repo,
                        digest,
                        ScanStatus::Failed,
                        &reason,
                        scan_type,
                        started_at,
                    )
                    .await
            }
        };
        if !self
            .store_matched(repo, digest, scan_type, started_at, &inventory, &matched)
            .await?
        {
            return Err(CoreError::ManifestUnknown);
        }
        tracing::info!(
            repository = %repo.qualified(),
            %digest,
            packages = inventory.packages.len(),
            findings = matched.findings.len(),
            "image scanned"
        );
        if let Err(e) = self
            .attach_sboms(
                repo,
                digest,
                &stored.media_type,
                stored.body.len() as u64,
                image.pushed_at,
                &inventory,
            )
            .await
        {
            // The findings stand without their SBOMs; the next scan attaches them.
            tracing::warn!(repository = %repo.qualified(), %digest, error = %e, "attaching SBOMs failed");
        }
        Ok(ScanStatus::Complete)
    }

    /// Re-matches an image's stored inventory against the current database (continuous
    /// scanning), without reading layers. An image whose last scan has no inventory (it failed
    /// or was not an image), or that is archived or past the scan eligibility window, keeps its
    /// result; answers its status.
    pub async fn rescan_image(
        &self,
        repo: &Repo,
        digest: &Digest,
    ) -> Result<ScanStatus, CoreError> {
        let record = self
            .meta
            .image_scan(repo.key(), digest)
            .await?
            .ok_or(CoreError::ManifestUnknown)?;
        let status = ScanStatus::parse(&record.status).ok_or_else(|| {
            CoreError::Internal(format!("stored scan status {:?}", record.status))
        })?;
        let Some(inventory) = record.inventory.as_deref() else {
            return Ok(status);
        };
        // An image archived or past the eligibility window since the rescan was queued keeps
        // its stored result; reads report it as IMAGE_ARCHIVED or SCAN_ELIGIBILITY_EXPIRED.
        let image = self
            .meta
            .image(repo.key(), digest)
            .await?
            .ok_or(CoreError::ManifestUnknown)?;
        if !self.rescan_eligible(&image, Some(record.requested_at)) {
            return Ok(status);
        }
        let inventory: Inventory = serde_json::from_str(inventory)
            .map_err(|e| CoreError::Internal(format!("stored inventory: {e}")))?;
        let scan_type = ScanType::parse(&record.scan_type).unwrap_or_default();
        let started_at = unix_now();
        let matched = match self
            .match_inventory(&inventory, record.findings.as_deref())
            .await?
        {
            Ok(m) => m,
            // The previous result stands; the reason is logged where matching broke.
            Err(_) => return Ok(status),
        };
        if !self
            .store_matched(repo, digest, scan_type, started_at, &inventory, &matched)
            .await?
        {
            return Err(CoreError::ManifestUnknown);
        }
        Ok(ScanStatus::Complete)
    }

    /// The scan type a push of `manifest` starts a scan with, or `None`: only a new image
    /// manifest (not an index or an artifact, not a re-push) in a repository whose effective
    /// frequency is SCAN_ON_PUSH or CONTINUOUS_SCAN is scanned.
    pub(crate) async fn scan_on_push(
        &self,
        repo: &Repo,
        record: &wharf_meta::RepositoryRecord,
        manifest: &Manifest,
        digest: &Digest,
    ) -> Result<Option<ScanType>, CoreError> {
        if !is_scannable(manifest) {
            return Ok(None);
        }
        let config = self.registry_scanning_configuration(&repo.account).await?;
        let effective =
            super::config::effective(&config, repo.name.as_str(), record.settings.scan_on_push);
        if effective.scan_frequency == super::ScanFrequency::Manual {
            return Ok(None);
        }
        if self.meta.image(repo.key(), digest).await?.is_some() {
            return Ok(None);
        }
        Ok(Some(config.scan_type))
    }

    /// Records FAILED with `reason` for the image a scan job named, when that job will never run
    /// again (its attempts are spent). Nothing to do when the payload or the image is gone.
    pub async fn fail_scan_job(
        &self,
        account: &str,
        repository: &str,
        digest: &str,
        reason: &str,
    ) -> Result<(), CoreError> {
        let (Ok(account), Ok(name), Ok(digest)) = (
            account.parse(),
            repository.parse(),
            digest.parse::<Digest>(),
        ) else {
            return Ok(());
        };
        let repo = Repo::new(account, name);
        if self.meta.image(repo.key(), &digest).await?.is_none() {
            return Ok(());
        }
        let scan_type = self.scan_type(&repo).await?;
        self.store_outcome(
            &repo,
            &digest,
            ScanStatus::Failed,
            reason,
            scan_type,
            unix_now(),
        )
        .await?;
        self.emit_scan_event(&repo, &digest).await;
        Ok(())
    }

    /// Runs an `image_scan` (`rescan` false) or `rescan` job's payload. `Ok(None)` when the
    /// image or repository is gone (nothing to do); `InvalidParameter` for a payload that names
    /// no image (retrying cannot help).
    pub async fn run_scan_job(
        &self,
        account: &str,
        repository: &str,
        digest: &str,
        rescan: bool,
    ) -> Result<Option<ScanStatus>, CoreError> {
        let bad = |what: &str| CoreError::InvalidParameter(format!("scan job names a bad {what}"));
        let repo = Repo::new(
            account.parse().map_err(|_| bad("account"))?,
            repository.parse().map_err(|_| bad("repository"))?,
        );
        let digest: Digest = digest.parse().map_err(|_| bad("digest"))?;
        let result = if rescan {
            self.rescan_image(&repo, &digest).await
        } else {
            self.scan_image(&repo, &digest).await
        };
        match result {
            Ok(status) => {
                if !rescan {
                    self.emit_scan_event(&repo, &digest).await;
                }
                Ok(Some(status))
            }
            Err(CoreError::ManifestUnknown | CoreError::NameUnknown) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_guard_stops_the_walk_and_a_disarmed_one_does_not() {
        let data = vec![7u8; 64];
        let flag = CancelFlag::default();
        let guard = flag.guard();
        let mut reader = GuardedReader::new(std::io::Cursor::new(data.clone()), flag.clone());
        let mut buf = [0u8; 16];
        assert_eq!(reader.read(&mut buf).unwrap(), 16);
        assert!(!reader.stream_failed());
        // The async side went away: the next read fails, marked as not the content's fault.
        drop(guard);
        assert!(flag.is_cancelled());
        let err = reader.read(&mut buf).unwrap_err();
        assert_eq!(
            (err.kind(), err.to_string()),
            (
                std::io::ErrorKind::Other,
                "the scan was cancelled".to_string()
            )
        );
        assert!(reader.stream_failed());

        let flag = CancelFlag::default();
        flag.guard().disarm();
        assert!(!flag.is_cancelled());
        let mut reader = GuardedReader::new(std::io::Cursor::new(data.clone()), flag);
        let mut all = Vec::new();
        assert_eq!(reader.read_to_end(&mut all).unwrap(), 64);
        assert_eq!((all, reader.stream_failed()), (data, false));
    }

    #[test]
    fn a_cancelled_walk_ends_the_layer_as_a_stream_fault() {
        let mut layer = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(4);
        header.set_entry_type(tar::EntryType::Regular);
        layer
            .append_data(&mut header, "etc/hostname", &b"host"[..])
            .unwrap();
        let layer = layer.into_inner().unwrap();
        let flag = CancelFlag::default();
        flag.cancel();
        let mut reader = GuardedReader::new(std::io::Cursor::new(layer), flag);
        let mut builder = InventoryBuilder::new(Limits::default());
        assert!(builder.add_layer(Compression::None, &mut reader).is_err());
        assert!(reader.stream_failed());
    }

    #[test]
    fn manifests_are_classified() {
        let d = |c: char| format!("sha256:{}", c.to_string().repeat(64));
        let image = |config: &str, layer: &str, artifact: Option<&str>| {
            let artifact = artifact
                .map(|a| format!(r#","artifactType":"{a}""#))
                .unwrap_or_default();
            let body = format!(
                r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"{artifact},"config":{{"mediaType":"{config}","digest":"{}","size":2}},"layers":[{{"mediaType":"{layer}","digest":"{}","size":7}}]}}"#,
                d('a'),
                d('b')
            );
            classify(&Manifest::parse(body.as_bytes(), None).unwrap())
        };
        let oci = "application/vnd.oci.image.config.v1+json";
        let check = |got: Scannable, expected: Result<Compression, &str>| match (got, expected) {
            (Scannable::Layers(l), Ok(c)) => {
                assert_eq!(l, vec![(d('b').parse().unwrap(), 7, c)]);
            }
            (Scannable::Unsupported(why), Err(e)) => assert_eq!(why, e),
            (got, expected) => panic!("{got:?} vs {expected:?}"),
        };
        check(
            image(oci, "application/vnd.oci.image.layer.v1.tar+gzip", None),
            Ok(Compression::Gzip),
        );
        check(
            image(oci, "application/vnd.oci.image.layer.v1.tar+zstd", None),
            Ok(Compression::Zstd),
        );
        check(
            image(oci, "application/vnd.oci.image.layer.v1.tar", None),
            Ok(Compression::None),
        );
        check(
            image(
                "application/vnd.docker.container.image.v1+json",
                "application/vnd.docker.image.rootfs.diff.tar.gzip",
                None,
            ),
            Ok(Compression::Gzip),
        );
        check(
            image(oci, "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", None),
            Err("Layer 0 ('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip') is a foreign layer, which this registry does not store."),
        );
        check(
            image(oci, "application/vnd.example.layer", None),
            Err("Layer 0 ('application/vnd.example.layer') has a media type the scanner does not read."),
        );
        check(
            image("application/vnd.oci.empty.v1+json", "application/spdx+json", Some("application/spdx+json")),
            Err("The artifact type 'application/spdx+json' is not a container image and cannot be scanned."),
        );
        check(
            image("application/vnd.dev.cosign.simplesigning.v1+json", "application/vnd.oci.image.layer.v1.tar", None),
            Err("The artifact type 'application/vnd.dev.cosign.simplesigning.v1+json' is not a container image and cannot be scanned."),
        );
        let index = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":3}}]}}"#,
            d('c')
        );
        check(
            classify(&Manifest::parse(index.as_bytes(), None).unwrap()),
            Err("The image is an image index (multi-platform); its platform images are scanned on their own."),
        );
    }
}
