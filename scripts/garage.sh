#!/usr/bin/env bash
# garage.sh — run a throwaway single-node Garage (S3-compatible object store) for the tests.
#
#   scripts/garage.sh start <dir>   start Garage on 127.0.0.1 with its state, config and log under
#                                   <dir>, wait until it serves, assign a single-node layout,
#                                   create an access key and the bucket, write <dir>/env and print it
#   scripts/garage.sh stop <dir>    stop the Garage started in <dir> (its files stay for inspection)
#
# `start` always begins from an empty cluster: it deletes <dir>/meta and <dir>/data left by an
# earlier, stopped run (it refuses while one is still running in <dir>).
#
# <dir>/env holds plain KEY=value lines, with no quotes, for `set -a; . <dir>/env; set +a`:
#   GARAGE_PID, GARAGE_CONFIG (for `garage -c "$GARAGE_CONFIG" ...`), GARAGE_ADMIN_ENDPOINT,
#   GARAGE_ADMIN_TOKEN, S3_ENDPOINT=http://127.0.0.1:<port>, S3_REGION, S3_BUCKET,
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION and AWS_DEFAULT_REGION (= S3_REGION).
# The key may read, write and own the bucket (owner: bucket settings such as CORS or lifecycle).
#
# Settings (environment):
#   GARAGE_BIN            the garage binary (default: `garage` on PATH, else the one that
#                         scripts/install-test-deps.sh builds into ${WHARF_TOOLS_DIR:-~/.cache/wharf-tools}/bin)
#   GARAGE_S3_PORT        S3 API port    (default 3900)
#   GARAGE_RPC_PORT       RPC port       (default 3901)
#   GARAGE_ADMIN_PORT     admin API port (default 3903)
#       A port given explicitly must be free or start fails; a default port that is taken is
#       replaced by a free one that the kernel picks.
#   GARAGE_S3_REGION      default garage
#   GARAGE_BUCKET         default wharf
#   GARAGE_START_TIMEOUT  seconds to wait for Garage to come up (default 30)
#   RUST_LOG              Garage's log filter (default garage=info)
# Logs go to <dir>/garage.log; this script's own messages go to stderr, the env file to stdout.
set -euo pipefail

log() { echo "garage.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

usage() { echo "usage: $0 start|stop <dir>" >&2; exit 2; }
(($# == 2)) || usage
cmd=$1
mkdir -p "$2"
DIR=$(cd "$2" && pwd)
CONF="$DIR/garage.toml"
PIDFILE="$DIR/garage.pid"
LOG="$DIR/garage.log"
ENVFILE="$DIR/env"

# running_pid: print the pid of the Garage server started in DIR, if it is still running.
running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid=$(cat "$PIDFILE")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled pid: the process must be a garage server using our config.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$CONF" || return 1
  echo "$pid"
}

do_stop() {
  local pid i
  if ! pid=$(running_pid); then
    log "no Garage running in $DIR"
    rm -f "$PIDFILE"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "Garage (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
  log "stopped Garage (pid $pid)"
}

case "$cmd" in
  stop) do_stop; exit 0 ;;
  start) ;;
  *) usage ;;
esac

# ---- start ------------------------------------------------------------------------------------
TOOLS_BIN="${WHARF_TOOLS_DIR:-$HOME/.cache/wharf-tools}/bin"
if [[ -n "${GARAGE_BIN:-}" ]]; then
  [[ -x "$GARAGE_BIN" ]] || die "GARAGE_BIN=$GARAGE_BIN is not an executable file"
elif command -v garage >/dev/null 2>&1; then
  GARAGE_BIN=$(command -v garage)
elif [[ -x "$TOOLS_BIN/garage" ]]; then
  GARAGE_BIN="$TOOLS_BIN/garage"
else
  die "garage not found (not on PATH, not in $TOOLS_BIN); run scripts/install-test-deps.sh or set GARAGE_BIN"
fi
command -v python3 >/dev/null 2>&1 || die "python3 is required (to find free ports)"
for t in curl setsid timeout; do command -v $t >/dev/null 2>&1 || die "$t is required"; done

if pid=$(running_pid); then
  die "a Garage is already running in $DIR (pid $pid); run: $0 stop $DIR"
fi

TIMEOUT="${GARAGE_START_TIMEOUT:-30}"
REGION="${GARAGE_S3_REGION:-garage}"
BUCKET="${GARAGE_BUCKET:-wharf}"
KEY_NAME="wharf-test"

# port_free PORT: true when 127.0.0.1:PORT can be bound right now.
port_free() {
  python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
}
# kernel_port: a port that was free a moment ago.
kernel_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# pick_port VAR DEFAULT: an explicit $VAR must be free; a busy default (or, on a retry, any
# default) is replaced by a port the kernel picks. Ports in TAKEN are avoided.
pick_port() {
  local var=$1 def=$2 p
  if [[ -n "${!var:-}" ]]; then
    p=${!var}
    [[ "$p" =~ ^[0-9]+$ ]] || die "$var=$p is not a port number"
    port_free "$p" || die "$var=$p: 127.0.0.1:$p is already in use"
  else
    p=$def
    ((ATTEMPT == 1)) || p=$(kernel_port)
    while [[ " $TAKEN " == *" $p "* ]] || ! port_free "$p"; do p=$(kernel_port); done
  fi
  echo "$p"
}

# start_once: one attempt, run in a subshell. Exits 0 when ready, 75 on a port conflict (another
# process bound a port between our check and Garage's bind), 1 on any other failure.
start_once() {
  TAKEN=""
  S3_PORT=$(pick_port GARAGE_S3_PORT 3900)
  TAKEN="$S3_PORT"
  RPC_PORT=$(pick_port GARAGE_RPC_PORT 3901)
  TAKEN="$TAKEN $RPC_PORT"
  ADMIN_PORT=$(pick_port GARAGE_ADMIN_PORT 3903)
  ((S3_PORT != RPC_PORT && S3_PORT != ADMIN_PORT && RPC_PORT != ADMIN_PORT)) ||
    die "ports must differ (s3 $S3_PORT, rpc $RPC_PORT, admin $ADMIN_PORT)"

  hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
  RPC_SECRET=$(hex 32)
  ADMIN_TOKEN=$(hex 32)

  rm -rf "$DIR/meta" "$DIR/data"
  rm -f "$ENVFILE" "$PIDFILE"
  mkdir -p "$DIR/meta" "$DIR/data"
  (
    umask 077
    cat >"$CONF" <<EOF
# Written by scripts/garage.sh: a throwaway single-node Garage for the tests.
metadata_dir = "$DIR/meta"
data_dir = "$DIR/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$RPC_PORT"
rpc_public_addr = "127.0.0.1:$RPC_PORT"
rpc_secret = "$RPC_SECRET"

[s3_api]
s3_region = "$REGION"
api_bind_addr = "127.0.0.1:$S3_PORT"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:$ADMIN_PORT"
admin_token = "$ADMIN_TOKEN"
EOF
  )

  log "starting $("$GARAGE_BIN" --version 2>/dev/null | head -1 || echo "$GARAGE_BIN") in $DIR (s3 $S3_PORT, rpc $RPC_PORT, admin $ADMIN_PORT)"
  # setsid: its own session, so the server outlives this script and ignores the caller's ^C.
  RUST_LOG="${RUST_LOG:-garage=info}" NO_COLOR=1 setsid "$GARAGE_BIN" -c "$CONF" server </dev/null >"$LOG" 2>&1 &
  PID=$!
  disown "$PID" 2>/dev/null || true
  echo "$PID" >"$PIDFILE"

  DEADLINE=$((SECONDS + TIMEOUT))
  fail() {
    local rc=1
    if grep -q 'Address already in use' "$LOG" 2>/dev/null; then rc=75; fi
    log "ERROR: $*"
    if kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" 2>/dev/null || true; fi
    rm -f "$PIDFILE"
    log "last lines of $LOG:"
    tail -n 25 "$LOG" >&2 || true
    exit $rc
  }
  # Garage keeps running when its S3 or admin listener cannot bind, so watch the log for that.
  alive() {
    kill -0 "$PID" 2>/dev/null || fail "garage exited during startup"
    if grep -q 'Address already in use' "$LOG"; then fail "a port was taken before Garage could bind it"; fi
  }
  # Each CLI call is bounded, so a wedged server cannot hang the caller.
  g() { timeout 10 "$GARAGE_BIN" -c "$CONF" "$@"; }
  # retry WHAT CMD...: run CMD until it succeeds, failing at the deadline. Output is discarded.
  retry() {
    local what=$1 out
    shift
    while :; do
      alive
      if out=$("$@" 2>&1); then return 0; fi
      if ((SECONDS >= DEADLINE)); then
        log "last attempt at '$*': $out"
        fail "Garage did not come up within ${TIMEOUT}s ($what)"
      fi
      sleep 0.2
    done
  }

  # 1. RPC up (the node key exists once the server has initialised its metadata dir).
  retry "RPC on 127.0.0.1:$RPC_PORT" g status
  NODE_ID=$(g node id -q 2>/dev/null) || fail "garage node id failed"
  NODE_ID=${NODE_ID%%@*}
  [[ "$NODE_ID" =~ ^[0-9a-f]{64}$ ]] || fail "unexpected output from garage node id: '$NODE_ID'"

  # 2. Single-node layout: zone dc1, 1 GB capacity (a weight for placement, not a quota).
  g layout assign -z dc1 -c 1G "$NODE_ID" >/dev/null || fail "garage layout assign failed"
  g layout apply --version 1 >/dev/null || fail "garage layout apply failed"

  # 3. The cluster reports healthy once the new layout is in force.
  retry "admin /health" curl -fsS --max-time 2 "http://127.0.0.1:$ADMIN_PORT/health"

  # 4. Key and bucket.
  g key create "$KEY_NAME" >/dev/null || fail "garage key create failed"
  AK=$(g key info "$KEY_NAME" --key-id) || fail "garage key info failed"
  SK=$(g key info "$KEY_NAME" --secret-key) || fail "garage key info failed"
  [[ "$AK" =~ ^GK[0-9a-f]+$ && "$SK" =~ ^[0-9a-f]+$ ]] || fail "unexpected key output: '$AK'"
  g bucket create "$BUCKET" >/dev/null || fail "garage bucket create $BUCKET failed"
  g bucket allow --read --write --owner "$BUCKET" --key "$KEY_NAME" >/dev/null ||
    fail "garage bucket allow failed"

  # 5. The S3 API answers (an unsigned request gets an S3 error document, any HTTP status).
  retry "S3 API on 127.0.0.1:$S3_PORT" curl -sS --max-time 2 -o /dev/null "http://127.0.0.1:$S3_PORT/"

  (
    umask 077
    cat >"$ENVFILE" <<EOF
GARAGE_PID=$PID
GARAGE_CONFIG=$CONF
GARAGE_ADMIN_ENDPOINT=http://127.0.0.1:$ADMIN_PORT
GARAGE_ADMIN_TOKEN=$ADMIN_TOKEN
S3_ENDPOINT=http://127.0.0.1:$S3_PORT
S3_REGION=$REGION
S3_BUCKET=$BUCKET
AWS_ACCESS_KEY_ID=$AK
AWS_SECRET_ACCESS_KEY=$SK
AWS_REGION=$REGION
AWS_DEFAULT_REGION=$REGION
EOF
  )
  log "Garage ready after ${SECONDS}s (pid $PID); env in $ENVFILE, log in $LOG"
  cat "$ENVFILE"
}

for ATTEMPT in 1 2 3; do
  # Not `(start_once) || ...`: bash ignores set -e inside a subshell used as a condition.
  set +e
  (
    set -e
    start_once
  )
  rc=$?
  set -e
  ((rc == 75)) || exit "$rc"
  if [[ -n "${GARAGE_S3_PORT:-}${GARAGE_RPC_PORT:-}${GARAGE_ADMIN_PORT:-}" ]]; then
    die "a port given in GARAGE_*_PORT is in use"
  fi
  log "port conflict; retrying with other ports"
done
die "gave up after 3 port conflicts"
