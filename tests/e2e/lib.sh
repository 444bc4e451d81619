# shellcheck shell=bash
# tests/e2e/lib.sh — shared helpers for the end-to-end scripts (source it; do not execute).
#
#   registry_start [DATA_DIR]   start the registry under test on a free 127.0.0.1 port, with a fresh
#                               temp data dir unless DATA_DIR is given; waits (bounded) for GET /v2/.
#                               Sets REG_PID REG_PORT REG_HOST (host:port) REG_URL REG_DATA REG_LOG,
#                               and exports REG_USER REG_PASS REG_AUTH (see registry_login).
#                               E2E_REGISTRY=wharf (default) runs $WHARF_BIN serve;
#                               E2E_REGISTRY=wharf-cluster runs two Wharf nodes behind nginx
#                               (tests/e2e/cluster-serve.sh) on a fresh database of the PostgreSQL
#                               server WHARF_E2E_PG_URL names and the S3 store WHARF_BLOB_STORE_*
#                               names, under a fresh key prefix; DATA/cluster.env names the nodes;
#                               E2E_REGISTRY=distribution runs CNCF Distribution (docker-registry);
#                               E2E_REGISTRY=custom runs E2E_REGISTRY_CMD with {data} and {addr}
#                               replaced, e.g. 'zot serve ...'; it must exec into the server.
#   registry_stop               SIGTERM, wait up to 15 s, then SIGKILL.
#   registry_kill9              SIGKILL (crash simulation), reaps the process.
#   wait_ready URL PID          poll URL/v2/ until 200 or 401 (bounded by READY_TIMEOUT seconds).
#   registry_login              (called by registry_start) wharf: REG_USER=AWS, REG_PASS=`wharf admin
#                               login-password`, REG_AUTH="Basic base64(AWS:pass)" (the Authorization
#                               value), checked with GET /v2/; custom: from E2E_REGISTRY_USER/_PASS if
#                               set; distribution (no auth): all empty.
#   reg_curl ARGS...            curl plus `Authorization: $REG_AUTH` when REG_AUTH is set (exported
#                               with export -f, so `bash -c` snippets can use it too).
#   pass NAME / fail NAME [DETAIL] / check NAME CMD...   count results.
#   summary                     print "N passed, N failed" on its own line; return 1 on any failure.
#   mktemp_e2e                  a temp dir under E2E_TMP_ROOT, removed at exit (unless KEEP_TMP=1).
# Scripts must `set -euo pipefail` themselves before sourcing.

E2E_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$E2E_LIB_DIR/../.." && pwd)"
WHARF_BIN="${WHARF_BIN:-$REPO_ROOT/target/release/wharf}"
DISTRIBUTION_BIN="${DISTRIBUTION_BIN:-/usr/bin/docker-registry}"
E2E_REGISTRY="${E2E_REGISTRY:-wharf}"
READY_TIMEOUT="${READY_TIMEOUT:-30}"
RESULTS_DIR="${RESULTS_DIR:-$REPO_ROOT/target/e2e-results}"
TOOLS_BIN="${WHARF_TOOLS_DIR:-$HOME/.cache/wharf-tools}/bin"
PATH="$TOOLS_BIN:/usr/local/go/bin:$PATH"
export PATH

E2E_PASSED=0
E2E_FAILED=0
# All temp dirs live under one root made here (not in a subshell), so cleanup finds them all.
E2E_TMP_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/wharf-e2e.XXXXXX")
REG_PID=""
REG_PORT=""
REG_HOST=""
REG_URL=""
REG_DATA=""
REG_LOG=""
REG_USER=""
REG_PASS=""
REG_AUTH=""
export REG_USER REG_PASS REG_AUTH

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

mktemp_e2e() { mktemp -d "$E2E_TMP_ROOT/tmp.XXXXXX"; }

e2e_cleanup() {
  registry_stop || true
  if [[ "${KEEP_TMP:-0}" != 1 ]]; then
    rm -rf "$E2E_TMP_ROOT"
  else
    log "keeping temp dir $E2E_TMP_ROOT"
  fi
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

need() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || { echo "missing tool: $t (run scripts/install-test-deps.sh)" >&2; exit 2; }
  done
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_ready URL PID: poll URL/v2/ until it answers 200 (or 401: auth required, but up); fail early
# if PID dies.
wait_ready() {
  local url=$1 pid=$2 deadline=$((SECONDS + READY_TIMEOUT)) code
  while ((SECONDS < deadline)); do
    code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 2 "$url/v2/" 2>/dev/null) || true
    if [[ "$code" == 200 || "$code" == 401 ]]; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log "registry process $pid exited before becoming ready"; return 1
    fi
    sleep 0.1
  done
  log "registry at $url not ready after ${READY_TIMEOUT}s"
  return 1
}

# distribution_config DATA_DIR PORT: write a minimal CNCF Distribution config, print its path.
distribution_config() {
  local data=$1 port=$2 cfg="$1/config.yml"
  mkdir -p "$data/storage"
  cat >"$cfg" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $data/storage
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
YAML
  echo "$cfg"
}

# registry_start [DATA_DIR] [PORT]
registry_start() {
  REG_DATA=${1:-}
  if [[ -z "$REG_DATA" ]]; then REG_DATA="$(mktemp_e2e)/data"; fi
  mkdir -p "$REG_DATA"
  REG_PORT=${2:-$(free_port)}
  REG_HOST="127.0.0.1:$REG_PORT"
  REG_URL="http://$REG_HOST"
  REG_LOG="$(dirname "$REG_DATA")/server-$(basename "$REG_DATA").log"
  case "$E2E_REGISTRY" in
    wharf)
      [[ -x "$WHARF_BIN" ]] || { echo "wharf binary not found at $WHARF_BIN (build it or set WHARF_BIN)" >&2; return 2; }
      if [[ ! -e "$REG_DATA/metadata.db" ]]; then
        # As in ECR, pushes need an existing repository or a CREATE_ON_PUSH template: the suites
        # push to many names, so a catch-all template lets pushes create them.
        "$WHARF_BIN" admin --data-dir "$REG_DATA" create-template --prefix ROOT --applied-for CREATE_ON_PUSH >>"$REG_LOG" 2>&1
      fi
      "$WHARF_BIN" serve --data-dir "$REG_DATA" --listen "$REG_HOST" >>"$REG_LOG" 2>&1 &
      ;;
    wharf-cluster)
      [[ -x "$WHARF_BIN" ]] || { echo "wharf binary not found at $WHARF_BIN (build it or set WHARF_BIN)" >&2; return 2; }
      [[ -n "${WHARF_E2E_PG_URL:-}" ]] || { echo "E2E_REGISTRY=wharf-cluster needs WHARF_E2E_PG_URL" >&2; return 2; }
      [[ "${WHARF_BLOB_STORE:-}" == s3 ]] || { echo "E2E_REGISTRY=wharf-cluster needs WHARF_BLOB_STORE=s3 (nodes share one bucket)" >&2; return 2; }
      if [[ ! -e "$REG_DATA/cluster-database" ]]; then
        local db="wharf_e2e_$(date +%s)_$RANDOM"
        psql "$WHARF_E2E_PG_URL" -qAt -c "CREATE DATABASE $db" >>"$REG_LOG" 2>&1 || { echo "creating database $db failed" >&2; return 1; }
        echo "$db" >"$REG_DATA/cluster-database"
        echo "$db" >"$REG_DATA/cluster-prefix"
      fi
      local base=$WHARF_E2E_PG_URL query=""
      if [[ "$base" == *\?* ]]; then query="?${base#*\?}"; base=${base%%\?*}; fi
      WHARF_METADATA_URL="${base%/*}/$(cat "$REG_DATA/cluster-database")$query"
      WHARF_BLOB_STORE_PREFIX=$(cat "$REG_DATA/cluster-prefix")
      export WHARF_METADATA_URL WHARF_BLOB_STORE_PREFIX
      if [[ ! -e "$REG_DATA/template-created" ]]; then
        "$WHARF_BIN" admin --data-dir "$REG_DATA" create-template --prefix ROOT --applied-for CREATE_ON_PUSH >>"$REG_LOG" 2>&1
        touch "$REG_DATA/template-created"
      fi
      WHARF_BIN="$WHARF_BIN" bash "$E2E_LIB_DIR/cluster-serve.sh" "$REG_DATA" "$REG_HOST" >>"$REG_LOG" 2>&1 &
      ;;
    distribution)
      local cfg
      cfg=$(distribution_config "$REG_DATA" "$REG_PORT")
      "$DISTRIBUTION_BIN" serve "$cfg" >>"$REG_LOG" 2>&1 &
      ;;
    custom)
      local cmd=${E2E_REGISTRY_CMD:?set E2E_REGISTRY_CMD for E2E_REGISTRY=custom}
      cmd=${cmd//\{data\}/$REG_DATA}
      cmd=${cmd//\{addr\}/$REG_HOST}
      bash -c "exec $cmd" >>"$REG_LOG" 2>&1 &
      ;;
    *) echo "unknown E2E_REGISTRY=$E2E_REGISTRY (wharf|wharf-cluster|distribution|custom)" >&2; return 2 ;;
  esac
  REG_PID=$!
  if ! wait_ready "$REG_URL" "$REG_PID"; then
    tail -n 30 "$REG_LOG" >&2 || true
    registry_stop || true
    return 1
  fi
  if ! registry_login; then
    registry_stop || true
    return 1
  fi
  log "$E2E_REGISTRY ready at $REG_URL (pid $REG_PID, data $REG_DATA${REG_USER:+, user $REG_USER})"
}

# registry_login: set and export REG_USER REG_PASS REG_AUTH for the running registry.
registry_login() {
  REG_USER="" REG_PASS="" REG_AUTH=""
  case "$E2E_REGISTRY" in
    wharf | wharf-cluster)
      # A token for the administrator created on first start; valid 12 h, survives restarts.
      REG_PASS=$("$WHARF_BIN" admin --data-dir "$REG_DATA" login-password 2>>"$REG_LOG") || REG_PASS=""
      if [[ -z "$REG_PASS" ]]; then
        log "wharf admin login-password failed (see $REG_LOG)"; tail -n 5 "$REG_LOG" >&2 || true; return 1
      fi
      REG_USER=AWS
      ;;
    custom) REG_USER=${E2E_REGISTRY_USER:-} REG_PASS=${E2E_REGISTRY_PASS:-} ;;
  esac
  if [[ -n "$REG_USER$REG_PASS" ]]; then
    REG_AUTH="Basic $(printf '%s:%s' "$REG_USER" "$REG_PASS" | base64 -w0)"
  fi
  export REG_USER REG_PASS REG_AUTH
  local code
  code=$(reg_curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$REG_URL/v2/" 2>&1) || true
  if [[ "$code" != 200 ]]; then
    log "GET /v2/ ${REG_AUTH:+with credentials }-> $code (expected 200)"; return 1
  fi
}

# reg_curl ARGS...: curl, plus the Authorization header when the registry needs one.
reg_curl() {
  if [[ -n "${REG_AUTH:-}" ]]; then
    curl -H "Authorization: $REG_AUTH" "$@"
  else
    curl "$@"
  fi
}
export -f reg_curl

registry_stop() {
  [[ -n "$REG_PID" ]] || return 0
  local pid=$REG_PID i
  REG_PID=""
  kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "registry $pid ignored SIGTERM for 15s; killing"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

registry_kill9() {
  [[ -n "$REG_PID" ]] || return 0
  kill -KILL "$REG_PID" 2>/dev/null || true
  wait "$REG_PID" 2>/dev/null || true
  REG_PID=""
}

pass() { E2E_PASSED=$((E2E_PASSED + 1)); echo "PASS: $1"; }
fail() {
  E2E_FAILED=$((E2E_FAILED + 1))
  echo "FAIL: $1${2:+ — $2}"
}
# check NAME CMD...: run CMD (output captured; shown only on failure), count pass/fail.
check() {
  local name=$1 out rc=0
  shift
  out=$("$@" 2>&1) || rc=$?
  if ((rc == 0)); then
    pass "$name"
  else
    fail "$name" "exit $rc"
    [[ -n "$out" ]] && printf '%s\n' "$out" | tail -n 20 | sed 's/^/    /'
  fi
  return 0
}

# count_results NAME FILE RC: adds the counts a Python case runner (ecr/harness.py) wrote to FILE;
# a runner that crashed before reporting, or exited RC != 0 with no failed case, is a failure.
count_results() {
  local name=$1 file=$2 rc=$3
  if [[ -s "$file" ]]; then
    E2E_PASSED=$((E2E_PASSED + $(jq .passed "$file")))
    E2E_FAILED=$((E2E_FAILED + $(jq .failed "$file")))
    ((rc == 0)) || (($(jq .failed "$file") > 0)) || fail "$name exited $rc with no failed case"
  else
    fail "$name crashed before reporting (exit $rc)"
  fi
}

# server_survived: the registry is still running and its log holds no panic.
server_survived() {
  if ! kill -0 "$REG_PID" 2>/dev/null; then
    fail "wharf still running after the suite" "see $REG_LOG"
    tail -n 30 "$REG_LOG" >&2 || true
  else
    pass "wharf still running after the suite"
  fi
  if grep -q "panicked" "$REG_LOG"; then
    fail "no panic in the server log" "$(grep -m3 panicked "$REG_LOG")"
  else
    pass "no panic in the server log"
  fi
}

summary() {
  echo "$E2E_PASSED passed, $E2E_FAILED failed"
  ((E2E_FAILED == 0))
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
