//! The scanning commands of the binary against a data directory: `wharf vulndb import` of a
//! directory tree and of a zip archive (counts printed, unreadable input failing), `wharf vulndb
//! status`, `wharf scan run` and `wharf scan sbom` on an image pushed into the same directory.

use bytes::Bytes;
use futures::StreamExt;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};
use wharf_core::model::{ByteStream, RepoSettings};
use wharf_core::stores::{BlobStoreSettings, MetadataSettings, StoreSettings};
use wharf_core::Repo;
use wharf_oci::{Digest, Reference};

const OPENSSL: &str = r#"{"id":"DSA-9001-1","modified":"2024-02-01T00:00:00Z","aliases":["CVE-2024-0001"],
 "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
 "affected":[{"package":{"ecosystem":"Debian:12","name":"openssl"},
   "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.0.13-1~deb12u1"}]}]}]}"#;
const ZLIB: &str = r#"{"id":"DSA-9003-1","modified":"2024-02-01T00:00:00Z",
 "affected":[{"package":{"ecosystem":"Debian:12","name":"zlib"},
   "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1:1.2.13.dfsg-1"}]}]}]}"#;
const REQUESTS: &str = r#"{"id":"PYSEC-2023-74","modified":"2023-05-26T00:00:00Z",
 "affected":[{"package":{"ecosystem":"PyPI","name":"requests"},
   "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"2.3.0"},{"fixed":"2.31.0"}]}]}]}"#;

fn wharf(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wharf"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env_remove("WHARF_CONFIG")
        .output()
        .expect("run wharf")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "wharf failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn layer(files: &[(&str, &str)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (path, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, path, content.as_bytes())
            .unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

/// Pushes a Debian 12 image with libssl3 (source openssl) into `team/app:v1`.
async fn push_image(data: &Path) {
    let reg = wharf_core::stores::open_registry(&StoreSettings {
        data_dir: data.to_path_buf(),
        metadata: MetadataSettings::Embedded,
        blob_store: BlobStoreSettings::Filesystem,
    })
    .await
    .unwrap();
    let repo = Repo::new(reg.default_account(), "team/app".parse().unwrap());
    reg.create_repository(&repo, &RepoSettings::default(), &[])
        .await
        .unwrap();
    let push = |bytes: Vec<u8>| {
        let reg = reg.clone();
        let repo = repo.clone();
        async move {
            let d = Digest::sha256(&bytes);
            let n = bytes.len();
            let body: ByteStream =
                futures::stream::once(async move { Ok(Bytes::from(bytes)) }).boxed();
            reg.push_blob(&repo, &d, body).await.unwrap();
            (d, n)
        }
    };
    let (config, config_size) = push(br#"{"os":"linux"}"#.to_vec()).await;
    let (l, l_size) = push(layer(&[
        ("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"),
        (
            "var/lib/dpkg/status",
            "Package: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: 3.0.11-1~deb12u1\nArchitecture: amd64\n",
        ),
    ]))
    .await;
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config}","size":{config_size}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{l}","size":{l_size}}}]}}"#
    );
    reg.put_manifest(
        &repo,
        &Reference::Tag("v1".parse().unwrap()),
        &[],
        None,
        manifest.as_bytes(),
    )
    .await
    .unwrap();
    reg.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn vulndb_import_and_scan_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    push_image(&data).await;

    // A directory tree: JSON records at any depth, other files ignored, a bad record counted.
    let tree = tmp.path().join("osv");
    std::fs::create_dir_all(tree.join("debian/nested")).unwrap();
    std::fs::write(tree.join("debian/nested/DSA-9001-1.json"), OPENSSL).unwrap();
    std::fs::write(tree.join("debian/DSA-9003-1.json"), ZLIB).unwrap();
    std::fs::write(tree.join("README.md"), "not a record").unwrap();
    std::fs::write(tree.join("broken.json"), "{\"id\":").unwrap();
    let out = stdout(&wharf(&data, &["vulndb", "import", tree.to_str().unwrap()]));
    assert!(out.contains("read 3 documents"), "{out}");
    assert!(out.contains("new:       2\n"), "{out}");
    assert!(out.contains("unchanged: 0\n"), "{out}");
    assert!(out.contains("invalid:   1\n"), "{out}");
    assert!(out.contains("broken.json: "), "{out}");

    // A zip as osv.dev ships them: the same two records and a new one.
    let zip_path = tmp.path().join("all.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, record) in [
        ("DSA-9001-1.json", OPENSSL),
        ("DSA-9003-1.json", ZLIB),
        ("PYSEC-2023-74.json", REQUESTS),
    ] {
        zip.start_file(name, options).unwrap();
        zip.write_all(record.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    let out = stdout(&wharf(
        &data,
        &["vulndb", "import", zip_path.to_str().unwrap()],
    ));
    assert!(out.contains("new:       1\n"), "{out}");
    assert!(out.contains("unchanged: 2\n"), "{out}");
    assert!(out.contains("invalid:   0\n"), "{out}");

    // Unreadable input fails the command.
    let missing = wharf(&data, &["vulndb", "import", "/nonexistent/osv"]);
    assert!(!missing.status.success());
    let bad_zip = tmp.path().join("bad.zip");
    std::fs::write(&bad_zip, b"PK not really a zip").unwrap();
    let bad = wharf(&data, &["vulndb", "import", bad_zip.to_str().unwrap()]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("not a readable zip archive"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );

    let out = stdout(&wharf(&data, &["vulndb", "status"]));
    assert!(out.contains("advisories: 3\n"), "{out}");
    assert!(out.contains("  Debian:12: 2\n"), "{out}");
    assert!(out.contains("  PyPI: 1\n"), "{out}");

    // No SBOM before a scan; then a scan, and both SBOM formats.
    let before = wharf(
        &data,
        &["scan", "sbom", "--repository", "team/app", "--tag", "v1"],
    );
    assert!(!before.status.success());
    let out = stdout(&wharf(
        &data,
        &["scan", "run", "--repository", "team/app", "--tag", "v1"],
    ));
    assert!(out.contains(": COMPLETE\n"), "{out}");
    assert!(out.contains("  CRITICAL: 1\n"), "{out}");
    for (format, marker) in [
        ("cyclonedx", "\"bomFormat\": \"CycloneDX\""),
        ("spdx", "\"spdxVersion\": \"SPDX-2.3\""),
    ] {
        let out = stdout(&wharf(
            &data,
            &[
                "scan",
                "sbom",
                "--repository",
                "team/app",
                "--tag",
                "v1",
                "--format",
                format,
            ],
        ));
        assert!(out.contains(marker), "{format}: {out}");
        assert!(out.contains("libssl3"), "{format}");
        let _: serde_json::Value = serde_json::from_str(&out).unwrap();
    }
}
