#!/usr/bin/env bash
# tests/e2e/console.sh — the web console in a real browser (Debian's chromium + chromium-driver).
#
# 1. Starts Wharf (lib.sh); makes a user `viewer` allowed only ecr:DescribeRepositories.
# 2. Pushes two plain images (mkimage.py docker tarballs, crane) to console/plain:v1 and :v2.
# 3. console_browser.py pushes a two-platform index with buildx-style attestation manifests and
#    a signature referrer to console/multi over /v2/, then drives headless chromium through
#    chromedriver's WebDriver JSON API: sign-in (wrong secret refused), cookie attributes,
#    repositories, grouped images, push commands, image detail, lifecycle policy (invalid, saved,
#    preview), repository policy (invalid, saved), a forged cross-origin POST refused, usage,
#    sign-out, and the 403 page for `viewer`.
# Screenshots: $RESULTS_DIR/console/*.png (CI keeps them as artifacts), with the server log.
#
# Environment: WHARF_BIN, KEEP_TMP, READY_TIMEOUT (lib.sh); CHROMIUM_BIN (/usr/bin/chromium),
# CHROMEDRIVER_BIN (chromedriver).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

need crane curl python3 jq "${CHROMEDRIVER_BIN:-chromedriver}"
[[ -x "${CHROMIUM_BIN:-/usr/bin/chromium}" ]] || { echo "missing chromium (run scripts/install-test-deps.sh)" >&2; exit 2; }
[[ "$E2E_REGISTRY" == wharf ]] || { echo "console.sh signs in with a single Wharf node's keys" >&2; exit 2; }

work=$(mktemp_e2e)
shots="$RESULTS_DIR/console"
rm -rf "$shots"
mkdir -p "$shots"
registry_start
R=$REG_HOST
ADMIN_KEY=$(sed -n 's/^aws_access_key_id = //p' "$REG_DATA/credentials")
ADMIN_SECRET=$(sed -n 's/^aws_secret_access_key = //p' "$REG_DATA/credentials")

admin() { "$WHARF_BIN" admin --data-dir "$REG_DATA" "$@" 2>>"$REG_LOG"; }
admin create-user viewer >/dev/null
cat >"$work/viewer.json" <<'JSON'
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:DescribeRepositories","Resource":"*"}]}
JSON
admin attach-policy viewer --name describe-only --file "$work/viewer.json" >/dev/null
viewer=$(admin create-access-key viewer)
VIEWER_KEY=$(sed -n 's/^aws_access_key_id = //p' <<<"$viewer")
VIEWER_SECRET=$(sed -n 's/^aws_secret_access_key = //p' <<<"$viewer")

export DOCKER_CONFIG="$work/docker"
mkdir -p "$DOCKER_CONFIG"
printf '%s' "$REG_PASS" | crane auth login "$R" -u AWS --password-stdin >/dev/null 2>&1
for v in 1 2; do
  python3 "$E2E_LIB_DIR/mkimage.py" --out "$work/src$v" --layers 1 --layer-size $((8 * 1024 * v)) \
    --docker-tar "$work/plain$v.tar" --tag "console/plain:v$v" >/dev/null
  check "crane push console/plain:v$v" crane push --insecure "$work/plain$v.tar" "$R/console/plain:v$v"
  # Distinct push times, so the lifecycle preview's "older" image is certain.
  sleep 1.1
done

rc=0
python3 "$E2E_LIB_DIR/console_browser.py" --url "$REG_URL" --host "$R" --auth "$REG_AUTH" \
  --admin "$ADMIN_KEY:$ADMIN_SECRET" --viewer "$VIEWER_KEY:$VIEWER_SECRET" \
  --shots "$shots" --results "$work/results.json" || rc=$?
count_results "console_browser.py" "$work/results.json" "$rc"
check "screenshots were saved" bash -c "ls '$shots'/*.png >/dev/null && test \$(ls '$shots'/*.png | wc -l) -ge 10"
# No secret reaches the log, whatever the sign-ins did.
if grep -qF "$ADMIN_SECRET" "$REG_LOG" || grep -qF "$VIEWER_SECRET" "$REG_LOG"; then
  fail "no secret access key in the server log"
else
  pass "no secret access key in the server log"
fi
server_survived
cp "$REG_LOG" "$shots/server.log" 2>/dev/null || true
summary
