"""Shared machinery for tests/e2e/ecr_api.py: named cases with pass/fail counting, boto3 clients
for Wharf's ECR API, `wharf admin`, raw SigV4 signing, /v2/ HTTP, image building, and the
third-party clients (crane, skopeo, oras, the AWS CLI).

Configuration comes from the environment that tests/e2e/ecr.sh sets:
  WHARF_ENDPOINT       http://127.0.0.1:PORT (the ECR API and /v2/ share the listener)
  WHARF_REGISTRY_HOST  127.0.0.1:PORT
  WHARF_DATA_DIR       the server's data dir (holds `credentials`; `wharf admin` opens it)
  WHARF_BIN            the wharf binary
  WHARF_E2E_TMP        scratch dir for this run
  AWS_CLI              the `aws` executable (awscli v1 from the pinned venv)
  ECR_CASES            optional regex: run only matching case names
  ECR_RESULTS          optional file: {"passed": N, "failed": N} is written there at the end
"""

import base64
import configparser
import datetime
import hashlib
import hmac
import http.client as httplib
import io
import json
import os
import random
import re
import signal
import string
import subprocess
import sys
import tarfile
import time
import traceback
import urllib.parse
import uuid

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ.get("WHARF_ENDPOINT", "http://127.0.0.1:5000")
HOST = os.environ.get("WHARF_REGISTRY_HOST", urllib.parse.urlparse(ENDPOINT).netloc)
DATA_DIR = os.environ.get("WHARF_DATA_DIR", "")
WHARF_BIN = os.environ.get("WHARF_BIN", "target/release/wharf")
TMP = os.environ.get("WHARF_E2E_TMP") or "/tmp/wharf-ecr-e2e"
AWS_CLI = os.environ.get("AWS_CLI", "aws")
REGION = "us-east-1"
CASE_TIMEOUT = int(os.environ.get("ECR_CASE_TIMEOUT", "90"))

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZ = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"

os.makedirs(TMP, exist_ok=True)


# ------------------------------------------------------------------------------------------------
# Cases


class Skip(Exception):
    """Raised by a case that cannot run (counted neither pass nor fail, but printed)."""


_CASES = []


def case(name):
    """Registers a test case under a unique, human-readable name."""

    def deco(fn):
        assert name not in [n for n, _ in _CASES], f"duplicate case name {name}"
        _CASES.append((name, fn))
        return fn

    return deco


class _Timeout(Exception):
    pass


def _alarm(_sig, _frm):
    raise _Timeout(f"case exceeded {CASE_TIMEOUT}s")


def run_cases():
    only = os.environ.get("ECR_CASES")
    passed = failed = skipped = 0
    failures = []
    started = time.time()
    signal.signal(signal.SIGALRM, _alarm)
    for name, fn in _CASES:
        if only and not re.search(only, name):
            continue
        t0 = time.time()
        signal.alarm(CASE_TIMEOUT)
        try:
            fn()
            signal.alarm(0)
            passed += 1
            print(f"PASS: {name} ({time.time() - t0:.1f}s)", flush=True)
        except Skip as e:
            signal.alarm(0)
            skipped += 1
            print(f"SKIP: {name} — {e}", flush=True)
        except BaseException as e:  # noqa: BLE001 — every failure is reported, never raised
            signal.alarm(0)
            if isinstance(e, KeyboardInterrupt):
                raise
            failed += 1
            detail = describe_exception(e)
            failures.append((name, detail))
            print(f"FAIL: {name} — {detail.splitlines()[0] if detail else type(e).__name__}", flush=True)
            for line in detail.splitlines()[1:40]:
                print(f"    {line}", flush=True)
    print(f"{os.path.basename(sys.argv[0])}: {passed} passed, {failed} failed, {skipped} skipped in {time.time() - started:.0f}s", flush=True)
    if failures:
        print("\nFailures:", flush=True)
        for name, detail in failures:
            print(f"  - {name}: {detail.splitlines()[0] if detail else ''}", flush=True)
    out = os.environ.get("ECR_RESULTS")
    if out:
        with open(out, "w") as f:
            json.dump({"passed": passed, "failed": failed, "skipped": skipped}, f)
    return 1 if failed else 0


def describe_exception(e):
    if isinstance(e, ClientError):
        err = e.response.get("Error", {})
        return (
            f"unexpected {err.get('Code')}: {err.get('Message')} "
            f"(HTTP {e.response.get('ResponseMetadata', {}).get('HTTPStatusCode')}, op {e.operation_name})\n"
            + "".join(traceback.format_exception(e)[-4:])
        )
    if isinstance(e, AssertionError):
        tb = traceback.extract_tb(e.__traceback__)
        where = next((f"{os.path.basename(f.filename)}:{f.lineno}" for f in reversed(tb) if os.path.basename(f.filename).startswith("ecr_")), "")
        return f"{e} [{where}]" if str(e) else f"assertion failed [{where}]\n" + "".join(traceback.format_exception(e)[-3:])
    return f"{type(e).__name__}: {e}\n" + "".join(traceback.format_exception(e)[-6:])


# ------------------------------------------------------------------------------------------------
# Assertions


def eq(got, want, what=""):
    assert got == want, f"{what + ': ' if what else ''}expected {want!r}, got {got!r}"


def contains(haystack, needle, what=""):
    assert needle in haystack, f"{what + ': ' if what else ''}expected {needle!r} in {haystack!r}"


def expect_error(code, fn, *args, message=None, **kwargs):
    """Calls fn and requires a ClientError with `code` (and `message` as a substring, or a list
    of substrings); returns the error response."""
    try:
        out = fn(*args, **kwargs)
    except ClientError as e:
        err = e.response.get("Error", {})
        got = err.get("Code")
        msg = err.get("Message") or ""
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        assert got == code, f"expected {code}, got {got}: {msg!r} (HTTP {status})"
        for m in [message] if isinstance(message, str) else (message or []):
            assert m in msg, f"{code} message {msg!r} does not mention {m!r}"
        return e.response
    raise AssertionError(f"expected {code}, but the call succeeded: {_short(out)}")


def _short(v, n=300):
    s = repr(v)
    return s if len(s) <= n else s[:n] + "…"


# ------------------------------------------------------------------------------------------------
# Identities and clients


def uniq(prefix="r"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def client(key, secret, validate=True, unsigned=False, region=REGION):
    cfg = Config(
        retries={"max_attempts": 1, "mode": "standard"},
        connect_timeout=10,
        read_timeout=60,
        parameter_validation=validate,
        signature_version=UNSIGNED if unsigned else None,
    )
    return boto3.session.Session().client(
        "ecr",
        endpoint_url=ENDPOINT,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=cfg,
    )


def admin_keys():
    cp = configparser.ConfigParser()
    cp.read(os.path.join(DATA_DIR, "credentials"))
    return cp["default"]["aws_access_key_id"], cp["default"]["aws_secret_access_key"]


def admin(*args, check=True):
    """Runs `wharf admin --data-dir D ARGS...`; returns stdout."""
    p = subprocess.run(
        [WHARF_BIN, "admin", "--data-dir", DATA_DIR, *args], capture_output=True, text=True, timeout=60
    )
    if check and p.returncode != 0:
        raise AssertionError(f"wharf admin {' '.join(args)} exited {p.returncode}: {p.stderr.strip()[-800:]}")
    return p.stdout


def parse_keys(out):
    kv = dict(re.findall(r"^(aws_access_key_id|aws_secret_access_key)\s*=\s*(\S+)", out, re.M))
    return kv["aws_access_key_id"], kv["aws_secret_access_key"]


def default_account():
    for line in admin("list-accounts").splitlines():
        if "(default)" in line:
            return line.split()[0]
    raise AssertionError("wharf admin list-accounts names no default account")


def new_user(name, policy=None, account=None):
    """Creates a user (optionally in another account) with one identity policy; returns
    (key, secret)."""
    acct = ["--account", account] if account else []
    admin("create-user", name, *acct)
    if policy is not None:
        path = os.path.join(TMP, f"policy-{name}-{uuid.uuid4().hex[:6]}.json")
        with open(path, "w") as f:
            json.dump(policy, f)
        admin("attach-policy", name, "--name", "p", "--file", path, *acct)
    return parse_keys(admin("create-access-key", name, *acct))


def new_account():
    acct = "".join(random.choice(string.digits) for _ in range(12))
    admin("create-account", acct, "--name", f"e2e-{acct}")
    return acct


FULL_ACCESS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]}


def new_account_admin():
    """A fresh account with a user allowed ecr:* — for cases that need an empty registry."""
    acct = new_account()
    key, secret = new_user("boss", FULL_ACCESS, account=acct)
    return acct, client(key, secret)


def password_of(c):
    """The /v2/ password from GetAuthorizationToken."""
    data = c.get_authorization_token()["authorizationData"][0]
    user, pw = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
    assert user == "AWS", f"token user is {user!r}"
    return pw


_PASSWORDS = {}


def password_once(c):
    """password_of(c), fetched once per client (tokens last 12 h, longer than any run)."""
    if id(c) not in _PASSWORDS:
        _PASSWORDS[id(c)] = password_of(c)
    return _PASSWORDS[id(c)]


def basic(pw, user="AWS"):
    return "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()


# ------------------------------------------------------------------------------------------------
# Raw SigV4 (independent of botocore, for requests botocore will not make)


def _h(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sigv4_headers(target, body, key, secret, region=REGION, amz_date=None, host=HOST):
    t = amz_date or datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    day = t[:8]
    headers = {
        "content-type": "application/x-amz-json-1.1",
        "host": host,
        "x-amz-date": t,
        "x-amz-target": "AmazonEC2ContainerRegistry_V20150921." + target,
    }
    names = sorted(headers)
    signed = ";".join(names)
    canonical = "\n".join(
        ["POST", "/", "", *[f"{n}:{headers[n]}" for n in names], "", signed, hashlib.sha256(body).hexdigest()]
    )
    scope = f"{day}/{region}/ecr/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", t, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = _h(_h(_h(_h(("AWS4" + secret).encode(), day), region), "ecr"), "aws4_request")
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = f"AWS4-HMAC-SHA256 Credential={key}/{scope}, SignedHeaders={signed}, Signature={sig}"
    return headers, canonical, sig


def raw_ecr(target, body, headers):
    """POSTs to the ECR API; returns (status, headers, parsed JSON or raw bytes)."""
    status, h, data = http("POST", "/", headers=headers, body=body)
    try:
        return status, h, json.loads(data)
    except ValueError:
        return status, h, data


# ------------------------------------------------------------------------------------------------
# HTTP


def http(method, url, headers=None, body=None, timeout=60):
    """One request without redirects; returns (status, {lowercase header: value}, body bytes)."""
    if url.startswith("http"):
        u = urllib.parse.urlparse(url)
        host, path = u.netloc, u.path + (("?" + u.query) if u.query else "")
    else:
        host, path = HOST, url
    conn = httplib.HTTPConnection(host, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


def v2(method, path, pw=None, headers=None, body=None, user="AWS"):
    h = dict(headers or {})
    if pw is not None:
        h["Authorization"] = basic(pw, user)
    return http(method, path, headers=h, body=body)


ACCEPT_ALL = ", ".join([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, "application/vnd.docker.distribution.manifest.list.v2+json"])


# ------------------------------------------------------------------------------------------------
# Images


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def tar_layer(size, gz=True):
    """A real (optionally gzipped) tar holding one file of `size` random bytes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo(name=f"data-{uuid.uuid4().hex[:8]}.bin")
        info.size = size
        info.mtime = 0
        t.addfile(info, io.BytesIO(os.urandom(size)))
    raw = buf.getvalue()
    if not gz:
        return raw, raw
    import gzip

    return gzip.compress(raw, mtime=0), raw


class Image:
    """An image built in memory: manifest text, its digest, config and layers."""

    def __init__(self, layers, config, manifest, media_type):
        self.layers = layers
        self.config = config
        self.manifest = manifest
        self.media_type = media_type
        self.digest = sha(manifest.encode())
        self.layer_size = sum(len(b) for b in layers)
        # ECR's imageSizeInBytes: the layers plus the config blob.
        self.image_size = self.layer_size + len(config)

    def blobs(self):
        return [self.config, *self.layers]


def build_image(n_layers=1, layer_size=512, docker=False, layers=None, subject=None, artifact_type=None, annotations=None):
    if layers is None:
        layers = [tar_layer(layer_size)[0] for _ in range(n_layers)]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Labels": {"e2e": uuid.uuid4().hex}},
            "rootfs": {"type": "layers", "diff_ids": [sha(l) for l in layers]},
        },
        separators=(",", ":"),
    ).encode()
    m = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST,
        "config": {"mediaType": DOCKER_CONFIG if docker else OCI_CONFIG, "digest": sha(config), "size": len(config)},
        "layers": [
            {"mediaType": DOCKER_LAYER if docker else OCI_LAYER_GZ, "digest": sha(l), "size": len(l)} for l in layers
        ],
    }
    if artifact_type:
        m["artifactType"] = artifact_type
    if subject is not None:
        m["subject"] = {"mediaType": subject.media_type, "digest": subject.digest, "size": len(subject.manifest.encode())}
    if annotations:
        m["annotations"] = annotations
    # Two-space indentation: the registry must keep these exact bytes (never re-serialize).
    text = json.dumps(m, indent=2)
    return Image(layers, config, text, m["mediaType"])


def upload_blob(c, repo, data, part_size=None, registry_id=None):
    """Uploads one blob through the ECR layer API (skips it when already present)."""
    extra = {"registryId": registry_id} if registry_id else {}
    digest = sha(data)
    avail = c.batch_check_layer_availability(repositoryName=repo, layerDigests=[digest], **extra)["layers"]
    if avail and avail[0].get("layerAvailability") == "AVAILABLE":
        return digest
    up = c.initiate_layer_upload(repositoryName=repo, **extra)["uploadId"]
    step = part_size or max(len(data), 1)
    for first in range(0, len(data), step):
        part = data[first : first + step]
        c.upload_layer_part(
            repositoryName=repo,
            uploadId=up,
            partFirstByte=first,
            partLastByte=first + len(part) - 1,
            layerPartBlob=part,
            **extra,
        )
    c.complete_layer_upload(repositoryName=repo, uploadId=up, layerDigests=[digest], **extra)
    return digest


def push_image(c, repo, tag=None, image=None, **build):
    """Uploads an image's blobs through the layer API and PutImage's its manifest."""
    image = image or build_image(**build)
    for b in image.blobs():
        upload_blob(c, repo, b)
    args = {"repositoryName": repo, "imageManifest": image.manifest, "imageManifestMediaType": image.media_type}
    if tag:
        args["imageTag"] = tag
    c.put_image(**args)
    return image


def write_oci_layout(image, path, ref="latest"):
    """Writes an image as an OCI layout (for skopeo/oras sources)."""
    os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
    for b in [*image.blobs(), image.manifest.encode()]:
        with open(os.path.join(path, "blobs", "sha256", sha(b)[7:]), "wb") as f:
            f.write(b)
    with open(os.path.join(path, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(path, "index.json"), "w") as f:
        json.dump(
            {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "mediaType": image.media_type,
                        "digest": image.digest,
                        "size": len(image.manifest.encode()),
                        "annotations": {"org.opencontainers.image.ref.name": ref},
                    }
                ],
            },
            f,
        )


# ------------------------------------------------------------------------------------------------
# External tools


def run(cmd, env=None, input=None, timeout=120, check=True, cwd=None):
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run(cmd, capture_output=True, text=True, env=e, input=input, timeout=timeout, cwd=cwd)
    if check and p.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} exited {p.returncode}\n  stdout: {p.stdout.strip()[-1200:]}\n  stderr: {p.stderr.strip()[-1200:]}"
        )
    return p


SKOPEO_POLICY = os.path.join(TMP, "skopeo-policy.json")
with open(SKOPEO_POLICY, "w") as _f:
    json.dump({"default": [{"type": "insecureAcceptAnything"}]}, _f)


def skopeo(*args, **kw):
    return run(["skopeo", "--policy", SKOPEO_POLICY, *args], **kw)


def docker_config_for(pw):
    """A DOCKER_CONFIG dir holding AWS:pw for the registry (crane/oras read it)."""
    d = os.path.join(TMP, "docker-" + uuid.uuid4().hex[:8])
    os.makedirs(d)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump({"auths": {HOST: {"auth": base64.b64encode(f"AWS:{pw}".encode()).decode()}}}, f)
    return d


def crane(*args, pw=None, docker_config=None, **kw):
    env = {"DOCKER_CONFIG": docker_config or (docker_config_for(pw) if pw else _empty_docker_config())}
    return run(["crane", "--insecure", *args], env=env, **kw)


_EMPTY = []


def _empty_docker_config():
    if not _EMPTY:
        d = os.path.join(TMP, "docker-empty")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            f.write('{"auths": {}}')
        _EMPTY.append(d)
    return _EMPTY[0]


def aws_env(key, secret):
    return {
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(TMP, "no-such-credentials"),
        "AWS_CONFIG_FILE": os.path.join(TMP, "no-such-config"),
    }


def oras_cmd(*args, pw=None, cwd=None, **kw):
    """oras with --plain-http and AWS:pw credentials (and a private DOCKER_CONFIG)."""
    cred = ["-u", "AWS", "-p", pw] if pw is not None else []
    sub, rest = args[0], list(args[1:])
    p = run(["oras", sub, "--plain-http", *cred, *rest], env={"DOCKER_CONFIG": _empty_docker_config()},
            cwd=cwd, **kw)
    return p
