#!/usr/bin/env bash
# postgres.sh — run a throwaway PostgreSQL server for the tests, from Debian's `postgresql` package.
#
#   scripts/postgres.sh start <dir>   create a fresh cluster in <dir>/data, start it on 127.0.0.1
#                                     (Unix socket in <dir>/run, log in <dir>/postgres.log), wait
#                                     until it accepts connections, create the role and database
#                                     `wharf`, write <dir>/env and print it
#   scripts/postgres.sh stop <dir>    fast shutdown of the server started in <dir> (pg_ctl stop
#                                     -m fast; its files stay for inspection)
#
# `start` always begins from an empty cluster: it deletes <dir>/data and <dir>/run left by an
# earlier, stopped run (it refuses while one is still running in <dir>). Use a <dir> of its own
# for each instance; several instances may run at once in different dirs.
#
# initdb and postgres refuse to run as root. Run as root, this script runs them as the `postgres`
# system user (created by the Debian package): <dir>/data, <dir>/run and <dir>/postgres.log are
# then owned by `postgres`, and <dir> and its parents must be searchable by it (not under a mode
# 700 directory such as /root; /tmp is fine). Run as another user, the server runs as that user.
# Either way that user is the cluster's superuser, reachable only through the Unix socket in
# <dir>/run by peer authentication, e.g. as root:
#   runuser -u postgres -- psql -h <dir>/run -p "$PG_PORT" -d wharf
# TCP (127.0.0.1 only) requires a password (scram-sha-256).
#
# <dir>/env (mode 600) holds plain KEY=value lines, with no quotes, for `set -a; . <dir>/env; set +a`:
#   PG_PID        the postmaster's pid
#   PG_PORT       its TCP port on 127.0.0.1 (the socket in PG_SOCKET_DIR uses the same number)
#   PG_DATA       the cluster's data directory (<dir>/data)
#   PG_SOCKET_DIR the Unix socket directory (<dir>/run)
#   DATABASE_URL  postgres://wharf:<password>@127.0.0.1:<port>/wharf
# The role `wharf` (random password, LOGIN CREATEDB, not superuser) owns the database `wharf`
# (and so its `public` schema); CREATEDB lets tests make a database of their own.
#
# Settings (environment):
#   PG_BIN_DIR              directory with initdb, pg_ctl, postgres, pg_isready and psql (default:
#                           the highest version of /usr/lib/postgresql/*/bin)
#   POSTGRES_PORT           TCP port (default 5432). A port given explicitly must be free or start
#                           fails; the default, when taken (e.g. by the package's own cluster),
#                           is replaced by a free one that the kernel picks.
#   POSTGRES_START_TIMEOUT  seconds to wait for the server to accept connections (default 30)
#   POSTGRES_STOP_TIMEOUT   seconds to wait for a fast shutdown (default 30); after that stop
#                           falls back to an immediate shutdown, then SIGKILL
# The cluster: locale C, encoding UTF8, fsync on (the defaults), listen_addresses = 127.0.0.1.
# The server logs to <dir>/postgres.log; this script's own messages go to stderr, the env file to
# stdout.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

usage() { echo "usage: $0 start|stop <dir>" >&2; exit 2; }
(($# == 2)) || usage
cmd=$1
case "$cmd" in start | stop) ;; *) usage ;; esac
mkdir -p "$2"
DIR=$(cd "$2" && pwd)
DATA="$DIR/data"
SOCK="$DIR/run"
LOG="$DIR/postgres.log"
ENVFILE="$DIR/env"
# The commands below run as another user when we are root; give them a directory they can enter.
cd /

# The caller's PG* variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATA, ...) would redirect
# pg_ctl, psql and pg_isready; everything here is given explicitly. PG_* (ours) stay.
while read -r v; do [[ $v == PG_* ]] || unset "$v"; done < <(compgen -e PG || true)

# PG_BIN_DIR: explicit, or the newest Debian major version.
if [[ -n "${PG_BIN_DIR:-}" ]]; then
  [[ -x "$PG_BIN_DIR/pg_ctl" ]] || die "PG_BIN_DIR=$PG_BIN_DIR has no pg_ctl"
else
  PG_BIN_DIR=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  [[ -x "$PG_BIN_DIR/pg_ctl" ]] ||
    die "PostgreSQL not found under /usr/lib/postgresql/*/bin; run scripts/install-test-deps.sh (apt package postgresql) or set PG_BIN_DIR"
fi
for t in initdb pg_ctl postgres pg_isready psql; do
  [[ -x "$PG_BIN_DIR/$t" ]] || die "$PG_BIN_DIR/$t is missing"
done

# as_server CMD...: run CMD as the user the server runs as (`postgres` when we are root).
if [[ $(id -u) -eq 0 ]]; then
  SERVER_USER=postgres
  id -u "$SERVER_USER" >/dev/null 2>&1 || die "user '$SERVER_USER' does not exist (it comes with Debian's postgresql package)"
  if command -v runuser >/dev/null 2>&1; then
    as_server() { runuser -u "$SERVER_USER" -- "$@"; }
  else
    as_server() { su -s /bin/sh "$SERVER_USER" -c "$(printf '%q ' "$@")"; }
  fi
else
  SERVER_USER=$(id -un)
  as_server() { "$@"; }
fi

# running_pid: print the pid of the postmaster of the cluster in DATA, if it is still running.
running_pid() {
  [[ -f "$DATA/postmaster.pid" ]] || return 1
  local pid
  pid=$(head -n 1 "$DATA/postmaster.pid" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled pid: the process must be a postgres started on our data directory
  # (pg_ctl runs it as `postgres -D <dir>/data`).
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-D $DATA " || return 1
  echo "$pid"
}

# pgctl_stop MODE SECONDS: pg_ctl stop, as the owner of the data directory. pg_ctl signals the pid
# in postmaster.pid, so only call this after running_pid has vouched for that pid.
pgctl_stop() {
  local owner
  owner=$(stat -c %U "$DATA")
  if [[ $(id -u) -eq 0 && "$owner" != root ]]; then
    runuser -u "$owner" -- "$PG_BIN_DIR/pg_ctl" stop -s -D "$DATA" -m "$1" -w -t "$2" >&2
  else
    "$PG_BIN_DIR/pg_ctl" stop -s -D "$DATA" -m "$1" -w -t "$2" >&2
  fi
}

do_stop() {
  local pid i
  if ! pid=$(running_pid); then
    log "no PostgreSQL running in $DIR"
    return 0
  fi
  local t="${POSTGRES_STOP_TIMEOUT:-30}"
  if ! pgctl_stop fast "$t" && running_pid >/dev/null; then
    log "PostgreSQL (pid $pid) did not stop within ${t}s (fast); trying an immediate shutdown"
    pgctl_stop immediate 10 || true
  fi
  if running_pid >/dev/null; then
    log "PostgreSQL (pid $pid) still running; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  log "stopped PostgreSQL (pid $pid)"
}

if [[ "$cmd" == stop ]]; then
  do_stop
  exit 0
fi

# ---- start ------------------------------------------------------------------------------------
command -v python3 >/dev/null 2>&1 || die "python3 is required (to find a free port)"

if pid=$(running_pid); then
  die "a PostgreSQL is already running in $DIR (pid $pid); run: $0 stop $DIR"
fi

TIMEOUT="${POSTGRES_START_TIMEOUT:-30}"
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die "POSTGRES_START_TIMEOUT=$TIMEOUT is not a number of seconds"
# A Unix socket path holds at most 107 bytes: "<dir>/run/.s.PGSQL.<port>".
((${#SOCK} + 17 <= 107)) || die "$DIR is too long for a Unix socket path (at most 86 characters)"

# port_free PORT: true when 127.0.0.1:PORT can be bound right now. SO_REUSEADDR, as postgres
# sets it: a port whose last connections linger in TIME_WAIT (a server just stopped) is free.
port_free() {
  python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
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
# pick_port: an explicit POSTGRES_PORT must be free; a busy default (or, on a retry, any default)
# is replaced by a port the kernel picks.
pick_port() {
  local p
  if [[ -n "${POSTGRES_PORT:-}" ]]; then
    p=$POSTGRES_PORT
    [[ "$p" =~ ^[0-9]+$ ]] || die "POSTGRES_PORT=$p is not a port number"
    port_free "$p" || die "POSTGRES_PORT=$p: 127.0.0.1:$p is already in use"
  else
    p=5432
    ((ATTEMPT == 1)) || p=$(kernel_port)
    while ! port_free "$p"; do p=$(kernel_port); done
  fi
  echo "$p"
}

if [[ -n "${POSTGRES_PORT:-}" ]]; then # fail before initdb; checked again when starting
  [[ "$POSTGRES_PORT" =~ ^[0-9]+$ ]] || die "POSTGRES_PORT=$POSTGRES_PORT is not a port number"
  port_free "$POSTGRES_PORT" || die "POSTGRES_PORT=$POSTGRES_PORT: 127.0.0.1:$POSTGRES_PORT is already in use"
fi

# ---- fresh cluster ----------------------------------------------------------------------------
rm -rf "$DATA" "$SOCK"
rm -f "$ENVFILE" "$LOG"
mkdir -p "$DATA" "$SOCK"
: >"$LOG"
chmod 700 "$DATA" "$SOCK"
if [[ $(id -u) -eq 0 ]]; then
  chown "$SERVER_USER:" "$DATA" "$SOCK" "$LOG"
  chmod a+x "$DIR" # search only, so the server user can reach its files
  if ! as_server test -w "$DATA" -a -w "$LOG"; then
    # Name the first directory on the way down that it may not enter.
    d=""
    IFS=/ read -ra parts <<<"${DIR#/}"
    for c in "${parts[@]}"; do
      d="$d/$c"
      as_server test -x "$d" || break
    done
    die "user $SERVER_USER may not enter $d (mode $(stat -c %a "$d"), owner $(stat -c %U "$d")), so cannot reach $DIR; run chmod o+x $d (search only), or pass a <dir> whose parents others may enter, e.g. \$(mktemp -d) itself (this script opens <dir>)"
  fi
fi

PASSWORD=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n') # hex: needs no escaping in the URL

log "initdb ($("$PG_BIN_DIR/postgres" --version)) in $DATA as $SERVER_USER"
as_server "$PG_BIN_DIR/initdb" -D "$DATA" -U "$SERVER_USER" --locale=C --encoding=UTF8 \
  --auth-local=peer --auth-host=scram-sha-256 --no-instructions >>"$LOG" 2>&1 ||
  { tail -n 25 "$LOG" >&2; die "initdb failed (output in $LOG)"; }
# Our settings live in their own file, included last by postgresql.conf; the port is rewritten
# on each attempt.
echo "include = 'wharf.conf'" >>"$DATA/postgresql.conf"

# start_once: one attempt, run in a subshell. Exits 0 when ready, 75 on a port conflict (another
# process bound the port between our check and the server's bind), 1 on any other failure.
start_once() {
  PORT=$(pick_port)
  cat >"$DATA/wharf.conf" <<EOF
# Written by scripts/postgres.sh: a throwaway PostgreSQL for the tests.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCK'
unix_socket_permissions = 0700
# Each test makes a database of its own, and CREATE DATABASE writes the whole template to the
# WAL: a small cap checkpoints often and keeps the WAL directory small on a crowded disk.
max_wal_size = '128MB'
min_wal_size = '32MB'
EOF
  [[ $(id -u) -ne 0 ]] || chown "$SERVER_USER:" "$DATA/wharf.conf"

  local mark STARTING=0
  mark=$(wc -l <"$LOG")
  fail() {
    local rc=1 pid
    if tail -n +"$((mark + 1))" "$LOG" | grep -q 'Address already in use'; then rc=75; fi
    log "ERROR: $*"
    # pg_ctl gives up on a slow server without stopping it, possibly before it has written
    # postmaster.pid: after pg_ctl timed out (rather than seeing the server exit), give that file
    # 5 s to appear.
    local i tries=1
    if ((STARTING)) && ! tail -n +"$((mark + 1))" "$LOG" | grep -q 'could not start server'; then tries=50; fi
    for ((i = 0; i < tries; i++)); do
      if pid=$(running_pid); then
        pgctl_stop immediate 10 >/dev/null 2>&1 || kill -KILL "$pid" 2>/dev/null || true
        break
      fi
      ((i + 1 == tries)) || sleep 0.1
    done
    log "last lines of $LOG:"
    tail -n 25 "$LOG" >&2 || true
    exit $rc
  }

  log "starting PostgreSQL in $DIR (127.0.0.1:$PORT)"
  # pg_ctl puts the server in a session of its own (it outlives this script and ignores the
  # caller's ^C); -w waits until it accepts connections and notices when it exits early.
  STARTING=1
  # pg_ctl's own errors (with -s, nothing else) go to the log too; both only append.
  # shellcheck disable=SC2094
  as_server "$PG_BIN_DIR/pg_ctl" start -s -D "$DATA" -l "$LOG" -w -t "$TIMEOUT" >>"$LOG" 2>&1 ||
    fail "pg_ctl start failed (or the server was not ready within ${TIMEOUT}s)"
  PID=$(running_pid) || fail "server not running after pg_ctl start"
  STARTING=0

  # Accepting connections over TCP, as the tests will connect.
  local deadline=$((SECONDS + TIMEOUT))
  until "$PG_BIN_DIR/pg_isready" -q -h 127.0.0.1 -p "$PORT" -d postgres -t 2; do
    kill -0 "$PID" 2>/dev/null || fail "postgres exited during startup"
    ((SECONDS < deadline)) || fail "pg_isready: no connection on 127.0.0.1:$PORT within ${TIMEOUT}s"
    sleep 0.2
  done

  # Role and database, as the superuser over the socket. The password goes through stdin, so it
  # never shows in a process list.
  as_server "$PG_BIN_DIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PORT" -U "$SERVER_USER" \
    -d postgres >/dev/null <<EOF || fail "creating role and database wharf failed"
CREATE ROLE wharf LOGIN CREATEDB PASSWORD '$PASSWORD';
CREATE DATABASE wharf OWNER wharf;
EOF

  local url="postgres://wharf:$PASSWORD@127.0.0.1:$PORT/wharf"
  # The URL works, as the tests will use it (TCP and password).
  PGCONNECT_TIMEOUT=5 "$PG_BIN_DIR/psql" -X -q -At -c 'select 1' "$url" >/dev/null ||
    fail "cannot connect with DATABASE_URL"

  (
    umask 077
    cat >"$ENVFILE" <<EOF
PG_PID=$PID
PG_PORT=$PORT
PG_DATA=$DATA
PG_SOCKET_DIR=$SOCK
DATABASE_URL=$url
EOF
  )
  log "PostgreSQL ready after ${SECONDS}s (pid $PID, port $PORT); env in $ENVFILE, log in $LOG"
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
  [[ -z "${POSTGRES_PORT:-}" ]] || die "POSTGRES_PORT=$POSTGRES_PORT is in use"
  log "port conflict; retrying with another port"
done
die "gave up after 3 port conflicts"
