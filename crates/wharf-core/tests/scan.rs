//! Image scanning over real stores (filesystem blobs + the test metadata store): images whose
//! layers are built here (a Debian dpkg status and os-release, a Python dist-info) are pushed,
//! scanned through the job queue as the runner does, and matched against OSV records imported
//! here, with exact findings. Also: every non-COMPLETE status, scan on push queued in the push
//! transaction, continuous rescans after an import (ENHANCED only), the read-time statuses of
//! archived images and images past the scan eligibility window, rescans owed by an import that
//! stopped partway, and SBOM referrers attached once.

#[path = "scan/fixture.rs"]
mod fixture;

use fixture::*;
use futures::StreamExt;
use wharf_core::scan::{
    SbomFormat, ScanFrequency, ScanStatus, ScanType, Severity, SBOM_ANNOTATION,
};
use wharf_core::{CoreError, StorageClass};
use wharf_oci::{Digest, Reference};

#[path = "scan/read_time_status.rs"]
mod read_time_status;

#[path = "scan/interrupted_import.rs"]
mod interrupted_import;

#[tokio::test]
async fn a_manual_scan_finds_exactly_the_vulnerable_packages_and_attaches_sboms_once() {
    let f = Fixture::new().await;
    let report = f
        .reg
        .import_advisories(docs(&[
            OSV_OPENSSL,
            OSV_OPENSSL_DEB11,
            OSV_DJANGO,
            OSV_FLASK,
            "{not json",
        ]))
        .await
        .unwrap();
    assert_eq!(
        (
            report.new,
            report.updated,
            report.unchanged,
            report.invalid,
            report.rescans
        ),
        (4, 0, 0, 1, 0)
    );
    assert_eq!(report.invalid_reasons[0].0, "record-4.json");
    let status = f.reg.vulndb_status().await.unwrap();
    assert_eq!((status.advisories, status.keys), (4, 4));
    let updated_at = status.updated_at.expect("an import time");

    let repo = f.repo("team/app", false).await;
    let digest = f.debian_image(&repo, "v1").await;
    assert_eq!(
        f.queued("image_scan").await,
        0,
        "no scan on push configured"
    );
    match f.reg.image_scan(&repo, &digest, None, 100).await {
        Err(CoreError::ScanNotFound(m)) => assert!(m.contains(&digest.to_string()), "{m}"),
        other => panic!("{other:?}"),
    }

    let (image, started) = f
        .reg
        .start_image_scan(&repo, &id(&digest))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (image.digest.clone(), started),
        (digest.clone(), ScanStatus::InProgress)
    );
    let pending = f.reg.image_scan(&repo, &digest, None, 100).await.unwrap();
    assert_eq!(pending.summary.status, ScanStatus::InProgress);
    assert!(pending.findings.is_empty());
    // Asking twice queues one scan.
    f.reg
        .start_image_scan(&repo, &id(&digest))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        f.run_jobs("image_scan").await,
        [("team/app".to_string(), Some(ScanStatus::Complete))]
    );

    let report = f.reg.image_scan(&repo, &digest, None, 100).await.unwrap();
    assert_eq!(report.summary.status, ScanStatus::Complete);
    assert_eq!(
        report.summary.description.as_deref(),
        Some("The scan was completed successfully.")
    );
    assert_eq!(report.summary.scan_type, ScanType::Basic);
    assert_eq!(
        report.summary.vulnerability_source_updated_at,
        Some(updated_at)
    );
    assert!(report.summary.completed_at.is_some());
    assert_eq!(
        report.summary.severity_counts,
        [(Severity::Critical, 1), (Severity::Medium, 1)]
    );
    assert_eq!(f.findings(&repo, &digest).await, expected_findings());
    let openssl = &report.findings[0];
    assert_eq!(openssl.finding.advisory_id, "DSA-9001-1");
    assert_eq!(openssl.finding.cvss_score, Some(9.8));
    assert_eq!(
        openssl.finding.package.source_name.as_deref(),
        Some("openssl")
    );
    assert_eq!(openssl.first_observed_at, openssl.last_observed_at);

    // Paging: one finding per page, an opaque token between, none after the last.
    let first = f.reg.image_scan(&repo, &digest, None, 1).await.unwrap();
    assert_eq!(first.findings.len(), 1);
    let token = first.next_token.expect("a second page");
    let second = f
        .reg
        .image_scan(&repo, &digest, Some(&token), 1)
        .await
        .unwrap();
    assert_eq!(second.findings[0].finding.name, "CVE-2023-36053");
    assert_eq!(second.next_token, None);
    assert!(matches!(
        f.reg.image_scan(&repo, &digest, Some("garbage"), 1).await,
        Err(CoreError::InvalidParameter(_))
    ));

    let record = f
        .reg
        .resolve_image(&repo, &id(&digest))
        .await
        .unwrap()
        .unwrap();
    let never_scanned = wharf_meta::ImageRecord {
        digest: Digest::sha256(b"never pushed"),
        ..record.clone()
    };
    let summaries = f
        .reg
        .scan_summaries(&repo, &[record, never_scanned])
        .await
        .unwrap();
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[&digest], report.summary);

    // Two SBOM referrers, each holding the document `sbom` prints.
    let sboms = |f: &Fixture| {
        let (reg, repo, digest) = (f.reg.clone(), repo.clone(), digest.clone());
        async move {
            let mut refs = reg.referrer_records(&repo, &digest).await.unwrap();
            refs.sort_by(|a, b| a.artifact_type.cmp(&b.artifact_type));
            refs
        }
    };
    let refs = sboms(&f).await;
    let types: Vec<Option<&str>> = refs.iter().map(|r| r.artifact_type.as_deref()).collect();
    assert_eq!(
        types,
        [
            Some("application/spdx+json"),
            Some("application/vnd.cyclonedx+json")
        ]
    );
    for (r, format) in refs.iter().zip([SbomFormat::Spdx, SbomFormat::CycloneDx]) {
        assert!(r.annotations.as_deref().unwrap().contains(SBOM_ANNOTATION));
        let served = f
            .reg
            .get_manifest(&repo, &Reference::Digest(r.digest.clone()))
            .await
            .unwrap();
        let manifest: serde_json::Value = serde_json::from_slice(&served.body).unwrap();
        assert_eq!(manifest["subject"]["digest"], digest.to_string());
        assert_eq!(
            manifest["config"]["mediaType"],
            "application/vnd.oci.empty.v1+json"
        );
        let layer: Digest = manifest["layers"][0]["digest"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let stored: Vec<u8> = f
            .reg
            .read_blob(&repo, &layer, 0, u64::MAX)
            .await
            .unwrap()
            .map(|c| c.unwrap())
            .collect::<Vec<_>>()
            .await
            .concat();
        let printed = f.reg.sbom(&repo, &digest, format).await.unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&stored).unwrap(),
            printed
        );
        let text = printed.to_string();
        assert!(
            text.contains("libssl3") && text.contains("Django"),
            "{format:?}"
        );
    }
    // Neither SBOM push queued a scan, and scanning again does not stack SBOMs.
    assert_eq!(f.queued("image_scan").await, 0);
    assert_eq!(
        f.reg.scan_image(&repo, &digest).await.unwrap(),
        ScanStatus::Complete
    );
    let again = sboms(&f).await;
    let digests =
        |r: &[wharf_meta::Referrer]| r.iter().map(|r| r.digest.clone()).collect::<Vec<_>>();
    assert_eq!(digests(&again), digests(&refs));
    // A rescan keeps when each finding was first seen.
    let rescanned = f.reg.image_scan(&repo, &digest, None, 100).await.unwrap();
    assert_eq!(
        rescanned.findings[0].first_observed_at,
        openssl.first_observed_at
    );

    // Deleting the image deletes its scan.
    f.reg
        .delete_manifest(&repo, &Reference::Digest(digest.clone()))
        .await
        .unwrap();
    assert!(f
        .meta
        .image_scan(repo.key(), &digest)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn what_cannot_be_scanned_gets_its_status_and_reason() {
    let f = Fixture::new().await;
    let repo = f.repo("odd/things", false).await;
    let image = f.debian_image(&repo, "v1").await;

    // An index.
    let index_body = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{{"mediaType":"{OCI_MANIFEST}","digest":"{image}","size":1}}]}}"#
    );
    let index = f
        .reg
        .put_manifest(
            &repo,
            &Reference::Tag("multi".parse().unwrap()),
            &[],
            Some(OCI_INDEX),
            index_body.as_bytes(),
        )
        .await
        .unwrap()
        .digest;
    // An attestation-like artifact referring to the image.
    let artifact = f
        .push(
            &repo,
            "att",
            "application/vnd.oci.empty.v1+json",
            Some(("application/vnd.in-toto+json", &image)),
            vec![("application/vnd.in-toto+json", b"{}".to_vec())],
        )
        .await
        .unwrap();
    // A layer that claims gzip but is not.
    let corrupt = f
        .push(
            &repo,
            "corrupt",
            "application/vnd.oci.image.config.v1+json",
            None,
            vec![(GZIP_LAYER, b"this is not gzip at all".to_vec())],
        )
        .await
        .unwrap();

    for (digest, what) in [
        (&index, "image index"),
        (&artifact, "application/vnd.in-toto+json"),
    ] {
        match f.reg.start_image_scan(&repo, &id(digest)).await {
            Err(CoreError::UnsupportedImageType(m)) => assert!(m.contains(what), "{m}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            f.reg.scan_image(&repo, digest).await.unwrap(),
            ScanStatus::UnsupportedImage
        );
        let report = f.reg.image_scan(&repo, digest, None, 100).await.unwrap();
        assert_eq!(report.summary.status, ScanStatus::UnsupportedImage);
        assert!(report
            .summary
            .description
            .as_deref()
            .unwrap()
            .contains(what));
        assert!(report.summary.severity_counts.is_empty());
    }

    assert_eq!(
        f.reg.scan_image(&repo, &corrupt).await.unwrap(),
        ScanStatus::Failed
    );
    let failed = f.reg.image_scan(&repo, &corrupt, None, 100).await.unwrap();
    assert_eq!(failed.summary.status, ScanStatus::Failed);
    let reason = failed.summary.description.unwrap();
    assert!(reason.starts_with("layer 0"), "{reason}");
    // The corrupt bytes are still served exactly.
    let served = f
        .reg
        .get_manifest(&repo, &Reference::Digest(corrupt.clone()))
        .await
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&served.body).unwrap();
    let layer: Digest = manifest["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let bytes: Vec<u8> = f
        .reg
        .read_blob(&repo, &layer, 0, u64::MAX)
        .await
        .unwrap()
        .map(|c| c.unwrap())
        .collect::<Vec<_>>()
        .await
        .concat();
    assert_eq!(bytes, b"this is not gzip at all");

    // Archived (an image no index lists).
    let image = f.debian_image(&repo, "v2").await;
    f.reg
        .update_storage_class(
            &repo,
            &id(&image),
            StorageClass::Archive,
            wharf_core::unix_now(),
        )
        .await
        .unwrap()
        .unwrap();
    match f.reg.start_image_scan(&repo, &id(&image)).await {
        Err(CoreError::ImageArchived(m)) => assert!(m.contains(&image.to_string()), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        f.reg.scan_image(&repo, &image).await.unwrap(),
        ScanStatus::ImageArchived
    );
    assert_eq!(
        f.reg
            .image_scan(&repo, &image, None, 100)
            .await
            .unwrap()
            .summary
            .status,
        ScanStatus::ImageArchived
    );
    // An unknown image.
    let missing = Digest::sha256(b"missing");
    assert!(matches!(
        f.reg.start_image_scan(&repo, &id(&missing)).await,
        Ok(Err(wharf_core::ImageFailure::ImageNotFound))
    ));
}

#[tokio::test]
async fn scan_on_push_is_queued_with_the_push() {
    let f = Fixture::new().await;
    let account = f.meta.default_account().parse().unwrap();
    let flagged = f.repo("flagged/app", true).await;
    let ruled = f.repo("prod-api", false).await;
    let manual = f.repo("dev-api", false).await;
    f.reg
        .put_registry_scanning_configuration(
            &account,
            config(ScanType::Basic, &[(ScanFrequency::ScanOnPush, "prod*")]),
        )
        .await
        .unwrap();

    let a = f.debian_image(&flagged, "a").await;
    // The push itself recorded the scan: findings asked for at once answer IN_PROGRESS.
    assert_eq!(
        f.reg
            .image_scan(&flagged, &a, None, 10)
            .await
            .unwrap()
            .summary
            .status,
        ScanStatus::InProgress
    );
    let b = f.debian_image(&ruled, "b").await;
    assert_eq!(
        f.reg
            .image_scan(&ruled, &b, None, 10)
            .await
            .unwrap()
            .summary
            .status,
        ScanStatus::InProgress
    );
    let c = f.debian_image(&manual, "c").await;
    assert!(matches!(
        f.reg.image_scan(&manual, &c, None, 10).await,
        Err(CoreError::ScanNotFound(_))
    ));
    assert_eq!(f.queued("image_scan").await, 2);
    // Pushing the same image again queues nothing more.
    f.debian_image(&flagged, "a").await;
    assert_eq!(f.queued("image_scan").await, 2);
    // Nor does an artifact, nor a push that fails.
    f.push(
        &flagged,
        "sig",
        "application/vnd.dev.cosign.simplesigning.v1+json",
        None,
        vec![(
            "application/vnd.dev.cosign.simplesigning.v1+json",
            b"sig".to_vec(),
        )],
    )
    .await
    .unwrap();
    let missing_layer = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":3}},"layers":[]}}"#,
        Digest::sha256(b"nope")
    );
    let refused = f
        .reg
        .put_manifest(
            &flagged,
            &Reference::Tag("broken".parse().unwrap()),
            &[],
            Some(OCI_MANIFEST),
            missing_layer.as_bytes(),
        )
        .await;
    assert!(matches!(
        refused,
        Err(CoreError::ManifestBlobUnknown { .. })
    ));
    assert_eq!(f.queued("image_scan").await, 2);

    let mut ran = f.run_jobs("image_scan").await;
    ran.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(
        ran,
        [
            ("flagged/app".to_string(), Some(ScanStatus::Complete)),
            ("prod-api".to_string(), Some(ScanStatus::Complete)),
        ]
    );
    // A scan whose image was deleted before it ran is nothing to do.
    let d = f.debian_image(&flagged, "d").await;
    f.reg
        .delete_manifest(&flagged, &Reference::Digest(d))
        .await
        .unwrap();
    assert_eq!(
        f.run_jobs("image_scan").await,
        [("flagged/app".to_string(), None)]
    );
}

#[tokio::test]
async fn an_import_rescans_continuously_scanned_images_from_their_stored_inventory() {
    let f = Fixture::new().await;
    let account = f.meta.default_account().parse().unwrap();
    f.reg
        .put_registry_scanning_configuration(
            &account,
            config(
                ScanType::Enhanced,
                &[
                    (ScanFrequency::ContinuousScan, "cont*"),
                    (ScanFrequency::ScanOnPush, "push*"),
                ],
            ),
        )
        .await
        .unwrap();
    f.reg.import_advisories(docs(&[OSV_OPENSSL])).await.unwrap();
    let cont = f.repo("cont/app", false).await;
    let push = f.repo("push/app", false).await;
    let c = f.debian_image(&cont, "v1").await;
    let p = f.debian_image(&push, "v1").await;
    assert_eq!(f.run_jobs("image_scan").await.len(), 2);
    let openssl_only = vec![expected_findings()[0].clone()];
    assert_eq!(f.findings(&cont, &c).await, openssl_only);
    assert_eq!(
        f.reg
            .image_scan(&cont, &c, None, 10)
            .await
            .unwrap()
            .summary
            .scan_type,
        ScanType::Enhanced
    );
    let refs_before = f.reg.referrer_records(&cont, &c).await.unwrap().len();

    // Every blob's bytes are gone: a rescan works from the stored inventory alone.
    std::fs::remove_dir_all(f.dir.path().join("blobs").join("blobs")).unwrap();
    let report = f
        .reg
        .import_advisories(docs(&[OSV_DJANGO, OSV_FLASK]))
        .await
        .unwrap();
    assert_eq!((report.new, report.rescans), (2, 1));
    assert_eq!(
        f.run_jobs("rescan").await,
        [("cont/app".to_string(), Some(ScanStatus::Complete))]
    );
    assert_eq!(f.findings(&cont, &c).await, expected_findings());
    assert_eq!(
        f.findings(&push, &p).await,
        openssl_only,
        "SCAN_ON_PUSH is not rescanned"
    );
    assert_eq!(
        f.reg.referrer_records(&cont, &c).await.unwrap().len(),
        refs_before,
        "a rescan attaches no more SBOMs"
    );

    // Importing the same records again changes nothing and rescans nothing.
    let same = f
        .reg
        .import_advisories(docs(&[OSV_DJANGO, OSV_FLASK]))
        .await
        .unwrap();
    assert_eq!((same.unchanged, same.rescans), (2, 0));

    // BASIC never rescans on its own.
    f.reg
        .put_registry_scanning_configuration(
            &account,
            config(ScanType::Basic, &[(ScanFrequency::ScanOnPush, "cont*")]),
        )
        .await
        .unwrap();
    let changed = OSV_DJANGO.replace("2023-07-10T00:00:00Z", "2023-08-01T00:00:00Z");
    let report = f.reg.import_advisories(docs(&[&changed])).await.unwrap();
    assert_eq!((report.updated, report.rescans), (1, 0));
}

#[tokio::test]
async fn a_scan_replaces_the_sboms_wharf_attached_and_leaves_others_alone() {
    let f = Fixture::new().await;
    let repo = f.repo("sbom/app", false).await;
    let image = f.debian_image(&repo, "v1").await;
    let (config, _) = f.blob(&repo, b"{}".to_vec()).await;
    // An SBOM referrer as an earlier scan would have left it (other contents), and one a user
    // pushed.
    let referrer = |content: &str, annotations: &str| {
        let content = content.to_string();
        let annotations = annotations.to_string();
        let (f, repo, image, config) = (&f, &repo, &image, &config);
        async move {
            let (layer, size) = f.blob(repo, content.into_bytes()).await;
            let body = format!(
                r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","artifactType":"application/vnd.cyclonedx+json","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{config}","size":2}},"layers":[{{"mediaType":"application/vnd.cyclonedx+json","digest":"{layer}","size":{size}}}],"subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{image}","size":1}},"annotations":{annotations}}}"#
            );
            let d = Digest::sha256(body.as_bytes());
            f.reg
                .put_manifest(
                    repo,
                    &Reference::Digest(d.clone()),
                    &[],
                    Some(OCI_MANIFEST),
                    body.as_bytes(),
                )
                .await
                .unwrap();
            d
        }
    };
    let stale = referrer(
        r#"{"old":true}"#,
        &format!(r#"{{"{SBOM_ANNOTATION}":"generated"}}"#),
    )
    .await;
    let users = referrer(r#"{"mine":true}"#, r#"{"org.example":"user"}"#).await;
    assert_eq!(
        f.reg.scan_image(&repo, &image).await.unwrap(),
        ScanStatus::Complete
    );
    let refs = f.reg.referrer_records(&repo, &image).await.unwrap();
    let digests: Vec<&Digest> = refs.iter().map(|r| &r.digest).collect();
    assert!(!digests.contains(&&stale), "the stale SBOM was replaced");
    assert!(digests.contains(&&users), "a user's SBOM stays");
    assert_eq!(refs.len(), 3, "the user's, and Wharf's CycloneDX and SPDX");
}

#[tokio::test]
async fn a_scan_job_that_can_no_longer_run_leaves_failed_with_its_reason() {
    let f = Fixture::new().await;
    let repo = f.repo("flagged/dies", true).await;
    let image = f.debian_image(&repo, "v1").await;
    let account = repo.account.to_string();
    let name = repo.name.to_string();
    f.reg
        .fail_scan_job(
            &account,
            &name,
            &image.to_string(),
            "The scan could not run: boom",
        )
        .await
        .unwrap();
    let summary = f
        .reg
        .image_scan(&repo, &image, None, 10)
        .await
        .unwrap()
        .summary;
    assert_eq!(
        (summary.status, summary.description.as_deref()),
        (ScanStatus::Failed, Some("The scan could not run: boom"))
    );
    // A payload naming nothing, or an image gone meanwhile, is nothing to record.
    f.reg
        .fail_scan_job(&account, "Bad Name", "sha256:zz", "x")
        .await
        .unwrap();
    let gone = format!("sha256:{}", "e".repeat(64));
    f.reg
        .fail_scan_job(&account, &name, &gone, "x")
        .await
        .unwrap();
    assert!(matches!(
        f.reg
            .image_scan(&repo, &gone.parse().unwrap(), None, 10)
            .await,
        Err(CoreError::ScanNotFound(_))
    ));
}

#[tokio::test]
async fn a_finished_scan_queues_an_ecr_image_scan_event_for_each_webhook_that_wants_it() {
    use wharf_core::events::{DetailType, Webhook};
    let mut f = Fixture::new().await;
    let hook = |url: &str, types: &[DetailType]| Webhook {
        url: url.to_string(),
        secret: "k".into(),
        detail_types: types.to_vec(),
        repository_prefix: None,
    };
    f.reg = f.reg.clone().with_webhooks(vec![
        hook("http://127.0.0.1:9/scans", &[DetailType::ImageScan]),
        hook("http://127.0.0.1:9/pushes", &[DetailType::ImageAction]),
    ]);
    f.reg
        .import_advisories(docs(&[OSV_OPENSSL, OSV_DJANGO]))
        .await
        .unwrap();
    let repo = f.repo("team/app", true).await;
    let digest = f.debian_image(&repo, "v1").await;
    f.run_jobs("image_scan").await;
    let jobs = f
        .meta
        .list_jobs(&wharf_meta::JobFilter {
            kind: Some("webhook".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let events: Vec<(String, serde_json::Value)> = jobs
        .iter()
        .map(
            |j| match wharf_core::JobKind::decode(&j.kind, &j.payload).unwrap() {
                wharf_core::JobKind::Webhook { url, body, .. } => {
                    (url, serde_json::from_str(&body).unwrap())
                }
                other => panic!("{other:?}"),
            },
        )
        .collect();
    // The image's push, and the pushes of the SBOM referrers the scan attached (untagged).
    let (scans, pushes): (Vec<_>, Vec<_>) = events
        .into_iter()
        .partition(|(url, _)| url.ends_with("/scans"));
    assert!(pushes
        .iter()
        .all(|(_, e)| e["detail"]["action-type"] == "PUSH"));
    assert!(pushes.iter().any(|(_, e)| e["detail"]["image-tag"] == "v1"
        && e["detail"]["image-digest"] == digest.to_string()));
    assert_eq!(scans.len(), 1, "{scans:?}");
    let scan = &scans[0].1;
    assert_eq!(scan["detail-type"], "ECR Image Scan");
    let d = &scan["detail"];
    assert_eq!(d["scan-status"], "COMPLETE");
    assert_eq!(d["image-digest"], digest.to_string());
    assert_eq!(d["image-tags"], serde_json::json!(["v1"]));
    assert_eq!(d["repository-name"], "team/app");
    let counts = d["finding-severity-counts"].as_object().unwrap();
    assert!(
        counts.values().map(|n| n.as_u64().unwrap()).sum::<u64>() >= 1,
        "{counts:?}"
    );
}
