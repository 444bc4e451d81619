#!/usr/bin/env bash
# tests/e2e/tls.sh — real clients over TLS against `wharf serve --tls-self-signed`.
#
# Starts Wharf on a free 127.0.0.1 port with a fresh data dir and --tls-self-signed, then checks:
#  (a) the quick start: DATA/tls/ca.pem logged, keys mode 0600; curl with --cacert speaks HTTP/2
#      and HTTP/1.1; without the CA (or over plain HTTP) nothing is served;
#  (b) the AWS CLI with --ca-bundle: get-login-password, get-authorization-token (an https
#      proxyEndpoint), create-repository, describe-repositories;
#  (c) skopeo with --dest-cert-dir/--src-cert-dir holding the CA: push an OCI image and an index,
#      copy them back byte-identical; without the CA it refuses the certificate;
#  (d) crane with SSL_CERT_FILE: login, push a tarball, digest, pull; without it, refused;
#  (e) oras with --ca-file: login, push a file, pull it back byte-identical;
#  (f) podman (when installed) with --cert-dir: login, pull what skopeo pushed;
#  (g) a restart reuses the CA (clients keep trusting it); a certificate renewed in place (openssl,
#      same CA) is served to new connections after SIGHUP, and a broken key on reload is logged
#      while the renewed certificate stays in service; with --tls-client-ca (a client CA made
#      with openssl) curl and skopeo get in with a certificate from it and are refused without one
#      or with one from another CA; a bad --tls-key, or a key that does not match, stops start-up
#      with a message naming the file.
# The AWS CLI comes from ecr.sh's venv (${WHARF_TOOLS_DIR:-~/.cache/wharf-tools}/venv) when it
# exists, else from PATH. Prints "N passed, N failed"; exits non-zero on any failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need skopeo crane oras curl jq python3 sha256sum cmp openssl
if [[ "$E2E_REGISTRY" != wharf ]]; then
  echo "tls.sh tests Wharf's own TLS listener; E2E_REGISTRY=$E2E_REGISTRY is not supported" >&2
  exit 2
fi
[[ -x "$WHARF_BIN" ]] || { echo "wharf binary not found at $WHARF_BIN (build it or set WHARF_BIN)" >&2; exit 2; }
AWS="${WHARF_TOOLS_DIR:-$HOME/.cache/wharf-tools}/venv/bin/aws"
[[ -x "$AWS" ]] || AWS=$(command -v aws) || { echo "missing tool: aws (run tests/e2e/ecr.sh once for its venv)" >&2; exit 2; }

work=$(mktemp_e2e)
REG_DATA="$work/data"
REG_LOG="$work/server.log"
REG_PORT=$(free_port)
REG_HOST="127.0.0.1:$REG_PORT"
REG_URL="https://$REG_HOST"
CA="$REG_DATA/tls/ca.pem"
R=$REG_HOST
mkdir -p "$REG_DATA"
"$WHARF_BIN" admin --data-dir "$REG_DATA" create-template --prefix ROOT --applied-for CREATE_ON_PUSH >>"$REG_LOG" 2>&1

# tls_start [SERVE_ARGS...]: start `wharf serve --tls-self-signed` on the same data dir and port;
# wait until GET /v2/ answers 401 over HTTPS (trusting only the CA it wrote, presenting the
# client certificate CURL_ID names, if any).
CURL_ID=()
tls_start() {
  "$WHARF_BIN" serve --data-dir "$REG_DATA" --listen "$REG_HOST" --tls-self-signed "$@" >>"$REG_LOG" 2>&1 &
  REG_PID=$!
  local deadline=$((SECONDS + READY_TIMEOUT)) code
  while ((SECONDS < deadline)); do
    if [[ -s "$CA" ]]; then
      code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$CA" "${CURL_ID[@]}" "$REG_URL/v2/" 2>/dev/null) || true
      [[ "$code" == 401 ]] && return 0
    fi
    kill -0 "$REG_PID" 2>/dev/null || { log "wharf exited before serving"; tail -n 20 "$REG_LOG" >&2; return 1; }
    sleep 0.1
  done
  log "wharf not ready over TLS after ${READY_TIMEOUT}s"; tail -n 20 "$REG_LOG" >&2
  return 1
}
eq() { [[ "$1" == "$2" ]] || { echo "expected '$2', got '$1'"; return 1; }; }
# fails CMD...: CMD must fail (a client that does not trust the CA, say).
fails() { if "$@"; then echo "unexpectedly succeeded: $*"; return 1; fi; }

tls_start || { fail "wharf serve --tls-self-signed starts"; summary; exit 1; }
pass "wharf serve --tls-self-signed starts and answers over HTTPS"
CA_SUM=$(sha256_of "$CA")
export AWS_SHARED_CREDENTIALS_FILE="$REG_DATA/credentials" AWS_CONFIG_FILE=/dev/null AWS_DEFAULT_REGION=us-east-1 \
  AWS_EC2_METADATA_DISABLED=true
aws_ecr() { "$AWS" ecr "$@" --endpoint-url "$REG_URL" --ca-bundle "$CA" --output json; }

# ------------------------------------------------------------------------------------------------
# (a) the quick start and the protocols
log "--- quick start"
check "the log names the CA file for clients" bash -o pipefail -c \
  "grep -F 'clients trust the CA file' '$REG_LOG' | grep -qF '$CA'"
check "server.key and ca.key are mode 0600" bash -c \
  "[[ \$(stat -c %a '$REG_DATA/tls/server.key') == 600 && \$(stat -c %a '$REG_DATA/tls/ca.key') == 600 ]]"
check "HTTP/2 by ALPN (curl --http2)" eq \
  "$(curl -sS -o /dev/null -w '%{http_version} %{http_code}' --http2 --cacert "$CA" "$REG_URL/v2/")" "2 401"
check "HTTP/1.1 by ALPN (curl --http1.1)" eq \
  "$(curl -sS -o /dev/null -w '%{http_version} %{http_code}' --http1.1 --cacert "$CA" "$REG_URL/v2/")" "1.1 401"
check "the certificate covers localhost too" eq \
  "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA" "https://localhost:$REG_PORT/healthz")" "200"
check "curl without the CA refuses the certificate" fails curl -sS -o /dev/null --max-time 5 "$REG_URL/v2/"
check "plain HTTP on the TLS port gets no HTTP answer" fails curl -sS -o /dev/null --max-time 5 "http://$REG_HOST/v2/"

# ------------------------------------------------------------------------------------------------
# (b) the AWS CLI
log "--- aws cli ($("$AWS" --version 2>&1))"
PW=$(aws_ecr get-login-password 2>>"$work/aws.err" | tr -d '\n') || PW=""
check "aws ecr get-login-password --ca-bundle" test -n "$PW"
check "get-authorization-token's proxyEndpoint is https" eq \
  "$(aws_ecr get-authorization-token 2>&1 | jq -r '.authorizationData[0].proxyEndpoint' 2>&1)" "https://$REG_HOST"
check "aws ecr create-repository --ca-bundle" bash -c \
  "$(declare -f aws_ecr); AWS='$AWS' CA='$CA' REG_URL='$REG_URL'; aws_ecr create-repository --repository-name e2e/tls-aws >/dev/null"
check "aws without --ca-bundle refuses the certificate" fails \
  "$AWS" ecr describe-repositories --endpoint-url "$REG_URL" --output json
export REG_USER=AWS REG_PASS=$PW
export REGISTRY_AUTH_FILE="$work/skopeo-auth.json" DOCKER_CONFIG="$work/docker"
mkdir -p "$DOCKER_CONFIG"

# ------------------------------------------------------------------------------------------------
# (c) skopeo
log "--- skopeo"
python3 "$E2E_LIB_DIR/mkimage.py" --out "$work/src" --layers 2 --layer-size $((128 * 1024)) \
  --docker-tar "$work/image.tar" --tag "wharf-e2e/tls:v1" >"$work/src.json"
IMG_DIGEST=$(jq -r .image "$work/src.json")
IDX_DIGEST=$(jq -r .index "$work/src.json")
certs="$work/certs"
mkdir -p "$certs" && cp "$CA" "$certs/ca.crt"
cat >"$work/policy.json" <<'JSON'
{"default":[{"type":"insecureAcceptAnything"}]}
JSON
sk() { skopeo --policy "$work/policy.json" "$@"; }
check "skopeo login --cert-dir" bash -c \
  "printf '%s' \"\$REG_PASS\" | skopeo login --cert-dir '$certs' -u AWS --password-stdin '$R'"
check "skopeo without the CA refuses the certificate" fails \
  sk copy -q "oci:$work/src:image" "docker://$R/e2e/tls-skopeo:refused"
check "skopeo copy image --dest-cert-dir" \
  sk copy -q --preserve-digests --dest-cert-dir "$certs" "oci:$work/src:image" "docker://$R/e2e/tls-skopeo:image"
check "skopeo copy --all index --dest-cert-dir" \
  sk copy -q --all --preserve-digests --dest-cert-dir "$certs" "oci:$work/src:index" "docker://$R/e2e/tls-skopeo:index"
check "skopeo inspect --raw digest over TLS" eq \
  "sha256:$(sk inspect --raw --cert-dir "$certs" "docker://$R/e2e/tls-skopeo:index" | sha256sum | cut -d' ' -f1)" "$IDX_DIGEST"
check "skopeo copy --all back --src-cert-dir" \
  sk copy -q --all --preserve-digests --src-cert-dir "$certs" "docker://$R/e2e/tls-skopeo:index" "oci:$work/back:index"
same_blobs() {
  local f n=0
  for f in "$1"/blobs/sha256/*; do
    cmp -s "$f" "$2/blobs/sha256/$(basename "$f")" || { echo "blob $(basename "$f") differs or missing"; return 1; }
    n=$((n + 1))
  done
  echo "$n blobs identical"
}
check "skopeo round trip: blobs byte-identical" same_blobs "$work/src" "$work/back"

# ------------------------------------------------------------------------------------------------
# (d) crane
log "--- crane"
TAR_DIGEST=$(crane digest --tarball "$work/image.tar")
check "crane auth login (SSL_CERT_FILE)" bash -c \
  "printf '%s' \"\$REG_PASS\" | SSL_CERT_FILE='$CA' crane auth login '$R' -u AWS --password-stdin"
check "crane without the CA refuses the certificate" fails crane digest "$R/e2e/tls-skopeo:image"
check "crane push tarball (SSL_CERT_FILE)" env SSL_CERT_FILE="$CA" crane push "$work/image.tar" "$R/e2e/tls-crane:v1"
check "crane digest (SSL_CERT_FILE)" eq "$(SSL_CERT_FILE="$CA" crane digest "$R/e2e/tls-crane:v1" 2>&1)" "$TAR_DIGEST"
check "crane digest of skopeo's image" eq "$(SSL_CERT_FILE="$CA" crane digest "$R/e2e/tls-skopeo:image" 2>&1)" "$IMG_DIGEST"
check "crane pull (SSL_CERT_FILE)" env SSL_CERT_FILE="$CA" crane pull --format oci "$R/e2e/tls-crane:v1" "$work/crane-pull"
check "crane pulled manifest digest" eq "$(jq -r '.manifests[0].digest' "$work/crane-pull/index.json" 2>&1)" "$TAR_DIGEST"

# ------------------------------------------------------------------------------------------------
# (e) oras
log "--- oras"
head -c 100000 /dev/urandom >"$work/notes.bin"
check "oras login --ca-file" bash -c \
  "printf '%s' \"\$REG_PASS\" | oras login --ca-file '$CA' -u AWS --password-stdin '$R'"
check "oras push --ca-file" bash -c \
  "cd '$work' && oras push --ca-file '$CA' '$R/e2e/tls-oras:v1' --artifact-type application/vnd.example.notes notes.bin"
check "oras pull --ca-file: byte-identical" bash -c \
  "mkdir -p '$work/oras-out' && oras pull --ca-file '$CA' -o '$work/oras-out' '$R/e2e/tls-oras:v1' && cmp '$work/notes.bin' '$work/oras-out/notes.bin'"
check "oras without the CA refuses the certificate" fails oras repo tags "$R/e2e/tls-oras"

# ------------------------------------------------------------------------------------------------
# (f) podman
if command -v podman >/dev/null 2>&1; then
  log "--- podman"
  check "podman login --cert-dir" bash -c \
    "printf '%s' \"\$REG_PASS\" | podman login --cert-dir '$certs' -u AWS --password-stdin '$R'"
  check "podman pull --cert-dir" podman pull -q --cert-dir "$certs" "$R/e2e/tls-skopeo:image"
else
  log "podman is not installed; its checks did not run"
fi

# Every repository the clients pushed to, listed through the AWS CLI over TLS.
check "aws ecr describe-repositories lists what the clients pushed" bash -c \
  "$(declare -f aws_ecr); AWS='$AWS' CA='$CA' REG_URL='$REG_URL'
   got=\$(aws_ecr describe-repositories | jq -r '[.repositories[].repositoryName] | sort | join(\" \")')
   [[ \"\$got\" == 'e2e/tls-aws e2e/tls-crane e2e/tls-oras e2e/tls-skopeo' ]] || { echo \"got: \$got\"; exit 1; }"

# ------------------------------------------------------------------------------------------------
# (g) restart and start-up errors
log "--- restart"
registry_stop
tls_start || fail "wharf restarts with --tls-self-signed"
check "a restart reuses the CA" eq "$(sha256_of "$CA")" "$CA_SUM"
check "crane digest after the restart" eq "$(SSL_CERT_FILE="$CA" crane digest "$R/e2e/tls-crane:v1" 2>&1)" "$TAR_DIGEST"

log "--- reload on SIGHUP"
# served_serial: the serial of the certificate a new connection is given.
served_serial() {
  openssl s_client -connect "$REG_HOST" -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -serial
}
# A new server certificate from the same CA, with openssl, swapped in by rename.
tlsdir="$REG_DATA/tls"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=renewed" \
  -keyout "$work/renewed.key" -out "$work/renewed.csr" 2>/dev/null
openssl x509 -req -in "$work/renewed.csr" -CA "$tlsdir/ca.pem" -CAkey "$tlsdir/ca.key" -CAcreateserial -days 2 \
  -extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n') \
  -out "$work/renewed.pem" 2>/dev/null
NEW_SERIAL=$(openssl x509 -in "$work/renewed.pem" -noout -serial)
OLD_SERIAL=$(served_serial || true)
cp "$tlsdir/server.key" "$work/original.key" && cp "$tlsdir/server.pem" "$work/original.pem"
cp "$work/renewed.key" "$tlsdir/server.key.new" && mv "$tlsdir/server.key.new" "$tlsdir/server.key"
cp "$work/renewed.pem" "$tlsdir/server.pem.new" && mv "$tlsdir/server.pem.new" "$tlsdir/server.pem"
kill -HUP "$REG_PID"
# waits_for_serial SERIAL: new connections get SERIAL within 5 s.
waits_for_serial() {
  local i got=""
  for ((i = 0; i < 50; i++)); do
    got=$(served_serial || true)
    [[ "$got" == "$1" ]] && return 0
    sleep 0.1
  done
  echo "served '$got', expected '$1'"
  return 1
}
check "the old certificate was served before the reload" bash -c "[[ -n '$OLD_SERIAL' && '$OLD_SERIAL' != '$NEW_SERIAL' ]]"
check "after SIGHUP new connections get the renewed certificate" waits_for_serial "$NEW_SERIAL"
check "curl verifies the renewed certificate" eq \
  "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA" "$REG_URL/v2/")" 401
check "wharf still running after the reload" kill -0 "$REG_PID"
# A broken key: the reload fails, is logged, and the renewed certificate stays in service.
printf 'not a key\n' >"$tlsdir/server.key"
kill -HUP "$REG_PID"
sleep 1
check "a bad key on reload is logged as an error" grep -q "still serving the previous certificate" "$REG_LOG"
check "after a failed reload the renewed certificate is still served" waits_for_serial "$NEW_SERIAL"
check "crane still pulls after the failed reload" eq "$(SSL_CERT_FILE="$CA" crane digest "$R/e2e/tls-crane:v1" 2>&1)" "$TAR_DIGEST"
# Back to the quick start's own pair for the next start.
cp "$work/original.key" "$tlsdir/server.key" && cp "$work/original.pem" "$tlsdir/server.pem"
registry_stop

log "--- client certificates"
cc="$work/client-certs"
mkdir -p "$cc"
make_client_certs() {
  local ca=$1 name=$2
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$ca" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
    -keyout "$cc/$ca.key" -out "$cc/$ca.pem" 2>/dev/null &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
      -keyout "$cc/$name.key" -out "$cc/$name.csr" 2>/dev/null &&
    openssl x509 -req -in "$cc/$name.csr" -CA "$cc/$ca.pem" -CAkey "$cc/$ca.key" -CAcreateserial -days 2 \
      -extfile <(printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n') -out "$cc/$name.pem" 2>/dev/null
}
make_client_certs clients-ca ci-runner && make_client_certs other-ca intruder || fail "openssl made the client certificates"
CURL_ID=(--cert "$cc/ci-runner.pem" --key "$cc/ci-runner.key")
if tls_start --tls-client-ca "$cc/clients-ca.pem"; then
  pass "wharf serve --tls-self-signed --tls-client-ca starts"
  check "curl with a certificate from the client CA" eq \
    "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA" "${CURL_ID[@]}" "$REG_URL/v2/")" 401
  check "curl without a client certificate is refused" fails \
    curl -sS -o /dev/null --max-time 5 --cacert "$CA" "$REG_URL/v2/"
  check "curl with a certificate from another CA is refused" fails \
    curl -sS -o /dev/null --max-time 5 --cacert "$CA" --cert "$cc/intruder.pem" --key "$cc/intruder.key" "$REG_URL/v2/"
  # skopeo reads the client certificate from the cert dir (NAME.cert + NAME.key, nothing else).
  mine="$work/client-dir"
  mkdir -p "$mine" && cp "$certs/ca.crt" "$mine/ca.crt" && cp "$cc/ci-runner.pem" "$mine/ci-runner.cert" &&
    cp "$cc/ci-runner.key" "$mine/ci-runner.key"
  check "skopeo inspect with a client certificate (--cert-dir)" eq \
    "sha256:$(sk inspect --raw --cert-dir "$mine" --creds "AWS:$PW" "docker://$R/e2e/tls-skopeo:index" | sha256sum | cut -d' ' -f1)" "$IDX_DIGEST"
  check "skopeo without a client certificate is refused" fails \
    sk inspect --raw --cert-dir "$certs" --creds "AWS:$PW" "docker://$R/e2e/tls-skopeo:index"
else
  fail "wharf serve --tls-self-signed --tls-client-ca starts"
fi
CURL_ID=()
registry_stop

printf 'not a key\n' >"$work/bad.key"
out=$("$WHARF_BIN" serve --data-dir "$REG_DATA" --listen "$REG_HOST" --tls-cert "$REG_DATA/tls/server.pem" \
  --tls-key "$work/bad.key" 2>&1) && rc=0 || rc=$?
check "a bad --tls-key stops start-up with a message naming the file" bash -c \
  "(($rc != 0)) && grep -qF 'tls_key file $work/bad.key is not PEM' <<<'$out' || { echo 'exit $rc: $out'; exit 1; }"
out=$("$WHARF_BIN" serve --data-dir "$REG_DATA" --listen "$REG_HOST" --tls-cert "$CA" \
  --tls-key "$REG_DATA/tls/server.key" 2>&1) && rc=0 || rc=$?
check "a key that does not match the certificate stops start-up" bash -c \
  "(($rc != 0)) && grep -qF 'does not match the certificate in tls_cert file $CA' <<<'$out' || { echo 'exit $rc: $out'; exit 1; }"

if grep -q "panicked" "$REG_LOG"; then
  fail "no panic in the server log" "$(grep -m3 panicked "$REG_LOG")"
else
  pass "no panic in the server log"
fi
mkdir -p "$RESULTS_DIR/tls" && cp "$REG_LOG" "$RESULTS_DIR/tls/server.log" 2>/dev/null || true
summary
