//! Conformance of signing state: profiles (binary key material, with and without a wrap), the
//! per-account configuration (put, replace, delete returning it), the sign jobs and `IN_PROGRESS`
//! rows a push writes in its transaction (only for a new manifest), status updates with failure
//! code and reason, and rows going with their manifest.

use super::repo;
use wharf_meta::{JobFilter, MetaStore, NewJob, NewManifest, SigningProfileRecord};
use wharf_oci::Digest;

const ARN: &str = "arn:aws:signer:us-east-1:000000000000:/signing-profiles/conformance";

async fn push_signed(store: &MetaStore, name: &str, body: &[u8], tag: &str) -> (Digest, bool) {
    let config = Digest::sha256(body);
    store
        .record_blob(repo(store, name), &config, body.len() as u64, None, None)
        .await
        .unwrap();
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config}","size":{}}},"layers":[]}}"#,
        body.len()
    );
    let digest = Digest::sha256(manifest.as_bytes());
    let outcome = store
        .put_manifest(NewManifest {
            repository: repo(store, name),
            digest: &digest,
            media_type: "application/vnd.oci.image.manifest.v1+json",
            artifact_type: None,
            subject: None,
            annotations: None,
            body: manifest.as_bytes(),
            blobs: vec![config],
            children: vec![],
            tags: vec![tag],
            frozen_tags: vec![],
            image_size: None,
            scan: None,
            jobs: vec![],
            replications: vec![],
            signing: Some((
                NewJob::new("sign-conformance", format!("{name} {digest}")),
                vec![ARN.to_string()],
            )),
        })
        .await
        .unwrap();
    (digest, outcome.inserted)
}

async fn queued(store: &MetaStore) -> usize {
    store
        .list_jobs(&JobFilter {
            kind: Some("sign-conformance".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .len()
}

pub async fn signing_state(store: &MetaStore) {
    let account = store.default_account().to_string();
    let profile = |name: &str, wrap: Option<Vec<u8>>| SigningProfileRecord {
        account: account.clone(),
        name: name.to_string(),
        private_key: vec![0, 1, 2, 255],
        key_wrap: wrap,
        public_key: vec![48, 89, 0],
        created_at: 1_700_000_000,
    };
    assert!(store
        .create_signing_profile(&profile("wrapped", Some(vec![9; 60])))
        .await
        .unwrap());
    assert!(store
        .create_signing_profile(&profile("clear", None))
        .await
        .unwrap());
    assert!(!store
        .create_signing_profile(&profile("clear", Some(vec![1])))
        .await
        .unwrap());
    assert_eq!(
        store
            .signing_profile(&account, "wrapped")
            .await
            .unwrap()
            .unwrap(),
        profile("wrapped", Some(vec![9; 60]))
    );
    assert_eq!(
        store
            .signing_profile(&account, "clear")
            .await
            .unwrap()
            .unwrap(),
        profile("clear", None)
    );
    assert!(store
        .signing_profile(&account, "none")
        .await
        .unwrap()
        .is_none());

    assert_eq!(store.signing_config(&account).await.unwrap(), None);
    assert_eq!(store.delete_signing_config(&account).await.unwrap(), None);
    store
        .put_signing_config(&account, r#"{"rules":[]}"#)
        .await
        .unwrap();
    store
        .put_signing_config(&account, r#"{"rules":[{"signingProfileArn":"x"}]}"#)
        .await
        .unwrap();
    assert_eq!(
        store
            .delete_signing_config(&account)
            .await
            .unwrap()
            .as_deref(),
        Some(r#"{"rules":[{"signingProfileArn":"x"}]}"#)
    );
    assert_eq!(store.signing_config(&account).await.unwrap(), None);

    let name = "sign/app";
    store
        .create_repository(repo(store, name), &Default::default(), &[])
        .await
        .unwrap();
    let (digest, inserted) = push_signed(store, name, b"sign one", "v1").await;
    assert!(inserted);
    assert_eq!(
        queued(store).await,
        1,
        "the sign job is enqueued with the push"
    );
    let rows = store
        .signing_statuses(repo(store, name), &digest)
        .await
        .unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| (r.profile_arn.as_str(), r.status.as_str()))
            .collect::<Vec<_>>(),
        [(ARN, "IN_PROGRESS")]
    );
    // A push of a manifest already there (even under a new tag) signs nothing again.
    let (_, inserted) = push_signed(store, name, b"sign one", "v2").await;
    assert!(!inserted);
    assert_eq!(queued(store).await, 1);

    assert!(store
        .set_signing_status(
            repo(store, name),
            &digest,
            ARN,
            "FAILED",
            Some(("SIGNING_KEY_UNAVAILABLE", "no keyring"))
        )
        .await
        .unwrap());
    let rows = store
        .signing_statuses(repo(store, name), &digest)
        .await
        .unwrap();
    assert_eq!(
        (
            rows[0].status.as_str(),
            rows[0].failure_code.as_deref(),
            rows[0].failure_reason.as_deref()
        ),
        (
            "FAILED",
            Some("SIGNING_KEY_UNAVAILABLE"),
            Some("no keyring")
        )
    );
    assert!(store
        .set_signing_status(repo(store, name), &digest, ARN, "COMPLETE", None)
        .await
        .unwrap());
    let rows = store
        .signing_statuses(repo(store, name), &digest)
        .await
        .unwrap();
    assert_eq!(
        (rows[0].status.as_str(), rows[0].failure_code.as_deref()),
        ("COMPLETE", None)
    );
    // A status for an image that is not there records nothing.
    assert!(!store
        .set_signing_status(
            repo(store, name),
            &Digest::sha256(b"absent"),
            ARN,
            "COMPLETE",
            None
        )
        .await
        .unwrap());
}
