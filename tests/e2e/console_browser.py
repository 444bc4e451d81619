#!/usr/bin/env python3
"""The web console in a real browser: Debian's chromium, headless, driven through chromedriver
with plain WebDriver JSON calls (urllib; no selenium).

1. Pushes over /v2/ (Basic auth, REG_AUTH): a two-platform OCI index whose entries are the
   linux/amd64 and linux/arm64 images plus one buildx-style attestation manifest per platform
   (annotations vnd.docker.reference.type=attestation-manifest, vnd.docker.reference.digest),
   and a signature-like referrer whose subject is the amd64 image. (The plain images are pushed
   by console.sh with crane.)
2. Drives the console: sign-in (a wrong secret refused, then the administrator), the cookie's
   attributes as the browser holds them, the repositories list, the grouped images, push
   commands, image detail, a bad then a good lifecycle policy and its preview, a bad then a
   good repository policy, a forged cross-origin POST from another origin refused, usage, sign-out; then
   a user allowed only ecr:DescribeRepositories gets the 403 page on a repository.
Screenshots go to --shots (PNG). Prints PASS:/FAIL: lines; writes {"passed","failed"} to
--results.
"""
import argparse
import base64
import hashlib
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"

passed = 0
failed = 0


def ok(name):
    global passed
    passed += 1
    print(f"PASS: {name}", flush=True)


def bad(name, detail):
    global failed
    failed += 1
    print(f"FAIL: {name} — {detail}", flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


# ---- pushing over /v2/ ---------------------------------------------------------------------

def sha256(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


class Registry:
    def __init__(self, url, auth):
        self.url, self.auth = url, auth

    def request(self, method, path, body=None, headers=None):
        req = urllib.request.Request(self.url + path, data=body, method=method)
        req.add_header("Authorization", self.auth)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()

    def blob(self, repo, data):
        d = sha256(data)
        self.request("POST", f"/v2/{repo}/blobs/uploads/?digest={d}", data,
                     {"Content-Type": "application/octet-stream"})
        return {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d,
                "size": len(data)}

    def manifest(self, repo, ref, doc, media_type):
        body = json.dumps(doc, separators=(",", ":")).encode()
        self.request("PUT", f"/v2/{repo}/manifests/{ref}", body, {"Content-Type": media_type})
        return {"mediaType": media_type, "digest": sha256(body), "size": len(body)}


def push_index(reg, repo):
    """The two-platform index with attestations and a referrer; returns the digests."""
    out = {}
    entries = []
    for arch in ("amd64", "arm64"):
        layer = reg.blob(repo, os.urandom(4096))
        cfg = json.dumps({"architecture": arch, "os": "linux",
                          "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]}}).encode()
        c = reg.blob(repo, cfg)
        c["mediaType"] = "application/vnd.oci.image.config.v1+json"
        body = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": c, "layers": [layer]}
        raw = json.dumps(body, separators=(",", ":")).encode()
        img = reg.manifest(repo, sha256(raw), body, OCI_MANIFEST)
        out[arch] = img["digest"]
        entries.append(dict(img, platform={"architecture": arch, "os": "linux"}))
    for arch in ("amd64", "arm64"):
        stmt = json.dumps({"_type": "https://in-toto.io/Statement/v0.1",
                           "predicateType": "https://spdx.dev/Document",
                           "subject": [{"name": f"console/multi-{arch}"}]}).encode()
        layer = reg.blob(repo, stmt)
        layer["mediaType"] = "application/vnd.in-toto+json"
        layer["annotations"] = {"in-toto.io/predicate-type": "https://spdx.dev/Document"}
        cfg = reg.blob(repo, b'{"architecture":"unknown","os":"unknown","config":{},"rootfs":{"type":"layers","diff_ids":[]}}')
        cfg["mediaType"] = "application/vnd.oci.image.config.v1+json"
        body = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": cfg, "layers": [layer]}
        raw = json.dumps(body, separators=(",", ":")).encode()
        att = reg.manifest(repo, sha256(raw), body, OCI_MANIFEST)
        out[f"att-{arch}"] = att["digest"]
        entries.append(dict(att, platform={"architecture": "unknown", "os": "unknown"},
                            annotations={"vnd.docker.reference.type": "attestation-manifest",
                                         "vnd.docker.reference.digest": out[arch]}))
    index = reg.manifest(repo, "latest", {"schemaVersion": 2, "mediaType": OCI_INDEX,
                                          "manifests": entries}, OCI_INDEX)
    out["index"] = index["digest"]
    # A signature-like referrer of the amd64 image.
    empty = reg.blob(repo, b"{}")
    empty["mediaType"] = "application/vnd.oci.empty.v1+json"
    sig = reg.blob(repo, b"signature bytes")
    body = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json",
            "config": empty, "layers": [sig],
            "subject": {"mediaType": OCI_MANIFEST, "digest": out["amd64"], "size": 1}}
    # The subject descriptor's size must be the real one.
    body["subject"]["size"] = next(e["size"] for e in entries if e["digest"] == out["amd64"])
    raw = json.dumps(body, separators=(",", ":")).encode()
    out["sig"] = reg.manifest(repo, sha256(raw), body, OCI_MANIFEST)["digest"]
    return out


# ---- WebDriver -----------------------------------------------------------------------------

class Browser:
    def __init__(self, driver_url, profile):
        self.base = driver_url
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium"),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", "--window-size=1400,1000",
                         f"--user-data-dir={profile}"],
            },
        }}}
        self.sid = self.call("POST", "/session", caps)["sessionId"]
        # Elements are looked for up to 5 s, pages loaded up to 30 s.
        self.s("POST", "/timeouts", {"implicit": 5000, "pageLoad": 30000})

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.loads(r.read() or b"{}").get("value")
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"WebDriver {method} {path}: {e.code} {e.read()[:400]!r}")

    def s(self, method, path, body=None):
        return self.call(method, f"/session/{self.sid}{path}", body)

    def go(self, url):
        self.s("POST", "/url", {"url": url})

    def url(self):
        return self.s("GET", "/url")

    def find(self, css):
        return self.s("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def find_all(self, css):
        return [e[ELEMENT] for e in self.s("POST", "/elements", {"using": "css selector", "value": css})]

    def text(self, css):
        return self.s("GET", f"/element/{self.find(css)}/text")

    def attr(self, el, name):
        return self.s("GET", f"/element/{el}/attribute/{name}")

    def type(self, css, text, clear=True):
        el = self.find(css)
        if clear:
            self.s("POST", f"/element/{el}/clear", {})
        self.s("POST", f"/element/{el}/value", {"text": text})

    def click(self, css):
        """Clicks something that loads a page (every click here does), and waits until the
        old document is gone: a click that submits a form returns before the new page loads."""
        old = self.find("html")
        self.s("POST", f"/element/{self.find(css)}/click", {})
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                self.s("GET", f"/element/{old}/name")
            except RuntimeError as e:
                # Chromium reports a node of a replaced document as stale, or (racing the
                # navigation) as an inspector error about the node ("does not exist", "does
                # not belong to the document").
                if "stale element" in str(e) or "Node with given id" in str(e):
                    return
                raise
            time.sleep(0.1)
        raise AssertionError(f"clicking {css} loaded no page")

    def source(self):
        return self.s("GET", "/source")

    def cookies(self):
        return self.s("GET", "/cookie")

    def delete_cookies(self):
        self.s("DELETE", "/cookie")

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.s("GET", "/screenshot")))

    def quit(self):
        try:
            self.s("DELETE", "")
        except Exception:
            pass


def start_driver():
    port = free_port()
    proc = subprocess.Popen([os.environ.get("CHROMEDRIVER_BIN", "chromedriver"), f"--port={port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/status", timeout=2) as r:
                if json.loads(r.read())["value"]["ready"]:
                    return proc, url
        except Exception:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("chromedriver did not become ready")


def evil_site(target):
    """Another origin serving a page that POSTs a forged repository policy to the console."""
    page = f"""<!DOCTYPE html><html><body>
<form id=f method=post action="{target}/console/policy">
<input name=repository value="console/plain"><input name=csrf value="{'0' * 64}">
<textarea name=text>{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"ecr:*"}}]}}</textarea>
</form><script>document.getElementById('f').submit()</script></body></html>""".encode()

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}/"


# ---- the cases -----------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--host", required=True)
    ap.add_argument("--auth", required=True)
    ap.add_argument("--admin", required=True, help="KEY:SECRET")
    ap.add_argument("--viewer", required=True, help="KEY:SECRET")
    ap.add_argument("--shots", required=True)
    ap.add_argument("--results", required=True)
    a = ap.parse_args()
    os.makedirs(a.shots, exist_ok=True)
    admin_key, admin_secret = a.admin.split(":", 1)
    viewer_key, viewer_secret = a.viewer.split(":", 1)
    U = a.url

    def case(name, fn):
        try:
            fn()
            ok(name)
        except Exception as e:
            bad(name, f"{type(e).__name__}: {str(e)[:300]}")
            traceback.print_exc(limit=3)
            if b is not None:
                try:
                    b.screenshot(os.path.join(a.shots, f"failed-{failed:02d}.png"))
                except Exception:
                    pass

    d = push_index(Registry(U, a.auth), "console/multi")
    profile = tempfile.mkdtemp(prefix="wharf-console-chromium-")
    proc, driver = start_driver()
    b = None
    try:
        b = Browser(driver, profile)
        shot = lambda n: b.screenshot(os.path.join(a.shots, n))

        def sign_in(key, secret):
            b.go(U + "/console/signin")
            b.type("#access_key_id", key)
            b.type("#secret_access_key", secret)
            b.click("#sign-in")

        def signin_page():
            b.go(U + "/console/")
            assert b.url().endswith("/console/signin"), b.url()
            assert b.text("h1") == "Sign in"
            shot("01-signin.png")
        case("signed out, /console/ goes to the sign-in form", signin_page)

        def wrong_secret():
            sign_in(admin_key, "wrong" + admin_secret[5:])
            assert "not valid" in b.text(".notice.error")
            assert not any(c["name"] == "wharf_console" for c in b.cookies()), b.cookies()
            shot("02-signin-refused.png")
        case("a wrong secret is refused", wrong_secret)

        def admin_signs_in():
            sign_in(admin_key, admin_secret)
            assert b.url().endswith("/console/"), b.url()
            assert b.text("#signed-in-as").endswith(":user/admin"), b.text("#signed-in-as")
            c = next(c for c in b.cookies() if c["name"] == "wharf_console")
            assert c["httpOnly"] is True and c.get("sameSite") == "Strict", c
            assert c["path"] == "/console" and len(c["value"]) == 64, c
            assert c["secure"] is False, "plain HTTP: not Secure"
        case("the administrator signs in; the cookie is HttpOnly, SameSite=Strict", admin_signs_in)

        def repositories():
            rows = b.text("#repositories")
            for want in ("console/multi", "console/plain", f"{a.host}/console/multi", "MUTABLE", "AES256"):
                assert want in rows, (want, rows)
            shot("03-repositories.png")
        case("repositories list: URI, mutability, encryption, size, count", repositories)

        def grouped():
            b.click("a.repo-link[href*='console%2Fmulti']")
            assert b.text("h1") == "console/multi"
            rows = [(b.attr(e, "class"), b.attr(e, "data-digest")) for e in b.find_all("tr.img")]
            order = [dg for _, dg in rows]
            cls = dict((dg, c) for c, dg in rows)
            assert order[0] == d["index"] and "depth-0 kind-index" in cls[d["index"]], rows
            for arch in ("amd64", "arm64"):
                assert "depth-1 kind-image" in cls[d[arch]], (arch, rows)
                assert "depth-2 kind-attestation" in cls[d[f"att-{arch}"]], (arch, rows)
                assert order.index(d[arch]) < order.index(d[f"att-{arch}"])
            assert "depth-2 kind-referrer" in cls[d["sig"]], rows
            assert order.index(d["amd64"]) < order.index(d["sig"]) < order.index(d["arm64"])
            table = b.text("#images")
            assert "linux/amd64" in table and "linux/arm64" in table and "latest" in table, table
            assert "application/vnd.dev.cosign.artifact.sig.v1+json" in table
            shot("04-repository-grouped.png")
        case("images grouped: index → linux/amd64, linux/arm64 → attestations, referrer", grouped)

        def push_commands():
            t = b.text("#push-commands")
            assert "aws ecr get-login-password" in t and f"--password-stdin {a.host}" in t, t
            assert f"docker tag multi:latest {a.host}/console/multi:latest" in t, t
            assert f"docker push {a.host}/console/multi:latest" in t, t
        case("push commands name this registry", push_commands)

        def image_detail():
            b.click(f"tr[data-digest='{d['amd64']}'] a.digest")
            assert b.text("#image-digest") == d["amd64"]
            layers = b.text("#layers")
            assert "application/vnd.oci.image.layer.v1.tar+gzip" in layers and "4.0 KiB" in layers, layers
            assert '"mediaType": "application/vnd.oci.image.manifest.v1+json"' in b.text("#manifest-json")
            refs = b.text("#referrers")
            assert "application/vnd.dev.cosign.artifact.sig.v1+json" in refs and d["sig"] in refs, refs
            assert "not been scanned" in b.text("#findings")
            assert "No replication rule" in b.text("#replication")
            shot("05-image-detail.png")
            b.go(U + "/console/image?repository=console%2Fmulti&digest=" + d["index"])
            assert "unknown/unknown attestation-manifest" in b.text("#entries"), b.text("#entries")
        case("image detail: manifest, layers, referrers, scan and replication sections", image_detail)

        def bad_lifecycle():
            b.go(U + "/console/repository?name=console%2Fplain")
            b.click("#edit-lifecycle")
            b.type("#policy-text", '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any"},"action":{"type":"expire"}}]}')
            b.click("#save-policy")
            assert "not valid" in b.text(".notice.error"), b.text("main")
            shot("06-lifecycle-invalid.png")
        case("a bad lifecycle policy shows its validation error", bad_lifecycle)

        good = '{"rules":[{"rulePriority":1,"description":"keep one","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}'

        def good_lifecycle():
            b.type("#policy-text", good)
            b.click("#save-policy")
            assert b.text(".notice.ok") == "Lifecycle policy saved.", b.text("main")
            b.go(U + "/console/lifecycle?repository=console%2Fplain")
            assert "imageCountMoreThan" in b.s("GET", f"/element/{b.find('#policy-text')}/property/value")
        case("a good lifecycle policy is saved", good_lifecycle)

        def preview():
            b.click("#preview-policy")
            assert "1 image(s) would expire" in b.text("#preview-summary"), b.text("main")
            t = b.text("#preview-table")
            assert "EXPIRE" in t and "v1" in t and "v2" not in t, t
            shot("07-lifecycle-preview.png")
        case("the preview lists the image that would expire", preview)

        def repo_policy():
            b.go(U + "/console/policy?repository=console%2Fplain")
            b.type("#policy-text", '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage"}]}')
            b.click("#save-policy")
            assert "not valid" in b.text(".notice.error"), b.text("main")
            shot("08-policy-invalid.png")
            b.type("#policy-text", '{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"*"},"Action":"ecr:BatchGetImage"}]}')
            b.click("#save-policy")
            assert b.text(".notice.ok") == "Repository policy saved.", b.text("main")
            b.go(U + "/console/policy?repository=console%2Fplain")
            assert '"Sid":"pull"' in b.s("GET", f"/element/{b.find('#policy-text')}/property/value")
            shot("09-policy-saved.png")
        case("repository policy: an invalid one is refused, a valid one saved", repo_policy)

        def forged_post():
            srv, evil = evil_site(U)
            try:
                b.go(evil)
                deadline = time.time() + 10
                while "/console/policy" not in b.url() and time.time() < deadline:
                    time.sleep(0.2)
                assert "/console/policy" in b.url(), b.url()
                assert b.text("h1") == "Request refused", b.text("main")
                shot("10-forged-post-refused.png")
            finally:
                srv.shutdown()
            b.go(U + "/console/policy?repository=console%2Fplain")
            value = b.s("GET", f"/element/{b.find('#policy-text')}/property/value")
            assert '"Sid":"pull"' in value and '"ecr:*"' not in value, value
        case("a form POSTed from another origin is refused; the policy is unchanged", forged_post)

        def usage():
            b.click("#nav-usage")
            b.find("svg#usage-chart")
            t = b.text("#usage")
            assert "console/multi" in t and "console/plain" in t and "$" in t, t
            shot("11-usage.png")
        case("usage and cost: a bar chart and costs per repository", usage)

        def sign_out():
            b.click("#sign-out")
            assert b.url().endswith("/console/signin"), b.url()
            b.go(U + "/console/usage")
            assert b.url().endswith("/console/signin"), b.url()
        case("sign-out ends the session", sign_out)

        def denied():
            b.delete_cookies()
            sign_in(viewer_key, viewer_secret)
            assert b.text("#signed-in-as").endswith(":user/viewer")
            assert "console/plain" in b.text("#repositories")
            b.go(U + "/console/repository?name=console%2Fplain")
            assert b.text("h1") == "Access denied", b.text("main")
            assert "ecr:DescribeImages" in b.text(".notice.denied")
            shot("12-denied.png")
            # The status the browser got was 403: the same request with the browser's cookie.
            c = next(c for c in b.cookies() if c["name"] == "wharf_console")
            req = urllib.request.Request(U + "/console/repository?name=console%2Fplain",
                                         headers={"Cookie": f"wharf_console={c['value']}"})
            try:
                urllib.request.urlopen(req, timeout=10)
                raise AssertionError("expected 403")
            except urllib.error.HTTPError as e:
                assert e.code == 403, e.code
        case("a user without ecr:DescribeImages gets the 403 page", denied)
    except Exception as e:
        bad("browser session", f"{type(e).__name__}: {e}")
        traceback.print_exc()
    finally:
        if b is not None:
            b.quit()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)
        with open(a.results, "w") as f:
            json.dump({"passed": passed, "failed": failed}, f)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
