//! The `wharf` binary: command-line parsing, logging setup and dispatch to subcommands.

mod admin;
mod audit;
mod config;
mod encryption;
mod encryption_cli;
mod gc;
mod jobs;
mod lifecycle;
mod malloc_tuning;
mod metadata;
mod migrate_keyring;
mod migrate_storage;
mod open;
mod regions;
mod scan;
mod serve;
mod storage;
mod tls;
mod usage;
mod vulndb;
mod webhooks;

use clap::{Parser, Subcommand};
use config::{LogFormat, RawConfig, Settings};
use std::path::PathBuf;

/// Wharf: a self-hosted container registry that speaks OCI and ECR.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// TOML configuration file (also WHARF_CONFIG).
    #[arg(long, global = true, env = "WHARF_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the registry server.
    Serve {
        /// Directory holding blobs and metadata [default: ./wharf-data].
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Address to listen on [default: 127.0.0.1:5000].
        #[arg(long)]
        listen: Option<String>,
        #[command(flatten)]
        tls: TlsFlags,
    },
    /// Manage accounts, users, access keys and identity policies.
    Admin {
        /// Directory holding blobs and metadata [default: ./wharf-data].
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Reclaim unreferenced blobs, abandoned uploads and orphan files (safe while serving).
    Gc {
        /// Directory holding blobs and metadata [default: ./wharf-data].
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Report what would be freed without freeing anything.
        #[arg(long)]
        dry_run: bool,
        /// Report as a table or as JSON.
        #[arg(long, value_enum, default_value = "table")]
        format: gc::ReportFormat,
    },
    /// Apply repositories' lifecycle policies (safe while serving).
    Lifecycle {
        /// Directory holding blobs and metadata [default: ./wharf-data].
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        #[command(subcommand)]
        command: lifecycle::LifecycleCommand,
    },
    /// Show the background job queue: jobs by state and kind, and counts (safe while serving).
    Jobs {
        /// Directory holding blobs and metadata [default: ./wharf-data].
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        #[command(subcommand)]
        command: jobs::JobsCommand,
    },
    /// The offline vulnerability database: import OSV records, show its status.
    Vulndb {
        /// Directory holding blobs and metadata [default: ./wharf-data].
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        #[command(subcommand)]
        command: vulndb::VulnDbCommand,
    },
    /// Image scanning: print an image's SBOM, scan an image now.
    Scan {
        /// Directory holding blobs and metadata [default: ./wharf-data].
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        #[command(subcommand)]
        command: scan::ScanCommand,
    },
    /// Encryption at rest: status, master-key rotation, rewrapping and sealing now.
    Encryption {
        /// Directory holding blobs and metadata [default: ./wharf-data].
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        #[command(subcommand)]
        command: encryption_cli::EncryptionCommand,
    },
    /// Apply metadata schema migrations and report the version (`serve` migrates at start too).
    Migrate {
        /// Directory holding blobs and metadata [default: ./wharf-data].
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Copy every blob and all metadata to the stores another config file names (for example
    /// from filesystem and SQLite to S3 and PostgreSQL). Stop the server first; uploads in
    /// progress are not migrated.
    MigrateStorage {
        /// Directory holding the source's blobs and metadata [default: ./wharf-data].
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[command(flatten)]
        args: migrate_storage::MigrateStorageArgs,
    },
    /// The audit trail: mutating calls and denied requests on both APIs, newest first (safe
    /// while serving).
    Audit {
        /// Directory holding blobs and metadata [default: ./wharf-data].
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[command(flatten)]
        args: audit::AuditArgs,
    },
    /// Storage usage per repository and account, with ECR's monthly cost and what dedup saves.
    Usage {
        /// Directory holding blobs and metadata [default: ./wharf-data].
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[command(flatten)]
        args: usage::UsageArgs,
    },
}

/// TLS on the listener (also `tls_*` in the config file and WHARF_TLS_* variables).
#[derive(clap::Args)]
struct TlsFlags {
    /// PEM certificate chain to serve HTTPS with (needs --tls-key).
    #[arg(long)]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long)]
    tls_key: Option<PathBuf>,
    /// PEM bundle of CAs client certificates must be signed by.
    #[arg(long)]
    tls_client_ca: Option<PathBuf>,
    /// With --tls-client-ca: `required` (default) or `optional`.
    #[arg(long)]
    tls_client_auth: Option<String>,
    /// Serve HTTPS with a CA and certificate generated under <data-dir>/tls/ (clients trust
    /// <data-dir>/tls/ca.pem).
    #[arg(long)]
    tls_self_signed: bool,
}

fn settings(config: Option<&PathBuf>, flags: RawConfig) -> anyhow::Result<Settings> {
    let file = match config {
        Some(p) => RawConfig::from_file(p)?,
        None => RawConfig::default(),
    };
    let env = RawConfig::from_env(|k| std::env::var(k).ok())?;
    Settings::try_from(file.merge(env).merge(flags))
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WHARF_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// Settings for an offline command (`admin`, `gc`, `usage`): only the data directory comes from
/// flags; warnings go to stderr so the command's own output stays clean.
fn offline(
    config: Option<&PathBuf>,
    data_dir: Option<PathBuf>,
) -> anyhow::Result<(Settings, tokio::runtime::Runtime)> {
    let s = settings(
        config,
        RawConfig {
            data_dir,
            ..RawConfig::default()
        },
    )?;
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter("warn,wharf::audit=info")
        .init();
    Ok((s, tokio::runtime::Runtime::new()?))
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config.as_ref();
    match cli.command {
        Command::Serve {
            data_dir,
            listen,
            tls,
        } => {
            let s = settings(
                config,
                RawConfig {
                    data_dir,
                    listen,
                    tls_cert: tls.tls_cert,
                    tls_key: tls.tls_key,
                    tls_client_ca: tls.tls_client_ca,
                    tls_client_auth: tls.tls_client_auth,
                    tls_self_signed: tls.tls_self_signed.then_some(true),
                    ..RawConfig::default()
                },
            )?;
            init_logging(s.log_format);
            tokio::runtime::Runtime::new()?.block_on(serve::run(s))
        }
        Command::Admin { data_dir, command } => {
            let (s, rt) = offline(config, data_dir)?;
            rt.block_on(admin::run(s, command))
        }
        Command::Gc {
            data_dir,
            dry_run,
            format,
        } => {
            let (s, rt) = offline(config, data_dir)?;
            rt.block_on(gc::run(s, dry_run, format))
        }
        Command::Lifecycle { data_dir, command } => {
            let (s, rt) = offline(config, data_dir)?;
            rt.block_on(lifecycle::run(s, command))
        }
        Command::Jobs { data_dir, command } => {
            let (s, rt) = offline(config, data_dir)?;
            rt.block_on(jobs::run(s, command))
        }
        Command::Vulndb { data_dir, command } => {
            let (s, rt) = offline(config, data_dir)?;
            rt.block_on(vulndb::run(s, command))
        }
        Command::Scan { data_dir, command } => {
            let (s, rt) = offline(config, data_dir)?;
            rt.block_on(scan::run(s, command))
        }
        Command::Encryption { data_dir, command } => {
            let (s, rt) = offline(config, data_dir)?;
            rt.block_on(encryption_cli::run(s, command))
        }
        Command::Migrate { data_dir } => {
            let (s, rt) = offline(config, data_dir)?;
            rt.block_on(async {
                let db = wharf_core::stores::open_records(&open::stores(&s)).await?;
                let v = db.schema_version().await;
                db.close().await;
                let v = v?;
                println!(
                    "metadata ({}) is at schema version {} (this build knows {})",
                    v.dialect, v.at, v.latest
                );
                anyhow::Ok(())
            })
        }
        Command::MigrateStorage { data_dir, args } => {
            let (s, rt) = offline(config, data_dir)?;
            rt.block_on(migrate_storage::run(s, args))
        }
        Command::Audit { data_dir, args } => {
            let (s, rt) = offline(config, data_dir)?;
            rt.block_on(audit::run(s, args))
        }
        Command::Usage { data_dir, args } => {
            let (s, rt) = offline(config, data_dir)?;
            rt.block_on(usage::run(s, args))
        }
    }
}

fn main() -> std::process::ExitCode {
    malloc_tuning::apply();
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wharf: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
