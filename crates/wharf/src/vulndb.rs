//! `wharf vulndb`: the offline vulnerability database. `import PATH` reads OSV JSON records from
//! a directory (searched recursively for `*.json`), a single `.json` file, or a `.zip` of them
//! (osv.dev ships one `all.zip` per ecosystem), streaming: a reader thread sends one document at
//! a time to the import, which writes them in batched transactions, so memory stays bounded
//! whatever the archive's size. `status` shows what the database holds.
//!
//! Invalid records are counted and listed, not fatal; input that cannot be read at all (a
//! missing path, a corrupt archive, an I/O error) makes the command fail — after the rescans
//! that the batches already written call for are queued.

use crate::config::Settings;
use anyhow::{anyhow, Context};
use std::io::Read;
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;

/// Largest record read; osv.dev's largest are a few hundred KiB.
const MAX_RECORD_BYTES: u64 = 16 << 20;

/// Subcommands of `wharf vulndb`.
#[derive(Debug, clap::Subcommand)]
pub enum VulnDbCommand {
    /// Import OSV records from a directory, a .json file or a .zip archive.
    Import {
        /// Directory (searched recursively for *.json), .json file or .zip archive.
        path: PathBuf,
    },
    /// Show how many advisories the database holds and when it last changed.
    Status,
}

pub async fn run(settings: Settings, command: VulnDbCommand) -> anyhow::Result<()> {
    let registry = crate::open::open_registry(&settings).await?;
    let result = match command {
        VulnDbCommand::Import { path } => import(&registry, &path).await,
        VulnDbCommand::Status => status(&registry).await,
    };
    registry.close().await;
    result
}

/// One document read, or why reading it failed (`Err` for the whole input: fatal).
type Item = Result<(String, Result<Vec<u8>, String>), String>;

async fn import(registry: &wharf_core::Registry, path: &Path) -> anyhow::Result<()> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    let (tx, mut rx) = mpsc::channel::<Item>(64);
    let root = path.to_path_buf();
    let reader = std::thread::spawn(move || {
        let result = if meta.is_dir() {
            walk_dir(&root, &tx)
        } else if root
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
        {
            read_zip(&root, &tx)
        } else {
            read_file(&root, &tx)
        };
        if let Err(e) = result {
            let _ = tx.blocking_send(Err(e));
        }
    });
    let mut import = registry.advisory_import();
    let mut documents = 0u64;
    let mut fatal: Option<anyhow::Error> = None;
    while let Some(item) = rx.recv().await {
        match item {
            Ok((source, Ok(bytes))) => {
                documents += 1;
                if let Err(e) = import.add(&source, &bytes).await {
                    fatal = Some(e.into());
                    break;
                }
            }
            Ok((source, Err(reason))) => {
                documents += 1;
                // An oversized member counts as an invalid record: the report names it.
                import.reject(&source, &reason);
            }
            Err(e) => {
                fatal = Some(anyhow!("{e}"));
                break;
            }
        }
    }
    drop(rx);
    let _ = reader.join();
    if let Some(e) = fatal {
        // The batches already written stay; their rescans are queued now (or, should that
        // fail too, by the next import).
        match import.abort().await {
            Ok(rescans) => eprintln!("import stopped partway; {rescans} rescans queued"),
            Err(abort) => {
                eprintln!("import stopped partway; rescans left for the next import: {abort}")
            }
        }
        return Err(e);
    }
    let report = import.finish().await?;
    println!("read {documents} documents from {}", path.display());
    println!("new:       {}", report.new);
    println!("updated:   {}", report.updated);
    println!("unchanged: {}", report.unchanged);
    println!("invalid:   {}", report.invalid);
    for (source, reason) in &report.invalid_reasons {
        println!("  {source}: {reason}");
    }
    if report.invalid > report.invalid_reasons.len() as u64 {
        println!(
            "  … and {} more",
            report.invalid - report.invalid_reasons.len() as u64
        );
    }
    println!("rescans queued: {}", report.rescans);
    Ok(())
}

fn send(tx: &mpsc::Sender<Item>, item: Item) -> Result<(), String> {
    tx.blocking_send(item)
        .map_err(|_| "the import stopped".to_string())
}

/// Reads a file of at most `MAX_RECORD_BYTES`.
fn read_limited(r: &mut dyn Read) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    r.take(MAX_RECORD_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err(format!("larger than {MAX_RECORD_BYTES} bytes"));
    }
    Ok(bytes)
}

fn read_file(path: &Path, tx: &mpsc::Sender<Item>) -> Result<(), String> {
    let mut f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let bytes = read_limited(&mut f).map_err(|e| format!("{}: {e}", path.display()))?;
    send(tx, Ok((path.display().to_string(), Ok(bytes))))
}

/// Every `*.json` under `dir`, in name order (deterministic reports), without following
/// symlinked directories.
fn walk_dir(dir: &Path, tx: &mpsc::Sender<Item>) -> Result<(), String> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if kind.is_dir() {
            walk_dir(&path, tx)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            read_file(&path, tx)?;
        }
    }
    Ok(())
}

/// Every `*.json` member of a zip archive, in archive order.
fn read_zip(path: &Path, tx: &mpsc::Sender<Item>) -> Result<(), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| format!("{}: not a readable zip archive: {e}", path.display()))?;
    for i in 0..archive.len() {
        let mut member = archive
            .by_index(i)
            .map_err(|e| format!("{}: member {i}: {e}", path.display()))?;
        if !member.is_file() || !member.name().to_ascii_lowercase().ends_with(".json") {
            continue;
        }
        let source = format!("{}:{}", path.display(), member.name());
        if member.size() > MAX_RECORD_BYTES {
            send(
                tx,
                Ok((source, Err(format!("larger than {MAX_RECORD_BYTES} bytes")))),
            )?;
            continue;
        }
        match read_limited(&mut member) {
            Ok(bytes) => send(tx, Ok((source, Ok(bytes))))?,
            // A member that does not inflate means the archive is damaged: stop.
            Err(e) => return Err(format!("{source}: {e}")),
        }
    }
    Ok(())
}

async fn status(registry: &wharf_core::Registry) -> anyhow::Result<()> {
    let s = registry.vulndb_status().await?;
    println!("advisories: {}", s.advisories);
    println!("packages:   {}", s.keys);
    let updated = s
        .updated_at
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "never".into());
    println!("updated:    {updated}");
    for (ecosystem, n) in &s.ecosystems {
        println!("  {ecosystem}: {n}");
    }
    Ok(())
}
