//! wharf-kms against a real local-kms (scripts/local-kms.sh): key creation and description, data
//! key round trips, encryption-context binding, disabled and unknown keys.
//!
//! Runs when WHARF_TEST_KMS_URL is set (region from WHARF_TEST_KMS_REGION, default eu-west-2);
//! otherwise each test prints a note and passes, unless WHARF_TEST_KMS_REQUIRED=1, when it fails.

use std::collections::BTreeMap;

use wharf_kms::{KmsClient, KmsConfig, KmsError};

fn kms() -> Option<KmsClient> {
    let Ok(url) = std::env::var("WHARF_TEST_KMS_URL") else {
        if std::env::var("WHARF_TEST_KMS_REQUIRED").as_deref() == Ok("1") {
            panic!("WHARF_TEST_KMS_REQUIRED=1 but WHARF_TEST_KMS_URL is unset (scripts/local-kms.sh start <dir>)");
        }
        eprintln!("skipping: WHARF_TEST_KMS_URL is unset (scripts/local-kms.sh start <dir>)");
        return None;
    };
    let region = std::env::var("WHARF_TEST_KMS_REGION").unwrap_or_else(|_| "eu-west-2".into());
    Some(
        KmsClient::new(KmsConfig {
            endpoint: url,
            region,
            access_key_id: "AKIDLOCALKMS".into(),
            secret_access_key: "local-kms-accepts-any-secret".into(),
            session_token: None,
        })
        .unwrap(),
    )
}

fn context(repo: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "wharf:dek".to_owned(),
            "0123456789abcdef0123456789abcdef".to_owned(),
        ),
        ("wharf:repo".to_owned(), repo.to_owned()),
    ])
}

#[track_caller]
fn assert_code<T: std::fmt::Debug>(result: Result<T, KmsError>, code: &str) {
    match result {
        Err(KmsError::Service { code: got, .. }) if got == code => {}
        other => panic!("expected KMS {code}, got {other:?}"),
    }
}

#[tokio::test]
async fn create_describe_and_alias() {
    let Some(kms) = kms() else { return };
    let key = kms.create_key("wharf test: describe").await.unwrap();
    assert!(key.enabled);
    assert_eq!(key.key_state, "Enabled");
    assert_eq!(key.key_usage, "ENCRYPT_DECRYPT");
    assert!(key.arn.starts_with("arn:aws:kms:"), "{}", key.arn);
    assert!(
        key.arn.ends_with(&format!(":key/{}", key.key_id)),
        "{}",
        key.arn
    );

    assert_eq!(kms.describe_key(&key.key_id).await.unwrap(), key);
    assert_eq!(kms.describe_key(&key.arn).await.unwrap(), key);

    let alias = format!("alias/wharf-test-{}", key.key_id);
    kms.create_alias(&alias, &key.key_id).await.unwrap();
    assert_eq!(kms.describe_key(&alias).await.unwrap(), key);
    // The alias is taken now.
    assert_code(
        kms.create_alias(&alias, &key.key_id).await,
        "AlreadyExistsException",
    );
}

#[tokio::test]
async fn generate_decrypt_round_trip() {
    let Some(kms) = kms() else { return };
    let key = kms.create_key("wharf test: round trip").await.unwrap();
    let ctx = context("team/app");

    let pair = kms.generate_data_key(&key.arn, &ctx).await.unwrap();
    assert_eq!(pair.plaintext.len(), 32);
    assert_eq!(pair.key_arn, key.arn);
    assert!(!pair.ciphertext.is_empty());
    assert!(
        !pair
            .ciphertext
            .windows(32)
            .any(|w| w == pair.plaintext.as_slice()),
        "the wrapped key must not contain the plaintext"
    );

    let (plain, arn) = kms.decrypt(&pair.ciphertext, &key.arn, &ctx).await.unwrap();
    assert_eq!(plain, pair.plaintext);
    assert_eq!(arn, key.arn);
    // By key id and by alias too.
    let (plain, _) = kms
        .decrypt(&pair.ciphertext, &key.key_id, &ctx)
        .await
        .unwrap();
    assert_eq!(plain, pair.plaintext);

    // Two data keys differ.
    let other = kms.generate_data_key(&key.key_id, &ctx).await.unwrap();
    assert_ne!(other.plaintext, pair.plaintext);
    assert_eq!(
        other.key_arn, key.arn,
        "an id in the request, the ARN in the answer"
    );

    // Re-wrapping the same DEK under a second key (one DEK, several key refs).
    let second = kms.create_key("wharf test: second wrap").await.unwrap();
    let (wrapped, arn) = kms
        .encrypt(&second.arn, &pair.plaintext, &ctx)
        .await
        .unwrap();
    assert_eq!(arn, second.arn);
    let (plain, _) = kms.decrypt(&wrapped, &second.arn, &ctx).await.unwrap();
    assert_eq!(plain, pair.plaintext);

    // Plaintext sizes KMS would refuse are refused before sending.
    assert_eq!(
        kms.encrypt(&key.arn, &[], &ctx).await.unwrap_err().code(),
        "Protocol"
    );
    assert_eq!(
        kms.encrypt(&key.arn, &[7; 4097], &ctx)
            .await
            .unwrap_err()
            .code(),
        "Protocol"
    );
}

#[tokio::test]
async fn wrong_context_key_or_bytes_fail() {
    let Some(kms) = kms() else { return };
    let key = kms.create_key("wharf test: context").await.unwrap();
    let ctx = context("team/app");
    let pair = kms.generate_data_key(&key.arn, &ctx).await.unwrap();

    assert_code(
        kms.decrypt(&pair.ciphertext, &key.arn, &context("team/other"))
            .await,
        "InvalidCiphertextException",
    );
    assert_code(
        kms.decrypt(&pair.ciphertext, &key.arn, &BTreeMap::new())
            .await,
        "InvalidCiphertextException",
    );
    let mut extra = ctx.clone();
    extra.insert("wharf:extra".into(), "x".into());
    assert_code(
        kms.decrypt(&pair.ciphertext, &key.arn, &extra).await,
        "InvalidCiphertextException",
    );

    // Another key's id: KMS must not decrypt (AWS says IncorrectKeyException, local-kms
    // InvalidCiphertextException); either way no plaintext.
    let other = kms.create_key("wharf test: other").await.unwrap();
    match kms.decrypt(&pair.ciphertext, &other.arn, &ctx).await {
        Err(KmsError::Service { code, .. }) => assert!(
            code == "IncorrectKeyException" || code == "InvalidCiphertextException",
            "{code}"
        ),
        other => panic!("decrypt under another key: {other:?}"),
    }

    // A flipped byte in the wrapped key.
    let mut tampered = pair.ciphertext.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_code(
        kms.decrypt(&tampered, &key.arn, &ctx).await,
        "InvalidCiphertextException",
    );

    // The untouched wrap still decrypts.
    let (plain, _) = kms.decrypt(&pair.ciphertext, &key.arn, &ctx).await.unwrap();
    assert_eq!(plain, pair.plaintext);
}

#[tokio::test]
async fn disabled_key_refuses_until_enabled() {
    let Some(kms) = kms() else { return };
    let key = kms.create_key("wharf test: disable").await.unwrap();
    let ctx = context("team/app");
    let pair = kms.generate_data_key(&key.arn, &ctx).await.unwrap();

    kms.disable_key(&key.key_id).await.unwrap();
    let described = kms.describe_key(&key.arn).await.unwrap();
    assert!(!described.enabled);
    assert_eq!(described.key_state, "Disabled");
    assert_code(
        kms.decrypt(&pair.ciphertext, &key.arn, &ctx).await,
        "DisabledException",
    );
    assert_code(
        kms.generate_data_key(&key.arn, &ctx).await,
        "DisabledException",
    );
    assert_code(
        kms.encrypt(&key.arn, &pair.plaintext, &ctx).await,
        "DisabledException",
    );

    kms.enable_key(&key.arn).await.unwrap();
    let described = kms.describe_key(&key.arn).await.unwrap();
    assert!(described.enabled);
    assert_eq!(described.key_state, "Enabled");
    let (plain, _) = kms.decrypt(&pair.ciphertext, &key.arn, &ctx).await.unwrap();
    assert_eq!(plain, pair.plaintext);
}

#[tokio::test]
async fn unknown_keys_are_not_found() {
    let Some(kms) = kms() else { return };
    let missing = "00000000-0000-4000-8000-000000000000";
    let ctx = context("team/app");
    assert_code(kms.describe_key(missing).await, "NotFoundException");
    assert_code(
        kms.describe_key("alias/wharf-test-no-such-alias").await,
        "NotFoundException",
    );
    assert_code(
        kms.generate_data_key(missing, &ctx).await,
        "NotFoundException",
    );
    assert_code(kms.disable_key(missing).await, "NotFoundException");

    let key = kms.create_key("wharf test: unknown").await.unwrap();
    let pair = kms.generate_data_key(&key.arn, &ctx).await.unwrap();
    assert_code(
        kms.decrypt(&pair.ciphertext, missing, &ctx).await,
        "NotFoundException",
    );
}
