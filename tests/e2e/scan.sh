#!/usr/bin/env bash
# tests/e2e/scan.sh — image scanning end to end: scan on push, findings through the ECR API, SBOMs,
# and Wharf's package inventory cross-checked against Syft's, on an image built from real package
# data on this machine.
#
# 1. Makes sure a venv with boto3/botocore (ecr.sh's pins) and the SBOM validators
#    (cyclonedx-python-lib with its JSON-schema extra, spdx-tools) exists in
#    ${WHARF_TOOLS_DIR:-~/.cache/wharf-tools}/scan-venv, reused while the pins match.
# 2. Builds the image with tests/e2e/mkscanimage.py (os-release + this machine's dpkg status, pip
#    dist-infos, npm node_modules, a `go build` binary, a Maven Central jar; the built inputs are
#    cached in ~/.cache/wharf-tools/scan-fixtures, so only the first run needs the network).
# 3. Starts Wharf with lib.sh's registry_start (fresh data dir).
# 4. Runs tests/e2e/scan_check.py: `wharf vulndb import tests/e2e/fixtures/osv`, a repository with
#    scanOnPush=true, the push, boto3's image_scan_complete waiter, DescribeImageScanFindings equal
#    to tests/e2e/fixtures/scan-expected.json, DescribeImages' imageScanStatus and
#    imageScanFindingsSummary, `wharf scan sbom` in CycloneDX and SPDX (schema-validated), the SBOM
#    referrers, and Syft (registry:HOST/REPO@DIGEST pulled from Wharf with a GetAuthorizationToken
#    password) against Wharf's SBOM: >= 95% of Syft's (name, version) pairs per supported type.
#    Its PASS:/FAIL: lines are this script's; the last line is lib.sh's `N passed, N failed`.
#
# Environment: WHARF_BIN, KEEP_TMP, READY_TIMEOUT (lib.sh); ECR_CASES=REGEX runs only the matching
# cases (they share state, so a later case needs the earlier ones); ECR_CASE_TIMEOUT (300 s per
# case here); SCAN_MIN_RATIO (0.95); SCAN_SKIP_VENV=1 uses the venv as it is; SYFT_BIN (default:
# syft from the tools dir, built by scripts/install-test-deps.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

BOTO3_VERSION="1.44.5"   # the same pins as ecr.sh
BOTOCORE_VERSION="1.44.5"
CYCLONEDX_LIB_VERSION="11.12.0"
SPDX_TOOLS_VERSION="0.8.5"
VENV="${WHARF_TOOLS_DIR:-$HOME/.cache/wharf-tools}/scan-venv"
SYFT_BIN="${SYFT_BIN:-$TOOLS_BIN/syft}"

venv_ok() {
  [[ -x "$VENV/bin/python" ]] || return 1
  "$VENV/bin/python" - "$BOTO3_VERSION" "$BOTOCORE_VERSION" "$CYCLONEDX_LIB_VERSION" "$SPDX_TOOLS_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
want = dict(zip(("boto3", "botocore", "cyclonedx-python-lib", "spdx-tools"), sys.argv[1:]))
sys.exit(0 if all(version(p) == v for p, v in want.items()) else 1)
PY
}

if [[ "${SCAN_SKIP_VENV:-0}" != 1 ]] && ! venv_ok; then
  log "setting up $VENV (boto3 $BOTO3_VERSION, cyclonedx-python-lib $CYCLONEDX_LIB_VERSION, spdx-tools $SPDX_TOOLS_VERSION)"
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    "boto3==$BOTO3_VERSION" "botocore==$BOTOCORE_VERSION" \
    "cyclonedx-python-lib[json-validation]==$CYCLONEDX_LIB_VERSION" "spdx-tools==$SPDX_TOOLS_VERSION" >&2
  venv_ok || { echo "venv $VENV does not have the pinned versions after pip install" >&2; exit 2; }
fi

need python3 jq curl
[[ -x "$SYFT_BIN" ]] || { echo "missing $SYFT_BIN (run scripts/install-test-deps.sh)" >&2; exit 2; }
if [[ "$E2E_REGISTRY" != wharf && "$E2E_REGISTRY" != wharf-cluster ]]; then
  echo "scan.sh tests Wharf's scanning; E2E_REGISTRY=$E2E_REGISTRY has none" >&2
  exit 2
fi

work=$(mktemp_e2e)
# Build (or take from the cache) the image's inputs before the server starts, so a missing tool or
# an unreachable registry fails here, with its own message, rather than inside a case.
log "--- mkscanimage.py"
if python3 "$E2E_LIB_DIR/mkscanimage.py" --out "$work/image" >"$work/image.json"; then
  pass "mkscanimage.py built the image ($(jq -r '.kinds | join(", ")' "$work/image.json"); $(jq -r .digest "$work/image.json"))"
else
  fail "mkscanimage.py built the image"; summary; exit 1
fi

registry_start

log "--- scan_check.py"
rc=0
E2E_REGISTRY="$E2E_REGISTRY" WHARF_ENDPOINT="$REG_URL" WHARF_REGISTRY_HOST="$REG_HOST" WHARF_DATA_DIR="$REG_DATA" WHARF_BIN="$WHARF_BIN" \
  WHARF_E2E_TMP="$work" ECR_RESULTS="$work/results.json" ECR_CASE_TIMEOUT="${ECR_CASE_TIMEOUT:-300}" \
  SCAN_FIXTURES="$E2E_LIB_DIR/fixtures" SYFT_BIN="$SYFT_BIN" \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE="$work/none" AWS_EC2_METADATA_DISABLED=true \
  "$VENV/bin/python" "$E2E_LIB_DIR/scan_check.py" || rc=$?
count_results scan_check.py "$work/results.json" "$rc"

server_survived
mkdir -p "$RESULTS_DIR/scan" && cp "$REG_LOG" "$RESULTS_DIR/scan/server.log" 2>/dev/null || true
cp "$work/syft.json" "$RESULTS_DIR/scan/syft.json" 2>/dev/null || true
summary
