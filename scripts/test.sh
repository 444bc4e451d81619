#!/usr/bin/env bash
# scripts/test.sh — the whole Wharf test suite, runnable on a fresh machine.
#
# 1. installs what the tests need (scripts/install-test-deps.sh: skopeo, CNCF Distribution, wrk,
#    crane, oras, syft and the OCI conformance suite, cached under ~/.cache/wharf-tools);
# 2. checks formatting and clippy (warnings are errors);
# 3. runs the Rust unit and in-process HTTP tests (cargo test);
# 4. builds the release binary and runs the end-to-end suites against a real `wharf serve`:
#    the OCI conformance suite, real clients (skopeo, crane, oras), the crash test, the ECR
#    API through boto3 and the AWS CLI (installed into a venv under ~/.cache/wharf-tools), image
#    scanning (tests/e2e/scan.sh: scan on push, findings, SBOMs, Syft cross-check), and the same
#    clients over Wharf's own TLS listener (`serve --tls-self-signed`), encryption at rest
#    (tests/e2e/encryption.sh, with a local-kms), metrics, audit, events, and the web console in
#    Debian's headless chromium through chromedriver (tests/e2e/console.sh, screenshots kept in
#    target/e2e-results/console/);
#    then the conformance and client suites again with blobs in a real Garage (S3), which
#    scripts/garage.sh starts before the Rust tests (the blob-store conformance test uses it too);
#    the KMS client tests run against a local-kms that scripts/local-kms.sh starts;
# 5. with a real PostgreSQL (scripts/postgres.sh): the metadata, core and API tests again with
#    metadata on PostgreSQL, then a two-node cluster (two `wharf serve` over one PostgreSQL
#    database and one Garage bucket, behind nginx round robin): the OCI conformance suite, the
#    clients suite, the ECR suite, the cross-node suite (tests/e2e/cluster.sh), and `wharf
#    migrate-storage` from an embedded install.
# Ends with one line "N passed, N failed" counting the suites; exits non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

export PATH="/usr/local/go/bin:$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Incremental caches double the size of target/ and buy nothing in a run that builds once.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
passed=0
failed=0
failures=()

suite() {
  local name=$1
  shift
  echo "=== $name"
  local start=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    echo "=== $name: ok ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "=== $name: FAILED ($((SECONDS - start)) s)"
  fi
}

# Free space where the build and the servers write: a full disk shows up first as odd compiler
# or linker crashes, so say how much there was.
disk_report() { df -h . "${TMPDIR:-/tmp}" 2>/dev/null | awk 'NR == 1 || !seen[$1]++' || true; }
echo "=== disk at start"
disk_report

if ! tools_bin=$(bash scripts/install-test-deps.sh | tail -n 1); then
  echo "installing test dependencies failed"
  echo "0 passed, 1 failed"
  exit 1
fi
export PATH="$tools_bin:$PATH"

# A throwaway single-node Garage (S3-compatible) for the S3 blob-store tests. Its keys stay in
# G_* shell variables, never exported as AWS_*, so they cannot leak into the ECR suite's clients.
garage_dir=$(mktemp -d "${TMPDIR:-/tmp}/wharf-garage.XXXXXX")
trap 'bash scripts/garage.sh stop "$garage_dir" >/dev/null 2>&1 || true' EXIT
s3_env=()
if bash scripts/garage.sh start "$garage_dir" >/dev/null; then
  eval "$(sed -n 's/^\(S3_ENDPOINT\|S3_REGION\|S3_BUCKET\|AWS_ACCESS_KEY_ID\|AWS_SECRET_ACCESS_KEY\)=\([A-Za-z0-9:/._-]*\)$/G_\1=\2/p' "$garage_dir/env")"
  export WHARF_TEST_S3_REQUIRED=1 WHARF_TEST_S3_ENDPOINT="$G_S3_ENDPOINT" WHARF_TEST_S3_BUCKET="$G_S3_BUCKET" \
    WHARF_TEST_S3_REGION="$G_S3_REGION" WHARF_TEST_S3_ACCESS_KEY_ID="$G_AWS_ACCESS_KEY_ID" \
    WHARF_TEST_S3_SECRET_ACCESS_KEY="$G_AWS_SECRET_ACCESS_KEY"
  s3_env=(WHARF_BLOB_STORE=s3 WHARF_BLOB_STORE_ENDPOINT="$G_S3_ENDPOINT" WHARF_BLOB_STORE_BUCKET="$G_S3_BUCKET"
    WHARF_BLOB_STORE_REGION="$G_S3_REGION" WHARF_BLOB_STORE_ACCESS_KEY_ID="$G_AWS_ACCESS_KEY_ID"
    WHARF_BLOB_STORE_SECRET_ACCESS_KEY="$G_AWS_SECRET_ACCESS_KEY")
else
  failed=$((failed + 1))
  failures+=("start Garage")
  tail -n 20 "$garage_dir/garage.log" 2>/dev/null || true
fi

# A throwaway local-kms (AWS KMS emulator) for the wharf-kms tests.
kms_dir=$(mktemp -d "${TMPDIR:-/tmp}/wharf-kms.XXXXXX")
trap 'bash scripts/garage.sh stop "$garage_dir" >/dev/null 2>&1 || true; bash scripts/local-kms.sh stop "$kms_dir" >/dev/null 2>&1 || true' EXIT
if bash scripts/local-kms.sh start "$kms_dir" >/dev/null; then
  export WHARF_TEST_KMS_REQUIRED=1 \
    WHARF_TEST_KMS_URL="$(sed -n 's/^WHARF_TEST_KMS_URL=\(http:[0-9./:]*\)$/\1/p' "$kms_dir/env")" \
    WHARF_TEST_KMS_REGION="$(sed -n 's/^WHARF_TEST_KMS_REGION=\([a-z0-9-]*\)$/\1/p' "$kms_dir/env")"
else
  failed=$((failed + 1))
  failures+=("start local-kms")
  tail -n 20 "$kms_dir/local-kms.log" 2>/dev/null || true
fi

# A throwaway PostgreSQL for the metadata tests and the cluster suites.
pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/wharf-pg.XXXXXX")
chmod 755 "$pg_dir"
cleanup() {
  bash scripts/garage.sh stop "$garage_dir" >/dev/null 2>&1 || true
  bash scripts/postgres.sh stop "$pg_dir" >/dev/null 2>&1 || true
  bash scripts/local-kms.sh stop "$kms_dir" >/dev/null 2>&1 || true
  [[ "${KEEP_TMP:-0}" == 1 ]] || rm -rf "$garage_dir" "$pg_dir" "$kms_dir"
}
trap cleanup EXIT
pg_url=""
if bash scripts/postgres.sh start "$pg_dir" >/dev/null; then
  pg_url=$(sed -n 's/^DATABASE_URL=\(postgres:[A-Za-z0-9:/@._-]*\)$/\1/p' "$pg_dir/env")
else
  failed=$((failed + 1))
  failures+=("start PostgreSQL")
  tail -n 20 "$pg_dir/postgres.log" 2>/dev/null || true
fi

suite "cargo fmt" cargo fmt --all -- --check
suite "cargo clippy" cargo clippy --workspace --all-targets --locked -- -D warnings
suite "cargo test" cargo test --workspace --locked
if [[ -n "$pg_url" ]]; then
  # The same metadata, core and API tests with every store on PostgreSQL (a database per test);
  # the metadata conformance suite runs on both backends here.
  suite "cargo test, metadata on PostgreSQL" env WHARF_TEST_POSTGRES_URL="$pg_url" \
    WHARF_TEST_POSTGRES_REQUIRED=1 cargo test --locked -p wharf-meta -p wharf-core -p wharf-api
  # Those ~150 databases are done with; give their space back before the release build.
  psql_bin="${PG_BIN_DIR:-$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}/psql"
  "$psql_bin" -X -q -At "$pg_url" -c "SELECT datname FROM pg_database WHERE datname LIKE 'wharf\_test\_%'" 2>/dev/null |
    while read -r db; do "$psql_bin" -X -q "$pg_url" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true; done
fi
if cargo build --release --locked -p wharf; then
  suite "OCI conformance" bash tests/e2e/conformance.sh
  suite "clients (skopeo, crane, oras)" bash tests/e2e/clients.sh
  suite "crash (kill -9 during pushes)" bash tests/e2e/crash.sh
  suite "ECR API (boto3, AWS CLI, docker-login flow)" bash tests/e2e/ecr.sh
  suite "managed signing (signing profiles, sign on push, cosign verify --key)" bash tests/e2e/signing.sh
  suite "pull-through cache (Distribution upstream via toxiproxy: coalescing, tag TTL, outage, credentials)" bash tests/e2e/pull_through.sh
  suite "replication (two regions, cross-account, destination outage, deletes kept)" bash tests/e2e/replication.sh
  suite "image scanning (scan on push, findings, SBOMs, Syft cross-check)" bash tests/e2e/scan.sh
  suite "TLS (serve --tls-self-signed: skopeo, crane, oras, podman, AWS CLI)" bash tests/e2e/tls.sh
  suite "encryption at rest (no plaintext, ranges, local-kms keys, key checks, online sealing, rotation)" \
    bash tests/e2e/encryption.sh
  suite "metrics (/metrics access, scraped by a real Prometheus)" bash tests/e2e/metrics.sh
  suite "audit trail (both surfaces, denials, no secrets, wharf audit filters)" bash tests/e2e/audit.sh
  suite "events (webhook deliveries: EventBridge shapes, HMAC signatures, retry after a 503)" bash tests/e2e/events.sh
  suite "web console in headless chromium (sign-in, views, editors, CSRF, 403; screenshots)" bash tests/e2e/console.sh
  if ((${#s3_env[@]})); then
    # A key prefix per suite and run: a bucket (prefix) belongs to one metadata database.
    run_id=$(date +%s)
    suite "OCI conformance, blobs on Garage (S3)" env "${s3_env[@]}" WHARF_BLOB_STORE_PREFIX="conformance-$run_id" \
      RESULTS_DIR="$PWD/target/e2e-results/s3" bash tests/e2e/conformance.sh
    # With redirects configured, sealed blobs still stream through Wharf (the bucket holds only
    # ciphertext). Then the same with encryption off, as an install from before encryption:
    # clients follow the 307 to a presigned Garage URL. (The conformance suite wants
    # Docker-Content-Digest on the final blob response, which S3 cannot send, so it runs above
    # without redirects.)
    suite "clients, blobs sealed on Garage (S3), redirect configured" env "${s3_env[@]}" \
      WHARF_BLOB_STORE_REDIRECT=true WHARF_BLOB_STORE_PREFIX="clients-sealed-$run_id" \
      RESULTS_DIR="$PWD/target/e2e-results/s3" bash tests/e2e/clients.sh
    suite "clients, plaintext blobs on Garage (S3) via presigned redirects" env "${s3_env[@]}" \
      WHARF_ENCRYPT_BLOBS=false WHARF_BLOB_STORE_REDIRECT=true WHARF_BLOB_STORE_PREFIX="clients-$run_id" \
      RESULTS_DIR="$PWD/target/e2e-results/s3" bash tests/e2e/clients.sh
    if [[ -n "$pg_url" ]]; then
      cluster_env=(env "${s3_env[@]}" WHARF_E2E_PG_URL="$pg_url" E2E_REGISTRY=wharf-cluster)
      suite "OCI conformance, two nodes on PostgreSQL + Garage" "${cluster_env[@]}" \
        RESULTS_DIR="$PWD/target/e2e-results/cluster" bash tests/e2e/conformance.sh
      suite "clients (skopeo, crane, oras), two nodes on PostgreSQL + Garage" "${cluster_env[@]}" \
        RESULTS_DIR="$PWD/target/e2e-results/cluster" bash tests/e2e/clients.sh
      suite "ECR API, two nodes on PostgreSQL + Garage" "${cluster_env[@]}" \
        RESULTS_DIR="$PWD/target/e2e-results/cluster" bash tests/e2e/ecr.sh
      suite "cluster: cross-node pushes, chunked upload, node killed mid-upload" "${cluster_env[@]}" \
        RESULTS_DIR="$PWD/target/e2e-results/cluster" bash tests/e2e/cluster.sh
      suite "wharf migrate-storage: embedded install to PostgreSQL + Garage" env WHARF_E2E_PG_URL="$pg_url" \
        G_S3_ENDPOINT="$G_S3_ENDPOINT" G_S3_REGION="$G_S3_REGION" G_S3_BUCKET="$G_S3_BUCKET" \
        G_AWS_ACCESS_KEY_ID="$G_AWS_ACCESS_KEY_ID" G_AWS_SECRET_ACCESS_KEY="$G_AWS_SECRET_ACCESS_KEY" \
        bash tests/e2e/migrate_storage.sh
    fi
  fi
else
  failed=$((failed + 1))
  failures+=("release build")
fi

echo "=== disk at end"
disk_report
echo
if ((failed)); then
  echo "failed suites: ${failures[*]}"
fi
echo "suites: $passed passed, $failed failed"
echo "$passed passed, $failed failed"
((failed == 0))
