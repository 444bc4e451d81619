#!/usr/bin/env python3
"""tests/e2e/ecr_lifecycle.py — ECR lifecycle policies and the archive storage class end to end,
against one running `wharf serve`: boto3 (and the AWS CLI for a couple of calls) for
Put/Get/DeleteLifecyclePolicy, Start/GetLifecyclePolicyPreview (paginator and waiter included) and
UpdateImageStorageClass; `wharf lifecycle run` (run next to the server on its data dir) to apply
policies, with `--at` standing in for the passing of days; /v2/ requests to check what is pullable.

Run by tests/e2e/ecr.sh after ecr_api.py (same environment, see tests/e2e/ecr/harness.py). Every
case makes its own repositories; ECR_CASES=REGEX runs a subset (all names here start with
`lifecycle` or `storage class`). Push times are whole seconds, so cases whose outcome depends on
push order sleep 1.1 s between pushes.

The server's own lifecycle job first runs a minute after it starts (then hourly), possibly during
this suite. So previews of count-based rules use explicit texts (never stored), day-based rules
never act at the real time, count-based policies are put right before `wharf lifecycle run`, and
lastEvaluatedAt checks tell the job's real-time stamp from a run's `--at` one.
"""

import datetime
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecr.harness import (  # noqa: E402
    ACCEPT_ALL,
    AWS_CLI,
    DATA_DIR,
    ENDPOINT,
    OCI_INDEX,
    OCI_MANIFEST,
    REGION,
    TMP,
    WHARF_BIN,
    admin_keys,
    aws_env,
    build_image,
    case,
    client,
    contains,
    default_account,
    eq,
    expect_error,
    new_account_admin,
    new_user,
    password_once,
    push_image,
    run,
    run_cases,
    sha,
    uniq,
    v2,
)

KEY, SECRET = admin_keys()
ADMIN = client(KEY, SECRET)
LAX = client(KEY, SECRET, validate=False)  # no client-side validation: bad values reach the server
ACCOUNT = default_account()
DAY = 86_400
FRAME = ("Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: "
         "'Lifecycle policy validation failure: ")
def pw():
    """The administrator's /v2/ password (fetched once)."""
    return password_once(ADMIN)


def new_repo(c=ADMIN, prefix="lc"):
    name = f"{prefix}/{uniq('r')}"
    c.create_repository(repositoryName=name)
    return name


# ------------------------------------------------------------------------------------------------
# Policies


def rule(priority, tag_status, count_type, count_number, prefixes=None, patterns=None, action="expire",
         storage_class=None, description=None):
    """One lifecycle rule; day-based count types get countUnit days."""
    sel = {"tagStatus": tag_status}
    if prefixes is not None:
        sel["tagPrefixList"] = prefixes
    if patterns is not None:
        sel["tagPatternList"] = patterns
    if storage_class:
        sel["storageClass"] = storage_class
    sel["countType"] = count_type
    if count_type != "imageCountMoreThan":
        sel["countUnit"] = "days"
    sel["countNumber"] = count_number
    r = {"rulePriority": priority}
    if description:
        r["description"] = description
    r["selection"] = sel
    r["action"] = {"type": action}
    if action == "transition":
        r["action"]["targetStorageClass"] = "archive"
    return r


def policy(*rules, indent=2):
    """Policy text; always at least the 100 characters ECR's model requires."""
    text = json.dumps({"rules": list(rules)}, indent=indent)
    assert len(text) >= 100, f"test policy shorter than 100 characters: {text}"
    return text


# The AWS worked example (lifecycle_policy_examples.html, "Filtering on multiple rules").
PROD_FIRST = policy(rule(1, "tagged", "imageCountMoreThan", 1, prefixes=["prod"]),
                    rule(2, "tagged", "imageCountMoreThan", 1, prefixes=["beta"]))
BETA_FIRST = policy(rule(1, "tagged", "imageCountMoreThan", 1, prefixes=["beta"]),
                    rule(2, "tagged", "imageCountMoreThan", 1, prefixes=["prod"]))
UNTAGGED_OLDER_THAN_1_DAY = policy(rule(1, "untagged", "sinceImagePushed", 1, description="untagged, 1 day"))
ANY_OLDER_THAN_1_DAY = policy(rule(1, "any", "sinceImagePushed", 1, description="everything older than a day"))


# ------------------------------------------------------------------------------------------------
# Helpers


def lifecycle_run(*args):
    """`wharf lifecycle run --format json ARGS` on the server's data dir; returns (report, stderr)."""
    p = run([WHARF_BIN, "lifecycle", "run", "--data-dir", DATA_DIR, "--format", "json", *args], timeout=60)
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    assert lines, f"wharf lifecycle run printed nothing on stdout; stderr: {p.stderr[-800:]}"
    return json.loads(lines[-1]), p.stderr


def run_repo(name, *args):
    """`wharf lifecycle run --repository NAME`; returns (that repository's report, stderr)."""
    out, err = lifecycle_run("--repository", name, *args)
    eq([r["repository"] for r in out["repositories"]], [f"{ACCOUNT}/{name}"], "repositories in the report")
    return out["repositories"][0], err


def days_from_now(n):
    return str(int(time.time()) + n * DAY)


def tag(name, image, t):
    """Adds tag `t` to an already pushed image (PutImage of the same manifest)."""
    ADMIN.put_image(repositoryName=name, imageManifest=image.manifest, imageManifestMediaType=image.media_type,
                    imageTag=t)


def digests(name, image_status=None, c=ADMIN):
    """Digests ListImages returns (optionally with filter imageStatus)."""
    kw = {"filter": {"imageStatus": image_status}} if image_status else {}
    ids = c.get_paginator("list_images").paginate(repositoryName=name, **kw).build_full_result()["imageIds"]
    return {i["imageDigest"] for i in ids}


def describe(name, digest, image_status="ANY"):
    """DescribeImages' detail of one image, found through a listing with filter imageStatus."""
    details = ADMIN.get_paginator("describe_images").paginate(
        repositoryName=name, filter={"imageStatus": image_status}).build_full_result()["imageDetails"]
    found = [d for d in details if d["imageDigest"] == digest]
    assert found, f"{digest} not described with imageStatus={image_status}"
    return found[0]


def manifest_status(name, ref):
    """(HTTP status, first error code or None) of GET /v2/NAME/manifests/REF."""
    status, _, body = v2("GET", f"/v2/{name}/manifests/{ref}", pw=pw(), headers={"Accept": ACCEPT_ALL})
    code = None
    if status != 200:
        try:
            code = json.loads(body)["errors"][0]["code"]
        except (ValueError, KeyError, IndexError):
            code = body[:200]
    return status, code


def preview(name, **kw):
    return ADMIN.get_lifecycle_policy_preview(repositoryName=name, **kw)


def result_map(results):
    """{digest: (sorted tags, action type, appliedRulePriority)} of preview results."""
    return {r["imageDigest"]: (sorted(r.get("imageTags", [])), r["action"]["type"], r["appliedRulePriority"])
            for r in results}


def planned_map(report):
    """{digest: (sorted tags, action, rulePriority)} of a `wharf lifecycle run` repository report."""
    return {p["digest"]: (sorted(p["tags"]), p["action"], p["rulePriority"]) for p in report["planned"]}


def counts(report):
    return {k: report[k] for k in ("expired", "archived", "referrers")}


def worked_example_repo():
    """AWS's example repository: A [beta-1, prod-1], B [beta-2, prod-2], C [beta-3], pushed in that
    order a second apart."""
    name = new_repo()
    a = push_image(ADMIN, name, tag="beta-1")
    tag(name, a, "prod-1")
    time.sleep(1.1)
    b = push_image(ADMIN, name, tag="beta-2")
    tag(name, b, "prod-2")
    time.sleep(1.1)
    c = push_image(ADMIN, name, tag="beta-3")
    return name, a, b, c


def push_index(name, children, tag_=None):
    text = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": i.digest, "size": len(i.manifest.encode()),
                       "platform": {"architecture": a, "os": "linux"}}
                      for i, a in zip(children, ("amd64", "arm64", "s390x"))],
    }, indent=1)
    kw = {"imageTag": tag_} if tag_ else {}
    ADMIN.put_image(repositoryName=name, imageManifest=text, imageManifestMediaType=OCI_INDEX, **kw)
    return sha(text.encode())


def ts(v):
    return v.timestamp() if isinstance(v, datetime.datetime) else float(v)


# ================================================================================================
# Put / Get / DeleteLifecyclePolicy


@case("lifecycle: Put/Get/Delete round trip keeps the exact text; Delete returns it; then LifecyclePolicyNotFound")
def _():
    name = new_repo()
    e = expect_error("LifecyclePolicyNotFoundException", ADMIN.get_lifecycle_policy, repositoryName=name)
    contains(e["Error"]["Message"], name, "not-found message")
    expect_error("LifecyclePolicyNotFoundException", ADMIN.delete_lifecycle_policy, repositoryName=name)

    # Odd formatting, key order and non-ASCII must come back byte for byte.
    first = ('{ "rules" : [ {"selection":{"countNumber":5,"tagStatus":"untagged","countType":"imageCountMoreThan"},'
             '\n\t"action":{"type":"expire"}, "rulePriority": 7, "description": "élagage ✓" } ] }\n')
    r = ADMIN.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=first)
    eq((r["registryId"], r["repositoryName"], r["lifecyclePolicyText"]), (ACCOUNT, name, first), "PutLifecyclePolicy")
    g = ADMIN.get_lifecycle_policy(repositoryName=name)
    eq((g["registryId"], g["repositoryName"], g["lifecyclePolicyText"]), (ACCOUNT, name, first), "GetLifecyclePolicy")
    assert "lastEvaluatedAt" not in g, f"lastEvaluatedAt before any run: {g.get('lastEvaluatedAt')}"

    second = policy(rule(1, "tagged", "sinceImagePushed", 30, patterns=["nightly-*"]))
    ADMIN.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=second)
    eq(ADMIN.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"], second, "text after a second put")

    d = ADMIN.delete_lifecycle_policy(repositoryName=name)
    eq((d["registryId"], d["repositoryName"], d["lifecyclePolicyText"]), (ACCOUNT, name, second),
       "DeleteLifecyclePolicy answer")
    expect_error("LifecyclePolicyNotFoundException", ADMIN.get_lifecycle_policy, repositoryName=name)
    expect_error("LifecyclePolicyNotFoundException", ADMIN.delete_lifecycle_policy, repositoryName=name)

    # A policy goes with its repository: a new repository of the same name has none.
    ADMIN.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=second)
    ADMIN.delete_repository(repositoryName=name)
    ADMIN.create_repository(repositoryName=name)
    expect_error("LifecyclePolicyNotFoundException", ADMIN.get_lifecycle_policy, repositoryName=name)


@case("lifecycle: every lifecycle and storage-class operation on a missing repository → RepositoryNotFound")
def _():
    gone = f"lc/{uniq('gone')}"
    calls = {
        "PutLifecyclePolicy": lambda: ADMIN.put_lifecycle_policy(repositoryName=gone,
                                                                 lifecyclePolicyText=ANY_OLDER_THAN_1_DAY),
        "GetLifecyclePolicy": lambda: ADMIN.get_lifecycle_policy(repositoryName=gone),
        "DeleteLifecyclePolicy": lambda: ADMIN.delete_lifecycle_policy(repositoryName=gone),
        "StartLifecyclePolicyPreview": lambda: ADMIN.start_lifecycle_policy_preview(
            repositoryName=gone, lifecyclePolicyText=ANY_OLDER_THAN_1_DAY),
        "GetLifecyclePolicyPreview": lambda: ADMIN.get_lifecycle_policy_preview(repositoryName=gone),
        "UpdateImageStorageClass": lambda: ADMIN.update_image_storage_class(
            repositoryName=gone, imageId={"imageTag": "v1"}, targetStorageClass="ARCHIVE"),
    }
    for op, call in calls.items():
        try:
            e = expect_error("RepositoryNotFoundException", call)
        except AssertionError as err:
            raise AssertionError(f"{op}: {err}") from None
        contains(e["Error"]["Message"], gone, f"{op} message")


@case("lifecycle: PutLifecyclePolicy validation → InvalidParameterException with ECR's details; nothing stored")
def _():
    name = new_repo()
    good = policy(rule(1, "untagged", "imageCountMoreThan", 3, description="the policy that must survive"))
    ADMIN.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=good)

    e = expect_error("InvalidParameterException", LAX.put_lifecycle_policy, repositoryName=name,
                     lifecyclePolicyText=policy(rule(1, "tagged", "imageCountMoreThan", 1)))
    eq(e["Error"]["Message"],
       FRAME + "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.'", "whole message")

    untagged = rule(1, "untagged", "imageCountMoreThan", 1)
    bad = {
        "not JSON": ("rules: [ this is not JSON at all, but it is long enough to pass the length check "
                     "of one hundred characters ]", "Could not map policyString into LifecyclePolicy."),
        "both lists": (policy(rule(1, "tagged", "imageCountMoreThan", 1, prefixes=["a"], patterns=["a*"])),
                       "Must specify either tagPrefixList or tagPatternList, not both."),
        "duplicate rulePriority": (policy(rule(1, "tagged", "imageCountMoreThan", 1, prefixes=["a"]),
                                          rule(1, "tagged", "imageCountMoreThan", 1, prefixes=["b"])),
                                   "Duplicate rulePriority 1"),
        "any not last": (policy(rule(1, "any", "imageCountMoreThan", 5),
                                rule(2, "tagged", "imageCountMoreThan", 1, prefixes=["b"])),
                         "Rule for tagStatus=ANY must have the lowest priority"),
        "two untagged rules": (policy(untagged, rule(2, "untagged", "sinceImagePushed", 3)),
                               "Only one rule can select Untagged images"),
        "five wildcards": (policy(rule(1, "tagged", "imageCountMoreThan", 1, patterns=["*a*b*c*d*"])),
                           "has more than 4 wildcards"),
        "countUnit with imageCountMoreThan": (
            policy({"rulePriority": 1, "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan",
                                                     "countUnit": "days", "countNumber": 1},
                    "action": {"type": "expire"}}),
            "instance failed to match exactly one schema (matched 0 out of 2)"),
        "sinceImagePulled with expire": (policy(rule(1, "untagged", "sinceImagePulled", 5)),
                                         "countType=sinceImagePulled is only supported with action type=TRANSITION."),
        "countNumber 0": (policy(rule(1, "untagged", "imageCountMoreThan", 0)),
                          "numeric instance is lower than the required minimum (minimum: 1, found: 0)"),
        "transition without target": (
            policy({"rulePriority": 1, "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                                                     "countUnit": "days", "countNumber": 1},
                    "action": {"type": "transition"}}),
            "Must specify targetStorageClass when action type=TRANSITION."),
        "archive expiry under 90 days": (
            policy(rule(1, "any", "sinceImageTransitioned", 30, storage_class="archive")),
            "countNumber must be at least 90"),
        "unknown tagStatus": (policy(rule(1, "sometimes", "imageCountMoreThan", 1)),
                              "instance value (sometimes) not found in enum"),
    }
    for what, (text, detail) in bad.items():
        try:
            e = expect_error("InvalidParameterException", LAX.put_lifecycle_policy, repositoryName=name,
                             lifecyclePolicyText=text)
        except AssertionError as err:
            raise AssertionError(f"{what}: {err}") from None
        msg = e["Error"]["Message"]
        assert msg.startswith(FRAME) and detail in msg, f"{what}: message {msg!r} lacks {detail!r}"

    e = expect_error("InvalidParameterException", LAX.put_lifecycle_policy, repositoryName=name,
                     lifecyclePolicyText='{"rules": []}')
    contains(e["Error"]["Message"], "length greater than or equal to 100", "text under 100 characters")

    # StartLifecyclePolicyPreview validates the same way and stores no preview.
    e = expect_error("InvalidParameterException", LAX.start_lifecycle_policy_preview, repositoryName=name,
                     lifecyclePolicyText=bad["both lists"][0])
    contains(e["Error"]["Message"], "not both", "StartLifecyclePolicyPreview with an invalid text")
    expect_error("LifecyclePolicyPreviewNotFoundException", ADMIN.get_lifecycle_policy_preview, repositoryName=name)
    eq(ADMIN.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"], good,
       "stored policy after the rejected puts")


@case("lifecycle: IAM actions — a user allowed only the Get actions cannot put, delete, preview or archive")
def _():
    name = new_repo()
    img = push_image(ADMIN, name, tag="v1")
    ADMIN.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=ANY_OLDER_THAN_1_DAY)
    ADMIN.start_lifecycle_policy_preview(repositoryName=name)
    key, secret = new_user(uniq("reader"), {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ecr:GetLifecyclePolicy", "ecr:GetLifecyclePolicyPreview"],
         "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{name}"}]})
    c = client(key, secret)
    eq(c.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"], ANY_OLDER_THAN_1_DAY, "allowed Get")
    eq(c.get_lifecycle_policy_preview(repositoryName=name)["status"], "COMPLETE", "allowed GetLifecyclePolicyPreview")
    denied = {
        "ecr:PutLifecyclePolicy": lambda: c.put_lifecycle_policy(repositoryName=name,
                                                                 lifecyclePolicyText=UNTAGGED_OLDER_THAN_1_DAY),
        "ecr:DeleteLifecyclePolicy": lambda: c.delete_lifecycle_policy(repositoryName=name),
        "ecr:StartLifecyclePolicyPreview": lambda: c.start_lifecycle_policy_preview(repositoryName=name),
        "ecr:UpdateImageStorageClass": lambda: c.update_image_storage_class(
            repositoryName=name, imageId={"imageTag": "v1"}, targetStorageClass="ARCHIVE"),
    }
    for action, call in denied.items():
        try:
            expect_error("AccessDeniedException", call, message=action)
        except AssertionError as err:
            raise AssertionError(f"{action}: {err}") from None
    eq(ADMIN.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"], ANY_OLDER_THAN_1_DAY, "policy kept")
    eq(describe(name, img.digest)["imageStatus"], "ACTIVE", "image status kept")


# ================================================================================================
# Previews


@case("lifecycle preview: no policy → LifecyclePolicyNotFound; none started → LifecyclePolicyPreviewNotFound")
def _():
    name = new_repo()
    push_image(ADMIN, name)
    expect_error("LifecyclePolicyPreviewNotFoundException", ADMIN.get_lifecycle_policy_preview, repositoryName=name)
    expect_error("LifecyclePolicyNotFoundException", ADMIN.start_lifecycle_policy_preview, repositoryName=name)
    expect_error("LifecyclePolicyPreviewNotFoundException", ADMIN.get_lifecycle_policy_preview, repositoryName=name)
    # With a policy (and no text), the preview runs that policy; it acts on nothing yet.
    ADMIN.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=ANY_OLDER_THAN_1_DAY)
    s = ADMIN.start_lifecycle_policy_preview(repositoryName=name)
    eq((s["status"], s["lifecyclePolicyText"], s["registryId"]), ("COMPLETE", ANY_OLDER_THAN_1_DAY, ACCOUNT),
       "StartLifecyclePolicyPreview answer")
    p = preview(name)
    eq((p["status"], p["previewResults"], p["summary"]["expiringImageTotalCount"]), ("COMPLETE", [], 0),
       "preview of a day-based rule on fresh images")


@case("lifecycle preview: results, summary, tag filter, imageIds, paging (token + paginator), waiter")
def _():
    name = new_repo()
    old = {t: push_image(ADMIN, name, tag=t) for t in ("dev-1", "dev-2")}
    untagged_old = [push_image(ADMIN, name) for _ in range(3)]
    prod = push_image(ADMIN, name, tag="prod-1")
    t_old = time.time()
    time.sleep(1.1)
    newest_dev = push_image(ADMIN, name, tag="dev-3")
    newest_untagged = push_image(ADMIN, name)
    text = policy(rule(1, "tagged", "imageCountMoreThan", 1, patterns=["dev-*"], description="keep one dev"),
                  rule(2, "untagged", "imageCountMoreThan", 1, action="transition", description="archive untagged"))
    # An explicit text, not a stored policy: the server's own lifecycle job must have nothing to apply.
    s = ADMIN.start_lifecycle_policy_preview(repositoryName=name, lifecyclePolicyText=text)
    eq((s["status"], s["lifecyclePolicyText"]), ("COMPLETE", text), "StartLifecyclePolicyPreview")
    ADMIN.get_waiter("lifecycle_policy_preview_complete").wait(
        repositoryName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 3})

    want = {old["dev-1"].digest: (["dev-1"], "EXPIRE", 1), old["dev-2"].digest: (["dev-2"], "EXPIRE", 1)}
    want.update({i.digest: ([], "TRANSITION", 2) for i in untagged_old})
    p = preview(name)
    eq((p["status"], p["lifecyclePolicyText"], p.get("nextToken")), ("COMPLETE", text, None), "preview header")
    eq(result_map(p["previewResults"]), want, "preview results")
    for r in p["previewResults"]:
        eq(r["storageClass"], "STANDARD", "storageClass")
        if r["action"]["type"] == "TRANSITION":
            eq(r["action"], {"type": "TRANSITION", "targetStorageClass": "ARCHIVE"}, "transition action")
            assert "imageTags" not in r, f"imageTags of an untagged image: {r}"
        else:
            eq(r["action"], {"type": "EXPIRE"}, "expire action")
        assert abs(ts(r["imagePushedAt"]) - t_old) < 10, f"imagePushedAt {r['imagePushedAt']} vs {t_old}"
    eq(p["summary"]["expiringImageTotalCount"], 2, "summary expiringImageTotalCount")
    eq(p["summary"]["transitioningImageTotalCounts"], [{"targetStorageClass": "ARCHIVE", "imageTotalCount": 3}],
       "summary transitioningImageTotalCounts")
    for keep in (prod, newest_dev, newest_untagged):
        assert keep.digest not in want, "fixture"

    eq(set(result_map(preview(name, filter={"tagStatus": "TAGGED"})["previewResults"])),
       {old["dev-1"].digest, old["dev-2"].digest}, "filter TAGGED")
    eq(set(result_map(preview(name, filter={"tagStatus": "UNTAGGED"})["previewResults"])),
       {i.digest for i in untagged_old}, "filter UNTAGGED")
    eq(set(result_map(preview(name, filter={"tagStatus": "ANY"})["previewResults"])), set(want), "filter ANY")
    eq(set(result_map(preview(name, imageIds=[{"imageTag": "dev-2"}])["previewResults"])),
       {old["dev-2"].digest}, "imageIds [dev-2]")
    expect_error("InvalidParameterException", preview, name, imageIds=[{"imageTag": "dev-2"}], maxResults=5)

    # maxResults / nextToken by hand: 2 + 2 + 1, no repeats.
    seen, token, pages = [], None, 0
    while True:
        page = preview(name, maxResults=2, **({"nextToken": token} if token else {}))
        pages += 1
        assert len(page["previewResults"]) <= 2, f"page of {len(page['previewResults'])} with maxResults=2"
        seen += [r["imageDigest"] for r in page["previewResults"]]
        token = page.get("nextToken")
        if not token or pages > 10:
            break
    eq((pages, len(seen), set(seen)), (3, 5, set(want)), "pages, results and digests by nextToken")
    full = ADMIN.get_paginator("get_lifecycle_policy_preview").paginate(
        repositoryName=name, PaginationConfig={"PageSize": 2}).build_full_result()
    eq(sorted(r["imageDigest"] for r in full["previewResults"]), sorted(want), "paginator results")

    # A preview changes nothing; an explicit text replaces the stored preview.
    eq(len(digests(name)), 8, "images after the preview")
    other = policy(rule(1, "tagged", "imageCountMoreThan", 1, prefixes=["prod"]))
    eq(ADMIN.start_lifecycle_policy_preview(repositoryName=name, lifecyclePolicyText=other)["lifecyclePolicyText"],
       other, "preview of an explicit text")
    p = preview(name)
    eq((p["lifecyclePolicyText"], p["previewResults"], p["summary"]["expiringImageTotalCount"]), (other, [], 0),
       "preview after a second start")
    expect_error("LifecyclePolicyNotFoundException", ADMIN.get_lifecycle_policy, repositoryName=name)


@case("lifecycle preview: AWS's worked example (prod then beta → A; beta then prod → A and B)")
def _():
    name, a, b, c = worked_example_repo()
    ADMIN.start_lifecycle_policy_preview(repositoryName=name, lifecyclePolicyText=PROD_FIRST)
    p = preview(name)
    eq(result_map(p["previewResults"]), {a.digest: (["beta-1", "prod-1"], "EXPIRE", 1)}, "prod-first preview")
    eq(p["summary"]["expiringImageTotalCount"], 1, "prod-first expiringImageTotalCount")

    ADMIN.start_lifecycle_policy_preview(repositoryName=name, lifecyclePolicyText=BETA_FIRST)
    p = preview(name)
    eq(result_map(p["previewResults"]),
       {a.digest: (["beta-1", "prod-1"], "EXPIRE", 1), b.digest: (["beta-2", "prod-2"], "EXPIRE", 1)},
       "beta-first preview")
    eq(p["summary"]["expiringImageTotalCount"], 2, "beta-first expiringImageTotalCount")
    eq(digests(name), {a.digest, b.digest, c.digest}, "images after previews")


# ================================================================================================
# wharf lifecycle run


@case("lifecycle run: AWS's worked example expires A, then (priorities swapped) B; audit lines; lastEvaluatedAt")
def _():
    name, a, b, c = worked_example_repo()
    ADMIN.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=PROD_FIRST)
    t0 = time.time()
    rep, err = run_repo(name)
    t1 = time.time()
    eq(planned_map(rep), {a.digest: (["beta-1", "prod-1"], "expire", 1)}, "planned (prod first)")
    eq(counts(rep), {"expired": 1, "archived": 0, "referrers": 0}, "counts (prod first)")
    eq(digests(name), {b.digest, c.digest}, "images left (prod first)")
    eq(manifest_status(name, "prod-1"), (404, "MANIFEST_UNKNOWN"), "GET /v2/ of the expired A")
    eq(manifest_status(name, "prod-2")[0], 200, "GET /v2/ of B")
    audit = [l for l in err.splitlines() if a.digest in l]
    assert audit and "wharf::audit" in audit[0] and "rule 1" in audit[0], f"audit line for A: {err[-1000:]}"

    g = ADMIN.get_lifecycle_policy(repositoryName=name)
    assert "lastEvaluatedAt" in g, f"no lastEvaluatedAt after a run: {g}"
    assert t0 - 2 <= ts(g["lastEvaluatedAt"]) <= t1 + 2, f"lastEvaluatedAt {g['lastEvaluatedAt']} not in [{t0}, {t1}]"

    ADMIN.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=BETA_FIRST)
    rep, _ = run_repo(name)
    eq(planned_map(rep), {b.digest: (["beta-2", "prod-2"], "expire", 1)}, "planned (beta first)")
    eq(digests(name), {c.digest}, "images left (beta first)")
    eq(manifest_status(name, "beta-3")[0], 200, "GET /v2/ of C")


@case("lifecycle run: --dry-run (json and table) changes nothing and sets no lastEvaluatedAt; then --at expires")
def _():
    name = new_repo()
    x = push_image(ADMIN, name, tag="x")
    y = push_image(ADMIN, name)
    ADMIN.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=ANY_OLDER_THAN_1_DAY)
    at = days_from_now(2)
    out, _ = lifecycle_run("--repository", name, "--dry-run", "--at", at)
    eq(out["dryRun"], True, "dryRun")
    rep = out["repositories"][0]
    eq(planned_map(rep), {x.digest: (["x"], "expire", 1), y.digest: ([], "expire", 1)}, "dry-run plan")
    eq(counts(rep), {"expired": 0, "archived": 0, "referrers": 0}, "dry-run counts")
    table = run([WHARF_BIN, "lifecycle", "run", "--data-dir", DATA_DIR, "--repository", name, "--dry-run",
                 "--at", at]).stdout
    for d in (x.digest, y.digest):
        contains(table, d, "table output")
    contains(table, "dry run", "table output")
    eq(digests(name), {x.digest, y.digest}, "images after dry runs")
    eq(manifest_status(name, "x")[0], 200, "GET /v2/ after dry runs")
    # The server's hourly job may have evaluated it at the real time, but not the dry run 2 days ahead.
    g = ADMIN.get_lifecycle_policy(repositoryName=name)
    assert "lastEvaluatedAt" not in g or ts(g["lastEvaluatedAt"]) < time.time() + 60, \
        f"lastEvaluatedAt after a dry run: {g['lastEvaluatedAt']}"

    # Without --at nothing is a day old yet.
    rep, _ = run_repo(name)
    eq((rep["planned"], counts(rep)), ([], {"expired": 0, "archived": 0, "referrers": 0}), "run at the real time")
    eq(len(digests(name)), 2, "images after a run at the real time")

    out, _ = lifecycle_run("--repository", name, "--at", at)
    eq((out["dryRun"], counts(out["repositories"][0])), (False, {"expired": 2, "archived": 0, "referrers": 0}),
       "real run two days ahead")
    eq(digests(name), set(), "images after the real run")
    assert "lastEvaluatedAt" in ADMIN.get_lifecycle_policy(repositoryName=name), "no lastEvaluatedAt after a run"


@case("lifecycle run: untagged expiry leaves an index's untagged children until the index is gone")
def _():
    name = new_repo()
    amd, arm = push_image(ADMIN, name), push_image(ADMIN, name)
    index = push_index(name, [amd, arm], tag_="multi")
    orphan = push_image(ADMIN, name)
    ADMIN.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=UNTAGGED_OLDER_THAN_1_DAY)
    rep, _ = run_repo(name, "--at", days_from_now(2))
    eq(planned_map(rep), {orphan.digest: ([], "expire", 1)}, "planned with the index present")
    eq(digests(name), {amd.digest, arm.digest, index}, "images left")
    eq(manifest_status(name, amd.digest)[0], 200, "GET /v2/ of a child")
    eq(manifest_status(name, "multi")[0], 200, "GET /v2/ of the index")

    r = ADMIN.batch_delete_image(repositoryName=name, imageIds=[{"imageTag": "multi"}])
    eq(r["failures"], [], "deleting the index")
    rep, _ = run_repo(name, "--at", days_from_now(2))
    eq(planned_map(rep), {amd.digest: ([], "expire", 1), arm.digest: ([], "expire", 1)}, "planned after the index")
    eq(rep["expired"], 2, "expired after the index")
    eq(digests(name), set(), "images left after the index is gone")


@case("lifecycle run: an expiring untagged index takes its expiring untagged children in the same run")
def _():
    name = new_repo()
    amd, arm = push_image(ADMIN, name), push_image(ADMIN, name)
    time.sleep(1.1)  # the children are older, so they come first in the plan's order
    index = push_index(name, [amd, arm])
    ADMIN.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=UNTAGGED_OLDER_THAN_1_DAY)
    rep, _ = run_repo(name, "--at", days_from_now(2))
    eq(planned_map(rep), {d: ([], "expire", 1) for d in (amd.digest, arm.digest, index)}, "planned")
    # What the run planned (and a preview or --dry-run reports) is what it does.
    eq(counts(rep), {"expired": 3, "archived": 0, "referrers": 0}, "counts")
    eq(digests(name, "ANY"), set(), "images left")


@case("lifecycle run: a referrer is not judged alone; it is removed with its expiring subject")
def _():
    name = new_repo()
    subject = push_image(ADMIN, name)
    sig = push_image(ADMIN, name, image=build_image(subject=subject, artifact_type="application/vnd.example.sig"))
    keeper = push_image(ADMIN, name, tag="v1")
    keeper_sig = push_image(ADMIN, name, image=build_image(subject=keeper, artifact_type="application/vnd.example.sig"))
    ADMIN.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=UNTAGGED_OLDER_THAN_1_DAY)
    rep, err = run_repo(name, "--at", days_from_now(2))
    eq(planned_map(rep), {subject.digest: ([], "expire", 1)}, "planned (referrers are not judged)")
    eq(counts(rep), {"expired": 1, "archived": 0, "referrers": 1}, "counts")
    eq(digests(name), {keeper.digest, keeper_sig.digest}, "images left")
    eq(manifest_status(name, sig.digest), (404, "MANIFEST_UNKNOWN"), "GET /v2/ of the removed signature")
    assert any(sig.digest in l and subject.digest in l for l in err.splitlines()), \
        f"no audit line naming the referrer and its subject: {err[-1000:]}"
    r = ADMIN.list_image_referrers(repositoryName=name, subjectId={"imageDigest": keeper.digest})
    eq([x["digest"] for x in r["referrers"]], [keeper_sig.digest], "the keeper's referrers")


@case("lifecycle run: --account applies that account's policies only, as account/name")
def _():
    acct, c = new_account_admin()
    with_policy, without = new_repo(c), new_repo(c)
    pushed = push_image(c, with_policy)
    kept = push_image(c, without)
    c.put_lifecycle_policy(repositoryName=with_policy, lifecyclePolicyText=ANY_OLDER_THAN_1_DAY)
    here = new_repo()
    mine = push_image(ADMIN, here)
    ADMIN.put_lifecycle_policy(repositoryName=here, lifecyclePolicyText=ANY_OLDER_THAN_1_DAY)

    out, _ = lifecycle_run("--account", acct, "--at", days_from_now(2))
    eq([(r["repository"], r["expired"]) for r in out["repositories"]], [(f"{acct}/{with_policy}", 1)],
       "repositories in the report")
    eq(planned_map(out["repositories"][0]), {pushed.digest: ([], "expire", 1)}, "planned")
    eq(digests(with_policy, c=c), set(), "images left with the policy")
    eq(digests(without, c=c), {kept.digest}, "images left without a policy")
    eq(digests(here), {mine.digest}, "the default account's repository")
    g = ADMIN.get_lifecycle_policy(repositoryName=here)  # (the server's job may evaluate it at the real time)
    assert "lastEvaluatedAt" not in g or ts(g["lastEvaluatedAt"]) < time.time() + 60, \
        f"the default account's policy was evaluated by an --account run: {g['lastEvaluatedAt']}"

    rep = lifecycle_run("--repository", f"{ACCOUNT}/{here}", "--at", days_from_now(2))[0]["repositories"]
    eq([(r["repository"], r["expired"]) for r in rep], [(f"{ACCOUNT}/{here}", 1)], "--repository account/name")

    p = run([WHARF_BIN, "lifecycle", "run", "--data-dir", DATA_DIR, "--repository", f"lc/{uniq('gone')}"], check=False)
    assert p.returncode != 0 and "not known" in p.stderr, \
        f"--repository of a missing repository: rc {p.returncode}, stderr {p.stderr[-400:]}"


@case("lifecycle: aws ecr put-lifecycle-policy --lifecycle-policy-text file:// and get-lifecycle-policy (AWS CLI)")
def _():
    name = new_repo()
    text = policy(rule(1, "tagged", "sinceImagePushed", 14, patterns=["prod*"], description="from the CLI"),
                  rule(2, "untagged", "imageCountMoreThan", 2)) + "\n"
    path = os.path.join(TMP, f"lifecycle-{uniq('p')}.json")
    with open(path, "w") as f:
        f.write(text)
    common = ["--repository-name", name, "--endpoint-url", ENDPOINT, "--output", "json"]
    out = json.loads(run([AWS_CLI, "ecr", "put-lifecycle-policy", "--lifecycle-policy-text", f"file://{path}",
                          *common], env=aws_env(KEY, SECRET)).stdout)
    eq((out["registryId"], out["repositoryName"], out["lifecyclePolicyText"]), (ACCOUNT, name, text),
       "aws ecr put-lifecycle-policy output")
    eq(ADMIN.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"], text, "text through boto3")
    out = json.loads(run([AWS_CLI, "ecr", "get-lifecycle-policy", *common], env=aws_env(KEY, SECRET)).stdout)
    eq(out["lifecyclePolicyText"], text, "aws ecr get-lifecycle-policy")
    p = run([AWS_CLI, "ecr", "put-lifecycle-policy", "--lifecycle-policy-text",
             policy(rule(1, "tagged", "imageCountMoreThan", 1)), *common], env=aws_env(KEY, SECRET), check=False)
    assert p.returncode != 0 and "InvalidParameterException" in p.stderr and "tagStatus=TAGGED" in p.stderr, \
        f"invalid policy through the CLI: rc {p.returncode}, stderr {p.stderr[-600:]}"


# ================================================================================================
# The archive storage class


@case("storage class: transition rule archives (with referrer) → 404 on /v2/, hidden by default → restore")
def _():
    name = new_repo()
    img = push_image(ADMIN, name, tag="t1")
    sig = push_image(ADMIN, name, image=build_image(subject=img, artifact_type="application/vnd.example.sig"))
    fresh = push_image(ADMIN, name, tag="fresh")
    text = policy(rule(1, "tagged", "sinceImagePushed", 1, prefixes=["t"], action="transition",
                       description="archive t* after a day"))
    ADMIN.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=text)
    rep, err = run_repo(name, "--at", days_from_now(2))
    eq(planned_map(rep), {img.digest: (["t1"], "archive", 1)}, "planned")
    eq(counts(rep), {"expired": 0, "archived": 1, "referrers": 1}, "counts")
    assert any(img.digest in l and "transition" in l for l in err.splitlines()), f"no audit line: {err[-800:]}"

    eq(manifest_status(name, "t1"), (404, "MANIFEST_UNKNOWN"), "GET /v2/ by tag of an archived image")
    eq(manifest_status(name, img.digest), (404, "MANIFEST_UNKNOWN"), "GET /v2/ by digest of an archived image")
    eq(manifest_status(name, sig.digest), (404, "MANIFEST_UNKNOWN"), "GET /v2/ of its archived referrer")
    eq(manifest_status(name, "fresh")[0], 200, "GET /v2/ of the other image")
    r = ADMIN.batch_get_image(repositoryName=name, imageIds=[{"imageTag": "t1"}])
    eq((r["images"], [f["failureCode"] for f in r["failures"]]), ([], ["ImageNotFound"]), "BatchGetImage")

    eq(digests(name), {fresh.digest}, "ListImages without a filter")
    eq(digests(name, "ACTIVE"), {fresh.digest}, "ListImages ACTIVE")
    eq(digests(name, "ARCHIVED"), {img.digest, sig.digest}, "ListImages ARCHIVED")
    eq(digests(name, "ANY"), {img.digest, sig.digest, fresh.digest}, "ListImages ANY")
    described = {d["imageDigest"] for d in ADMIN.describe_images(repositoryName=name)["imageDetails"]}
    eq(described, {fresh.digest}, "DescribeImages without a filter")
    d = describe(name, img.digest, "ARCHIVED")
    eq((d["imageStatus"], d.get("imageTags")), ("ARCHIVED", ["t1"]), "archived image detail")
    assert "lastArchivedAt" in d, f"no lastArchivedAt: {d}"

    t0 = time.time()
    r = ADMIN.update_image_storage_class(repositoryName=name, imageId={"imageTag": "t1"},
                                         targetStorageClass="STANDARD")
    eq((r["imageStatus"], r["imageId"].get("imageDigest"), r["repositoryName"]), ("ACTIVE", img.digest, name),
       "UpdateImageStorageClass STANDARD")
    d = describe(name, img.digest, "ACTIVE")
    eq(d["imageStatus"], "ACTIVE", "imageStatus after restore")
    assert "lastActivatedAt" in d and ts(d["lastActivatedAt"]) >= t0 - 2, f"lastActivatedAt after restore: {d}"
    status, _, body = v2("GET", f"/v2/{name}/manifests/t1", pw=pw(), headers={"Accept": ACCEPT_ALL})
    eq((status, body.decode()), (200, img.manifest), "GET /v2/ after restore (exact bytes)")
    eq(manifest_status(name, sig.digest)[0], 200, "the referrer is restored with its subject")
    eq(digests(name), {img.digest, sig.digest, fresh.digest}, "ListImages after restore")


@case("storage class: ListImageReferrers shows referrers archived with their subject only by artifactStatus")
def _():
    name = new_repo()
    img = push_image(ADMIN, name, tag="v1")
    sig = push_image(ADMIN, name, image=build_image(subject=img, artifact_type="application/vnd.example.sig"))

    def referrers(**flt):
        kw = {"filter": flt} if flt else {}
        r = ADMIN.list_image_referrers(repositoryName=name, subjectId={"imageDigest": img.digest}, **kw)
        return [(x["digest"], x.get("artifactStatus")) for x in r["referrers"]]

    eq(referrers(), [(sig.digest, "ACTIVE")], "referrers while active")
    ADMIN.update_image_storage_class(repositoryName=name, imageId={"imageTag": "v1"}, targetStorageClass="ARCHIVE")
    eq(describe(name, sig.digest)["imageStatus"], "ARCHIVED", "the referrer follows its subject into the archive")
    # ECR: "If no filter is specified, only artifacts with ACTIVE status are returned."
    eq(referrers(), [], "ListImageReferrers without a filter, referrer archived")
    eq(referrers(artifactStatus="ARCHIVED"), [(sig.digest, "ARCHIVED")], "filter artifactStatus ARCHIVED")
    eq(referrers(artifactStatus="ANY"), [(sig.digest, "ARCHIVED")], "filter artifactStatus ANY")
    eq(referrers(artifactStatus="ACTIVE"), [], "filter artifactStatus ACTIVE")
    ADMIN.update_image_storage_class(repositoryName=name, imageId={"imageTag": "v1"}, targetStorageClass="STANDARD")
    eq(referrers(), [(sig.digest, "ACTIVE")], "referrers after the restore")


@case("storage class: manual ARCHIVE by digest; re-pushing the manifest restores it")
def _():
    name = new_repo()
    img = push_image(ADMIN, name, tag="v1")
    r = ADMIN.update_image_storage_class(repositoryName=name, imageId={"imageDigest": img.digest},
                                         targetStorageClass="ARCHIVE")
    eq((r["imageStatus"], r["imageId"]), ("ARCHIVED", {"imageDigest": img.digest}), "UpdateImageStorageClass ARCHIVE")
    eq(manifest_status(name, "v1"), (404, "MANIFEST_UNKNOWN"), "GET /v2/ once archived")
    eq(describe(name, img.digest, "ARCHIVED")["imageStatus"], "ARCHIVED", "describe once archived")
    r = ADMIN.put_image(repositoryName=name, imageManifest=img.manifest, imageManifestMediaType=img.media_type,
                        imageTag="v1")
    eq(r["image"]["imageId"]["imageDigest"], img.digest, "PutImage of the archived manifest")
    d = describe(name, img.digest, "ANY")
    eq((d["imageStatus"], d.get("imageTags")), ("ACTIVE", ["v1"]), "after the re-push")
    eq(manifest_status(name, "v1")[0], 200, "GET /v2/ after the re-push")


@case("storage class: archive-class rule expires images archived for more than its days, not sooner")
def _():
    name = new_repo()
    early = push_image(ADMIN, name, tag="early")
    sig = push_image(ADMIN, name, image=build_image(subject=early, artifact_type="application/vnd.example.sig"))
    late = push_image(ADMIN, name, tag="late")
    ADMIN.update_image_storage_class(repositoryName=name, imageId={"imageTag": "early"}, targetStorageClass="ARCHIVE")
    text = policy(rule(1, "any", "sinceImagePushed", 1, action="transition", description="archive after a day"),
                  rule(2, "any", "sinceImageTransitioned", 90, storage_class="archive",
                       description="delete after 90 days in the archive"))
    ADMIN.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=text)

    rep, _ = run_repo(name, "--at", days_from_now(30))
    eq(planned_map(rep), {late.digest: (["late"], "archive", 1)}, "planned 30 days ahead")
    eq(digests(name, "ARCHIVED"), {early.digest, sig.digest, late.digest}, "archived after 30 days")

    rep, _ = run_repo(name, "--at", days_from_now(91))
    eq(planned_map(rep), {early.digest: (["early"], "expire", 2)}, "planned 91 days ahead")
    eq(counts(rep), {"expired": 1, "archived": 0, "referrers": 1}, "counts 91 days ahead (the signature goes too)")
    eq(digests(name, "ANY"), {late.digest}, "images left 91 days ahead")
    eq(describe(name, late.digest, "ARCHIVED")["imageStatus"], "ARCHIVED", "the later-archived image")


@case("storage class: UpdateImageStorageClass errors (same class, index child, unknown image, bad class)")
def _():
    name = new_repo()
    img = push_image(ADMIN, name, tag="v1")
    e = expect_error("ImageStorageClassUpdateNotSupportedException", ADMIN.update_image_storage_class,
                     repositoryName=name, imageId={"imageTag": "v1"}, targetStorageClass="STANDARD")
    contains(e["Error"]["Message"], img.digest, "restoring an active image")
    ADMIN.update_image_storage_class(repositoryName=name, imageId={"imageTag": "v1"}, targetStorageClass="ARCHIVE")
    expect_error("ImageStorageClassUpdateNotSupportedException", ADMIN.update_image_storage_class,
                 repositoryName=name, imageId={"imageDigest": img.digest}, targetStorageClass="ARCHIVE")

    expect_error("ImageNotFoundException", ADMIN.update_image_storage_class, repositoryName=name,
                 imageId={"imageDigest": "sha256:" + "0" * 64}, targetStorageClass="ARCHIVE")
    expect_error("ImageNotFoundException", ADMIN.update_image_storage_class, repositoryName=name,
                 imageId={"imageTag": "nope"}, targetStorageClass="STANDARD")

    # An enum value outside STANDARD | ARCHIVE is refused, and does not restore the archived image.
    e = expect_error("InvalidParameterException", ADMIN.update_image_storage_class, repositoryName=name,
                     imageId={"imageTag": "v1"}, targetStorageClass="GLACIER")
    contains(e["Error"]["Message"], "targetStorageClass", "bad targetStorageClass message")
    eq(describe(name, img.digest, "ANY")["imageStatus"], "ARCHIVED", "status after the refused update")

    child, other = push_image(ADMIN, name), push_image(ADMIN, name)
    push_index(name, [child, other], tag_="multi")
    expect_error("ImageStorageClassUpdateNotSupportedException", ADMIN.update_image_storage_class,
                 repositoryName=name, imageId={"imageDigest": child.digest}, targetStorageClass="ARCHIVE")
    eq(describe(name, child.digest, "ANY")["imageStatus"], "ACTIVE", "the index child after the refusal")
    eq(manifest_status(name, child.digest)[0], 200, "GET /v2/ of the index child")


if __name__ == "__main__":
    sys.exit(run_cases())
