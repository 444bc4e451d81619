#!/usr/bin/env bash
# tests/e2e/replication.sh — ECR replication end to end, with two Wharf servers as two regions.
#
#  1. Starts the destination (region eu-west-1) and the source (us-east-1, with
#     [regions.eu-west-1] given as WHARF_REGIONS_* variables: the destination's endpoint and its
#     administrator's keys). Both retry failed jobs after 1-4 s (WHARF_JOB_RETRY_*).
#  2. On the source: an account B (cross-account in one Wharf) with an administrator user; a
#     REPLICATION creation template in B and at the destination (resource tag replicated=yes).
#     PutReplicationConfiguration through the AWS CLI (validation errors checked), shown by
#     DescribeRegistry.
#  3. Pushes with crane (an image with two tags and a two-platform index) under `app/`, and one
#     image outside the filter: the destination gets byte-identical manifests (crane manifest /
#     crane digest) and blobs, tags and the index's children; DescribeImageReplicationStatus says
#     COMPLETE for eu-west-1 and FAILED for B (its registry policy does not allow it), and B holds
#     nothing. The filtered-out image is not replicated.
#  4. B's registry policy allows ecr:ReplicateImage + ecr:CreateRepository for the source: a new
#     push reaches B (COMPLETE, same manifest through BatchGetImage, repository from B's template).
#  5. Kills the destination (SIGKILL), pushes a larger image (chunked uploads), restarts the
#     source too, checks IN_PROGRESS, restarts the destination: eventually COMPLETE, bytes equal.
#  6. Deletes an image on the source: the destination keeps it (deletes are not replicated).
#  7. Backfills: a rule widened to other/ and StartReplicationBackfill copies the image pushed
#     before it (progress, results with paging and filters, list, stop, errors).
#
# Environment: WHARF_BIN, KEEP_TMP, READY_TIMEOUT (lib.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

VENV="${WHARF_TOOLS_DIR:-$HOME/.cache/wharf-tools}/venv"
[[ -x "$VENV/bin/aws" ]] || { echo "missing $VENV/bin/aws (run tests/e2e/ecr.sh once, or scripts/install-test-deps.sh)" >&2; exit 2; }
need crane curl jq python3
[[ "$E2E_REGISTRY" == wharf ]] || { echo "replication.sh runs two Wharf servers; E2E_REGISTRY=$E2E_REGISTRY is not supported" >&2; exit 2; }

work=$(mktemp_e2e)
export DOCKER_CONFIG="$work/docker"
mkdir -p "$DOCKER_CONFIG"
export WHARF_JOB_RETRY_BASE_SECS=1 WHARF_JOB_RETRY_MAX_SECS=4

# --- the two servers. lib.sh tracks one (REG_*); these swap the destination's and source's in.
save_as() { eval "${1}_PID=\$REG_PID ${1}_PORT=\$REG_PORT ${1}_URL=\$REG_URL ${1}_HOST=\$REG_HOST ${1}_DATA=\$REG_DATA ${1}_LOG=\$REG_LOG"; }
restore() { eval "REG_PID=\$${1}_PID REG_PORT=\$${1}_PORT REG_URL=\$${1}_URL REG_HOST=\$${1}_HOST REG_DATA=\$${1}_DATA REG_LOG=\$${1}_LOG"; }
kill_other() { [[ -n "${DEST_PID:-}" ]] && kill -KILL "$DEST_PID" 2>/dev/null || true; }
trap 'kill_other; e2e_cleanup' EXIT

start_dest() {
  WHARF_REGION=eu-west-1 registry_start "$work/dest" "${DEST_PORT:-}"
  save_as DEST
  REG_PID=""
}
start_src() {
  WHARF_REGION=us-east-1 WHARF_REGIONS=eu-west-1 WHARF_REGIONS_EU_WEST_1_ENDPOINT="$DEST_URL" \
    WHARF_REGIONS_EU_WEST_1_ACCESS_KEY_ID="$DEST_KEY" WHARF_REGIONS_EU_WEST_1_SECRET_ACCESS_KEY="$DEST_SECRET" \
    registry_start "$work/src" "${SRC_PORT:-}"
  save_as SRC
}
kill_dest() {
  kill -KILL "$DEST_PID" 2>/dev/null || true
  wait "$DEST_PID" 2>/dev/null || true
  DEST_PID=""
}

start_dest
DEST_KEY=$(sed -n 's/^aws_access_key_id = //p' "$DEST_DATA/credentials")
DEST_SECRET=$(sed -n 's/^aws_secret_access_key = //p' "$DEST_DATA/credentials")
start_src
log "source $SRC_URL (pid $SRC_PID), destination $DEST_URL (pid $DEST_PID)"

aws_at() { # aws_at URL CREDENTIALS-FILE REGION ARGS...
  local url=$1 creds=$2 region=$3
  shift 3
  AWS_SHARED_CREDENTIALS_FILE="$creds" AWS_CONFIG_FILE=/dev/null AWS_DEFAULT_REGION="$region" \
    AWS_EC2_METADATA_DISABLED=true "$VENV/bin/aws" --endpoint-url "$url" --output json "$@"
}
src_aws() { aws_at "$SRC_URL" "$SRC_DATA/credentials" us-east-1 ecr "$@"; }
b_aws() { aws_at "$SRC_URL" "$work/b-credentials" us-east-1 ecr "$@"; }
dest_aws() { aws_at "$DEST_URL" "$DEST_DATA/credentials" eu-west-1 ecr "$@"; }
eq() { [[ "$1" == "$2" ]] || { echo "expected '$2', got '$1'"; return 1; }; }

SRC_ACCOUNT=$(src_aws describe-registry | jq -r .registryId)
DEST_ACCOUNT=$(dest_aws describe-registry | jq -r .registryId)
B=222222222222
log "source account $SRC_ACCOUNT, destination account $DEST_ACCOUNT, second local account $B"

# --- account B in the source Wharf, with an administrator.
"$WHARF_BIN" admin --data-dir "$SRC_DATA" create-account "$B" --name replica >>"$SRC_LOG" 2>&1
"$WHARF_BIN" admin --data-dir "$SRC_DATA" create-user boss --account "$B" >>"$SRC_LOG" 2>&1
echo '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}' >"$work/admin.json"
"$WHARF_BIN" admin --data-dir "$SRC_DATA" attach-policy boss --name admin --file "$work/admin.json" --account "$B" >>"$SRC_LOG" 2>&1
"$WHARF_BIN" admin --data-dir "$SRC_DATA" create-access-key boss --account "$B" | grep -E '^\[|aws_' >"$work/b-credentials"
grep -q '^\[default\]' "$work/b-credentials" || sed -i '1i [default]' "$work/b-credentials"
check "account B's administrator reaches the ECR API" b_aws describe-registry

TEMPLATE_TAGS='[{"Key":"replicated","Value":"yes"}]'
check "B: REPLICATION creation template" b_aws create-repository-creation-template --prefix app \
  --applied-for REPLICATION --resource-tags "$TEMPLATE_TAGS"
check "destination: REPLICATION creation template" dest_aws create-repository-creation-template --prefix app \
  --applied-for REPLICATION --resource-tags "$TEMPLATE_TAGS"

# --- PutReplicationConfiguration: validation, then the real one.
expect_error() { # expect_error CODE CMD...: the command fails naming CODE
  local code=$1 out
  shift
  if out=$("$@" 2>&1); then echo "succeeded: $out"; return 1; fi
  grep -q "$code" <<<"$out" || { echo "$out"; return 1; }
}
rule() { echo "{\"rules\":[{\"destinations\":$1${2:+,\"repositoryFilters\":$2}}]}"; }
check "a destination that is the source itself is refused" expect_error InvalidParameterException \
  src_aws put-replication-configuration --replication-configuration "$(rule "[{\"region\":\"us-east-1\",\"registryId\":\"$SRC_ACCOUNT\"}]")"
check "an unconfigured region is refused" expect_error InvalidParameterException \
  src_aws put-replication-configuration --replication-configuration "$(rule '[{"region":"ap-south-1","registryId":"111111111111"}]')"
check "a bad registryId is refused by the model" expect_error "ValidationException\|InvalidParameterException\|Invalid" \
  src_aws put-replication-configuration --replication-configuration "$(rule '[{"region":"eu-west-1","registryId":"12"}]')"
check "a filter type other than PREFIX_MATCH is refused" expect_error "ValidationException\|InvalidParameterException\|Invalid" \
  src_aws put-replication-configuration --replication-configuration "$(rule "[{\"region\":\"eu-west-1\",\"registryId\":\"$DEST_ACCOUNT\"}]" '[{"filter":"app","filterType":"SUFFIX_MATCH"}]')"
# boto3 OPERATION JSON-KWARGS: as the source's administrator; prints "succeeded" or the error code and
# message (the pinned AWS CLI predates deleteReplication and the backfill operations).
boto3_call() {
  AWS_SHARED_CREDENTIALS_FILE="$SRC_DATA/credentials" AWS_CONFIG_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
    "$VENV/bin/python" - "$SRC_URL" "$1" "$2" <<'PY'
import json, sys, boto3, botocore.exceptions
ecr = boto3.client("ecr", endpoint_url=sys.argv[1], region_name="us-east-1")
try:
    getattr(ecr, sys.argv[2])(**json.loads(sys.argv[3]))
    print("succeeded")
except botocore.exceptions.ClientError as e:
    print(e.response["Error"]["Code"], e.response["Error"]["Message"])
PY
}
check "deleteReplication enabled is refused (deletes are not replicated)" bash -c \
  "$(declare -f boto3_call); VENV='$VENV' SRC_URL='$SRC_URL' SRC_DATA='$SRC_DATA';
   boto3_call put_replication_configuration '{\"replicationConfiguration\":{\"rules\":[{\"destinations\":[{\"region\":\"eu-west-1\",\"registryId\":\"$DEST_ACCOUNT\"}],\"deleteReplication\":{\"enabled\":true}}]}}' | grep InvalidParameterException"
CONFIG=$(rule "[{\"region\":\"eu-west-1\",\"registryId\":\"$DEST_ACCOUNT\"},{\"region\":\"us-east-1\",\"registryId\":\"$B\"}]" \
  '[{"filter":"app","filterType":"PREFIX_MATCH"}]')
check "PutReplicationConfiguration" src_aws put-replication-configuration --replication-configuration "$CONFIG"
check "DescribeRegistry shows the configuration" bash -c \
  "$(declare -f src_aws aws_at eq); VENV='$VENV' SRC_URL='$SRC_URL' SRC_DATA='$SRC_DATA';
   eq \"\$(src_aws describe-registry | jq -c .replicationConfiguration)\" '$(jq -c . <<<"$CONFIG")'"

# --- pushes.
"$WHARF_BIN" admin --data-dir "$SRC_DATA" login-password | crane auth login "$SRC_HOST" -u AWS --password-stdin >/dev/null 2>&1
"$WHARF_BIN" admin --data-dir "$DEST_DATA" login-password | crane auth login "$DEST_HOST" -u AWS --password-stdin >/dev/null 2>&1
python3 "$E2E_LIB_DIR/mkimage.py" --out "$work/img" --layers 3 --layer-size $((128 * 1024)) \
  --docker-tar "$work/image.tar" --tag "app/web:v1" >"$work/img.json"
cp -r "$work/img" "$work/idx"
jq '.manifests |= map(select(.annotations["org.opencontainers.image.ref.name"] == "index"))' \
  "$work/img/index.json" >"$work/idx/index.json"
IDX_DIGEST=$(jq -r .index "$work/img.json")
check "crane push app/web:v1" crane push --insecure "$work/image.tar" "$SRC_HOST/app/web:v1"
check "crane tag app/web:stable" crane tag --insecure "$SRC_HOST/app/web:v1" stable
check "crane push the index app/multi:latest" crane push --insecure "$work/idx" "$SRC_HOST/app/multi:latest"
check "crane push other/skip:v1 (outside the filter)" crane push --insecure "$work/image.tar" "$SRC_HOST/other/skip:v1"
WEB_DIGEST=$(crane digest --insecure "$SRC_HOST/app/web:v1")

# status REPO DIGEST REGISTRY: the replication status towards one destination registry.
status_of() {
  src_aws describe-image-replication-status --repository-name "$1" --image-id "imageDigest=$2" |
    jq -r --arg r "$3" '.replicationStatuses[] | select(.registryId == $r) | "\(.status) \(.failureCode // "")"' | sed 's/ $//'
}
# wait_status REPO DIGEST REGISTRY WANT [SECONDS]
wait_status() {
  local got="" deadline=$((SECONDS + ${5:-60}))
  while ((SECONDS < deadline)); do
    got=$(status_of "$1" "$2" "$3" 2>/dev/null) || got=""
    [[ "$got" == "$4"* ]] && return 0
    sleep 0.5
  done
  echo "status of $1@$2 towards $3: '$got', wanted '$4'"
  return 1
}
same_image() { # same_image REPO REF (":tag" or "@digest"): manifest bytes, digest and blobs equal at both
  local a b d
  a=$(crane manifest --insecure "$SRC_HOST/$1$2") && b=$(crane manifest --insecure "$DEST_HOST/$1$2") || return 1
  [[ "$a" == "$b" ]] || { echo "manifests of $1$2 differ"; return 1; }
  eq "$(crane digest --insecure "$DEST_HOST/$1$2")" "$(crane digest --insecure "$SRC_HOST/$1$2")" || return 1
  for d in $(jq -r '.manifests[]?.digest' <<<"$a"); do
    same_image "$1" "@$d" || return 1
  done
  for d in $(jq -r '(.config.digest // empty), (.layers[]?.digest)' <<<"$a"); do
    cmp -s <(crane blob --insecure "$SRC_HOST/$1@$d") <(crane blob --insecure "$DEST_HOST/$1@$d") ||
      { echo "blob $d differs"; return 1; }
  done
}
same_ref() { same_image "$1" ":$2"; }

check "app/web@v1 COMPLETE towards eu-west-1" wait_status app/web "$WEB_DIGEST" "$DEST_ACCOUNT" COMPLETE
check "app/multi COMPLETE towards eu-west-1" wait_status app/multi "$IDX_DIGEST" "$DEST_ACCOUNT" COMPLETE
check "destination: app/web:v1 byte-identical (manifest, digest, blobs)" same_ref app/web v1
check "destination: app/web:stable too" same_ref app/web stable
check "destination: the index and its children byte-identical" same_ref app/multi latest
check "destination: the index digest" eq "$(crane digest --insecure "$DEST_HOST/app/multi:latest" 2>&1)" "$IDX_DIGEST"
check "destination repository created from its REPLICATION template" bash -c \
  "$(declare -f dest_aws aws_at); VENV='$VENV' DEST_URL='$DEST_URL' DEST_DATA='$DEST_DATA';
   arn=\$(dest_aws describe-repositories --repository-names app/web | jq -r '.repositories[0].repositoryArn');
   dest_aws list-tags-for-resource --resource-arn \"\$arn\" | jq -e '.tags[] | select(.Key==\"replicated\" and .Value==\"yes\")'"
check "other/skip is not replicated (outside the filter)" expect_error NAME_UNKNOWN \
  crane manifest --insecure "$DEST_HOST/other/skip:v1"
check "other/skip has no replication status" bash -c \
  "$(declare -f src_aws aws_at); VENV='$VENV' SRC_URL='$SRC_URL' SRC_DATA='$SRC_DATA';
   src_aws describe-image-replication-status --repository-name other/skip --image-id imageTag=v1 | jq -e '.replicationStatuses == []'"

# Cross-account without B's consent: FAILED, nothing in B.
check "towards B without a registry policy: FAILED" wait_status app/web "$WEB_DIGEST" "$B" "FAILED REPLICATION_NOT_ALLOWED"
check "B holds no app/web" expect_error RepositoryNotFoundException b_aws describe-repositories --repository-names app/web

# B allows the source account: a new push reaches B.
POLICY=$(jq -nc --arg src "$SRC_ACCOUNT" --arg b "$B" '{Version:"2012-10-17",Statement:[{Sid:"Replication",Effect:"Allow",
  Principal:{AWS:"arn:aws:iam::\($src):root"},Action:["ecr:CreateRepository","ecr:ReplicateImage"],
  Resource:"arn:aws:ecr:us-east-1:\($b):repository/*"}]}')
check "B: PutRegistryPolicy allowing the source" b_aws put-registry-policy --policy-text "$POLICY"
python3 "$E2E_LIB_DIR/mkimage.py" --out "$work/img2" --layers 2 --layer-size $((64 * 1024)) \
  --docker-tar "$work/image2.tar" --tag "app/api:v1" >/dev/null
check "crane push app/api:v1" crane push --insecure "$work/image2.tar" "$SRC_HOST/app/api:v1"
API_DIGEST=$(crane digest --insecure "$SRC_HOST/app/api:v1")
check "app/api COMPLETE towards B" wait_status app/api "$API_DIGEST" "$B" COMPLETE
check "app/api COMPLETE towards eu-west-1" wait_status app/api "$API_DIGEST" "$DEST_ACCOUNT" COMPLETE
check "B: app/api:v1 has the same manifest bytes" bash -c \
  "$(declare -f b_aws aws_at eq); VENV='$VENV' SRC_URL='$SRC_URL' work='$work';
   m=\$(b_aws batch-get-image --repository-name app/api --image-ids imageTag=v1 | jq -j '.images[0].imageManifest');
   eq \"sha256:\$(printf '%s' \"\$m\" | sha256sum | cut -d' ' -f1)\" '$API_DIGEST'"
check "B: every blob of app/api is available with its size" bash -c \
  "$(declare -f b_aws aws_at); VENV='$VENV' SRC_URL='$SRC_URL' work='$work';
   m=\$(crane manifest --insecure '$SRC_HOST/app/api:v1');
   for d in \$(jq -r '.config.digest, .layers[].digest' <<<\"\$m\"); do
     size=\$(jq -r --arg d \$d '[.config, .layers[]] | map(select(.digest == \$d))[0].size' <<<\"\$m\");
     b_aws batch-check-layer-availability --repository-name app/api --layer-digests \$d |
       jq -e --argjson s \$size '.layers[0].layerAvailability == \"AVAILABLE\" and .layers[0].layerSize == \$s' >/dev/null ||
       { echo \"\$d not available in B\"; exit 1; }
   done"
check "B: repository created from B's REPLICATION template" bash -c \
  "$(declare -f b_aws aws_at); VENV='$VENV' SRC_URL='$SRC_URL' work='$work';
   arn=\$(b_aws describe-repositories --repository-names app/api | jq -r '.repositories[0].repositoryArn');
   b_aws list-tags-for-resource --resource-arn \"\$arn\" | jq -e '.tags[] | select(.Key==\"replicated\")'"

# --- the destination goes down mid-replication; the source restarts; the destination comes back.
python3 "$E2E_LIB_DIR/mkimage.py" --out "$work/big" --layers 3 --layer-size $((16 * 1024 * 1024)) \
  --docker-tar "$work/big.tar" --tag "app/big:v1" >/dev/null
python3 "$E2E_LIB_DIR/mkimage.py" --out "$work/late" --layers 1 --layer-size $((64 * 1024)) \
  --docker-tar "$work/late.tar" --tag "app/late:v1" >/dev/null
BIG_CONFIG=$(tar -xOf "$work/big.tar" manifest.json | jq -r '.[0].Config' | sed 's#^blobs/sha256/#sha256:#; s#\.json$##; s#^\([0-9a-f]\{64\}\)$#sha256:\1#')
DEST_AUTH="Basic $(printf 'AWS:%s' "$("$WHARF_BIN" admin --data-dir "$DEST_DATA" login-password 2>/dev/null)" | base64 -w0)"
check "crane push app/big:v1 (three 16 MiB layers)" crane push --insecure "$work/big.tar" "$SRC_HOST/app/big:v1"
BIG_DIGEST=$(crane digest --insecure "$SRC_HOST/app/big:v1")
# Kill the destination (SIGKILL) as soon as the first blob of the image (its config) arrived there.
for ((i = 0; i < 400; i++)); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -I -H "Authorization: $DEST_AUTH" "$DEST_URL/v2/app/big/blobs/$BIG_CONFIG") || true
  [[ "$code" == 200 ]] && break
  sleep 0.02
done
kill_dest
if [[ "$(status_of app/big "$BIG_DIGEST" "$DEST_ACCOUNT")" == IN_PROGRESS ]]; then
  pass "destination killed mid-replication (config blob there, image not complete)"
else
  log "note: app/big finished replicating before the kill landed ($(status_of app/big "$BIG_DIGEST" "$DEST_ACCOUNT"))"
fi
check "crane push app/late:v1 while the destination is down" crane push --insecure "$work/late.tar" "$SRC_HOST/app/late:v1"
LATE_DIGEST=$(crane digest --insecure "$SRC_HOST/app/late:v1")
sleep 3
check "app/late is IN_PROGRESS while the destination is down" wait_status app/late "$LATE_DIGEST" "$DEST_ACCOUNT" IN_PROGRESS 5
registry_stop
start_src
pass "source restarted"
sleep 2
check "app/late still IN_PROGRESS after the source restarted" wait_status app/late "$LATE_DIGEST" "$DEST_ACCOUNT" IN_PROGRESS 5
start_dest
restore SRC
log "destination restarted"
check "app/big eventually COMPLETE" wait_status app/big "$BIG_DIGEST" "$DEST_ACCOUNT" COMPLETE 120
check "app/late eventually COMPLETE" wait_status app/late "$LATE_DIGEST" "$DEST_ACCOUNT" COMPLETE 120
check "destination: app/big:v1 byte-identical" same_ref app/big v1
check "destination: app/late:v1 byte-identical" same_ref app/late v1
check "the source retried the replication (log)" grep -q "replicate" "$SRC_LOG"

# --- deletes are not replicated.
check "delete app/web:v1 on the source" src_aws batch-delete-image --repository-name app/web --image-ids "imageDigest=$WEB_DIGEST"
sleep 3
check "the destination still serves app/web:v1" eq "$(crane digest --insecure "$DEST_HOST/app/web:v1" 2>&1)" "$WEB_DIGEST"

# --- backfills: images that existed before a rule selected them are copied on request.
# boto3_json OPERATION JSON-KWARGS: the response as JSON (or {"Error": CODE}).
boto3_json() {
  AWS_SHARED_CREDENTIALS_FILE="$SRC_DATA/credentials" AWS_CONFIG_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
    "$VENV/bin/python" - "$SRC_URL" "$1" "$2" <<'PY'
import json, sys, boto3, botocore.exceptions
ecr = boto3.client("ecr", endpoint_url=sys.argv[1], region_name="us-east-1")
try:
    r = getattr(ecr, sys.argv[2])(**json.loads(sys.argv[3]))
    r.pop("ResponseMetadata", None)
    print(json.dumps(r, default=str))
except botocore.exceptions.ClientError as e:
    print(json.dumps({"Error": e.response["Error"]["Code"]}))
PY
}
DEST_JSON="{\"region\":\"eu-west-1\",\"registryId\":\"$DEST_ACCOUNT\"}"
check "other/skip is still not at the destination" expect_error NAME_UNKNOWN \
  crane digest --insecure "$DEST_HOST/other/skip:v1"
check "a backfill to a destination no rule names is refused" bash -c \
  "$(declare -f boto3_json); VENV='$VENV' SRC_URL='$SRC_URL' SRC_DATA='$SRC_DATA';
   boto3_json start_replication_backfill '{\"destination\":{\"region\":\"eu-west-1\",\"registryId\":\"999999999999\"}}' | grep -q InvalidParameterException"
CONFIG2=$(rule "[$DEST_JSON]" '[{"filter":"app","filterType":"PREFIX_MATCH"},{"filter":"other","filterType":"PREFIX_MATCH"}]')
check "PutReplicationConfiguration now selecting other/ too" src_aws put-replication-configuration --replication-configuration "$CONFIG2"
BACKFILL=$(boto3_json start_replication_backfill "{\"destination\":$DEST_JSON}")
log "StartReplicationBackfill: $BACKFILL"
BACKFILL_ID=$(jq -r '.replicationBackfillId // empty' <<<"$BACKFILL")
check "StartReplicationBackfill answers an id, PREPARING" bash -c \
  "[[ -n '$BACKFILL_ID' ]] && jq -e '.status == \"PREPARING\" and .destination.registryId == \"$DEST_ACCOUNT\"' <<<'$BACKFILL' >/dev/null"
wait_backfill() { # wait_backfill ID: until COMPLETE (60 s)
  local got="" deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    got=$(boto3_json describe_replication_backfill_results "{\"replicationBackfillId\":\"$1\"}")
    [[ "$(jq -r .status <<<"$got")" == COMPLETE ]] && { echo "$got"; return 0; }
    sleep 0.5
  done
  echo "backfill $1: $got"
  return 1
}
RESULTS=$(wait_backfill "$BACKFILL_ID")
log "DescribeReplicationBackfillResults: $RESULTS"
check "the backfill ends COMPLETE" bash -c "jq -e '.status == \"COMPLETE\" and .endedAt != null' <<<'$RESULTS' >/dev/null"
check "its progress counts every selected image, all completed" bash -c \
  "jq -e '.progress.totalReplicationCount >= 4 and .progress.completedReplicationCount == .progress.totalReplicationCount and .progress.failedReplicationCount == 0' <<<'$RESULTS' >/dev/null"
check "its results name other/skip COMPLETE" bash -c \
  "jq -e '[.results[] | select(.repositoryName == \"other/skip\" and .status == \"COMPLETE\")] | length == 1' <<<'$RESULTS' >/dev/null"
check "destination: other/skip:v1 byte-identical after the backfill" same_ref other/skip v1
check "results filtered by FAILED are empty" bash -c \
  "$(declare -f boto3_json); VENV='$VENV' SRC_URL='$SRC_URL' SRC_DATA='$SRC_DATA';
   boto3_json describe_replication_backfill_results '{\"replicationBackfillId\":\"$BACKFILL_ID\",\"resultStatusFilter\":\"FAILED\"}' | jq -e '.results == []' >/dev/null"
check "results page by maxResults with a nextToken" bash -c \
  "$(declare -f boto3_json); VENV='$VENV' SRC_URL='$SRC_URL' SRC_DATA='$SRC_DATA';
   p=\$(boto3_json describe_replication_backfill_results '{\"replicationBackfillId\":\"$BACKFILL_ID\",\"maxResults\":1}');
   t=\$(jq -r .nextToken <<<\"\$p\"); [[ \$(jq '.results | length' <<<\"\$p\") == 1 && -n \"\$t\" && \"\$t\" != null ]] &&
   boto3_json describe_replication_backfill_results \"{\\\"replicationBackfillId\\\":\\\"$BACKFILL_ID\\\",\\\"maxResults\\\":1,\\\"nextToken\\\":\\\"\$t\\\"}\" |
     jq -e --argjson first \"\$p\" '.results[0].repositoryName + .results[0].imageId.imageDigest != (\$first.results[0].repositoryName + \$first.results[0].imageId.imageDigest)' >/dev/null"
check "ListReplicationBackfills shows it COMPLETE" bash -c \
  "$(declare -f boto3_json); VENV='$VENV' SRC_URL='$SRC_URL' SRC_DATA='$SRC_DATA';
   boto3_json list_replication_backfills '{}' | jq -e '[.backfills[] | select(.replicationBackfillId == \"$BACKFILL_ID\" and .status == \"COMPLETE\")] | length == 1' >/dev/null"
check "stopping a COMPLETE backfill: ReplicationBackfillInvalidStatusException" bash -c \
  "$(declare -f boto3_json); VENV='$VENV' SRC_URL='$SRC_URL' SRC_DATA='$SRC_DATA';
   boto3_json stop_replication_backfill '{\"replicationBackfillId\":\"$BACKFILL_ID\"}' | grep -q ReplicationBackfillInvalidStatusException"
check "an unknown backfill id: ReplicationBackfillNotFoundException" bash -c \
  "$(declare -f boto3_json); VENV='$VENV' SRC_URL='$SRC_URL' SRC_DATA='$SRC_DATA';
   boto3_json describe_replication_backfill_results '{\"replicationBackfillId\":\"00000000-0000-4000-8000-000000000000\"}' | grep -q ReplicationBackfillNotFoundException"
STOPPED=$(boto3_json start_replication_backfill "{\"destination\":$DEST_JSON}")
STOPPED_ID=$(jq -r '.replicationBackfillId // empty' <<<"$STOPPED")
check "a second backfill, stopped at once, ends STOPPED (or COMPLETE if it was that quick)" bash -c \
  "$(declare -f boto3_json); VENV='$VENV' SRC_URL='$SRC_URL' SRC_DATA='$SRC_DATA';
   boto3_json stop_replication_backfill '{\"replicationBackfillId\":\"$STOPPED_ID\"}' | jq -e '.status == \"STOPPED\" or .status == \"STOPPING\"' >/dev/null ||
   boto3_json describe_replication_backfill_results '{\"replicationBackfillId\":\"$STOPPED_ID\"}' | jq -e '.status == \"COMPLETE\"' >/dev/null"

check "no panic in either log" bash -c "! grep -h panicked '$SRC_LOG' '$DEST_LOG'"
summary
