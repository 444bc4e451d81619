//! A vulnerability database import that stops partway: the batches it committed still get
//! their continuous rescans — queued by `abort`, or, when the import just died, by the next
//! import's `finish`, even though that import finds those records unchanged.

use super::*;

/// Documents per import batch (wharf-core writes a batch at this many).
const BATCH: usize = 500;

/// `first`, then filler advisories (a key no image has) up to one full batch.
fn one_batch(first: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = docs(&[first]);
    for i in 1..BATCH {
        let doc = format!(
            r#"{{"id":"FILL-{i:04}","modified":"2024-01-01T00:00:00Z","affected":[{{"package":{{"ecosystem":"npm","name":"fill-{i}"}}}}]}}"#
        );
        out.push((format!("fill-{i}.json"), doc.into_bytes()));
    }
    out
}

#[tokio::test]
async fn an_interrupted_import_still_gets_its_rescans_queued() {
    let f = Fixture::new().await;
    let account = f.meta.default_account().parse().unwrap();
    f.reg
        .put_registry_scanning_configuration(
            &account,
            config(ScanType::Enhanced, &[(ScanFrequency::ContinuousScan, "*")]),
        )
        .await
        .unwrap();
    f.reg.import_advisories(docs(&[OSV_OPENSSL])).await.unwrap();
    let cont = f.repo("cont/app", false).await;
    let c = f.debian_image(&cont, "v1").await;
    assert_eq!(f.run_jobs("image_scan").await.len(), 1);
    let openssl_only = vec![expected_findings()[0].clone()];
    assert_eq!(f.findings(&cont, &c).await, openssl_only);

    // The import dies after its first batch committed (django among it): no rescan yet.
    let mut import = f.reg.advisory_import();
    for (source, json) in one_batch(OSV_DJANGO) {
        import.add(&source, &json).await.unwrap();
    }
    drop(import);
    assert_eq!(f.run_jobs("rescan").await, []);
    // The next import finds django unchanged, yet queues the rescan the first one owed.
    let report = f.reg.import_advisories(docs(&[OSV_DJANGO])).await.unwrap();
    assert_eq!(
        (report.new, report.updated, report.unchanged, report.rescans),
        (0, 0, 1, 1)
    );
    assert_eq!(
        f.run_jobs("rescan").await,
        [("cont/app".to_string(), Some(ScanStatus::Complete))]
    );
    assert_eq!(f.findings(&cont, &c).await, expected_findings());

    // An import whose input breaks after a batch is aborted: that queues its rescans at once.
    let mut import = f.reg.advisory_import();
    for (source, json) in one_batch(OSV_FLASK) {
        import.add(&source, &json).await.unwrap();
    }
    assert_eq!(import.abort().await.unwrap(), 1);
    assert_eq!(
        f.run_jobs("rescan").await,
        [("cont/app".to_string(), Some(ScanStatus::Complete))]
    );
    // Nothing is owed any more.
    let again = f.reg.import_advisories(docs(&[OSV_FLASK])).await.unwrap();
    assert_eq!((again.unchanged, again.rescans), (1, 0));
    assert_eq!(f.run_jobs("rescan").await, []);
}
