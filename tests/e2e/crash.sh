#!/usr/bin/env bash
# tests/e2e/crash.sh — crash consistency: kill -9 the registry during concurrent pushes.
#
# For each of CRASH_ROUNDS (default 3) rounds, on ONE data dir kept across rounds:
#   1. start the registry (wharf, or E2E_REGISTRY=distribution);
#   2. CRASH_WORKERS (16) curl-based pushers each push up to CRASH_PUSHES (12) images to repo
#      crash/w<N>: a small blob (monolithic POST+PUT), a larger blob (POST, PATCH chunks, PUT), a
#      config blob, then PUT the manifest by tag. A push is logged in attempts.log before it starts
#      and in acks.log ("repo tag digest") only after the manifest PUT returned 201;
#   3. once a random share (30–70 %) of the planned pushes is acknowledged, kill -9 the server;
#   4. restart on the same data dir and run crash_verify.py over ALL rounds so far: every acked
#      push is pullable with exact bytes, every listed tag is fully pushed, and every attempted
#      blob is either 404 or exact bytes (never wrong bytes).
# Every request carries `Authorization: $REG_AUTH` when the registry needs one (wharf: Basic AWS +
# `wharf admin login-password`, fetched again after each start by lib.sh; tokens survive restarts).
# Prints "N passed, N failed"; non-zero exit on any failure. Logs go to $RESULTS_DIR/crash.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need curl python3 sha256sum

ROUNDS=${CRASH_ROUNDS:-3}
WORKERS=${CRASH_WORKERS:-16}
PUSHES=${CRASH_PUSHES:-12}
MAX_WAIT=${CRASH_MAX_WAIT:-45}   # seconds to wait for the kill threshold before killing anyway
out="$RESULTS_DIR/crash"
rm -rf "$out"
mkdir -p "$out"
work=$(mktemp_e2e)
data="$work/data"
ACKS="$out/acks.log"
ATTEMPTS="$out/attempts.log"
: >"$ACKS"
: >"$ATTEMPTS"

# reg_curl (lib.sh) adds the Authorization header, read from REG_AUTH at call time.
CURL=(reg_curl -sS --connect-timeout 5 --max-time 60)

# abs_location URL-or-path: make a Location header absolute.
abs_location() { if [[ "$1" == /* ]]; then echo "$REG_URL$1"; else echo "$1"; fi; }
# header NAME < headers
header() { tr -d '\r' | awk -v h="$(echo "$1" | tr 'A-Z' 'a-z')" -F': ' 'tolower($1)==h {print $2}' | tail -1; }

# start_upload REPO -> absolute upload Location
start_upload() {
  local loc
  loc=$("${CURL[@]}" -f -X POST -D - -o /dev/null "$REG_URL/v2/$1/blobs/uploads/" | header location)
  [[ -n "$loc" ]] || return 1
  abs_location "$loc"
}
qs() { if [[ "$1" == *\?* ]]; then echo "$1&$2"; else echo "$1?$2"; fi; }

# put_monolithic REPO FILE DIGEST
put_monolithic() {
  local loc code
  loc=$(start_upload "$1") || return 1
  code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' \
    --data-binary @"$2" "$(qs "$loc" "digest=$3")") || return 1
  [[ "$code" == 201 ]]
}

# put_chunked REPO FILE DIGEST CHUNK_BYTES
put_chunked() {
  local loc size off=0 end code chunkf
  loc=$(start_upload "$1") || return 1
  size=$(stat -c %s "$2")
  chunkf="$2.chunk"
  while ((off < size)); do
    end=$((off + $4)); ((end > size)) && end=$size
    tail -c +$((off + 1)) "$2" | head -c $((end - off)) >"$chunkf"
    loc=$("${CURL[@]}" -f -X PATCH -H 'Content-Type: application/octet-stream' \
      -H "Content-Range: $off-$((end - 1))" --data-binary @"$chunkf" -D - -o /dev/null "$loc" | header location) || return 1
    [[ -n "$loc" ]] || return 1
    loc=$(abs_location "$loc")
    off=$end
  done
  rm -f "$chunkf"
  code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Length: 0' "$(qs "$loc" "digest=$3")") || return 1
  [[ "$code" == 201 ]]
}

# pusher ROUND WORKER: push up to $PUSHES images; stop at the first failure (the server died).
pusher() {
  local round=$1 w=$2 i repo="crash/w$2" dir="$work/push-$1-$2" small big cfg m sd bd cd md tag code
  mkdir -p "$dir"
  for ((i = 0; i < PUSHES; i++)); do
    tag="r$round-w$w-$i"
    small="$dir/small"; big="$dir/big"; cfg="$dir/cfg"; m="$dir/manifest"
    head -c $((1024 + RANDOM % 8192)) /dev/urandom >"$small"
    head -c $((128 * 1024 + RANDOM * 12)) /dev/urandom >"$big"
    sd="sha256:$(sha256sum <"$small" | cut -d' ' -f1)"
    bd="sha256:$(sha256sum <"$big" | cut -d' ' -f1)"
    printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["%s","%s"]},"wharf_crash":"%s"}' \
      "$sd" "$bd" "$tag" >"$cfg"
    cd="sha256:$(sha256sum <"$cfg" | cut -d' ' -f1)"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d},{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]}' \
      "$cd" "$(stat -c %s "$cfg")" "$sd" "$(stat -c %s "$small")" "$bd" "$(stat -c %s "$big")" >"$m"
    md="sha256:$(sha256sum <"$m" | cut -d' ' -f1)"
    echo "$repo $tag $md $sd $bd $cd" >>"$ATTEMPTS"
    put_monolithic "$repo" "$small" "$sd" || return 0
    put_chunked "$repo" "$big" "$bd" $((192 * 1024)) || return 0
    put_monolithic "$repo" "$cfg" "$cd" || return 0
    code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -X PUT \
      -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @"$m" \
      "$REG_URL/v2/$repo/manifests/$tag") || return 0
    [[ "$code" == 201 ]] || { echo "worker $w: manifest PUT $tag -> $code" >>"$out/pusher-errors.log"; return 0; }
    echo "$repo $tag $md" >>"$ACKS"
  done
}

for ((round = 1; round <= ROUNDS; round++)); do
  log "=== round $round/$ROUNDS"
  registry_start "$data"
  acks_before=$(wc -l <"$ACKS")
  planned=$((WORKERS * PUSHES))
  target=$((acks_before + planned * (30 + RANDOM % 41) / 100))
  pids=()
  for ((w = 0; w < WORKERS; w++)); do
    pusher "$round" "$w" 2>>"$out/pusher-stderr.log" &
    pids+=($!)
  done
  deadline=$((SECONDS + MAX_WAIT))
  while (($(wc -l <"$ACKS") < target && SECONDS < deadline)); do sleep 0.05; done
  sleep "0.$((RANDOM % 5))"
  acked_at_kill=$(($(wc -l <"$ACKS") - acks_before))
  log "kill -9 registry pid $REG_PID after $acked_at_kill acknowledged pushes this round (target $((target - acks_before)) of $planned)"
  registry_kill9
  # Pushers stop at their first failed request; bound the wait, then stop our own stragglers.
  deadline=$((SECONDS + 90))
  for p in "${pids[@]}"; do
    while kill -0 "$p" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$work"/push-*
  if ((acked_at_kill > 0)); then pass "round $round: pushes acknowledged before crash ($acked_at_kill)"; else fail "round $round: no push acknowledged before crash"; fi
  if ((acked_at_kill < planned)); then pass "round $round: crash happened mid-way"; else fail "round $round: all pushes finished before the kill"; fi

  if registry_start "$data"; then
    pass "round $round: restart on the same data dir"
    # crash_verify.py sends the exported REG_AUTH as the Authorization header.
    vout=$(python3 "$E2E_LIB_DIR/crash_verify.py" "$REG_URL" "$ACKS" "$ATTEMPTS" 2>&1) || true
    printf '%s\n' "$vout" | tee -a "$out/verify.log"
    E2E_PASSED=$((E2E_PASSED + $(grep -c '^PASS:' <<<"$vout" || true)))
    E2E_FAILED=$((E2E_FAILED + $(grep -c '^FAIL:' <<<"$vout" || true)))
    grep -qE '^(PASS|FAIL):' <<<"$vout" || fail "round $round: verifier produced no result"
    registry_stop
  else
    fail "round $round: restart on the same data dir" "$(tail -n 20 "$REG_LOG")"
  fi
  cp "$REG_LOG" "$out/server.log" 2>/dev/null || true
done

summary
