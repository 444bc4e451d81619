#!/usr/bin/env python3
"""tests/e2e/ecr_scan.py — ECR image scanning end to end against one running `wharf serve`,
through boto3 and the AWS CLI: Put/GetRegistryScanningConfiguration (round trips and validation),
BatchGetRepositoryScanningConfiguration, scan on push and StartImageScan, the
`image_scan_complete` waiter, DescribeImageScanFindings (BASIC `findings`, ENHANCED
`enhancedFindings`, paging and its paginator, every error), DescribeImages' scan members, IAM
denial, and continuous scanning: a later `wharf vulndb import` changes an ENHANCED image's findings
without a push.

The test image is built here from real package metadata formats: a Debian `os-release` and dpkg
`status` (zlib1g, libssl3, bash) and a Python `dist-info` (requests 2.25.0). The vulnerability
database is the OSV fixture set in tests/e2e/fixtures/osv-ecr/: `initial/` (imported first: three
advisories that match the image, one fixed before the installed version, one for another Debian
release) and `later/` (imported by the continuous-scan case: one more, for bash). So the expected
findings are exact:

    CVE-2023-45853  CRITICAL  zlib1g    1:1.2.13.dfsg-1   CVSS 3.1 9.8
    CVE-2023-5363   HIGH      libssl3   3.0.11-1~deb12u1  CVSS 3.1 7.5
    CVE-2023-32681  MEDIUM    requests  2.25.0            CVSS 3.1 6.1
    CVE-2022-3715   LOW       bash      5.2.15-2+b2       CVSS 3.1 3.3  (after `later/`)

Run by tests/e2e/ecr.sh after ecr_api.py (same environment, see tests/e2e/ecr/harness.py). Cases
that change the registry scanning configuration use their own accounts, since that configuration
is per registry. The continuous-scan case imports `later/` and runs last.
"""

import gzip
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from botocore.exceptions import WaiterError  # noqa: E402

from ecr.harness import (  # noqa: E402
    AWS_CLI,
    DATA_DIR,
    ENDPOINT,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER_GZ,
    OCI_MANIFEST,
    WHARF_BIN,
    Image,
    admin_keys,
    aws_env,
    case,
    client,
    contains,
    default_account,
    eq,
    expect_error,
    new_account,
    new_user,
    push_image,
    run,
    run_cases,
    sha,
    uniq,
)

KEY, SECRET = admin_keys()
ADMIN = client(KEY, SECRET)
LAX = client(KEY, SECRET, validate=False)  # no client-side validation: bad values reach the server
ACCOUNT = default_account()
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "osv-ecr")
FULL_ACCESS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]}
# The waiter polls every second here (ECR's default is 5 s), for at most 90 s.
WAIT = {"Delay": 1, "MaxAttempts": 90}


def fresh_account():
    """A new account and its administrator: (account, key, secret, boto3 client)."""
    acct = new_account()
    key, secret = new_user("boss", FULL_ACCESS, account=acct)
    return acct, key, secret, client(key, secret)


def cli(key, secret, *args, check=True):
    """`aws ecr ARGS --endpoint-url … --output json`; returns the parsed output (or the process when
    check=False)."""
    p = run([AWS_CLI, "ecr", *args, "--endpoint-url", ENDPOINT, "--output", "json"], env=aws_env(key, secret),
            check=check)
    if not check:
        return p
    return json.loads(p.stdout) if p.stdout.strip() else {}


def import_counts(out):
    """The counts `wharf vulndb import` prints (`new:       5`, `rescans queued: 1`, …)."""
    return {k.replace(" ", "_"): int(v) for k, v in re.findall(r"^(new|updated|unchanged|invalid|rescans queued):\s+(\d+)$",
                                                              out, re.M)}


def vulndb_import(path):
    """`wharf vulndb --data-dir DATA import PATH` on the server's data dir; returns its stdout."""
    p = subprocess.run([WHARF_BIN, "vulndb", "--data-dir", DATA_DIR, "import", path], capture_output=True,
                       text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"wharf vulndb import {path} exited {p.returncode}: {p.stderr.strip()[-800:]}")
    return p.stdout


# ------------------------------------------------------------------------------------------------
# The test image


OS_RELEASE = """PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
"""

DPKG_STATUS = """Package: bash
Essential: yes
Status: install ok installed
Priority: required
Section: shells
Installed-Size: 7163
Maintainer: Matthias Klose <doko@debian.org>
Architecture: amd64
Multi-Arch: foreign
Source: bash (5.2.15-2)
Version: 5.2.15-2+b2
Depends: base-files (>= 2.1.12), debianutils (>= 5.6-0.1)
Description: GNU Bourne Again SHell
 Bash is an sh-compatible command language interpreter.

Package: libssl3
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 6156
Maintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>
Architecture: amd64
Multi-Arch: same
Source: openssl
Version: 3.0.11-1~deb12u1
Depends: libc6 (>= 2.34)
Description: Secure Sockets Layer toolkit - shared libraries
 This package is part of the OpenSSL project's implementation of the SSL and TLS protocols.

Package: zlib1g
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 168
Maintainer: Mark Brown <broonie@debian.org>
Architecture: amd64
Multi-Arch: same
Source: zlib
Version: 1:1.2.13.dfsg-1
Provides: libz1
Depends: libc6 (>= 2.14)
Description: compression library - runtime
 zlib is a library implementing the deflate compression method found in gzip and PKZIP.
"""

REQUESTS_METADATA = """Metadata-Version: 2.1
Name: requests
Version: 2.25.0
Summary: Python HTTP for Humans.
Home-page: https://requests.readthedocs.io
Author: Kenneth Reitz
License: Apache 2.0
Requires-Python: >=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*, !=3.4.*

Requests is an elegant and simple HTTP library for Python.
"""


def tar_gz(files):
    """A gzipped tar of {path: text}; returns (gz bytes, diff id)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        dirs = set()
        for path in sorted(files):
            parts = path.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    info = tarfile.TarInfo(d)
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    t.addfile(info)
            data = files[path].encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    return gzip.compress(raw, mtime=0), sha(raw)


OS_LAYER = tar_gz({"etc/os-release": OS_RELEASE, "var/lib/dpkg/status": DPKG_STATUS})
PY_LAYER = tar_gz({
    "usr/lib/python3/dist-packages/requests-2.25.0.dist-info/METADATA": REQUESTS_METADATA,
    "usr/lib/python3/dist-packages/requests-2.25.0.dist-info/top_level.txt": "requests\n",
})


def image_of(layers, label=None, config_media_type=OCI_CONFIG, layer_media_type=OCI_LAYER_GZ):
    """An OCI image of gzipped layers [(gz, diff id)]; `label` makes its config (and digest) unique."""
    config = json.dumps({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": {"e2e": label or uniq("img")}},
        "rootfs": {"type": "layers", "diff_ids": [d for _, d in layers]},
    }, separators=(",", ":")).encode()
    m = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": config_media_type, "digest": sha(config), "size": len(config)},
        "layers": [{"mediaType": layer_media_type, "digest": sha(gz), "size": len(gz)} for gz, _ in layers],
    }
    return Image([gz for gz, _ in layers], config, json.dumps(m, indent=2), OCI_MANIFEST)


def vulnerable_image():
    return image_of([OS_LAYER, PY_LAYER])


def push_index(c, repo, children, tag=None):
    text = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": i.digest, "size": len(i.manifest.encode()),
                       "platform": {"architecture": a, "os": "linux"}} for i, a in zip(children, ("amd64", "arm64"))],
    }, indent=1)
    kw = {"imageTag": tag} if tag else {}
    c.put_image(repositoryName=repo, imageManifest=text, imageManifestMediaType=OCI_INDEX, **kw)
    return sha(text.encode())


# ------------------------------------------------------------------------------------------------
# Expected findings


ZLIB = ("CVE-2023-45853", "CRITICAL", "zlib1g", "1:1.2.13.dfsg-1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "9.8",
        "https://security-tracker.debian.org/tracker/CVE-2023-45853",
        "MiniZip in zlib through 1.3 has an integer overflow and resultant heap-based buffer overflow in "
        "zipOpenNewFileInZip4_64 via a long filename, comment, or extra field.")
OPENSSL = ("CVE-2023-5363", "HIGH", "libssl3", "3.0.11-1~deb12u1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", "7.5",
           "https://security-tracker.debian.org/tracker/CVE-2023-5363",
           "A bug has been identified in the processing of key and initialisation vector (IV) lengths. This can "
           "lead to potential truncation or overruns during the initialisation of some symmetric ciphers.")
REQUESTS = ("CVE-2023-32681", "MEDIUM", "requests", "2.25.0", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N", "6.1",
            "https://github.com/psf/requests/security/advisories/GHSA-j8r2-6x86-q33q",
            "Requests is a HTTP library. Since 2.3.0, Requests has been leaking Proxy-Authorization headers to "
            "destination servers when redirected to an HTTPS endpoint.")
BASH = ("CVE-2022-3715", "LOW", "bash", "5.2.15-2+b2", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:L", "3.3",
        "https://osv.dev/vulnerability/DEBIAN-CVE-2022-3715",
        "A flaw was found in the bash package, where a heap-buffer overflow can occur in valid "
        "parameter_transform. This issue may lead to memory problems.")
INITIAL = [ZLIB, OPENSSL, REQUESTS]
INITIAL_COUNTS = {"CRITICAL": 1, "HIGH": 1, "MEDIUM": 1}


def basic(expected):
    name, severity, pkg, version, vector, score, uri, description = expected
    return {
        "name": name, "description": description, "uri": uri, "severity": severity,
        "attributes": [
            {"key": "package_version", "value": version},
            {"key": "package_name", "value": pkg},
            {"key": "CVSS3_VECTOR", "value": vector},
            {"key": "CVSS3_SCORE", "value": score},
        ],
    }


def wait_scan(c, repo, digest):
    c.get_waiter("image_scan_complete").wait(repositoryName=repo, imageId={"imageDigest": digest},
                                             WaiterConfig=WAIT)


def findings(c, repo, digest, **kw):
    return c.describe_image_scan_findings(repositoryName=repo, imageId={"imageDigest": digest}, **kw)


_SCANNED = {}


def scanned():
    """One BASIC scan-on-push image in the default account, scanned once for the cases that read it:
    (repository, image)."""
    if not _SCANNED:
        repo = f"scan/{uniq('push')}"
        ADMIN.create_repository(repositoryName=repo, imageScanningConfiguration={"scanOnPush": True})
        img = push_image(ADMIN, repo, tag="v1", image=vulnerable_image())
        wait_scan(ADMIN, repo, img.digest)
        _SCANNED["v"] = (repo, img)
    return _SCANNED["v"]


# ================================================================================================
# The vulnerability database


@case("scan: wharf vulndb import of the initial OSV fixture set")
def _():
    out = vulndb_import(os.path.join(FIXTURES, "initial"))
    eq(import_counts(out), {"new": 5, "updated": 0, "unchanged": 0, "invalid": 0, "rescans_queued": 0},
       "import report of a fresh database")


# ================================================================================================
# Registry scanning configuration


@case("scan config: default BASIC without rules; Put/Get round trip (boto3); ENHANCED replaces it")
def _():
    acct, _, _, c = fresh_account()
    got = c.get_registry_scanning_configuration()
    eq((got["registryId"], got["scanningConfiguration"]), (acct, {"scanType": "BASIC", "rules": []}), "default")
    rules = [{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "prod*", "filterType": "WILDCARD"},
                                                                      {"filter": "team/api", "filterType": "WILDCARD"}]}]
    put = c.put_registry_scanning_configuration(scanType="BASIC", rules=rules)
    eq(put["registryScanningConfiguration"], {"scanType": "BASIC", "rules": rules}, "Put answer")
    eq(c.get_registry_scanning_configuration()["scanningConfiguration"], {"scanType": "BASIC", "rules": rules}, "Get")
    rules = [{"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [{"filter": "prod*", "filterType": "WILDCARD"}]},
             {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}]
    c.put_registry_scanning_configuration(scanType="ENHANCED", rules=rules)
    eq(c.get_registry_scanning_configuration()["scanningConfiguration"], {"scanType": "ENHANCED", "rules": rules},
       "Get after ENHANCED")
    # Another registry is untouched.
    eq(ADMIN.get_registry_scanning_configuration()["registryId"], ACCOUNT, "the default account's registryId")


@case("scan config: aws ecr put/get-registry-scanning-configuration round trip (AWS CLI)")
def _():
    acct, key, secret, _ = fresh_account()
    rules = [{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "cli-*", "filterType": "WILDCARD"}]}]
    out = cli(key, secret, "put-registry-scanning-configuration", "--scan-type", "ENHANCED", "--rules", json.dumps(rules))
    eq(out, {"registryScanningConfiguration": {"scanType": "ENHANCED", "rules": rules}}, "CLI put output")
    out = cli(key, secret, "get-registry-scanning-configuration")
    eq(out, {"registryId": acct, "scanningConfiguration": {"scanType": "ENHANCED", "rules": rules}}, "CLI get output")
    bad = [{"scanFrequency": "MANUAL", "repositoryFilters": [{"filter": "x", "filterType": "WILDCARD"}]}]
    p = cli(key, secret, "put-registry-scanning-configuration", "--scan-type", "ENHANCED", "--rules", json.dumps(bad),
            check=False)
    assert p.returncode != 0 and "InvalidParameterException" in p.stderr, \
        f"MANUAL with ENHANCED through the CLI: rc {p.returncode}, stderr {p.stderr[-600:]}"


@case("scan config: validation — 3 rules, MANUAL with ENHANCED, CONTINUOUS_SCAN with BASIC, bad filters; nothing stored")
def _():
    _acct, key, secret, c = fresh_account()
    lax = client(key, secret, validate=False)
    keep = [{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "keep", "filterType": "WILDCARD"}]}]
    c.put_registry_scanning_configuration(scanType="BASIC", rules=keep)

    def rule(freq, *filters, ftype="WILDCARD"):
        return {"scanFrequency": freq, "repositoryFilters": [{"filter": f, "filterType": ftype} for f in filters]}

    bad = [
        ("three rules", "ENHANCED", [rule("SCAN_ON_PUSH", "a"), rule("CONTINUOUS_SCAN", "b"), rule("SCAN_ON_PUSH", "c")],
         "rules"),
        ("MANUAL with ENHANCED", "ENHANCED", [rule("MANUAL", "a")], "MANUAL"),
        ("CONTINUOUS_SCAN with BASIC", "BASIC", [rule("CONTINUOUS_SCAN", "a")], "CONTINUOUS_SCAN"),
        ("upper-case filter", "BASIC", [rule("SCAN_ON_PUSH", "Prod*")], "filter"),
        ("filter with a space", "BASIC", [rule("SCAN_ON_PUSH", "my repo")], "filter"),
        ("empty filter", "BASIC", [rule("SCAN_ON_PUSH", "")], "filter"),
        ("filter type", "BASIC", [rule("SCAN_ON_PUSH", "a", ftype="PREFIX")], "filterType"),
        ("scan type", "DEEP", [], "scanType"),
    ]
    for what, scan_type, rules, mention in bad:
        e = expect_error("InvalidParameterException", lax.put_registry_scanning_configuration, scanType=scan_type,
                         rules=rules)
        contains(e["Error"]["Message"], mention, what)
    eq(c.get_registry_scanning_configuration()["scanningConfiguration"], {"scanType": "BASIC", "rules": keep},
       "stored configuration after the refusals")


@case("BatchGetRepositoryScanningConfiguration: effective frequency and filters per repository; REPOSITORY_NOT_FOUND")
def _():
    acct, key, secret, c = fresh_account()
    c.create_repository(repositoryName="prod-api")
    c.create_repository(repositoryName="flagged", imageScanningConfiguration={"scanOnPush": True})
    c.create_repository(repositoryName="plain")
    prod = {"filter": "prod*", "filterType": "WILDCARD"}
    c.put_registry_scanning_configuration(scanType="BASIC", rules=[{"scanFrequency": "SCAN_ON_PUSH",
                                                                     "repositoryFilters": [prod]}])

    def arn(name):
        return f"arn:aws:ecr:us-east-1:{acct}:repository/{name}"

    def conf(name, on_push, freq, filters):
        return {"repositoryArn": arn(name), "repositoryName": name, "scanOnPush": on_push, "scanFrequency": freq,
                "appliedScanFilters": filters}

    out = c.batch_get_repository_scanning_configuration(repositoryNames=["prod-api", "flagged", "plain", "missing"])
    eq(out["scanningConfigurations"], [conf("prod-api", True, "SCAN_ON_PUSH", [prod]),
                                       conf("flagged", True, "SCAN_ON_PUSH", []),
                                       conf("plain", False, "MANUAL", [])], "BASIC configurations")
    eq(out["failures"], [{"repositoryName": "missing", "failureCode": "REPOSITORY_NOT_FOUND",
                          "failureReason": "REPOSITORY_NOT_FOUND"}], "failures")

    everything = {"filter": "*", "filterType": "WILDCARD"}
    c.put_registry_scanning_configuration(scanType="ENHANCED", rules=[
        {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [everything]},
        {"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [prod]}])
    out = cli(key, secret, "batch-get-repository-scanning-configuration", "--repository-names", "prod-api", "plain")
    eq(out["scanningConfigurations"], [conf("prod-api", True, "CONTINUOUS_SCAN", [prod]),
                                       conf("plain", True, "SCAN_ON_PUSH", [everything])],
       "ENHANCED configurations (AWS CLI): continuous wins over scan on push")
    eq(out["failures"], [], "no failures")

    expect_error("InvalidParameterException", client(key, secret, validate=False).batch_get_repository_scanning_configuration,
                 repositoryNames=[f"r{i:02d}" for i in range(26)])


# ================================================================================================
# BASIC scans


@case("scan on push (BASIC): IN_PROGRESS or COMPLETE right after the push, waiter, exact findings and counts")
def _():
    repo = f"scan/{uniq('onpush')}"
    ADMIN.create_repository(repositoryName=repo, imageScanningConfiguration={"scanOnPush": True})
    img = push_image(ADMIN, repo, tag="v1", image=vulnerable_image())
    first = findings(ADMIN, repo, img.digest)
    assert first["imageScanStatus"]["status"] in ("IN_PROGRESS", "COMPLETE"), first["imageScanStatus"]
    wait_scan(ADMIN, repo, img.digest)
    out = ADMIN.describe_image_scan_findings(repositoryName=repo, imageId={"imageTag": "v1"})
    eq((out["registryId"], out["repositoryName"], out["imageId"]),
       (ACCOUNT, repo, {"imageDigest": img.digest, "imageTag": "v1"}), "identity members")
    eq(out["imageScanStatus"]["status"], "COMPLETE", "status")
    f = out["imageScanFindings"]
    eq(f["findings"], [basic(x) for x in INITIAL], "findings")
    eq(f["findingSeverityCounts"], INITIAL_COUNTS, "findingSeverityCounts")
    assert "enhancedFindings" not in f, "a BASIC scan has no enhancedFindings"
    assert f["imageScanCompletedAt"].timestamp() > time.time() - 600, f["imageScanCompletedAt"]
    assert "vulnerabilitySourceUpdatedAt" in f, f
    assert "nextToken" not in out, "one page"
    _SCANNED["v"] = (repo, img)


@case("DescribeImageScanFindings paging: maxResults/nextToken; paginator with PageSize and MaxItems; bounds")
def _():
    repo, img = scanned()
    names = [x[0] for x in INITIAL]
    p1 = findings(ADMIN, repo, img.digest, maxResults=2)
    eq([x["name"] for x in p1["imageScanFindings"]["findings"]], names[:2], "first page")
    eq(p1["imageScanFindings"]["findingSeverityCounts"], INITIAL_COUNTS, "counts on every page")
    p2 = findings(ADMIN, repo, img.digest, maxResults=2, nextToken=p1["nextToken"])
    eq([x["name"] for x in p2["imageScanFindings"]["findings"]], names[2:], "second page")
    assert "nextToken" not in p2, "no token on the last page"

    pages = list(ADMIN.get_paginator("describe_image_scan_findings").paginate(
        repositoryName=repo, imageId={"imageDigest": img.digest}, PaginationConfig={"PageSize": 1}))
    eq([[x["name"] for x in p["imageScanFindings"]["findings"]] for p in pages], [[n] for n in names], "PageSize=1")
    part = ADMIN.get_paginator("describe_image_scan_findings").paginate(
        repositoryName=repo, imageId={"imageDigest": img.digest},
        PaginationConfig={"PageSize": 1, "MaxItems": 2}).build_full_result()
    eq([x["name"] for x in part["imageScanFindings"]["findings"]], names[:2], "MaxItems=2")
    rest = ADMIN.get_paginator("describe_image_scan_findings").paginate(
        repositoryName=repo, imageId={"imageDigest": img.digest},
        PaginationConfig={"PageSize": 1, "StartingToken": part["NextToken"]}).build_full_result()
    eq([x["name"] for x in rest["imageScanFindings"]["findings"]], names[2:], "resumed from NextToken")

    for bad in (0, 1001):
        expect_error("InvalidParameterException", LAX.describe_image_scan_findings, repositoryName=repo,
                     imageId={"imageDigest": img.digest}, maxResults=bad)
    expect_error("InvalidParameterException", findings, ADMIN, repo, img.digest, nextToken="not-a-token")

    out = cli(KEY, SECRET, "describe-image-scan-findings", "--repository-name", repo, "--image-id",
              f"imageDigest={img.digest}", "--page-size", "1", "--max-items", "2")
    eq([x["name"] for x in out["imageScanFindings"]["findings"]], names[:2], "aws ecr --max-items 2")
    assert out.get("NextToken"), f"the CLI's NextToken: {list(out)}"


@case("StartImageScan (manual repo, by tag; boto3 and AWS CLI): ScanNotFound before, IN_PROGRESS answer, DescribeImages summary")
def _():
    repo = f"scan/{uniq('manual')}"
    ADMIN.create_repository(repositoryName=repo)
    img = push_image(ADMIN, repo, tag="t1", image=vulnerable_image())
    e = expect_error("ScanNotFoundException", findings, ADMIN, repo, img.digest)
    contains(e["Error"]["Message"], repo, "ScanNotFound message")
    d = ADMIN.describe_images(repositoryName=repo)["imageDetails"][0]
    assert "imageScanStatus" not in d and "imageScanFindingsSummary" not in d, f"never scanned: {d}"

    out = ADMIN.start_image_scan(repositoryName=repo, imageId={"imageTag": "t1"})
    eq(out, {**out, "registryId": ACCOUNT, "repositoryName": repo,
             "imageId": {"imageDigest": img.digest, "imageTag": "t1"}}, "StartImageScan identity")
    eq(out["imageScanStatus"]["status"], "IN_PROGRESS", "StartImageScan status")
    wait_scan(ADMIN, repo, img.digest)

    d = ADMIN.describe_images(repositoryName=repo, imageIds=[{"imageTag": "t1"}])["imageDetails"][0]
    eq(d["imageScanStatus"]["status"], "COMPLETE", "DescribeImages imageScanStatus")
    eq(d["imageScanFindingsSummary"]["findingSeverityCounts"], INITIAL_COUNTS, "DescribeImages summary counts")
    assert "imageScanCompletedAt" in d["imageScanFindingsSummary"], d["imageScanFindingsSummary"]
    # The listing (one scan query for the page) has the image's summary; the SBOM referrers the scan
    # attached are artifacts, never scanned, so they carry neither member.
    listed = {x["imageDigest"]: x for x in ADMIN.describe_images(repositoryName=repo)["imageDetails"]}
    eq(listed[img.digest]["imageScanFindingsSummary"]["findingSeverityCounts"], INITIAL_COUNTS, "listed summary")
    others = [x for d, x in listed.items() if d != img.digest]
    eq([(x.get("subjectManifestDigest"), "imageScanStatus" in x) for x in others], [(img.digest, False)] * len(others),
       "the other listed images are the scan's referrers, unscanned")

    # The same through the AWS CLI: a second image, scanned by digest, waited for with `aws ecr wait`.
    img2 = push_image(ADMIN, repo, image=vulnerable_image())
    out = cli(KEY, SECRET, "start-image-scan", "--repository-name", repo, "--image-id", f"imageDigest={img2.digest}")
    eq((out["imageId"], out["imageScanStatus"]["status"]), ({"imageDigest": img2.digest}, "IN_PROGRESS"), "CLI start")
    run([AWS_CLI, "ecr", "wait", "image-scan-complete", "--repository-name", repo, "--image-id",
         f"imageDigest={img2.digest}", "--endpoint-url", ENDPOINT], env=aws_env(KEY, SECRET), timeout=400)
    out = cli(KEY, SECRET, "describe-image-scan-findings", "--repository-name", repo, "--image-id",
              f"imageDigest={img2.digest}")
    eq(out["imageScanFindings"]["findings"], [basic(x) for x in INITIAL], "CLI findings")


@case("StartImageScan errors: index → UnsupportedImageType, artifact → UnsupportedImageType, archived → ImageArchived, missing image/repo")
def _():
    repo = f"scan/{uniq('errors')}"
    ADMIN.create_repository(repositoryName=repo)
    a, b = push_image(ADMIN, repo, image=vulnerable_image()), push_image(ADMIN, repo, image=vulnerable_image())
    index = push_index(ADMIN, repo, [a, b], tag="multi")
    expect_error("UnsupportedImageTypeException", ADMIN.start_image_scan, repositoryName=repo,
                 imageId={"imageDigest": index})
    expect_error("UnsupportedImageTypeException", ADMIN.start_image_scan, repositoryName=repo,
                 imageId={"imageTag": "multi"})
    artifact = image_of([OS_LAYER], config_media_type="application/vnd.dev.cosign.artifact.sig.v1+json")
    push_image(ADMIN, repo, image=artifact)
    expect_error("UnsupportedImageTypeException", ADMIN.start_image_scan, repositoryName=repo,
                 imageId={"imageDigest": artifact.digest})

    e = expect_error("ImageNotFoundException", ADMIN.start_image_scan, repositoryName=repo,
                     imageId={"imageDigest": "sha256:" + "0" * 64})
    contains(e["Error"]["Message"], repo, "ImageNotFound message")
    expect_error("ImageNotFoundException", ADMIN.start_image_scan, repositoryName=repo, imageId={"imageTag": "nope"})
    expect_error("ImageNotFoundException", findings, ADMIN, repo, "sha256:" + "1" * 64)
    gone = f"scan/{uniq('gone')}"
    expect_error("RepositoryNotFoundException", ADMIN.start_image_scan, repositoryName=gone, imageId={"imageTag": "x"})
    expect_error("RepositoryNotFoundException", ADMIN.describe_image_scan_findings, repositoryName=gone,
                 imageId={"imageTag": "x"})

    archived = push_image(ADMIN, repo, tag="old", image=vulnerable_image())
    ADMIN.update_image_storage_class(repositoryName=repo, imageId={"imageTag": "old"}, targetStorageClass="ARCHIVE")
    expect_error("ImageArchivedException", ADMIN.start_image_scan, repositoryName=repo,
                 imageId={"imageDigest": archived.digest})


@case("scan status FAILED: a layer that is not a tar fails the scan with a reason; the waiter stops on it")
def _():
    repo = f"scan/{uniq('failed')}"
    ADMIN.create_repository(repositoryName=repo, imageScanningConfiguration={"scanOnPush": True})
    junk = gzip.compress(b"this is not a tar archive " * 64, mtime=0)
    img = push_image(ADMIN, repo, image=image_of([OS_LAYER, (junk, sha(gzip.decompress(junk)))]))
    try:
        wait_scan(ADMIN, repo, img.digest)
        raise AssertionError("the waiter succeeded on an image whose scan must fail")
    except WaiterError as e:
        contains(str(e), "terminal failure state", "waiter error")
    out = findings(ADMIN, repo, img.digest)
    eq(out["imageScanStatus"]["status"], "FAILED", "status")
    assert out["imageScanStatus"].get("description"), f"FAILED has a reason: {out['imageScanStatus']}"
    eq(out.get("imageScanFindings", {}).get("findings", []), [], "no findings")
    d = ADMIN.describe_images(repositoryName=repo, imageIds=[{"imageDigest": img.digest}])["imageDetails"][0]
    eq(d["imageScanStatus"]["status"], "FAILED", "DescribeImages status")


@case("scan IAM: a user allowed only to read findings gets AccessDenied on StartImageScan and the registry configuration")
def _():
    repo, img = scanned()
    reader = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
        "ecr:DescribeImageScanFindings", "ecr:DescribeImages"]}]}
    c = client(*new_user(uniq("scanreader"), reader))
    eq([x["name"] for x in findings(c, repo, img.digest)["imageScanFindings"]["findings"]], [x[0] for x in INITIAL],
       "the reader reads findings")
    expect_error("AccessDeniedException", c.start_image_scan, repositoryName=repo, imageId={"imageDigest": img.digest})
    expect_error("AccessDeniedException", c.put_registry_scanning_configuration, scanType="BASIC", rules=[])
    expect_error("AccessDeniedException", c.get_registry_scanning_configuration)
    expect_error("AccessDeniedException", c.batch_get_repository_scanning_configuration, repositoryNames=[repo])
    denied = client(*new_user(uniq("noscan"), {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ecr:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "ecr:StartImageScan", "Resource": "*"}]}))
    expect_error("AccessDeniedException", denied.start_image_scan, repositoryName=repo,
                 imageId={"imageDigest": img.digest})


# ================================================================================================
# ENHANCED and continuous scanning (last: it imports more advisories)


@case("ENHANCED + CONTINUOUS_SCAN: enhancedFindings shape; a later vulndb import changes the findings without a push")
def _():
    acct, _key, _secret, c = fresh_account()
    c.put_registry_scanning_configuration(scanType="ENHANCED", rules=[
        {"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [{"filter": "cont*", "filterType": "WILDCARD"}]}])
    repo = "cont/app"
    c.create_repository(repositoryName=repo)
    img = push_image(c, repo, tag="live", image=vulnerable_image())
    wait_scan(c, repo, img.digest)
    out = findings(c, repo, img.digest)
    f = out["imageScanFindings"]
    assert "findings" not in f, "an ENHANCED scan answers enhancedFindings only"
    eq(f["findingSeverityCounts"], INITIAL_COUNTS, "counts")
    eq([(x["packageVulnerabilityDetails"]["vulnerabilityId"], x["severity"],
         x["packageVulnerabilityDetails"]["vulnerablePackages"][0]["name"]) for x in f["enhancedFindings"]],
       [(x[0], x[1], x[2]) for x in INITIAL], "enhanced findings")

    z = f["enhancedFindings"][0]
    arn = z["findingArn"]
    assert arn.startswith(f"arn:aws:inspector2:us-east-1:{acct}:finding/"), arn
    d = z["packageVulnerabilityDetails"]
    eq({k: z[k] for k in ("awsAccountId", "status", "type", "title", "severity", "fixAvailable", "score")},
       {"awsAccountId": acct, "status": "ACTIVE", "type": "PACKAGE_VULNERABILITY", "title": "CVE-2023-45853 - zlib1g",
        "severity": "CRITICAL", "fixAvailable": "YES", "score": 9.8}, "finding members")
    eq(z["description"], ZLIB[7], "description")
    eq(d["vulnerablePackages"][0], {**d["vulnerablePackages"][0], "name": "zlib1g", "epoch": 1, "version": "1.2.13.dfsg",
                                    "release": "1", "packageManager": "OS", "arch": "amd64",
                                    "fixedInVersion": "1:1.2.13.dfsg-1+deb12u1"}, "vulnerable package")
    contains(d["vulnerablePackages"][0]["filePath"], "var/lib/dpkg/status", "filePath")
    eq(d["cvss"], [{"baseScore": 9.8, "scoringVector": ZLIB[4], "source": "OSV", "version": "3.1"}], "cvss")
    eq((d["vulnerabilityId"], d["relatedVulnerabilities"], d["referenceUrls"], d["sourceUrl"], d["vendorSeverity"]),
       ("CVE-2023-45853", ["DEBIAN-CVE-2023-45853"], [ZLIB[6]], "https://osv.dev/vulnerability/DEBIAN-CVE-2023-45853",
        "CRITICAL"), "vulnerability details")
    eq(d["vendorCreatedAt"].timestamp(), 1697249709.0, "vendorCreatedAt (published)")
    eq(d["vendorUpdatedAt"].timestamp(), 1705744800.0, "vendorUpdatedAt (modified)")
    eq(z["remediation"], {"recommendation": {"text": "Upgrade zlib1g to version 1:1.2.13.dfsg-1+deb12u1 or later."}},
       "remediation")
    eq(z["scoreDetails"]["cvss"]["scoringVector"], ZLIB[4], "scoreDetails")
    res = z["resources"][0]
    eq((res["type"], res["id"]), ("AWS_ECR_CONTAINER_IMAGE",
                                  f"arn:aws:ecr:us-east-1:{acct}:repository/{repo}/{img.digest}"), "resource")
    ci = res["details"]["awsEcrContainerImage"]
    eq((ci["imageHash"], ci["imageTags"], ci["registry"], ci["repositoryName"]), (img.digest, ["live"], acct, repo),
       "awsEcrContainerImage")
    first_seen = {x["findingArn"]: x["firstObservedAt"] for x in f["enhancedFindings"]}

    # The BASIC image scanned earlier is not continuously scanned.
    basic_repo, basic_img = scanned()

    # Exactly one image is rescanned: this one (ENHANCED, CONTINUOUS_SCAN, has bash). The BASIC images
    # with bash are not continuously scanned.
    report = vulndb_import(os.path.join(FIXTURES, "later"))
    eq(import_counts(report), {"new": 1, "updated": 0, "unchanged": 0, "invalid": 0, "rescans_queued": 1},
       "later import report")
    deadline = time.time() + 60
    while True:
        f = findings(c, repo, img.digest)["imageScanFindings"]
        if len(f.get("enhancedFindings", [])) == 4 or time.time() > deadline:
            break
        time.sleep(1)
    eq([x["packageVulnerabilityDetails"]["vulnerabilityId"] for x in f["enhancedFindings"]],
       [x[0] for x in INITIAL] + ["CVE-2022-3715"], "findings after importing later/ (no push)")
    eq(f["findingSeverityCounts"], {**INITIAL_COUNTS, "LOW": 1}, "counts after the rescan")
    for x in f["enhancedFindings"][:3]:
        eq(x["firstObservedAt"], first_seen[x["findingArn"]], f"firstObservedAt of {x['title']} survives the rescan")
    bash = f["enhancedFindings"][3]
    eq((bash["title"], bash["severity"], bash["fixAvailable"]), ("CVE-2022-3715 - bash", "LOW", "YES"), "the new finding")
    eq(c.describe_images(repositoryName=repo, imageIds=[{"imageTag": "live"}])["imageDetails"][0]
       ["imageScanFindingsSummary"]["findingSeverityCounts"], {**INITIAL_COUNTS, "LOW": 1},
       "DescribeImages summary after the rescan")
    eq([x["name"] for x in findings(ADMIN, basic_repo, basic_img.digest)["imageScanFindings"]["findings"]],
       [x[0] for x in INITIAL], "a BASIC image keeps its findings until it is scanned again")


if __name__ == "__main__":
    sys.exit(run_cases())
