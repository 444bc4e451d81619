#!/usr/bin/env bash
# tests/e2e/cluster-serve.sh DATA ADDR — a two-node Wharf cluster behind a load balancer, run in the
# foreground as one "server" for the end-to-end scripts (lib.sh's E2E_REGISTRY=wharf-cluster).
#
# Starts `wharf serve` twice on free 127.0.0.1 ports (node 1 with data dir DATA, node 2 with
# DATA.node2), both with the metadata and blob-store settings of the environment (WHARF_METADATA_URL
# = one PostgreSQL database, WHARF_BLOB_STORE_* = one S3 bucket) and WHARF_PUBLIC_HOST=ADDR, then
# nginx on ADDR balancing requests round robin between them: consecutive requests of one client,
# even on one keep-alive connection, land on different nodes, so a push's requests are split
# between the nodes and a pull reads what the other node wrote.
#
# Writes DATA/cluster.env (NODE1_URL NODE1_PID NODE2_URL NODE2_PID LB_PID) for scripts that talk to
# one node directly or kill one. The nodes log to DATA.node1.log and DATA.node2.log. SIGTERM/SIGINT stops nginx and both nodes. A node that dies (a
# test killing it) leaves the others running; nginx then sends every request to the survivor.
set -euo pipefail

data=${1:?usage: cluster-serve.sh DATA ADDR}
addr=${2:?usage: cluster-serve.sh DATA ADDR}
bin=${WHARF_BIN:?set WHARF_BIN}
: "${WHARF_METADATA_URL:?set WHARF_METADATA_URL (the cluster shares one PostgreSQL database)}"
export WHARF_PUBLIC_HOST=$addr
# nginx (on loopback) names the client in X-Forwarded-For and the scheme in X-Forwarded-Proto.
export WHARF_TRUSTED_PROXIES=127.0.0.1

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_up() { # URL PID
  local i code
  for ((i = 0; i < 300; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1/v2/" 2>/dev/null) || true
    [[ "$code" == 200 || "$code" == 401 ]] && return 0
    kill -0 "$2" 2>/dev/null || { echo "cluster-serve: node $2 exited" >&2; return 1; }
    sleep 0.1
  done
  echo "cluster-serve: $1 not ready" >&2
  return 1
}

pids=()
stop_all() {
  trap - TERM INT EXIT
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  exit 0
}
trap stop_all TERM INT EXIT

mkdir -p "$data" "$data.node2"
p1=$(free_port)
"$bin" serve --data-dir "$data" --listen "127.0.0.1:$p1" >>"$data.node1.log" 2>&1 &
pid1=$!
pids+=("$pid1")
# Node 1 first: it migrates the empty database and creates the administrator, whose keys it
# writes to DATA/credentials where the scripts look for them.
wait_up "http://127.0.0.1:$p1" "$pid1" || { tail -n 30 "$data.node1.log" >&2; exit 1; }
p2=$(free_port)
# Every node needs the one master key: node 2 reads the keyring node 1 generated (unless the
# caller gives both WHARF_MASTER_KEY or WHARF_MASTER_KEY_FILE).
if [[ -z "${WHARF_MASTER_KEY:-}${WHARF_MASTER_KEY_FILE:-}" ]]; then
  WHARF_MASTER_KEY_FILE="$data/master.key" "$bin" serve --data-dir "$data.node2" --listen "127.0.0.1:$p2" >>"$data.node2.log" 2>&1 &
else
  "$bin" serve --data-dir "$data.node2" --listen "127.0.0.1:$p2" >>"$data.node2.log" 2>&1 &
fi
pid2=$!
pids+=("$pid2")
wait_up "http://127.0.0.1:$p2" "$pid2" || { tail -n 30 "$data.node2.log" >&2; exit 1; }

run="$data.lb"
mkdir -p "$run"
cat >"$run/nginx.conf" <<NGINX
# Round robin per request across the two nodes; bodies stream both ways, unbuffered.
worker_processes 1;
pid $run/nginx.pid;
error_log stderr warn;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $run/body;
  proxy_temp_path $run/proxy;
  fastcgi_temp_path $run/fastcgi;
  uwsgi_temp_path $run/uwsgi;
  scgi_temp_path $run/scgi;
  upstream wharf {
    server 127.0.0.1:$p1 max_fails=1 fail_timeout=5s;
    server 127.0.0.1:$p2 max_fails=1 fail_timeout=5s;
    keepalive 16;
  }
  server {
    listen $addr;
    client_max_body_size 0;
    proxy_request_buffering off;
    proxy_buffering off;
    proxy_http_version 1.1;
    proxy_read_timeout 300s;
    proxy_send_timeout 300s;
    location / {
      proxy_pass http://wharf;
      proxy_set_header Host \$http_host;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_next_upstream error timeout http_502;
    }
  }
}
NGINX
if [[ $(id -u) -eq 0 ]]; then
  # Workers would otherwise run as nobody, who cannot write the temp paths under DATA.
  sed -i '1a user root;' "$run/nginx.conf"
fi
nginx -e stderr -p "$run" -c "$run/nginx.conf" &
lb=$!
pids+=("$lb")
for ((i = 0; i < 50; i++)); do
  [[ -s "$run/nginx.pid" ]] && break
  kill -0 "$lb" 2>/dev/null || { echo "cluster-serve: nginx did not start" >&2; exit 1; }
  sleep 0.1
done
# Written whole, then renamed: a reader never sees half of it.
cat >"$data/cluster.env.tmp" <<ENV
NODE1_URL=http://127.0.0.1:$p1
NODE1_PID=$pid1
NODE2_URL=http://127.0.0.1:$p2
NODE2_PID=$pid2
LB_PID=$lb
ENV
mv "$data/cluster.env.tmp" "$data/cluster.env"
echo "cluster-serve: nodes on :$p1 (pid $pid1) and :$p2 (pid $pid2), nginx on $addr (pid $lb)"
# Serve until told to stop; a node dying (tests kill one) does not end the cluster.
while kill -0 "$lb" 2>/dev/null; do
  sleep 0.5
done
echo "cluster-serve: nginx exited" >&2
stop_all
