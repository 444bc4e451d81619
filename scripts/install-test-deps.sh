#!/usr/bin/env bash
# install-test-deps.sh — install the third-party clients used by tests/e2e and bench/.
#
# Idempotent. Installs with apt (only running `apt-get update` when something is missing):
#   skopeo, docker-registry (CNCF Distribution, the benchmark baseline), wrk, curl, jq, python3,
#   postgresql (Debian's PostgreSQL server; scripts/postgres.sh starts throwaway clusters with it),
#   chromium + chromium-driver (Debian's headless browser and its WebDriver, which
#   tests/e2e/console.sh drives the web console with).
# Builds with Go into ${WHARF_TOOLS_DIR:-~/.cache/wharf-tools}/bin, skipping any tool whose stamp
# file (bin/.<tool>.version) already records the pinned version:
#   crane        github.com/google/go-containerregistry/cmd/crane@v0.20.6
#   oras         oras.land/oras/cmd/oras@v1.3.0
#   cosign       github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5, which tests/e2e/signing.sh verifies
#                Wharf's managed signatures with (`cosign verify --key`).
#   toxiproxy    github.com/Shopify/toxiproxy/v2 v2.5.0 (server + CLI): slow and broken links between
#                Wharf and a pull-through upstream in tests/e2e/pull_through.sh.
#   conformance  the OCI distribution-spec conformance suite, pinned to a commit pseudo-version
#                (the tagged releases are not served by the module proxy we can reach).
#   syft         github.com/anchore/syft/cmd/syft@v1.57.2, the reference SBOM generator that
#                tests/e2e/scan.sh compares Wharf's package inventory against. Built with
#                `go install`, so `syft version` prints no version: the stamp file records it.
#   local-kms    github.com/nsmithuk/local-kms, an AWS KMS emulator that the wharf-kms tests run
#                against (scripts/local-kms.sh starts it). Pinned to a commit pseudo-version; it
#                prints no version either, so the stamp file records it.
# Builds with cargo (crates.io) into the same bin directory, skipped the same way:
#   garage       Garage v2.5.0, the S3-compatible store the S3 storage tests run against
#                (scripts/garage.sh starts it). Built from source: the crates.io package is the only
#                release we can fetch. Features: sqlite metadata only (bundled SQLite and
#                libsodium, so no system libraries); no lmdb, k2v or Prometheus metrics.
#                Set CARGO_BUILD_JOBS to limit the build's parallelism.
# Requires Go >= 1.24 on PATH (or in /usr/local/go/bin); Debian's golang-go is too old. Requires
# cargo (rustup's, on PATH or in ~/.cargo/bin) plus a C compiler and make, for garage.
# Prints the tool directory's bin path last, so callers may do: PATH="$(scripts/install-test-deps.sh | tail -1):$PATH"
set -euo pipefail

TOOLS_DIR="${WHARF_TOOLS_DIR:-$HOME/.cache/wharf-tools}"
BIN="$TOOLS_DIR/bin"
CRANE_VERSION="v0.20.6"
ORAS_VERSION="v1.3.0"
COSIGN_VERSION="v2.6.5"
TOXIPROXY_VERSION="v2.5.0"
SYFT_VERSION="v1.57.2"
LOCAL_KMS_VERSION="v0.0.0-20260228092603-2a5e92d09ab6"
CONFORMANCE_MODULE="github.com/opencontainers/distribution-spec/conformance"
CONFORMANCE_VERSION="v0.0.0-20260831232431-97274622c111"
GARAGE_VERSION="2.5.0"
GARAGE_FEATURES="bundled-libs,sqlite"

log() { echo "install-test-deps: $*" >&2; }

# ---- apt packages ----------------------------------------------------------------------------
APT_PKGS=(skopeo docker-registry wrk curl jq python3 ca-certificates postgresql nginx-light prometheus chromium chromium-driver)
missing=()
for p in "${APT_PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  log "apt installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
else
  log "apt packages already installed"
fi
# The Debian package enables a system docker-registry service on :5000; we never use it (the
# tests start their own instances on free ports), so leave it as the package configured it.
# Likewise postgresql creates a cluster "main" on :5432 that the system may start; the tests never
# use it (scripts/postgres.sh initdb's its own under the test's directory and, when :5432 is taken,
# picks a free port). nginx-light is the load balancer in front of the two-node cluster tests
# (tests/e2e/cluster-serve.sh runs its own instance on a free port); the package's own site on :80
# is never used.

# ---- Go toolchain ----------------------------------------------------------------------------
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
  PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null 2>&1; then
  log "ERROR: Go >= 1.24 is required to build crane/oras/conformance/syft/local-kms (install from https://go.dev/dl or actions/setup-go)"
  exit 1
fi
gover=$(go env GOVERSION | sed 's/^go//')
if ! printf '%s\n%s\n' "1.24" "$gover" | sort -V -C; then
  log "ERROR: Go $gover is too old; need >= 1.24"
  exit 1
fi
export GOPROXY="${GOPROXY:-https://proxy.golang.org,direct}"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
mkdir -p "$BIN"

# stamp_ok TOOL VERSION: true when BIN/TOOL exists and its stamp records VERSION.
stamp_ok() { [[ -x "$BIN/$1" && -f "$BIN/.$1.version" && "$(cat "$BIN/.$1.version")" == "$2" ]]; }
stamp_write() { echo "$2" >"$BIN/.$1.version"; }

# crane
if stamp_ok crane "$CRANE_VERSION"; then
  log "crane $CRANE_VERSION already built"
else
  log "building crane $CRANE_VERSION"
  GOBIN="$BIN" go install "github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION"
  stamp_write crane "$CRANE_VERSION"
fi

# oras: the checksum database (sum.golang.org) has no entry for oras.land/oras@v1.3.0 through our
# proxy (404), so skip the sumdb lookup for that one module; its dependencies are still verified.
if stamp_ok oras "$ORAS_VERSION"; then
  log "oras $ORAS_VERSION already built"
else
  log "building oras $ORAS_VERSION"
  GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}oras.land" GOBIN="$BIN" go install "oras.land/oras/cmd/oras@$ORAS_VERSION"
  stamp_write oras "$ORAS_VERSION"
fi

# cosign
if stamp_ok cosign "$COSIGN_VERSION"; then
  log "cosign $COSIGN_VERSION already built"
else
  log "building cosign $COSIGN_VERSION"
  GOBIN="$BIN" go install "github.com/sigstore/cosign/v2/cmd/cosign@$COSIGN_VERSION"
  stamp_write cosign "$COSIGN_VERSION"
fi

# toxiproxy (server and CLI; the module names its commands cmd/server and cmd/cli)
if stamp_ok toxiproxy-server "$TOXIPROXY_VERSION"; then
  log "toxiproxy $TOXIPROXY_VERSION already built"
else
  log "building toxiproxy $TOXIPROXY_VERSION"
  toxi_tmp=$(mktemp -d)
  GOBIN="$toxi_tmp" go install "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION" \
    "github.com/Shopify/toxiproxy/v2/cmd/cli@$TOXIPROXY_VERSION"
  install -m 0755 "$toxi_tmp/server" "$BIN/toxiproxy-server"
  install -m 0755 "$toxi_tmp/cli" "$BIN/toxiproxy-cli"
  rm -rf "$toxi_tmp"
  stamp_write toxiproxy-server "$TOXIPROXY_VERSION"
fi

# OCI conformance suite. This version is a `main` package (`go build`); the old `go test` entry
# point survives only as a deprecated "legacy" wrapper, so we build the real binary.
if stamp_ok conformance "$CONFORMANCE_VERSION"; then
  log "conformance $CONFORMANCE_VERSION already built"
else
  log "building OCI conformance suite $CONFORMANCE_VERSION"
  src=$(GOPROXY=https://proxy.golang.org go mod download -json "$CONFORMANCE_MODULE@$CONFORMANCE_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  cp -r "$src" "$tmp/conformance"
  chmod -R u+w "$tmp/conformance"
  (cd "$tmp/conformance" && go build -o "$BIN/conformance" .)
  # Keep the README next to the binary: it documents every OCI_* setting of this version.
  cp "$src/README.md" "$BIN/conformance.README.md"
  chmod u+w "$BIN/conformance.README.md"
  stamp_write conformance "$CONFORMANCE_VERSION"
fi

# syft: a few minutes on two cores the first time (a large module graph).
if stamp_ok syft "$SYFT_VERSION"; then
  log "syft $SYFT_VERSION already built"
else
  log "building syft $SYFT_VERSION"
  GOBIN="$BIN" go install "github.com/anchore/syft/cmd/syft@$SYFT_VERSION"
  stamp_write syft "$SYFT_VERSION"
fi

# local-kms: a small module graph, seconds to build.
if stamp_ok local-kms "$LOCAL_KMS_VERSION"; then
  log "local-kms $LOCAL_KMS_VERSION already built"
else
  log "building local-kms $LOCAL_KMS_VERSION"
  GOBIN="$BIN" go install "github.com/nsmithuk/local-kms@$LOCAL_KMS_VERSION"
  stamp_write local-kms "$LOCAL_KMS_VERSION"
fi

# garage: `cargo install --locked` uses the Cargo.lock shipped in the crate. The stamp records the
# version and the features, so a change to either rebuilds.
if ! command -v cargo >/dev/null 2>&1 && [[ -x "$HOME/.cargo/bin/cargo" ]]; then
  PATH="$HOME/.cargo/bin:$PATH"
fi
if stamp_ok garage "$GARAGE_VERSION $GARAGE_FEATURES"; then
  log "garage $GARAGE_VERSION already built"
else
  command -v cargo >/dev/null 2>&1 || { log "ERROR: cargo is required to build garage"; exit 1; }
  log "building garage $GARAGE_VERSION (features $GARAGE_FEATURES); this takes a while"
  # opt-level 1 and no debug info: a test server, built once per machine, roughly halves the build.
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=0 \
    cargo install garage --locked --version "$GARAGE_VERSION" --no-default-features \
    --features "$GARAGE_FEATURES" --root "$TOOLS_DIR" --force >&2
  "$BIN/garage" --version | grep -qF -- "$GARAGE_VERSION" || { log "ERROR: $BIN/garage is not v$GARAGE_VERSION"; exit 1; }
  stamp_write garage "$GARAGE_VERSION $GARAGE_FEATURES"
fi

for t in crane oras cosign toxiproxy-server conformance syft local-kms garage; do [[ -x "$BIN/$t" ]] || { log "ERROR: $BIN/$t missing"; exit 1; }; done
log "tools ready in $BIN"
echo "$BIN"
