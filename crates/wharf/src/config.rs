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
    /// The `[blob_store]` table.
    #[serde(default)]
    pub blob_store: crate::storage::RawBlobStore,
    /// The `[metadata]` table.
    #[serde(default)]
    pub metadata: crate::metadata::RawMetadata,
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
            blob_store: crate::storage::RawBlobStore::from_env(&get)?,
            metadata: crate::metadata::RawMetadata::from_env(&get),
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
            blob_store: self.blob_store.merge(over.blob_store),
            metadata: self.metadata.merge(over.metadata),
        }
    }
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
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
    /// Where blobs live.
    pub blob_store: crate::storage::BlobStoreSettings,
    /// Where metadata lives.
    pub metadata: crate::metadata::MetadataSettings,
}

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

impl TryFrom<RawConfig> for Settings {
    type Error = anyhow::Error;

    fn try_from(raw: RawConfig) -> anyhow::Result<Settings> {
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
        let public_scheme = raw.public_scheme.unwrap_or_else(|| "http".to_string());
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
        Ok(Settings {
            job_workers,
            scan_eligibility_days,
            blob_store: raw.blob_store.try_into()?,
            metadata: raw.metadata.try_into()?,
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
