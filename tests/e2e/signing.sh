#!/usr/bin/env bash
# tests/e2e/signing.sh — ECR managed signing end to end, verified by cosign.
#
#  1. Builds cosign (v2.6.5, cached in the tools directory) when it is missing; starts Wharf.
#  2. `wharf admin create-signing-profile` makes three profiles (release_key, extra_key, other_key);
#     `wharf admin signing-public-key` prints their PEM public keys.
#  3. Through the AWS CLI: GetSigningConfiguration before any (SigningConfigurationNotFoundException),
#     PutSigningConfiguration with an unknown profile (InvalidParameterException) and with a bad
#     filter type (refused), then WILDCARD_MATCH rules: `team/*` signed with release_key and
#     `team/app` with extra_key too (echoed by GetSigningConfiguration).
#  4. crane pushes team/app:v1 (inside the filter) and other/app:v1 (outside): DescribeImageSigningStatus
#     reaches COMPLETE for team/app and lists nothing for other/app.
#  5. `cosign verify --key` accepts team/app@digest with release_key's and with extra_key's public
#     key (both signatures sit in the `.sig` manifest; registry credentials from the `crane auth
#     login` docker config); other_key's key, and the unsigned image, fail.
#     The signature is an OCI referrer of the image and sits under the tag sha256-<hex>.sig.
#  6. DeleteSigningConfiguration returns the configuration; a second delete is not found, and a
#     push after it is not signed.
#
# Environment: WHARF_BIN, KEEP_TMP, READY_TIMEOUT (lib.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

TOOLS_BIN="${WHARF_TOOLS_DIR:-$HOME/.cache/wharf-tools}/bin"
VENV="${WHARF_TOOLS_DIR:-$HOME/.cache/wharf-tools}/venv"
[[ -x "$VENV/bin/aws" ]] || { echo "missing $VENV/bin/aws (run tests/e2e/ecr.sh once, or scripts/install-test-deps.sh)" >&2; exit 2; }
export PATH="$TOOLS_BIN:$PATH"
if ! command -v cosign >/dev/null; then
  log "building cosign v2.6.5 into $TOOLS_BIN"
  GOBIN="$TOOLS_BIN" PATH="/usr/local/go/bin:$PATH" go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5
  echo v2.6.5 >"$TOOLS_BIN/.cosign.version"
fi
need crane cosign curl jq python3
[[ "$E2E_REGISTRY" == wharf ]] || { echo "signing.sh needs wharf admin; E2E_REGISTRY=$E2E_REGISTRY is not supported" >&2; exit 2; }

work=$(mktemp_e2e)
export DOCKER_CONFIG="$work/docker" TUF_ROOT="$work/tuf"
mkdir -p "$DOCKER_CONFIG"
export WHARF_JOB_RETRY_BASE_SECS=1 WHARF_JOB_RETRY_MAX_SECS=4
trap 'e2e_cleanup' EXIT

registry_start "$work/data"
ecr() {
  AWS_SHARED_CREDENTIALS_FILE="$REG_DATA/credentials" AWS_CONFIG_FILE=/dev/null AWS_DEFAULT_REGION=us-east-1 \
    AWS_EC2_METADATA_DISABLED=true "$VENV/bin/aws" --endpoint-url "$REG_URL" --output json ecr "$@"
}
eq() { [[ "$1" == "$2" ]] || { echo "expected '$2', got '$1'"; return 1; }; }
# fails_with CODE CMD...: the command fails and its error names CODE.
fails_with() {
  local code=$1 out
  shift
  if out=$("$@" 2>&1); then echo "succeeded: $out"; return 1; fi
  grep -q "$code" <<<"$out" || { echo "$out"; return 1; }
}
ACCOUNT=$(ecr describe-registry | jq -r .registryId)

# --- 2. profiles
ARN=$("$WHARF_BIN" admin --data-dir "$REG_DATA" create-signing-profile release_key)
"$WHARF_BIN" admin --data-dir "$REG_DATA" create-signing-profile other_key >/dev/null
EXTRA_ARN=$("$WHARF_BIN" admin --data-dir "$REG_DATA" create-signing-profile extra_key)
check "create-signing-profile prints a Signer ARN" eq "$ARN" "arn:aws:signer:us-east-1:$ACCOUNT:/signing-profiles/release_key"
check "a second profile of the same name is refused" bash -c "! '$WHARF_BIN' admin --data-dir '$REG_DATA' create-signing-profile release_key"
"$WHARF_BIN" admin --data-dir "$REG_DATA" signing-public-key release_key >"$work/release.pem"
"$WHARF_BIN" admin --data-dir "$REG_DATA" signing-public-key other_key >"$work/other.pem"
"$WHARF_BIN" admin --data-dir "$REG_DATA" signing-public-key extra_key >"$work/extra.pem"
check "signing-public-key prints a PEM public key" grep -q "BEGIN PUBLIC KEY" "$work/release.pem"
check "the private key is not in the server log" bash -c "! grep -q 'PRIVATE KEY' '$REG_LOG'"

# --- 3. configuration
check "GetSigningConfiguration before any: not found" fails_with SigningConfigurationNotFoundException ecr get-signing-configuration
check "PutSigningConfiguration with an unknown profile: InvalidParameterException" fails_with InvalidParameterException \
  ecr put-signing-configuration --signing-configuration "{\"rules\":[{\"signingProfileArn\":\"arn:aws:signer:us-east-1:$ACCOUNT:/signing-profiles/nope\"}]}"
check "PutSigningConfiguration with a bad filter type is refused" fails_with "Exception" \
  ecr put-signing-configuration --signing-configuration "{\"rules\":[{\"signingProfileArn\":\"$ARN\",\"repositoryFilters\":[{\"filter\":\"team/*\",\"filterType\":\"PREFIX_MATCH\"}]}]}"
CONFIG="{\"rules\":[{\"signingProfileArn\":\"$ARN\",\"repositoryFilters\":[{\"filter\":\"team/*\",\"filterType\":\"WILDCARD_MATCH\"}]},{\"signingProfileArn\":\"$EXTRA_ARN\",\"repositoryFilters\":[{\"filter\":\"team/app\",\"filterType\":\"WILDCARD_MATCH\"}]}]}"
check "PutSigningConfiguration (AWS CLI)" ecr put-signing-configuration --signing-configuration "$CONFIG"
check "GetSigningConfiguration returns it" eq "$(ecr get-signing-configuration | jq -c '[.registryId, .signingConfiguration]')" "[\"$ACCOUNT\",$CONFIG]"

# --- 4. pushes
"$WHARF_BIN" admin --data-dir "$REG_DATA" login-password | crane auth login "$REG_HOST" -u AWS --password-stdin >/dev/null 2>&1
python3 "$E2E_LIB_DIR/mkimage.py" --out "$work/img" --layers 2 --layer-size $((64 * 1024)) \
  --docker-tar "$work/image.tar" --tag "team/app:v1" >/dev/null
check "crane push team/app:v1" crane push --insecure "$work/image.tar" "$REG_HOST/team/app:v1"
check "crane push other/app:v1 (outside the filter)" crane push --insecure "$work/image.tar" "$REG_HOST/other/app:v1"
DIGEST=$(crane digest --insecure "$REG_HOST/team/app:v1")

status_of() {
  ecr describe-image-signing-status --repository-name "$1" --image-id "imageDigest=$2" |
    jq -r '[.signingStatuses[] | "\(.signingProfileArn) \(.status)"] | join(",")'
}
wait_complete() {
  local got="" deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    got=$(status_of team/app "$DIGEST" 2>/dev/null) || got=""
    [[ "$got" == "$EXTRA_ARN COMPLETE,$ARN COMPLETE" ]] && return 0
    sleep 0.5
  done
  echo "signing status of team/app@$DIGEST: '$got'"
  return 1
}
check "DescribeImageSigningStatus reaches COMPLETE for both profiles" wait_complete
check "the image outside the filter has no signing status" eq "$(status_of other/app "$DIGEST")" ""
check "DescribeImageSigningStatus of a missing image: ImageNotFoundException" fails_with ImageNotFoundException \
  ecr describe-image-signing-status --repository-name team/app --image-id imageTag=nope

# --- 5. cosign
verify() { # verify PEM REPO
  cosign verify --key "$1" --insecure-ignore-tlog=true --allow-insecure-registry --allow-http-registry \
    "$REG_HOST/$2@$DIGEST"
}
check "cosign verify --key accepts the signature" verify "$work/release.pem" team/app
check "cosign verify --key accepts the second profile's signature too" verify "$work/extra.pem" team/app
# refused WANT PEM REPO: cosign verify fails, saying WANT.
refused() {
  local out
  if out=$(verify "$2" "$3" 2>&1); then echo "cosign verify succeeded: $out"; return 1; fi
  grep -q "$1" <<<"$out" || { echo "$out"; return 1; }
}
check "cosign verify with another profile's key fails" refused "invalid signature" "$work/other.pem" team/app
check "cosign verify of the unsigned image fails" refused "no signatures found" "$work/release.pem" other/app
SIG_TAG="sha256-${DIGEST#sha256:}.sig"
SIG_DIGEST=$(crane digest --insecure "$REG_HOST/team/app:$SIG_TAG")
check "the signature is an OCI referrer of the image" bash -c \
  "reg_curl -s '$REG_URL/v2/team/app/referrers/$DIGEST' | jq -r '.manifests[].digest' | grep -qx '$SIG_DIGEST'"
check "the .sig manifest holds both signatures" eq "$(crane manifest --insecure "$REG_HOST/team/app:$SIG_TAG" | jq '.layers | length')" 2

# --- 6. delete
check "DeleteSigningConfiguration returns it" eq "$(ecr delete-signing-configuration | jq -c .signingConfiguration)" "$CONFIG"
check "a second delete: SigningConfigurationNotFoundException" fails_with SigningConfigurationNotFoundException ecr delete-signing-configuration
python3 "$E2E_LIB_DIR/mkimage.py" --out "$work/img2" --layers 1 --layer-size $((32 * 1024)) \
  --docker-tar "$work/image2.tar" --tag "team/app:v2" >/dev/null
check "crane push team/app:v2" crane push --insecure "$work/image2.tar" "$REG_HOST/team/app:v2"
D2=$(crane digest --insecure "$REG_HOST/team/app:v2")
sleep 2
check "a push after the delete is not signed" eq "$(status_of team/app "$D2")" ""

registry_stop
summary
