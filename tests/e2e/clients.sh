#!/usr/bin/env bash
# tests/e2e/clients.sh — push/pull through real third-party clients against a fresh registry.
#
# Starts `wharf serve` (or E2E_REGISTRY=distribution) on a free 127.0.0.1 port, then:
#  (a) mkimage.py builds a random multi-layer OCI layout: one image + a linux/amd64,linux/arm64 index;
#  (b) skopeo copies the image and the index (--all) to the registry and back into a new layout;
#      manifest digests (inspect --raw | sha256sum, index.json) and every blob's bytes must match;
#  (c) crane: push a docker tarball, digest, manifest bytes, pull (OCI layout), copy to another repo
#      (image and multi-arch index), tag, ls, catalog;
#  (d) oras: push a file artifact with an artifactType, pull it back byte-identical, attach a
#      signature-like artifact to the image, discover it (--format json) and via GET /v2/.../referrers,
#      repo tags.
#  (e) wharf (any registry with credentials): anonymous GET /v2/ and manifest GET, and a garbage
#      password, are 401 with `WWW-Authenticate: Basic`.
# Credentials (lib.sh: REG_USER=AWS, REG_PASS from `wharf admin login-password`) go through each
# client's own login (skopeo login, crane auth login, oras login --plain-http) into per-client auth
# files in the temp dir (REGISTRY_AUTH_FILE, DOCKER_CONFIG), so ~/.docker and the user's containers
# auth file are never read or written; curl sends the header through reg_curl. Distribution: no auth,
# no logins.
# Every check is counted; prints "N passed, N failed" and exits non-zero on any failure.
# Known deviation: CNCF Distribution 2.8 has no referrers API (oras falls back to the
# sha256-<hex> tag schema), so the direct referrers-API check is skipped when E2E_REGISTRY=distribution.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need skopeo crane oras curl jq python3 sha256sum cmp

work=$(mktemp_e2e)
registry_start
R=$REG_HOST

# skopeo refuses to run without a signature policy; accept anything for these local copies.
cat >"$work/policy.json" <<'JSON'
{"default":[{"type":"insecureAcceptAnything"}]}
JSON
sk() { skopeo --policy "$work/policy.json" "$@"; }
# Per-client credential files in the temp dir (never the user's ~/.docker/config.json or
# ${XDG_RUNTIME_DIR}/containers/auth.json); each section logs in with its own client.
export REGISTRY_AUTH_FILE="$work/skopeo-auth.json" DOCKER_CONFIG="$work/docker-none"
AUTH=0
[[ -n "$REG_USER$REG_PASS" ]] && AUTH=1

# ------------------------------------------------------------------------------------------------
# (a) generate the test image
python3 "$E2E_LIB_DIR/mkimage.py" --out "$work/src" --layers 3 --layer-size $((256 * 1024)) \
  --docker-tar "$work/image.tar" --tag "wharf-e2e/crane:v1" >"$work/src.json"
IMG_DIGEST=$(jq -r .image "$work/src.json")
IDX_DIGEST=$(jq -r .index "$work/src.json")
log "generated image $IMG_DIGEST, index $IDX_DIGEST"

# digest_of_ref LAYOUT REFNAME: the digest index.json records for that ref name.
digest_of_ref() {
  jq -r --arg r "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$r) | .digest' "$1/index.json"
}
# same_blobs A B: every blob in layout A exists in layout B with identical bytes.
same_blobs() {
  local f n=0
  for f in "$1"/blobs/sha256/*; do
    cmp -s "$f" "$2/blobs/sha256/$(basename "$f")" || { echo "blob $(basename "$f") differs or missing"; return 1; }
    n=$((n + 1))
  done
  echo "$n blobs identical"
}
# remote_raw_digest REF: sha256 of the exact manifest bytes the registry serves.
remote_raw_digest() { echo "sha256:$(sk inspect --raw --tls-verify=false "docker://$1" | sha256sum | cut -d' ' -f1)"; }
eq() { [[ "$1" == "$2" ]] || { echo "expected '$2', got '$1'"; return 1; }; }
# registry_blob_ok REPO DIGEST FILE: GET /v2/REPO/blobs/DIGEST returns exactly FILE's bytes.
registry_blob_ok() {
  local got
  got=$(reg_curl -fsS -L --max-time 60 "$REG_URL/v2/$1/blobs/$2" | sha256sum | cut -d' ' -f1)
  eq "sha256:$got" "$2" && cmp -s <(reg_curl -fsS -L --max-time 60 "$REG_URL/v2/$1/blobs/$2") "$3"
}

# ------------------------------------------------------------------------------------------------
# (b) skopeo
log "--- skopeo"
if ((AUTH)); then
  check "skopeo without credentials gets 401" bash -c \
    "out=\$(skopeo inspect --raw --tls-verify=false docker://$R/e2e/skopeo:none 2>&1) && exit 1
     echo \"\$out\"; grep -qiE 'unauthorized|authentication required|401' <<<\"\$out\""
  check "skopeo login" bash -c \
    "printf '%s' \"\$REG_PASS\" | skopeo login --tls-verify=false -u \"\$REG_USER\" --password-stdin '$R'"
fi
check "skopeo copy image to registry" \
  sk copy -q --preserve-digests --dest-tls-verify=false "oci:$work/src:image" "docker://$R/e2e/skopeo:image"
check "skopeo inspect --raw image digest" eq "$(remote_raw_digest "$R/e2e/skopeo:image" || true)" "$IMG_DIGEST"
check "skopeo copy --all index to registry" \
  sk copy -q --all --preserve-digests --dest-tls-verify=false "oci:$work/src:index" "docker://$R/e2e/skopeo:index"
check "skopeo inspect --raw index digest" eq "$(remote_raw_digest "$R/e2e/skopeo:index" || true)" "$IDX_DIGEST"
check "skopeo inspect arm64 child by platform" bash -o pipefail -c \
  "skopeo --policy '$work/policy.json' inspect --tls-verify=false --override-arch arm64 --override-os linux docker://$R/e2e/skopeo:index | jq -e '.Architecture==\"arm64\"'"
check "skopeo copy --all index back to new layout" \
  sk copy -q --all --preserve-digests --src-tls-verify=false "docker://$R/e2e/skopeo:index" "oci:$work/back:index"
check "skopeo copy image back to layout" \
  sk copy -q --preserve-digests --src-tls-verify=false "docker://$R/e2e/skopeo:image" "oci:$work/back:image"
check "round-trip index digest in index.json" eq "$(digest_of_ref "$work/back" index)" "$IDX_DIGEST"
check "round-trip image digest in index.json" eq "$(digest_of_ref "$work/back" image)" "$IMG_DIGEST"
check "round-trip blobs byte-identical" same_blobs "$work/src" "$work/back"
# every layer/config blob GETs back with the right bytes directly over the API
blob_check() {
  local m d
  for m in $(jq -r '.manifests[].digest' "$work/src/blobs/sha256/${IDX_DIGEST#sha256:}"); do
    for d in $(jq -r '.config.digest, .layers[].digest' "$work/src/blobs/sha256/${m#sha256:}"); do
      registry_blob_ok e2e/skopeo "$d" "$work/src/blobs/sha256/${d#sha256:}" || { echo "blob $d wrong"; return 1; }
    done
  done
}
check "GET every blob of the index: exact bytes" blob_check
check "HEAD manifest returns Docker-Content-Digest" bash -o pipefail -c \
  "reg_curl -fsSI -H 'Accept: application/vnd.oci.image.index.v1+json' '$REG_URL/v2/e2e/skopeo/manifests/index' | tr -d '\r' | grep -qi '^docker-content-digest: $IDX_DIGEST$'"

# ------------------------------------------------------------------------------------------------
# (c) crane
log "--- crane"
export DOCKER_CONFIG="$work/docker-crane"
mkdir -p "$DOCKER_CONFIG"
if ((AUTH)); then
  check "crane auth login" bash -c \
    "printf '%s' \"\$REG_PASS\" | crane auth login '$R' -u \"\$REG_USER\" --password-stdin"
fi
TAR_DIGEST=$(crane digest --tarball "$work/image.tar")
check "crane push tarball" crane push --insecure "$work/image.tar" "$R/e2e/crane:v1"
check "crane digest matches tarball" eq "$(crane digest --insecure "$R/e2e/crane:v1" 2>&1 || true)" "$TAR_DIGEST"
check "crane manifest bytes hash to digest" eq \
  "sha256:$(crane manifest --insecure "$R/e2e/crane:v1" | sha256sum | cut -d' ' -f1)" "$TAR_DIGEST"
check "crane pull (oci layout)" crane pull --insecure --format oci "$R/e2e/crane:v1" "$work/crane-pull"
check "crane pulled manifest digest" eq "$(jq -r '.manifests[0].digest' "$work/crane-pull/index.json" 2>/dev/null)" "$TAR_DIGEST"
crane_layers_ok() {
  local d
  for d in $(crane manifest --insecure "$R/e2e/crane:v1" | jq -r '.config.digest, .layers[].digest'); do
    cmp -s "$work/crane-pull/blobs/sha256/${d#sha256:}" <(crane blob --insecure "$R/e2e/crane@$d") || { echo "blob $d differs"; return 1; }
    [[ "sha256:$(sha256sum <"$work/crane-pull/blobs/sha256/${d#sha256:}" | cut -d' ' -f1)" == "$d" ]] || { echo "blob $d bad hash"; return 1; }
  done
}
check "crane pulled blobs match registry bytes and digests" crane_layers_ok
check "crane copy image to another repo" crane copy --insecure "$R/e2e/crane:v1" "$R/e2e/crane-copy:v1"
check "crane copy keeps digest" eq "$(crane digest --insecure "$R/e2e/crane-copy:v1" 2>&1 || true)" "$TAR_DIGEST"
check "crane copy multi-arch index (cross-repo)" crane copy --insecure "$R/e2e/skopeo:index" "$R/e2e/crane-copy:index"
check "crane copied index digest" eq "$(crane digest --insecure "$R/e2e/crane-copy:index" 2>&1 || true)" "$IDX_DIGEST"
check "crane digest --platform linux/arm64" eq \
  "$(crane digest --insecure --platform linux/arm64 "$R/e2e/crane-copy:index" 2>&1 || true)" "$(jq -r '.manifests[1]' "$work/src.json")"
check "crane tag v2" crane tag --insecure "$R/e2e/crane:v1" v2
check "crane ls lists v1 and v2" bash -o pipefail -c "[[ \"\$(crane ls --insecure '$R/e2e/crane' | sort | tr '\n' ' ')\" == 'v1 v2 ' ]]"
check "crane catalog lists all repos" bash -o pipefail -c \
  "crane catalog --insecure '$R' | sort | tr '\n' ' ' | grep -q 'e2e/crane e2e/crane-copy e2e/skopeo'"
check "crane delete manifest by digest" bash -o pipefail -c "
  set -e
  crane mutate --insecure '$R/e2e/crane:v1' --label wharf-e2e=del -t '$R/e2e/crane:todelete' >/dev/null
  d=\$(crane digest --insecure '$R/e2e/crane:todelete')
  crane delete --insecure '$R/e2e/crane@'\$d
  ! crane manifest --insecure '$R/e2e/crane@'\$d >/dev/null 2>&1
  crane digest --insecure '$R/e2e/crane:v1' >/dev/null"

# ------------------------------------------------------------------------------------------------
# (d) oras
log "--- oras"
export DOCKER_CONFIG="$work/docker-oras"
mkdir -p "$DOCKER_CONFIG"
if ((AUTH)); then
  check "oras login --plain-http" bash -c \
    "printf '%s' \"\$REG_PASS\" | oras login --plain-http -u \"\$REG_USER\" --password-stdin '$R'"
fi
ART_TYPE="application/vnd.wharf.e2e.file.v1"
SIG_TYPE="application/vnd.wharf.e2e.signature.v1+json"
mkdir -p "$work/oras-in" "$work/oras-out"
head -c $((300 * 1024 + 17)) /dev/urandom >"$work/oras-in/payload.bin"
echo "{\"signed\":\"$IMG_DIGEST\",\"nonce\":\"$RANDOM$RANDOM\"}" >"$work/oras-in/sig.json"
check "oras push file artifact" bash -o pipefail -c \
  "cd '$work/oras-in' && oras push --plain-http --artifact-type '$ART_TYPE' '$R/e2e/oras:art' payload.bin:application/octet-stream"
check "oras manifest fetch shows artifactType" bash -o pipefail -c \
  "oras manifest fetch --plain-http '$R/e2e/oras:art' | jq -e --arg t '$ART_TYPE' '.artifactType==\$t'"
check "oras pull" oras pull --plain-http -o "$work/oras-out" "$R/e2e/oras:art"
check "oras pulled bytes identical" cmp "$work/oras-in/payload.bin" "$work/oras-out/payload.bin"
check "oras attach signature to image" bash -o pipefail -c \
  "cd '$work/oras-in' && oras attach --plain-http --artifact-type '$SIG_TYPE' '$R/e2e/skopeo:image' sig.json:application/json"
check "oras discover finds the signature" bash -o pipefail -c \
  "oras discover --plain-http --format json '$R/e2e/skopeo:image' | jq -e --arg t '$SIG_TYPE' '[.. | objects | select(.artifactType? == \$t)] | length == 1'"
check "oras discover --artifact-type filter" bash -o pipefail -c \
  "oras discover --plain-http --format json --artifact-type '$SIG_TYPE' '$R/e2e/skopeo:image' | jq -e '[.. | objects | select(.artifactType? != null and .digest? != null)] | length >= 1'"
if [[ "$E2E_REGISTRY" == distribution ]]; then
  echo "SKIP: GET /v2/<name>/referrers/<digest> (Distribution 2.8 has no referrers API)"
else
  check "referrers API lists the signature" bash -o pipefail -c \
    "reg_curl -fsS '$REG_URL/v2/e2e/skopeo/referrers/$IMG_DIGEST' | jq -e --arg t '$SIG_TYPE' '.mediaType==\"application/vnd.oci.image.index.v1+json\" and ([.manifests[] | select(.artifactType==\$t)] | length == 1)'"
  check "referrers API artifactType filter" bash -o pipefail -c \
    "reg_curl -fsS '$REG_URL/v2/e2e/skopeo/referrers/$IMG_DIGEST?artifactType=application/x-none' | jq -e '.manifests | length == 0'"
fi
# grep reads all the output (not -q): oras stopping on SIGPIPE would fail the pipeline.
check "oras repo tags" bash -o pipefail -c "oras repo tags --plain-http '$R/e2e/oras' | grep -x art >/dev/null"
check "oras repo ls" bash -o pipefail -c "oras repo ls --plain-http '$R/e2e' | grep -x oras >/dev/null"

# ------------------------------------------------------------------------------------------------
# (e) authentication is enforced
if ((AUTH)); then
  log "--- auth"
  # unauth_ok METHOD PATH [CURL ARGS]: 401 with a WWW-Authenticate: Basic challenge.
  unauth_ok() {
    local m=$1 p=$2 hdrs code
    shift 2
    hdrs=$(curl -sS -o /dev/null -D - --max-time 10 -X "$m" "$@" "$REG_URL$p" | tr -d '\r') || return 1
    code=$(head -n 1 <<<"$hdrs" | awk '{print $2}')
    [[ "$code" == 401 ]] || { echo "$m $p -> $code, expected 401"; printf '%s\n' "$hdrs"; return 1; }
    grep -qiE '^www-authenticate: *basic( |$)' <<<"$hdrs" || { echo "no WWW-Authenticate: Basic"; printf '%s\n' "$hdrs"; return 1; }
    grep -iE '^www-authenticate:' <<<"$hdrs"
  }
  check "anonymous GET /v2/ -> 401 WWW-Authenticate: Basic" unauth_ok GET /v2/
  check "anonymous GET manifest -> 401 WWW-Authenticate: Basic" unauth_ok GET /v2/e2e/skopeo/manifests/image \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json'
  check "anonymous GET blob -> 401" unauth_ok GET "/v2/e2e/skopeo/blobs/$(jq -r '.config.digest' "$work/src/blobs/sha256/${IMG_DIGEST#sha256:}")"
  check "anonymous blob upload POST -> 401" unauth_ok POST /v2/e2e/anon/blobs/uploads/
  check "garbage password on GET /v2/ -> 401" unauth_ok GET /v2/ -u "$REG_USER:not-a-valid-token"
  check "garbage password on manifest GET -> 401" unauth_ok GET /v2/e2e/skopeo/manifests/image -u "$REG_USER:AAAA$RANDOM"
  check "valid password, wrong user name -> 401" unauth_ok GET /v2/e2e/skopeo/manifests/image -u "nobody:$REG_PASS"
  check "valid credentials: manifest GET -> 200" bash -c \
    "[[ \$(reg_curl -sS -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.oci.image.manifest.v1+json' '$REG_URL/v2/e2e/skopeo/manifests/image') == 200 ]]"
fi

registry_stop
summary
