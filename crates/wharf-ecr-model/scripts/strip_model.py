#!/usr/bin/env python3
"""Strip botocore's ECR model down to what Wharf needs and generate `src/operations.rs`.

Wharf answers the Amazon ECR API exactly as botocore expects, so botocore's service model is the
contract. This script takes that model (and the paginators file next to it) and writes:

* `model/ecr-2015-09-21.json`: a stripped snapshot that the `wharf-ecr-model` crate embeds with
  `include_str!`. It keeps only what request validation and routing need: the target prefix and
  JSON version, every operation's input/output/error shape names, and per shape its type, members
  (in model order, as `{"name", "shape"}` objects plus any `jsonvalue`/`locationName`/`deprecated`
  flags), `required`, `min`, `max`, `pattern`, `enum`, list `member`, map `key`/`value`, the
  `exception`/`fault` flags and `deprecated`. Documentation is dropped. The paginators are stored
  under `pagination`, and `metadata.botocoreVersion` records which botocore release the snapshot
  came from.
* `src/operations.rs`: the closed `Operation` enum with one variant per ECR operation, formatted
  with `rustfmt` when it is on `PATH`.

Both outputs are committed; rerun the script after bumping botocore and review the diff.

Usage (stdlib only):

    # Fetch the model once:
    #   cd /tmp && pip download --no-deps botocore==1.44.5 -d botocore && cd botocore \
    #     && unzip -o -q botocore-*.whl 'botocore/data/ecr/*'
    python3 crates/wharf-ecr-model/scripts/strip_model.py \
        [--model /tmp/botocore/botocore/data/ecr/2015-09-21/service-2.json.gz] \
        [--botocore-version 1.44.5]

Without `--botocore-version` the version is read from the `botocore-<version>-*.whl` file found
next to the extracted `botocore/` directory.
"""

import argparse
import glob
import gzip
import json
import os
import re
import shutil
import subprocess
import sys

CRATE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL = "/tmp/botocore/botocore/data/ecr/2015-09-21/service-2.json.gz"
OUT_MODEL = os.path.join(CRATE_DIR, "model", "ecr-2015-09-21.json")
OUT_OPERATIONS = os.path.join(CRATE_DIR, "src", "operations.rs")

SHAPE_KEYS = ["type", "required", "min", "max", "pattern", "enum", "exception", "fault", "deprecated"]
MEMBER_FLAGS = ["jsonvalue", "locationName", "deprecated"]
PAGINATOR_KEYS = ["input_token", "output_token", "limit_key", "result_key"]

# ListImageReferrers has no IAM action of its own: AWS authorizes it as ecr:BatchGetImage
# (reference notes, section 5.2).
IAM_ACTION_OVERRIDES = {"ListImageReferrers": "ecr:BatchGetImage"}


def open_model(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def detect_botocore_version(model_path):
    # <dir>/botocore/data/ecr/2015-09-21/service-2.json.gz -> <dir>, where the wheel lies.
    root = model_path
    for _ in range(5):
        root = os.path.dirname(root)
    wheels = glob.glob(os.path.join(root, "botocore-*.whl"))
    versions = {m.group(1) for w in wheels if (m := re.search(r"botocore-([0-9.]+)-", w))}
    if len(versions) != 1:
        sys.exit("cannot detect the botocore version; pass --botocore-version")
    return versions.pop()


def ref(r):
    return {"shape": r["shape"]}


def strip_shape(shape):
    out = {k: shape[k] for k in SHAPE_KEYS if k in shape}
    for k in ("min", "max"):
        if k in out and int(out[k]) != out[k]:
            sys.exit(f"non-integral {k} in model: {out[k]}")
    if "members" in shape:
        members = []
        for name, m in shape["members"].items():
            entry = {"name": name, "shape": m["shape"]}
            entry.update({k: m[k] for k in MEMBER_FLAGS if k in m})
            members.append(entry)
        out["members"] = members
    for k in ("member", "key", "value"):
        if k in shape:
            out[k] = ref(shape[k])
    return out


def strip(model, paginators, version):
    meta = model["metadata"]
    operations = {}
    for name, op in sorted(model["operations"].items()):
        operations[name] = {
            "input": op["input"]["shape"],
            "output": op["output"]["shape"],
            "errors": [e["shape"] for e in op.get("errors", [])],
        }
    pagination = {}
    for name, p in sorted(paginators["pagination"].items()):
        entry = {k: p[k] for k in PAGINATOR_KEYS}
        if isinstance(entry["result_key"], str):
            entry["result_key"] = [entry["result_key"]]
        pagination[name] = entry
    return {
        "metadata": {
            "botocoreVersion": version,
            "apiVersion": meta["apiVersion"],
            "jsonVersion": meta["jsonVersion"],
            "protocol": meta["protocol"],
            "targetPrefix": meta["targetPrefix"],
            "signingName": meta["signingName"],
        },
        "operations": operations,
        "shapes": {name: strip_shape(s) for name, s in sorted(model["shapes"].items())},
        "pagination": pagination,
    }


def render_operations(stripped, script_rel):
    ops = sorted(stripped["operations"])
    prefix = stripped["metadata"]["targetPrefix"]
    version = stripped["metadata"]["botocoreVersion"]
    lines = [
        f"//! Generated by `{script_rel}` from botocore {version}'s ECR model; do not edit.",
        "//!",
        "//! The closed set of ECR operations, keyed by the name botocore puts after",
        f"//! `{prefix}.` in the `X-Amz-Target` header.",
        "",
        "/// One Amazon ECR API operation (awsJson1.1, selected by `X-Amz-Target`).",
        "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]",
        "pub enum Operation {",
    ]
    lines += [f"    {op}," for op in ops]
    lines += [
        "}",
        "",
        "impl Operation {",
        f"    /// Every operation, in name order ({len(ops)} in all).",
        "    pub const ALL: &'static [Operation] = &[",
    ]
    lines += [f"        Operation::{op}," for op in ops]
    lines += [
        "    ];",
        "",
        "    /// The `X-Amz-Target` prefix that precedes the operation name.",
        f'    pub const TARGET_PREFIX: &\'static str = "{prefix}";',
        "",
        "    /// The operation name as it appears in the model and in `X-Amz-Target`.",
        "    pub fn name(&self) -> &'static str {",
        "        match self {",
    ]
    lines += [f'            Operation::{op} => "{op}",' for op in ops]
    lines += [
        "        }",
        "    }",
        "",
        "    /// Looks an operation up by its exact (case-sensitive) name.",
        "    pub fn from_name(name: &str) -> Option<Operation> {",
        "        match name {",
    ]
    lines += [f'            "{op}" => Some(Operation::{op}),' for op in ops]
    lines += [
        "            _ => None,",
        "        }",
        "    }",
        "",
        "    /// Parses an `X-Amz-Target` header value such as",
        f"    /// `{prefix}.DescribeRepositories`.",
        "    pub fn from_target(x_amz_target: &str) -> Option<Operation> {",
        "        let name = x_amz_target.strip_prefix(Self::TARGET_PREFIX)?.strip_prefix('.')?;",
        "        Self::from_name(name)",
        "    }",
        "",
        "    /// The IAM action that authorizes this operation.",
        "    pub fn iam_action(&self) -> &'static str {",
        "        match self {",
    ]
    lines += [
        f'            Operation::{op} => "{IAM_ACTION_OVERRIDES.get(op, "ecr:" + op)}",' for op in ops
    ]
    lines += [
        "        }",
        "    }",
        "",
        "    /// The name of the operation's input structure in the model.",
        "    pub fn input_shape(&self) -> &'static str {",
        "        match self {",
    ]
    lines += [f'            Operation::{op} => "{stripped["operations"][op]["input"]}",' for op in ops]
    lines += [
        "        }",
        "    }",
        "",
        "    /// The name of the operation's output structure in the model.",
        "    pub fn output_shape(&self) -> &'static str {",
        "        match self {",
    ]
    lines += [f'            Operation::{op} => "{stripped["operations"][op]["output"]}",' for op in ops]
    lines += [
        "        }",
        "    }",
        "}",
        "",
        "impl std::fmt::Display for Operation {",
        "    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {",
        "        f.write_str(self.name())",
        "    }",
        "}",
        "",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--botocore-version")
    args = parser.parse_args()

    model = open_model(args.model)
    paginators = open_model(os.path.join(os.path.dirname(args.model), "paginators-1.json"))
    version = args.botocore_version or detect_botocore_version(args.model)
    stripped = strip(model, paginators, version)

    os.makedirs(os.path.dirname(OUT_MODEL), exist_ok=True)
    with open(OUT_MODEL, "w", encoding="utf-8") as f:
        json.dump(stripped, f, indent=1, sort_keys=False)
        f.write("\n")
    script_rel = "scripts/strip_model.py"
    os.makedirs(os.path.dirname(OUT_OPERATIONS), exist_ok=True)
    with open(OUT_OPERATIONS, "w", encoding="utf-8") as f:
        f.write(render_operations(stripped, script_rel))
    # Keep the generated file identical to what `cargo fmt` would make of it.
    if shutil.which("rustfmt"):
        subprocess.run(["rustfmt", "--edition", "2021", OUT_OPERATIONS], check=True)
    else:
        print("warning: rustfmt not found; run `cargo fmt -p wharf-ecr-model`", file=sys.stderr)
    print(f"wrote {OUT_MODEL} ({len(stripped['operations'])} operations, "
          f"{len(stripped['shapes'])} shapes) and {OUT_OPERATIONS}")


if __name__ == "__main__":
    main()
