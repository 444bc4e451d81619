#!/usr/bin/env python3
"""Verify a registry's state after a crash (used by crash.sh; stdlib only).

Usage: crash_verify.py URL ACKS ATTEMPTS
  ACKS      lines "repo tag manifest-digest" for pushes whose manifest PUT returned 201
  ATTEMPTS  lines "repo tag manifest-digest blob-digest..." written before each push started
Checks, printing one "PASS:"/"FAIL:" line each (details of up to 10 offenders on failure):
  1. every acknowledged tag resolves to the acknowledged manifest bytes, and every blob it
     references GETs back with bytes hashing to its digest;
  2. every tag the registry lists (tags/list of each repo we pushed to) resolves to a manifest
     that was attempted under that tag, and all its blobs resolve with exact bytes — nothing
     half-written is visible; and every acknowledged tag is listed;
  3. every attempted blob (acknowledged or not) either 404s or returns exactly its bytes.
Every request sends `Authorization: $REG_AUTH` when that environment variable is set (lib.sh
exports it: "Basic base64(AWS:password)" for wharf, empty for Distribution).
Exit status 0 when all pass.
"""
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

ACCEPT = ", ".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])


AUTH = os.environ.get("REG_AUTH", "")


def get(url, accept=None):
    headers = {"Accept": accept} if accept else {}
    if AUTH:
        headers["Authorization"] = AUTH
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def main():
    base, acks_path, attempts_path = sys.argv[1:4]
    acks = [l.split() for l in open(acks_path) if l.strip()]
    attempts = [l.split() for l in open(attempts_path) if l.strip()]
    attempted_manifests = {}  # (repo, tag) -> set(manifest digests)
    blobs = []  # (repo, digest)
    for a in attempts:
        repo, tag, mdig = a[0], a[1], a[2]
        attempted_manifests.setdefault((repo, tag), set()).add(mdig)
        blobs += [(repo, d) for d in a[3:]]
    pool = ThreadPoolExecutor(8)
    ok = True

    def manifest_and_blobs(repo, ref, want_digest=None, allowed=None):
        st, body = get("%s/v2/%s/manifests/%s" % (base, repo, ref), ACCEPT)
        if st != 200:
            return "%s:%s manifest GET -> %d %s" % (repo, ref, st, body[:200])
        d = sha(body)
        if want_digest and d != want_digest:
            return "%s:%s manifest digest %s, acknowledged %s" % (repo, ref, d, want_digest)
        if allowed is not None and d not in allowed:
            return "%s:%s serves manifest %s that was never pushed under this tag" % (repo, ref, d)
        try:
            m = json.loads(body)
        except ValueError:
            return "%s:%s manifest is not JSON" % (repo, ref)
        for desc in [m["config"]] + m.get("layers", []):
            st, b = get("%s/v2/%s/blobs/%s" % (base, repo, desc["digest"]))
            if st != 200:
                return "%s:%s blob %s GET -> %d" % (repo, ref, desc["digest"], st)
            if sha(b) != desc["digest"] or len(b) != desc["size"]:
                return "%s:%s blob %s has WRONG BYTES (%d bytes, %s)" % (repo, ref, desc["digest"], len(b), sha(b))
        return None

    def report(name, errors, total):
        nonlocal ok
        errors = [e for e in errors if e]
        if errors:
            ok = False
            print("FAIL: %s — %d of %d bad" % (name, len(errors), total))
            for e in errors[:10]:
                print("    " + e)
        else:
            print("PASS: %s (%d checked)" % (name, total))

    # 1. acknowledged pushes
    errs = list(pool.map(lambda a: manifest_and_blobs(a[0], a[1], want_digest=a[2]), acks))
    report("acknowledged pushes pullable with exact bytes", errs, len(acks))

    # 2. listed tags are complete; acknowledged tags are listed
    repos = sorted({a[0] for a in attempts})
    listed = []
    errs = []
    for repo in repos:
        st, body = get("%s/v2/%s/tags/list?n=100000" % (base, repo))
        if st == 404:
            tags = []  # repository never became visible: fine if nothing was acknowledged there
        elif st != 200:
            errs.append("%s tags/list -> %d %s" % (repo, st, body[:200]))
            continue
        else:
            tags = json.loads(body).get("tags") or []
        listed += [(repo, t) for t in tags]
    errs += list(pool.map(lambda rt: manifest_and_blobs(
        rt[0], rt[1], allowed=attempted_manifests.get(rt, set())), listed))
    listed_set = set(listed)
    errs += ["acknowledged %s:%s missing from tags/list" % (a[0], a[1])
             for a in acks if (a[0], a[1]) not in listed_set]
    report("listed tags fully pushed, acknowledged tags listed", errs, len(listed) + len(acks))

    # 3. any attempted blob: 404 or exact bytes
    def blob_ok(rd):
        repo, d = rd
        st, b = get("%s/v2/%s/blobs/%s" % (base, repo, d))
        if st == 404:
            return None
        if st != 200:
            return "%s blob %s GET -> %d %s" % (repo, d, st, b[:200])
        if sha(b) != d:
            return "%s blob %s has WRONG BYTES (%d bytes, %s)" % (repo, d, len(b), sha(b))
        return None
    errs = list(pool.map(blob_ok, blobs))
    report("attempted blobs are 404 or exact bytes", errs, len(blobs))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
