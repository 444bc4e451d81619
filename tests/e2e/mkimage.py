#!/usr/bin/env python3
"""Generate random OCI test images (stdlib only).

Writes an OCI image layout directory containing, for each platform, an image with N random
tar.gz layers, its config and manifest, plus an image index over all platforms. index.json
names them (org.opencontainers.image.ref.name):
  "image"          the first platform's image manifest
  "index"          the multi-platform image index
Optionally also writes a docker-save style tarball (--docker-tar) of the first platform's image,
which `crane push` accepts.

Usage: mkimage.py --out DIR [--layers 3] [--layer-size 65536] [--platforms linux/amd64,linux/arm64]
                  [--docker-tar FILE] [--tag repo:tag]
Prints a JSON summary (digests) on stdout.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import tarfile

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha256(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


class Layout:
    def __init__(self, root):
        self.root = root
        os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(root, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)

    def put(self, data, media_type, **extra):
        d = sha256(data)
        p = os.path.join(self.root, "blobs", "sha256", d.split(":", 1)[1])
        with open(p, "wb") as f:
            f.write(data)
        desc = {"mediaType": media_type, "digest": d, "size": len(data)}
        desc.update(extra)
        return desc


def make_layer(size, name):
    """A tar with one random file of `size` bytes; returns (tar_gz_bytes, diff_id)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        payload = os.urandom(size)
        ti = tarfile.TarInfo(name=name)
        ti.size = size
        ti.mode = 0o644
        ti.mtime = 0
        tf.addfile(ti, io.BytesIO(payload))
    raw = buf.getvalue()
    gz = gzip.compress(raw, compresslevel=1, mtime=0)
    return gz, sha256(raw)


def canonical(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--layer-size", type=int, default=64 * 1024)
    ap.add_argument("--platforms", default="linux/amd64,linux/arm64")
    ap.add_argument("--docker-tar")
    ap.add_argument("--tag", default="wharf-e2e/image:latest")
    a = ap.parse_args()

    lay = Layout(a.out)
    manifests = []
    first = None  # (config_bytes, [(layer_bytes, desc)]) for the docker tarball
    for pi, plat in enumerate(a.platforms.split(",")):
        os_, arch = plat.split("/")[:2]
        layers, diff_ids, raw_layers = [], [], []
        for li in range(a.layers):
            gz, diff_id = make_layer(a.layer_size, "data/%s-%d.bin" % (arch, li))
            layers.append(lay.put(gz, MT_LAYER))
            diff_ids.append(diff_id)
            raw_layers.append(gz)
        config = {
            "architecture": arch,
            "os": os_,
            "config": {"Env": ["WHARF_E2E=1"], "Cmd": ["/bin/true"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created_by": "mkimage.py layer %d" % i} for i in range(a.layers)],
        }
        cfg_bytes = canonical(config)
        cfg_desc = lay.put(cfg_bytes, MT_CONFIG)
        manifest = {
            "schemaVersion": 2,
            "mediaType": MT_MANIFEST,
            "config": cfg_desc,
            "layers": layers,
            "annotations": {"org.opencontainers.image.description": "wharf e2e %s" % plat},
        }
        m_desc = lay.put(canonical(manifest), MT_MANIFEST,
                         platform={"architecture": arch, "os": os_})
        manifests.append(m_desc)
        if first is None:
            first = (cfg_bytes, raw_layers)

    index = {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": manifests}
    idx_desc = lay.put(canonical(index), MT_INDEX)

    image_entry = {k: v for k, v in manifests[0].items() if k != "platform"}
    image_entry["annotations"] = {"org.opencontainers.image.ref.name": "image"}
    index_entry = dict(idx_desc)
    index_entry["annotations"] = {"org.opencontainers.image.ref.name": "index"}
    with open(os.path.join(a.out, "index.json"), "wb") as f:
        f.write(canonical({"schemaVersion": 2, "mediaType": MT_INDEX,
                           "manifests": [image_entry, index_entry]}))

    if a.docker_tar:
        cfg_bytes, raw_layers = first
        with tarfile.open(a.docker_tar, "w") as tf:
            def add(name, data):
                ti = tarfile.TarInfo(name)
                ti.size = len(data)
                ti.mtime = 0
                tf.addfile(ti, io.BytesIO(data))
            cfg_name = sha256(cfg_bytes).split(":")[1] + ".json"
            add(cfg_name, cfg_bytes)
            names = []
            for gz in raw_layers:
                n = sha256(gz).split(":")[1] + ".tar.gz"
                add(n, gz)
                names.append(n)
            add("manifest.json", json.dumps(
                [{"Config": cfg_name, "RepoTags": [a.tag], "Layers": names}]).encode())

    print(json.dumps({"image": manifests[0]["digest"], "index": idx_desc["digest"],
                      "manifests": [m["digest"] for m in manifests]}))


if __name__ == "__main__":
    main()
