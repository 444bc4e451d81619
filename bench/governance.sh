#!/usr/bin/env bash
# bench/governance.sh — the governance figures of docs/performance.md (issue 4):
#   lifecycle evaluation   criterion: wharf_lifecycle::evaluate over 10,000 synthetic images
#                          (a 4-rule policy, a single imageCountMoreThan rule) and policy parsing
#   garbage collection     crates/wharf-core/benches/gc.rs: time and peak memory (VmHWM) of a dry
#                          run, a real pass and a no-op pass over BENCH_GC_BLOBS (100000) blobs,
#                          half of them garbage; each pass in its own child process
# Both build in release (cargo bench). BENCH_GC_BLOBS=2000 makes a smoke run of the GC part.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== lifecycle evaluation (criterion; its report goes to ${CARGO_TARGET_DIR:-target}/criterion)"
cargo bench --locked -p wharf-lifecycle --bench evaluate 2>&1 |
  grep -E '^(lifecycle/|[0-9a-zA-Z-]+ policy over)|time:|thrpt:' | grep -v '%'  # not the change lines

echo
echo "== garbage collection"
cargo bench --locked -p wharf-core --bench gc 2>&1 | grep -vE '^\s*(Compiling|Finished|Running)'
