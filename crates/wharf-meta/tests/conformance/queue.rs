//! Conformance of the durable job queue: enqueue, claims (disjoint across nodes), leases,
//! backoff and dead letters, dedupe, jobs enqueued with a push (and rolled back with it), claims
//! beside pushes, counts and pruning.

use super::*;

/// The queue's tests use their own kinds so each case sees only its jobs; all of them run at a
/// fixed clock far from now, so jobs enqueued "now" by other cases are never due for them.
const T: i64 = 2_000_000_000;

/// Claims every due job of `kind` for `node` at `at`.
async fn claim(store: &MetaStore, node: &str, kind: &str, at: i64) -> Vec<i64> {
    store
        .claim_at(node, Some(&[kind]), 60, 100, at)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.id)
        .collect()
}

/// A job goes queued → running → done, and only when due.
pub(super) async fn queue_enqueue_claim_complete(store: &MetaStore) {
    let early = store
        .enqueue(&NewJob::new("q-basic", r#"{"n":1}"#).run_at(T))
        .await
        .unwrap()
        .expect("enqueued");
    let late = store
        .enqueue(&NewJob::new("q-basic", r#"{"n":2}"#).run_at(T + 100))
        .await
        .unwrap()
        .expect("enqueued");
    let job = store.job(early).await.unwrap().unwrap();
    assert_eq!(
        (
            job.state,
            job.attempts,
            job.kind.as_str(),
            job.payload.as_str()
        ),
        (JobState::Queued, 0, "q-basic", r#"{"n":1}"#)
    );
    assert_eq!(
        claim(store, "n1", "q-basic", T - 1).await,
        Vec::<i64>::new()
    );
    // Another kind's claim does not take it.
    assert!(store
        .claim_at("n1", Some(&["q-other"]), 60, 10, T)
        .await
        .unwrap()
        .is_empty());
    let claimed = store
        .claim_at("n1", Some(&["q-basic"]), 60, 10, T)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let got = &claimed[0];
    assert_eq!(got.id, early);
    assert_eq!(got.state, JobState::Running);
    assert_eq!(got.attempts, 1);
    assert_eq!(got.locked_by.as_deref(), Some("n1"));
    assert_eq!(got.locked_until, Some(T + 60));
    // Nothing else is due; the running job is leased.
    assert_eq!(
        claim(store, "n2", "q-basic", T + 30).await,
        Vec::<i64>::new()
    );
    // Only the lease holder finishes it.
    assert!(!store.complete(early, "n2").await.unwrap());
    assert!(store.complete(early, "n1").await.unwrap());
    assert!(!store.complete(early, "n1").await.unwrap(), "done once");
    let done = store.job(early).await.unwrap().unwrap();
    assert_eq!(done.state, JobState::Done);
    assert_eq!((done.locked_by, done.locked_until), (None, None));
    assert!(done.finished_at.is_some());
    assert_eq!(claim(store, "n1", "q-basic", T + 100).await, vec![late]);
    // Released (its node stops), it is queued again without spending the attempt.
    assert!(!store.release(late, "n2").await.unwrap());
    assert!(store.release(late, "n1").await.unwrap());
    let released = store.job(late).await.unwrap().unwrap();
    assert_eq!(
        (released.state, released.attempts, released.locked_by),
        (JobState::Queued, 0, None)
    );
    let again = store
        .claim_at("n1", Some(&["q-basic"]), 60, 10, released.run_at)
        .await
        .unwrap();
    assert_eq!((again.len(), again[0].id, again[0].attempts), (1, late, 1));
    assert!(store.complete(late, "n1").await.unwrap());
    // A limit of two claims two, in due order.
    let ids = [
        store
            .enqueue(&NewJob::new("q-basic", "{}").run_at(T + 3))
            .await,
        store
            .enqueue(&NewJob::new("q-basic", "{}").run_at(T + 1))
            .await,
        store
            .enqueue(&NewJob::new("q-basic", "{}").run_at(T + 2))
            .await,
    ]
    .map(|r| r.unwrap().unwrap());
    let two: Vec<i64> = store
        .claim_at("n1", Some(&["q-basic"]), 60, 2, T + 200)
        .await
        .unwrap()
        .iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(two, vec![ids[1], ids[2]]);
    assert_eq!(claim(store, "n1", "q-basic", T + 200).await, vec![ids[0]]);
    for id in ids {
        assert!(store.complete(id, "n1").await.unwrap());
    }
}

/// Two nodes claiming at once never get the same job, and together get every job once.
pub(super) async fn queue_concurrent_claims_are_disjoint(a: &MetaStore, b: &MetaStore) {
    let mut all = Vec::new();
    for i in 0..60 {
        let job = NewJob::new("q-race", format!("{{\"i\":{i}}}")).run_at(T);
        all.push(a.enqueue(&job).await.unwrap().unwrap());
    }
    let take = |store: MetaStore, node: &'static str| async move {
        let mut got = Vec::new();
        loop {
            let batch = store
                .claim_at(node, Some(&["q-race"]), 60, 3, T)
                .await
                .unwrap();
            if batch.is_empty() {
                return got;
            }
            got.extend(batch.into_iter().map(|j| j.id));
        }
    };
    let (ga, gb) = tokio::join!(
        tokio::spawn(take(a.clone(), "node-a")),
        tokio::spawn(take(b.clone(), "node-b"))
    );
    let (ga, gb) = (ga.unwrap(), gb.unwrap());
    let mut both: Vec<i64> = ga.iter().chain(&gb).copied().collect();
    both.sort_unstable();
    assert_eq!(both, all, "every job claimed exactly once");
    for id in &ga {
        assert!(a.complete(*id, "node-a").await.unwrap());
    }
    for id in &gb {
        assert!(b.complete(*id, "node-b").await.unwrap());
    }
}

/// A job whose node died (its lease ran out) is claimed again by another node, and the dead
/// node can no longer finish it; renewing keeps the lease.
pub(super) async fn queue_lease_expiry_reclaims(a: &MetaStore, b: &MetaStore) {
    let id = a
        .enqueue(&NewJob::new("q-lease", "{}").run_at(T).max_attempts(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claim(a, "dies", "q-lease", T).await, vec![id]);
    // Renewed at T + 50, the lease runs to T + 110.
    assert!(a.renew_lease_at(id, "dies", 60, T + 50).await.unwrap());
    assert!(!b.renew_lease_at(id, "other", 60, T + 50).await.unwrap());
    assert_eq!(
        claim(b, "lives", "q-lease", T + 109).await,
        Vec::<i64>::new()
    );
    let again = b
        .claim_at("lives", Some(&["q-lease"]), 60, 10, T + 110)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].id, again[0].attempts), (id, 2));
    assert_eq!(again[0].locked_by.as_deref(), Some("lives"));
    assert!(
        !a.complete(id, "dies").await.unwrap(),
        "the old lease is gone"
    );
    assert_eq!(a.fail(id, "dies", "late", Some(T)).await.unwrap(), None);
    assert!(!a.renew_lease_at(id, "dies", 60, T + 111).await.unwrap());
    // Its lease runs out on the last attempt: the job dies instead of running a third time.
    assert_eq!(
        claim(a, "third", "q-lease", T + 500).await,
        Vec::<i64>::new()
    );
    let dead = a.job(id).await.unwrap().unwrap();
    assert_eq!(dead.state, JobState::Dead);
    assert_eq!(
        dead.last_error.as_deref(),
        Some("the lease of lives ran out on the last attempt")
    );
    assert_eq!(dead.attempts, 2);
}

/// A failed attempt waits for its retry time; the last one dead-letters the job with its error.
pub(super) async fn queue_backoff_and_dead_letters(store: &MetaStore) {
    let id = store
        .enqueue(&NewJob::new("q-fail", "{}").run_at(T).max_attempts(3))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claim(store, "n", "q-fail", T).await, vec![id]);
    assert_eq!(
        store.fail(id, "n", "boom 1", Some(T + 10)).await.unwrap(),
        Some(JobState::Failed)
    );
    let failed = store.job(id).await.unwrap().unwrap();
    assert_eq!(
        (failed.state, failed.run_at, failed.last_error.as_deref()),
        (JobState::Failed, T + 10, Some("boom 1"))
    );
    assert_eq!((failed.locked_by, failed.finished_at), (None, None));
    assert_eq!(claim(store, "n", "q-fail", T + 9).await, Vec::<i64>::new());
    assert_eq!(claim(store, "n", "q-fail", T + 10).await, vec![id]);
    assert_eq!(
        store.fail(id, "n", "boom 2", Some(T + 30)).await.unwrap(),
        Some(JobState::Failed)
    );
    assert_eq!(claim(store, "n", "q-fail", T + 30).await, vec![id]);
    assert_eq!(
        store.fail(id, "n", "boom 3", Some(T + 70)).await.unwrap(),
        Some(JobState::Dead)
    );
    let dead = store.job(id).await.unwrap().unwrap();
    assert_eq!(
        (dead.state, dead.attempts, dead.last_error.as_deref()),
        (JobState::Dead, 3, Some("boom 3"))
    );
    assert!(dead.finished_at.is_some());
    assert_eq!(
        claim(store, "n", "q-fail", T + 1000).await,
        Vec::<i64>::new()
    );

    // A failure without a retry time is final at once.
    let id = store
        .enqueue(&NewJob::new("q-fail", "not json").run_at(T))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claim(store, "n", "q-fail", T).await, vec![id]);
    assert_eq!(
        store.fail(id, "n", "bad payload", None).await.unwrap(),
        Some(JobState::Dead)
    );
    assert_eq!(store.job(id).await.unwrap().unwrap().attempts, 1);
}

/// While a job with a dedupe key is unfinished, enqueueing another with the key does nothing,
/// also when two nodes race; once it is finished the key is free again.
pub(super) async fn queue_dedupe(a: &MetaStore, b: &MetaStore) {
    let job = NewJob::new("q-dedupe", "{}")
        .run_at(T)
        .dedupe("scan:app@sha256:1");
    let first = a.enqueue(&job).await.unwrap().expect("first enqueued");
    assert_eq!(b.enqueue(&job).await.unwrap(), None, "queued holds the key");
    // Another key, or none, is not affected.
    let other = a
        .enqueue(&job.clone().dedupe("scan:app@sha256:2"))
        .await
        .unwrap();
    assert!(other.is_some());
    assert_eq!(
        claim(a, "n", "q-dedupe", T).await,
        vec![first, other.unwrap()]
    );
    assert_eq!(
        b.enqueue(&job).await.unwrap(),
        None,
        "running holds the key"
    );
    assert_eq!(
        a.fail(first, "n", "x", Some(T + 5)).await.unwrap(),
        Some(JobState::Failed)
    );
    assert_eq!(b.enqueue(&job).await.unwrap(), None, "failed holds the key");
    assert_eq!(claim(a, "n", "q-dedupe", T + 5).await, vec![first]);
    assert!(a.complete(first, "n").await.unwrap());
    assert!(a.complete(other.unwrap(), "n").await.unwrap());
    // Done frees the key; two nodes racing for it enqueue one job.
    let (ra, rb) = tokio::join!(a.enqueue(&job), b.enqueue(&job));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert!(ra.is_some() ^ rb.is_some(), "{ra:?} {rb:?}");
    let second = ra.or(rb).unwrap();
    assert_ne!(second, first);
    assert_eq!(claim(a, "n", "q-dedupe", T).await, vec![second]);
    assert!(a.complete(second, "n").await.unwrap());
}

/// Jobs handed to `put_manifest` commit with the push, and a push that fails enqueues nothing.
pub(super) async fn queue_enqueue_with_push(store: &MetaStore) {
    let name = "queue/app";
    let body = b"queue config";
    let config = Digest::sha256(body);
    store
        .record_blob(repo(store, name), &config, body.len() as u64, None, None)
        .await
        .unwrap();
    let manifest = |config: &Digest| {
        format!(r#"{{"schemaVersion":2,"config":{{"digest":"{config}","size":1}},"layers":[]}}"#)
    };
    let put = |body: String, blobs: Vec<Digest>, tag: &'static str, jobs: Vec<NewJob>| async move {
        let digest = Digest::sha256(body.as_bytes());
        store
            .put_manifest(NewManifest {
                repository: repo(store, name),
                digest: &digest,
                media_type: "application/vnd.oci.image.manifest.v1+json",
                artifact_type: None,
                subject: None,
                annotations: None,
                body: body.as_bytes(),
                blobs,
                children: vec![],
                tags: vec![tag],
                frozen_tags: vec![tag],
                image_size: None,
                scan: None,
                jobs,
                replications: vec![],
                signing: None,
            })
            .await
            .map(|_| digest)
    };
    let scan = |d: &str| {
        NewJob::new("q-push", format!("{{\"digest\":\"{d}\"}}"))
            .run_at(T)
            .dedupe(format!("q-push:{d}"))
    };
    let body_ok = manifest(&config);
    let digest = Digest::sha256(body_ok.as_bytes());
    put(
        body_ok.clone(),
        vec![config.clone()],
        "v1",
        vec![scan(&digest.to_string())],
    )
    .await
    .unwrap();
    let queued = store
        .list_jobs(&JobFilter {
            kind: Some("q-push".into()),
            ..JobFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].payload, format!("{{\"digest\":\"{digest}\"}}"));
    assert_eq!(queued[0].state, JobState::Queued);
    // Pushed again: the pending job's key makes the second enqueue a no-op.
    put(
        body_ok,
        vec![config.clone()],
        "v1",
        vec![scan(&digest.to_string())],
    )
    .await
    .unwrap();
    // Refused pushes roll back their jobs: a missing blob, a frozen tag moved.
    let missing = Digest::sha256(b"never uploaded");
    let err = put(
        manifest(&missing),
        vec![missing.clone()],
        "v2",
        vec![scan("missing")],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, MetaError::MissingReferences { .. }),
        "{err:?}"
    );
    let other_body = format!("{} ", manifest(&config));
    let err = put(other_body, vec![config.clone()], "v1", vec![scan("moved")])
        .await
        .unwrap_err();
    assert!(matches!(err, MetaError::TagImmutable(_)), "{err:?}");
    let all = store
        .list_jobs(&JobFilter {
            kind: Some("q-push".into()),
            ..JobFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![queued[0].id]
    );
    assert_eq!(claim(store, "n", "q-push", T).await, vec![queued[0].id]);
    assert!(store.complete(queued[0].id, "n").await.unwrap());
}

/// Claims and finishes on one node while another pushes with jobs: nothing deadlocks, every job
/// a push enqueued is claimed once, and (on PostgreSQL) the queue never moves the cache epoch.
pub(super) async fn queue_claims_beside_pushes(a: &MetaStore, b: &MetaStore) {
    let name = "queue/race";
    let body = b"queue race config";
    let config = Digest::sha256(body);
    a.record_blob(repo(a, name), &config, body.len() as u64, None, None)
        .await
        .unwrap();
    let pushes = {
        let a = a.clone();
        let config = config.clone();
        tokio::spawn(async move {
            for i in 0..40 {
                let body = format!(
                    r#"{{"schemaVersion":2,"config":{{"digest":"{config}","size":{i}}},"layers":[]}}"#
                );
                let digest = Digest::sha256(body.as_bytes());
                a.put_manifest(NewManifest {
                    repository: repo(&a, name),
                    digest: &digest,
                    media_type: "application/vnd.oci.image.manifest.v1+json",
                    artifact_type: None,
                    subject: None,
                    annotations: None,
                    body: body.as_bytes(),
                    blobs: vec![config.clone()],
                    children: vec![],
                    tags: vec!["latest"],
                    frozen_tags: vec![],
                    image_size: None,
                    scan: None,
                    jobs: vec![NewJob::new("q-beside", format!("{i}")).run_at(T)],
                    replications: vec![],
                    signing: None,
                })
                .await
                .expect("push");
            }
        })
    };
    let mut claimed = Vec::new();
    while claimed.len() < 40 {
        for job in b
            .claim_at("worker", Some(&["q-beside"]), 60, 5, T)
            .await
            .unwrap()
        {
            assert!(b.complete(job.id, "worker").await.unwrap());
            claimed.push(job.payload);
        }
        tokio::task::yield_now().await;
    }
    pushes.await.unwrap();
    claimed.sort_by_key(|p| p.parse::<i64>().unwrap());
    assert_eq!(claimed, (0..40).map(|i| i.to_string()).collect::<Vec<_>>());

    let epoch = a.cache_epoch().await.unwrap();
    let id = a
        .enqueue(&NewJob::new("q-beside", "{}").run_at(T))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claim(b, "worker", "q-beside", T).await, vec![id]);
    assert_eq!(
        b.fail(id, "worker", "x", Some(T)).await.unwrap(),
        Some(JobState::Failed)
    );
    assert_eq!(claim(b, "worker", "q-beside", T).await, vec![id]);
    assert!(b.complete(id, "worker").await.unwrap());
    assert_eq!(
        a.cache_epoch().await.unwrap(),
        epoch,
        "the queue is not cached data"
    );
}

/// Counts per kind and state, filters, and pruning of finished jobs only.
pub(super) async fn queue_counts_and_pruning(store: &MetaStore) {
    let kind = "q-count";
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(
            store
                .enqueue(&NewJob::new(kind, "{}").run_at(T).max_attempts(1))
                .await
                .unwrap()
                .unwrap(),
        );
    }
    let claimed = store.claim_at("n", Some(&[kind]), 60, 3, T).await.unwrap();
    assert_eq!(claimed.len(), 3);
    assert!(store.complete(ids[0], "n").await.unwrap());
    assert_eq!(
        store.fail(ids[1], "n", "no", Some(T + 1)).await.unwrap(),
        Some(JobState::Dead)
    );
    let counts: Vec<JobCount> = store
        .job_counts()
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.kind == kind)
        .collect();
    let expect = |state, count| JobCount {
        kind: kind.to_string(),
        state,
        count,
    };
    assert_eq!(
        counts,
        vec![
            expect(JobState::Queued, 1),
            expect(JobState::Running, 1),
            expect(JobState::Done, 1),
            expect(JobState::Dead, 1),
        ]
    );
    let running = store
        .list_jobs(&JobFilter {
            state: Some(JobState::Running),
            kind: Some(kind.into()),
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(
        running.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![ids[2]]
    );
    let newest_two = store
        .list_jobs(&JobFilter {
            state: None,
            kind: Some(kind.into()),
            limit: 2,
        })
        .await
        .unwrap();
    assert_eq!(
        newest_two.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![ids[3], ids[2]]
    );
    // Pruning takes only finished jobs of the state asked for, finished before the cutoff.
    let later = wharf_now() + 10;
    assert_eq!(store.prune_jobs(JobState::Queued, later).await.unwrap(), 0);
    assert_eq!(
        store
            .prune_jobs(JobState::Done, wharf_now() - 3600)
            .await
            .unwrap(),
        0
    );
    let pruned = store.prune_jobs(JobState::Done, later).await.unwrap();
    assert!(pruned >= 1, "this case's done job, and earlier cases' ones");
    assert!(store.job(ids[0]).await.unwrap().is_none());
    assert!(store.job(ids[1]).await.unwrap().is_some(), "dead jobs stay");
    assert!(store.job(ids[3]).await.unwrap().is_some());
}

fn wharf_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
