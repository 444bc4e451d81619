//! Storage usage against a hand-computed fixture: two accounts, repositories that share layers,
//! an image index with two children, and one blob no manifest references.

use bytes::Bytes;
use futures::StreamExt;
use std::sync::Arc;
use wharf_blob::FsBlobStore;
use wharf_core::usage::{Pricing, UsageFilter, BYTES_PER_GB};
use wharf_core::{AccountId, Registry, Repo};
use wharf_meta::{RepoSettings, UsageFigures};
use wharf_oci::{Algorithm, Digest, Reference};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// Sorts before the default account, whose random id has no leading zero.
const OTHER_ACCOUNT: &str = "000000000002";

async fn open(dir: &std::path::Path) -> Registry {
    let blobs = FsBlobStore::open(dir.join("blobs")).unwrap();
    let meta = wharf_meta::testing::store(dir).await;
    Registry::new(Arc::new(blobs), meta)
}

async fn create(reg: &Registry, account: &str, name: &str) -> Repo {
    let repo = Repo::new(account.parse().unwrap(), name.parse().unwrap());
    reg.create_repository(&repo, &RepoSettings::default(), &[])
        .await
        .unwrap();
    repo
}

/// A blob of `size` copies of `fill`, pushed to `repo`.
async fn blob(reg: &Registry, repo: &Repo, fill: u8, size: usize) -> (Digest, usize) {
    let bytes = vec![fill; size];
    let digest = Digest::of(Algorithm::Sha256, &bytes);
    let body = futures::stream::once(async move { Ok(Bytes::from(bytes)) }).boxed();
    assert_eq!(
        reg.push_blob(repo, &digest, body).await.unwrap(),
        size as u64
    );
    (digest, size)
}

fn descriptor(media_type: &str, (digest, size): &(Digest, usize)) -> String {
    format!(r#"{{"mediaType":"{media_type}","digest":"{digest}","size":{size}}}"#)
}

fn image(config: &(Digest, usize), layers: &[&(Digest, usize)]) -> Vec<u8> {
    let layers: Vec<String> = layers.iter().map(|l| descriptor(OCI_LAYER, l)).collect();
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{},"layers":[{}]}}"#,
        descriptor(OCI_CONFIG, config),
        layers.join(",")
    )
    .into_bytes()
}

fn index(children: &[&[u8]]) -> Vec<u8> {
    let children: Vec<String> = children
        .iter()
        .map(|c| descriptor(OCI_MANIFEST, &(Digest::of(Algorithm::Sha256, c), c.len())))
        .collect();
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{}]}}"#,
        children.join(",")
    )
    .into_bytes()
}

async fn put(reg: &Registry, repo: &Repo, tag: &str, media_type: &str, body: &[u8]) {
    let reference: Reference = tag.parse().unwrap();
    reg.put_manifest(repo, &reference, &[], Some(media_type), body)
        .await
        .unwrap();
}

fn figures(
    images: u64,
    logical_bytes: u64,
    blobs: u64,
    blob_bytes: u64,
    manifest_bytes: usize,
) -> UsageFigures {
    UsageFigures {
        images,
        logical_bytes,
        blobs,
        blob_bytes,
        manifest_bytes: manifest_bytes as u64,
    }
}

#[tokio::test]
async fn usage_matches_hand_computed_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let reg = open(dir.path()).await;
    let a = reg.default_account();
    let a = a.as_str();
    assert!(reg
        .meta()
        .create_account(OTHER_ACCOUNT, "other")
        .await
        .unwrap());

    // Account A, repository `app`: layers L1 (1000 B, shared everywhere), L2 (300 B), L3 (200 B);
    // configs C1 (50 B), C2 (60 B).
    let app = create(&reg, a, "app").await;
    let l1 = blob(&reg, &app, b'1', 1000).await;
    let l2 = blob(&reg, &app, b'2', 300).await;
    let l3 = blob(&reg, &app, b'3', 200).await;
    let c1 = blob(&reg, &app, b'a', 50).await;
    let c2 = blob(&reg, &app, b'b', 60).await;
    // M1 = C1 + [L1, L2]: imageSizeInBytes 50 + 1000 + 300 = 1350 (layers plus config, as ECR).
    let m1 = image(&c1, &[&l1, &l2]);
    // M2 = C2 + [L1, L3]: imageSizeInBytes 60 + 1000 + 200 = 1260.
    let m2 = image(&c2, &[&l1, &l3]);
    // I1 = index of [M1, M2]: imageSizeInBytes = its largest child, 1350.
    let i1 = index(&[&m1, &m2]);
    put(&reg, &app, "amd64", OCI_MANIFEST, &m1).await;
    put(&reg, &app, "arm64", OCI_MANIFEST, &m2).await;
    put(&reg, &app, "latest", OCI_INDEX, &i1).await;

    // Account A, repository `web`: M3 = C3 (70 B) + [L1, L2] (L1 and L2 uploaded again: the blob
    // store keeps one copy). imageSizeInBytes 70 + 1000 + 300 = 1370. Plus an orphan blob (10 B) nothing references.
    let web = create(&reg, a, "web").await;
    blob(&reg, &web, b'1', 1000).await;
    blob(&reg, &web, b'2', 300).await;
    let c3 = blob(&reg, &web, b'c', 70).await;
    let m3 = image(&c3, &[&l1, &l2]);
    put(&reg, &web, "v1", OCI_MANIFEST, &m3).await;
    blob(&reg, &web, b'z', 10).await;

    // An empty repository reports zeros.
    create(&reg, a, "empty").await;

    // Account B, repository `app`: the very same M1 (needs C1, L1, L2 there).
    let other = create(&reg, OTHER_ACCOUNT, "app").await;
    blob(&reg, &other, b'a', 50).await;
    blob(&reg, &other, b'1', 1000).await;
    blob(&reg, &other, b'2', 300).await;
    put(&reg, &other, "amd64", OCI_MANIFEST, &m1).await;

    let report = reg
        .usage(&UsageFilter::default(), Pricing::default())
        .await
        .unwrap();

    // Repositories, ordered by account then name (B, 000…, sorts before A).
    let repos: Vec<(&str, &str, UsageFigures)> = report
        .repositories
        .iter()
        .map(|r| (r.account.as_str(), r.name.as_str(), r.usage.figures))
        .collect();
    assert_eq!(
        repos,
        vec![
            // B/app: logical 1350; blobs C1 + L1 + L2 = 50 + 1000 + 300 = 1350.
            (OTHER_ACCOUNT, "app", figures(1, 1350, 3, 1350, m1.len())),
            // A/app: logical 1350 + 1260 + 1350 (index counted, as DescribeImages reports it)
            // = 3960; blobs C1 + C2 + L1 + L2 + L3 = 50 + 60 + 1000 + 300 + 200 = 1610 (L1 once).
            (
                a,
                "app",
                figures(3, 3960, 5, 1610, m1.len() + m2.len() + i1.len())
            ),
            (a, "empty", figures(0, 0, 0, 0, 0)),
            // A/web: logical 1370; blobs C3 + L1 + L2 = 70 + 1000 + 300 = 1370 (the orphan is
            // not referenced by a manifest, so it is not counted).
            (a, "web", figures(1, 1370, 3, 1370, m3.len())),
        ]
    );
    let app_line = &report.repositories[1].usage;
    assert_eq!(
        app_line.physical_bytes(),
        1610 + (m1.len() + m2.len() + i1.len()) as u64
    );
    assert_eq!(
        app_line.saved_bytes(),
        3960 - 1610 - (m1.len() + m2.len() + i1.len()) as i128
    );

    // Accounts: A's blobs deduplicated across app and web: C1 + C2 + C3 + L1 + L2 + L3
    // = 50 + 60 + 70 + 1000 + 300 + 200 = 1680 (not 1610 + 1370 = 2980); logical 3960 + 1370.
    let accounts: Vec<(&str, u64, UsageFigures)> = report
        .accounts
        .iter()
        .map(|x| (x.account.as_str(), x.repositories, x.usage.figures))
        .collect();
    let a_manifests = m1.len() + m2.len() + i1.len() + m3.len();
    assert_eq!(
        accounts,
        vec![
            (OTHER_ACCOUNT, 1, figures(1, 1350, 3, 1350, m1.len())),
            (a, 3, figures(4, 5330, 6, 1680, a_manifests)),
        ]
    );

    // Server: logical 5330 + 1350 = 6680; B's blobs are all A's too, so still 6 blobs, 1680 B;
    // manifests are stored per repository, so M1 counts twice. The orphan is reported apart.
    let total = report.total.expect("unfiltered report has a total");
    assert_eq!(
        total.usage.figures,
        figures(5, 6680, 6, 1680, a_manifests + m1.len())
    );
    assert_eq!(
        (total.unreferenced_blobs, total.unreferenced_blob_bytes),
        (1, 10)
    );

    // Costs: everything is far under the 0.5 GB free tier, so accounts and the total cost
    // nothing; repositories are priced gross at $0.10 per 2^30 bytes.
    assert_eq!(report.accounts[1].usage.costs.logical_usd, 0.0);
    assert_eq!(total.usage.costs.logical_usd, 0.0);
    let gross = 3960.0 / BYTES_PER_GB as f64 * 0.10;
    assert!((app_line.costs.logical_usd - gross).abs() < 1e-15);

    // Without a free tier, account costs are the bytes priced, and the total sums the accounts.
    let no_free = Pricing {
        price_per_gb_month: 0.10,
        free_gb_month: 0.0,
    };
    let priced = reg.usage(&UsageFilter::default(), no_free).await.unwrap();
    let per_byte = 0.10 / BYTES_PER_GB as f64;
    let t = priced.total.unwrap().usage.costs;
    assert!((t.logical_usd - 6680.0 * per_byte).abs() < 1e-15);
    let physical = (1680 + a_manifests + 1350 + m1.len()) as f64 * per_byte;
    assert!((t.physical_usd - physical).abs() < 1e-15);

    // Filters: one account (no total); one repository name across accounts (no account lines).
    let only_b = reg
        .usage(
            &UsageFilter {
                account: Some(OTHER_ACCOUNT.parse::<AccountId>().unwrap()),
                repository: None,
            },
            Pricing::default(),
        )
        .await
        .unwrap();
    assert_eq!(only_b.repositories.len(), 1);
    assert_eq!(only_b.accounts.len(), 1);
    assert!(only_b.total.is_none());
    let named_app = reg
        .usage(
            &UsageFilter {
                account: None,
                repository: Some("app".into()),
            },
            Pricing::default(),
        )
        .await
        .unwrap();
    let names: Vec<(&str, &str)> = named_app
        .repositories
        .iter()
        .map(|r| (r.account.as_str(), r.name.as_str()))
        .collect();
    assert_eq!(names, vec![(OTHER_ACCOUNT, "app"), (a, "app")]);
    assert!(named_app.accounts.is_empty() && named_app.total.is_none());
}
