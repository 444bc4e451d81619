#!/usr/bin/env bash
# scripts/test.sh — the whole Wharf test suite, runnable on a fresh machine.
#
# 1. installs what the tests need (scripts/install-test-deps.sh: skopeo, CNCF Distribution, wrk,
#    crane, oras and the OCI conformance suite, cached under ~/.cache/wharf-tools);
# 2. checks formatting and clippy (warnings are errors);
# 3. runs the Rust unit and in-process HTTP tests (cargo test);
# 4. builds the release binary and runs the end-to-end suites against a real `wharf serve`:
#    the OCI conformance suite, real clients (skopeo, crane, oras), the crash test, and the ECR
#    API through boto3 and the AWS CLI (installed into a venv under ~/.cache/wharf-tools).
# Ends with one line "N passed, N failed" counting the suites; exits non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

export PATH="/usr/local/go/bin:$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
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

if ! tools_bin=$(bash scripts/install-test-deps.sh | tail -n 1); then
  echo "installing test dependencies failed"
  echo "0 passed, 1 failed"
  exit 1
fi
export PATH="$tools_bin:$PATH"

suite "cargo fmt" cargo fmt --all -- --check
suite "cargo clippy" cargo clippy --workspace --all-targets --locked -- -D warnings
suite "cargo test" cargo test --workspace --locked
if cargo build --release --locked -p wharf; then
  suite "OCI conformance" bash tests/e2e/conformance.sh
  suite "clients (skopeo, crane, oras)" bash tests/e2e/clients.sh
  suite "crash (kill -9 during pushes)" bash tests/e2e/crash.sh
  suite "ECR API (boto3, AWS CLI, docker-login flow)" bash tests/e2e/ecr.sh
else
  failed=$((failed + 1))
  failures+=("release build")
fi

echo
if ((failed)); then
  echo "failed suites: ${failures[*]}"
fi
echo "suites: $passed passed, $failed failed"
echo "$passed passed, $failed failed"
((failed == 0))
