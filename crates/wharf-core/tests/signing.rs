//! Managed signing inside one Wharf: profiles with sealed keys, configurations naming only known
//! profiles, the sign jobs a push of a new image enqueues (only for repositories the filters
//! select, never for the signature itself), and the signature the job pushes: a cosign
//! simple-signing payload under `sha256-<hex>.sig` and as a referrer, verifiable with the
//! profile's public key.

use bytes::Bytes;
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use wharf_blob::FsBlobStore;
use wharf_core::crypt::{Keys, MasterKeyring};
use wharf_core::signing::{cosign, SigningConfiguration};
use wharf_core::{JobKind, Registry, Repo};
use wharf_meta::RepoSettings;
use wharf_oci::{Algorithm, Digest, Reference};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

async fn setup(dir: &std::path::Path) -> Registry {
    let blobs = FsBlobStore::open(dir.join("blobs")).unwrap();
    let meta = wharf_meta::testing::store(dir).await;
    Registry::new(Arc::new(blobs), meta)
        .with_registry_host("reg.example:5000")
        .with_keys(Keys::with_master(
            MasterKeyring::single(1, &[9u8; 32]),
            false,
        ))
}

async fn repo(reg: &Registry, name: &str) -> Repo {
    let repo = Repo::new(reg.default_account(), name.parse().unwrap());
    reg.create_repository(&repo, &RepoSettings::default(), &[])
        .await
        .unwrap();
    repo
}

/// Pushes an image of one config blob under `tag`; its digest.
async fn image(reg: &Registry, repo: &Repo, seed: &str, tag: &str) -> Digest {
    let c = Digest::of(Algorithm::Sha256, seed.as_bytes());
    let owned = Bytes::copy_from_slice(seed.as_bytes());
    reg.push_blob(
        repo,
        &c,
        futures::stream::once(async move { Ok(owned) }).boxed(),
    )
    .await
    .unwrap();
    let body = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"{OCI_CONFIG}","digest":"{c}","size":{}}},"layers":[]}}"#,
        seed.len()
    );
    reg.put_manifest(
        repo,
        &tag.parse::<Reference>().unwrap(),
        &[],
        Some(OCI_MANIFEST),
        body.as_bytes(),
    )
    .await
    .unwrap()
    .digest
}

/// The sign jobs due, as (repository, digest, profile ARNs); claimed and completed.
async fn sign_jobs(reg: &Registry) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for j in reg.claim_jobs(Duration::from_secs(60), 100).await.unwrap() {
        if let JobKind::Sign {
            repository,
            digest,
            profile_arns,
            ..
        } = j.kind().unwrap()
        {
            out.push((repository, digest, profile_arns));
        }
        reg.complete_job(&j).await.unwrap();
    }
    out.sort();
    out
}

#[tokio::test]
async fn matching_pushes_are_signed_with_cosign_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let reg = setup(dir.path()).await;
    let account = reg.default_account();
    let arn = reg
        .create_signing_profile(&account, "release_key")
        .await
        .unwrap()
        .unwrap()
        .to_string();
    assert_eq!(
        arn,
        format!("arn:aws:signer:us-east-1:{account}:/signing-profiles/release_key")
    );
    assert!(reg
        .create_signing_profile(&account, "release_key")
        .await
        .unwrap()
        .is_none());
    assert!(reg.create_signing_profile(&account, "a-b").await.is_err());
    let pem = reg
        .signing_public_key(&account, "release_key")
        .await
        .unwrap()
        .unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    let profile = reg
        .meta()
        .signing_profile(account.as_str(), "release_key")
        .await
        .unwrap()
        .unwrap();
    assert!(
        profile.key_wrap.is_some(),
        "sealed under the master keyring"
    );

    // A rule must name a profile that exists.
    let unknown: SigningConfiguration = serde_json::from_str(&format!(
        r#"{{"rules":[{{"signingProfileArn":"arn:aws:signer:us-east-1:{account}:/signing-profiles/nope"}}]}}"#
    ))
    .unwrap();
    let refused = reg
        .put_signing_configuration(&account, &unknown)
        .await
        .unwrap()
        .unwrap_err();
    assert!(refused.contains("does not exist"), "{refused}");
    assert!(reg.signing_configuration(&account).await.unwrap().is_none());

    let config: SigningConfiguration = serde_json::from_str(&format!(
        r#"{{"rules":[{{"signingProfileArn":"{arn}","repositoryFilters":[{{"filter":"team/*","filterType":"WILDCARD_MATCH"}}]}}]}}"#
    ))
    .unwrap();
    reg.put_signing_configuration(&account, &config)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        reg.signing_configuration(&account).await.unwrap(),
        Some(config.clone())
    );

    let app = repo(&reg, "team/app").await;
    let other = repo(&reg, "other").await;
    let d = image(&reg, &app, "amd64", "v1").await;
    image(&reg, &other, "amd64", "v1").await;
    assert_eq!(
        sign_jobs(&reg).await,
        [("team/app".to_string(), d.to_string(), vec![arn.clone()])]
    );
    let statuses = reg.signing_statuses(&app, &d).await.unwrap();
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0].status, "IN_PROGRESS");

    // What the job does.
    let outcomes = reg
        .sign_image(&app, &d, std::slice::from_ref(&arn))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outcomes, [(arn.clone(), Ok(()))]);
    // The signature itself is not signed again.
    assert!(sign_jobs(&reg).await.is_empty());
    let by_tag = reg
        .get_manifest(
            &app,
            &cosign::signature_tag(&d).parse::<Reference>().unwrap(),
        )
        .await
        .unwrap();
    let m: serde_json::Value = serde_json::from_slice(&by_tag.body).unwrap();
    assert_eq!(m["subject"]["digest"], d.to_string());
    let layer = &m["layers"][0];
    assert_eq!(layer["mediaType"], cosign::SIMPLE_SIGNING);
    let payload = cosign::payload("reg.example:5000/team/app", &d);
    assert_eq!(
        layer["digest"],
        Digest::of(Algorithm::Sha256, &payload).to_string()
    );
    let sig = layer["annotations"][cosign::SIGNATURE_ANNOTATION]
        .as_str()
        .unwrap();
    assert!(cosign::verify(&profile.public_key, &payload, sig).unwrap());
    let (_, other_key) = cosign::generate_key().unwrap();
    assert!(!cosign::verify(&other_key, &payload, sig).unwrap());
    let referrers = reg.referrers(&app, &d, None).await.unwrap();
    assert_eq!(referrers.len(), 1);
    assert_eq!(referrers[0].digest, by_tag.digest);

    // A second profile's signature joins the first under the `.sig` tag (cosign tries each), and
    // signing again with the first replaces its own layer instead of adding one.
    let second = reg
        .create_signing_profile(&account, "second_key")
        .await
        .unwrap()
        .unwrap()
        .to_string();
    reg.sign_image(&app, &d, std::slice::from_ref(&second))
        .await
        .unwrap()
        .unwrap();
    reg.sign_image(&app, &d, std::slice::from_ref(&arn))
        .await
        .unwrap()
        .unwrap();
    let second_key = reg
        .meta()
        .signing_profile(account.as_str(), "second_key")
        .await
        .unwrap()
        .unwrap()
        .public_key;
    let by_tag = reg
        .meta()
        .get_manifest(
            app.key(),
            &cosign::signature_tag(&d).parse::<Reference>().unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    let layers = cosign::signature_layers(&by_tag.body);
    let verified_by = |key: &[u8]| {
        layers
            .iter()
            .filter(|l| {
                let sig = l["annotations"][cosign::SIGNATURE_ANNOTATION]
                    .as_str()
                    .unwrap();
                cosign::verify(key, &payload, sig).unwrap()
            })
            .count()
    };
    assert_eq!(layers.len(), 2);
    assert_eq!(
        (verified_by(&profile.public_key), verified_by(&second_key)),
        (1, 1)
    );

    // A re-push of the same image signs nothing again; deleting the configuration stops signing.
    image(&reg, &app, "amd64", "v2").await;
    assert!(sign_jobs(&reg).await.is_empty());
    assert_eq!(
        reg.delete_signing_configuration(&account).await.unwrap(),
        Some(config)
    );
    assert!(reg
        .delete_signing_configuration(&account)
        .await
        .unwrap()
        .is_none());
    image(&reg, &app, "arm64", "v3").await;
    assert!(sign_jobs(&reg).await.is_empty());
}

#[tokio::test]
async fn a_missing_profile_fails_permanently() {
    let dir = tempfile::tempdir().unwrap();
    let reg = setup(dir.path()).await;
    let app = repo(&reg, "team/app").await;
    let d = image(&reg, &app, "amd64", "v1").await;
    let arn = format!(
        "arn:aws:signer:us-east-1:{}:/signing-profiles/gone",
        reg.default_account()
    );
    let outcomes = reg
        .sign_image(&app, &d, std::slice::from_ref(&arn))
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(&outcomes[0].1, Err(wharf_core::signing::SignError::Permanent { code, .. }) if code == "SIGNING_PROFILE_NOT_FOUND"),
        "{outcomes:?}"
    );
    // Nothing was pushed for a profile that cannot sign.
    assert!(reg.referrers(&app, &d, None).await.unwrap().is_empty());
    // An image that is gone is skipped.
    let gone = Digest::of(Algorithm::Sha256, b"nothing");
    assert!(reg.sign_image(&app, &gone, &[arn]).await.unwrap().is_none());
}
