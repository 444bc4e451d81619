//! Configuration: defaults, then a TOML file, then `WHARF_*` environment variables, then command-line
//! flags, validated once into `Settings`. This is the only place Wharf reads configuration.

use anyhow::{bail, Context};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The raw, optional form of every setting, as it appears in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
    pub log_format: Option<String>,
    pub upload_max_age_secs: Option<u64>,
    pub upload_purge_interval_secs: Option<u64>,
    pub gc_interval_secs: Option<u64>,
    pub lifecycle_interval_secs: Option<u64>,
    pub job_workers: Option<u64>,
    pub gc_grace_secs: Option<u64>,
    pub shutdown_timeout_secs: Option<u64>,
    pub region: Option<String>,
    pub public_host: Option<String>,
    pub public_scheme: Option<String>,
    pub trusted_proxies: Option<Vec<String>>,
    pub registry_domain: Option<String>,
    pub price_per_gb_month: Option<f64>,
    pub free_gb_month: Option<f64>,
    pub scan_eligibility_days: Option<u64>,
    /// Seconds a pull-through cache serves a cached tag before asking the upstream again.
    pub pull_through_tag_ttl_secs: Option<u64>,
    /// PEM certificate chain: with `tls_key`, `wharf serve` speaks HTTPS.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// PEM bundle of the CAs client certificates must be signed by.
    pub tls_client_ca: Option<PathBuf>,
    /// `required` (default) or `optional`: whether clients must present a certificate.
    pub tls_client_auth: Option<String>,
    /// Serve HTTPS with a CA and certificate generated under `<data_dir>/tls/`.
    pub tls_self_signed: Option<bool>,
    /// A second address serving only `/metrics`, to anyone who reaches it.
    pub metrics_listen: Option<String>,
    /// Serve `/metrics` on the main listener without credentials.
    pub metrics_public: Option<bool>,
    /// Days audit records are kept (0: forever).
    pub audit_retention_days: Option<u64>,
    /// The `[encryption]` table.
    #[serde(default)]
    pub encryption: crate::encryption::RawEncryption,
    /// The `[kms]` table.
    #[serde(default)]
    pub kms: crate::encryption::RawKms,
    /// `WHARF_MASTER_KEY` (environment only: keys are not written into config files here).
    #[serde(skip)]
    pub master_key_env: Option<String>,
    /// The `[blob_store]` table.
    #[serde(default)]
    pub blob_store: crate::storage::RawBlobStore,
    /// The `[metadata]` table.
    #[serde(default)]
    pub metadata: crate::metadata::RawMetadata,
    /// The first wait before a failed background job is retried (doubling each attempt).
    pub job_retry_base_secs: Option<u64>,
    /// The longest wait between retries of a background job.
    pub job_retry_max_secs: Option<u64>,
    /// `[regions.<name>]` tables: other regions' Wharf deployments, for replication.
    #[serde(default)]
    pub regions: std::collections::BTreeMap<String, crate::regions::RawRegion>,
    /// `[[webhooks]]` entries: where events are delivered.
    #[serde(default)]
    pub webhooks: Vec<crate::webhooks::RawWebhook>,
}

impl RawConfig {
    /// Reads a TOML config file.
    pub fn from_file(path: &Path) -> anyhow::Result<RawConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing config file {}", path.display()))
    }

    /// Reads `WHARF_*` variables through `get` (the process environment in production).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<RawConfig> {
        let num = |key: &str| -> anyhow::Result<Option<u64>> {
            get(key)
                .map(|v| {
                    v.trim()
                        .parse::<u64>()
                        .with_context(|| format!("{key}={v:?} is not a whole number"))
                })
                .transpose()
        };
        let boolean = |key: &str| -> anyhow::Result<Option<bool>> {
            get(key)
                .map(|v| match v.trim() {
                    "true" | "1" => Ok(true),
                    "false" | "0" | "" => Ok(false),
                    _ => bail!("{key}={v:?} must be true or false"),
                })
                .transpose()
        };
        let decimal = |key: &str| -> anyhow::Result<Option<f64>> {
            get(key)
                .map(|v| {
                    v.trim()
                        .parse::<f64>()
                        .with_context(|| format!("{key}={v:?} is not a number"))
                })
                .transpose()
        };
        Ok(RawConfig {
            data_dir: get("WHARF_DATA_DIR").map(PathBuf::from),
            listen: get("WHARF_LISTEN"),
            log_format: get("WHARF_LOG_FORMAT"),
            upload_max_age_secs: num("WHARF_UPLOAD_MAX_AGE_SECS")?,
            upload_purge_interval_secs: num("WHARF_UPLOAD_PURGE_INTERVAL_SECS")?,
            gc_interval_secs: num("WHARF_GC_INTERVAL_SECS")?,
            lifecycle_interval_secs: num("WHARF_LIFECYCLE_INTERVAL_SECS")?,
            job_workers: num("WHARF_JOB_WORKERS")?,
            gc_grace_secs: num("WHARF_GC_GRACE_SECS")?,
            shutdown_timeout_secs: num("WHARF_SHUTDOWN_TIMEOUT_SECS")?,
            region: get("WHARF_REGION"),
            public_host: get("WHARF_PUBLIC_HOST"),
            public_scheme: get("WHARF_PUBLIC_SCHEME"),
            // Comma-separated; an empty value trusts no proxy.
            trusted_proxies: get("WHARF_TRUSTED_PROXIES").map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            }),
            registry_domain: get("WHARF_REGISTRY_DOMAIN"),
            price_per_gb_month: decimal("WHARF_PRICE_PER_GB_MONTH")?,
            free_gb_month: decimal("WHARF_FREE_GB_MONTH")?,
            scan_eligibility_days: num("WHARF_SCAN_ELIGIBILITY_DAYS")?,
            pull_through_tag_ttl_secs: num("WHARF_PULL_THROUGH_TAG_TTL_SECS")?,
            tls_cert: get("WHARF_TLS_CERT").map(PathBuf::from),
            tls_key: get("WHARF_TLS_KEY").map(PathBuf::from),
            tls_client_ca: get("WHARF_TLS_CLIENT_CA").map(PathBuf::from),
            tls_client_auth: get("WHARF_TLS_CLIENT_AUTH"),
            tls_self_signed: get("WHARF_TLS_SELF_SIGNED")
                .map(|v| match v.trim() {
                    "true" | "1" => Ok(true),
                    "false" | "0" | "" => Ok(false),
                    _ => bail!("WHARF_TLS_SELF_SIGNED={v:?} must be true or false"),
                })
                .transpose()?,
            metrics_listen: get("WHARF_METRICS_LISTEN").filter(|v| !v.trim().is_empty()),
            metrics_public: boolean("WHARF_METRICS_PUBLIC")?,
            audit_retention_days: num("WHARF_AUDIT_RETENTION_DAYS")?,
            encryption: crate::encryption::RawEncryption::from_env(&get)?,
            kms: crate::encryption::RawKms::from_env(&get)?,
            master_key_env: get("WHARF_MASTER_KEY"),
            blob_store: crate::storage::RawBlobStore::from_env(&get)?,
            metadata: crate::metadata::RawMetadata::from_env(&get),
            job_retry_base_secs: num("WHARF_JOB_RETRY_BASE_SECS")?,
            job_retry_max_secs: num("WHARF_JOB_RETRY_MAX_SECS")?,
            regions: crate::regions::from_env(&get),
            webhooks: crate::webhooks::from_env(&get),
        })
    }

    /// Layers `over` on top of `self`: every setting `over` has wins.
    pub fn merge(self, over: RawConfig) -> RawConfig {
        RawConfig {
            data_dir: over.data_dir.or(self.data_dir),
            listen: over.listen.or(self.listen),
            log_format: over.log_format.or(self.log_format),
            upload_max_age_secs: over.upload_max_age_secs.or(self.upload_max_age_secs),
            upload_purge_interval_secs: over
                .upload_purge_interval_secs
                .or(self.upload_purge_interval_secs),
            gc_interval_secs: over.gc_interval_secs.or(self.gc_interval_secs),
            lifecycle_interval_secs: over
                .lifecycle_interval_secs
                .or(self.lifecycle_interval_secs),
            job_workers: over.job_workers.or(self.job_workers),
            gc_grace_secs: over.gc_grace_secs.or(self.gc_grace_secs),
            shutdown_timeout_secs: over.shutdown_timeout_secs.or(self.shutdown_timeout_secs),
            region: over.region.or(self.region),
            public_host: over.public_host.or(self.public_host),
            public_scheme: over.public_scheme.or(self.public_scheme),
            trusted_proxies: over.trusted_proxies.or(self.trusted_proxies),
            registry_domain: over.registry_domain.or(self.registry_domain),
            price_per_gb_month: over.price_per_gb_month.or(self.price_per_gb_month),
            free_gb_month: over.free_gb_month.or(self.free_gb_month),
            scan_eligibility_days: over.scan_eligibility_days.or(self.scan_eligibility_days),
            pull_through_tag_ttl_secs: over
                .pull_through_tag_ttl_secs
                .or(self.pull_through_tag_ttl_secs),
            tls_cert: over.tls_cert.or(self.tls_cert),
            tls_key: over.tls_key.or(self.tls_key),
            tls_client_ca: over.tls_client_ca.or(self.tls_client_ca),
            tls_client_auth: over.tls_client_auth.or(self.tls_client_auth),
            tls_self_signed: over.tls_self_signed.or(self.tls_self_signed),
            metrics_listen: over.metrics_listen.or(self.metrics_listen),
            metrics_public: over.metrics_public.or(self.metrics_public),
            audit_retention_days: over.audit_retention_days.or(self.audit_retention_days),
            encryption: self.encryption.merge(over.encryption),
            kms: self.kms.merge(over.kms),
            master_key_env: over.master_key_env.or(self.master_key_env),
            blob_store: self.blob_store.merge(over.blob_store),
            metadata: self.metadata.merge(over.metadata),
            job_retry_base_secs: over.job_retry_base_secs.or(self.job_retry_base_secs),
            job_retry_max_secs: over.job_retry_max_secs.or(self.job_retry_max_secs),
            regions: crate::regions::merge(self.regions, over.regions),
            webhooks: crate::webhooks::merge(self.webhooks, over.webhooks),
        }
    }
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// How `wharf serve` speaks TLS (the files are checked when it starts, not here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    /// `tls_cert` and `tls_key` (and maybe a client CA).
    Files(wharf_api::tls::TlsSettings),
    /// `--tls-self-signed`: certificates under `<data_dir>/tls/`, with an optional client CA.
    SelfSigned {
        client_ca: Option<PathBuf>,
        client_auth: wharf_api::tls::ClientAuth,
    },
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub log_format: LogFormat,
    pub upload_max_age_secs: u64,
    pub upload_purge_interval_secs: u64,
    /// Seconds between garbage-collection passes of the server.
    pub gc_interval_secs: u64,
    /// How often the server applies every repository's lifecycle policy.
    pub lifecycle_interval_secs: u64,
    /// Background job workers on this node (0: it runs none, but still schedules periodic jobs).
    pub job_workers: usize,
    /// Seconds an unreferenced blob or orphan file is kept before collection, so an upload in
    /// flight never loses a blob it is about to reference.
    pub gc_grace_secs: u64,
    pub shutdown_timeout_secs: u64,
    /// The AWS region Wharf answers as (ARNs, repository URIs).
    pub region: String,
    /// `host[:port]` clients use to reach `/v2/` (repository URIs, `proxyEndpoint`).
    pub public_host: String,
    /// `http` or `https`: how clients reach `public_host` (`https` behind a TLS load balancer).
    pub public_scheme: String,
    /// Networks of the proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` name the client
    /// (`aws:SourceIp`, `aws:SecureTransport`). Empty: the connection's peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// With a domain, accounts are routed by `Host: <account>.dkr.ecr.<region>.<domain>`.
    pub registry_domain: Option<String>,
    /// Storage price for `wharf usage` (default ECR's $0.10 per GB-month, 0.5 GB-month free).
    pub pricing: wharf_core::usage::Pricing,
    /// Days an image of a continuously scanned repository stays eligible for rescans after its
    /// last push or pull (Amazon Inspector's ECR re-scan duration); 0, the default: lifetime.
    pub scan_eligibility_days: u32,
    /// How long a pull-through cache serves a cached tag before re-checking it upstream.
    pub pull_through_tag_ttl: std::time::Duration,
    /// TLS on the listener; `None`: plain HTTP.
    pub tls: Option<Tls>,
    /// A second, plain-HTTP address serving only `/metrics` without credentials.
    pub metrics_listen: Option<SocketAddr>,
    /// `/metrics` on the main listener without credentials (else only to principals allowed
    /// `wharf:GetMetrics`).
    pub metrics_public: bool,
    /// Days audit records are kept; 0 keeps them forever.
    pub audit_retention_days: u32,
    /// Encryption at rest: the master keyring and KMS.
    pub encryption: crate::encryption::EncryptionSettings,
    /// Where blobs live.
    pub blob_store: crate::storage::BlobStoreSettings,
    /// Where metadata lives.
    pub metadata: crate::metadata::MetadataSettings,
    /// How long failed background jobs wait before their next attempt.
    pub job_backoff: wharf_core::Backoff,
    /// Other regions' Wharf deployments replication may copy images to.
    pub regions: Vec<wharf_replicate::RegionEndpoint>,
    /// Where events are POSTed (secrets redacted in Debug).
    pub webhooks: Vec<wharf_core::events::Webhook>,
}

/// The longest audit retention, in days (a hundred years; 0 keeps records forever).
const MAX_AUDIT_RETENTION_DAYS: u64 = 36_500;

/// The longest scan eligibility window, in days (ten years).
const MAX_SCAN_ELIGIBILITY_DAYS: u64 = 3650;

/// A DNS name or `host:port`: letters, digits, dots, dashes, one optional port.
fn valid_host(h: &str) -> bool {
    let (host, port) = match h.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (h, None),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    host_ok && port.is_none_or(|p| p.parse::<u16>().is_ok())
}

/// The TLS settings: none, files, or self-signed; each file setting only with TLS on.
fn tls(raw: &RawConfig) -> anyhow::Result<Option<Tls>> {
    let client_auth = match raw.tls_client_auth.as_deref() {
        None | Some("required") => wharf_api::tls::ClientAuth::Required,
        Some("optional") => wharf_api::tls::ClientAuth::Optional,
        Some(other) => bail!("tls_client_auth = {other:?} must be \"required\" or \"optional\""),
    };
    if raw.tls_client_auth.is_some() && raw.tls_client_ca.is_none() {
        bail!("tls_client_auth needs tls_client_ca (the CA bundle client certificates must be signed by)");
    }
    let client_ca = raw.tls_client_ca.clone();
    let self_signed = raw.tls_self_signed.unwrap_or(false);
    match (&raw.tls_cert, &raw.tls_key) {
        (Some(_), Some(_)) if self_signed => {
            bail!("tls_self_signed and tls_cert/tls_key exclude each other; choose one")
        }
        (Some(cert), Some(key)) => Ok(Some(Tls::Files(wharf_api::tls::TlsSettings {
            cert: cert.clone(),
            key: key.clone(),
            client_ca,
            client_auth,
        }))),
        (Some(_), None) => bail!("tls_cert is set but tls_key is not; TLS needs both"),
        (None, Some(_)) => bail!("tls_key is set but tls_cert is not; TLS needs both"),
        (None, None) if self_signed => Ok(Some(Tls::SelfSigned {
            client_ca,
            client_auth,
        })),
        (None, None) if client_ca.is_some() => {
            bail!("tls_client_ca needs TLS on (tls_cert and tls_key, or tls_self_signed)")
        }
        (None, None) => Ok(None),
    }
}

impl TryFrom<RawConfig> for Settings {
    type Error = anyhow::Error;

    fn try_from(raw: RawConfig) -> anyhow::Result<Settings> {
        let tls = tls(&raw)?;
        let data_dir = raw
            .data_dir
            .unwrap_or_else(|| PathBuf::from("./wharf-data"));
        if data_dir.as_os_str().is_empty() {
            bail!("data_dir must not be empty");
        }
        let listen_raw = raw.listen.unwrap_or_else(|| "127.0.0.1:5000".to_string());
        let listen: SocketAddr = listen_raw.parse().with_context(|| {
            format!("listen = {listen_raw:?} is not an address like 127.0.0.1:5000")
        })?;
        let log_format = match raw.log_format.as_deref().unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => bail!("log_format = {other:?} must be \"text\" or \"json\""),
        };
        let positive = |name: &str, v: Option<u64>, default: u64| -> anyhow::Result<u64> {
            match v.unwrap_or(default) {
                0 => bail!("{name} must be greater than 0"),
                v => Ok(v),
            }
        };
        let region = raw.region.unwrap_or_else(|| "us-east-1".to_string());
        let region_ok = !region.is_empty()
            && region.len() <= 32
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !region_ok {
            bail!("region = {region:?} must look like us-east-1");
        }
        let public_host = raw.public_host.unwrap_or_else(|| listen.to_string());
        if !valid_host(&public_host) {
            bail!("public_host = {public_host:?} must be a host name or host:port");
        }
        let default_scheme = if tls.is_some() { "https" } else { "http" };
        let public_scheme = raw
            .public_scheme
            .unwrap_or_else(|| default_scheme.to_string());
        if public_scheme != "http" && public_scheme != "https" {
            bail!("public_scheme = {public_scheme:?} must be \"http\" or \"https\"");
        }
        let trusted_proxies = raw
            .trusted_proxies
            .unwrap_or_default()
            .iter()
            .map(|p| {
                p.parse::<ipnet::IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        anyhow::anyhow!(
                            "trusted_proxies entry {p:?} must be an address or network such as 10.0.0.0/8"
                        )
                    })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        if let Some(d) = &raw.registry_domain {
            if d.contains(':') || !valid_host(d) {
                bail!("registry_domain = {d:?} must be a DNS domain such as registry.example.com");
            }
        }
        let amount = |name: &str, v: Option<f64>, default: f64| -> anyhow::Result<f64> {
            match v.unwrap_or(default) {
                v if v.is_finite() && v >= 0.0 => Ok(v),
                v => bail!("{name} = {v} must be a number of at least 0"),
            }
        };
        let pricing = wharf_core::usage::Pricing {
            price_per_gb_month: amount("price_per_gb_month", raw.price_per_gb_month, 0.10)?,
            free_gb_month: amount("free_gb_month", raw.free_gb_month, 0.5)?,
        };
        let scan_eligibility_days = match raw.scan_eligibility_days.unwrap_or(0) {
            n @ 0..=MAX_SCAN_ELIGIBILITY_DAYS => n as u32,
            n => bail!(
                "scan_eligibility_days = {n} must be at most {MAX_SCAN_ELIGIBILITY_DAYS} (0: lifetime)"
            ),
        };
        let job_workers = match raw.job_workers.unwrap_or(2) {
            n @ 0..=64 => n as usize,
            n => bail!("job_workers = {n} must be at most 64"),
        };
        let encryption = crate::encryption::EncryptionSettings::from_raw(
            raw.encryption,
            raw.kms,
            raw.master_key_env,
            &data_dir,
        )?;
        let retry_base = positive("job_retry_base_secs", raw.job_retry_base_secs, 30)?;
        let retry_max = positive("job_retry_max_secs", raw.job_retry_max_secs, 3600)?;
        if retry_max < retry_base {
            bail!("job_retry_max_secs = {retry_max} must be at least job_retry_base_secs = {retry_base}");
        }
        let job_backoff = wharf_core::Backoff {
            base: std::time::Duration::from_secs(retry_base),
            max: std::time::Duration::from_secs(retry_max),
            jitter: true,
        };
        let regions = crate::regions::settle(raw.regions, &region)?;
        let webhooks = crate::webhooks::settle(raw.webhooks)?;
        Ok(Settings {
            webhooks,
            tls,
            job_backoff,
            regions,
            job_workers,
            scan_eligibility_days,
            pull_through_tag_ttl: std::time::Duration::from_secs(
                raw.pull_through_tag_ttl_secs
                    .unwrap_or(wharf_core::pull_through::DEFAULT_TAG_TTL.as_secs()),
            ),
            encryption,
            blob_store: raw.blob_store.try_into()?,
            metadata: raw.metadata.try_into()?,
            metrics_listen: raw
                .metrics_listen
                .as_deref()
                .map(|m| {
                    m.parse::<SocketAddr>().with_context(|| {
                        format!("metrics_listen = {m:?} is not an address like 127.0.0.1:9090")
                    })
                })
                .transpose()?,
            metrics_public: raw.metrics_public.unwrap_or(false),
            audit_retention_days: match raw.audit_retention_days.unwrap_or(90) {
                d if d <= MAX_AUDIT_RETENTION_DAYS => d as u32,
                d => bail!(
                    "audit_retention_days = {d} is more than {MAX_AUDIT_RETENTION_DAYS} (use 0 to keep records forever)"
                ),
            },
            pricing,
            region,
            public_host,
            public_scheme,
            trusted_proxies,
            registry_domain: raw.registry_domain,
            data_dir,
            listen,
            log_format,
            upload_max_age_secs: positive(
                "upload_max_age_secs",
                raw.upload_max_age_secs,
                24 * 3600,
            )?,
            upload_purge_interval_secs: positive(
                "upload_purge_interval_secs",
                raw.upload_purge_interval_secs,
                600,
            )?,
            gc_interval_secs: positive("gc_interval_secs", raw.gc_interval_secs, 3600)?,
            lifecycle_interval_secs: positive(
                "lifecycle_interval_secs",
                raw.lifecycle_interval_secs,
                3600,
            )?,
            // No grace would let a pass remove bytes an upload has stored but not yet recorded.
            gc_grace_secs: positive("gc_grace_secs", raw.gc_grace_secs, 600)?,
            shutdown_timeout_secs: positive(
                "shutdown_timeout_secs",
                raw.shutdown_timeout_secs,
                30,
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_and_audit_settings() {
        let s = Settings::try_from(RawConfig::default()).unwrap();
        assert_eq!(
            (s.metrics_listen, s.metrics_public, s.audit_retention_days),
            (None, false, 90)
        );
        let file: RawConfig = toml::from_str(
            "metrics_listen = \"127.0.0.1:9100\"\nmetrics_public = true\naudit_retention_days = 7",
        )
        .unwrap();
        let envs = RawConfig::from_env(env(&[("WHARF_AUDIT_RETENTION_DAYS", "0")])).unwrap();
        let s = Settings::try_from(file.merge(envs)).unwrap();
        assert_eq!(s.metrics_listen, Some("127.0.0.1:9100".parse().unwrap()));
        assert!(s.metrics_public);
        assert_eq!(s.audit_retention_days, 0);
        let envs = RawConfig::from_env(env(&[
            ("WHARF_METRICS_LISTEN", "0.0.0.0:9200"),
            ("WHARF_METRICS_PUBLIC", "false"),
        ]))
        .unwrap();
        let s = Settings::try_from(envs).unwrap();
        assert_eq!(s.metrics_listen, Some("0.0.0.0:9200".parse().unwrap()));
        assert!(!s.metrics_public);
        let e = RawConfig::from_env(env(&[("WHARF_METRICS_PUBLIC", "yes")])).unwrap_err();
        assert!(format!("{e:#}").contains("WHARF_METRICS_PUBLIC"));
        let e = Settings::try_from(RawConfig {
            metrics_listen: Some("nowhere".into()),
            ..RawConfig::default()
        })
        .unwrap_err();
        assert!(format!("{e:#}").contains("metrics_listen"));
        let e = Settings::try_from(RawConfig {
            audit_retention_days: Some(100_000),
            ..RawConfig::default()
        })
        .unwrap_err();
        assert!(format!("{e:#}").contains("audit_retention_days"));
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| pairs.iter().find(|(pk, _)| pk == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn defaults() {
        let s = Settings::try_from(RawConfig::default()).unwrap();
        assert_eq!(s.data_dir, PathBuf::from("./wharf-data"));
        assert_eq!(s.listen.to_string(), "127.0.0.1:5000");
        assert_eq!(s.upload_max_age_secs, 86400);
        assert_eq!(s.public_scheme, "http");
        assert_eq!(s.pricing, wharf_core::usage::Pricing::default());
    }

    #[test]
    fn public_scheme() {
        let s = Settings::try_from(
            RawConfig::from_env(env(&[("WHARF_PUBLIC_SCHEME", "https")])).unwrap(),
        )
        .unwrap();
        assert_eq!(s.public_scheme, "https");
        let file: RawConfig = toml::from_str("public_scheme = \"ftp\"").unwrap();
        let e = format!("{:#}", Settings::try_from(file).unwrap_err());
        assert!(e.contains("public_scheme"), "{e}");
    }

    #[test]
    fn trusted_proxies() {
        assert!(Settings::try_from(RawConfig::default())
            .unwrap()
            .trusted_proxies
            .is_empty());
        let s = Settings::try_from(
            RawConfig::from_env(env(&[(
                "WHARF_TRUSTED_PROXIES",
                "10.0.0.0/8, 127.0.0.1,fd00::/8",
            )]))
            .unwrap(),
        )
        .unwrap();
        let nets: Vec<String> = s.trusted_proxies.iter().map(|n| n.to_string()).collect();
        assert_eq!(nets, ["10.0.0.0/8", "127.0.0.1/32", "fd00::/8"]);
        let file: RawConfig = toml::from_str(r#"trusted_proxies = ["10.0.0.0/33"]"#).unwrap();
        let e = format!("{:#}", Settings::try_from(file).unwrap_err());
        assert!(
            e.contains("trusted_proxies") && e.contains("10.0.0.0/33"),
            "{e}"
        );
    }

    #[test]
    fn pricing() {
        let envs = RawConfig::from_env(env(&[
            ("WHARF_PRICE_PER_GB_MONTH", "0.25"),
            ("WHARF_FREE_GB_MONTH", "0"),
        ]))
        .unwrap();
        let s = Settings::try_from(envs).unwrap();
        assert_eq!(s.pricing.price_per_gb_month, 0.25);
        assert_eq!(s.pricing.free_gb_month, 0.0);
        let bad = |raw: RawConfig| format!("{:#}", Settings::try_from(raw).unwrap_err());
        assert!(bad(RawConfig {
            price_per_gb_month: Some(-1.0),
            ..Default::default()
        })
        .contains("price_per_gb_month"));
        assert!(bad(RawConfig {
            free_gb_month: Some(f64::NAN),
            ..Default::default()
        })
        .contains("free_gb_month"));
        let e = RawConfig::from_env(env(&[("WHARF_FREE_GB_MONTH", "lots")])).unwrap_err();
        assert!(format!("{e:#}").contains("WHARF_FREE_GB_MONTH"));
        let file: RawConfig = toml::from_str("price_per_gb_month = 0.2").unwrap();
        assert_eq!(
            Settings::try_from(file).unwrap().pricing.price_per_gb_month,
            0.2
        );
    }

    #[test]
    fn layering_file_env_flags() {
        let file: RawConfig = toml::from_str(
            "listen = \"127.0.0.1:6000\"\ndata_dir = \"/from/file\"\nupload_max_age_secs = 60",
        )
        .unwrap();
        let envs = RawConfig::from_env(env(&[("WHARF_DATA_DIR", "/from/env")])).unwrap();
        let flags = RawConfig {
            listen: Some("127.0.0.1:7000".into()),
            ..RawConfig::default()
        };
        let s = Settings::try_from(file.merge(envs).merge(flags)).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:7000");
        assert_eq!(s.data_dir, PathBuf::from("/from/env"));
        assert_eq!(s.upload_max_age_secs, 60);
    }

    #[test]
    fn clear_errors() {
        let bad = |raw: RawConfig| format!("{:#}", Settings::try_from(raw).unwrap_err());
        assert!(bad(RawConfig {
            listen: Some("nowhere".into()),
            ..Default::default()
        })
        .contains("listen"));
        assert!(bad(RawConfig {
            log_format: Some("xml".into()),
            ..Default::default()
        })
        .contains("log_format"));
        assert!(bad(RawConfig {
            upload_max_age_secs: Some(0),
            ..Default::default()
        })
        .contains("upload_max_age_secs"));
        let e = RawConfig::from_env(env(&[("WHARF_UPLOAD_MAX_AGE_SECS", "soon")])).unwrap_err();
        assert!(format!("{e:#}").contains("WHARF_UPLOAD_MAX_AGE_SECS"));
        assert!(toml::from_str::<RawConfig>("lisen = \"x\"").is_err());
    }

    #[test]
    fn tls_settings() {
        use wharf_api::tls::{ClientAuth, TlsSettings};
        let s = Settings::try_from(RawConfig::default()).unwrap();
        assert_eq!((s.tls, s.public_scheme.as_str()), (None, "http"));
        let file: RawConfig =
            toml::from_str("tls_cert = \"/etc/wharf/cert.pem\"\ntls_key = \"/etc/wharf/key.pem\"")
                .unwrap();
        let envs = RawConfig::from_env(env(&[
            ("WHARF_TLS_CLIENT_CA", "/etc/wharf/clients.pem"),
            ("WHARF_TLS_CLIENT_AUTH", "optional"),
        ]))
        .unwrap();
        let flags = RawConfig {
            tls_key: Some("/run/key.pem".into()),
            ..RawConfig::default()
        };
        let s = Settings::try_from(file.merge(envs).merge(flags)).unwrap();
        assert_eq!(s.public_scheme, "https");
        assert_eq!(
            s.tls,
            Some(Tls::Files(TlsSettings {
                cert: "/etc/wharf/cert.pem".into(),
                key: "/run/key.pem".into(),
                client_ca: Some("/etc/wharf/clients.pem".into()),
                client_auth: ClientAuth::Optional,
            }))
        );
        let s = Settings::try_from(
            RawConfig::from_env(env(&[
                ("WHARF_TLS_SELF_SIGNED", "true"),
                ("WHARF_PUBLIC_SCHEME", "http"),
            ]))
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            s.tls,
            Some(Tls::SelfSigned {
                client_ca: None,
                client_auth: ClientAuth::Required
            })
        );
        // An explicit scheme wins (a proxy in front may terminate TLS differently).
        assert_eq!(s.public_scheme, "http");

        let bad = |toml_text: &str| {
            let raw: RawConfig = toml::from_str(toml_text).unwrap();
            format!("{:#}", Settings::try_from(raw).unwrap_err())
        };
        let check = |toml_text: &str, want: &str| {
            let e = bad(toml_text);
            assert!(e.contains(want), "{toml_text}: {e}");
        };
        check("tls_cert = \"c.pem\"", "tls_cert is set but tls_key is not");
        check("tls_key = \"k.pem\"", "tls_key is set but tls_cert is not");
        check("tls_client_ca = \"ca.pem\"", "tls_client_ca needs TLS on");
        check(
            "tls_self_signed = true\ntls_client_auth = \"optional\"",
            "tls_client_auth needs tls_client_ca",
        );
        check(
            "tls_self_signed = true\ntls_client_ca = \"ca.pem\"\ntls_client_auth = \"sometimes\"",
            "tls_client_auth = \"sometimes\"",
        );
        check(
            "tls_self_signed = true\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"",
            "exclude each other",
        );
        let e = RawConfig::from_env(env(&[("WHARF_TLS_SELF_SIGNED", "yes")])).unwrap_err();
        assert!(format!("{e:#}").contains("WHARF_TLS_SELF_SIGNED"));
    }

    #[test]
    fn gc_settings() {
        let s = Settings::try_from(RawConfig::default()).unwrap();
        assert_eq!((s.gc_interval_secs, s.gc_grace_secs), (3600, 600));
        let envs = RawConfig::from_env(env(&[
            ("WHARF_GC_INTERVAL_SECS", "60"),
            ("WHARF_GC_GRACE_SECS", "5"),
        ]))
        .unwrap();
        let s = Settings::try_from(envs).unwrap();
        assert_eq!((s.gc_interval_secs, s.gc_grace_secs), (60, 5));
        let zero = RawConfig::from_env(env(&[("WHARF_GC_GRACE_SECS", "0")])).unwrap();
        let e = Settings::try_from(zero).unwrap_err();
        assert!(format!("{e:#}").contains("gc_grace_secs"));
    }

    #[test]
    fn scan_eligibility_days() {
        let days = |raw: RawConfig| Settings::try_from(raw).map(|s| s.scan_eligibility_days);
        assert_eq!(
            days(RawConfig::default()).unwrap(),
            0,
            "lifetime by default"
        );
        let file: RawConfig = toml::from_str("scan_eligibility_days = 30").unwrap();
        assert_eq!(days(file).unwrap(), 30);
        let file: RawConfig = toml::from_str("scan_eligibility_days = 30").unwrap();
        let envs = RawConfig::from_env(env(&[("WHARF_SCAN_ELIGIBILITY_DAYS", "90")])).unwrap();
        assert_eq!(days(file.merge(envs)).unwrap(), 90, "the environment wins");
        let envs = RawConfig::from_env(env(&[("WHARF_SCAN_ELIGIBILITY_DAYS", "3650")])).unwrap();
        assert_eq!(days(envs).unwrap(), 3650);
        let envs = RawConfig::from_env(env(&[("WHARF_SCAN_ELIGIBILITY_DAYS", "3651")])).unwrap();
        assert_eq!(
            format!("{:#}", days(envs).unwrap_err()),
            "scan_eligibility_days = 3651 must be at most 3650 (0: lifetime)"
        );
        let e = RawConfig::from_env(env(&[("WHARF_SCAN_ELIGIBILITY_DAYS", "-1")])).unwrap_err();
        assert!(format!("{e:#}").contains("WHARF_SCAN_ELIGIBILITY_DAYS"));
    }
}
