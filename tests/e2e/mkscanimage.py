#!/usr/bin/env python3
"""Build the image the scanning suite scans, from real package data on this machine (stdlib only).

Layers (gzip tars, owner root, fixed mtimes, so the same inputs give the same digests):
  1 os      /usr/lib/os-release (this machine's), /etc/os-release -> ../usr/lib/os-release, and
            /var/lib/dpkg/status (this machine's dpkg database)
  2 python  every *.dist-info directory of a venv's site-packages after `pip install` of the
            pinned PYTHON_PINS, under /usr/local/lib/pythonX.Y/site-packages
  3 npm     /app/node_modules after `npm install` of the pinned NPM_PINS (plus whatever they
            depend on, as npm resolves it at build time)
  4 go      /usr/local/bin/app, a `go build` of a small program importing GO_PINS' modules
  5 java    /app/lib/commons-lang3-3.12.0.jar, fetched from Maven Central with
            `mvn dependency:copy` (left out, and reported as left out, when mvn is missing)

The pins have published advisories that tests/e2e/fixtures/osv/ describes. The built inputs
(site-packages, node_modules, the binary, the jar) are cached under
~/.cache/wharf-tools/scan-fixtures/<kind>-<hash of pins and tool version>, so only the first
build needs the network; the dpkg database and os-release are read fresh each time.

Usage:
  mkscanimage.py [--out DIR] [--push http://HOST:PORT --repo NAME [--tag TAG] [--user U --password P]]
                 [--cache DIR] [--no-java]
--out writes an OCI image layout (index.json names the image "scan"); --push uploads the blobs
and the manifest over /v2/ (monolithic uploads, Basic auth when --user is given). Prints a JSON
summary on stdout: {"digest", "manifest_size", "layers": [{"name", "digest", "diff_id", "size"}],
"kinds": [...the layer names included...]}.
"""
import argparse
import base64
import gzip
import hashlib
import http.client
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
MTIME = 1700000000  # fixed, so rebuilding the same inputs gives the same layer digests

# Pinned so the advisories in tests/e2e/fixtures/osv/ apply (see its README.md). Installed with
# --no-deps: the list is the complete closure, so pip resolves nothing at build time.
PYTHON_PINS = [
    "requests==2.31.0",
    "urllib3==1.26.18",
    "idna==3.6",
    "certifi==2023.7.22",
    "charset-normalizer==3.3.2",
    "six==1.16.0",
]
NPM_PINS = ["lodash@4.17.20", "minimist@1.2.5", "express@4.17.1"]
GO_PINS = {"golang.org/x/text": "v0.3.7", "github.com/google/uuid": "v1.6.0"}
JAVA_ARTIFACT = ("org.apache.commons", "commons-lang3", "3.12.0")

GO_MAIN = """package main

import (
	"fmt"

	"github.com/google/uuid"
	"golang.org/x/text/language"
)

func main() {
	tag := language.Make("en-GB")
	fmt.Println(tag.String(), uuid.NewSHA1(uuid.NameSpaceURL, []byte("wharf")).String())
}
"""


def log(msg):
    print(f"mkscanimage: {msg}", file=sys.stderr, flush=True)


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def run(cmd, cwd=None, env=None, timeout=900):
    e = dict(os.environ)
    if env:
        e.update(env)
    try:
        p = subprocess.run(cmd, cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout)
    except OSError as err:
        raise SystemExit(f"mkscanimage: cannot run {cmd[0]}: {err}") from None
    if p.returncode != 0:
        raise SystemExit(
            f"mkscanimage: {' '.join(cmd)} exited {p.returncode}\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}"
        )
    return p.stdout


def tool_version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def cache_key(*parts):
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def cached(cache, kind, key, build):
    """Returns cache/<kind>-<key>, calling build(tmpdir) to fill it when absent. The directory
    is renamed into place only once complete, so an interrupted build is never reused."""
    final = os.path.join(cache, f"{kind}-{key}")
    if os.path.isfile(os.path.join(final, ".complete")):
        log(f"{kind}: cached in {final}")
        return final
    os.makedirs(cache, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{kind}-", dir=cache)
    try:
        log(f"{kind}: building into {final}")
        build(tmp)
        open(os.path.join(tmp, ".complete"), "w").close()
        shutil.rmtree(final, ignore_errors=True)
        os.rename(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


# ------------------------------------------------------------------------------------------------
# Inputs


def build_python(dest):
    venv = os.path.join(dest, "venv")
    run([sys.executable, "-m", "venv", venv])
    run([os.path.join(venv, "bin", "pip"), "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--no-compile", *PYTHON_PINS])
    site = run([os.path.join(venv, "bin", "python"), "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip()
    out = os.path.join(dest, "site-packages")
    os.makedirs(out)
    for name in sorted(os.listdir(site)):
        if name.endswith(".dist-info"):
            shutil.copytree(os.path.join(site, name), os.path.join(out, name))
    shutil.rmtree(venv)


def build_npm(dest):
    with open(os.path.join(dest, "package.json"), "w") as f:
        json.dump({"name": "wharf-scan-fixture", "version": "0.0.0", "private": True}, f)
    run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--save-exact",
         "--loglevel=error", *NPM_PINS], cwd=dest)
    # Only node_modules goes into the image; the project's own package.json and lockfile stay
    # out, so every package in the image is an installed one.
    for f in ("package.json", "package-lock.json"):
        os.remove(os.path.join(dest, f))


def build_go(dest):
    src = os.path.join(dest, "src")
    os.makedirs(src)
    with open(os.path.join(src, "main.go"), "w") as f:
        f.write(GO_MAIN)
    reqs = "\n".join(f"\t{m} {v}" for m, v in sorted(GO_PINS.items()))
    with open(os.path.join(src, "go.mod"), "w") as f:
        f.write(f"module example.com/wharf-scan-fixture\n\ngo 1.21\n\nrequire (\n{reqs}\n)\n")
    env = {"CGO_ENABLED": "0", "GOFLAGS": "-mod=mod -buildvcs=false",
           "GOPROXY": os.environ.get("GOPROXY", "https://proxy.golang.org,direct")}
    run(["go", "mod", "download"], cwd=src, env=env)
    run(["go", "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", os.path.join(dest, "app"), "."],
        cwd=src, env=env)
    shutil.rmtree(src)


def build_java(dest):
    group, artifact, version = JAVA_ARTIFACT
    run(["mvn", "-q", "-B", "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy",
         f"-Dartifact={group}:{artifact}:{version}:jar", f"-DoutputDirectory={dest}"], cwd=dest)


# ------------------------------------------------------------------------------------------------
# Layers


class Layer:
    """A tar built in memory with explicit entries: directories (0755), files and symlinks, all
    owned by root with a fixed mtime. Parent directories are added as needed, in order."""

    def __init__(self, name):
        self.name = name
        self.buf = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buf, mode="w", format=tarfile.PAX_FORMAT)
        self.dirs = set()

    def _info(self, path, kind, mode):
        ti = tarfile.TarInfo(path)
        ti.type = kind
        ti.mode = mode
        ti.mtime = MTIME
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = "root"
        return ti

    def dir(self, path):
        path = path.strip("/")
        if not path or path in self.dirs:
            return
        self.dir(os.path.dirname(path))
        self.dirs.add(path)
        self.tar.addfile(self._info(path + "/", tarfile.DIRTYPE, 0o755))

    def file(self, path, data, mode=0o644):
        path = path.strip("/")
        self.dir(os.path.dirname(path))
        ti = self._info(path, tarfile.REGTYPE, mode)
        ti.size = len(data)
        self.tar.addfile(ti, io.BytesIO(data))

    def symlink(self, path, target):
        path = path.strip("/")
        self.dir(os.path.dirname(path))
        ti = self._info(path, tarfile.SYMTYPE, 0o777)
        ti.linkname = target
        self.tar.addfile(ti)

    def tree(self, src, dest):
        """Adds a directory tree from the host under dest, keeping executable bits and
        symlinks (npm's node_modules/.bin links), in sorted order."""
        for root, dirs, files in os.walk(src):
            dirs.sort()
            rel = os.path.relpath(root, src)
            base = dest if rel == "." else os.path.join(dest, rel)
            self.dir(base)
            for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
                p = os.path.join(root, name)
                target = os.path.join(base, name)
                if os.path.islink(p):
                    self.symlink(target, os.readlink(p))
                elif os.path.isfile(p):
                    mode = 0o755 if os.stat(p).st_mode & 0o111 else 0o644
                    with open(p, "rb") as f:
                        self.file(target, f.read(), mode)

    def finish(self):
        self.tar.close()
        raw = self.buf.getvalue()
        return gzip.compress(raw, compresslevel=6, mtime=0), sha256(raw)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def build_layers(cache, with_java):
    layers = []

    os_layer = Layer("os")
    os_release = "/usr/lib/os-release" if os.path.isfile("/usr/lib/os-release") else "/etc/os-release"
    os_layer.file("/usr/lib/os-release", read(os_release))
    os_layer.symlink("/etc/os-release", "../usr/lib/os-release")
    os_layer.file("/var/lib/dpkg/status", read("/var/lib/dpkg/status"))
    layers.append(os_layer)

    pyver = f"{sys.version_info.major}.{sys.version_info.minor}"
    py = cached(cache, "python", cache_key(sys.version, *PYTHON_PINS), build_python)
    py_layer = Layer("python")
    py_layer.tree(os.path.join(py, "site-packages"), f"/usr/local/lib/python{pyver}/site-packages")
    layers.append(py_layer)

    npm = cached(cache, "npm", cache_key(tool_version(["npm", "--version"]), *NPM_PINS), build_npm)
    npm_layer = Layer("npm")
    npm_layer.tree(os.path.join(npm, "node_modules"), "/app/node_modules")
    layers.append(npm_layer)

    go_key = cache_key(tool_version(["go", "version"]), GO_MAIN, *sorted(f"{m}@{v}" for m, v in GO_PINS.items()))
    go = cached(cache, "go", go_key, build_go)
    go_layer = Layer("go")
    go_layer.file("/usr/local/bin/app", read(os.path.join(go, "app")), 0o755)
    layers.append(go_layer)

    if with_java and shutil.which("mvn"):
        group, artifact, version = JAVA_ARTIFACT
        java = cached(cache, "java", cache_key(group, artifact, version), build_java)
        java_layer = Layer("java")
        jar = f"{artifact}-{version}.jar"
        java_layer.file(f"/app/lib/{jar}", read(os.path.join(java, jar)))
        layers.append(java_layer)
    elif with_java:
        log("java: mvn not found; the image has no jar layer")
    return layers


def build_image(cache, with_java):
    blobs = {}
    descs = []
    diff_ids = []
    names = []
    for layer in build_layers(cache, with_java):
        gz, diff_id = layer.finish()
        d = sha256(gz)
        blobs[d] = gz
        descs.append({"mediaType": MT_LAYER, "digest": d, "size": len(gz)})
        diff_ids.append(diff_id)
        names.append(layer.name)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["/usr/local/bin/app"], "WorkingDir": "/app"},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2023-11-14T22:13:20Z", "created_by": f"mkscanimage.py {n} layer"} for n in names],
    }
    cfg = json.dumps(config, separators=(",", ":"), sort_keys=True).encode()
    blobs[sha256(cfg)] = cfg
    manifest = {
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": {"mediaType": MT_CONFIG, "digest": sha256(cfg), "size": len(cfg)},
        "layers": descs,
    }
    mbytes = json.dumps(manifest, indent=2).encode()
    summary = {
        "digest": sha256(mbytes),
        "manifest_size": len(mbytes),
        "kinds": names,
        "layers": [{"name": n, "digest": d["digest"], "diff_id": i, "size": d["size"]}
                   for n, d, i in zip(names, descs, diff_ids)],
    }
    return blobs, mbytes, summary


# ------------------------------------------------------------------------------------------------
# Output


def write_layout(out, blobs, mbytes):
    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
    for d, data in [*blobs.items(), (sha256(mbytes), mbytes)]:
        with open(os.path.join(out, "blobs", "sha256", d.split(":", 1)[1]), "wb") as f:
            f.write(data)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": MT_MANIFEST, "digest": sha256(mbytes), "size": len(mbytes),
            "annotations": {"org.opencontainers.image.ref.name": "scan"}}]}, f)


def push(endpoint, repo, tag, blobs, mbytes, user=None, password=None):
    """Pushes over /v2/: HEAD each blob, POST + PUT (monolithic) the missing ones, then PUT the
    manifest by tag (or by digest when no tag)."""
    u = urllib.parse.urlparse(endpoint)
    headers = {}
    if user is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def request(method, path, body=None, extra=None):
        conn = http.client.HTTPConnection(u.netloc, timeout=300)
        try:
            conn.request(method, path, body=body, headers={**headers, **(extra or {})})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    for d, data in blobs.items():
        status, _, _ = request("HEAD", f"/v2/{repo}/blobs/{d}")
        if status == 200:
            continue
        status, h, body = request("POST", f"/v2/{repo}/blobs/uploads/")
        if status != 202 or "location" not in h:
            raise SystemExit(f"mkscanimage: POST blob upload -> {status} {body[:300]!r}")
        loc = urllib.parse.urlparse(urllib.parse.urljoin(endpoint + "/", h["location"]))
        sep = "&" if loc.query else "?"
        path = f"{loc.path}{'?' + loc.query if loc.query else ''}{sep}digest={d}"
        status, _, body = request("PUT", path, data, {"Content-Type": "application/octet-stream"})
        if status != 201:
            raise SystemExit(f"mkscanimage: PUT blob {d} -> {status} {body[:300]!r}")
    ref = tag or sha256(mbytes)
    status, _, body = request("PUT", f"/v2/{repo}/manifests/{ref}", mbytes, {"Content-Type": MT_MANIFEST})
    if status != 201:
        raise SystemExit(f"mkscanimage: PUT manifest -> {status} {body[:300]!r}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="write an OCI image layout here")
    ap.add_argument("--push", help="registry endpoint, e.g. http://127.0.0.1:5000")
    ap.add_argument("--repo", default="scan/fixture")
    ap.add_argument("--tag", default="latest")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--cache", default=os.path.join(
        os.environ.get("WHARF_TOOLS_DIR", os.path.expanduser("~/.cache/wharf-tools")), "scan-fixtures"))
    ap.add_argument("--no-java", action="store_true", help="leave out the jar layer")
    a = ap.parse_args()

    blobs, mbytes, summary = build_image(a.cache, not a.no_java)
    if a.out:
        write_layout(a.out, blobs, mbytes)
    if a.push:
        push(a.push.rstrip("/"), a.repo, a.tag, blobs, mbytes, a.user, a.password)
        log(f"pushed {a.repo}@{summary['digest']}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
