//! Which write transactions exclude which: the write-lock scopes and how PostgreSQL takes them.
//!
//! SQLite has one writer connection, so every write transaction excludes every other and a scope
//! changes nothing there. On PostgreSQL a write transaction takes transaction-scoped advisory
//! locks before its first statement, at one of two levels:
//!
//! - [`WriteScope::Global`]: the write lock (`WRITE_LOCK`) exclusively. It excludes every other
//!   locked write transaction, as the one cluster-wide lock did before: for work whose
//!   read-check-write crosses repositories or whose rows no single key names (collection passes,
//!   encryption keys, data migration, the first start).
//! - [`WriteScope::Keys`]: the write lock *shared*, then each named resource's own key
//!   exclusively, in ascending key order (so two transactions needing several keys cannot
//!   deadlock on them). Transactions on different resources run concurrently; on the same
//!   resource they serialize; a global writer waits for all of them and they all wait for it.
//!   PostgreSQL queues a lock request behind a conflicting waiter, so a waiting global writer is
//!   not starved by a stream of keyed writers.
//!
//! A resource key is the first 8 bytes of SHA-256 over a tag and the resource's name (stable
//! across processes and versions), with the top bit set: keys are negative and the fixed keys of
//! `dialect.rs` are positive, so they can never collide. `wharf_lock_keys()` (migration
//! `postgres/0015_repo_locks.sql`) takes the shared lock and then the sorted keys in one round
//! trip, in that order: a transaction never holds a key while it waits for the shared lock.
//!
//! What keyed transactions may still share are rows no key covers: `blobs` (one row per digest,
//! linked by many repositories), the job queue's dedupe index and the cache epoch. They take
//! those rows' locks in one order (blob rows in ascending digest order, see `blobs.rs` and
//! `removal.rs`; the epoch last, at commit), so no cycle can form; ARCHITECTURE.md lists every
//! write path's scope and why.

use crate::dialect::{Dialect, WRITE_LOCK};
use crate::RepoKey;
use sqlx::{Any, Transaction};
use wharf_oci::Digest;

/// A resource a keyed write transaction locks exclusively (besides the shared write lock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct LockKey(i64);

impl LockKey {
    /// One repository: everything stored under it (manifests, tags, links, uploads, settings,
    /// scans, its creation and deletion). The repository need not exist yet.
    pub(crate) fn repo(repo: RepoKey<'_>) -> LockKey {
        LockKey::named("repository", &[repo.account, repo.name])
    }

    /// The vulnerability database (advisories and the pending-rescan keys): its imports check and
    /// write only its own tables, so they need not stop pushes.
    pub(crate) fn vulndb() -> LockKey {
        LockKey::named("vulndb", &[])
    }

    fn named(tag: &str, parts: &[&str]) -> LockKey {
        // NUL separates the parts: names never contain it, so distinct parts give distinct input.
        let mut input = format!("wharf-lock\0{tag}");
        for p in parts {
            input.push('\0');
            input.push_str(p);
        }
        let digest = Digest::sha256(input.as_bytes());
        let first = u64::from_str_radix(&digest.hex()[..16], 16).unwrap_or(0);
        LockKey((first | 1 << 63) as i64)
    }

    /// The key as PostgreSQL's advisory lock takes it.
    pub(crate) fn value(self) -> i64 {
        self.0
    }
}

/// What a write transaction locks on PostgreSQL; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WriteScope {
    /// The write lock, exclusively.
    Global,
    /// The write lock shared, then these keys exclusively (sorted, without repeats). No keys:
    /// only the shared lock, for writes that must merely wait out global writers.
    Keys(Vec<LockKey>),
}

impl WriteScope {
    /// The scope locking `keys` (in any order, repeats allowed).
    pub(crate) fn keys(keys: impl IntoIterator<Item = LockKey>) -> WriteScope {
        let mut keys: Vec<LockKey> = keys.into_iter().collect();
        keys.sort_unstable();
        keys.dedup();
        WriteScope::Keys(keys)
    }

    /// The scope of one repository.
    pub(crate) fn repo(repo: RepoKey<'_>) -> WriteScope {
        WriteScope::Keys(vec![LockKey::repo(repo)])
    }

    /// Whether a transaction under this scope may write into `repo`.
    pub(crate) fn covers(&self, repo: RepoKey<'_>) -> bool {
        match self {
            WriteScope::Global => true,
            WriteScope::Keys(keys) => keys.binary_search(&LockKey::repo(repo)).is_ok(),
        }
    }
}

/// Takes `scope`'s locks for the rest of `tx` (PostgreSQL); SQLite's single writer connection
/// serializes writes already.
pub(crate) async fn take(
    tx: &mut Transaction<'_, Any>,
    dialect: Dialect,
    scope: &WriteScope,
) -> sqlx::Result<()> {
    if dialect != Dialect::Postgres {
        return Ok(());
    }
    match scope {
        WriteScope::Global => {
            sqlx::query("SELECT CAST(pg_advisory_xact_lock($1) AS TEXT)")
                .bind(WRITE_LOCK)
                .execute(&mut **tx)
                .await?;
        }
        WriteScope::Keys(keys) => {
            let list = keys
                .iter()
                .map(|k| k.value().to_string())
                .collect::<Vec<_>>()
                .join(",");
            sqlx::query("SELECT CAST(wharf_lock_keys($1) AS TEXT)")
                .bind(list)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// Whether a PostgreSQL error is a deadlock or serialization failure: the transaction was rolled
/// back by the server and running it again is safe.
pub(crate) fn is_retryable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("40P01" | "40001")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo<'a>(account: &'a str, name: &'a str) -> RepoKey<'a> {
        RepoKey { account, name }
    }

    #[test]
    fn keys_are_stable_negative_and_distinct() {
        let k = LockKey::repo(repo("123456789012", "team/app"));
        assert_eq!(k, LockKey::repo(repo("123456789012", "team/app")));
        assert!(k.value() < 0 && WRITE_LOCK > 0);
        assert_ne!(k, LockKey::repo(repo("123456789012", "team/ap")));
        assert_ne!(
            LockKey::repo(repo("a", "bc")),
            LockKey::repo(repo("ab", "c")),
            "the separator keeps account and name apart"
        );
        assert_ne!(k, LockKey::vulndb());
    }

    #[test]
    fn the_key_derivation_is_pinned() {
        // SHA-256("wharf-lock\0repository\0acct\0name") starts b8eae1cd3ce0f6ae (computed
        // independently with Python's hashlib); its top bit is already set. A change here would
        // let two versions of Wharf lock one repository under different keys.
        assert_eq!(
            LockKey::repo(repo("acct", "name")).value(),
            0xb8ea_e1cd_3ce0_f6ae_u64 as i64
        );
        assert_eq!(
            LockKey::repo(repo("acct", "name")).value(),
            -5122033354574596434
        );
    }

    #[test]
    fn scopes_sort_dedupe_and_cover() {
        let (a, b) = (repo("1", "a"), repo("1", "b"));
        let scope = WriteScope::keys([LockKey::repo(b), LockKey::repo(a), LockKey::repo(b)]);
        let WriteScope::Keys(keys) = &scope else {
            panic!("keyed scope")
        };
        assert_eq!(keys.len(), 2);
        assert!(keys[0] < keys[1]);
        assert!(scope.covers(a) && scope.covers(b));
        assert!(!scope.covers(repo("1", "c")));
        assert!(WriteScope::Global.covers(repo("1", "c")));
        assert!(!WriteScope::keys([]).covers(a));
    }
}
