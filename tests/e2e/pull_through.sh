#!/usr/bin/env bash
# tests/e2e/pull_through.sh — ECR pull-through cache rules with a real upstream registry.
#
#  1. Starts CNCF Distribution (Debian's docker-registry, access log on) as the upstream, a
#     toxiproxy in front of it (slow and broken links), and Wharf with a 10 s tag TTL; pushes an
#     image, a two-platform index and a 12 MiB image to the upstream with crane / skopeo.
#  2. Through the AWS CLI: CreatePullThroughCacheRule (prefix `hub` → the toxiproxy URL), a
#     second one for the prefix (PullThroughCacheRuleAlreadyExistsException), a bad URL and a
#     customRoleArn (InvalidParameterException), an unknown credentialArn (SecretNotFoundException);
#     DescribePullThroughCacheRules (all, by prefix, an unknown prefix →
#     PullThroughCacheRuleNotFoundException); ValidatePullThroughCacheRule (isValid true); a
#     PULL_THROUGH_CACHE repository creation template.
#  3. crane pulls hub/lib/app:v1 through Wharf: same digest, same bytes as the upstream; the
#     repository is created from the template (its resource tag) and DescribeImages lists the
#     image with its tag once it is committed. skopeo copies the two-platform index (--all).
#  4. Coalescing: the 12 MiB image's blob over a link slowed to 2 MiB/s, fetched by 6 concurrent
#     curl GETs (plus the background commit): every client gets the exact bytes and the upstream's
#     access log shows one GET of that blob.
#  5. Tag TTL: the upstream tag moves; within the TTL Wharf serves the cached digest, after it the
#     new one.
#  6. An https upstream (a TLS front, tests/e2e/pull_through_front.py, whose self-signed certificate
#     only the Wharf process trusts, through SSL_CERT_FILE): a rule, validation and a pull over
#     https; then the front answers 429: after the TTL the cached tag still pulls, and an uncached
#     image answers 429 TOOMANYREQUESTS.
#  7. The link broken (toxiproxy disabled) and then the upstream stopped: cached images still pull
#     by tag (after the TTL passed) and by digest; an uncached image answers a clean 502.
#  8. Credentials: a rule whose upstream is this Wharf itself (which needs Basic auth):
#     ValidatePullThroughCacheRule reports the failure without credentials; `wharf admin
#     put-upstream-secret` stores AWS + a login password (read from stdin, sealed), UpdatePullThroughCacheRule
#     sets the credentialArn, Validate passes and a pull through it works; the secret is not in
#     the database in plaintext. DeletePullThroughCacheRule returns the rule; a second delete is not found.
#
# Environment: WHARF_BIN, KEEP_TMP, READY_TIMEOUT (lib.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

TOOLS_BIN="${WHARF_TOOLS_DIR:-$HOME/.cache/wharf-tools}/bin"
VENV="${WHARF_TOOLS_DIR:-$HOME/.cache/wharf-tools}/venv"
[[ -x "$VENV/bin/aws" ]] || { echo "missing $VENV/bin/aws (run tests/e2e/ecr.sh once, or scripts/install-test-deps.sh)" >&2; exit 2; }
export PATH="$TOOLS_BIN:$PATH"
need crane skopeo curl jq python3 openssl toxiproxy-server "$DISTRIBUTION_BIN"
[[ "$E2E_REGISTRY" == wharf ]] || { echo "pull_through.sh needs wharf admin; E2E_REGISTRY=$E2E_REGISTRY is not supported" >&2; exit 2; }

work=$(mktemp_e2e)
export DOCKER_CONFIG="$work/docker"
mkdir -p "$DOCKER_CONFIG"
UP_PID="" TOXI_PID="" HOOK_PID="" FRONT_PID=""
stop_others() {
  [[ -n "$FRONT_PID" ]] && kill "$FRONT_PID" 2>/dev/null || true
  [[ -n "$HOOK_PID" ]] && kill "$HOOK_PID" 2>/dev/null || true
  [[ -n "$UP_PID" ]] && kill "$UP_PID" 2>/dev/null || true
  [[ -n "$TOXI_PID" ]] && kill "$TOXI_PID" 2>/dev/null || true
}
trap 'stop_others; e2e_cleanup' EXIT

# --- 1. upstream (Distribution, access log on), toxiproxy, Wharf
UP_PORT=$(free_port)
UP="127.0.0.1:$UP_PORT"
mkdir -p "$work/upstream/storage"
cat >"$work/upstream/config.yml" <<YAML
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $work/upstream/storage
  delete:
    enabled: true
http:
  addr: $UP
YAML
UP_LOG="$work/upstream.log"
"$DISTRIBUTION_BIN" serve "$work/upstream/config.yml" >"$UP_LOG" 2>&1 &
UP_PID=$!
TOXI_API_PORT=$(free_port)
TOXI_API="http://127.0.0.1:$TOXI_API_PORT"
toxiproxy-server -host 127.0.0.1 -port "$TOXI_API_PORT" >"$work/toxiproxy.log" 2>&1 &
TOXI_PID=$!
for _ in $(seq 100); do
  curl -fsS -o /dev/null "http://$UP/v2/" 2>/dev/null && curl -fsS -o /dev/null "$TOXI_API/version" 2>/dev/null && break
  sleep 0.1
done
PROXY_PORT=$(free_port)
curl -fsS -o /dev/null -X POST "$TOXI_API/proxies" \
  -d "{\"name\":\"upstream\",\"listen\":\"127.0.0.1:$PROXY_PORT\",\"upstream\":\"$UP\"}"
PROXY="127.0.0.1:$PROXY_PORT"
check "upstream answers through toxiproxy" curl -fsS -o /dev/null "http://$PROXY/v2/"

# A webhook receiver for "ECR Pull Through Cache Action" events.
HOOK_PORT=$(free_port)
cat >"$work/receiver.py" <<'PY'
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
port, out = int(sys.argv[1]), sys.argv[2]
class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(out, "ab") as f:
            f.write(body + b"\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
HTTPServer(("127.0.0.1", port), Hook).serve_forever()
PY
python3 "$work/receiver.py" "$HOOK_PORT" "$work/events.jsonl" &
HOOK_PID=$!
touch "$work/events.jsonl"
export WHARF_WEBHOOK_URL="http://127.0.0.1:$HOOK_PORT/hook" WHARF_WEBHOOK_SECRET="e2e-$RANDOM$RANDOM" \
  WHARF_WEBHOOK_DETAIL_TYPES="ECR Pull Through Cache Action" WHARF_JOB_RETRY_BASE_SECS=1 WHARF_JOB_RETRY_MAX_SECS=2

# The https upstream's certificate (self-signed, IP SAN 127.0.0.1), trusted by the Wharf process
# alone through SSL_CERT_FILE.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -addext basicConstraints=critical,CA:FALSE \
  -keyout "$work/front-key.pem" -out "$work/front-cert.pem" >/dev/null 2>&1
export WHARF_PULL_THROUGH_TAG_TTL_SECS=10
SSL_CERT_FILE="$work/front-cert.pem" registry_start "$work/data"
R=$REG_HOST
printf '%s' "$REG_PASS" | crane auth login "$R" -u AWS --password-stdin >/dev/null 2>&1
# AWS CLI v1 would fetch an http:// parameter value as a URL unless told not to.
printf '[default]\ncli_follow_urlparam = false\n' >"$work/aws-config"
export AWS_CONFIG_FILE="$work/aws-config"
ecr() {
  AWS_SHARED_CREDENTIALS_FILE="$REG_DATA/credentials" AWS_DEFAULT_REGION=us-east-1 \
    AWS_EC2_METADATA_DISABLED=true "$VENV/bin/aws" --endpoint-url "$REG_URL" --output json ecr "$@"
}
eq() { [[ "$1" == "$2" ]] || { echo "expected '$2', got '$1'"; return 1; }; }
fails_with() {
  local code=$1 out
  shift
  if out=$("$@" 2>&1); then echo "succeeded: $out"; return 1; fi
  grep -q "$code" <<<"$out" || { echo "$out"; return 1; }
}
ACCOUNT=$(ecr describe-registry | jq -r .registryId)

python3 "$E2E_LIB_DIR/mkimage.py" --out "$work/src" --layers 2 --layer-size $((64 * 1024)) \
  --docker-tar "$work/app.tar" --tag "lib/app:v1" >/dev/null
python3 "$E2E_LIB_DIR/mkimage.py" --out "$work/src2" --layers 1 --layer-size $((32 * 1024)) \
  --docker-tar "$work/app2.tar" --tag "lib/app:v1" >/dev/null
python3 "$E2E_LIB_DIR/mkimage.py" --out "$work/big" --layers 1 --layer-size $((12 * 1024 * 1024)) \
  --docker-tar "$work/big.tar" --tag "lib/big:v1" >/dev/null
check "crane push lib/app:v1 to the upstream" crane push --insecure "$work/app.tar" "$UP/lib/app:v1"
check "crane push lib/big:v1 to the upstream" crane push --insecure "$work/big.tar" "$UP/lib/big:v1"
check "skopeo copy a two-platform index to the upstream" skopeo copy --quiet --all --dest-tls-verify=false \
  "oci:$work/src:index" "docker://$UP/lib/multi:v1"
APP_DIGEST=$(crane digest --insecure "$UP/lib/app:v1")
MULTI_DIGEST=$(crane digest --insecure "$UP/lib/multi:v1")

# --- 2. rules through the AWS CLI
check "CreatePullThroughCacheRule" bash -c "$(declare -f ecr); REG_DATA=$REG_DATA REG_URL=$REG_URL VENV=$VENV; \
  out=\$(ecr create-pull-through-cache-rule --ecr-repository-prefix hub --upstream-registry-url http://$PROXY); \
  jq -e '.ecrRepositoryPrefix == \"hub\" and .upstreamRegistryUrl == \"http://$PROXY\" and .registryId == \"$ACCOUNT\" and .upstreamRepositoryPrefix == \"ROOT\" and (.createdAt | type == \"number\")' <<<\"\$out\""
check "a second rule for the prefix: PullThroughCacheRuleAlreadyExistsException" fails_with PullThroughCacheRuleAlreadyExistsException \
  ecr create-pull-through-cache-rule --ecr-repository-prefix hub --upstream-registry-url "http://$PROXY"
check "a URL with a path: InvalidParameterException" fails_with InvalidParameterException \
  ecr create-pull-through-cache-rule --ecr-repository-prefix bad --upstream-registry-url "http://$PROXY/v2/x"
check "customRoleArn: InvalidParameterException (not supported, never ignored)" fails_with InvalidParameterException \
  ecr create-pull-through-cache-rule --ecr-repository-prefix role --upstream-registry-url "http://$PROXY" \
  --custom-role-arn "arn:aws:iam::$ACCOUNT:role/x"
check "an unknown credentialArn: SecretNotFoundException" fails_with SecretNotFoundException \
  ecr create-pull-through-cache-rule --ecr-repository-prefix cred --upstream-registry-url "http://$PROXY" \
  --credential-arn "arn:aws:secretsmanager:us-east-1:$ACCOUNT:secret:ecr-pullthroughcache/none"
check "DescribePullThroughCacheRules lists the rule" bash -c "$(declare -f ecr); REG_DATA=$REG_DATA REG_URL=$REG_URL VENV=$VENV; \
  ecr describe-pull-through-cache-rules | jq -e '.pullThroughCacheRules | length == 1 and .[0].ecrRepositoryPrefix == \"hub\"'"
check "DescribePullThroughCacheRules by prefix" bash -c "$(declare -f ecr); REG_DATA=$REG_DATA REG_URL=$REG_URL VENV=$VENV; \
  ecr describe-pull-through-cache-rules --ecr-repository-prefixes hub | jq -e '.pullThroughCacheRules[0].upstreamRegistryUrl == \"http://$PROXY\"'"
check "DescribePullThroughCacheRules of an unknown prefix: PullThroughCacheRuleNotFoundException" \
  fails_with PullThroughCacheRuleNotFoundException ecr describe-pull-through-cache-rules --ecr-repository-prefixes nope
check "ValidatePullThroughCacheRule: isValid" bash -c "$(declare -f ecr); REG_DATA=$REG_DATA REG_URL=$REG_URL VENV=$VENV; \
  ecr validate-pull-through-cache-rule --ecr-repository-prefix hub | jq -e '.isValid == true and (has(\"failure\") | not)'"
check "a PULL_THROUGH_CACHE template" ecr create-repository-creation-template --prefix hub \
  --applied-for PULL_THROUGH_CACHE --resource-tags Key=origin,Value=pull-through

# --- 3. pulls through the cache
check "crane digest through Wharf equals the upstream's" eq "$(crane digest --insecure "$R/hub/lib/app:v1")" "$APP_DIGEST"
check "crane pull through Wharf" crane pull --insecure --format oci "$R/hub/lib/app:v1" "$work/pulled-app"
check "crane pull from the upstream" crane pull --insecure --format oci "$UP/lib/app:v1" "$work/up-app"
check "the pulled blobs are the upstream's bytes" diff -r "$work/pulled-app/blobs" "$work/up-app/blobs"
wait_for_image() { # REPO DIGEST TAG: DescribeImages lists the committed image with its tag
  local i
  for i in $(seq 60); do
    if ecr describe-images --repository-name "$1" --image-ids "imageDigest=$2" 2>/dev/null |
      jq -e --arg t "$3" '.imageDetails[0].imageTags // [] | index($t) != null' >/dev/null; then return 0; fi
    sleep 0.5
  done
  return 1
}
check "the image is committed in hub/lib/app with its tag" wait_for_image hub/lib/app "$APP_DIGEST" v1
REPO_ARN=$(ecr describe-repositories --repository-names hub/lib/app | jq -r '.repositories[0].repositoryArn')
check "the repository was created from the PULL_THROUGH_CACHE template" bash -c "$(declare -f ecr); REG_DATA=$REG_DATA REG_URL=$REG_URL VENV=$VENV; \
  ecr list-tags-for-resource --resource-arn $REPO_ARN | jq -e '.tags == [{\"Key\":\"origin\",\"Value\":\"pull-through\"}]'"
pt_event() { # DIGEST TAG: a SUCCESS "ECR Pull Through Cache Action" for it reached the webhook
  local i
  for i in $(seq 40); do
    jq -e -s --arg d "$1" --arg t "$2" 'any(.[]; .["detail-type"] == "ECR Pull Through Cache Action"
      and .detail["sync-status"] == "SUCCESS" and .detail["image-digest"] == $d and .detail["image-tag"] == $t
      and .detail["ecr-repository-prefix"] == "hub" and .detail["repository-name"] == "hub/lib/app")' \
      "$work/events.jsonl" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  cat "$work/events.jsonl"
  return 1
}
check "an ECR Pull Through Cache Action event (SUCCESS, prefix, digest, tag) reached the webhook" pt_event "$APP_DIGEST" v1
check "skopeo copy --all of the two-platform index through Wharf" skopeo copy --quiet --all --src-tls-verify=false \
  --src-creds "AWS:$REG_PASS" "docker://$R/hub/lib/multi:v1" "oci:$work/pulled-multi:multi"
check "the index digest is the upstream's" eq "$(crane digest --insecure "$R/hub/lib/multi:v1")" "$MULTI_DIGEST"
check "the index is committed with its platform images" wait_for_image hub/lib/multi "$MULTI_DIGEST" v1

# --- 4. coalescing over a slow link
BIG_MANIFEST=$(crane manifest --insecure "$UP/lib/big:v1")
BIG_LAYER=$(jq -r '.layers[0].digest' <<<"$BIG_MANIFEST")
curl -fsS -o /dev/null -X POST "$TOXI_API/proxies/upstream/toxics" \
  -d '{"name":"slow","type":"bandwidth","stream":"downstream","attributes":{"rate":2048}}'
check "manifest of hub/lib/big through Wharf" crane manifest --insecure "$R/hub/lib/big:v1"
pids=()
for i in 1 2 3 4 5 6; do
  reg_curl -fsS -o "$work/big-$i" "$REG_URL/v2/hub/lib/big/blobs/$BIG_LAYER" &
  pids+=($!)
done
ok=1
for p in "${pids[@]}"; do wait "$p" || ok=0; done
check "6 concurrent blob GETs succeeded" test "$ok" = 1
all_same=1
for i in 1 2 3 4 5 6; do
  [[ "sha256:$(sha256_of "$work/big-$i")" == "$BIG_LAYER" ]] || all_same=0
done
check "every client got the blob's exact bytes" test "$all_same" = 1
curl -fsS -o /dev/null -X DELETE "$TOXI_API/proxies/upstream/toxics/slow"
upstream_gets() { grep -c "\"GET /v2/$1 " "$UP_LOG" || true; }
check "the upstream served that blob once" eq "$(upstream_gets "lib/big/blobs/$BIG_LAYER")" 1

# --- 5. tag TTL
check "crane push a new lib/app:v1 to the upstream" crane push --insecure "$work/app2.tar" "$UP/lib/app:v1"
NEW_DIGEST=$(crane digest --insecure "$UP/lib/app:v1")
check "within the TTL the cached digest is served" eq "$(crane digest --insecure "$R/hub/lib/app:v1")" "$APP_DIGEST"
sleep 11
check "after the TTL the moved tag is fetched" eq "$(crane digest --insecure "$R/hub/lib/app:v1")" "$NEW_DIGEST"
check "crane pull of the new image" crane pull --insecure --format oci "$R/hub/lib/app:v1" "$work/pulled-app2"
check "the new image is committed" wait_for_image hub/lib/app "$NEW_DIGEST" v1

# --- 6. an https upstream (a TLS front whose certificate the Wharf process trusts through
#        SSL_CERT_FILE) that then rate-limits: 429s leave cached images served
FRONT_PORT=$(free_port)
python3 "$E2E_LIB_DIR/pull_through_front.py" "$FRONT_PORT" "$UP" "$work/front-cert.pem" "$work/front-key.pem" \
  "$work/rate-limited" "$work/front.log" &
FRONT_PID=$!
for _ in $(seq 50); do curl -ksf -o /dev/null "https://127.0.0.1:$FRONT_PORT/v2/" && break; sleep 0.1; done
check "CreatePullThroughCacheRule with an https upstream" ecr create-pull-through-cache-rule \
  --ecr-repository-prefix secure --upstream-registry-url "https://127.0.0.1:$FRONT_PORT"
check "ValidatePullThroughCacheRule over https: isValid" bash -c "$(declare -f ecr); REG_DATA=$REG_DATA REG_URL=$REG_URL VENV=$VENV; \
  ecr validate-pull-through-cache-rule --ecr-repository-prefix secure | jq -e '.isValid == true'"
check "a pull through the https upstream" eq "$(crane digest --insecure "$R/secure/lib/app:v1")" "$NEW_DIGEST"
check "crane pull secure/lib/app:v1" crane pull --insecure --format oci "$R/secure/lib/app:v1" "$work/secure-app"
check "the https image is committed" wait_for_image secure/lib/app "$NEW_DIGEST" v1
touch "$work/rate-limited"
sleep 11
check "rate-limited, TTL passed: the cached tag still pulls" crane pull --insecure --format oci "$R/secure/lib/app:v1" "$work/secure-app-2"
check "the upstream was asked and answered 429" grep -q '^429 HEAD /v2/lib/app/manifests/v1' "$work/front.log"
code=$(reg_curl -s -o "$work/err429.json" -w '%{http_code}' "$REG_URL/v2/secure/lib/never/manifests/v1")
check "an uncached image while rate-limited: 429 TOOMANYREQUESTS" \
  bash -c "[[ $code == 429 ]] && jq -e '.errors[0].code == \"TOOMANYREQUESTS\"' '$work/err429.json'"
kill "$FRONT_PID" 2>/dev/null || true
FRONT_PID=""

# --- 7. broken link, then no upstream
curl -fsS -o /dev/null -X POST "$TOXI_API/proxies/upstream" -d '{"enabled":false}'
sleep 11
check "link broken, TTL passed: the cached tag still pulls" crane pull --insecure --format oci "$R/hub/lib/app:v1" "$work/cached-1"
check "the cached tag is the last digest seen" eq "$(crane digest --insecure "$R/hub/lib/app:v1")" "$NEW_DIGEST"
kill "$UP_PID" 2>/dev/null || true
wait "$UP_PID" 2>/dev/null || true
UP_PID=""
curl -fsS -o /dev/null -X POST "$TOXI_API/proxies/upstream" -d '{"enabled":true}'
check "upstream stopped: the cached index pulls (skopeo --all)" skopeo copy --quiet --all --src-tls-verify=false \
  --src-creds "AWS:$REG_PASS" "docker://$R/hub/lib/multi:v1" "oci:$work/cached-multi:multi"
check "upstream stopped: the first image pulls by digest" crane pull --insecure --format oci "$R/hub/lib/app@$APP_DIGEST" "$work/cached-2"
code=$(reg_curl -s -o "$work/err.json" -w '%{http_code}' -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
  "$REG_URL/v2/hub/lib/never/manifests/v1")
check "an uncached image with the upstream down: 502 in the OCI error format" \
  bash -c "[[ $code == 502 ]] && jq -e '.errors[0].code == \"UNAVAILABLE\"' '$work/err.json'"

# --- 8. credentials (the upstream is this Wharf itself, which needs Basic auth)
check "crane copy hub/lib/app:v1 to local/app:v1 (the self-upstream's image)" \
  crane copy --insecure "$R/hub/lib/app:v1" "$R/local/app:v1"
check "CreatePullThroughCacheRule self → local (no credentials)" ecr create-pull-through-cache-rule \
  --ecr-repository-prefix self --upstream-registry-url "http://$R" --upstream-repository-prefix local
check "ValidatePullThroughCacheRule without credentials: isValid false with the failure" bash -c "$(declare -f ecr); REG_DATA=$REG_DATA REG_URL=$REG_URL VENV=$VENV; \
  ecr validate-pull-through-cache-rule --ecr-repository-prefix self | jq -e '.isValid == false and (.failure | test(\"credentials\"))'"
SECRET_ARN=$(printf '%s\n' "$REG_PASS" | "$WHARF_BIN" admin --data-dir "$REG_DATA" put-upstream-secret self-wharf --username AWS 2>>"$REG_LOG")
check "put-upstream-secret prints a Secrets Manager ARN" eq "$SECRET_ARN" \
  "arn:aws:secretsmanager:us-east-1:$ACCOUNT:secret:ecr-pullthroughcache/self-wharf"
check "the stored secret holds no plaintext password" python3 - "$REG_DATA/metadata.db" "$REG_PASS" <<'PY'
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("SELECT secret, key_wrap FROM upstream_secrets").fetchall()
assert len(rows) == 1 and rows[0][1] is not None, rows
assert sys.argv[2].encode()[:24] not in rows[0][0], "the password is stored in plaintext"
PY
check "UpdatePullThroughCacheRule sets the credentialArn" bash -c "$(declare -f ecr); REG_DATA=$REG_DATA REG_URL=$REG_URL VENV=$VENV; \
  ecr update-pull-through-cache-rule --ecr-repository-prefix self --credential-arn $SECRET_ARN | jq -e '.credentialArn == \"$SECRET_ARN\" and (.updatedAt | type == \"number\")'"
check "ValidatePullThroughCacheRule with credentials: isValid" bash -c "$(declare -f ecr); REG_DATA=$REG_DATA REG_URL=$REG_URL VENV=$VENV; \
  ecr validate-pull-through-cache-rule --ecr-repository-prefix self | jq -e '.isValid == true'"
check "a pull through the authenticated upstream" eq "$(crane digest --insecure "$R/self/app:v1")" "$NEW_DIGEST"
check "crane pull self/app:v1" crane pull --insecure --format oci "$R/self/app:v1" "$work/self-app"
check "DeletePullThroughCacheRule returns the rule" bash -c "$(declare -f ecr); REG_DATA=$REG_DATA REG_URL=$REG_URL VENV=$VENV; \
  ecr delete-pull-through-cache-rule --ecr-repository-prefix self | jq -e '.ecrRepositoryPrefix == \"self\" and .credentialArn == \"$SECRET_ARN\"'"
check "a second delete: PullThroughCacheRuleNotFoundException" fails_with PullThroughCacheRuleNotFoundException \
  ecr delete-pull-through-cache-rule --ecr-repository-prefix self
check "without a rule, an uncached name stays unknown (404)" eq \
  "$(reg_curl -s -o /dev/null -w '%{http_code}' "$REG_URL/v2/self/other/manifests/v1")" 404

server_survived
summary
