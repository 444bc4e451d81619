#!/usr/bin/env bash
# tests/e2e/conformance.sh — run the OCI distribution-spec conformance suite against a fresh registry.
#
# Starts `wharf serve` (or E2E_REGISTRY=distribution) on a free 127.0.0.1 port with a temp data dir
# and runs the suite built by scripts/install-test-deps.sh with every API group enabled: pull, push
# (incl. chunked uploads, cross-repo mount, anonymous mount), content discovery (tag list, referrers)
# and content management (tag/manifest/blob deletes), over all data shapes the suite knows (image,
# index, nested index, artifacts, subject, sha512, empty blob, ...).
# This suite version is configured through a YAML file (written below) and OCI_* variables named
# after its fields (OCI_REGISTRY, OCI_TLS, OCI_REPO1, OCI_REPO2, OCI_API_*, OCI_DATA_*); the old
# OCI_ROOT_URL/OCI_NAMESPACE/OCI_TEST_* names are deprecated. Any OCI_* variable you export
# overrides the file, e.g. OCI_VERSION=dev for the stricter 1.1+dev profile, or
# OCI_FILTER_TEST="OCI Conformance Test/sha256 blobs" to run one branch.
# Credentials (wharf: AWS + `wharf admin login-password`, from lib.sh) go to the suite as
# OCI_USERNAME/OCI_PASSWORD in its environment, not in the config file copied to the reports; the
# suite answers a 401 `WWW-Authenticate: Basic` with them (and caches the header per host).
# Reports (results.yaml, junit.xml, report.html) and the server log go to
# ${RESULTS_DIR:-target/e2e-results}/conformance. Exits non-zero if any test fails.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

CONFORMANCE_BIN="${CONFORMANCE_BIN:-$(command -v conformance || true)}"
[[ -x "$CONFORMANCE_BIN" ]] || { echo "conformance binary not found (run scripts/install-test-deps.sh)" >&2; exit 2; }
need curl

out="$RESULTS_DIR/conformance"
rm -rf "$out"
mkdir -p "$out"

registry_start

work=$(mktemp_e2e)
cat >"$work/oci-conformance.yaml" <<YAML
version: "1.1"
registry: $REG_HOST
tls: disabled
repo1: conformance/repo1
repo2: conformance/repo2
resultsDir: $out
logging: warn
apis:
  ping: true
  pull: true
  push: true
  blobs:
    atomic: true
    delete: true
    mountAnonymous: true
    digestHeader: true
    uploadCancel: true
  manifests:
    atomic: true
    delete: true
    digestHeader: true
    tagParam: true
  tags:
    atomic: true
    delete: true
    list: true
  referrer: true
data:
  image: true
  index: true
  indexList: true
  artifact: true
  subject: true
  subjectMissing: true
  artifactList: true
  subjectList: true
  dataField: true
  nondistributable: true
  customFields: true
  noLayers: true
  emptyBlob: true
  sha512: true
YAML
cp "$work/oci-conformance.yaml" "$out/"

if [[ -n "$REG_USER$REG_PASS" ]]; then
  export OCI_USERNAME="${OCI_USERNAME:-$REG_USER}" OCI_PASSWORD="${OCI_PASSWORD:-$REG_PASS}"
fi

log "running conformance suite against $E2E_REGISTRY at $REG_URL${OCI_USERNAME:+ as $OCI_USERNAME}"
rc=0
# Run from the temp dir so a stray ./oci-conformance.yaml in the caller's cwd cannot leak in.
# The suite is bounded by its own request timeouts; `timeout` bounds the whole run anyway.
(cd "$work" && OCI_CONFIGURATION="$work/oci-conformance.yaml" timeout "${CONFORMANCE_TIMEOUT:-900}" \
  "$CONFORMANCE_BIN") >"$out/output.txt" 2>&1 || rc=$?
cat "$out/output.txt"
registry_stop
cp "$REG_LOG" "$out/server.log" 2>/dev/null || true

# The suite exits 0 on configuration errors, so also require a junit.xml with zero failures/errors.
counts=$(python3 -c '
import sys, xml.etree.ElementTree as ET
t = f = 0
for s in ET.parse(sys.argv[1]).getroot().iter("testsuite"):
    t += int(s.get("tests", 0)); f += int(s.get("failures", 0)) + int(s.get("errors", 0))
print(t, f)' "$out/junit.xml" 2>/dev/null || true)
read -r tests failures <<<"${counts:-0 x}"
if ((rc == 0)) && [[ "${tests:-0}" -gt 0 && "${failures:-x}" == 0 ]]; then
  echo "conformance: PASS ($E2E_REGISTRY: $tests tests, 0 failures; reports in $out)"
  exit 0
fi
echo "conformance: FAIL ($E2E_REGISTRY: exit $rc, ${tests:-?} tests, ${failures:-?} failures; reports in $out)" >&2
echo "failed tests:" >&2
grep -o 'msg="failed test" name="[^"]*"' "$out/output.txt" | sed 's/.*name=/  /' | head -n 100 >&2 || true
exit 1
