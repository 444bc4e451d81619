#!/usr/bin/env bash
# tests/e2e/metrics.sh — Wharf's Prometheus metrics scraped by a real Prometheus.
#
# 1. Starts Wharf (lib.sh) with `metrics_listen` on a second free port (WHARF_METRICS_LISTEN).
# 2. Checks who may read /metrics on the main listener: nobody without credentials (401), not a
#    user without `wharf:GetMetrics` (403), the administrator by login token or by access key
#    (200); and that the metrics listener answers without credentials.
# 3. Pushes an image with crane and drives ECR calls with the AWS CLI (CreateRepository,
#    DescribeRepositories, PutImageTagMutability, DeleteRepository).
# 4. Starts /usr/bin/prometheus (Debian's package) on a free port with its storage in a temp dir,
#    scraping both the metrics listener and, with basic_auth (the administrator's access key),
#    the main listener; then asks Prometheus' query API for Wharf's series: requests by
#    operation, latency histograms, body bytes, job attempts, queue depth, GC passes, pool
#    connections.
# 5. Checks the exposition never carries repository names or digests as labels.
#
# Environment: WHARF_BIN, KEEP_TMP, READY_TIMEOUT (lib.sh); PROMETHEUS_BIN (/usr/bin/prometheus).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

PROMETHEUS_BIN="${PROMETHEUS_BIN:-/usr/bin/prometheus}"
VENV="${WHARF_TOOLS_DIR:-$HOME/.cache/wharf-tools}/venv"
need crane curl jq python3
[[ -x "$PROMETHEUS_BIN" ]] || { echo "missing $PROMETHEUS_BIN (run scripts/install-test-deps.sh)" >&2; exit 2; }
[[ -x "$VENV/bin/aws" ]] || { echo "missing $VENV/bin/aws (run tests/e2e/ecr.sh once or scripts/install-test-deps.sh)" >&2; exit 2; }
[[ "$E2E_REGISTRY" == wharf ]] || { echo "metrics.sh tests a single Wharf node" >&2; exit 2; }

work=$(mktemp_e2e)
MPORT=$(free_port)
export WHARF_METRICS_LISTEN="127.0.0.1:$MPORT"
registry_start
R=$REG_HOST

# The administrator's access key, from the credentials file the first start wrote.
ADMIN_KEY=$(sed -n 's/^aws_access_key_id = //p' "$REG_DATA/credentials")
ADMIN_SECRET=$(sed -n 's/^aws_secret_access_key = //p' "$REG_DATA/credentials")

# A user without any policy.
"$WHARF_BIN" admin --data-dir "$REG_DATA" create-user viewer >/dev/null 2>>"$REG_LOG"
"$WHARF_BIN" admin --data-dir "$REG_DATA" create-access-key viewer >/dev/null 2>>"$REG_LOG"
VIEWER_PASS=$("$WHARF_BIN" admin --data-dir "$REG_DATA" login-password viewer 2>>"$REG_LOG")

code() { curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }
check "main /metrics without credentials is 401" test "$(code "$REG_URL/metrics")" = 401
check "main /metrics for a user without wharf:GetMetrics is 403" \
  test "$(code -u "AWS:$VIEWER_PASS" "$REG_URL/metrics")" = 403
check "main /metrics with the administrator's login token is 200" \
  test "$(code -u "AWS:$REG_PASS" "$REG_URL/metrics")" = 200
check "main /metrics with the administrator's access key is 200" \
  test "$(code -u "$ADMIN_KEY:$ADMIN_SECRET" "$REG_URL/metrics")" = 200
check "main /metrics with a wrong secret is 401" \
  test "$(code -u "$ADMIN_KEY:wrong" "$REG_URL/metrics")" = 401
check "metrics_listen answers without credentials" \
  bash -c "curl -fsS --max-time 10 http://127.0.0.1:$MPORT/metrics | grep -q '^# TYPE wharf_http_requests counter'"

# Traffic: a push with crane, ECR calls with the AWS CLI.
export DOCKER_CONFIG="$work/docker"
mkdir -p "$DOCKER_CONFIG"
printf '%s' "$REG_PASS" | crane auth login "$R" -u AWS --password-stdin >/dev/null 2>&1
python3 "$E2E_LIB_DIR/mkimage.py" --out "$work/src" --layers 2 --layer-size $((64 * 1024)) \
  --docker-tar "$work/image.tar" --tag "metrics/app:v1" >/dev/null
check "crane push" crane push --insecure "$work/image.tar" "$R/metrics/app:v1"
check "crane pull" crane pull --insecure "$R/metrics/app:v1" "$work/pulled.tar"
aws_admin() {
  AWS_ACCESS_KEY_ID=$ADMIN_KEY AWS_SECRET_ACCESS_KEY=$ADMIN_SECRET AWS_DEFAULT_REGION=us-east-1 \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    "$VENV/bin/aws" ecr --endpoint-url "$REG_URL" --output json "$@"
}
check "aws ecr create-repository" aws_admin create-repository --repository-name metrics/ecr
check "aws ecr describe-repositories" aws_admin describe-repositories
check "aws ecr put-image-tag-mutability" aws_admin put-image-tag-mutability \
  --repository-name metrics/ecr --image-tag-mutability IMMUTABLE
check "aws ecr delete-repository" aws_admin delete-repository --repository-name metrics/ecr

# No repository name or digest ever becomes a label.
exposition=$(curl -fsS --max-time 10 "http://127.0.0.1:$MPORT/metrics")
check "no repository name in the exposition" bash -c "! grep -q 'metrics/app\|metrics/ecr' <<<\"\$1\"" _ "$exposition"
check "no digest in the exposition" bash -c "! grep -q 'sha256:' <<<\"\$1\"" _ "$exposition"
check "the exposition ends with # EOF" bash -c "[[ \"\$(tail -n 1 <<<\"\$1\")\" == '# EOF' ]]" _ "$exposition"

# A real Prometheus scraping both listeners.
PPORT=$(free_port)
mkdir -p "$work/prometheus"
cat >"$work/prometheus/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: wharf
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
  - job_name: wharf-main
    basic_auth:
      username: '$ADMIN_KEY'
      password: '$ADMIN_SECRET'
    static_configs:
      - targets: ['$R']
YAML
"$PROMETHEUS_BIN" --config.file="$work/prometheus/prometheus.yml" \
  --storage.tsdb.path="$work/prometheus/data" --web.listen-address="127.0.0.1:$PPORT" \
  >"$work/prometheus/log" 2>&1 &
PROM_PID=$!
trap 'kill $PROM_PID 2>/dev/null || true; wait $PROM_PID 2>/dev/null || true; e2e_cleanup' EXIT
PROM="http://127.0.0.1:$PPORT"

# query_value QUERY: the first sample's value of an instant query, or nothing.
query_value() {
  curl -fsS --max-time 5 -G "$PROM/api/v1/query" --data-urlencode "query=$1" 2>/dev/null |
    jq -r '.data.result[0].value[1] // empty' 2>/dev/null
}
# scraped NAME QUERY: passes once QUERY has a sample > 0 (waits up to 60 s for scrapes).
scraped() {
  local name=$1 query=$2 v="" deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    v=$(query_value "$query")
    if [[ -n "$v" ]] && python3 -c "import sys; sys.exit(0 if float('$v') > 0 else 1)"; then
      pass "$name ($query = $v)"
      return 0
    fi
    sleep 1
  done
  fail "$name" "$query = '${v}'"
  tail -n 5 "$work/prometheus/log" | sed 's/^/    /'
}

deadline=$((SECONDS + 30))
until curl -fsS --max-time 2 "$PROM/-/ready" >/dev/null 2>&1; do
  ((SECONDS < deadline)) || { fail "prometheus ready"; tail -n 20 "$work/prometheus/log"; summary; exit 1; }
  sleep 0.5
done
pass "prometheus ready on $PROM"

scraped "metrics listener scraped" 'up{job="wharf"}'
scraped "main listener scraped with basic_auth" 'up{job="wharf-main"}'
scraped "OCI manifest pushes counted" 'sum(wharf_http_requests_total{job="wharf",surface="oci",operation="manifest_put",status="201"})'
scraped "OCI upload chunks counted" 'sum(wharf_http_requests_total{job="wharf",surface="oci",operation=~"blob_upload_.*"})'
scraped "OCI blob reads counted" 'sum(wharf_http_requests_total{job="wharf",surface="oci",operation="blob_get"})'
scraped "ECR CreateRepository counted" 'sum(wharf_http_requests_total{job="wharf",surface="ecr",operation="CreateRepository",status="200"})'
scraped "ECR DeleteRepository counted" 'sum(wharf_http_requests_total{job="wharf",surface="ecr",operation="DeleteRepository"})'
scraped "401s counted" 'sum(wharf_http_requests_total{job="wharf",status="401"})'
scraped "latency histogram of manifest pushes" 'sum(wharf_http_request_duration_seconds_count{job="wharf",operation="manifest_put"})'
scraped "latency histogram buckets" 'sum(wharf_http_request_duration_seconds_bucket{job="wharf",operation="PutImageTagMutability",le="+Inf"})'
scraped "request body bytes (the push)" 'sum(wharf_http_request_body_bytes_total{job="wharf",surface="oci"})'
scraped "response body bytes (the pull)" 'sum(wharf_http_response_body_bytes_total{job="wharf",surface="oci"})'
scraped "job attempts by kind (gc at start)" 'sum(wharf_job_attempts_total{job="wharf",kind="gc",outcome="done"})'
scraped "job queue depth by kind and state" 'count(wharf_job_queue_jobs{job="wharf"})'
scraped "garbage collection passes" 'wharf_gc_passes_total{job="wharf"}'
scraped "database pool connections" 'count(wharf_db_pool_connections{job="wharf"})'
scraped "audit records written" 'sum(wharf_audit_events_total{job="wharf",outcome="written"})'
check "uploads in progress is a gauge Prometheus has" \
  bash -c "[[ -n \"\$(curl -fsS -G '$PROM/api/v1/query' --data-urlencode 'query=wharf_uploads_in_progress{job=\"wharf\"}' | jq -r '.data.result[0].value[1] // empty')\" ]]"

server_survived
summary
