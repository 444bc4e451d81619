#!/usr/bin/env bash
# bench/scan.sh — the image-scanning figures of docs/performance.md (issue 10):
#   inventory   crates/wharf-scan/benches/scan.rs: InventoryBuilder over a generated five-layer
#               gzip image (BENCH_SCAN_MB, default 200 MB uncompressed; 300 dpkg, 100 Python and
#               100 npm packages), against the same walk with no cataloger and plain gunzip;
#               the walker's peak memory (VmHWM) from child processes streaming the layers
#   OSV         Advisory::parse and keying of BENCH_SCAN_RECORDS (default 100000) generated
#               records, and matching the 500-package inventory against them (the bench fails
#               unless matching gives exactly the findings the generator planted)
# Builds in release (cargo bench), then prints a summary table from criterion's estimates: the
# median and the fastest and slowest sample (per iteration). About 4 minutes on 2 idle cores.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}

echo "== image scanning (criterion; its report goes to $target/criterion)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
cargo bench --locked -p wharf-scan --bench scan 2>&1 |
  grep -E '^(image|inventory|walker|osv|matching|Error)|^(scan|osv|match)/|time:|thrpt:' |
  grep -v '%'  # not criterion's change lines
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "== summary (median; fastest–slowest sample, per iteration)"
python3 - "$target/criterion" <<'EOF'
import json, os, sys

root = sys.argv[1]
rows = [
    ("scan", "inventory", "inventory: walk + all catalogers"),
    ("scan", "walk-no-catalogers", "walk, no cataloger"),
    ("scan", "gunzip", "gunzip only"),
    ("osv", "parse", "Advisory::parse, all records"),
    ("osv", "json-skim", "serde_json into IgnoredAny, all records"),
    ("osv", "index", "index by Advisory::keys"),
    ("match", "inventory", "match the inventory"),
]

def fmt(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"

print("| what | median | spread | throughput at the median |")
print("|---|---|---|---|")
for group, name, label in rows:
    base = os.path.join(root, group, name, "new")
    try:
        with open(os.path.join(base, "estimates.json")) as f:
            est = json.load(f)
        with open(os.path.join(base, "sample.json")) as f:
            sample = json.load(f)
        with open(os.path.join(base, "benchmark.json")) as f:
            bench = json.load(f)
    except FileNotFoundError:
        print(f"| {label} | (not run) | | |")
        continue
    median = est["median"]["point_estimate"]
    per_iter = [t / n for t, n in zip(sample["times"], sample["iters"])]
    thrpt = ""
    tp = bench.get("throughput") or {}
    if "BytesDecimal" in tp or "Bytes" in tp:
        b = tp.get("BytesDecimal", tp.get("Bytes"))
        thrpt = f"{b / 1e6 / (median / 1e9):.0f} MB/s of {b / 1e6:.0f} MB"
    elif "Elements" in tp:
        e = tp["Elements"]
        thrpt = f"{e / (median / 1e9):,.0f} per s ({fmt(median / e)} each, {e:,})"
    print(f"| {label} | {fmt(median)} | {fmt(min(per_iter))}–{fmt(max(per_iter))} | {thrpt} |")
EOF
