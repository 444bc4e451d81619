//! What differs between the two SQL backends: the fixed advisory lock keys, placeholder lists
//! and the few functions whose names differ. Everything else is SQL both accept, with `$n`
//! placeholders. Which write transactions take which lock is `locks.rs`.

/// The SQL backend a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The advisory lock key every write transaction takes on PostgreSQL ("wharf" in ASCII):
/// exclusively for a global write, shared for a keyed one (`locks.rs`). The lock function of
/// migrations/postgres/0015 (and the old triggers of 0002) name it by its decimal value,
/// 512852324966: never change it.
pub(crate) const WRITE_LOCK: i64 = 0x0077_6861_7266;

/// The advisory lock key migrations run under on PostgreSQL.
pub(crate) const MIGRATE_LOCK: i64 = WRITE_LOCK + 1;

/// `count` placeholders starting at `$first`, comma-separated: `$1,$2,$3`.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// An aggregate serializing `column` (text) of the group, in byte order, as a JSON array (NULL
/// for no rows on PostgreSQL; callers map NULL to `[]`).
pub(crate) fn json_array_agg(dialect: Dialect, column: &str) -> String {
    match dialect {
        Dialect::Sqlite => format!("json_group_array({column} ORDER BY {column})"),
        Dialect::Postgres => format!("CAST(json_agg({column} ORDER BY {column}) AS TEXT)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_lists() {
        assert_eq!(placeholders(1, 3), "$1,$2,$3");
        assert_eq!(placeholders(4, 1), "$4");
        assert_eq!(placeholders(1, 0), "");
    }
}
