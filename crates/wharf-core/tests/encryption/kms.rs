//! KMS repositories against a real local-kms: data keys from GenerateDataKey, a disabled key
//! stops only its repositories' reads (and comes back when enabled), a blob shared with an
//! AES256 repository stays readable there, repository creation checks the key, and KMS wraps
//! are re-encrypted by a rewrap. Needs WHARF_TEST_KMS_URL (scripts/local-kms.sh); skipped
//! without it unless WHARF_TEST_KMS_REQUIRED=1.

use super::*;
use std::time::Duration;

fn client() -> Option<wharf_kms::KmsClient> {
    let Ok(url) = std::env::var("WHARF_TEST_KMS_URL") else {
        assert!(
            std::env::var("WHARF_TEST_KMS_REQUIRED").is_err(),
            "WHARF_TEST_KMS_REQUIRED is set but WHARF_TEST_KMS_URL is not"
        );
        eprintln!("skipping: WHARF_TEST_KMS_URL is not set (scripts/local-kms.sh starts one)");
        return None;
    };
    let config = wharf_kms::KmsConfig {
        endpoint: url,
        region: std::env::var("WHARF_TEST_KMS_REGION").unwrap_or_else(|_| "us-east-1".into()),
        access_key_id: "AKIDLOCALKMS".into(),
        secret_access_key: "local-kms-secret".into(),
        session_token: None,
    };
    Some(wharf_kms::KmsClient::new(config).unwrap())
}

fn kms_settings(arn: &str) -> RepoSettings {
    RepoSettings {
        encryption_type: "KMS".into(),
        kms_key: Some(arn.into()),
        ..RepoSettings::default()
    }
}

#[tokio::test]
async fn a_disabled_kms_key_stops_only_its_repositories() {
    let Some(admin) = client() else { return };
    let f = Fixture::new().await;
    let keys = Keys::ephemeral().with_kms(client().unwrap(), Duration::ZERO);
    let reg = f.registry(keys);
    let k1 = admin.create_key("wharf test k1").await.unwrap().arn;
    let k2 = admin.create_key("wharf test k2").await.unwrap().arn;
    let a = f.repo(&reg, "kms/a", kms_settings(&k1)).await;
    let b = f.repo(&reg, "kms/b", RepoSettings::default()).await;
    let c = f.repo(&reg, "kms/c", kms_settings(&k2)).await;

    let shared = pattern(120_000, 40);
    let only_a = pattern(70_000, 41);
    let only_c = pattern(10_000, 42);
    let ds = push(&reg, &a, &shared).await;
    let stored = std::fs::read(f.blob_path(&ds)).unwrap();
    push(&reg, &b, &shared).await;
    assert_eq!(
        std::fs::read(f.blob_path(&ds)).unwrap(),
        stored,
        "stored once"
    );
    let da = push(&reg, &a, &only_a).await;
    let dc = push(&reg, &c, &only_c).await;
    let wraps = reg.encryption_status().await.unwrap().wraps;
    assert!(
        wraps.iter().any(|(k, _)| *k == format!("kms:{k1}")),
        "{wraps:?}"
    );

    admin.disable_key(&k1).await.unwrap();
    for d in [&ds, &da] {
        match read(&reg, &a, d, 0, u64::MAX).await {
            Err(CoreError::Kms { code, .. }) => assert!(
                code.contains("Disabled") || code.contains("InvalidState"),
                "{code}"
            ),
            other => panic!("read under a disabled key: {other:?}"),
        }
    }
    // Pushing into the repository needs its key too.
    let e = reg
        .push_blob(&a, &Digest::of(Algorithm::Sha256, b"x"), body(b"x"))
        .await
        .unwrap_err();
    assert!(matches!(e, CoreError::Kms { .. }), "{e:?}");
    // Other repositories are unaffected, including one sharing a blob with it.
    assert_eq!(read(&reg, &b, &ds, 0, u64::MAX).await.unwrap(), shared);
    assert_eq!(read(&reg, &c, &dc, 0, u64::MAX).await.unwrap(), only_c);

    admin.enable_key(&k1).await.unwrap();
    assert_eq!(read(&reg, &a, &ds, 0, u64::MAX).await.unwrap(), shared);
    assert_eq!(read(&reg, &a, &da, 0, u64::MAX).await.unwrap(), only_a);

    // KMS wraps are re-encrypted, blob bytes untouched, reads still fine.
    let r = reg.rewrap_data_keys(true).await.unwrap();
    assert!(r.kms >= 3 && r.skipped == 0, "{r:?}");
    assert_eq!(std::fs::read(f.blob_path(&ds)).unwrap(), stored);
    assert_eq!(read(&reg, &a, &da, 0, u64::MAX).await.unwrap(), only_a);
}

#[tokio::test]
async fn repositories_are_created_only_with_a_usable_key() {
    let Some(admin) = client() else { return };
    let f = Fixture::new().await;
    let reg = f.registry(Keys::ephemeral().with_kms(client().unwrap(), Duration::ZERO));
    let key = admin.create_key("wharf test create").await.unwrap();
    let account: wharf_core::AccountId = f.meta.default_account().parse().unwrap();
    // By key id: stored as the ARN.
    let repo = Repo::new(account.clone(), "kms/by-id".parse().unwrap());
    let rec = reg
        .create_repository(&repo, &kms_settings(&key.key_id), &[])
        .await
        .unwrap();
    assert_eq!(rec.settings.kms_key.as_deref(), Some(key.arn.as_str()));
    admin.disable_key(&key.arn).await.unwrap();
    let repo = Repo::new(account.clone(), "kms/disabled".parse().unwrap());
    let e = reg
        .create_repository(&repo, &kms_settings(&key.arn), &[])
        .await
        .unwrap_err();
    assert!(matches!(e, CoreError::Kms { .. }), "{e:?}");
    let repo = Repo::new(account.clone(), "kms/unknown".parse().unwrap());
    let e = reg
        .create_repository(
            &repo,
            &kms_settings(
                "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000",
            ),
            &[],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, CoreError::Kms { ref code, .. } if code == "NotFoundException"),
        "{e:?}"
    );
    // Without a KMS endpoint a KMS repository is refused, not silently stored in AES256.
    let plain = f.registry(Keys::ephemeral());
    let repo = Repo::new(account.clone(), "kms/no-endpoint".parse().unwrap());
    let e = plain
        .create_repository(&repo, &kms_settings(&key.arn), &[])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no KMS endpoint"), "{e}");
}

#[tokio::test]
async fn a_repository_created_again_seals_under_its_new_key() {
    let Some(admin) = client() else { return };
    let f = Fixture::new().await;
    let reg = f.registry(Keys::ephemeral().with_kms(client().unwrap(), Duration::ZERO));
    let k1 = admin.create_key("wharf test again k1").await.unwrap().arn;
    let k2 = admin.create_key("wharf test again k2").await.unwrap().arn;
    let wraps_under = |wraps: &[(String, u64)], arn: &str| {
        wraps
            .iter()
            .find(|(k, _)| *k == format!("kms:{arn}"))
            .map_or(0, |(_, n)| *n)
    };
    // A push caches the repository's key target (with its authorization inputs).
    let repo = f.repo(&reg, "kms/again", kms_settings(&k1)).await;
    push(&reg, &repo, &pattern(5_000, 50)).await;
    reg.delete_repository(&repo, true).await.unwrap();
    let again = f.repo(&reg, "kms/again", kms_settings(&k2)).await;
    assert_eq!(again, repo);
    let before = wraps_under(&reg.encryption_status().await.unwrap().wraps, &k2);
    // The old key going away cannot matter to the new repository.
    admin.disable_key(&k1).await.unwrap();
    let bytes = pattern(6_000, 51);
    let d = push(&reg, &again, &bytes).await;
    let after = wraps_under(&reg.encryption_status().await.unwrap().wraps, &k2);
    assert_eq!(
        after,
        before + 1,
        "the new blob's data key is wrapped under k2"
    );
    assert_eq!(read(&reg, &again, &d, 0, u64::MAX).await.unwrap(), bytes);
}
