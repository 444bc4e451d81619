//! `wharf jobs`: what the background job queue holds (safe while servers run on the database):
//! the jobs themselves, newest first, and how many of each kind are in each state.

use crate::config::Settings;
use crate::gc::ReportFormat;
use wharf_core::model::{JobCount, JobFilter, JobRecord, JobState};

/// Subcommands of `wharf jobs`.
#[derive(Debug, clap::Subcommand)]
pub enum JobsCommand {
    /// List jobs, newest first.
    List(ListArgs),
    /// Count jobs per kind and state.
    Counts {
        /// Report as a table or as JSON.
        #[arg(long, value_enum, default_value = "table")]
        format: ReportFormat,
    },
}

/// Arguments of `wharf jobs list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only jobs in this state: queued, running, failed, done or dead.
    #[arg(long, value_parser = parse_state)]
    state: Option<JobState>,
    /// Only jobs of this kind (gc, lifecycle, upload_purge, ...).
    #[arg(long)]
    kind: Option<String>,
    /// At most this many jobs.
    #[arg(long, default_value_t = 100)]
    limit: u32,
    /// Report as a table or as JSON.
    #[arg(long, value_enum, default_value = "table")]
    format: ReportFormat,
}

fn parse_state(s: &str) -> Result<JobState, String> {
    JobState::parse(s).ok_or_else(|| {
        let names: Vec<&str> = JobState::ALL.iter().map(|s| s.as_str()).collect();
        format!("{s:?} is not a job state ({})", names.join(", "))
    })
}

pub async fn run(settings: Settings, command: JobsCommand) -> anyhow::Result<()> {
    let db = wharf_core::stores::open_records(&crate::open::stores(&settings)).await?;
    let out = match command {
        JobsCommand::List(args) => {
            let filter = JobFilter {
                state: args.state,
                kind: args.kind,
                limit: i64::from(args.limit),
            };
            db.list_jobs(&filter)
                .await
                .map(|jobs| render_jobs(&jobs, args.format))
        }
        JobsCommand::Counts { format } => db
            .job_counts()
            .await
            .map(|counts| render_counts(&counts, format)),
    };
    db.close().await;
    println!("{}", out?);
    Ok(())
}

/// Unix seconds as RFC 3339 (UTC), or the number when out of range.
fn timestamp(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}

fn render_jobs(jobs: &[JobRecord], format: ReportFormat) -> String {
    match format {
        ReportFormat::Json => serde_json::Value::Array(
            jobs.iter()
                .map(|j| {
                    serde_json::json!({
                        "id": j.id,
                        "kind": j.kind,
                        "state": j.state.as_str(),
                        // The payload is JSON; shown as text if a row holds anything else.
                        "payload": serde_json::from_str::<serde_json::Value>(&j.payload)
                            .unwrap_or_else(|_| serde_json::Value::String(j.payload.clone())),
                        "dedupeKey": j.dedupe_key,
                        "attempts": j.attempts,
                        "maxAttempts": j.max_attempts,
                        "runAt": j.run_at,
                        "lockedBy": j.locked_by,
                        "lockedUntil": j.locked_until,
                        "lastError": j.last_error,
                        "createdAt": j.created_at,
                        "updatedAt": j.updated_at,
                        "finishedAt": j.finished_at,
                    })
                })
                .collect(),
        )
        .to_string(),
        ReportFormat::Table => {
            let mut out = format!(
                "{:>8} {:<16} {:<8} {:>8} {:<20} {:<28} last error",
                "id", "kind", "state", "attempts", "run at", "locked by"
            );
            for j in jobs {
                out.push_str(&format!(
                    "\n{:>8} {:<16} {:<8} {:>8} {:<20} {:<28} {}",
                    j.id,
                    j.kind,
                    j.state.as_str(),
                    format!("{}/{}", j.attempts, j.max_attempts),
                    timestamp(j.run_at),
                    j.locked_by.as_deref().unwrap_or("-"),
                    // One line per job: an error's line breaks become spaces.
                    j.last_error
                        .as_deref()
                        .unwrap_or("-")
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                ));
            }
            out
        }
    }
}

fn render_counts(counts: &[JobCount], format: ReportFormat) -> String {
    match format {
        ReportFormat::Json => serde_json::Value::Array(
            counts
                .iter()
                .map(|c| serde_json::json!({"kind": c.kind, "state": c.state.as_str(), "count": c.count}))
                .collect(),
        )
        .to_string(),
        ReportFormat::Table => {
            let mut out = format!("{:<16} {:<8} {:>8}", "kind", "state", "count");
            for c in counts {
                out.push_str(&format!(
                    "\n{:<16} {:<8} {:>8}",
                    c.kind,
                    c.state.as_str(),
                    c.count
                ));
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: i64, state: JobState, error: Option<&str>) -> JobRecord {
        JobRecord {
            id,
            kind: "gc".into(),
            payload: r#"{"kind":"gc"}"#.into(),
            dedupe_key: Some("periodic:gc".into()),
            state,
            attempts: 2,
            max_attempts: 3,
            run_at: 1_700_000_000,
            locked_by: None,
            locked_until: None,
            last_error: error.map(str::to_string),
            created_at: 1_699_999_000,
            updated_at: 1_700_000_000,
            finished_at: None,
        }
    }

    #[test]
    fn jobs_render_as_table_and_json() {
        let jobs = [
            job(7, JobState::Failed, Some("blob store\nunreachable")),
            job(6, JobState::Done, None),
        ];
        let table = render_jobs(&jobs, ReportFormat::Table);
        let lines: Vec<Vec<&str>> = table
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[1],
            [
                "7",
                "gc",
                "failed",
                "2/3",
                "2023-11-14T22:13:20Z",
                "-",
                "blob",
                "store",
                "unreachable"
            ]
        );
        assert_eq!(
            lines[2],
            ["6", "gc", "done", "2/3", "2023-11-14T22:13:20Z", "-", "-"]
        );
        let v: serde_json::Value =
            serde_json::from_str(&render_jobs(&jobs, ReportFormat::Json)).unwrap();
        assert_eq!(v[0]["id"], 7);
        assert_eq!(v[0]["state"], "failed");
        assert_eq!(v[0]["payload"]["kind"], "gc");
        assert_eq!(v[0]["lastError"], "blob store\nunreachable");
        assert_eq!(v[1]["lastError"], serde_json::Value::Null);
        assert_eq!(v[1]["maxAttempts"], 3);
    }

    #[test]
    fn counts_render_as_table_and_json() {
        let counts = [
            JobCount {
                kind: "gc".into(),
                state: JobState::Done,
                count: 12,
            },
            JobCount {
                kind: "image_scan".into(),
                state: JobState::Queued,
                count: 3,
            },
        ];
        let table = render_counts(&counts, ReportFormat::Table);
        assert!(table
            .lines()
            .any(|l| l.split_whitespace().eq(["image_scan", "queued", "3"])));
        let v: serde_json::Value =
            serde_json::from_str(&render_counts(&counts, ReportFormat::Json)).unwrap();
        assert_eq!(
            v,
            serde_json::json!([
                {"kind": "gc", "state": "done", "count": 12},
                {"kind": "image_scan", "state": "queued", "count": 3},
            ])
        );
    }

    #[test]
    fn states_parse_by_name() {
        assert_eq!(parse_state("dead"), Ok(JobState::Dead));
        assert_eq!(
            parse_state("stuck").unwrap_err(),
            "\"stuck\" is not a job state (queued, running, failed, done, dead)"
        );
    }
}
