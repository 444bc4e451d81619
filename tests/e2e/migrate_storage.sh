#!/usr/bin/env bash
# tests/e2e/migrate_storage.sh — `wharf migrate-storage` end to end: an embedded installation
# (filesystem + SQLite) moved to PostgreSQL + S3 (Garage), then served from there.
#
#  1. starts an embedded `wharf serve` (lib.sh's registry_start: fresh data dir, administrator in
#     DATA/credentials, catch-all CREATE_ON_PUSH template);
#  2. pushes with crane an image (tagged v1 and v2) and a linux/amd64+arm64 index (mkimage.py);
#     with the AWS CLI (the venv tests/e2e/ecr.sh makes, when it exists) creates an ECR repository
#     with IMMUTABLE tags, a resource tag and a lifecycle policy, and copies the image into it;
#  3. stops the server; `migrate-storage --dry-run` must write nothing (the PostgreSQL database
#     stays without tables); the real run must verify; a second run must be refused (target not
#     empty);
#  4. starts `wharf serve` on the new configuration and checks: no new administrator was created;
#     the login token issued by the old node, the old DATA/credentials keys (SigV4, and
#     `aws ecr get-login-password` for crane) and `wharf admin login-password` all work; every
#     image pulls by tag and by digest with the same digests, and every blob with the same bytes
#     as the old filesystem store holds; catalog and tag lists; the ECR repository's settings,
#     tag, lifecycle policy and images; a new push works.
#
# PostgreSQL: WHARF_E2E_PG_URL (a role with CREATEDB; the script creates a fresh database in it and
# drops it at exit), else its own server from scripts/postgres.sh. Garage: G_S3_ENDPOINT,
# G_S3_REGION, G_S3_BUCKET, G_AWS_ACCESS_KEY_ID, G_AWS_SECRET_ACCESS_KEY (as scripts/test.sh sets
# them), else its own from scripts/garage.sh. Blobs go under a key prefix unique to the run, so
# suites sharing the bucket never collide. Both own servers are stopped at exit.
# Environment: WHARF_BIN, KEEP_TMP, READY_TIMEOUT (lib.sh). Only E2E_REGISTRY=wharf is supported.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need crane curl jq python3 psql sha256sum cmp
if [[ "$E2E_REGISTRY" != wharf ]]; then
  echo "migrate_storage.sh tests Wharf's migrate-storage; E2E_REGISTRY=$E2E_REGISTRY has none" >&2
  exit 2
fi
# Settings meant for another wharf must not reach these: the source is embedded and the target
# comes from its config file alone. AWS_* keys would also override the credentials file the AWS
# CLI is given, and S3 keys in the new node's config.
for v in $(compgen -e); do
  case "$v" in
    WHARF_CONFIG | WHARF_DATA_DIR | WHARF_LISTEN | WHARF_METADATA_URL | WHARF_BLOB_STORE* | AWS_*) unset "$v" ;;
  esac
done

work=$(mktemp_e2e)
own_pg="" own_garage="" made_db="" admin_url=""
cleanup_services() {
  registry_stop || true
  if [[ -n "$made_db" ]]; then
    psql "$admin_url" -X -q -c "DROP DATABASE IF EXISTS $made_db" >/dev/null 2>&1 || log "could not drop database $made_db"
  fi
  if [[ -n "$own_garage" ]]; then bash "$REPO_ROOT/scripts/garage.sh" stop "$own_garage" >/dev/null 2>&1 || true; fi
  if [[ -n "$own_pg" ]]; then
    bash "$REPO_ROOT/scripts/postgres.sh" stop "$own_pg" >/dev/null 2>&1 || true
    [[ "${KEEP_TMP:-0}" == 1 ]] || rm -rf "$own_pg"
  fi
}
trap 'cleanup_services; e2e_cleanup' EXIT

# url_with_db URL NAME: URL with its database replaced by NAME (query string kept).
url_with_db() {
  python3 - "$1" "$2" <<'PY'
import sys
from urllib.parse import urlsplit, urlunsplit
u = urlsplit(sys.argv[1])
print(urlunsplit((u.scheme, u.netloc, "/" + sys.argv[2], u.query, u.fragment)))
PY
}

# ---- PostgreSQL and Garage --------------------------------------------------------------------
if [[ -z "${WHARF_E2E_PG_URL:-}" ]]; then
  # Not under the e2e temp root: as root, postgres.sh runs the server as `postgres`, which must
  # be able to enter every parent directory (mktemp -d's own directory it opens itself).
  own_pg=$(mktemp -d "${TMPDIR:-/tmp}/wharf-e2e-pg.XXXXXX")
  log "starting PostgreSQL in $own_pg"
  bash "$REPO_ROOT/scripts/postgres.sh" start "$own_pg" >/dev/null
  WHARF_E2E_PG_URL=$(sed -n 's/^DATABASE_URL=//p' "$own_pg/env")
fi
admin_url=$WHARF_E2E_PG_URL
made_db="wharf_migrate_$(od -An -tx1 -N6 /dev/urandom | tr -d ' \n')"
psql "$admin_url" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $made_db" >/dev/null
PG_URL=$(url_with_db "$admin_url" "$made_db")
log "target database $made_db"

if [[ -z "${G_S3_ENDPOINT:-}" ]]; then
  own_garage="$work/garage"
  log "starting Garage in $own_garage"
  bash "$REPO_ROOT/scripts/garage.sh" start "$own_garage" >/dev/null
  eval "$(sed -n 's/^\(S3_ENDPOINT\|S3_REGION\|S3_BUCKET\|AWS_ACCESS_KEY_ID\|AWS_SECRET_ACCESS_KEY\)=\([A-Za-z0-9:/._-]*\)$/G_\1=\2/p' "$own_garage/env")"
fi
: "${G_S3_ENDPOINT:?}" "${G_S3_REGION:?}" "${G_S3_BUCKET:?}" "${G_AWS_ACCESS_KEY_ID:?}" "${G_AWS_SECRET_ACCESS_KEY:?}"
PREFIX="migrate-storage-$(date +%s)-$RANDOM"

# ---- the old, embedded installation -----------------------------------------------------------
registry_start
OLD_DATA=$REG_DATA
OLD_LOG=$REG_LOG
OLD_TOKEN=$REG_PASS
R=$REG_HOST
export DOCKER_CONFIG="$work/docker-old"
mkdir -p "$DOCKER_CONFIG"
check "old: crane auth login" bash -c \
  "printf '%s' \"\$REG_PASS\" | crane auth login '$R' -u \"\$REG_USER\" --password-stdin"

python3 "$E2E_LIB_DIR/mkimage.py" --out "$work/src" --layers 3 --layer-size $((200 * 1024)) \
  --docker-tar "$work/image.tar" --tag "migrate/app:v1" >"$work/src.json"
IMG_DIGEST=$(crane digest --tarball "$work/image.tar")
IDX_DIGEST=$(jq -r .index "$work/src.json")
# A layout naming only the index, so `crane push` pushes exactly it (same digest).
cp -r "$work/src" "$work/idx"
jq '.manifests |= map(select(.annotations["org.opencontainers.image.ref.name"] == "index"))' \
  "$work/src/index.json" >"$work/idx/index.json"

eq() { [[ "$1" == "$2" ]] || { echo "expected '$2', got '$1'"; return 1; }; }
check "old: crane push image" crane push --insecure "$work/image.tar" "$R/migrate/app:v1"
check "old: crane tag v2" crane tag --insecure "$R/migrate/app:v1" v2
check "old: crane push multi-platform index" crane push --insecure "$work/idx" "$R/migrate/multi:latest"
check "old: index digest" eq "$(crane digest --insecure "$R/migrate/multi:latest" 2>&1)" "$IDX_DIGEST"

VENV="${WHARF_TOOLS_DIR:-$HOME/.cache/wharf-tools}/venv"
AWS=""
[[ -x "$VENV/bin/aws" ]] && AWS="$VENV/bin/aws"
# aws_as ARGS...: the AWS CLI as the old administrator (keys from the old DATA/credentials),
# against $ENDPOINT. Exported, with its variables, for `check ... bash -c` snippets.
aws_as() {
  AWS_SHARED_CREDENTIALS_FILE="$OLD_DATA/credentials" AWS_CONFIG_FILE=/dev/null AWS_DEFAULT_REGION=us-east-1 \
    AWS_EC2_METADATA_DISABLED=true "$AWS" "$@" --endpoint-url "$ENDPOINT"
}
export -f aws_as
export OLD_DATA AWS
LIFECYCLE='{"rules":[{"rulePriority":1,"description":"keep 5","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}'
if [[ -n "$AWS" ]]; then
  export ENDPOINT=$REG_URL
  check "old: aws ecr create-repository (IMMUTABLE, tagged)" aws_as ecr create-repository \
    --repository-name migrate/ecr --image-tag-mutability IMMUTABLE --tags Key=team,Value=platform
  check "old: aws ecr put-lifecycle-policy" aws_as ecr put-lifecycle-policy \
    --repository-name migrate/ecr --lifecycle-policy-text "$LIFECYCLE"
  check "old: crane copy image into the ECR repository" crane copy --insecure "$R/migrate/app:v1" "$R/migrate/ecr:v1"
else
  echo "SKIP: ECR repository checks (no AWS CLI venv at $VENV; tests/e2e/ecr.sh creates it)"
fi
reg_curl -fsS "$REG_URL/v2/_catalog" | jq -c '.repositories | sort' >"$work/catalog-old.json"
registry_stop

# ---- migrate ----------------------------------------------------------------------------------
NEW_DATA="$work/new-data"
cat >"$work/new.toml" <<EOF
data_dir = "$NEW_DATA"

[metadata]
url = "$PG_URL"

[blob_store]
kind = "s3"
endpoint = "$G_S3_ENDPOINT"
region = "$G_S3_REGION"
bucket = "$G_S3_BUCKET"
access_key_id = "$G_AWS_ACCESS_KEY_ID"
secret_access_key = "$G_AWS_SECRET_ACCESS_KEY"
prefix = "$PREFIX"
EOF
chmod 600 "$work/new.toml"
pg_tables() { psql "$PG_URL" -X -At -c "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"; }

check "migrate-storage --dry-run" bash -c \
  "'$WHARF_BIN' migrate-storage --data-dir '$OLD_DATA' --to-config '$work/new.toml' --dry-run >'$work/dry.out' 2>'$work/dry.err' || { cat '$work/dry.err'; exit 1; }
   cat '$work/dry.out'; grep -q 'dry run: nothing was written' '$work/dry.out' && grep -Eq 'would copy [1-9][0-9]* ' '$work/dry.out'"
check "dry run created no table in PostgreSQL" eq "$(pg_tables)" 0
check "migrate-storage" bash -c \
  "'$WHARF_BIN' migrate-storage --data-dir '$OLD_DATA' --to-config '$work/new.toml' >'$work/migrate.out' 2>'$work/migrate.err' || { cat '$work/migrate.err' '$work/migrate.out'; exit 1; }
   cat '$work/migrate.out'; grep -q '^verified: ' '$work/migrate.out'"
log "$(cat "$work/migrate.out" 2>/dev/null)"
check "the master keyring was copied to the new data dir (0600, same bytes)" bash -c \
  "[[ \$(stat -c %a '$NEW_DATA/master.key') == 600 ]] && cmp -s '$OLD_DATA/master.key' '$NEW_DATA/master.key'"
check "a second migration into the same target is refused" bash -c \
  "if '$WHARF_BIN' migrate-storage --data-dir '$OLD_DATA' --to-config '$work/new.toml' >'$work/again.out' 2>&1; then exit 1; fi
   cat '$work/again.out'; grep -q 'not empty' '$work/again.out'"
check "the migration wrote no secret to its output" bash -c \
  "! grep -qF '$G_AWS_SECRET_ACCESS_KEY' '$work/migrate.out' '$work/migrate.err' '$work/dry.out' '$work/dry.err'"

# ---- the new installation ---------------------------------------------------------------------
REG_PORT=$(free_port)
REG_HOST="127.0.0.1:$REG_PORT"
REG_URL="http://$REG_HOST"
REG_LOG="$work/server-new.log"
"$WHARF_BIN" --config "$work/new.toml" serve --listen "$REG_HOST" >>"$REG_LOG" 2>&1 &
REG_PID=$!
if ! wait_ready "$REG_URL" "$REG_PID"; then
  tail -n 30 "$REG_LOG" >&2 || true
  fail "new node (PostgreSQL + S3) starts"
  summary
  exit 1
fi
pass "new node (PostgreSQL + S3) starts"
R=$REG_HOST
check "new node created no new administrator" test ! -e "$NEW_DATA/credentials"

# The old node's login token (same token key, same access key) works on the new node.
REG_USER=AWS REG_PASS=$OLD_TOKEN
REG_AUTH="Basic $(printf '%s:%s' "$REG_USER" "$REG_PASS" | base64 -w0)"
export REG_USER REG_PASS REG_AUTH
check "old login token accepted by the new node" bash -c \
  "[[ \$(reg_curl -sS -o /dev/null -w '%{http_code}' '$REG_URL/v2/') == 200 ]]"
check "wharf admin login-password on the new configuration" bash -c \
  "p=\$('$WHARF_BIN' --config '$work/new.toml' admin login-password) &&
   [[ \$(curl -sS -o /dev/null -w '%{http_code}' -u \"AWS:\$p\" '$REG_URL/v2/') == 200 ]]"
export DOCKER_CONFIG="$work/docker-new"
mkdir -p "$DOCKER_CONFIG"
check "new: crane auth login with the old node's token" bash -c \
  "printf '%s' \"\$REG_PASS\" | crane auth login '$R' -u \"\$REG_USER\" --password-stdin"

# old_blob DIGEST: the path of DIGEST's bytes in the old filesystem store (layout in fs.rs).
old_blob() { local h=${1#sha256:}; echo "$OLD_DATA/blobs-store/blobs/sha256/${h:0:2}/$h"; }
# same_image REPO DIGEST: the manifest bytes hash to DIGEST, and every blob (of every child, for
# an index) comes back by digest with the bytes the old store holds.
same_image() {
  local repo=$1 digest=$2 m d
  m=$(crane manifest --insecure "$R/$repo@$digest") || return 1
  # Hashed straight from the pipe: $(...) would drop a trailing newline of the exact bytes.
  eq "sha256:$(crane manifest --insecure "$R/$repo@$digest" | sha256sum | cut -d' ' -f1)" "$digest" || return 1
  if jq -e '.manifests' <<<"$m" >/dev/null; then
    for d in $(jq -r '.manifests[].digest' <<<"$m"); do same_image "$repo" "$d" || return 1; done
    return 0
  fi
  for d in $(jq -r '.config.digest, .layers[].digest' <<<"$m"); do
    # The old store holds ciphertext (sealed at rest): the plaintext must hash to its digest.
    [[ "sha256:$(crane blob --insecure "$R/$repo@$d" | sha256sum | cut -d' ' -f1)" == "$d" ]] ||
      { echo "blob $d does not come back with its bytes"; return 1; }
    [[ "$(head -c 8 "$(old_blob "$d")")" == WHARFSEG ]] || { echo "blob $d was not sealed in the old store"; return 1; }
  done
  echo "$repo@$digest: manifest and $(jq '.layers | length' <<<"$m") layers identical"
}
check "new: app:v1 digest" eq "$(crane digest --insecure "$R/migrate/app:v1" 2>&1)" "$IMG_DIGEST"
check "new: app:v2 digest" eq "$(crane digest --insecure "$R/migrate/app:v2" 2>&1)" "$IMG_DIGEST"
check "new: multi:latest digest" eq "$(crane digest --insecure "$R/migrate/multi:latest" 2>&1)" "$IDX_DIGEST"
check "new: arm64 child by platform" eq \
  "$(crane digest --insecure --platform linux/arm64 "$R/migrate/multi:latest" 2>&1)" "$(jq -r '.manifests[1]' "$work/src.json")"
check "new: image by digest, blobs (sealed in the old store) byte-identical" same_image migrate/app "$IMG_DIGEST"
check "new: index by digest, every child's blobs byte-identical" same_image migrate/multi "$IDX_DIGEST"
check "new: crane pull by tag" crane pull --insecure --format oci "$R/migrate/app:v1" "$work/pulled"
check "new: tags list" eq "$(crane ls --insecure "$R/migrate/app" | sort | tr '\n' ' ')" "v1 v2 "
check "new: catalog equals the old one" eq \
  "$(reg_curl -fsS "$REG_URL/v2/_catalog" | jq -c '.repositories | sort')" "$(cat "$work/catalog-old.json")"
check "new: push after the migration" crane copy --insecure "$R/migrate/app:v1" "$R/migrate/after:v1"
check "new: pushed image pulls" eq "$(crane digest --insecure "$R/migrate/after:v1" 2>&1)" "$IMG_DIGEST"

if [[ -n "$AWS" ]]; then
  export ENDPOINT=$REG_URL
  check "new: old DATA/credentials sign ECR requests (describe-repositories)" bash -o pipefail -c \
    "aws_as ecr describe-repositories --repository-names migrate/ecr |
     jq -e '.repositories[0].imageTagMutability == \"IMMUTABLE\"'"
  check "new: ECR resource tag kept" bash -o pipefail -c \
    "arn=\$(aws_as ecr describe-repositories --repository-names migrate/ecr | jq -r '.repositories[0].repositoryArn')
     aws_as ecr list-tags-for-resource --resource-arn \"\$arn\" | jq -e '.tags == [{\"Key\":\"team\",\"Value\":\"platform\"}]'"
  check "new: lifecycle policy kept" bash -o pipefail -c \
    "aws_as ecr get-lifecycle-policy --repository-name migrate/ecr |
     jq -e --arg p '$LIFECYCLE' '(.lifecyclePolicyText | fromjson) == (\$p | fromjson)'"
  check "new: ECR images listed" bash -o pipefail -c \
    "aws_as ecr describe-images --repository-name migrate/ecr |
     jq -e --arg d '$IMG_DIGEST' '.imageDetails | length == 1 and .[0].imageDigest == \$d and .[0].imageTags == [\"v1\"]'"
  check "new: aws ecr get-login-password with the old keys works for crane" bash -o pipefail -c \
    "export DOCKER_CONFIG='$work/docker-ecr'
     mkdir -p \"\$DOCKER_CONFIG\"
     aws_as ecr get-login-password | crane auth login '$R' -u AWS --password-stdin >/dev/null
     [[ \$(crane digest --insecure '$R/migrate/ecr:v1') == '$IMG_DIGEST' ]]"
fi

if grep -q "panicked" "$REG_LOG" "$OLD_LOG"; then
  fail "no panic in the server logs" "$(grep -h -m3 panicked "$REG_LOG" "$OLD_LOG")"
else
  pass "no panic in the server logs"
fi
registry_stop
mkdir -p "$RESULTS_DIR/migrate_storage" &&
  cp "$REG_LOG" "$work/migrate.out" "$work/migrate.err" "$RESULTS_DIR/migrate_storage/" 2>/dev/null || true
summary
