//! `wharf scan`: scanning from the command line (safe while servers run on the database).
//! `sbom` prints an image's SBOM (CycloneDX or SPDX JSON) from its stored inventory; `run`
//! scans an image now, in this process, and reports its status and findings per severity.

use crate::config::Settings;
use anyhow::{anyhow, bail, Context};
use wharf_core::scan::SbomFormat;
use wharf_core::{AccountId, Registry, Repo};
use wharf_oci::Digest;

/// SBOM formats on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Cyclonedx,
    Spdx,
}

/// Which image: a repository and a digest or tag.
#[derive(Debug, clap::Args)]
pub struct ImageArgs {
    /// The repository: `name`, or `account/name` (the default account when none is given).
    #[arg(long)]
    repository: String,
    /// The image's manifest digest.
    #[arg(long, conflicts_with = "tag", required_unless_present = "tag")]
    digest: Option<String>,
    /// A tag of the image.
    #[arg(long)]
    tag: Option<String>,
}

/// Subcommands of `wharf scan`.
#[derive(Debug, clap::Subcommand)]
pub enum ScanCommand {
    /// Print an image's SBOM from its last completed scan.
    Sbom {
        #[command(flatten)]
        image: ImageArgs,
        #[arg(long, value_enum, default_value = "cyclonedx")]
        format: Format,
    },
    /// Scan an image now and report the result.
    Run {
        #[command(flatten)]
        image: ImageArgs,
    },
}

pub async fn run(settings: Settings, command: ScanCommand) -> anyhow::Result<()> {
    let registry = crate::open::open_registry(&settings).await?;
    let result = match command {
        ScanCommand::Sbom { image, format } => sbom(&registry, &image, format).await,
        ScanCommand::Run { image } => scan(&registry, &image).await,
    };
    registry.close().await;
    result
}

/// The repository and digest `args` name.
async fn resolve(registry: &Registry, args: &ImageArgs) -> anyhow::Result<(Repo, Digest)> {
    let (account, name): (AccountId, &str) = match args.repository.split_once('/') {
        Some((a, n)) if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) => (a.parse()?, n),
        _ => (registry.default_account(), args.repository.as_str()),
    };
    let repo = Repo::new(
        account,
        name.parse()
            .with_context(|| format!("invalid repository name {name:?}"))?,
    );
    let digest = match (&args.digest, &args.tag) {
        (Some(d), _) => d.parse().map_err(|e| anyhow!("--digest {d:?}: {e}"))?,
        (None, Some(t)) => {
            let id = wharf_core::ImageId {
                digest: None,
                tag: Some(t.clone()),
            };
            match registry.resolve_image(&repo, &id).await? {
                Ok(image) => image.digest,
                Err(f) => bail!("tag {t:?} in repository {}: {}", repo.qualified(), f.code()),
            }
        }
        (None, None) => bail!("give --digest or --tag"),
    };
    Ok((repo, digest))
}

async fn sbom(registry: &Registry, args: &ImageArgs, format: Format) -> anyhow::Result<()> {
    let (repo, digest) = resolve(registry, args).await?;
    let format = match format {
        Format::Cyclonedx => SbomFormat::CycloneDx,
        Format::Spdx => SbomFormat::Spdx,
    };
    let document = registry
        .sbom(&repo, &digest, format)
        .await
        .with_context(|| format!("{}@{digest}", repo.qualified()))?;
    println!("{}", serde_json::to_string_pretty(&document)?);
    Ok(())
}

async fn scan(registry: &Registry, args: &ImageArgs) -> anyhow::Result<()> {
    let (repo, digest) = resolve(registry, args).await?;
    let status = registry
        .scan_image(&repo, &digest)
        .await
        .with_context(|| format!("{}@{digest}", repo.qualified()))?;
    let report = registry.image_scan(&repo, &digest, None, 1).await?;
    println!("{}@{digest}: {}", repo.qualified(), status.as_str());
    if let Some(d) = &report.summary.description {
        println!("  {d}");
    }
    for (severity, n) in &report.summary.severity_counts {
        println!("  {}: {n}", severity.as_str());
    }
    Ok(())
}
