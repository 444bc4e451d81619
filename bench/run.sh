#!/usr/bin/env bash
# bench/run.sh — benchmark Wharf against CNCF Distribution on the same machine, same run.
#
# Starts each registry in turn (BENCH_TARGETS, default "wharf distribution") on 127.0.0.1 with a
# temp data dir (Distribution: filesystem storage, no auth, generated config) and measures:
#   blob push, monolithic PUT          BENCH_BLOB_MB (1024) MiB, median of BENCH_REPEAT (3) pushes, MiB/s;
#                                      each after a dd conv=fsync of the same blob: push / dd per pair
#   blob push, chunked                 same size in BENCH_CHUNK_MB (8) MiB PATCHes on one connection (driver.py), MiB/s;
#                                      median of BENCH_REPEAT, each right after a monolithic push
#                                      (the rounds alternate): chunked / monolithic per pair
#   blob pull, warm                    curl -o /dev/null of the pushed blob, median of BENCH_REPEAT warm GETs, MiB/s
#   small blob pushes                  BENCH_SMALL_COUNT (2000) x BENCH_SMALL_KB (4) KiB at
#                                      BENCH_SMALL_CONC (16) clients, POST+PUT each, pushes/s
#   manifest GET by tag                wrk --latency at 1/16/64 connections for BENCH_WRK_SECS (10) s:
#                                      req/s and p99 latency
#   tag PUTs / tag listing             the same manifest PUT under BENCH_TAGS (10000) tags at 16
#                                      clients (tags/s), then the full tag list (following Link
#                                      pages), median of BENCH_TAGLIST_REPEAT (5) GETs
# BENCH_REPOS (1) spreads the small pushes and the tag PUTs round robin over that many
#                                      repositories (bench/small, bench/small-1, ...; the tag PUTs'
#                                      blobs are mounted into each first, untimed): with more than
#                                      one, writes to different repositories may run concurrently
#                                      (per-repository locking on PostgreSQL). The tag list is then
#                                      of bench/tags alone, which holds every BENCH_REPOS-th tag.
#   peak RSS                           VmHWM of the server process at the end
# BENCH_QUICK=1 shrinks everything for a smoke run (32 MiB blob, 200 small blobs, 2 s wrk, 500 tags).
# Prints a Markdown table with the Wharf/Distribution ratio (and Wharf-cluster/Wharf, Wharf-s3/Wharf
# when those run beside wharf) and writes it to target/bench/results.md.
# Wharf requires authentication: every request (curl via reg_curl, wrk, driver.py) sends
# `Authorization: $REG_AUTH` (lib.sh: Basic AWS + `wharf admin login-password`); Distribution gets none.
#
# Targets:
#   wharf          one `wharf serve`, embedded: filesystem blobs + SQLite metadata.
#   wharf-cluster  two `wharf serve` nodes behind nginx round robin (lib.sh E2E_REGISTRY=wharf-cluster,
#                  tests/e2e/cluster-serve.sh) over a fresh database of the PostgreSQL server
#                  WHARF_E2E_PG_URL names (dropped afterwards) and the S3 bucket WHARF_BLOB_STORE=s3
#                  and WHARF_BLOB_STORE_{ENDPOINT,BUCKET,REGION,ACCESS_KEY_ID,SECRET_ACCESS_KEY} name,
#                  under a fresh key prefix (the database's name). Peak RSS is the SUM of the two
#                  nodes' VmHWM (nginx, PostgreSQL and the S3 server not counted); each node's is logged.
#   wharf-s3       one `wharf serve`, SQLite metadata, blobs in that bucket under a fresh prefix
#                  bench-s3-<time>-<random>.
#   wharf-plaintext  `wharf` with WHARF_ENCRYPT_BLOBS=false: new blobs stored unsealed, so
#                  wharf/wharf-plaintext is the cost of encryption at rest (BENCH_TARGETS="wharf
#                  wharf-plaintext" measures just that).
#   distribution   CNCF Distribution 2.8, filesystem storage, no auth.
# The caller's WHARF_BLOB_STORE* settings go only to wharf-s3 and wharf-cluster, so `wharf` stays
# embedded even when they are exported. Dropped for every target: WHARF_CONFIG, WHARF_DATA_DIR,
# WHARF_LISTEN and WHARF_METADATA_URL (lib.sh sets the cluster's), WHARF_BLOB_STORE_PREFIX (each S3
# target gets a fresh one) and WHARF_BLOB_STORE_REDIRECT (the pull figure needs Wharf to stream the
# blob, not answer 307). Blobs pushed to S3 stay in the bucket under the logged prefix; delete them
# with any S3 client.
# Requires: curl, wrk, python3, docker-registry (scripts/install-test-deps.sh) and a release wharf
# (WHARF_BIN, default target/release/wharf: lib.sh does not build it; a debug build measures the
# wrong thing). wharf-cluster also needs psql and nginx.
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
source "$BENCH_DIR/../tests/e2e/lib.sh"
need curl wrk python3 dd

if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
  : "${BENCH_BLOB_MB:=32}" "${BENCH_SMALL_COUNT:=200}" "${BENCH_WRK_SECS:=2}" "${BENCH_TAGS:=500}"
fi
BLOB_MB=${BENCH_BLOB_MB:-1024}
CHUNK_MB=${BENCH_CHUNK_MB:-8}
SMALL_COUNT=${BENCH_SMALL_COUNT:-2000}
# Pushes and pulls of the big blob repeated per target; the median is reported.
REPEAT=${BENCH_REPEAT:-3}
SMALL_KB=${BENCH_SMALL_KB:-4}
SMALL_CONC=${BENCH_SMALL_CONC:-16}
WRK_SECS=${BENCH_WRK_SECS:-10}
WRK_CONNS=${BENCH_WRK_CONNS:-1 16 64}
TAGS=${BENCH_TAGS:-10000}
TAGLIST_REPEAT=${BENCH_TAGLIST_REPEAT:-5}
REPOS=${BENCH_REPOS:-1}
TARGETS=${BENCH_TARGETS:-wharf distribution}
OUT_DIR="${BENCH_OUT_DIR:-$REPO_ROOT/target/bench}"

# The store settings of the caller's environment: kept aside here and handed to the S3 targets only
# (target_env), so the embedded `wharf` target never picks them up.
STORE_ENV=()
for v in $(compgen -e); do
  case "$v" in
    WHARF_BLOB_STORE_REDIRECT | WHARF_BLOB_STORE_PREFIX | WHARF_METADATA_URL | WHARF_CONFIG | WHARF_DATA_DIR | WHARF_LISTEN) unset "$v" ;;
    WHARF_BLOB_STORE*) STORE_ENV+=("$v=${!v}"); unset "$v" ;;
  esac
done
for impl in $TARGETS; do
  case "$impl" in
    wharf | wharf-plaintext | distribution) ;;
    wharf-s3 | wharf-cluster)
      [[ " ${STORE_ENV[*]} " == *" WHARF_BLOB_STORE=s3 "* ]] ||
        { echo "target $impl needs WHARF_BLOB_STORE=s3 and WHARF_BLOB_STORE_* in the environment" >&2; exit 2; }
      if [[ "$impl" == wharf-cluster ]]; then
        need psql nginx
        [[ -n "${WHARF_E2E_PG_URL:-}" ]] || { echo "target wharf-cluster needs WHARF_E2E_PG_URL" >&2; exit 2; }
      fi
      ;;
    *) echo "unknown target $impl (wharf | wharf-plaintext | wharf-cluster | wharf-s3 | distribution)" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT_DIR"
work=$(mktemp_e2e)
DRIVER=(python3 "$BENCH_DIR/driver.py")

now() { echo "$EPOCHREALTIME"; }
calc() { python3 -c "print(f'{$1:.${2:-1}f}')"; }
# median X Y Z… -> the middle value (the lower middle for an even count)
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# record IMPL KEY VALUE
record() { local v=${3:-FAIL}; echo "$2 $v" >>"$work/results-$1"; log "  $1 $2 = $v"; }
# target_env IMPL: E2E_REGISTRY for lib.sh's registry_start, and the store settings IMPL gets.
target_env() {
  local v kv
  for v in $(compgen -e); do
    case "$v" in WHARF_METADATA_URL | WHARF_BLOB_STORE* | WHARF_ENCRYPT_BLOBS) unset "$v" ;; esac
  done
  case "$1" in
    wharf-s3 | wharf-cluster)
      for kv in "${STORE_ENV[@]}"; do export "${kv?}"; done
      ;;
  esac
  case "$1" in
    # lib.sh picks a fresh database and uses its name as the key prefix.
    wharf-cluster) E2E_REGISTRY=wharf-cluster ;;
    wharf-plaintext)
      E2E_REGISTRY=wharf
      export WHARF_ENCRYPT_BLOBS=false
      ;;
    wharf-s3)
      E2E_REGISTRY=wharf
      WHARF_BLOB_STORE_PREFIX="bench-s3-$(date +%s)-$RANDOM"
      export WHARF_BLOB_STORE_PREFIX
      log "wharf-s3: blobs under prefix $WHARF_BLOB_STORE_PREFIX"
      ;;
    *) E2E_REGISTRY=$1 ;;
  esac
  export E2E_REGISTRY
}
# node_pids: the wharf (or distribution) server processes of the running target; for the cluster,
# its two nodes (REG_PID is then cluster-serve.sh, which outlives a dead node).
node_pids() {
  if [[ "$E2E_REGISTRY" == wharf-cluster ]]; then
    (. "$REG_DATA/cluster.env" && echo "$NODE1_PID $NODE2_PID")
  else
    echo "$REG_PID"
  fi
}
server_alive() {
  local p
  for p in "$REG_PID" $(node_pids); do kill -0 "$p" 2>/dev/null || return 1; done
}
server_logs() {
  if [[ "$E2E_REGISTRY" == wharf-cluster ]]; then echo "$REG_LOG" "$REG_DATA.node1.log" "$REG_DATA.node2.log"; else echo "$REG_LOG"; fi
}
# step FN IMPL [ARGS]: run one benchmark unless the server is already dead; a failing step is
# logged and the run goes on, so one broken figure never hides the others.
step() {
  local fn=$1 impl=$2 f
  if ! server_alive; then log "$impl: server not running, skipping $fn"; return 0; fi
  "$@" || log "$impl: $fn failed"
  log "  $impl after $fn: peak RSS $(peak_rss) MiB"
  if ! server_alive; then
    log "$impl: SERVER DIED during $fn; last log lines:"
    for f in $(server_logs); do tail -n 20 "$f" >&2 || true; done
  fi
}
# peak_rss: VmHWM in MiB of the target's server, for the cluster the sum of its nodes.
peak_rss() {
  local p kib sum=0 each=()
  for p in $(node_pids); do
    kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null) || kib=""
    [[ -n "$kib" ]] || return 0
    sum=$((sum + kib)); each+=("$(calc "$kib / 1024")")
  done
  ((${#each[@]} > 1)) && log "  per node VmHWM (MiB): ${each[*]}"
  ((${#each[@]} > 1)) && echo "peak_rss_nodes ${each[*]}" >>"$work/results-$impl"
  calc "$sum / 1024"
}

# Random test blobs: A for monolithic push/pull, B (A with a different first block) for chunked.
log "generating ${BLOB_MB} MiB test blobs"
dd if=/dev/urandom of="$work/blobA" bs=1M count="$BLOB_MB" status=none
cp "$work/blobA" "$work/blobB"
dd if=/dev/urandom of="$work/blobB" bs=4096 count=1 conv=notrunc status=none
# More variants of A and B for the repeated pushes (each push must carry new content).
for ((r = 2; r <= REPEAT; r++)); do
  for v in A B; do
    cp "$work/blobA" "$work/blob$v$r"
    dd if=/dev/urandom of="$work/blob$v$r" bs=4096 count=1 conv=notrunc status=none
  done
done
# The fresh test blobs are still being written back: without a sync the first target's pushes
# compete with that writeback (it cost the first target up to half its push figure).
sync
# The disk's own durable write rate, the ceiling of a durable push: dd of the same blob into the
# same filesystem with conv=fsync, median of BENCH_REPEAT runs (issue 15: push >= 90% of this).
disk_speeds=()
for ((r = 1; r <= REPEAT; r++)); do
  t0=$(now)
  dd if="$work/blobA" of="$work/dd.out" bs=1M conv=fsync status=none
  t1=$(now)
  disk_speeds+=("$(calc "$BLOB_MB / ($t1 - $t0)")")
  rm -f "$work/dd.out"; sync
done
log "dd conv=fsync of the ${BLOB_MB} MiB blob (MiB/s): ${disk_speeds[*]}"
median "${disk_speeds[@]}" >"$work/disk_mibs"
DIGEST_A="sha256:$(sha256sum "$work/blobA" | cut -d' ' -f1)"
DIGEST_B="sha256:$(sha256sum "$work/blobB" | cut -d' ' -f1)"

abs_location() { if [[ "$1" == /* ]]; then echo "$REG_URL$1"; else echo "$1"; fi; }
header() { tr -d '\r' | awk -v h="$(echo "$1" | tr 'A-Z' 'a-z')" -F': ' 'tolower($1)==h {print $2}' | tail -1; }
qs() { if [[ "$1" == *\?* ]]; then echo "$1&$2"; else echo "$1?$2"; fi; }
start_upload() {
  local loc
  loc=$(reg_curl -fsS -X POST -D - -o /dev/null "$REG_URL/v2/$1/blobs/uploads/" | header location)
  [[ -n "$loc" ]] || { echo "no upload Location" >&2; return 1; }
  abs_location "$loc"
}


bench_pushes() { # IMPL: BENCH_REPEAT rounds of a monolithic and a chunked push of distinct blobs
  # Rounds alternate the two kinds, so both meet the machine in the same state: on this VM a large
  # write's speed drifts several-fold within minutes (guest memory the host backs lazily), and a
  # chunked push run only after all the monolithic ones measured that drift, not the registry.
  local loc t0 t1 code r file digest speeds=() dds=() ratios=() chunked=() cratios=() c
  for ((r = 1; r <= REPEAT; r++)); do
    file="$work/blobA" digest=$DIGEST_A
    ((r > 1)) && { file="$work/blobA$r"; digest="sha256:$(sha256sum "$file" | cut -d' ' -f1)"; }
    loc=$(start_upload "bench/big$((r > 1 ? r : 0))") || return 1
    # The same bytes through dd conv=fsync right before the push, for the same reason: push / dd
    # is only meaningful for a pair taken back to back.
    t0=$(now)
    dd if="$file" of="$work/dd.out" bs=1M conv=fsync status=none
    t1=$(now)
    rm -f "$work/dd.out"; sync
    dds+=("$(calc "$BLOB_MB / ($t1 - $t0)")")
    t0=$(now)
    code=$(reg_curl -sS -o /dev/null -w '%{http_code}' -T "$file" -H 'Content-Type: application/octet-stream' \
      "$(qs "$loc" "digest=$digest")")
    t1=$(now)
    [[ "$code" == 201 ]] || { log "monolithic PUT -> $code"; record "$1" push_mono_mibs FAIL; return; }
    speeds+=("$(calc "$BLOB_MB / ($t1 - $t0)")")
    ratios+=("$(calc "${speeds[-1]} / ${dds[-1]}" 2)")
    # The chunked push: one upload of CHUNK_MB PATCHes from driver.py (one keep-alive connection).
    file="$work/blobB" digest=$DIGEST_B
    ((r > 1)) && { file="$work/blobB$r"; digest="sha256:$(sha256sum "$file" | cut -d' ' -f1)"; }
    c=$("${DRIVER[@]}" chunked "$REG_URL" bench/big "$file" "$CHUNK_MB" "$digest") ||
      { record "$1" push_chunked_mibs FAIL; return; }
    chunked+=("$(jq -r '.mib_per_s | . * 10 | round / 10' <<<"$c")")
    cratios+=("$(calc "${chunked[-1]} / ${speeds[-1]}" 2)")
  done
  log "  monolithic pushes (MiB/s): ${speeds[*]}; dd just before each: ${dds[*]}; chunked after each: ${chunked[*]}"
  record "$1" push_mono_mibs "$(median "${speeds[@]}")"
  record "$1" push_dd_ratio "$(median "${ratios[@]}")"
  record "$1" push_chunked_mibs "$(median "${chunked[@]}")"
  record "$1" push_chunked_ratio "$(median "${cratios[@]}")"
}

bench_pull() { # IMPL: one GET warms caches, then the median of BENCH_REPEAT warm GETs
  local speed i speeds=()
  for ((i = 0; i <= REPEAT; i++)); do
    speed=$(reg_curl -fsS -o /dev/null -w '%{speed_download}' "$REG_URL/v2/bench/big0/blobs/$DIGEST_A") ||
      { record "$1" pull_warm_mibs FAIL; return; }
    ((i > 0)) && speeds+=("$(calc "$speed / 1048576")")
  done
  record "$1" pull_warm_mibs "$(median "${speeds[@]}")"
}

bench_small() { # IMPL
  local r
  r=$("${DRIVER[@]}" small-blobs "$REG_URL" bench/small "$SMALL_COUNT" $((SMALL_KB * 1024)) "$SMALL_CONC" "$REPOS") || return 1
  if [[ $(jq -r .errors <<<"$r") != 0 ]]; then log "small blobs: $r"; fi
  record "$1" small_push_per_s "$(jq -r '.per_sec | . * 10 | round / 10' <<<"$r")"
  record "$1" small_push_errors "$(jq -r .errors <<<"$r")"
}

# wrk_to_ms "1.23ms" -> 1.23
wrk_to_ms() {
  python3 -c "
import re,sys; m=re.match(r'([0-9.]+)(us|ms|s|m)$', sys.argv[1]); v=float(m.group(1))
print(f'{v*{\"us\":0.001,\"ms\":1,\"s\":1000,\"m\":60000}[m.group(2)]:.3f}')" "$1"
}

bench_manifest_get() { # IMPL
  local c out rps p99 non2xx threads manifest auth=()
  [[ -n "$REG_AUTH" ]] && auth=(-H "Authorization: $REG_AUTH")
  manifest=$("${DRIVER[@]}" push-image "$REG_URL" bench/img latest) || return 1
  rm -f "$manifest"
  for c in $WRK_CONNS; do
    threads=$((c < 2 ? 1 : 2))
    out=$(wrk -t"$threads" -c"$c" -d"${WRK_SECS}s" --latency "${auth[@]}" \
      -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$REG_URL/v2/bench/img/manifests/latest")
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
    if [[ -n "$non2xx" ]]; then log "manifest GET c=$c: $non2xx non-2xx responses"; rps="FAIL"; fi
    record "$1" "manifest_get_c${c}_rps" "${rps:-FAIL}"
    record "$1" "manifest_get_c${c}_p99_ms" "$( [[ -n "$p99" ]] && wrk_to_ms "$p99" || echo FAIL)"
  done
}

bench_tags() { # IMPL
  local r manifest
  # an untagged image in the repo itself (Distribution only links blobs pushed to that repo)
  manifest=$("${DRIVER[@]}" push-image "$REG_URL" bench/tags @digest) || return 1
  r=$("${DRIVER[@]}" tags "$REG_URL" bench/tags "$manifest" "$TAGS" 16 "$REPOS") || return 1
  rm -f "$manifest"
  record "$1" tag_put_per_s "$(jq -r '.per_sec | . * 10 | round / 10' <<<"$r")"
  [[ $(jq -r .errors <<<"$r") == 0 ]] || log "tag PUT errors: $r"
  r=$("${DRIVER[@]}" taglist "$REG_URL" bench/tags "$TAGLIST_REPEAT") || r='{"error":"driver failed"}'
  local expect=$(((TAGS + REPOS - 1) / REPOS))
  if [[ $(jq -c .tags <<<"$r") != "[$expect]" ]]; then
    log "tag list returned $(jq -c '.tags // .error' <<<"$r") tags, expected $expect"
    record "$1" taglist_ms FAIL
  else
    record "$1" taglist_ms "$(jq -r '.median_ms | . * 10 | round / 10' <<<"$r")"
  fi
}

for impl in $TARGETS; do
  log "=== $impl"
  : >"$work/results-$impl"
  target_env "$impl" # E2E_REGISTRY, read by registry_start (lib.sh), and the store settings
  sync # no target starts while the previous one's writes are still being written back
  registry_start "$work/data-$impl"
  if [[ "$E2E_REGISTRY" == wharf-cluster ]]; then
    # cluster-serve.sh writes the node pids just after nginx starts answering.
    for ((i = 0; i < 50; i++)); do [[ -s "$REG_DATA/cluster.env" ]] && break; sleep 0.1; done
    log "wharf-cluster: $(tr '\n' ' ' <"$REG_DATA/cluster.env"), database and prefix $(cat "$REG_DATA/cluster-database")"
  fi
  step bench_pushes "$impl"
  step bench_pull "$impl"
  step bench_small "$impl"
  step bench_manifest_get "$impl"
  step bench_tags "$impl"
  record "$impl" peak_rss_mib "$(peak_rss)"
  log "$impl: stopping server, removing its data"
  registry_stop
  cp "$REG_LOG" "$OUT_DIR/server-$impl.log" 2>/dev/null || true
  if [[ "$E2E_REGISTRY" == wharf-cluster ]]; then
    cp "$REG_DATA.node1.log" "$OUT_DIR/server-$impl.node1.log" 2>/dev/null || true
    cp "$REG_DATA.node2.log" "$OUT_DIR/server-$impl.node2.log" 2>/dev/null || true
    db=$(cat "$REG_DATA/cluster-database")
    psql "$WHARF_E2E_PG_URL" -X -q -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || log "could not drop database $db"
    log "wharf-cluster: blobs stay in the bucket under prefix $db"
  fi
  rm -rf "$work/data-$impl" "$work/data-$impl".*
  log "$impl: done"
done

# ---- report --------------------------------------------------------------------------------
python3 - "$work" "$OUT_DIR/results.md" "$BLOB_MB" "$CHUNK_MB" "$SMALL_COUNT" "$SMALL_KB" "$SMALL_CONC" \
  "$TAGS" "$WRK_SECS" "$WRK_CONNS" "$REPOS" $TARGETS <<'PY'
import os, sys, datetime, platform
work, out, blob_mb, chunk_mb, n_small, small_kb, conc, tags, wrk_secs, conns, repos = sys.argv[1:12]
targets = sys.argv[12:]
over = f" over {repos} repositories" if int(repos) > 1 else ""
res = {}
for t in targets:
    res[t] = dict(l.split(None, 1) for l in open(os.path.join(work, "results-" + t)).read().split("\n") if l.strip())
    res[t] = {k: v.strip() for k, v in res[t].items()}
rows = [
    ("push_mono_mibs", f"blob push, monolithic PUT, {blob_mb} MiB (MiB/s, higher better)"),
    ("push_chunked_mibs", f"blob push, {chunk_mb} MiB PATCH chunks, {blob_mb} MiB (MiB/s, higher better)"),
    ("pull_warm_mibs", f"blob pull, warm, {blob_mb} MiB (MiB/s, higher better)"),
    ("small_push_per_s", f"{n_small} x {small_kb} KiB blob pushes{over}, {conc} clients (pushes/s, higher better)"),
]
for c in conns.split():
    rows.append((f"manifest_get_c{c}_rps", f"manifest GET by tag, {c} conn (req/s, higher better)"))
    rows.append((f"manifest_get_c{c}_p99_ms", f"manifest GET by tag, {c} conn (p99 ms, lower better)"))
rows += [
    ("tag_put_per_s", f"tag PUTs, {tags} tags{over}, 16 clients (tags/s, higher better)"),
    ("taglist_ms", f"tag list of {-(-int(tags) // int(repos))}-tag repo (median ms, lower better)"),
    ("peak_rss_mib", "server peak RSS, VmHWM (MiB, lower better)"),
]
head = ["Benchmark"] + [t.capitalize() for t in targets]
# Ratio columns: each of the first target of a pair over the second, when both ran.
pairs = [(a, b) for a, b in [("wharf", "distribution"), ("wharf", "wharf-plaintext"),
                             ("wharf-cluster", "wharf"), ("wharf-s3", "wharf")]
         if a in targets and b in targets]
head += [f"{a.capitalize()}/{b.capitalize()}" for a, b in pairs]
lines = ["# Wharf vs CNCF Distribution", "",
         f"{datetime.datetime.now().isoformat(timespec='seconds')} on {platform.node()}, "
         f"{os.cpu_count()} CPUs, wrk {wrk_secs}s per point", "",
         "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
for key, label in rows:
    vals = [res[t].get(key, "-") for t in targets]
    row = [label] + vals
    for a, b in pairs:
        try:
            row.append(f"{float(res[a][key]) / float(res[b][key]):.2f}")
        except (KeyError, ValueError, ZeroDivisionError):
            row.append("n/a")
    lines.append("| " + " | ".join(row) + " |")
notes = {
    "wharf": "wharf: one node, filesystem blobs + SQLite.",
    "wharf-s3": "wharf-s3: one node, SQLite metadata, blobs in S3.",
    "wharf-plaintext": "wharf-plaintext: wharf with encrypt_blobs = false (no encryption at rest); "
                       "Wharf/Wharf-plaintext is what sealing costs.",
    "wharf-cluster": "wharf-cluster: two nodes behind nginx round robin, PostgreSQL metadata, blobs in S3; "
                     "peak RSS is the sum of the nodes' VmHWM"
                     + (f" ({' + '.join(res['wharf-cluster']['peak_rss_nodes'].split())} MiB)"
                        if "peak_rss_nodes" in res.get("wharf-cluster", {}) else "")
                     + ", nginx, PostgreSQL and the S3 server not counted.",
}
try:
    disk = float(open(os.path.join(work, "disk_mibs")).read())
    share = ", ".join(f"{t} {float(res[t]['push_mono_mibs']) / disk:.2f}" for t in targets
                      if res[t].get("push_mono_mibs", "FAIL") != "FAIL")
    paired = ", ".join(f"{t} {float(res[t]['push_dd_ratio']):.2f}" for t in targets
                       if res[t].get("push_dd_ratio", "FAIL") != "FAIL")
    lines += ["", f"Disk: `dd conv=fsync` of the same blob on the same filesystem {disk:.1f} MiB/s "
                  f"(median); monolithic push / dd: {share}. Each push / a dd of its blob run just "
                  f"before it (median of the pairs): {paired}."]
except (OSError, ValueError, ZeroDivisionError):
    pass
chunked = ", ".join(f"{t} {float(res[t]['push_chunked_ratio']):.2f}" for t in targets
                    if res[t].get("push_chunked_ratio", "FAIL") != "FAIL")
if chunked:
    lines += ["", f"Chunked push / the monolithic push right before it (median of the pairs): {chunked}."]
if any(t in ("wharf-s3", "wharf-cluster", "wharf-plaintext") for t in targets):
    lines += [""] + [f"- {notes[t]}" for t in targets if t in notes]
text = "\n".join(lines) + "\n"
open(out, "w").write(text)
print(text)
PY
log "results written to $OUT_DIR/results.md"
