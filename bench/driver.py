#!/usr/bin/env python3
"""Small HTTP load drivers for bench/run.sh (stdlib only; keep-alive connection per thread).

  driver.py small-blobs URL REPO COUNT SIZE CONC [REPOS]
                                                   push COUNT random SIZE-byte blobs (POST + PUT)
  driver.py tags URL REPO MANIFEST_FILE COUNT CONC [REPOS]
                                                   PUT the same manifest under COUNT tags t00000..
  With REPOS > 1 (default 1) push i goes to repository REPO when i % REPOS == 0, else to
  REPO-<i % REPOS>; `tags` first mounts the manifest's blobs from REPO into those (untimed).
  driver.py taglist URL REPO REPEAT                GET the full tag list (following Link pages)
  driver.py chunked URL REPO FILE CHUNK_MB DIGEST  push FILE as one upload of CHUNK_MB MiB PATCHes
                                                   and a final PUT, on one keep-alive connection
  driver.py push-image URL REPO TAG                push a tiny image (config + 1 layer) by tag
                                                   (TAG "@digest": untagged), print the path of
                                                   a temp file holding the manifest
Each prints one JSON object: counts, errors, seconds, per-second rate or median ms.
Every request sends `Authorization: $REG_AUTH` when that environment variable is set (run.sh
exports it via tests/e2e/lib.sh for wharf; empty for Distribution).
"""
import hashlib
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse

AUTH = os.environ.get("REG_AUTH", "")


class Client:
    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.conn = None

    def req(self, method, path, body=None, headers=None):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                h = dict(headers or {})
                if AUTH:
                    h["Authorization"] = AUTH
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, r.getheaders(), data
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        raise RuntimeError("unreachable")


def hdr(headers, name):
    for k, v in headers:
        if k.lower() == name.lower():
            return v
    return None


def path_of(location):
    u = urllib.parse.urlsplit(location)
    return u.path + ("?" + u.query if u.query else "")


def push_blob(c, repo, data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    st, h, _ = c.req("POST", "/v2/%s/blobs/uploads/" % repo, b"", {"Content-Length": "0"})
    if st != 202:
        return False, d
    loc = path_of(hdr(h, "Location"))
    sep = "&" if "?" in loc else "?"
    st, _, _ = c.req("PUT", loc + sep + "digest=" + d, data,
                     {"Content-Type": "application/octet-stream", "Content-Length": str(len(data))})
    return st == 201, d


def run_parallel(count, conc, base, fn):
    """fn(client, i) -> bool; returns (ok, errors, seconds)."""
    lock = threading.Lock()
    nxt = [0]
    res = [0, 0]

    def worker():
        c = Client(base)
        while True:
            with lock:
                i = nxt[0]
                if i >= count:
                    return
                nxt[0] += 1
            try:
                good = fn(c, i)
            except Exception:
                good = False
            with lock:
                res[0 if good else 1] += 1

    threads = [threading.Thread(target=worker) for _ in range(conc)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return res[0], res[1], time.monotonic() - t0


def spread(repo, repos, i):
    """The repository push i goes to when pushes are spread over `repos` repositories."""
    k = i % repos
    return repo if k == 0 else "%s-%d" % (repo, k)


def mount(c, repo, source, digest):
    st, _, _ = c.req("POST", "/v2/%s/blobs/uploads/?mount=%s&from=%s" % (repo, digest, source), b"",
                     {"Content-Length": "0"})
    return st == 201


def cmd_small_blobs(base, repo, count, size, conc, repos="1"):
    count, size, conc, repos = int(count), int(size), int(conc), int(repos)
    blobs = [os.urandom(size) for _ in range(count)]
    ok, err, secs = run_parallel(count, conc, base,
                                 lambda c, i: push_blob(c, spread(repo, repos, i), blobs[i])[0])
    print(json.dumps({"ok": ok, "errors": err, "seconds": secs, "per_sec": ok / secs}))


def cmd_tags(base, repo, manifest_file, count, conc, repos="1"):
    count, conc, repos = int(count), int(conc), int(repos)
    body = open(manifest_file, "rb").read()
    doc = json.loads(body)
    mt = doc.get("mediaType", "application/vnd.oci.image.manifest.v1+json")
    c = Client(base)
    for k in range(1, repos):
        for d in [doc["config"]["digest"]] + [l["digest"] for l in doc.get("layers", [])]:
            if not mount(c, spread(repo, repos, k), repo, d):
                sys.exit("mounting %s into %s failed" % (d, spread(repo, repos, k)))

    def put(c, i):
        st, _, _ = c.req("PUT", "/v2/%s/manifests/t%05d" % (spread(repo, repos, i), i), body,
                         {"Content-Type": mt, "Content-Length": str(len(body))})
        return st == 201
    ok, err, secs = run_parallel(count, conc, base, put)
    print(json.dumps({"ok": ok, "errors": err, "seconds": secs, "per_sec": ok / secs}))


def cmd_taglist(base, repo, repeat):
    c = Client(base)
    times, counts, pages = [], set(), 0
    for _ in range(int(repeat)):
        t0 = time.monotonic()
        path, tags, pages = "/v2/%s/tags/list" % repo, [], 0
        while path and pages < 10000:
            try:
                st, h, data = c.req("GET", path)
            except (OSError, http.client.HTTPException) as e:
                print(json.dumps({"error": "GET %s: %s" % (path, e)}))
                return
            if st != 200:
                print(json.dumps({"error": "GET %s -> %d" % (path, st)}))
                return
            tags += json.loads(data).get("tags") or []
            pages += 1
            link = hdr(h, "Link")
            path = path_of(link.split(";")[0].strip().strip("<>")) if link else None
        times.append(time.monotonic() - t0)
        counts.add(len(tags))
    print(json.dumps({"tags": sorted(counts), "pages": pages, "median_ms": statistics.median(times) * 1000,
                      "min_ms": min(times) * 1000}))


def cmd_chunked(base, repo, path, chunk_mb, digest):
    """The client's side of a chunked push kept cheap (one connection, no process per chunk), so
    the figure measures the registry; the time includes opening the upload and the final PUT."""
    c, step = Client(base), int(chunk_mb) << 20
    t0 = time.monotonic()
    st, h, _ = c.req("POST", "/v2/%s/blobs/uploads/" % repo, b"", {"Content-Length": "0"})
    if st != 202:
        sys.exit("chunked: POST -> %d" % st)
    loc, off, n = path_of(hdr(h, "Location")), 0, 0
    with open(path, "rb") as f:
        while True:
            data = f.read(step)
            if not data:
                break
            st, h, _ = c.req("PATCH", loc, data, {
                "Content-Type": "application/octet-stream", "Content-Length": str(len(data)),
                "Content-Range": "%d-%d" % (off, off + len(data) - 1)})
            if st != 202:
                sys.exit("chunked: PATCH at %d -> %d" % (off, st))
            loc, off, n = path_of(hdr(h, "Location")), off + len(data), n + 1
    sep = "&" if "?" in loc else "?"
    st, _, _ = c.req("PUT", loc + sep + "digest=" + digest, b"", {"Content-Length": "0"})
    if st != 201:
        sys.exit("chunked: final PUT -> %d" % st)
    secs = time.monotonic() - t0
    print(json.dumps({"bytes": off, "chunks": n, "seconds": secs, "mib_per_s": off / secs / 1048576}))


def cmd_push_image(base, repo, tag):
    c = Client(base)
    layer = os.urandom(4096)
    ok1, ld = push_blob(c, repo, layer)
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "rootfs": {"type": "layers", "diff_ids": [ld]}}).encode()
    ok2, cd = push_blob(c, repo, cfg)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cfg)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": len(layer)}],
    }, separators=(",", ":")).encode()
    if tag == "@digest":  # push untagged, by digest
        tag = "sha256:" + hashlib.sha256(manifest).hexdigest()
    st, _, _ = c.req("PUT", "/v2/%s/manifests/%s" % (repo, tag), manifest,
                     {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    if not (ok1 and ok2 and st == 201):
        sys.exit("push-image failed (blobs %s %s, manifest %d)" % (ok1, ok2, st))
    fd, p = tempfile.mkstemp(prefix="bench-manifest-", suffix=".json")
    os.write(fd, manifest)
    os.close(fd)
    print(p)


if __name__ == "__main__":
    cmds = {"small-blobs": cmd_small_blobs, "tags": cmd_tags, "taglist": cmd_taglist,
            "chunked": cmd_chunked, "push-image": cmd_push_image}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])
