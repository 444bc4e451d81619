#!/usr/bin/env bash
# local-kms.sh — run a throwaway local-kms (github.com/nsmithuk/local-kms, an AWS KMS emulator)
# for the wharf-kms tests.
#
#   scripts/local-kms.sh start <dir>   start local-kms with its key database and log under <dir>,
#                                      wait until it answers, write <dir>/env and print it
#   scripts/local-kms.sh stop <dir>    stop the local-kms started in <dir> (its files stay)
#
# `start` always begins with no keys: it deletes <dir>/data left by an earlier, stopped run (it
# refuses while one is still running in <dir>).
#
# <dir>/env holds plain KEY=value lines, with no quotes, for `set -a; . <dir>/env; set +a`:
#   LOCAL_KMS_PID, WHARF_TEST_KMS_URL=http://127.0.0.1:<port>, WHARF_TEST_KMS_REGION,
#   WHARF_TEST_KMS_ACCOUNT_ID.
# local-kms accepts any credentials and does not check signatures; the tests sign with dummy ones.
#
# local-kms listens on all interfaces (":<port>"; it has no bind-address setting). With no
# LOCAL_KMS_PORT it is started with PORT=0, so the kernel picks a free port and there is no race;
# the port is read back from its log ("Local KMS started on 0.0.0.0:<port>").
#
# Settings (environment):
#   LOCAL_KMS_BIN            the binary (default: `local-kms` on PATH, else the one that
#                            scripts/install-test-deps.sh builds into ${WHARF_TOOLS_DIR:-~/.cache/wharf-tools}/bin)
#   LOCAL_KMS_PORT           port to listen on (default: one the kernel picks)
#   LOCAL_KMS_REGION         KMS_REGION of the emulator, the region in its key ARNs (default eu-west-2)
#   LOCAL_KMS_ACCOUNT_ID     KMS_ACCOUNT_ID, the account in its key ARNs (default 111122223333)
#   LOCAL_KMS_START_TIMEOUT  seconds to wait for it to answer (default 20)
# Logs go to <dir>/local-kms.log; this script's own messages go to stderr, the env file to stdout.
set -euo pipefail

log() { echo "local-kms.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

usage() { echo "usage: $0 start|stop <dir>" >&2; exit 2; }
(($# == 2)) || usage
cmd=$1
mkdir -p "$2"
DIR=$(cd "$2" && pwd)
PIDFILE="$DIR/local-kms.pid"
LOG="$DIR/local-kms.log"
ENVFILE="$DIR/env"

# running_pid: print the pid of the local-kms started in DIR, if it is still running.
running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid=$(cat "$PIDFILE")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled pid: ours runs with DIR as its working directory.
  [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == "$DIR" ]] || return 1
  echo "$pid"
}

do_stop() {
  local pid i
  if ! pid=$(running_pid); then
    log "no local-kms running in $DIR"
    rm -f "$PIDFILE"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "local-kms (pid $pid) ignored SIGTERM for 5 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
  log "stopped local-kms (pid $pid)"
}

case "$cmd" in
  stop) do_stop; exit 0 ;;
  start) ;;
  *) usage ;;
esac

# ---- start ------------------------------------------------------------------------------------
TOOLS_BIN="${WHARF_TOOLS_DIR:-$HOME/.cache/wharf-tools}/bin"
if [[ -n "${LOCAL_KMS_BIN:-}" ]]; then
  [[ -x "$LOCAL_KMS_BIN" ]] || die "LOCAL_KMS_BIN=$LOCAL_KMS_BIN is not an executable file"
elif command -v local-kms >/dev/null 2>&1; then
  LOCAL_KMS_BIN=$(command -v local-kms)
elif [[ -x "$TOOLS_BIN/local-kms" ]]; then
  LOCAL_KMS_BIN="$TOOLS_BIN/local-kms"
else
  die "local-kms not found (not on PATH, not in $TOOLS_BIN); run scripts/install-test-deps.sh or set LOCAL_KMS_BIN"
fi
for t in curl setsid; do command -v $t >/dev/null 2>&1 || die "$t is required"; done

if pid=$(running_pid); then
  die "a local-kms is already running in $DIR (pid $pid); run: $0 stop $DIR"
fi

PORT_WANTED="${LOCAL_KMS_PORT:-0}"
[[ "$PORT_WANTED" =~ ^[0-9]+$ ]] || die "LOCAL_KMS_PORT=$PORT_WANTED is not a port number"
REGION="${LOCAL_KMS_REGION:-eu-west-2}"
ACCOUNT="${LOCAL_KMS_ACCOUNT_ID:-111122223333}"
TIMEOUT="${LOCAL_KMS_START_TIMEOUT:-20}"

rm -rf "$DIR/data"
rm -f "$ENVFILE" "$PIDFILE"
mkdir -p "$DIR/data"

log "starting $LOCAL_KMS_BIN in $DIR (port ${LOCAL_KMS_PORT:-picked by the kernel}, region $REGION)"
# setsid: its own session, so the server outlives this script and ignores the caller's ^C.
# KMS_SEED_PATH points at a file that does not exist: no seeded keys.
(
  cd "$DIR"
  PORT="$PORT_WANTED" KMS_REGION="$REGION" KMS_ACCOUNT_ID="$ACCOUNT" \
    KMS_DATA_PATH="$DIR/data" KMS_SEED_PATH="$DIR/no-seed.yaml" \
    exec setsid "$LOCAL_KMS_BIN" </dev/null >"$LOG" 2>&1
) &
PID=$!
disown "$PID" 2>/dev/null || true
echo "$PID" >"$PIDFILE"

fail() {
  log "ERROR: $*"
  if kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" 2>/dev/null || true; fi
  rm -f "$PIDFILE"
  log "last lines of $LOG:"
  tail -n 25 "$LOG" >&2 || true
  exit 1
}

DEADLINE=$((SECONDS + TIMEOUT))
PORT=""
while :; do
  kill -0 "$PID" 2>/dev/null || fail "local-kms exited during startup"
  if [[ -z "$PORT" ]]; then
    # The log may not exist yet: the server's shell creates it when it gets scheduled.
    PORT=$(sed -n 's/.*Local KMS started on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$LOG" 2>/dev/null | head -1 || true)
  fi
  # ListKeys answers 200 once the server is up (any signature is accepted).
  if [[ -n "$PORT" ]] && curl -fsS --max-time 2 -o /dev/null -X POST \
    -H 'Content-Type: application/x-amz-json-1.1' -H 'X-Amz-Target: TrentService.ListKeys' \
    -d '{}' "http://127.0.0.1:$PORT/" 2>/dev/null; then
    break
  fi
  ((SECONDS < DEADLINE)) || fail "local-kms did not answer within ${TIMEOUT}s"
  sleep 0.1
done

(
  umask 077
  cat >"$ENVFILE" <<EOF2
LOCAL_KMS_PID=$PID
WHARF_TEST_KMS_URL=http://127.0.0.1:$PORT
WHARF_TEST_KMS_REGION=$REGION
WHARF_TEST_KMS_ACCOUNT_ID=$ACCOUNT
EOF2
)
log "local-kms ready after ${SECONDS}s (pid $PID, port $PORT); env in $ENVFILE, log in $LOG"
cat "$ENVFILE"
