//! The fixture of the scanning tests: layers built from package metadata, OSV records, a
//! registry over real stores, pushes, and running queued scan jobs as the runner does.
use bytes::Bytes;
use futures::StreamExt;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;
use wharf_blob::{ByteStream, FsBlobStore};
use wharf_core::scan::{
    RegistryScanningConfiguration, ScanFilter, ScanFrequency, ScanRule, ScanStatus, ScanType,
    Severity,
};
use wharf_core::{CoreError, ImageId, JobKind, Registry, Repo};
use wharf_meta::{MetaStore, RepoSettings};
use wharf_oci::{Digest, Reference};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const GZIP_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

pub const OS_RELEASE: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n";

pub const DPKG_STATUS: &str = "Package: libssl3
Status: install ok installed
Priority: optional
Section: libs
Architecture: amd64
Multi-Arch: same
Source: openssl
Version: 3.0.11-1~deb12u1
Description: Secure Sockets Layer toolkit - shared libraries

Package: base-files
Status: install ok installed
Architecture: amd64
Version: 12.4+deb12u5
Description: Debian base system miscellaneous files
";

pub const DJANGO_METADATA: &str =
    "Metadata-Version: 2.1\nName: Django\nVersion: 4.1.9\nLicense: BSD-3-Clause\n";
pub const FLASK_METADATA: &str = "Metadata-Version: 2.1\nName: Flask\nVersion: 2.3.2\n";

/// openssl on Debian 12, fixed after the installed version; CVSS 9.8.
pub const OSV_OPENSSL: &str = r#"{"id":"DSA-9001-1","modified":"2024-02-01T00:00:00Z","published":"2024-01-30T00:00:00Z",
 "aliases":["CVE-2024-0001"],"summary":"openssl - security update","details":"A buffer overread in openssl.",
 "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
 "references":[{"type":"ADVISORY","url":"https://www.debian.org/security/2024/dsa-9001"}],
 "affected":[{"package":{"ecosystem":"Debian:12","name":"openssl"},
   "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.0.13-1~deb12u1"}]}]}]}"#;

/// The same package on Debian 11 only: must not match a Debian 12 image.
pub const OSV_OPENSSL_DEB11: &str = r#"{"id":"DSA-9002-1","modified":"2024-02-01T00:00:00Z","aliases":["CVE-2024-0002"],
 "affected":[{"package":{"ecosystem":"Debian:11","name":"openssl"},
   "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"9:9"}]}]}]}"#;

/// Django 4.0 up to 4.1.10, a GitHub "MODERATE".
pub const OSV_DJANGO: &str = r#"{"id":"PYSEC-2023-100","modified":"2023-07-10T00:00:00Z","aliases":["CVE-2023-36053"],
 "details":"EmailValidator and URLValidator are subject to ReDoS.","database_specific":{"severity":"MODERATE"},
 "affected":[{"package":{"ecosystem":"PyPI","name":"django"},
   "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"4.0"},{"fixed":"4.1.10"}]}]}]}"#;

/// Flask fixed below the installed version: must not match.
pub const OSV_FLASK: &str = r#"{"id":"PYSEC-2023-62","modified":"2023-05-01T00:00:00Z","aliases":["CVE-2023-30861"],
 "affected":[{"package":{"ecosystem":"PyPI","name":"flask"},
   "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.2.5"}]}]}]}"#;

pub fn docs(records: &[&str]) -> Vec<(String, Vec<u8>)> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| (format!("record-{i}.json"), r.as_bytes().to_vec()))
        .collect()
}

/// A gzip-compressed tar of `files` (path, content).
pub fn layer(files: &[(&str, &str)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (path, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, path, content.as_bytes())
            .unwrap();
    }
    let mut gz = tar.into_inner().unwrap();
    gz.flush().unwrap();
    gz.finish().unwrap()
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub reg: Registry,
    pub meta: MetaStore,
}

impl Fixture {
    pub async fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let blobs = FsBlobStore::open(dir.path().join("blobs")).unwrap();
        let meta = wharf_meta::testing::store(dir.path()).await;
        let reg = Registry::new(Arc::new(blobs), meta.clone())
            .with_registry_host("reg.test:5000")
            .with_keys(wharf_core::crypt::Keys::ephemeral());
        Fixture { dir, reg, meta }
    }

    pub async fn repo(&self, name: &str, scan_on_push: bool) -> Repo {
        let repo = Repo::new(
            self.meta.default_account().parse().unwrap(),
            name.parse().unwrap(),
        );
        let settings = RepoSettings {
            scan_on_push,
            ..RepoSettings::default()
        };
        self.reg
            .create_repository(&repo, &settings, &[])
            .await
            .unwrap();
        repo
    }

    pub async fn blob(&self, repo: &Repo, bytes: Vec<u8>) -> (Digest, usize) {
        let digest = Digest::sha256(&bytes);
        let size = bytes.len();
        let body: ByteStream = futures::stream::once(async move { Ok(Bytes::from(bytes)) }).boxed();
        self.reg.push_blob(repo, &digest, body).await.unwrap();
        (digest, size)
    }

    /// Pushes an image manifest with `config_type` and layers `(media type, bytes)`, tagged.
    pub async fn push(
        &self,
        repo: &Repo,
        tag: &str,
        config_type: &str,
        artifact: Option<(&str, &Digest)>,
        layers: Vec<(&str, Vec<u8>)>,
    ) -> Result<Digest, CoreError> {
        let config = format!(r#"{{"architecture":"amd64","os":"linux","tag":"{tag}"}}"#);
        let (cd, cs) = self.blob(repo, config.into_bytes()).await;
        let mut descriptors = Vec::new();
        for (media_type, bytes) in layers {
            let (d, s) = self.blob(repo, bytes).await;
            descriptors.push(format!(
                r#"{{"mediaType":"{media_type}","digest":"{d}","size":{s}}}"#
            ));
        }
        let extra = match artifact {
            Some((t, subject)) => format!(
                r#","artifactType":"{t}","subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{subject}","size":1}}"#
            ),
            None => String::new(),
        };
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}"{extra},"config":{{"mediaType":"{config_type}","digest":"{cd}","size":{cs}}},"layers":[{}]}}"#,
            descriptors.join(",")
        );
        Ok(self
            .reg
            .put_manifest(
                repo,
                &Reference::Tag(tag.parse().unwrap()),
                &[],
                Some(OCI_MANIFEST),
                body.as_bytes(),
            )
            .await?
            .digest)
    }

    /// The Debian + Python image of this suite.
    pub async fn debian_image(&self, repo: &Repo, tag: &str) -> Digest {
        let base = layer(&[
            ("etc/os-release", OS_RELEASE),
            ("var/lib/dpkg/status", DPKG_STATUS),
        ]);
        let app = layer(&[
            (
                "usr/local/lib/python3.11/site-packages/Django-4.1.9.dist-info/METADATA",
                DJANGO_METADATA,
            ),
            (
                "usr/local/lib/python3.11/site-packages/flask-2.3.2.dist-info/METADATA",
                FLASK_METADATA,
            ),
            // The tag makes images differ by digest.
            ("srv/tag", tag),
        ]);
        self.push(
            repo,
            tag,
            "application/vnd.oci.image.config.v1+json",
            None,
            vec![(GZIP_LAYER, base), (GZIP_LAYER, app)],
        )
        .await
        .unwrap()
    }

    /// Runs every queued job of `kind` as the job runner does; answers (repository, status).
    pub async fn run_jobs(&self, kind: &str) -> Vec<(String, Option<ScanStatus>)> {
        let mut out = Vec::new();
        for job in self
            .reg
            .claim_jobs_of(&[kind], Duration::from_secs(60), 100)
            .await
            .unwrap()
        {
            let (account, repository, digest, rescan) = match job.kind().unwrap() {
                JobKind::ImageScan {
                    account,
                    repository,
                    digest,
                } => (account, repository, digest, false),
                JobKind::Rescan {
                    account,
                    repository,
                    digest,
                } => (account, repository, digest, true),
                other => panic!("unexpected job {other:?}"),
            };
            let status = self
                .reg
                .run_scan_job(&account, &repository, &digest, rescan)
                .await
                .unwrap();
            assert!(self.reg.complete_job(&job).await.unwrap());
            out.push((repository, status));
        }
        out
    }

    pub async fn queued(&self, kind: &str) -> usize {
        let jobs = self
            .reg
            .claim_jobs_of(&[kind], Duration::from_secs(60), 100)
            .await
            .unwrap();
        for j in &jobs {
            self.reg.release_job(j).await.unwrap();
        }
        jobs.len()
    }

    /// (name, severity, package, version, fixed version) of every finding, in report order.
    pub async fn findings(
        &self,
        repo: &Repo,
        digest: &Digest,
    ) -> Vec<(String, Severity, String, String, Option<String>)> {
        let report = self.reg.image_scan(repo, digest, None, 1000).await.unwrap();
        report
            .findings
            .iter()
            .map(|f| {
                (
                    f.finding.name.clone(),
                    f.finding.severity,
                    f.finding.package.name.clone(),
                    f.finding.package.version.clone(),
                    f.finding.fixed_version.clone(),
                )
            })
            .collect()
    }
}

pub fn id(digest: &Digest) -> ImageId {
    ImageId {
        digest: Some(digest.to_string()),
        tag: None,
    }
}

pub fn expected_findings() -> Vec<(String, Severity, String, String, Option<String>)> {
    vec![
        (
            "CVE-2024-0001".into(),
            Severity::Critical,
            "libssl3".into(),
            "3.0.11-1~deb12u1".into(),
            Some("3.0.13-1~deb12u1".into()),
        ),
        (
            "CVE-2023-36053".into(),
            Severity::Medium,
            // The Python cataloger names distributions as Syft does (PEP 503 normalized).
            "django".into(),
            "4.1.9".into(),
            Some("4.1.10".into()),
        ),
    ]
}

pub fn config(
    scan_type: ScanType,
    rules: &[(ScanFrequency, &str)],
) -> RegistryScanningConfiguration {
    RegistryScanningConfiguration {
        scan_type,
        rules: rules
            .iter()
            .map(|(freq, filter)| ScanRule {
                scan_frequency: *freq,
                repository_filters: vec![ScanFilter {
                    filter: filter.to_string(),
                    filter_type: "WILDCARD".into(),
                }],
            })
            .collect(),
    }
}
