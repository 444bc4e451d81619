#!/usr/bin/env bash
# tests/e2e/cluster.sh — what only a cluster can get wrong, against two Wharf nodes sharing one
# PostgreSQL database and one S3 bucket (lib.sh's E2E_REGISTRY=wharf-cluster; needs
# WHARF_E2E_PG_URL and WHARF_BLOB_STORE_* for S3, as scripts/test.sh passes them).
#
#  both nodes answer /readyz (PostgreSQL and the bucket reachable);
#  (a) a push through node 1 is pullable, listed and in the catalog through node 2 at once;
#  (b) a tag moved through node 2 reads moved through node 1 at once; a manifest deleted through
#      node 1 is gone through node 2 at once (no node serves from a stale cache);
#  (c) a chunked upload begins on node 1, continues and completes on node 2, and node 1 serves it;
#  (d) skopeo copies a multi-layer image and a two-platform index through the load balancer (every
#      request round robin) and back, byte-identical;
#  (e) background jobs run once per interval across the cluster, not once per node;
#  (f) node 1 is killed (SIGKILL) in the middle of a blob upload: node 2 and the load balancer keep
#      serving, the blob is not visible anywhere, the upload resumes on node 2 from the offset node 2
#      reports, and completes with the right digest;
#  (g) a node given the cluster's bucket but no metadata URL (an empty embedded database) refuses
#      to start instead of treating every blob as garbage;
#  (h) behind the balancer, policies see the scheme nginx sets (X-Forwarded-Proto, from a trusted
#      proxy), not one a client claims.
# Prints "N passed, N failed"; exits non-zero on any failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need curl jq python3 sha256sum cmp skopeo

E2E_REGISTRY=wharf-cluster
# Short job intervals so (e) sees several ticks of both nodes.
export WHARF_GC_INTERVAL_SECS=2 WHARF_UPLOAD_PURGE_INTERVAL_SECS=2
work=$(mktemp_e2e)
registry_start
# The balancer can answer a moment before cluster-serve.sh has written the nodes' file.
for _ in $(seq 100); do [[ -s "$REG_DATA/cluster.env" ]] && break; sleep 0.1; done
# shellcheck disable=SC1091
source "$REG_DATA/cluster.env"
log "node 1 $NODE1_URL (pid $NODE1_PID), node 2 $NODE2_URL (pid $NODE2_PID), balancer $REG_URL"

# location_path: the path (with its query) of the Location header among the response headers on
# stdin, whether the server sent it absolute or relative; empty when there is none.
location_path() {
  tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}' | sed -E 's|^https?://[^/]*||; s|^/*|/|'
}

# with_digest PATH DIGEST: PATH with the digest query parameter added.
with_digest() { if [[ "$1" == *\?* ]]; then echo "$1&digest=$2"; else echo "$1?digest=$2"; fi; }

# start_upload BASE REPO: POST a new upload; prints its path.
start_upload() { reg_curl -sS -o /dev/null -D - -X POST "$1/v2/$2/blobs/uploads/" | location_path; }

# upload_blob BASE REPO FILE: monolithic upload (POST, then PUT with the bytes); prints the digest.
upload_blob() {
  local base=$1 repo=$2 file=$3 digest
  digest="sha256:$(sha256_of "$file")"
  reg_curl -sSf -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' \
    --data-binary "@$file" "$base$(with_digest "$(start_upload "$base" "$repo")" "$digest")"
  echo "$digest"
}

# put_manifest BASE REPO REF CONFIG_DIGEST CONFIG_SIZE LAYER_DIGEST LAYER_SIZE: prints the digest.
put_manifest() {
  local body="$work/manifest-$RANDOM.json"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}]}' \
    "$4" "$5" "$6" "$7" >"$body"
  reg_curl -sSf -o /dev/null -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
    --data-binary "@$body" "$1/v2/$2/manifests/$3"
  echo "sha256:$(sha256_of "$body")"
}

# manifest_digest BASE REPO REF: the Docker-Content-Digest of a GET (empty when not found).
manifest_digest() {
  reg_curl -sS -o /dev/null -D - -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "$1/v2/$2/manifests/$3" | tr -d '\r' |
    awk -F': ' 'NR==1 && $0 !~ / 200/ {exit} tolower($1)=="docker-content-digest"{print $2}'
}

# Both nodes report ready: each reaches PostgreSQL and the bucket (no credentials needed).
for n in 1 2; do
  url_var="NODE${n}_URL"
  check "node $n /readyz: 200 ready" bash -c \
    "curl -sSf '${!url_var}/readyz' | jq -e '.status == \"ready\"' >/dev/null"
done

# ------------------------------------------------------------------------------------------------
# (a) push through node 1, read through node 2
head -c 1234567 /dev/urandom >"$work/layer1"
echo '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$work/config1"
L1=$(upload_blob "$NODE1_URL" cluster/app "$work/layer1")
C1=$(upload_blob "$NODE1_URL" cluster/app "$work/config1")
M1=$(put_manifest "$NODE1_URL" cluster/app v1 "$C1" "$(stat -c %s "$work/config1")" "$L1" 1234567)
check "(a) manifest pushed through node 1 reads by tag through node 2" \
  test "$(manifest_digest "$NODE2_URL" cluster/app v1)" = "$M1"
check "(a) layer pushed through node 1 downloads byte-identical from node 2" bash -c \
  "reg_curl -sSf -o '$work/layer1.back' '$NODE2_URL/v2/cluster/app/blobs/$L1' && cmp '$work/layer1' '$work/layer1.back'"
check "(a) node 2 lists the tag" bash -c \
  "reg_curl -sSf '$NODE2_URL/v2/cluster/app/tags/list' | jq -e '.tags == [\"v1\"]'"
check "(a) node 2's catalog has the repository" bash -c \
  "reg_curl -sSf '$NODE2_URL/v2/_catalog' | jq -e '.repositories | index(\"cluster/app\")'"

# ------------------------------------------------------------------------------------------------
# (b) no stale caches: move a tag on node 2 after node 1 served it; delete on node 1 after node 2
# served it
for _ in 1 2 3; do manifest_digest "$NODE1_URL" cluster/app v1 >/dev/null; done
echo '{"architecture":"arm64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$work/config2"
C2=$(upload_blob "$NODE2_URL" cluster/app "$work/config2")
M2=$(put_manifest "$NODE2_URL" cluster/app v1 "$C2" "$(stat -c %s "$work/config2")" "$L1" 1234567)
check "(b) tag moved through node 2 reads moved through node 1 at once" \
  test "$(manifest_digest "$NODE1_URL" cluster/app v1)" = "$M2"
for _ in 1 2 3; do manifest_digest "$NODE2_URL" cluster/app "$M2" >/dev/null; done
check "(b) delete through node 1" reg_curl -sSf -o /dev/null -X DELETE "$NODE1_URL/v2/cluster/app/manifests/$M2"
check "(b) deleted manifest is gone from node 2 at once (by digest)" \
  test -z "$(manifest_digest "$NODE2_URL" cluster/app "$M2")"
check "(b) deleted manifest is gone from node 2 at once (by tag)" \
  test -z "$(manifest_digest "$NODE2_URL" cluster/app v1)"

# ------------------------------------------------------------------------------------------------
# (c) chunked upload across nodes
head -c $((3 * 1024 * 1024 + 17)) /dev/urandom >"$work/big"
split -b $((1024 * 1024 + 5)) -d -a 1 "$work/big" "$work/part."
BIG="sha256:$(sha256_of "$work/big")"
path=$(start_upload "$NODE1_URL" cluster/chunked)
offset=0
n=0
for part in "$work"/part.*; do
  size=$(stat -c %s "$part")
  node=$([[ $((n % 2)) == 0 ]] && echo "$NODE1_URL" || echo "$NODE2_URL")
  out=$(reg_curl -sS -o /dev/null -D - -X PATCH -H 'Content-Type: application/octet-stream' \
    -H "Content-Range: $offset-$((offset + size - 1))" --data-binary "@$part" "$node$path" | tr -d '\r')
  if ! grep -q "^HTTP/1.1 202" <<<"$out"; then
    fail "(c) chunk $n through $node" "$(head -n 1 <<<"$out")"
  fi
  path=$(location_path <<<"$out")
  offset=$((offset + size))
  n=$((n + 1))
done
check "(c) the upload's status on node 1 counts the chunks node 2 took" bash -c \
  "reg_curl -sS -D - -o /dev/null '$NODE1_URL$path' | tr -d '\r' | grep -qi '^range: 0-$((offset - 1))$'"
check "(c) upload completes on node 2" reg_curl -sSf -o /dev/null -X PUT "$NODE2_URL$(with_digest "$path" "$BIG")"
check "(c) node 1 serves the blob byte-identical" bash -c \
  "reg_curl -sSf -o '$work/big.back' '$NODE1_URL/v2/cluster/chunked/blobs/$BIG' && cmp '$work/big' '$work/big.back'"

# ------------------------------------------------------------------------------------------------
# (d) real clients through the balancer: every request goes to the next node
cat >"$work/policy.json" <<'JSON'
{"default":[{"type":"insecureAcceptAnything"}]}
JSON
export REGISTRY_AUTH_FILE="$work/skopeo-auth.json"
sk() { skopeo --policy "$work/policy.json" "$@"; }
python3 "$E2E_LIB_DIR/mkimage.py" --out "$work/src" --layers 3 --layer-size $((256 * 1024)) >"$work/src.json"
IDX=$(jq -r .index "$work/src.json")
check "(d) skopeo login through the balancer" sk login --tls-verify=false -u "$REG_USER" -p "$REG_PASS" "$REG_HOST"
check "(d) skopeo copies a two-platform index to the cluster" \
  sk copy --all --dest-tls-verify=false "oci:$work/src:index" "docker://$REG_HOST/cluster/multi:v1"
check "(d) skopeo copies it back" \
  sk copy --all --src-tls-verify=false "docker://$REG_HOST/cluster/multi:v1" "oci:$work/back:v1"
check "(d) the index digest survived the round trip" bash -c \
  "jq -e --arg d '$IDX' '.manifests[0].digest == \$d' '$work/back/index.json'"
check "(d) every blob came back byte-identical" bash -c \
  "for f in '$work'/src/blobs/sha256/*; do cmp -s \"\$f\" '$work/back/blobs/sha256/'\$(basename \"\$f\") || exit 1; done"

# ------------------------------------------------------------------------------------------------
# (e) jobs once per interval: both nodes tick every 2 s; each pass runs on one node only
sleep 9
passes=$(cat "$REG_DATA.node1.log" "$REG_DATA.node2.log" | grep -c 'garbage collection pass finished' || true)
# Both nodes ran for about (time since start) / 2 ticks each; claimed, the passes are about half.
elapsed=$(( $(date +%s) - $(stat -c %Y "$REG_DATA/cluster.env") ))
check "(e) $passes GC passes over ${elapsed}s of two nodes ticking every 2 s (at most one per interval)" \
  test "$passes" -ge 2 -a "$passes" -le $((elapsed / 2 + 2))

# ------------------------------------------------------------------------------------------------
# (f) kill node 1 in the middle of an upload
head -c $((48 * 1024 * 1024)) /dev/urandom >"$work/huge"
HUGE="sha256:$(sha256_of "$work/huge")"
upath=$(start_upload "$NODE1_URL" cluster/killed)
# 8 MiB/s: the 48 MiB body takes about 6 s; node 1 dies after 2.
reg_curl -sS -o /dev/null --limit-rate 8M -X PATCH -H 'Content-Type: application/octet-stream' \
  --data-binary "@$work/huge" "$NODE1_URL$upath" 2>/dev/null &
curl_pid=$!
sleep 2
kill -KILL "$NODE1_PID"
wait "$curl_pid" 2>/dev/null || true
check "(f) node 1 is dead" bash -c "! kill -0 $NODE1_PID 2>/dev/null"
check "(f) node 2 still serves pulls" test "$(manifest_digest "$NODE2_URL" cluster/multi v1 >/dev/null; echo ok)" = ok
check "(f) the balancer still serves (GET /v2/ x4)" bash -c \
  "for i in 1 2 3 4; do [[ \$(reg_curl -s -o /dev/null -w '%{http_code}' '$REG_URL/v2/') == 200 ]] || exit 1; done"
check "(f) the half-sent blob is not visible on node 2" bash -c \
  "[[ \$(reg_curl -s -o /dev/null -w '%{http_code}' -I '$NODE2_URL/v2/cluster/killed/blobs/$HUGE') == 404 ]]"
status=$(reg_curl -sS -D - -o /dev/null "$NODE2_URL$upath" | tr -d '\r')
if grep -q '^HTTP/1.1 204' <<<"$status"; then
  pass "(f) node 2 reports the interrupted upload's progress"
  range=$(awk -F': ' 'tolower($1)=="range"{print $2}' <<<"$status")
  done_bytes=0
  # "0-0" is an empty upload (as Distribution answers); "0-N" holds N+1 bytes.
  [[ -n "$range" && "$range" != 0-0 ]] && done_bytes=$(( ${range#0-} + 1 ))
  log "node 2 says $done_bytes of $(stat -c %s "$work/huge") bytes arrived before the kill"
  tail -c +$((done_bytes + 1)) "$work/huge" >"$work/huge.rest"
  npath=$(location_path <<<"$status")
  [[ -n "$npath" ]] || npath=$upath
  out=$(reg_curl -sS -o /dev/null -D - -X PATCH -H 'Content-Type: application/octet-stream' \
    -H "Content-Range: $done_bytes-$(( $(stat -c %s "$work/huge") - 1 ))" \
    --data-binary "@$work/huge.rest" "$NODE2_URL$npath" | tr -d '\r')
  grep -q '^HTTP/1.1 202' <<<"$out" && pass "(f) the rest goes to node 2" || fail "(f) the rest goes to node 2" "$(head -n 1 <<<"$out")"
  fpath=$(location_path <<<"$out")
  check "(f) the upload completes on node 2 with the whole blob's digest" \
    reg_curl -sSf -o /dev/null -X PUT "$NODE2_URL$(with_digest "$fpath" "$HUGE")"
  check "(f) the blob reads back whole" bash -c \
    "reg_curl -sSf '$NODE2_URL/v2/cluster/killed/blobs/$HUGE' | cmp - '$work/huge'"
else
  fail "(f) node 2 reports the interrupted upload's progress" "$(head -n 1 <<<"$status")"
fi

# ------------------------------------------------------------------------------------------------
# (g) the bucket belongs to the cluster's database
stray="$(mktemp_e2e)/stray"
out=$(env -u WHARF_METADATA_URL timeout 20 "$WHARF_BIN" serve --data-dir "$stray" --listen "127.0.0.1:$(free_port)" 2>&1) && rc=0 || rc=$?
if ((rc != 0)) && grep -q "belongs to another metadata database" <<<"$out"; then
  pass "(g) a node on the cluster's bucket with an empty embedded database refuses to start"
else
  fail "(g) a node on the cluster's bucket with an empty embedded database refuses to start" "exit $rc: $(tail -n 2 <<<"$out")"
fi
check "(g) the cluster still serves its blobs" bash -c \
  "reg_curl -sSf '$REG_URL/v2/cluster/chunked/blobs/$BIG' | cmp - '$work/big'"

# ------------------------------------------------------------------------------------------------
# (h) a user who may pull only over TLS (aws:SecureTransport). nginx here listens on plain HTTP
# and sets X-Forwarded-Proto: http over whatever the client sent; a trusted peer that says https
# (the nodes trust 127.0.0.1, as they would a TLS-terminating balancer) is believed.
admin() { "$WHARF_BIN" admin --data-dir "$REG_DATA" "$@"; }
echo '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}' >"$work/tls-only.json"
if admin create-user tls-only >/dev/null && admin create-access-key tls-only >/dev/null &&
  admin attach-policy --name tls --file "$work/tls-only.json" tls-only >/dev/null &&
  tls_pass=$(admin login-password tls-only); then
  tls_get() { # URL [HEADER]: the status of a GET of (a)'s manifest as user tls-only
    curl -s -o /dev/null -w '%{http_code}' -u "AWS:$tls_pass" ${2:+-H "$2"} \
      -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$1/v2/cluster/app/manifests/$M1"
  }
  check "(h) through the balancer, a client's own X-Forwarded-Proto: https is not believed (403)" \
    test "$(tls_get "$REG_URL" 'X-Forwarded-Proto: https')" = 403
  check "(h) a trusted proxy's X-Forwarded-Proto: https satisfies aws:SecureTransport (200)" \
    test "$(tls_get "$NODE2_URL" 'X-Forwarded-Proto: https')" = 200
  check "(h) without it the same user is refused (403)" test "$(tls_get "$NODE2_URL")" = 403
else
  fail "(h) create a user limited to TLS" "wharf admin failed"
fi

summary
