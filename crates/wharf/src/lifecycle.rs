//! `wharf lifecycle run`: applies repositories' lifecycle policies on demand (safe while a server
//! runs on the data directory); the server applies them all periodically as a `wharf-jobs` job.

use crate::config::Settings;
use crate::gc::ReportFormat;
use anyhow::Context;
use wharf_core::{unix_now, AccountId, LifecycleAction, LifecycleOutcome, Registry, Repo};

/// Arguments of `wharf lifecycle run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Only this repository (`name`, or `account/name`; the default account when none is given).
    #[arg(long)]
    repository: Option<String>,
    /// Only repositories of this account (12 digits).
    #[arg(long)]
    account: Option<String>,
    /// Report what would be expired or archived without changing anything.
    #[arg(long)]
    dry_run: bool,
    /// Evaluate as of this time (Unix seconds) instead of now: what the policies will do then.
    #[arg(long)]
    at: Option<i64>,
    /// Report as a table or as JSON.
    #[arg(long, value_enum, default_value = "table")]
    format: ReportFormat,
}

/// Subcommands of `wharf lifecycle`.
#[derive(Debug, clap::Subcommand)]
pub enum LifecycleCommand {
    /// Apply lifecycle policies now (each action is also logged as an audit line).
    Run(RunArgs),
}

pub async fn run(settings: Settings, command: LifecycleCommand) -> anyhow::Result<()> {
    let LifecycleCommand::Run(args) = command;
    let registry = crate::open::open_registry(&settings).await?;
    let result = apply(&registry, &args).await;
    registry.close().await;
    let outcomes = result?;
    println!("{}", render(&outcomes, args.dry_run, args.format));
    Ok(())
}

async fn apply(registry: &Registry, args: &RunArgs) -> anyhow::Result<Vec<LifecycleOutcome>> {
    let at = args.at.unwrap_or_else(unix_now);
    let account: Option<AccountId> = args
        .account
        .as_deref()
        .map(|a| a.parse().context("--account must be a 12-digit account id"))
        .transpose()?;
    match &args.repository {
        Some(r) => {
            let (account, name) = match r.split_once('/') {
                Some((a, n)) if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) => {
                    (a.parse()?, n)
                }
                _ => (
                    account.unwrap_or_else(|| registry.default_account()),
                    r.as_str(),
                ),
            };
            let repo = Repo {
                account,
                name: name
                    .parse()
                    .with_context(|| format!("invalid repository name {name:?}"))?,
            };
            let outcome = registry
                .apply_lifecycle(&repo, at, args.dry_run)
                .await
                .with_context(|| format!("repository {}", repo.qualified()))?;
            Ok(vec![outcome])
        }
        None => Ok(registry
            .apply_lifecycle_all(account.as_ref(), at, args.dry_run)
            .await?),
    }
}

fn render(outcomes: &[LifecycleOutcome], dry_run: bool, format: ReportFormat) -> String {
    match format {
        ReportFormat::Json => serde_json::json!({
            "dryRun": dry_run,
            "repositories": outcomes.iter().map(|o| serde_json::json!({
                "repository": o.repository,
                "expired": o.expired,
                "archived": o.archived,
                "referrers": o.referrers,
                "planned": o.planned.iter().map(|p| serde_json::json!({
                    "digest": p.digest,
                    "tags": p.tags,
                    "action": action_name(p.action),
                    "rulePriority": p.rule_priority,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
        .to_string(),
        ReportFormat::Table => {
            let mut out = format!(
                "{:<40} {:<10} {:>5} {:<73} tags",
                "repository", "action", "rule", "digest"
            );
            for o in outcomes {
                for p in &o.planned {
                    out.push_str(&format!(
                        "\n{:<40} {:<10} {:>5} {:<73} {}",
                        o.repository,
                        action_name(p.action),
                        p.rule_priority,
                        p.digest,
                        p.tags.join(",")
                    ));
                }
            }
            let planned: usize = outcomes.iter().map(|o| o.planned.len()).sum();
            if dry_run {
                out.push_str(&format!(
                    "\n{planned} image(s) would be acted on in {} repositories (dry run)",
                    outcomes.len()
                ));
            } else {
                let sum = |f: fn(&LifecycleOutcome) -> u64| outcomes.iter().map(f).sum::<u64>();
                out.push_str(&format!(
                    "\nexpired {}, archived {}, referrers {} in {} repositories",
                    sum(|o| o.expired),
                    sum(|o| o.archived),
                    sum(|o| o.referrers),
                    outcomes.len()
                ));
            }
            out
        }
    }
}

fn action_name(a: LifecycleAction) -> &'static str {
    match a {
        LifecycleAction::Expire => "expire",
        LifecycleAction::Transition { .. } => "archive",
    }
}
