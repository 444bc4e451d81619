//! The runner against a real Registry over a temporary metadata store (SQLite, or PostgreSQL with
//! WHARF_TEST_POSTGRES_URL): retries with backoff, dead-lettering, panics, lease renewal,
//! shutdown, periodic jobs once per interval with two runners on one database, and the server's
//! own handlers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wharf_blob::FsBlobStore;
use wharf_core::{Backoff, GcOptions, JobKind, Registry};
use wharf_jobs::{JobError, JobHandler, Periodic, RunnerConfig, StandardHandler};
use wharf_meta::{JobFilter, JobRecord, JobState, MetaStore};

/// What a scripted handler does on one call.
#[derive(Debug, Clone)]
enum Step {
    Succeed,
    Fail(&'static str),
    Refuse(&'static str),
    Panic(&'static str),
    Sleep(Duration),
}

/// A handler following a script per kind (`script(kind, call number from 1)`), recording when
/// each call started.
struct Scripted {
    script: fn(&JobKind, usize) -> Step,
    calls: Mutex<HashMap<&'static str, Vec<Instant>>>,
    /// The kinds and last errors `gave_up` was told about.
    gave_up: Mutex<Vec<(&'static str, String)>>,
}

impl Scripted {
    fn new(script: fn(&JobKind, usize) -> Step) -> Arc<Scripted> {
        Arc::new(Scripted {
            script,
            calls: Mutex::new(HashMap::new()),
            gave_up: Mutex::new(Vec::new()),
        })
    }

    fn calls(&self, kind: &str) -> Vec<Instant> {
        self.calls
            .lock()
            .unwrap()
            .get(kind)
            .cloned()
            .unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl JobHandler for Scripted {
    async fn handle(&self, _registry: &Registry, job: &JobKind) -> Result<(), JobError> {
        let n = {
            let mut calls = self.calls.lock().unwrap();
            let list = calls.entry(job.as_str()).or_default();
            list.push(Instant::now());
            list.len()
        };
        match (self.script)(job, n) {
            Step::Succeed => Ok(()),
            Step::Fail(m) => Err(JobError::Transient(format!("{m} {n}"))),
            Step::Refuse(m) => Err(JobError::Permanent(m.to_string())),
            Step::Panic(m) => panic!("{m}"),
            Step::Sleep(d) => {
                tokio::time::sleep(d).await;
                Ok(())
            }
        }
    }

    async fn gave_up(&self, _registry: &Registry, job: &JobKind, error: &str) {
        self.gave_up
            .lock()
            .unwrap()
            .push((job.as_str(), error.to_string()));
    }
}

/// A node: a Registry over the test directory's store (each call opens a store of its own on
/// the same database, as another node would).
async fn node(dir: &tempfile::TempDir) -> Registry {
    let blobs = FsBlobStore::open(dir.path().join("blobs")).unwrap();
    let meta = wharf_meta::testing::store(dir.path()).await;
    Registry::new(Arc::new(blobs), meta)
}

/// A quick runner: polls often, retries at once unless a test sets a backoff.
fn config() -> RunnerConfig {
    RunnerConfig {
        workers: 2,
        poll: Duration::from_millis(50),
        lease: Duration::from_secs(30),
        backoff: Backoff {
            base: Duration::ZERO,
            max: Duration::ZERO,
            jitter: false,
        },
        ..RunnerConfig::default()
    }
}

/// Waits until job `id` satisfies `done` (at most 30 s).
async fn wait_for(meta: &MetaStore, id: i64, done: impl Fn(&JobRecord) -> bool) -> JobRecord {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let job = meta.job(id).await.unwrap().expect("job exists");
        if done(&job) {
            return job;
        }
        assert!(Instant::now() < deadline, "job never got there: {job:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn enqueue(registry: &Registry, kind: JobKind, attempts: u32) -> i64 {
    registry
        .enqueue_job(&kind.new_job().max_attempts(attempts))
        .await
        .unwrap()
        .expect("enqueued")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_twice_then_succeeding_is_retried_with_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let registry = node(&dir).await;
    let handler = Scripted::new(|_, n| {
        if n <= 2 {
            Step::Fail("failure")
        } else {
            Step::Succeed
        }
    });
    let runner = wharf_jobs::start(
        registry.clone(),
        handler.clone(),
        RunnerConfig {
            backoff: Backoff {
                base: Duration::from_secs(2),
                max: Duration::from_secs(60),
                jitter: false,
            },
            ..config()
        },
    );
    let id = enqueue(&registry, JobKind::Gc, 5).await;
    let job = wait_for(registry.meta(), id, |j| j.state.is_finished()).await;
    runner.shutdown(Duration::from_secs(5)).await;
    assert_eq!(job.state, JobState::Done);
    assert_eq!(job.attempts, 3);
    assert_eq!(job.last_error.as_deref(), Some("failure 2"));
    let calls = handler.calls("gc");
    assert_eq!(calls.len(), 3);
    // Retry times are whole seconds: 2 s then 4 s after a failure, less under a second of
    // rounding.
    let gaps: Vec<Duration> = calls.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps[0] >= Duration::from_secs(1), "{gaps:?}");
    assert!(gaps[1] >= Duration::from_secs(3), "{gaps:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_out_of_attempts_are_dead_with_their_last_error() {
    let dir = tempfile::tempdir().unwrap();
    let registry = node(&dir).await;
    let handler = Scripted::new(|kind, _| match kind {
        JobKind::Gc => Step::Fail("still broken"),
        _ => Step::Refuse("cannot ever work"),
    });
    let runner = wharf_jobs::start(registry.clone(), handler.clone(), config());
    let retried = enqueue(&registry, JobKind::Gc, 3).await;
    let refused = enqueue(&registry, JobKind::Lifecycle, 3).await;
    let job = wait_for(registry.meta(), retried, |j| j.state.is_finished()).await;
    assert_eq!(
        (job.state, job.attempts, job.last_error.as_deref()),
        (JobState::Dead, 3, Some("still broken 3"))
    );
    let job = wait_for(registry.meta(), refused, |j| j.state.is_finished()).await;
    assert_eq!(
        (job.state, job.attempts, job.last_error.as_deref()),
        (JobState::Dead, 1, Some("cannot ever work"))
    );
    // Dead jobs are not run again.
    tokio::time::sleep(Duration::from_millis(300)).await;
    runner.shutdown(Duration::from_secs(5)).await;
    assert_eq!(handler.calls("gc").len(), 3);
    assert_eq!(handler.calls("lifecycle").len(), 1);
    // The handler heard of each death once, with the last error (a dead scan is marked FAILED
    // through this).
    let mut gave_up = handler.gave_up.lock().unwrap().clone();
    gave_up.sort();
    assert_eq!(
        gave_up,
        vec![
            ("gc", "still broken 3".to_string()),
            ("lifecycle", "cannot ever work".to_string())
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_fails_its_attempt_and_the_runner_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let registry = node(&dir).await;
    let handler = Scripted::new(|kind, n| match (kind, n) {
        (JobKind::Gc, 1) => Step::Panic("boom"),
        _ => Step::Succeed,
    });
    // One worker: the one that saw the panic runs the next job too.
    let runner = wharf_jobs::start(
        registry.clone(),
        handler.clone(),
        RunnerConfig {
            workers: 1,
            ..config()
        },
    );
    let id = enqueue(&registry, JobKind::Gc, 3).await;
    let job = wait_for(registry.meta(), id, |j| j.state.is_finished()).await;
    assert_eq!(
        (job.state, job.attempts, job.last_error.as_deref()),
        (JobState::Done, 2, Some("handler panicked: boom"))
    );
    let next = enqueue(&registry, JobKind::UploadPurge, 3).await;
    let job = wait_for(registry.meta(), next, |j| j.state.is_finished()).await;
    runner.shutdown(Duration::from_secs(5)).await;
    assert_eq!((job.state, job.attempts), (JobState::Done, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_job_keeps_its_lease() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (node(&dir).await, node(&dir).await);
    let handler = Scripted::new(|_, _| Step::Sleep(Duration::from_secs(5)));
    // A 2 s lease, renewed every 2/3 s: the other node never sees it run out.
    let short = RunnerConfig {
        lease: Duration::from_secs(2),
        ..config()
    };
    let ra = wharf_jobs::start(a.clone(), handler.clone(), short.clone());
    let rb = wharf_jobs::start(b.clone(), handler.clone(), short);
    let id = enqueue(&a, JobKind::Gc, 3).await;
    let job = wait_for(a.meta(), id, |j| j.state.is_finished()).await;
    ra.shutdown(Duration::from_secs(5)).await;
    rb.shutdown(Duration::from_secs(5)).await;
    assert_eq!((job.state, job.attempts), (JobState::Done, 1));
    assert_eq!(handler.calls("gc").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_waits_for_short_jobs_and_gives_back_long_ones() {
    let dir = tempfile::tempdir().unwrap();
    let registry = node(&dir).await;
    let handler = Scripted::new(|kind, _| match kind {
        JobKind::Gc => Step::Sleep(Duration::from_millis(500)),
        _ => Step::Sleep(Duration::from_secs(60)),
    });
    let runner = wharf_jobs::start(registry.clone(), handler.clone(), config());
    let short = enqueue(&registry, JobKind::Gc, 3).await;
    wait_for(registry.meta(), short, |j| j.state == JobState::Running).await;
    runner.shutdown(Duration::from_secs(10)).await;
    let job = registry.meta().job(short).await.unwrap().unwrap();
    assert_eq!(
        job.state,
        JobState::Done,
        "finished within the grace period"
    );

    let runner = wharf_jobs::start(registry.clone(), handler.clone(), config());
    let long = enqueue(&registry, JobKind::Lifecycle, 3).await;
    wait_for(registry.meta(), long, |j| j.state == JobState::Running).await;
    let started = Instant::now();
    runner.shutdown(Duration::from_millis(300)).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    let job = registry.meta().job(long).await.unwrap().unwrap();
    assert_eq!(
        (job.state, job.attempts, job.locked_by),
        (JobState::Queued, 0, None),
        "given back without spending the attempt"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn periodic_jobs_run_once_per_interval_with_two_runners() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (node(&dir).await, node(&dir).await);
    let handler = Scripted::new(|_, _| Step::Succeed);
    let every_two_seconds = RunnerConfig {
        periodic: vec![Periodic {
            kind: JobKind::Lifecycle,
            every: Duration::from_secs(2),
            first_after: Duration::ZERO,
        }],
        ..config()
    };
    let ra = wharf_jobs::start(a.clone(), handler.clone(), every_two_seconds.clone());
    let rb = wharf_jobs::start(b.clone(), handler.clone(), every_two_seconds);
    // Both nodes tick at 0, 2 and 4 s.
    tokio::time::sleep(Duration::from_millis(5500)).await;
    ra.shutdown(Duration::from_secs(5)).await;
    rb.shutdown(Duration::from_secs(5)).await;
    let calls = handler.calls("lifecycle");
    assert_eq!(calls.len(), 3, "one run per interval, not one per node");
    for w in calls.windows(2) {
        assert!(w[1] - w[0] >= Duration::from_secs(1), "{calls:?}");
    }
    let jobs = a
        .meta()
        .list_jobs(&JobFilter {
            kind: Some("lifecycle".into()),
            ..JobFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(jobs.len(), 3);
    for job in &jobs {
        assert_eq!((job.state, job.attempts), (JobState::Done, 1));
        assert_eq!(job.dedupe_key.as_deref(), Some("periodic:lifecycle"));
        assert_eq!(job.payload, r#"{"kind":"lifecycle"}"#);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standard_handlers_run_the_servers_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let registry = node(&dir).await;
    let handler = Arc::new(StandardHandler {
        gc: GcOptions {
            grace: Duration::from_secs(3600),
            upload_max_age: Duration::from_secs(3600),
            dry_run: false,
        },
        upload_max_age: Duration::from_secs(3600),
        metrics: Default::default(),
        regions: Default::default(),
    });
    let hour = Duration::from_secs(3600);
    let runner = wharf_jobs::start(
        registry.clone(),
        handler,
        RunnerConfig {
            periodic: [JobKind::Gc, JobKind::Lifecycle, JobKind::UploadPurge]
                .into_iter()
                .map(|kind| Periodic {
                    kind,
                    every: hour,
                    first_after: Duration::ZERO,
                })
                .collect(),
            ..config()
        },
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let done = loop {
        let done = registry
            .meta()
            .list_jobs(&JobFilter {
                state: Some(JobState::Done),
                ..JobFilter::default()
            })
            .await
            .unwrap();
        if done.len() == 3 || Instant::now() > deadline {
            break done;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    runner.shutdown(Duration::from_secs(5)).await;
    let mut kinds: Vec<&str> = done.iter().map(|j| j.kind.as_str()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["gc", "lifecycle", "upload_purge"]);
    assert_eq!(
        registry
            .meta()
            .job_last_run("upload-purge")
            .await
            .unwrap()
            .map(|(_, node)| node),
        Some(registry.node().to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_prune_keeps_records_within_retention_and_counts_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let registry = node(&dir).await;
    let now_ms = wharf_core::unix_now() * 1000;
    let day_ms = 86_400_000;
    let record = |name: &str, at: i64| wharf_meta::AuditRecord {
        event_id: name.to_string(),
        event_time: at,
        event_name: name.to_string(),
        event_source: "ecr.amazonaws.com".to_string(),
        ..Default::default()
    };
    registry
        .meta()
        .insert_audit_events(&[
            record("old", now_ms - 3 * day_ms),
            record("recent", now_ms - day_ms / 2),
        ])
        .await
        .unwrap();
    let metrics = wharf_metrics::Metrics::new();
    let handler = Arc::new(StandardHandler {
        gc: GcOptions {
            grace: Duration::from_secs(3600),
            upload_max_age: Duration::from_secs(3600),
            dry_run: false,
        },
        upload_max_age: Duration::from_secs(3600),
        metrics: metrics.clone(),
        regions: Default::default(),
    });
    let runner = wharf_jobs::start(
        registry.clone(),
        handler,
        RunnerConfig {
            metrics: metrics.clone(),
            ..config()
        },
    );
    let id = enqueue(&registry, JobKind::AuditPrune { days: 1 }, 3).await;
    let job = wait_for(registry.meta(), id, |j| j.state.is_finished()).await;
    runner.shutdown(Duration::from_secs(5)).await;
    assert_eq!(job.state, JobState::Done, "{job:?}");
    let left = registry
        .meta()
        .audit_events(&wharf_meta::AuditFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        left.iter()
            .map(|r| r.event_name.as_str())
            .collect::<Vec<_>>(),
        ["recent"]
    );
    assert!(metrics
        .encode()
        .contains(r#"wharf_job_attempts_total{kind="audit_prune",outcome="done"} 1"#));
}
