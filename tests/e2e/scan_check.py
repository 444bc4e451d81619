#!/usr/bin/env python3
"""tests/e2e/scan_check.py — image scanning end to end against one running `wharf serve`.

Run by tests/e2e/scan.sh, which starts the server and sets the environment of
tests/e2e/ecr/harness.py plus:
  SCAN_FIXTURES   tests/e2e/fixtures (osv/ records and scan-expected.json)
  SCAN_CACHE      the mkscanimage.py cache dir (built inputs)
  SYFT_BIN        the syft executable (v1.57.2)
  SCAN_MIN_RATIO  per-type share of Syft's packages Wharf must find (default 0.95)

The cases run in order and share state (the image pushed, its digest): import the OSV fixtures
with `wharf vulndb import`, create a repository with scanOnPush, push the mkscanimage.py image,
wait with boto3's image_scan_complete waiter, then check the findings, DescribeImages' summary,
the SBOMs `wharf scan sbom` prints (and their OCI referrers), and Wharf's inventory against
Syft's scan of the same image pulled from Wharf.
"""

import collections
import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import mkscanimage  # noqa: E402
from ecr.harness import (  # noqa: E402
    DATA_DIR,
    ENDPOINT,
    HOST,
    TMP,
    WHARF_BIN,
    admin_keys,
    case,
    client,
    eq,
    password_of,
    run,
    run_cases,
    v2,
)

FIXTURES = os.environ.get("SCAN_FIXTURES") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
CACHE = os.environ.get("SCAN_CACHE") or os.path.join(
    os.environ.get("WHARF_TOOLS_DIR", os.path.expanduser("~/.cache/wharf-tools")), "scan-fixtures")
SYFT = os.environ.get("SYFT_BIN", "syft")
MIN_RATIO = float(os.environ.get("SCAN_MIN_RATIO", "0.95"))
REPO = "scan/fixture"
TAG = "v1"

ADMIN = None  # the administrator's boto3 client, made in main (it needs the server's data dir)
STATE = {}

# Syft's package `type` → the inventory kind Wharf names it by, for the types Wharf catalogs.
SYFT_TYPES = {
    "deb": "deb",
    "apk": "apk",
    "rpm": "rpm",
    "python": "python",
    "npm": "npm",
    "go-module": "go-module",
    "java-archive": "java",
    "rust-crate": "rust",
    "gem": "gem",
}
# A purl's type → the same kinds, for the components of Wharf's CycloneDX document.
PURL_TYPES = {
    "deb": "deb",
    "apk": "apk",
    "rpm": "rpm",
    "pypi": "python",
    "npm": "npm",
    "golang": "go-module",
    "maven": "java",
    "cargo": "rust",
    "gem": "gem",
}
# Versions that name no release: Syft reports a Go binary's main module as UNKNOWN ((devel) in
# its build info). Such entries cannot be matched against advisories and are not compared.
UNVERSIONED = {"", "UNKNOWN", "(devel)"}


def wharf(*args, timeout=300):
    """Runs `wharf ARGS...`; returns the completed process (stdout/stderr as text)."""
    return run([WHARF_BIN, *args], timeout=timeout, check=True)


def dpkg_versions(path="/var/lib/dpkg/status"):
    """Package → Version of the dpkg database the image was built from."""
    versions, name = {}, None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("Package:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("Version:") and name:
                versions[name] = line.split(":", 1)[1].strip()
            elif not line.strip():
                name = None
    return versions


def expected_findings():
    with open(os.path.join(FIXTURES, "scan-expected.json")) as f:
        doc = json.load(f)
    dpkg = dpkg_versions()
    kinds = set(STATE["summary"]["kinds"])
    out = []
    for e in doc["findings"]:
        if e["layer"] not in kinds:
            continue
        version = e["package_version"]
        if version.startswith("$dpkg:"):
            version = dpkg[version[len("$dpkg:"):]]
        out.append((e["name"], e["package_name"], version, e["severity"]))
    return sorted(out)


def need(key, case_name):
    """STATE[key], which an earlier case sets; a clear failure when that case failed."""
    assert key in STATE, f"needs the result of the case {case_name!r}, which did not pass"
    return STATE[key]


def image_id():
    return {"imageDigest": need("digest", "push the mkscanimage.py image")}


# ================================================================================================


@case("wharf vulndb import loads the OSV fixture records")
def _():
    p = wharf("vulndb", "import", "--data-dir", DATA_DIR, os.path.join(FIXTURES, "osv"))
    print(f"    {(p.stdout + p.stderr).strip()[-300:]}")


@case("CreateRepository with scanOnPush=true")
def _():
    ADMIN.create_repository(repositoryName=REPO, imageScanningConfiguration={"scanOnPush": True})
    repo = ADMIN.describe_repositories(repositoryNames=[REPO])["repositories"][0]
    eq(repo["imageScanningConfiguration"], {"scanOnPush": True}, "imageScanningConfiguration")


@case("push the mkscanimage.py image over /v2/ (Basic auth with a GetAuthorizationToken password)")
def _():
    blobs, manifest, summary = mkscanimage.build_image(CACHE, with_java=True)
    STATE["summary"] = summary
    STATE["digest"] = summary["digest"]
    STATE["password"] = password_of(ADMIN)
    mkscanimage.push(ENDPOINT, REPO, TAG, blobs, manifest, "AWS", STATE["password"])
    print(f"    {REPO}@{summary['digest']} layers: {', '.join(summary['kinds'])}")
    got = ADMIN.describe_images(repositoryName=REPO, imageIds=[image_id()])["imageDetails"][0]
    eq(got["imageTags"], [TAG], "imageTags")


@case("syft scans the image from Wharf (registry:HOST/REPO@DIGEST, AWS + GetAuthorizationToken password)")
def _():
    out = os.path.join(TMP, "syft.json")
    env = {
        "SYFT_CHECK_FOR_APP_UPDATE": "false",
        "SYFT_REGISTRY_INSECURE_USE_HTTP": "true",
        "SYFT_REGISTRY_AUTH_AUTHORITY": HOST,
        "SYFT_REGISTRY_AUTH_USERNAME": "AWS",
        "SYFT_REGISTRY_AUTH_PASSWORD": need("password", "push the mkscanimage.py image"),
        # An empty Docker config, so no credentials of the machine's user are used.
        "DOCKER_CONFIG": tempfile.mkdtemp(dir=TMP),
    }
    run([SYFT, f"registry:{HOST}/{REPO}@{STATE['digest']}", "-o", f"syft-json={out}", "-q"], env=env, timeout=600)
    with open(out) as f:
        STATE["syft"] = json.load(f)
    counts = collections.Counter(a.get("type") for a in STATE["syft"].get("artifacts", []))
    print(f"    syft packages by type: {dict(sorted(counts.items()))}")
    assert counts, "syft found no package"


@case("boto3 image_scan_complete waiter returns (scan on push reached COMPLETE)")
def _():
    waiter = ADMIN.get_waiter("image_scan_complete")
    waiter.wait(repositoryName=REPO, imageId=image_id(), WaiterConfig={"Delay": 2, "MaxAttempts": 40})


@case("DescribeImageScanFindings lists exactly the expected findings, with matching counts")
def _():
    pages = list(ADMIN.get_paginator("describe_image_scan_findings").paginate(
        repositoryName=REPO, imageId=image_id(), PaginationConfig={"PageSize": 5}))
    eq(pages[0]["imageScanStatus"]["status"], "COMPLETE", "imageScanStatus.status")
    got = []
    for page in pages:
        scan = page.get("imageScanFindings", {})
        for f in scan.get("findings", []):
            attrs = {a["key"]: a.get("value") for a in f.get("attributes", [])}
            got.append((f["name"], attrs.get("package_name"), attrs.get("package_version"), f["severity"]))
        for f in scan.get("enhancedFindings", []):
            for p in f.get("packageVulnerabilityDetails", {}).get("vulnerablePackages", []):
                got.append((f["packageVulnerabilityDetails"]["vulnerabilityId"], p.get("name"), p.get("version"), f["severity"]))
    got.sort()
    want = expected_findings()
    missing = [w for w in want if w not in got]
    unexpected = [g for g in got if g not in want]
    assert not missing and not unexpected and len(got) == len(want), (
        f"findings differ from tests/e2e/fixtures/scan-expected.json\n  missing: {missing}\n  unexpected: {unexpected}"
    )
    counts = dict(collections.Counter(w[3] for w in want))
    eq(pages[0]["imageScanFindings"].get("findingSeverityCounts"), counts, "findingSeverityCounts")
    STATE["counts"] = counts
    print(f"    {len(got)} findings: {counts}")


@case("DescribeImages shows imageScanStatus COMPLETE and the imageScanFindingsSummary counts")
def _():
    d = ADMIN.describe_images(repositoryName=REPO, imageIds=[image_id()])["imageDetails"][0]
    eq(d.get("imageScanStatus", {}).get("status"), "COMPLETE", "imageScanStatus.status")
    summary = d.get("imageScanFindingsSummary")
    assert summary is not None, f"no imageScanFindingsSummary in {sorted(d)}"
    eq(summary["findingSeverityCounts"], need("counts", "DescribeImageScanFindings"), "findingSeverityCounts")
    assert "imageScanCompletedAt" in summary, f"no imageScanCompletedAt in {summary}"


@case("wharf scan sbom --format cyclonedx prints a CycloneDX 1.5 document of the image")
def _():
    p = wharf("scan", "sbom", "--data-dir", DATA_DIR, "--repository", REPO, "--digest", image_id()["imageDigest"],
              "--format", "cyclonedx")
    bom = json.loads(p.stdout)
    eq(bom.get("bomFormat"), "CycloneDX", "bomFormat")
    eq(bom.get("specVersion"), "1.5", "specVersion")
    eq(bom["metadata"]["component"]["type"], "container", "metadata.component.type")
    eq(bom["metadata"]["component"]["version"], image_id()["imageDigest"], "metadata.component.version")
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", bom.get("serialNumber", "")), bom.get("serialNumber")
    validate_cyclonedx(p.stdout)
    STATE["cyclonedx"] = bom
    again = wharf("scan", "sbom", "--data-dir", DATA_DIR, "--repository", REPO, "--digest", image_id()["imageDigest"],
                  "--format", "cyclonedx")
    eq(json.loads(again.stdout)["serialNumber"], bom["serialNumber"], "serialNumber of a second print")


@case("wharf scan sbom --format spdx prints a valid SPDX 2.3 document of the image")
def _():
    p = wharf("scan", "sbom", "--data-dir", DATA_DIR, "--repository", REPO, "--digest", image_id()["imageDigest"],
              "--format", "spdx")
    doc = json.loads(p.stdout)
    eq(doc.get("spdxVersion"), "SPDX-2.3", "spdxVersion")
    eq(doc.get("dataLicense"), "CC0-1.0", "dataLicense")
    bom = need("cyclonedx", "wharf scan sbom --format cyclonedx")
    n_cdx = sum(1 for c in bom["components"] if c.get("type") == "library")
    n_spdx = sum(1 for p in doc["packages"] if p["SPDXID"].startswith("SPDXRef-Package-"))
    eq(n_spdx, n_cdx, "SPDX packages vs CycloneDX library components")
    validate_spdx(p.stdout)


@case("the SBOMs are attached to the image as OCI referrers")
def _():
    digest = image_id()["imageDigest"]
    status, _, body = v2("GET", f"/v2/{REPO}/referrers/{digest}", pw=need("password", "push the mkscanimage.py image"))
    eq(status, 200, "GET referrers status")
    types = sorted(m.get("artifactType", "") for m in json.loads(body).get("manifests", []))
    for want in ("application/spdx+json", "application/vnd.cyclonedx+json"):
        assert want in types, f"no referrer with artifactType {want}: {types}"


@case(f"Wharf's inventory has >= {MIN_RATIO:.0%} of Syft's (name, version) pairs for each supported type")
def _():
    syft = need("syft", "syft scans the image from Wharf")
    bom = need("cyclonedx", "wharf scan sbom --format cyclonedx")
    report, failures = compare(syft_packages(syft), wharf_packages(bom))
    print(report)
    assert not failures, "; ".join(failures)


# ------------------------------------------------------------------------------------------------
# Inventory comparison


def pep503(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def key(kind, name, version):
    """The comparable form of a package: Python names PEP 503-normalized; the Go standard
    library's version without its `go` prefix (Syft writes go1.22.1, the purl 1.22.1)."""
    if kind == "python":
        name = pep503(name)
    if kind == "go-module" and name == "stdlib":
        version = version.removeprefix("go")
    return (kind, name, version)


def syft_packages(doc):
    """(kind, name, version) of Syft's artifacts of the supported types; unversioned ones are
    returned apart."""
    pkgs, unversioned = set(), []
    for a in doc.get("artifacts", []):
        kind = SYFT_TYPES.get(a.get("type"))
        if kind is None:
            continue
        if a.get("version", "") in UNVERSIONED:
            unversioned.append((kind, a.get("name"), a.get("version")))
            continue
        pkgs.add(key(kind, a["name"], a["version"]))
    return pkgs, unversioned


def wharf_packages(bom):
    """(kind, name, version) of the CycloneDX library components, the kind from the purl type
    and, for Maven, the name without its group (Syft names a jar by its artifactId)."""
    pkgs = set()
    for c in bom.get("components", []):
        m = re.match(r"pkg:([a-z]+)/", c.get("purl", ""))
        kind = PURL_TYPES.get(m.group(1)) if m else None
        if kind is None:
            continue
        if c.get("version", "") not in UNVERSIONED:
            pkgs.add(key(kind, c["name"], c["version"]))
    return pkgs


def compare(syft, wharf_pkgs, min_ratio=MIN_RATIO):
    """Per-type counts of Syft's packages Wharf also found; returns (report text, failures)."""
    syft_pkgs, unversioned = syft
    by_kind = collections.defaultdict(set)
    for p in syft_pkgs:
        by_kind[p[0]].add(p)
    lines = [f"    {'type':<10} {'syft':>5} {'wharf':>6} {'found':>6} {'ratio':>7}"]
    failures = []
    for kind in sorted(set(by_kind) | {p[0] for p in wharf_pkgs}):
        theirs = by_kind.get(kind, set())
        ours = {p for p in wharf_pkgs if p[0] == kind}
        found = theirs & ours
        ratio = len(found) / len(theirs) if theirs else 1.0
        lines.append(f"    {kind:<10} {len(theirs):>5} {len(ours):>6} {len(found):>6} {ratio:>7.1%}")
        misses = sorted(theirs - ours)
        for _, name, version in misses[:40]:
            lines.append(f"      miss  {name} {version}")
        if len(misses) > 40:
            lines.append(f"      … and {len(misses) - 40} more")
        for _, name, version in sorted(ours - theirs)[:10]:
            lines.append(f"      extra {name} {version} (Wharf only)")
        if ratio < min_ratio:
            failures.append(f"{kind}: {len(found)}/{len(theirs)} = {ratio:.1%} < {min_ratio:.0%}")
    for kind, name, version in unversioned:
        lines.append(f"    not compared (Syft gives no version): {kind} {name} {version!r}")
    return "\n".join(lines), failures


# ------------------------------------------------------------------------------------------------
# Schema validation (cyclonedx-python-lib and spdx-tools, installed in the suite's venv)


def validate_cyclonedx(text):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    err = JsonStrictValidator(SchemaVersion.V1_5).validate_str(text)
    assert err is None, f"CycloneDX 1.5 schema: {err}"


def validate_spdx(text):
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    with tempfile.NamedTemporaryFile("w", suffix=".spdx.json", dir=TMP, delete=False) as f:
        f.write(text)
    messages = validate_full_spdx_document(parse_file(f.name))
    assert not messages, "SPDX 2.3: " + "; ".join(m.validation_message for m in messages[:10])


def main():
    global ADMIN
    if len(sys.argv) == 4 and sys.argv[1] == "--compare":
        # The comparison alone, offline: a Syft JSON file against a CycloneDX file.
        with open(sys.argv[2]) as f:
            syft = json.load(f)
        with open(sys.argv[3]) as f:
            bom = json.load(f)
        text, fails = compare(syft_packages(syft), wharf_packages(bom))
        print(text)
        print("\n".join(fails) or "ok")
        return 1 if fails else 0
    ADMIN = client(*admin_keys())
    return run_cases()


if __name__ == "__main__":
    sys.exit(main())
