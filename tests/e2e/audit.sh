#!/usr/bin/env bash
# tests/e2e/audit.sh — the audit trail end to end: `wharf audit` after real clients.
#
# 1. Starts Wharf (lib.sh); creates a user `dev` with no policy and an access key for it.
# 2. Pushes with crane (PutImage, CompleteLayerUpload), copies to another repository (MountBlob),
#    deletes by digest (BatchDeleteImage); drives ECR mutations with the AWS CLI as the
#    administrator (CreateRepository, SetRepositoryPolicy, PutImageTagMutability,
#    DeleteRepository, GetAuthorizationToken); and makes denied requests: ECR calls as `dev`
#    (AccessDeniedException), a pull as `dev` on /v2/ (403), an unknown access key
#    (UnrecognizedClientException), a wrong /v2/ password (401).
# 3. Reads `wharf audit --format json` and checks each record's CloudTrail fields (eventName,
#    eventSource, userIdentity ARN, sourceIPAddress, userAgent, requestParameters,
#    responseElements, errorCode).
# 4. Checks no secret (access-key secrets, login tokens, Authorization header values, the token
#    GetAuthorizationToken returned) appears in the CLI's output or anywhere in the database files.
# 5. Checks the filters (--event-name, --user, --since, --until, --limit) and the table format,
#    and that records survive a restart.
#
# Environment: WHARF_BIN, KEEP_TMP, READY_TIMEOUT (lib.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

VENV="${WHARF_TOOLS_DIR:-$HOME/.cache/wharf-tools}/venv"
need crane curl jq python3
[[ -x "$VENV/bin/aws" ]] || { echo "missing $VENV/bin/aws (run tests/e2e/ecr.sh once or scripts/install-test-deps.sh)" >&2; exit 2; }
[[ "$E2E_REGISTRY" == wharf ]] || { echo "audit.sh reads a single Wharf node's database" >&2; exit 2; }

work=$(mktemp_e2e)
registry_start
R=$REG_HOST
ADMIN_KEY=$(sed -n 's/^aws_access_key_id = //p' "$REG_DATA/credentials")
ADMIN_SECRET=$(sed -n 's/^aws_secret_access_key = //p' "$REG_DATA/credentials")
"$WHARF_BIN" admin --data-dir "$REG_DATA" create-user dev >/dev/null 2>>"$REG_LOG"
dev_key=$("$WHARF_BIN" admin --data-dir "$REG_DATA" create-access-key dev 2>>"$REG_LOG")
DEV_KEY=$(sed -n 's/^aws_access_key_id = //p' <<<"$dev_key")
DEV_SECRET=$(sed -n 's/^aws_secret_access_key = //p' <<<"$dev_key")
DEV_PASS=$("$WHARF_BIN" admin --data-dir "$REG_DATA" login-password dev 2>>"$REG_LOG")

aws_as() {
  local key=$1 secret=$2
  shift 2
  AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_DEFAULT_REGION=us-east-1 \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    "$VENV/bin/aws" ecr --endpoint-url "$REG_URL" --output json "$@"
}
denied() { ! "$@" >"$work/denied.out" 2>&1 && grep -q "$DENIAL" "$work/denied.out"; }

# --- /v2/ mutations with crane.
export DOCKER_CONFIG="$work/docker"
mkdir -p "$DOCKER_CONFIG"
printf '%s' "$REG_PASS" | crane auth login "$R" -u AWS --password-stdin >/dev/null 2>&1
python3 "$E2E_LIB_DIR/mkimage.py" --out "$work/src" --layers 2 --layer-size $((32 * 1024)) \
  --docker-tar "$work/image.tar" --tag "audit/app:v1" >/dev/null
check "crane push" crane push --insecure "$work/image.tar" "$R/audit/app:v1"
DIGEST=$(crane digest --insecure "$R/audit/app:v1")
check "crane copy (cross-repository mounts)" crane copy --insecure "$R/audit/app:v1" "$R/audit/copy:v1"
check "crane delete by digest" crane delete --insecure "$R/audit/copy@$DIGEST"

# --- ECR mutations as the administrator.
check "CreateRepository" aws_as "$ADMIN_KEY" "$ADMIN_SECRET" create-repository --repository-name audit/ecr
check "SetRepositoryPolicy" aws_as "$ADMIN_KEY" "$ADMIN_SECRET" set-repository-policy --repository-name audit/ecr \
  --policy-text '{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage"]}]}'
check "PutImageTagMutability" aws_as "$ADMIN_KEY" "$ADMIN_SECRET" put-image-tag-mutability \
  --repository-name audit/ecr --image-tag-mutability IMMUTABLE
check "DescribeRepositories (a read: not recorded)" aws_as "$ADMIN_KEY" "$ADMIN_SECRET" describe-repositories
ISSUED=$(aws_as "$ADMIN_KEY" "$ADMIN_SECRET" get-authorization-token | jq -r '.authorizationData[0].authorizationToken')
check "GetAuthorizationToken issued a token" test -n "$ISSUED"
ISSUED_PASS=$(base64 -d <<<"$ISSUED" | cut -d: -f2-)
check "DeleteRepository" aws_as "$ADMIN_KEY" "$ADMIN_SECRET" delete-repository --repository-name audit/ecr --force

# --- Denied requests.
DENIAL=AccessDenied
check "dev: CreateRepository is denied" denied aws_as "$DEV_KEY" "$DEV_SECRET" create-repository --repository-name audit/nope
check "dev: DescribeRepositories of audit/app is denied" denied aws_as "$DEV_KEY" "$DEV_SECRET" describe-repositories --repository-names audit/app
DENIAL=UnrecognizedClient
check "an unknown access key is refused" denied aws_as AKIAUNKNOWNKEY00000 "$DEV_SECRET" create-repository --repository-name audit/nope
http() { curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }
check "dev: a /v2/ pull is 403" test "$(http -u "AWS:$DEV_PASS" "$REG_URL/v2/audit/app/manifests/v1")" = 403
check "a wrong /v2/ password is 401" test "$(http -u "AWS:not-a-token" -X PUT "$REG_URL/v2/audit/app/manifests/v2")" = 401
check "an anonymous push is 401" test "$(http -X PUT "$REG_URL/v2/audit/app/manifests/v3")" = 401

# The writer appends in batches beside the requests: give it a moment.
sleep 1
audit() { "$WHARF_BIN" audit --data-dir "$REG_DATA" "$@" 2>>"$REG_LOG"; }
audit --format json --limit 1000 >"$work/audit.json"
records() { jq -c "[.Records[] | select($1)]" "$work/audit.json"; }
has() { # has NAME FILTER [MIN]
  local n
  n=$(jq "[.Records[] | select($2)] | length" "$work/audit.json")
  if ((n >= ${3:-1})); then pass "$1 ($n)"; else fail "$1" "no record matches $2"; fi
}
ADMIN_ARN='arn:aws:iam::'
has "PutImage from /v2/ with repository, tag, digest, user, IP and user agent" \
  ".eventName == \"PutImage\" and .eventSource == \"registry.wharf\" and .requestParameters.repositoryName == \"audit/app\"
   and .requestParameters.imageTag == \"v1\" and .responseElements.digest == \"$DIGEST\"
   and (.userIdentity.arn | endswith(\":user/admin\")) and .sourceIPAddress == \"127.0.0.1\"
   and (.userAgent | test(\"go-containerregistry|crane\")) and .errorCode == null and .requestID != null"
has "CompleteLayerUpload records with layer digests" \
  '.eventName == "CompleteLayerUpload" and (.requestParameters.layerDigest | startswith("sha256:")) and .responseElements.status == 201' 2
has "MountBlob records naming the source repository" \
  '.eventName == "MountBlob" and .requestParameters.mountFrom == "audit/app" and .requestParameters.repositoryName == "audit/copy"'
has "BatchDeleteImage from /v2/ by digest" \
  ".eventName == \"BatchDeleteImage\" and .requestParameters.imageDigest == \"$DIGEST\" and .responseElements.status == 202"
has "CreateRepository from ECR with the repository ARN" \
  '.eventName == "CreateRepository" and .eventSource == "ecr.amazonaws.com" and .errorCode == null
   and .responseElements.repository.repositoryArn == "arn:aws:ecr:us-east-1:\(.recipientAccountId):repository/audit/ecr"
   and .userIdentity.accessKeyId != null and (.userAgent | test("aws-cli")) and .requestID != null'
has "SetRepositoryPolicy with its policy text" \
  '.eventName == "SetRepositoryPolicy" and (.requestParameters.policyText | test("BatchGetImage"))'
has "PutImageTagMutability" '.eventName == "PutImageTagMutability" and .requestParameters.imageTagMutability == "IMMUTABLE"'
has "DeleteRepository" '.eventName == "DeleteRepository" and .requestParameters.force == true'
has "GetAuthorizationToken without the token" '.eventName == "GetAuthorizationToken" and .responseElements == null'
check "reads are not recorded" test "$(records '.eventName == "DescribeRepositories" and .errorCode == null' | jq length)" = 0
has "dev's denied CreateRepository" \
  '.eventName == "CreateRepository" and .errorCode == "AccessDeniedException" and (.userIdentity.arn | endswith(":user/dev"))
   and .requestParameters.repositoryName == "audit/nope" and (.errorMessage | length > 0)'
has "dev's denied DescribeRepositories (a denied read is recorded)" \
  '.eventName == "DescribeRepositories" and .errorCode == "AccessDeniedException"'
has "the unknown access key's refusal, naming the key" \
  '.errorCode == "UnrecognizedClientException" and .userIdentity.accessKeyId == "AKIAUNKNOWNKEY00000"'
has "dev's denied /v2/ pull" \
  '.eventSource == "registry.wharf" and .eventName == "BatchGetImage" and .errorCode == "AccessDenied" and (.userIdentity.arn | endswith(":user/dev"))'
has "the wrong /v2/ password" '.eventSource == "registry.wharf" and .eventName == "PutImage" and .errorCode == "Unauthorized" and .requestParameters.imageTag == "v2"'
has "the anonymous push" '.eventName == "PutImage" and .errorCode == "Unauthorized" and .requestParameters.imageTag == "v3"'
check "the /v2/ handshake (anonymous GET /v2/) is not a denial" \
  test "$(records '.eventName == "Ping"' | jq length)" = 0

# --- No secret anywhere. Access-key secrets are stored (SigV4 needs them, in access_keys) but
# never in the trail; login tokens and Authorization header values are stored nowhere.
TOKENS=("$REG_PASS" "$DEV_PASS" "$ISSUED" "$ISSUED_PASS"
  "$(printf 'AWS:%s' "$REG_PASS" | base64 -w0)" "$(printf 'AWS:%s' "$DEV_PASS" | base64 -w0)")
SECRETS=("$ADMIN_SECRET" "$DEV_SECRET" "${TOKENS[@]}")
absent() { # absent NAME_OF_ARRAY FILE...: none of the array's strings occurs in the files
  local -n strings=$1
  shift
  local s f
  for s in "${strings[@]}"; do
    [[ ${#s} -ge 16 ]] || { echo "secret too short to search for: ${#s}"; return 1; }
    for f in "$@"; do
      if grep -qaF -- "$s" "$f"; then echo "a secret occurs in $f"; return 1; fi
    done
  done
}
no_secrets() { absent SECRETS "$@"; }
check "no secret in wharf audit --format json" no_secrets "$work/audit.json"
audit --format table --limit 1000 >"$work/audit.txt"
check "no secret in wharf audit --format table" no_secrets "$work/audit.txt"
python3 - "$REG_DATA/metadata.db" "$work/audit-rows.txt" <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
with open(sys.argv[2], "w") as out:
    for row in db.execute("SELECT * FROM audit_events"):
        out.write("\t".join("" if v is None else str(v) for v in row) + "\n")
PY
check "the audit_events table holds the records" test "$(wc -l <"$work/audit-rows.txt")" -ge 15
check "no secret in the audit_events table" no_secrets "$work/audit-rows.txt"
check "no login token or Authorization value in the database files" absent TOKENS "$REG_DATA"/metadata.db*

# --- Filters.
n_of() { jq '.Records | length'; }
out=$(audit --format json --event-name PutImage)
check "--event-name PutImage returns only PutImage" \
  bash -c "jq -e '(.Records | length) >= 3 and all(.Records[]; .eventName == \"PutImage\")' <<<\"\$1\"" _ "$out"
out=$(audit --format json --user dev)
check "--user dev returns only dev's records" \
  bash -c "jq -e '(.Records | length) >= 3 and all(.Records[]; .userIdentity.arn | endswith(\":user/dev\"))' <<<\"\$1\"" _ "$out"
out=$(audit --format json --user "$(jq -r '[.Records[] | select(.userIdentity.arn != null and (.userIdentity.arn | endswith(":user/admin")))][0].userIdentity.arn' "$work/audit.json")")
check "--user ARN returns only that principal's records" \
  bash -c "jq -e '(.Records | length) >= 5 and all(.Records[]; .userIdentity.arn | endswith(\":user/admin\"))' <<<\"\$1\"" _ "$out"
check "--since 1h returns records" test "$(audit --format json --since 1h --limit 1000 | n_of)" -ge 15
check "--until in the past returns none" test "$(audit --format json --until 2000-01-01T00:00:00Z | n_of)" = 0
check "--since in the future returns none" test "$(audit --format json --since "$(($(date +%s) + 3600))" | n_of)" = 0
check "--limit 2 returns two, newest first" \
  bash -c "jq -e '(.Records | length) == 2 and .Records[0].eventTime >= .Records[1].eventTime' <<<\"\$1\"" _ "$(audit --format json --limit 2)"
check "--event-name with --user combine" \
  bash -c "jq -e '(.Records | length) >= 1 and all(.Records[]; .eventName == \"CreateRepository\" and .errorCode == \"AccessDeniedException\")' <<<\"\$1\"" _ \
  "$(audit --format json --event-name CreateRepository --user dev)"
check "the table has a header and rows" bash -c "head -n 1 '$work/audit.txt' | grep -q EVENT && grep -q PutImage '$work/audit.txt'"
check "a bad --since is refused" bash -c "! '$WHARF_BIN' audit --data-dir '$REG_DATA' --since yesterday 2>/dev/null"

# --- Durable across a restart (records written before the process exits).
before=$(audit --format json --limit 10000 | n_of)
printf '%s' "$REG_PASS" | crane auth login "$R" -u AWS --password-stdin >/dev/null 2>&1
check "crane push just before the restart" crane push --insecure "$work/image.tar" "$R/audit/late:v1"
registry_stop
after=$(audit --format json --limit 10000 | n_of)
check "records of the last requests survive a graceful stop ($before -> $after)" test "$after" -gt "$before"
check "the late push is recorded" \
  bash -c "jq -e 'any(.Records[]; .eventName == \"PutImage\" and .requestParameters.repositoryName == \"audit/late\")' <<<\"\$1\"" _ \
  "$(audit --format json --event-name PutImage)"

summary
