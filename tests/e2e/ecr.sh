#!/usr/bin/env bash
# tests/e2e/ecr.sh — the Amazon ECR API end to end: boto3, the AWS CLI and OCI clients against a
# fresh `wharf serve`.
#
# 1. Makes sure a Python venv with pinned awscli (v1) and boto3/botocore exists in
#    ${WHARF_TOOLS_DIR:-~/.cache/wharf-tools}/venv (created with `python3 -m venv`, reused when the
#    pinned versions are already installed).
# 2. Starts Wharf with lib.sh's registry_start (fresh data dir: the first start writes the
#    administrator's keys to DATA/credentials).
# 3. Runs tests/e2e/ecr_api.py: every implemented ECR operation and its error paths through boto3,
#    paginators, the layer API, GetDownloadUrlForLayer, `aws ecr get-login-password` with crane /
#    skopeo / oras, identity and repository policies, cross-account and anonymous pulls, revoked
#    tokens and SigV4 failures. Its PASS:/FAIL: lines are this script's; their counts are added to
#    lib.sh's, and the last line is lib.sh's `N passed, N failed`.
# 4. Runs tests/e2e/ecr_lifecycle.py the same way (its own results file): lifecycle policies,
#    previews, `wharf lifecycle run` and the archive storage class.
# 5. Runs tests/e2e/ecr_scan.py the same way: image scanning (registry and repository scanning
#    configuration, scan on push, StartImageScan, the waiter, BASIC and ENHANCED findings with
#    paging, continuous rescans after `wharf vulndb import` of tests/e2e/fixtures/osv-ecr/).
# 6. Runs tests/e2e/ecr_public_api.py the same way: ECR Public's 23 operations through boto3,
#    `aws ecr-public get-login-password` + crane push under the registry alias, anonymous pulls
#    of public repositories by crane/skopeo, and private repositories staying private.
#
# Environment: WHARF_BIN, KEEP_TMP, READY_TIMEOUT (lib.sh); ECR_CASES=REGEX runs only the matching
# cases; ECR_SUITES="api lifecycle scan public" (the default: all) picks the Python suites; ECR_CASE_TIMEOUT (90 s per case); ECR_SKIP_VENV=1 uses the venv as it is.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

AWSCLI_VERSION="1.46.3"   # awscli 1.46 vendors its own botocore, so it does not pin boto3's
BOTO3_VERSION="1.44.5"
BOTOCORE_VERSION="1.44.5"
VENV="${WHARF_TOOLS_DIR:-$HOME/.cache/wharf-tools}/venv"

venv_ok() {
  [[ -x "$VENV/bin/python" && -x "$VENV/bin/aws" ]] || return 1
  "$VENV/bin/python" - "$AWSCLI_VERSION" "$BOTO3_VERSION" "$BOTOCORE_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
want = dict(zip(("awscli", "boto3", "botocore"), sys.argv[1:]))
sys.exit(0 if all(version(p) == v for p, v in want.items()) else 1)
PY
}

if [[ "${ECR_SKIP_VENV:-0}" != 1 ]] && ! venv_ok; then
  log "setting up $VENV (awscli $AWSCLI_VERSION, boto3 $BOTO3_VERSION, botocore $BOTOCORE_VERSION)"
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    "awscli==$AWSCLI_VERSION" "boto3==$BOTO3_VERSION" "botocore==$BOTOCORE_VERSION" >&2
  venv_ok || { echo "venv $VENV does not have the pinned versions after pip install" >&2; exit 2; }
fi
log "$("$VENV/bin/aws" --version 2>&1); boto3 $("$VENV/bin/python" -c 'import boto3; print(boto3.__version__)')"

need skopeo crane oras curl python3
if [[ "$E2E_REGISTRY" != wharf && "$E2E_REGISTRY" != wharf-cluster ]]; then
  echo "ecr.sh tests Wharf's ECR API; E2E_REGISTRY=$E2E_REGISTRY has none" >&2
  exit 2
fi

work=$(mktemp_e2e)
# A local-kms for KMS-encrypted repositories (every node of a cluster inherits the settings).
bash "$REPO_ROOT/scripts/local-kms.sh" start "$work/kms" >/dev/null || { echo "local-kms did not start" >&2; exit 1; }
trap 'bash "$REPO_ROOT/scripts/local-kms.sh" stop "$work/kms" >/dev/null 2>&1 || true; e2e_cleanup' EXIT
WHARF_E2E_KMS_URL=$(sed -n 's/^WHARF_TEST_KMS_URL=//p' "$work/kms/env")
WHARF_E2E_KMS_REGION=$(sed -n 's/^WHARF_TEST_KMS_REGION=//p' "$work/kms/env")
export WHARF_E2E_KMS_URL WHARF_E2E_KMS_REGION WHARF_KMS_ENDPOINT="$WHARF_E2E_KMS_URL" \
  WHARF_KMS_REGION="$WHARF_E2E_KMS_REGION" WHARF_KMS_ACCESS_KEY_ID=AKIDLOCALKMS WHARF_KMS_SECRET_ACCESS_KEY=local-kms-secret
registry_start
[[ -s "$REG_DATA/credentials" ]] || { fail "first start wrote $REG_DATA/credentials"; summary; exit 1; }
pass "first start wrote the administrator's credentials file"

# The real CLI against the shared-credentials file the first start wrote (as the README shows).
if out=$(AWS_SHARED_CREDENTIALS_FILE="$REG_DATA/credentials" AWS_CONFIG_FILE=/dev/null AWS_DEFAULT_REGION=us-east-1 \
  "$VENV/bin/aws" ecr describe-repositories --endpoint-url "$REG_URL" --output json 2>&1) &&
  jq -e '.repositories | type == "array"' <<<"$out" >/dev/null; then
  pass "aws ecr describe-repositories with AWS_SHARED_CREDENTIALS_FILE=DATA/credentials"
else
  fail "aws ecr describe-repositories with AWS_SHARED_CREDENTIALS_FILE=DATA/credentials" "$(tail -n 3 <<<"$out")"
fi

# lib.sh's wharf start creates a catch-all ROOT CREATE_ON_PUSH template so the other suites can push
# anywhere; ECR refuses pushes to missing repositories, which these tests check, so remove it here
# (through the API: that is DeleteRepositoryCreationTemplate's first test).
if out=$(AWS_SHARED_CREDENTIALS_FILE="$REG_DATA/credentials" AWS_CONFIG_FILE=/dev/null AWS_DEFAULT_REGION=us-east-1 \
  "$VENV/bin/aws" ecr delete-repository-creation-template --prefix ROOT --endpoint-url "$REG_URL" 2>&1); then
  pass "delete lib.sh's ROOT CREATE_ON_PUSH template (aws ecr delete-repository-creation-template)"
else
  fail "delete lib.sh's ROOT CREATE_ON_PUSH template (aws ecr delete-repository-creation-template)" "$(tail -n 3 <<<"$out")"
fi

suite_on() { [[ " ${ECR_SUITES:-api lifecycle scan public} " == *" $1 "* ]]; }

if suite_on api; then
  log "--- ecr_api.py"
  rc=0
  E2E_REGISTRY="$E2E_REGISTRY" WHARF_ENDPOINT="$REG_URL" WHARF_REGISTRY_HOST="$REG_HOST" WHARF_DATA_DIR="$REG_DATA" WHARF_BIN="$WHARF_BIN" \
    WHARF_E2E_TMP="$work" AWS_CLI="$VENV/bin/aws" ECR_RESULTS="$work/results.json" \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE="$work/none" AWS_EC2_METADATA_DISABLED=true \
    "$VENV/bin/python" "$E2E_LIB_DIR/ecr_api.py" || rc=$?
  count_results ecr_api.py "$work/results.json" "$rc"
fi

if suite_on lifecycle; then
  log "--- ecr_lifecycle.py"
  rc=0
  E2E_REGISTRY="$E2E_REGISTRY" WHARF_ENDPOINT="$REG_URL" WHARF_REGISTRY_HOST="$REG_HOST" WHARF_DATA_DIR="$REG_DATA" WHARF_BIN="$WHARF_BIN" \
    WHARF_E2E_TMP="$work" AWS_CLI="$VENV/bin/aws" ECR_RESULTS="$work/lifecycle-results.json" \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE="$work/none" AWS_EC2_METADATA_DISABLED=true \
    "$VENV/bin/python" "$E2E_LIB_DIR/ecr_lifecycle.py" || rc=$?
  count_results ecr_lifecycle.py "$work/lifecycle-results.json" "$rc"
fi

if suite_on scan; then
  log "--- ecr_scan.py"
  rc=0
  E2E_REGISTRY="$E2E_REGISTRY" WHARF_ENDPOINT="$REG_URL" WHARF_REGISTRY_HOST="$REG_HOST" WHARF_DATA_DIR="$REG_DATA" WHARF_BIN="$WHARF_BIN" \
    WHARF_E2E_TMP="$work" AWS_CLI="$VENV/bin/aws" ECR_RESULTS="$work/scan-results.json" \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE="$work/none" AWS_EC2_METADATA_DISABLED=true \
    "$VENV/bin/python" "$E2E_LIB_DIR/ecr_scan.py" || rc=$?
  count_results ecr_scan.py "$work/scan-results.json" "$rc"
fi

if suite_on public; then
  log "--- ecr_public_api.py"
  rc=0
  E2E_REGISTRY="$E2E_REGISTRY" WHARF_ENDPOINT="$REG_URL" WHARF_REGISTRY_HOST="$REG_HOST" WHARF_DATA_DIR="$REG_DATA" WHARF_BIN="$WHARF_BIN" \
    WHARF_E2E_TMP="$work" AWS_CLI="$VENV/bin/aws" ECR_RESULTS="$work/public-results.json" \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE="$work/none" AWS_EC2_METADATA_DISABLED=true \
    "$VENV/bin/python" "$E2E_LIB_DIR/ecr_public_api.py" || rc=$?
  count_results ecr_public_api.py "$work/public-results.json" "$rc"
fi

server_survived
mkdir -p "$RESULTS_DIR/ecr" && cp "$REG_LOG" "$RESULTS_DIR/ecr/server.log" 2>/dev/null || true
summary
