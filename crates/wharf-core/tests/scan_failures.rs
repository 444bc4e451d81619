//! How image scans fail: a layer blob the blob store cannot give is an error the job runner
//! retries (never FAILED at once); a repeat scan that fails, or whose job dies, keeps the last
//! good inventory, findings and lookup keys; StartImageScan makes a scan waiting out its retry
//! backoff due now.

// Shared with tests/scan.rs; this suite uses only part of it.
#[allow(dead_code)]
#[path = "scan/fixture.rs"]
mod fixture;

use fixture::*;
use wharf_core::scan::ScanStatus;
use wharf_core::CoreError;
use wharf_meta::JobState;
use wharf_oci::Digest;

/// Every stored blob file (layers and config) under the fixture's blob store.
fn blob_files(f: &Fixture) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![f.dir.path().join("blobs").join("blobs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                out.push(path);
            }
        }
    }
    assert!(!out.is_empty(), "the fixture stores blobs as files");
    out
}

async fn import(f: &Fixture) {
    f.reg
        .import_advisories(docs(&[OSV_OPENSSL, OSV_DJANGO, OSV_FLASK]))
        .await
        .unwrap();
}

async fn status(
    f: &Fixture,
    repo: &wharf_core::Repo,
    digest: &Digest,
) -> (ScanStatus, Option<String>) {
    let s = f
        .reg
        .image_scan(repo, digest, None, 10)
        .await
        .unwrap()
        .summary;
    (s.status, s.description)
}

#[tokio::test]
async fn a_missing_layer_blob_is_a_retried_error_not_failed() {
    let f = Fixture::new().await;
    import(&f).await;
    let repo = f.repo("store/away", false).await;
    let digest = f.debian_image(&repo, "v1").await;
    f.reg
        .start_image_scan(&repo, &id(&digest))
        .await
        .unwrap()
        .unwrap();
    for path in blob_files(&f) {
        std::fs::remove_file(path).unwrap();
    }
    match f.reg.scan_image(&repo, &digest).await {
        Err(CoreError::Internal(m)) => {
            assert!(m.starts_with("layer 0: blob sha256:"), "{m}");
            assert!(m.contains("could not be read"), "{m}");
        }
        other => panic!("expected a transient error, got {other:?}"),
    }
    // The job runner sees the same error (and retries); the image is not FAILED.
    let (account, name) = (repo.account.to_string(), repo.name.to_string());
    assert!(matches!(
        f.reg
            .run_scan_job(&account, &name, &digest.to_string(), false)
            .await,
        Err(CoreError::Internal(_))
    ));
    assert_eq!(
        status(&f, &repo, &digest).await,
        (ScanStatus::InProgress, None)
    );
}

#[tokio::test]
async fn a_failed_repeat_scan_keeps_the_last_good_result() {
    let f = Fixture::new().await;
    import(&f).await;
    let repo = f.repo("keeps/result", false).await;
    let digest = f.debian_image(&repo, "v1").await;
    f.reg
        .start_image_scan(&repo, &id(&digest))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        f.run_jobs("image_scan").await,
        [("keeps/result".to_string(), Some(ScanStatus::Complete))]
    );
    let good = f
        .meta
        .image_scan(repo.key(), &digest)
        .await
        .unwrap()
        .unwrap();
    assert!(good.inventory.is_some() && good.findings.is_some());

    // The layers' bytes turn into garbage: the repeat scan is FAILED for the content's sake.
    for path in blob_files(&f) {
        let len = std::fs::metadata(&path).unwrap().len() as usize;
        std::fs::write(&path, vec![0u8; len]).unwrap();
    }
    f.reg
        .start_image_scan(&repo, &id(&digest))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        f.run_jobs("image_scan").await,
        [("keeps/result".to_string(), Some(ScanStatus::Failed))]
    );
    let failed = f
        .meta
        .image_scan(repo.key(), &digest)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failed.status, "FAILED");
    assert_ne!(failed.description, good.description);
    assert_eq!(
        (
            &failed.inventory,
            &failed.findings,
            &failed.severity_counts,
            failed.finding_count
        ),
        (
            &good.inventory,
            &good.findings,
            &good.severity_counts,
            good.finding_count
        )
    );
    // A failed scan shows no findings, but its lookup keys still find it for rescans.
    assert!(f.findings(&repo, &digest).await.is_empty());
    let concerned = f.meta.images_with_changed_advisories(0).await.unwrap();
    assert_eq!(
        concerned
            .iter()
            .map(|i| i.digest.to_string())
            .collect::<Vec<_>>(),
        [digest.to_string()]
    );

    // A scan job whose attempts are spent keeps it too.
    let (account, name) = (repo.account.to_string(), repo.name.to_string());
    f.reg
        .fail_scan_job(
            &account,
            &name,
            &digest.to_string(),
            "The scan could not run: boom",
        )
        .await
        .unwrap();
    assert_eq!(
        status(&f, &repo, &digest).await,
        (
            ScanStatus::Failed,
            Some("The scan could not run: boom".to_string())
        )
    );
    let dead = f
        .meta
        .image_scan(repo.key(), &digest)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (&dead.inventory, &dead.findings),
        (&good.inventory, &good.findings)
    );

    // Re-matching the kept inventory brings the findings back without reading layers.
    assert_eq!(
        f.reg
            .run_scan_job(&account, &name, &digest.to_string(), true)
            .await
            .unwrap(),
        Some(ScanStatus::Complete)
    );
    assert_eq!(f.findings(&repo, &digest).await, expected_findings());
}

#[tokio::test]
async fn a_first_scan_that_fails_stores_no_inventory() {
    let f = Fixture::new().await;
    let repo = f.repo("first/fails", false).await;
    let digest = f.debian_image(&repo, "v1").await;
    for path in blob_files(&f) {
        let len = std::fs::metadata(&path).unwrap().len() as usize;
        std::fs::write(&path, vec![0u8; len]).unwrap();
    }
    assert_eq!(
        f.reg.scan_image(&repo, &digest).await.unwrap(),
        ScanStatus::Failed
    );
    let record = f
        .meta
        .image_scan(repo.key(), &digest)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            record.status.as_str(),
            record.inventory,
            record.findings,
            record.finding_count
        ),
        ("FAILED", None, None, 0)
    );
}

#[tokio::test]
async fn start_image_scan_makes_a_scan_waiting_to_retry_due_now() {
    let f = Fixture::new().await;
    let repo = f.repo("retry/now", false).await;
    let digest = f.debian_image(&repo, "v1").await;
    f.reg
        .start_image_scan(&repo, &id(&digest))
        .await
        .unwrap()
        .unwrap();
    let claimed = f
        .meta
        .claim("test-node", Some(&["image_scan"]), 60, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let job = claimed[0].id;
    let later = wharf_core::unix_now() + 3600;
    assert_eq!(
        f.meta
            .fail(job, "test-node", "blob store away", Some(later))
            .await
            .unwrap(),
        Some(JobState::Failed)
    );
    assert_eq!(f.queued("image_scan").await, 0, "waiting out its backoff");

    let (_, started) = f
        .reg
        .start_image_scan(&repo, &id(&digest))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(started, ScanStatus::InProgress);
    let record = f.meta.job(job).await.unwrap().unwrap();
    assert_eq!(record.state, JobState::Failed);
    assert!(record.run_at <= wharf_core::unix_now(), "{}", record.run_at);
    // The same job (no second one) is claimable at once.
    let again = f
        .meta
        .claim("test-node", Some(&["image_scan"]), 60, 10)
        .await
        .unwrap();
    assert_eq!(again.iter().map(|j| j.id).collect::<Vec<_>>(), [job]);
}
