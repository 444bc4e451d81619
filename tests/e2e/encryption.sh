#!/usr/bin/env bash
# tests/e2e/encryption.sh — encryption at rest against a real `wharf serve`, real clients, the AWS
# CLI and a real local-kms (scripts/local-kms.sh).
#
#  (a) first start writes DATA/master.key (mode 0600); no 32-byte window of a pushed layer (oras,
#      an uncompressed 1 MiB file) is anywhere under the data dir, and oras pulls it back
#      byte-identical; Range GETs across 64 KiB segment boundaries return the right bytes;
#  (b) KMS: a key made in local-kms (aws kms create-key); aws ecr create-repository with
#      encryptionType=KMS,kmsKey=<arn>; push/pull; the key disabled (aws kms disable-key) →
#      oras pull fails, GET manifest/blob → 403 DENIED naming the key, BatchGetImage →
#      KmsException, while an AES256 repository holding the same layer still pulls; re-enabled →
#      pulls work; create-repository with a disabled or unknown key → KmsException;
#  (c) start-up stops with a clear message when master.key is missing (data exists) or garbage;
#  (d) an install written with WHARF_ENCRYPT_BLOBS=false (plaintext, as before encryption) is
#      sealed online by the background job after a normal restart: `wharf encryption status`
#      reaches 0 unsealed blobs, the plaintext is gone, pulls are byte-identical;
#  (e) `wharf encryption rotate-master-key` → after a restart every wrap is under version 2, the
#      blob files are byte-identical (no data rewritten), pulls work; then version 1 removed from
#      the keyring and it still serves;
#  (f) with blob_store.redirect configured nothing sealed is redirected (checked in the S3 runs by
#      scripts/test.sh's clients suite; here the filesystem store never redirects).
# Prints "N passed, N failed"; exits non-zero on any failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need oras curl jq python3 sha256sum cmp
if [[ "$E2E_REGISTRY" != wharf ]]; then
  echo "encryption.sh tests one embedded Wharf; E2E_REGISTRY=$E2E_REGISTRY is not supported" >&2
  exit 2
fi
AWS="${WHARF_TOOLS_DIR:-$HOME/.cache/wharf-tools}/venv/bin/aws"
[[ -x "$AWS" ]] || AWS=$(command -v aws) || { echo "missing tool: aws (run tests/e2e/ecr.sh once for its venv)" >&2; exit 2; }

work=$(mktemp_e2e)
kms_dir="$work/kms"
bash "$REPO_ROOT/scripts/local-kms.sh" start "$kms_dir" >/dev/null || { echo "local-kms did not start" >&2; exit 1; }
trap 'bash "$REPO_ROOT/scripts/local-kms.sh" stop "$kms_dir" >/dev/null 2>&1 || true; e2e_cleanup' EXIT
KMS_URL=$(sed -n 's/^WHARF_TEST_KMS_URL=//p' "$kms_dir/env")
KMS_REGION=$(sed -n 's/^WHARF_TEST_KMS_REGION=//p' "$kms_dir/env")
export WHARF_KMS_ENDPOINT="$KMS_URL" WHARF_KMS_REGION="$KMS_REGION" WHARF_KMS_ACCESS_KEY_ID=AKIDLOCALKMS \
  WHARF_KMS_SECRET_ACCESS_KEY=local-kms-secret WHARF_KMS_CACHE_SECS=1
kms() { AWS_ACCESS_KEY_ID=AKIDLOCALKMS AWS_SECRET_ACCESS_KEY=x "$AWS" kms "$@" --endpoint-url "$KMS_URL" --region "$KMS_REGION" --output json; }

eq() { [[ "$1" == "$2" ]] || { echo "expected '$2', got '$1'"; return 1; }; }
fails() { if "$@"; then echo "unexpectedly succeeded: $*"; return 1; fi; }
# no_plaintext FILE DIR: no 32-byte window of FILE (at several offsets) occurs in any file under DIR.
no_plaintext() {
  python3 - "$1" "$2" <<'PY'
import os, sys
data = open(sys.argv[1], "rb").read()
needles = [data[o:o + 32] for o in (0, 65_530, len(data) // 2, len(data) - 32)]
hits = []
for root, _, files in os.walk(sys.argv[2]):
    for f in files:
        p = os.path.join(root, f)
        try:
            b = open(p, "rb").read()
        except OSError:
            continue
        if any(n in b for n in needles):
            hits.append(p)
if hits:
    print("plaintext found in", hits)
    sys.exit(1)
PY
}
has_plaintext() { ! no_plaintext "$@" >/dev/null; }
# push_file REPO:TAG FILE: oras push of FILE as one uncompressed layer.
push_file() { (cd "$(dirname "$2")" && oras push --plain-http "$R/$1" "$(basename "$2"):application/octet-stream" >/dev/null); }
pull_same() {
  local out="$work/pull-$RANDOM"
  mkdir -p "$out"
  oras pull --plain-http -o "$out" "$R/$1" >/dev/null && cmp "$out/$(basename "$2")" "$2"
}
layer_digest() { oras manifest fetch --plain-http "$R/$1" | jq -r '.layers[0].digest'; }
start() {
  registry_start "$REG_DATA" "$REG_PORT" || return 1
  R=$REG_HOST
  printf '%s' "$REG_PASS" | oras login --plain-http -u "$REG_USER" --password-stdin "$R" >/dev/null 2>&1
}
export AWS_CONFIG_FILE=/dev/null AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
aws_ecr() { AWS_SHARED_CREDENTIALS_FILE="$REG_DATA/credentials" "$AWS" ecr "$@" --endpoint-url "$REG_URL" --output json; }
# aws_fails_with CODE ARGS...: the AWS CLI call fails and names CODE.
aws_fails_with() {
  local code=$1 out
  shift
  if out=$(aws_ecr "$@" 2>&1); then echo "unexpectedly succeeded: $out"; return 1; fi
  grep -q "$code" <<<"$out" || { echo "$out"; return 1; }
}

REG_DATA="$work/data"
REG_PORT=$(free_port)
start || { fail "wharf starts"; summary; exit 1; }
pass "wharf starts with encryption at rest"

# ------------------------------------------------------------------------------------------------
log "--- (a) sealed layers, no plaintext, ranges"
check "first start wrote master.key, mode 0600" bash -c "[[ \$(stat -c %a '$REG_DATA/master.key') == 600 ]]"
check "the log says to back the master key up" grep -q "back this file up" "$REG_LOG"
head -c $((1024 * 1024 + 123)) /dev/urandom >"$work/layer.bin"
check "oras push of a 1 MiB layer" push_file enc/app:v1 "$work/layer.bin"
check "oras pull returns it byte-identical" pull_same enc/app:v1 "$work/layer.bin"
check "no plaintext of the layer under the data dir" no_plaintext "$work/layer.bin" "$REG_DATA"
D=$(layer_digest enc/app:v1)
range_ok() {
  local from=$1 to=$2
  reg_curl -sSf -r "$from-$to" "$REG_URL/v2/enc/app/blobs/$D" -o "$work/range.bin" &&
    cmp "$work/range.bin" <(tail -c +$((from + 1)) "$work/layer.bin" | head -c $((to - from + 1)))
}
check "Range 65530-65545 (across the first segment boundary)" range_ok 65530 65545
check "Range 131000-600000 (many segments)" range_ok 131000 600000
check "Range of the last 10 bytes" range_ok $((1024 * 1024 + 113)) $((1024 * 1024 + 122))

# ------------------------------------------------------------------------------------------------
log "--- (b) KMS repositories"
ARN=$(kms create-key --description "wharf e2e" | jq -r .KeyMetadata.Arn)
check "local-kms created a key" bash -c "[[ '$ARN' == arn:aws:kms:* ]]"
check "create-repository with encryptionType=KMS and the key" aws_ecr create-repository \
  --repository-name enc/kms --encryption-configuration "encryptionType=KMS,kmsKey=$ARN"
check "describe-repositories reports KMS and the key ARN" bash -o pipefail -c \
  "$(declare -f aws_ecr); AWS='$AWS' REG_DATA='$REG_DATA' REG_URL='$REG_URL' aws_ecr describe-repositories --repository-names enc/kms | jq -e '.repositories[0].encryptionConfiguration == {\"encryptionType\":\"KMS\",\"kmsKey\":\"$ARN\"}'"
check "push to the KMS repository" push_file enc/kms:v1 "$work/layer.bin"
check "pull from the KMS repository" pull_same enc/kms:v1 "$work/layer.bin"
head -c 300000 /dev/urandom >"$work/kms-only.bin"
check "push a layer only the KMS repository holds" push_file enc/kms:v2 "$work/kms-only.bin"
check "still no plaintext under the data dir" no_plaintext "$work/kms-only.bin" "$REG_DATA"
kms disable-key --key-id "$ARN" >/dev/null
sleep 1.5
check "key disabled: oras pull from the KMS repository fails" fails pull_same enc/kms:v2 "$work/kms-only.bin"
check "key disabled: GET manifest → 403 DENIED naming the key" bash -o pipefail -c \
  "reg_curl -sS -H 'Accept: application/vnd.oci.image.manifest.v1+json' -w '%{http_code}' '$REG_URL/v2/enc/kms/manifests/v2' | grep -q 'DENIED.*$ARN.*403\$'"
check "key disabled: GET blob → 403" bash -c \
  "[[ \$(reg_curl -sS -o /dev/null -w '%{http_code}' '$REG_URL/v2/enc/kms/blobs/$(sha256sum "$work/kms-only.bin" | cut -c1-64 | sed 's/^/sha256:/')') == 403 ]]"
check "key disabled: BatchGetImage → KmsException" aws_fails_with KmsException batch-get-image --repository-name enc/kms --image-ids imageTag=v1
check "key disabled: the AES256 repository sharing the layer still pulls" pull_same enc/app:v1 "$work/layer.bin"
check "key disabled: GetDownloadUrlForLayer → KmsException" aws_fails_with KmsException get-download-url-for-layer --repository-name enc/kms --layer-digest $D
check "create-repository with the disabled key → KmsException" aws_fails_with KmsException create-repository --repository-name enc/kms2 --encryption-configuration encryptionType=KMS,kmsKey=$ARN
kms enable-key --key-id "$ARN" >/dev/null
sleep 1.5
check "key re-enabled: pulls work again" pull_same enc/kms:v2 "$work/kms-only.bin"
check "create-repository with an unknown key → KmsException" aws_fails_with KmsException create-repository --repository-name enc/kms3 --encryption-configuration encryptionType=KMS,kmsKey=arn:aws:kms:$KMS_REGION:111122223333:key/00000000-0000-0000-0000-000000000000
server_survived

# ------------------------------------------------------------------------------------------------
log "--- (c) start-up checks of the master key"
registry_stop
mv "$REG_DATA/master.key" "$work/master.key.saved"
serve_fails() {
  local out
  out=$(timeout 20 "$WHARF_BIN" serve --data-dir "$REG_DATA" --listen "127.0.0.1:$(free_port)" 2>&1) && { echo "serve did not stop"; return 1; }
  grep -q "$1" <<<"$out" || { echo "$out" | tail -n 5; return 1; }
}
check "master.key missing: serve stops, naming the file" serve_fails "master key file .*master.key is missing"
check "no new key was generated over encrypted data" bash -c "[[ ! -e '$REG_DATA/master.key' ]]"
echo "1 this-is-not-a-key" >"$REG_DATA/master.key"
check "master.key garbage: serve stops with the reason" serve_fails "not a valid keyring"
head -c 32 /dev/urandom | base64 | sed 's/^/1 /' >"$REG_DATA/master.key"
check "another key: serve stops (fingerprint mismatch)" serve_fails "wrong master key"
mv "$work/master.key.saved" "$REG_DATA/master.key"
start || fail "wharf restarts with its key"
check "after restart the layer still pulls" pull_same enc/app:v1 "$work/layer.bin"

# ------------------------------------------------------------------------------------------------
log "--- (e) master key rotation"
BLOB_FILE="$REG_DATA/blobs-store/blobs/sha256/${D:7:2}/${D:7}"
[[ -f "$BLOB_FILE" ]] || BLOB_FILE=$(find "$REG_DATA" -path "*blobs/sha256/*/${D:7}" | head -1)
BEFORE=$(sha256_of "$BLOB_FILE")
registry_stop
check "wharf encryption rotate-master-key" "$WHARF_BIN" encryption --data-dir "$REG_DATA" rotate-master-key
start || fail "wharf restarts after rotation"
wraps_all_v2() {
  local s deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    s=$("$WHARF_BIN" encryption --data-dir "$REG_DATA" status --format json 2>/dev/null) || true
    jq -e '[.wraps[] | select(.key | startswith("master:")) | .key] | unique == ["master:2"]' <<<"$s" >/dev/null && return 0
    sleep 1
  done
  echo "$s"; return 1
}
check "the rewrap job moves every master wrap to version 2" wraps_all_v2
check "blob files are byte-identical (no data rewritten)" bash -c "[[ \$(sha256sum '$BLOB_FILE' | cut -d' ' -f1) == '$BEFORE' ]]"
registry_stop
sed -i '/^1 /d' "$REG_DATA/master.key"
start || fail "wharf starts with version 1 removed"
check "version 1 removed from the keyring: pulls work" pull_same enc/app:v1 "$work/layer.bin"
registry_stop

# ------------------------------------------------------------------------------------------------
log "--- (d) an install from before encryption, sealed online"
REG_DATA="$work/legacy"
REG_PORT=$(free_port)
WHARF_ENCRYPT_BLOBS=false start || fail "wharf starts with encrypt_blobs = false"
head -c 700000 /dev/urandom >"$work/old.bin"
check "push while blobs are written in plaintext" push_file old/app:v1 "$work/old.bin"
check "the plaintext is on disk (the check would see it)" has_plaintext "$work/old.bin" "$REG_DATA"
registry_stop
start || fail "wharf restarts with encryption"
sealed_all() {
  local s deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    s=$("$WHARF_BIN" encryption --data-dir "$REG_DATA" status --format json 2>/dev/null) || true
    [[ $(jq -r .unsealedBlobs <<<"$s") == 0 ]] && return 0
    sleep 1
  done
  echo "$s"; return 1
}
check "the background job seals every stored blob" sealed_all
check "no plaintext left under the data dir" no_plaintext "$work/old.bin" "$REG_DATA"
check "the old image pulls byte-identical" pull_same old/app:v1 "$work/old.bin"
seal_job_done() {
  local deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    "$WHARF_BIN" jobs --data-dir "$REG_DATA" list --kind seal_blobs --format json 2>/dev/null |
      jq -e '.[0].state == "done"' >/dev/null && return 0
    sleep 1
  done
  "$WHARF_BIN" jobs --data-dir "$REG_DATA" list --kind seal_blobs; return 1
}
check "the seal_blobs job is done in the queue" seal_job_done
server_survived
registry_stop
summary
