//! Scan statuses computed when results are read: an archived image reads IMAGE_ARCHIVED until it
//! is restored, and an image past the scan eligibility window reads SCAN_ELIGIBILITY_EXPIRED
//! and is left out of continuous rescans.

use super::*;

/// The image record scan summaries are read for.
async fn record(f: &Fixture, repo: &wharf_core::Repo, digest: &Digest) -> wharf_meta::ImageRecord {
    f.reg
        .resolve_image(repo, &id(digest))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn an_archived_image_reads_image_archived_until_restored() {
    let f = Fixture::new().await;
    let account = f.meta.default_account().parse().unwrap();
    f.reg
        .put_registry_scanning_configuration(
            &account,
            config(ScanType::Enhanced, &[(ScanFrequency::ContinuousScan, "*")]),
        )
        .await
        .unwrap();
    f.reg
        .import_advisories(docs(&[OSV_OPENSSL, OSV_DJANGO]))
        .await
        .unwrap();
    let repo = f.repo("team/app", false).await;
    let digest = f.debian_image(&repo, "v1").await;
    assert_eq!(f.run_jobs("image_scan").await.len(), 1);
    let before = f.reg.image_scan(&repo, &digest, None, 100).await.unwrap();
    assert_eq!(before.summary.status, ScanStatus::Complete);
    assert_eq!(before.findings.len(), 2);

    f.reg
        .update_storage_class(
            &repo,
            &id(&digest),
            StorageClass::Archive,
            wharf_core::unix_now(),
        )
        .await
        .unwrap()
        .unwrap();
    let archived = f.reg.image_scan(&repo, &digest, None, 100).await.unwrap();
    assert_eq!(archived.summary.status, ScanStatus::ImageArchived);
    assert_eq!(
        archived.summary.description.as_deref(),
        Some("The image is archived; restore it to see its scan results and to scan it again.")
    );
    assert_eq!(archived.summary.severity_counts, vec![]);
    assert_eq!(archived.findings, vec![]);
    assert_eq!(archived.next_token, None);
    let image = record(&f, &repo, &digest).await;
    let summaries = f.reg.scan_summaries(&repo, &[image]).await.unwrap();
    assert_eq!(summaries[&digest], archived.summary);

    // Continuous scanning leaves an archived image alone.
    let report = f.reg.import_advisories(docs(&[OSV_FLASK])).await.unwrap();
    assert_eq!((report.new, report.rescans), (1, 0));
    assert_eq!(f.queued("rescan").await, 0);

    // Restoring brings back the stored status and findings as they were.
    f.reg
        .update_storage_class(
            &repo,
            &id(&digest),
            StorageClass::Standard,
            wharf_core::unix_now(),
        )
        .await
        .unwrap()
        .unwrap();
    let restored = f.reg.image_scan(&repo, &digest, None, 100).await.unwrap();
    assert_eq!(restored, before);
    let image = record(&f, &repo, &digest).await;
    let summaries = f.reg.scan_summaries(&repo, &[image]).await.unwrap();
    assert_eq!(summaries[&digest], before.summary);
}

#[tokio::test]
async fn images_past_the_eligibility_window_are_not_rescanned_and_read_expired() {
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
    let old = f.debian_image(&cont, "old").await;
    let fresh = f.debian_image(&cont, "fresh").await;
    let pushed = f.debian_image(&push, "old").await;
    assert_eq!(f.run_jobs("image_scan").await.len(), 3);
    let openssl_only = vec![expected_findings()[0].clone()];

    // A 30-day window; `old` and `pushed` were last used 40 days ago.
    let reg = f.reg.clone().with_scan_eligibility_days(30);
    assert_eq!(reg.scan_eligibility_days(), 30);
    let age = |digest: Digest| {
        let meta = f.meta.clone();
        async move {
            let at = wharf_core::unix_now() - 40 * 86_400;
            wharf_meta::testing::age_image(&meta, &digest.to_string(), at)
                .await
                .unwrap();
        }
    };
    age(old.clone()).await;
    age(pushed.clone()).await;
    let report = reg
        .import_advisories(docs(&[OSV_DJANGO, OSV_FLASK]))
        .await
        .unwrap();
    assert_eq!((report.new, report.rescans), (2, 1));
    assert_eq!(
        f.run_jobs("rescan").await,
        [("cont/app".to_string(), Some(ScanStatus::Complete))]
    );
    assert_eq!(f.findings(&cont, &fresh).await, expected_findings());
    assert_eq!(f.findings(&cont, &old).await, openssl_only, "not rescanned");

    let expired = reg.image_scan(&cont, &old, None, 100).await.unwrap();
    assert_eq!(expired.summary.status, ScanStatus::ScanEligibilityExpired);
    assert_eq!(
        expired.summary.description.as_deref(),
        Some("The image was not pushed, pulled or scanned by request in the last 30 days, the scan eligibility window of continuous scanning; pull it or start a scan to make it eligible again.")
    );
    assert_eq!(expired.summary.severity_counts, vec![]);
    assert_eq!(expired.findings, vec![]);
    let images = [
        record(&f, &cont, &old).await,
        record(&f, &cont, &fresh).await,
    ];
    let summaries = reg.scan_summaries(&cont, &images).await.unwrap();
    assert_eq!(summaries[&old], expired.summary);
    assert_eq!(summaries[&fresh].status, ScanStatus::Complete);
    assert_eq!(summaries[&fresh].severity_counts.len(), 2);
    // Only continuous scanning has a window: the SCAN_ON_PUSH image reads COMPLETE.
    assert_eq!(
        reg.image_scan(&push, &pushed, None, 100)
            .await
            .unwrap()
            .summary
            .status,
        ScanStatus::Complete
    );

    // A pull makes the image eligible again: its stored result reads as it is.
    reg.record_pull(&cont, &old, &wharf_core::Principal::Anonymous)
        .await
        .unwrap();
    let pulled = reg.image_scan(&cont, &old, None, 100).await.unwrap();
    assert_eq!(pulled.summary.status, ScanStatus::Complete);
    assert_eq!(pulled.findings.len(), 1);

    // So does a scan started by hand.
    age(old.clone()).await;
    assert_eq!(
        reg.image_scan(&cont, &old, None, 100)
            .await
            .unwrap()
            .summary
            .status,
        ScanStatus::ScanEligibilityExpired
    );
    reg.start_image_scan(&cont, &id(&old))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        f.run_jobs("image_scan").await,
        [("cont/app".to_string(), Some(ScanStatus::Complete))]
    );
    let rescanned = reg.image_scan(&cont, &old, None, 100).await.unwrap();
    assert_eq!(rescanned.summary.status, ScanStatus::Complete);
    assert_eq!(f.findings(&cont, &old).await, expected_findings());

    // With the lifetime window (0) an image however old is rescanned and reads COMPLETE.
    age(old.clone()).await;
    assert_eq!(f.reg.scan_eligibility_days(), 0);
    let changed = OSV_DJANGO.replace("2023-07-10T00:00:00Z", "2023-08-01T00:00:00Z");
    let report = f.reg.import_advisories(docs(&[&changed])).await.unwrap();
    assert_eq!((report.updated, report.rescans), (1, 2));
    assert_eq!(f.run_jobs("rescan").await.len(), 2);
    let lifetime = f.reg.image_scan(&cont, &old, None, 100).await.unwrap();
    assert_eq!(lifetime.summary.status, ScanStatus::Complete);
    assert_eq!(f.findings(&cont, &old).await, expected_findings());
}
