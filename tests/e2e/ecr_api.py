#!/usr/bin/env python3
"""tests/e2e/ecr_api.py — Wharf's Amazon ECR API end to end, through boto3, the AWS CLI and the
OCI clients (crane, skopeo, oras) against one running `wharf serve`.

Run by tests/e2e/ecr.sh, which starts the server and sets the environment (see
tests/e2e/ecr/harness.py). Every case is named and self-contained (its own repositories, users
and, where a case needs an empty registry, its own account); prints PASS:/FAIL: lines, a summary,
and exits non-zero on any failure. ECR_CASES=REGEX runs a subset.
"""

import base64
import datetime
import json
import os
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecr.harness import (  # noqa: E402
    ACCEPT_ALL,
    AWS_CLI,
    DOCKER_MANIFEST,
    ENDPOINT,
    FULL_ACCESS,
    HOST,
    OCI_INDEX,
    OCI_LAYER,
    OCI_MANIFEST,
    REGION,
    TMP,
    Image,
    admin,
    admin_keys,
    aws_env,
    build_image,
    case,
    client,
    contains,
    crane,
    default_account,
    eq,
    expect_error,
    http,
    new_account,
    new_account_admin,
    new_user,
    oras_cmd,
    password_of,
    password_once,
    push_image,
    raw_ecr,
    run,
    run_cases,
    sha,
    sigv4_headers,
    skopeo,
    tar_layer,
    uniq,
    upload_blob,
    v2,
    write_oci_layout,
)

KEY, SECRET = admin_keys()
ADMIN = client(KEY, SECRET)
LAX = client(KEY, SECRET, validate=False)  # no client-side validation: bad values reach the server
ACCOUNT = default_account()
def pw():
    """The administrator's /v2/ password (fetched once)."""
    return password_once(ADMIN)


def new_repo(c=ADMIN, prefix="e2e", **kw):
    name = f"{prefix}/{uniq('r')}"
    c.create_repository(repositoryName=name, **kw)
    return name


def pull_policy(*repos, extra_actions=()):
    arns = [f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{r}" for r in repos]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchCheckLayerAvailability",
                    *extra_actions,
                ],
                "Resource": arns,
            },
        ],
    }


def image_ids(resp):
    return sorted((i.get("imageDigest"), i.get("imageTag")) for i in resp["imageIds"])


# ================================================================================================
# Authentication: GetAuthorizationToken, the AWS CLI, SigV4


@case("GetAuthorizationToken: token is base64('AWS:'+password), 12 h expiry, proxyEndpoint")
def _():
    t0 = time.time()
    data = ADMIN.get_authorization_token()["authorizationData"]
    eq(len(data), 1, "authorizationData entries")
    d = data[0]
    decoded = base64.b64decode(d["authorizationToken"]).decode()
    eq(decoded.count(":"), 1, "colons in the decoded token (the CLI does token.split(':'))")
    assert decoded.startswith("AWS:"), decoded[:10]
    ttl = d["expiresAt"].timestamp() - t0
    assert 12 * 3600 - 300 < ttl < 12 * 3600 + 300, f"expiresAt is {ttl:.0f}s away, want ~43200"
    # The servers under test run with the default public_scheme, http.
    eq(d["proxyEndpoint"], f"http://{HOST}", "proxyEndpoint")


@case("health: /healthz and /readyz answer without credentials, as JSON")
def _():
    for path, want in (("/healthz", "ok"), ("/readyz", "ready")):
        status, h, body = http("GET", path)
        eq(status, 200, f"GET {path}")
        eq(json.loads(body)["status"], want, f"{path} status")
        eq(h.get("cache-control"), "no-store", f"{path} Cache-Control")
    eq(http("POST", "/readyz")[0] >= 400, True, "POST /readyz is not a health check")


@case("/v2/ without credentials: 401 with a Basic challenge; with the token: 200")
def _():
    status, h, _ = v2("GET", "/v2/")
    eq(status, 401, "anonymous GET /v2/")
    contains(h.get("www-authenticate", ""), f'Basic realm="http://{HOST}/"', "WWW-Authenticate")
    status, _, _ = v2("GET", "/v2/", pw=pw())
    eq(status, 200, "GET /v2/ with the token")
    # The whole base64 token works as the Basic credential (documented curl usage).
    token = ADMIN.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    eq(http("GET", "/v2/", headers={"Authorization": "Basic " + token})[0], 200, "Basic <authorizationToken>")


@case("aws ecr get-login-password (CLI) → crane, oras and skopeo push and pull with it")
def _():
    p = run([AWS_CLI, "ecr", "get-login-password", "--endpoint-url", ENDPOINT], env=aws_env(KEY, SECRET))
    cli_pw = p.stdout.strip()
    assert cli_pw and ":" not in cli_pw, f"CLI printed {cli_pw[:40]!r}"
    repo = new_repo()
    img = build_image(n_layers=2)
    src = os.path.join(TMP, uniq("layout"))
    write_oci_layout(img, src, "v1")
    # skopeo push + pull
    skopeo("copy", "-q", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", f"AWS:{cli_pw}",
           f"oci:{src}:v1", f"docker://{HOST}/{repo}:skopeo")
    raw = skopeo("inspect", "--raw", "--tls-verify=false", "--creds", f"AWS:{cli_pw}", f"docker://{HOST}/{repo}:skopeo").stdout
    eq(sha(raw.encode()), img.digest, "skopeo inspect --raw digest")
    # crane (auth login with -u AWS -p)
    cfg = os.path.join(TMP, uniq("dockercfg"))
    os.makedirs(cfg)
    crane("auth", "login", HOST, "-u", "AWS", "-p", cli_pw, docker_config=cfg)
    crane("copy", f"{HOST}/{repo}:skopeo", f"{HOST}/{repo}:crane", docker_config=cfg)
    eq(crane("digest", f"{HOST}/{repo}:crane", docker_config=cfg).stdout.strip(), img.digest, "crane digest")
    out = os.path.join(TMP, uniq("crane-pull"))
    crane("pull", "--format", "oci", f"{HOST}/{repo}:crane", out, docker_config=cfg)
    # oras push + pull of an artifact with the same password
    f = os.path.join(TMP, uniq("note") + ".txt")
    with open(f, "w") as fh:
        fh.write("hello from oras " + uniq())
    wd = os.path.dirname(f)
    oras_cmd("push", f"{HOST}/{repo}:oras", "--artifact-type", "application/vnd.e2e.note",
             f"{os.path.basename(f)}:text/plain", pw=cli_pw, cwd=wd)
    outd = os.path.join(TMP, uniq("oras-out"))
    oras_cmd("pull", f"{HOST}/{repo}:oras", "-o", outd, pw=cli_pw)
    eq(open(os.path.join(outd, os.path.basename(f))).read(), open(f).read(), "oras pulled file")
    tags = sorted(i["imageTag"] for i in ADMIN.list_images(repositoryName=repo, filter={"tagStatus": "TAGGED"})["imageIds"])
    eq(tags, ["crane", "oras", "skopeo"], "tags after the three pushes")


@case("wharf admin login-password gives a /v2/ password")
def _():
    p = admin("login-password").strip()
    eq(v2("GET", "/v2/", pw=p)[0], 200, "GET /v2/ with wharf admin login-password")


@case("SigV4: wrong secret → InvalidSignatureException")
def _():
    bad = client(KEY, SECRET[:-1] + ("A" if SECRET[-1] != "A" else "B"))
    expect_error("InvalidSignatureException", bad.describe_repositories)


@case("SigV4: unknown access key → UnrecognizedClientException")
def _():
    bad = client("AKIA" + "Z" * 16, SECRET)
    expect_error("UnrecognizedClientException", bad.describe_repositories)


@case("SigV4: unsigned request → MissingAuthenticationTokenException")
def _():
    c = client(KEY, SECRET, unsigned=True)
    expect_error("MissingAuthenticationTokenException", c.describe_repositories)


@case("SigV4: raw signer matches the reference vector, and a raw-signed request succeeds")
def _():
    # Known-answer test from ecr-api.md §1.4: proves this harness signs like botocore, so the raw
    # cases below test the server, not the harness.
    h, canonical, sig = sigv4_headers(
        "DescribeRepositories", b'{"repositoryNames": ["xy"]}', "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", region="eu-west-1", amz_date="20250102T030405Z",
        host="127.0.0.1:18555",
    )
    eq(sig, "f3925259bf05e93dc74550a06816d073c30e41efaca880f7c7fe7072e7655263", "reference signature")
    body = b"{}"
    h, _, _ = sigv4_headers("DescribeRegistry", body, KEY, SECRET)
    status, rh, out = raw_ecr("DescribeRegistry", body, h)
    eq(status, 200, f"raw-signed DescribeRegistry: {out!r}")
    eq(out.get("registryId"), ACCOUNT, "registryId")
    contains(rh.get("content-type", ""), "application/x-amz-json-1.1", "content-type")
    assert rh.get("x-amzn-requestid"), "x-amzn-RequestId header missing"


@case("SigV4: a request dated 20 minutes ago → InvalidSignatureException (signature expired)")
def _():
    body = b"{}"
    old = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)).strftime("%Y%m%dT%H%M%SZ")
    h, _, _ = sigv4_headers("DescribeRegistry", body, KEY, SECRET, amz_date=old)
    status, rh, out = raw_ecr("DescribeRegistry", body, h)
    eq(status, 400, f"status ({out!r})")
    eq(out.get("__type"), "InvalidSignatureException", "__type")
    eq(rh.get("x-amzn-errortype", "").split(":")[0], "InvalidSignatureException", "X-Amzn-ErrorType header")


@case("SigV4: body altered after signing → InvalidSignatureException")
def _():
    h, _, _ = sigv4_headers("DescribeRepositories", b"{}", KEY, SECRET)
    status, _, out = raw_ecr("DescribeRepositories", b'{"maxResults": 5}', h)
    eq((status, out.get("__type")), (400, "InvalidSignatureException"), f"response {out!r}")


@case("signed but malformed JSON → SerializationException; unknown operation names itself")
def _():
    body = b'{"repositoryName": '
    h, _, _ = sigv4_headers("DescribeRepositories", body, KEY, SECRET)
    status, _, out = raw_ecr("DescribeRepositories", body, h)
    eq((status, out.get("__type")), (400, "SerializationException"), f"response {out!r}")
    h, _, _ = sigv4_headers("NoSuchOperation", b"{}", KEY, SECRET)
    status, _, out = raw_ecr("NoSuchOperation", b"{}", h)
    eq((status, out.get("__type")), (400, "UnknownOperationException"), f"response {out!r}")
    contains(out.get("message", ""), "NoSuchOperation", "unknown-operation message")


@case("pull-through cache rules through boto3: create, describe (paged), validate, update, delete")
def _():
    prefix = uniq("ptc")
    # An upstream nobody listens on: the rule is stored, and validation reports the failure.
    r = ADMIN.create_pull_through_cache_rule(ecrRepositoryPrefix=prefix,
                                             upstreamRegistryUrl="http://127.0.0.1:9",
                                             upstreamRepositoryPrefix="mirror")
    eq((r["ecrRepositoryPrefix"], r["upstreamRepositoryPrefix"]), (prefix, "mirror"))
    other = uniq("ptc")
    ADMIN.create_pull_through_cache_rule(ecrRepositoryPrefix=other, upstreamRegistryUrl="quay.io")
    expect_error("PullThroughCacheRuleAlreadyExistsException", ADMIN.create_pull_through_cache_rule,
                 ecrRepositoryPrefix=prefix, upstreamRegistryUrl="quay.io")
    pages = ADMIN.get_paginator("describe_pull_through_cache_rules").paginate(
        PaginationConfig={"PageSize": 1})
    seen = [rule["ecrRepositoryPrefix"] for page in pages for rule in page["pullThroughCacheRules"]]
    contains(seen, prefix, "paged rules")
    contains(seen, other, "paged rules")
    eq(len(seen), len(set(seen)), "no rule twice across pages")
    v = ADMIN.validate_pull_through_cache_rule(ecrRepositoryPrefix=prefix)
    eq(v["isValid"], False)
    contains(v["failure"], "unavailable", "validation failure")
    expect_error("SecretNotFoundException", ADMIN.update_pull_through_cache_rule, ecrRepositoryPrefix=prefix,
                 credentialArn=f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:ecr-pullthroughcache/missing")
    u = ADMIN.update_pull_through_cache_rule(ecrRepositoryPrefix=prefix)
    eq(u["ecrRepositoryPrefix"], prefix)
    d = ADMIN.delete_pull_through_cache_rule(ecrRepositoryPrefix=prefix)
    eq(d["upstreamRegistryUrl"], "http://127.0.0.1:9")
    ADMIN.delete_pull_through_cache_rule(ecrRepositoryPrefix=other)
    expect_error("PullThroughCacheRuleNotFoundException", ADMIN.validate_pull_through_cache_rule,
                 ecrRepositoryPrefix=prefix)


# ================================================================================================
# Repositories


@case("CreateRepository: defaults, ARN, URI, registryId; DescribeRepositories echoes them")
def _():
    name = f"e2e/{uniq('create')}"
    r = ADMIN.create_repository(repositoryName=name)["repository"]
    eq(r["repositoryName"], name)
    eq(r["registryId"], ACCOUNT)
    assert re.fullmatch(rf"arn:aws:ecr:[a-z0-9-]+:{ACCOUNT}:repository/{re.escape(name)}", r["repositoryArn"]), r["repositoryArn"]
    eq(r["repositoryUri"], f"{HOST}/{name}", "repositoryUri")
    eq(r["imageTagMutability"], "MUTABLE")
    eq(r["imageScanningConfiguration"], {"scanOnPush": False})
    eq(r["encryptionConfiguration"]["encryptionType"], "AES256")
    assert isinstance(r["createdAt"], datetime.datetime), r["createdAt"]
    assert abs(r["createdAt"].timestamp() - time.time()) < 120, r["createdAt"]
    d = ADMIN.describe_repositories(repositoryNames=[name])["repositories"]
    eq(len(d), 1)
    for k in ("repositoryArn", "registryId", "repositoryName", "repositoryUri", "imageTagMutability", "createdAt"):
        eq(d[0][k], r[k], k)


def kms_client():
    """boto3's KMS client for the local-kms ecr.sh started (any credentials work there)."""
    import boto3
    return boto3.client("kms", endpoint_url=os.environ["WHARF_E2E_KMS_URL"],
                        region_name=os.environ["WHARF_E2E_KMS_REGION"],
                        aws_access_key_id="AKIDLOCALKMS", aws_secret_access_key="x")


@case("CreateRepository: tags, IMMUTABLE, scanOnPush, KMS are stored and echoed")
def _():
    name = f"e2e/{uniq('opts')}"
    key = kms_client().create_key(Description="ecr_api.py")["KeyMetadata"]
    r = ADMIN.create_repository(
        repositoryName=name,
        tags=[{"Key": "team", "Value": "a"}, {"Key": "env", "Value": "prod"}],
        imageTagMutability="IMMUTABLE",
        imageScanningConfiguration={"scanOnPush": True},
        # By key id: stored and echoed as the key's ARN.
        encryptionConfiguration={"encryptionType": "KMS", "kmsKey": key["KeyId"]},
    )["repository"]
    eq(r["imageTagMutability"], "IMMUTABLE")
    eq(r["imageScanningConfiguration"], {"scanOnPush": True})
    eq(r["encryptionConfiguration"], {"encryptionType": "KMS", "kmsKey": key["Arn"]})
    tags = ADMIN.list_tags_for_resource(resourceArn=r["repositoryArn"])["tags"]
    eq(sorted((t["Key"], t["Value"]) for t in tags), [("env", "prod"), ("team", "a")], "tags")
    d = ADMIN.describe_repositories(repositoryNames=[name])["repositories"][0]
    eq((d["imageTagMutability"], d["imageScanningConfiguration"]["scanOnPush"]), ("IMMUTABLE", True))


@case("CreateRepository: an unknown or disabled KMS key → KmsException with kmsError")
def _():
    kms = kms_client()
    unknown = f"arn:aws:kms:{os.environ['WHARF_E2E_KMS_REGION']}:111122223333:key/00000000-0000-0000-0000-000000000000"
    expect_error("KmsException", ADMIN.create_repository, repositoryName=f"e2e/{uniq('kms')}",
                 encryptionConfiguration={"encryptionType": "KMS", "kmsKey": unknown})
    key = kms.create_key(Description="disabled")["KeyMetadata"]
    kms.disable_key(KeyId=key["KeyId"])
    r = expect_error("KmsException", ADMIN.create_repository, repositoryName=f"e2e/{uniq('kms')}",
                     encryptionConfiguration={"encryptionType": "KMS", "kmsKey": key["Arn"]},
                     message=key["Arn"])
    eq(r.get("kmsError"), "DisabledException")


@case("CreateRepository: existing name → RepositoryAlreadyExistsException")
def _():
    name = new_repo()
    expect_error("RepositoryAlreadyExistsException", ADMIN.create_repository, repositoryName=name,
                 message=[name, ACCOUNT])


@case("CreateRepository: bad names → InvalidParameterException naming repositoryName")
def _():
    for bad in ["Bad_Name", "UPPER/case", "a//b", "-lead", "trail-", "x" * 257]:
        expect_error("InvalidParameterException", LAX.create_repository, repositoryName=bad, message="repositoryName")


@case("CreateRepository: bogus imageTagMutability → InvalidParameterException naming it")
def _():
    expect_error("InvalidParameterException", LAX.create_repository, repositoryName=f"e2e/{uniq('bogus')}",
                 imageTagMutability="BOGUS", message="imageTagMutability")


@case("CreateRepository: exclusion filters need *_WITH_EXCLUSION and vice versa")
def _():
    f = [{"filterType": "WILDCARD", "filter": "latest"}]
    expect_error("InvalidParameterException", ADMIN.create_repository, repositoryName=f"e2e/{uniq('x')}",
                 imageTagMutability="IMMUTABLE", imageTagMutabilityExclusionFilters=f,
                 message="imageTagMutabilityExclusionFilters")
    expect_error("InvalidParameterException", ADMIN.create_repository, repositoryName=f"e2e/{uniq('x')}",
                 imageTagMutabilityExclusionFilters=f, message="imageTagMutabilityExclusionFilters")
    expect_error("InvalidParameterException", ADMIN.create_repository, repositoryName=f"e2e/{uniq('x')}",
                 imageTagMutability="IMMUTABLE_WITH_EXCLUSION", message="imageTagMutabilityExclusionFilters")


@case("CreateRepository: malformed exclusion filters (pattern, filterType, >5) → InvalidParameterException")
def _():
    for filters in (
        [{"filterType": "WILDCARD", "filter": "bad/char"}],
        [{"filterType": "WILDCARD", "filter": "x" * 129}],
        [{"filterType": "REGEX", "filter": "latest"}],
        [{"filterType": "WILDCARD", "filter": f"t{i}"} for i in range(6)],
    ):
        expect_error("InvalidParameterException", LAX.create_repository, repositoryName=f"e2e/{uniq('x')}",
                     imageTagMutability="IMMUTABLE_WITH_EXCLUSION", imageTagMutabilityExclusionFilters=filters)


@case("CreateRepository: 51 tags → TooManyTagsException")
def _():
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    expect_error("TooManyTagsException", ADMIN.create_repository, repositoryName=f"e2e/{uniq('tags')}", tags=tags)


@case("DescribeRepositories: missing name → RepositoryNotFoundException with ECR's message")
def _():
    name = f"e2e/{uniq('missing')}"
    existing = new_repo()
    expect_error("RepositoryNotFoundException", ADMIN.describe_repositories, repositoryNames=[existing, name],
                 message=f"The repository with name '{name}' does not exist in the registry with id '{ACCOUNT}'")


@case("DescribeRepositories: maxResults 0 / 1001, and with repositoryNames → InvalidParameterException")
def _():
    for n in (0, 1001):
        expect_error("InvalidParameterException", LAX.describe_repositories, maxResults=n, message="maxResults")
    expect_error("InvalidParameterException", ADMIN.describe_repositories, repositoryNames=[new_repo()], maxResults=5)


@case("DescribeRepositories: bad nextToken → InvalidParameterException")
def _():
    expect_error("InvalidParameterException", ADMIN.describe_repositories, nextToken="!!not-a-token!!")


@case("DescribeRepositories paginator: PageSize=2 over 5 repositories (fresh account)")
def _():
    acct, c = new_account_admin()
    names = sorted(f"page/{uniq('p')}" for _ in range(5))
    for n in names:
        c.create_repository(repositoryName=n)
    pages = list(c.get_paginator("describe_repositories").paginate(PaginationConfig={"PageSize": 2}))
    sizes = [len(p["repositories"]) for p in pages]
    eq(sizes, [2, 2, 1], "page sizes")
    got = [r["repositoryName"] for p in pages for r in p["repositories"]]
    eq(sorted(got), names, "repositories over all pages")
    assert "nextToken" not in pages[-1], "last page carries a nextToken"
    assert all(r["registryId"] == acct for p in pages for r in p["repositories"]), "registryId"
    # maxResults alone gives a token; the token continues where the page ended
    first = c.describe_repositories(maxResults=3)
    eq(len(first["repositories"]), 3)
    rest = c.describe_repositories(maxResults=3, nextToken=first["nextToken"])
    eq(len(rest["repositories"]), 2)
    # the default account's repositories are not visible from the fresh account
    assert not any(r["repositoryName"].startswith("e2e/") for r in c.describe_repositories()["repositories"])


@case("DeleteRepository: non-empty → RepositoryNotEmptyException; force deletes; missing → NotFound")
def _():
    name = new_repo()
    push_image(ADMIN, name, tag="v1")
    expect_error("RepositoryNotEmptyException", ADMIN.delete_repository, repositoryName=name, message=[name, ACCOUNT])
    r = ADMIN.delete_repository(repositoryName=name, force=True)["repository"]
    eq(r["repositoryName"], name, "echoed repository")
    expect_error("RepositoryNotFoundException", ADMIN.describe_repositories, repositoryNames=[name])
    expect_error("RepositoryNotFoundException", ADMIN.delete_repository, repositoryName=name)
    empty = new_repo()
    eq(ADMIN.delete_repository(repositoryName=empty)["repository"]["repositoryName"], empty, "empty repo delete")
    # the name can be reused, and the new repository is empty
    ADMIN.create_repository(repositoryName=name)
    eq(ADMIN.list_images(repositoryName=name)["imageIds"], [], "recreated repository is empty")


@case("PutImageTagMutability: values, filters echoed and stored; bad input → InvalidParameter")
def _():
    name = new_repo()
    filters = [{"filterType": "WILDCARD", "filter": "latest"}, {"filterType": "WILDCARD", "filter": "dev-*"}]
    r = ADMIN.put_image_tag_mutability(repositoryName=name, imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
                                       imageTagMutabilityExclusionFilters=filters)
    eq((r["registryId"], r["repositoryName"], r["imageTagMutability"]), (ACCOUNT, name, "IMMUTABLE_WITH_EXCLUSION"))
    eq(r["imageTagMutabilityExclusionFilters"], filters, "echoed filters")
    d = ADMIN.describe_repositories(repositoryNames=[name])["repositories"][0]
    eq(d["imageTagMutability"], "IMMUTABLE_WITH_EXCLUSION")
    eq(d.get("imageTagMutabilityExclusionFilters"), filters, "described filters")
    r = ADMIN.put_image_tag_mutability(repositoryName=name, imageTagMutability="MUTABLE")
    eq(r["imageTagMutability"], "MUTABLE")
    d = ADMIN.describe_repositories(repositoryNames=[name])["repositories"][0]
    assert not d.get("imageTagMutabilityExclusionFilters"), f"filters survived MUTABLE: {d}"
    expect_error("InvalidParameterException", LAX.put_image_tag_mutability, repositoryName=name,
                 imageTagMutability="BOGUS", message="imageTagMutability")
    expect_error("RepositoryNotFoundException", ADMIN.put_image_tag_mutability,
                 repositoryName=f"e2e/{uniq('nope')}", imageTagMutability="IMMUTABLE")


@case("PutImageScanningConfiguration: echoed and stored; missing repository → NotFound")
def _():
    name = new_repo()
    r = ADMIN.put_image_scanning_configuration(repositoryName=name, imageScanningConfiguration={"scanOnPush": True})
    eq((r["registryId"], r["repositoryName"], r["imageScanningConfiguration"]), (ACCOUNT, name, {"scanOnPush": True}))
    d = ADMIN.describe_repositories(repositoryNames=[name])["repositories"][0]
    eq(d["imageScanningConfiguration"], {"scanOnPush": True})
    expect_error("RepositoryNotFoundException", ADMIN.put_image_scanning_configuration,
                 repositoryName=f"e2e/{uniq('nope')}", imageScanningConfiguration={"scanOnPush": True})


@case("TagResource/UntagResource/ListTagsForResource: merge, remove, errors")
def _():
    name = new_repo(tags=[{"Key": "a", "Value": "1"}])
    arn = ADMIN.describe_repositories(repositoryNames=[name])["repositories"][0]["repositoryArn"]
    ADMIN.tag_resource(resourceArn=arn, tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "one"}])
    tags = sorted((t["Key"], t["Value"]) for t in ADMIN.list_tags_for_resource(resourceArn=arn)["tags"])
    eq(tags, [("a", "one"), ("b", "2")], "after TagResource (merge + overwrite)")
    ADMIN.untag_resource(resourceArn=arn, tagKeys=["a", "not-there"])
    eq([(t["Key"], t["Value"]) for t in ADMIN.list_tags_for_resource(resourceArn=arn)["tags"]], [("b", "2")], "after Untag")
    expect_error("TooManyTagsException", ADMIN.tag_resource, resourceArn=arn,
                 tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    expect_error("InvalidTagParameterException", ADMIN.tag_resource, resourceArn=arn, tags=[{"Key": "aws:x", "Value": "v"}])
    expect_error("InvalidTagParameterException", ADMIN.tag_resource, resourceArn=arn, tags=[{"Key": "k" * 129, "Value": "v"}])
    expect_error("InvalidParameterException", ADMIN.list_tags_for_resource, resourceArn="not-an-arn")
    missing = arn.rsplit("/", 1)[0] + "/" + uniq("gone")
    expect_error("RepositoryNotFoundException", ADMIN.list_tags_for_resource, resourceArn=missing)
    expect_error("RepositoryNotFoundException", ADMIN.tag_resource, resourceArn=missing, tags=[{"Key": "k", "Value": "v"}])


@case("missing repository → RepositoryNotFoundException from every repository-scoped operation")
def _():
    gone = f"e2e/{uniq('gone')}"
    arn = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{gone}"
    d = "sha256:" + "7" * 64
    up = "00000000-0000-4000-8000-000000000000"
    calls = {
        "DescribeRepositories": lambda: ADMIN.describe_repositories(repositoryNames=[gone]),
        "DeleteRepository": lambda: ADMIN.delete_repository(repositoryName=gone, force=True),
        "PutImageTagMutability": lambda: ADMIN.put_image_tag_mutability(repositoryName=gone, imageTagMutability="MUTABLE"),
        "PutImageScanningConfiguration": lambda: ADMIN.put_image_scanning_configuration(
            repositoryName=gone, imageScanningConfiguration={"scanOnPush": False}),
        "ListImages": lambda: ADMIN.list_images(repositoryName=gone),
        "DescribeImages": lambda: ADMIN.describe_images(repositoryName=gone),
        "DescribeImages(imageIds)": lambda: ADMIN.describe_images(repositoryName=gone, imageIds=[{"imageTag": "v1"}]),
        "BatchGetImage": lambda: ADMIN.batch_get_image(repositoryName=gone, imageIds=[{"imageTag": "v1"}]),
        "BatchDeleteImage": lambda: ADMIN.batch_delete_image(repositoryName=gone, imageIds=[{"imageTag": "v1"}]),
        "PutImage": lambda: ADMIN.put_image(repositoryName=gone, imageManifest=build_image().manifest),
        "ListImageReferrers": lambda: ADMIN.list_image_referrers(repositoryName=gone, subjectId={"imageDigest": d}),
        "InitiateLayerUpload": lambda: ADMIN.initiate_layer_upload(repositoryName=gone),
        "UploadLayerPart": lambda: ADMIN.upload_layer_part(repositoryName=gone, uploadId=up, partFirstByte=0,
                                                           partLastByte=0, layerPartBlob=b"x"),
        "CompleteLayerUpload": lambda: ADMIN.complete_layer_upload(repositoryName=gone, uploadId=up, layerDigests=[d]),
        "BatchCheckLayerAvailability": lambda: ADMIN.batch_check_layer_availability(repositoryName=gone, layerDigests=[d]),
        "GetDownloadUrlForLayer": lambda: ADMIN.get_download_url_for_layer(repositoryName=gone, layerDigest=d),
        "SetRepositoryPolicy": lambda: ADMIN.set_repository_policy(repositoryName=gone, policyText=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}]})),
        "GetRepositoryPolicy": lambda: ADMIN.get_repository_policy(repositoryName=gone),
        "DeleteRepositoryPolicy": lambda: ADMIN.delete_repository_policy(repositoryName=gone),
        "TagResource": lambda: ADMIN.tag_resource(resourceArn=arn, tags=[{"Key": "k", "Value": "v"}]),
        "UntagResource": lambda: ADMIN.untag_resource(resourceArn=arn, tagKeys=["k"]),
        "ListTagsForResource": lambda: ADMIN.list_tags_for_resource(resourceArn=arn),
    }
    wrong = []
    for op, call in calls.items():
        try:
            out = call()
            out.pop("ResponseMetadata", None)
            wrong.append(f"{op}: succeeded with {json.dumps(out, default=str)[:160]}")
        except Exception as e:  # noqa: BLE001
            code = getattr(e, "response", {}).get("Error", {}).get("Code")
            msg = getattr(e, "response", {}).get("Error", {}).get("Message", str(e))
            if code != "RepositoryNotFoundException":
                wrong.append(f"{op}: {code}: {msg[:160]}")
            elif gone not in msg:
                wrong.append(f"{op}: message does not name the repository: {msg[:160]}")
    assert not wrong, f"{len(wrong)} of {len(calls)} operations answered otherwise:\n" + "\n".join(wrong)


@case("AWS CLI: service errors print ECR's code and message and exit 255")
def _():
    gone = f"e2e/{uniq('gone')}"
    p = run([AWS_CLI, "ecr", "describe-repositories", "--repository-names", gone, "--endpoint-url", ENDPOINT],
            env=aws_env(KEY, SECRET), check=False)
    eq(p.returncode, 255, f"exit status (stderr {p.stderr.strip()[-300:]!r})")
    contains(p.stderr, "An error occurred (RepositoryNotFoundException) when calling the DescribeRepositories operation: "
                       f"The repository with name '{gone}' does not exist")
    p = run([AWS_CLI, "ecr", "create-repository", "--repository-name", f"e2e/{uniq('cli')}", "--image-tag-mutability",
             "IMMUTABLE", "--endpoint-url", ENDPOINT, "--output", "json"], env=aws_env(KEY, SECRET))
    eq(json.loads(p.stdout)["repository"]["imageTagMutability"], "IMMUTABLE", "CLI create-repository output")


# ================================================================================================
# Images


@case("PutImage → DescribeImages: digest, tags, imageSizeInBytes = layers + config, media type, pushedAt")
def _():
    name = new_repo()
    img = push_image(ADMIN, name, tag="v1", n_layers=3, layer_size=700)
    d = ADMIN.describe_images(repositoryName=name)["imageDetails"]
    eq(len(d), 1)
    d = d[0]
    eq((d["registryId"], d["repositoryName"], d["imageDigest"]), (ACCOUNT, name, img.digest))
    eq(d.get("imageTags"), ["v1"], "imageTags")
    eq(d["imageSizeInBytes"], img.layer_size + len(img.config), "imageSizeInBytes (layers + config)")
    eq(d["imageManifestMediaType"], OCI_MANIFEST)
    assert abs(d["imagePushedAt"].timestamp() - time.time()) < 120, d["imagePushedAt"]
    by_tag = ADMIN.describe_images(repositoryName=name, imageIds=[{"imageTag": "v1"}])["imageDetails"]
    eq([x["imageDigest"] for x in by_tag], [img.digest], "describe by tag")
    eq(image_ids(ADMIN.list_images(repositoryName=name)), [(img.digest, "v1")], "list_images")


@case("PutImage: response echoes the manifest; Docker schema2 keeps its media type")
def _():
    name = new_repo()
    img = build_image(docker=True)
    for b in img.blobs():
        upload_blob(ADMIN, name, b)
    r = ADMIN.put_image(repositoryName=name, imageManifest=img.manifest, imageTag="d1")["image"]
    eq(r["imageId"], {"imageDigest": img.digest, "imageTag": "d1"})
    eq(r["imageManifest"], img.manifest, "echoed manifest")
    eq(r["imageManifestMediaType"], DOCKER_MANIFEST)
    eq(ADMIN.describe_images(repositoryName=name)["imageDetails"][0]["imageManifestMediaType"], DOCKER_MANIFEST)


@case("PutImage: identical manifest and tag again → ImageAlreadyExistsException; new tag is fine")
def _():
    name = new_repo()
    img = push_image(ADMIN, name, tag="v1")
    expect_error("ImageAlreadyExistsException", ADMIN.put_image, repositoryName=name, imageManifest=img.manifest,
                 imageTag="v1", message=img.digest)
    ADMIN.put_image(repositoryName=name, imageManifest=img.manifest, imageTag="v2")
    eq(sorted(ADMIN.describe_images(repositoryName=name)["imageDetails"][0]["imageTags"]), ["v1", "v2"], "tags")


@case("PutImage: imageDigest not matching the manifest → ImageDigestDoesNotMatchException")
def _():
    name = new_repo()
    img = build_image()
    for b in img.blobs():
        upload_blob(ADMIN, name, b)
    expect_error("ImageDigestDoesNotMatchException", ADMIN.put_image, repositoryName=name, imageManifest=img.manifest,
                 imageDigest="sha256:" + "0" * 64)
    r = ADMIN.put_image(repositoryName=name, imageManifest=img.manifest, imageDigest=img.digest)
    eq(r["image"]["imageId"]["imageDigest"], img.digest)


@case("PutImage: missing layer → LayersNotFoundException; missing child → ReferencedImagesNotFoundException")
def _():
    name = new_repo()
    img = build_image()
    upload_blob(ADMIN, name, img.config)  # config present, layer absent
    expect_error("LayersNotFoundException", ADMIN.put_image, repositoryName=name, imageManifest=img.manifest,
                 message=sha(img.layers[0]))
    ghost = build_image()
    index = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": ghost.digest, "size": len(ghost.manifest),
                       "platform": {"architecture": "amd64", "os": "linux"}}],
    })
    expect_error("ReferencedImagesNotFoundException", ADMIN.put_image, repositoryName=name, imageManifest=index,
                 imageManifestMediaType=OCI_INDEX)


@case("PutImage of an OCI index: accepted with its children; a child → ImageReferencedByManifestList on delete")
def _():
    name = new_repo()
    amd = push_image(ADMIN, name)
    arm = push_image(ADMIN, name)
    index = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": i.digest, "size": len(i.manifest.encode()),
                       "platform": {"architecture": a, "os": "linux"}} for i, a in ((amd, "amd64"), (arm, "arm64"))],
    }, indent=1)
    r = ADMIN.put_image(repositoryName=name, imageManifest=index, imageTag="multi")["image"]
    eq(r["imageManifestMediaType"], OCI_INDEX)
    eq(r["imageId"]["imageDigest"], sha(index.encode()))
    d = ADMIN.describe_images(repositoryName=name, imageIds=[{"imageTag": "multi"}])["imageDetails"][0]
    eq(d["imageManifestMediaType"], OCI_INDEX)
    eq(d["imageSizeInBytes"], max(amd.image_size, arm.image_size), "index imageSizeInBytes (largest child)")
    got = ADMIN.batch_get_image(repositoryName=name, imageIds=[{"imageTag": "multi"}])["images"][0]
    eq(got["imageManifest"], index, "index bytes")
    r = ADMIN.batch_delete_image(repositoryName=name, imageIds=[{"imageDigest": amd.digest}])
    eq([f["failureCode"] for f in r["failures"]], ["ImageReferencedByManifestList"], f"deleting a child: {r}")
    r = ADMIN.batch_delete_image(repositoryName=name, imageIds=[{"imageTag": "multi"}])
    eq(r["failures"], [], "deleting the index")
    r = ADMIN.batch_delete_image(repositoryName=name, imageIds=[{"imageDigest": amd.digest}])
    eq(r["failures"], [], "deleting the former child")


@case("PutImage: invalid manifest / bad tag → InvalidParameterException; missing repo → RepositoryNotFound")
def _():
    name = new_repo()
    expect_error("InvalidParameterException", ADMIN.put_image, repositoryName=name, imageManifest="{not json")
    img = build_image()
    for b in img.blobs():
        upload_blob(ADMIN, name, b)
    expect_error("InvalidParameterException", LAX.put_image, repositoryName=name, imageManifest=img.manifest,
                 imageTag="bad tag!", message="imageTag")
    expect_error("RepositoryNotFoundException", ADMIN.put_image, repositoryName=f"e2e/{uniq('gone')}",
                 imageManifest=img.manifest)


@case("PutImage in an IMMUTABLE repository: moving a tag → ImageTagAlreadyExistsException")
def _():
    name = new_repo(imageTagMutability="IMMUTABLE")
    a = push_image(ADMIN, name, tag="v1")
    b = build_image()
    for blob in b.blobs():
        upload_blob(ADMIN, name, blob)
    expect_error("ImageTagAlreadyExistsException", ADMIN.put_image, repositoryName=name, imageManifest=b.manifest,
                 imageTag="v1", message=["'v1'", name])
    ADMIN.put_image(repositoryName=name, imageManifest=b.manifest, imageTag="v2")
    eq(ADMIN.batch_get_image(repositoryName=name, imageIds=[{"imageTag": "v1"}])["images"][0]["imageId"]["imageDigest"],
       a.digest, "v1 still points at the first image")
    expect_error("ImageAlreadyExistsException", ADMIN.put_image, repositoryName=name, imageManifest=a.manifest, imageTag="v1")


@case("IMMUTABLE repository over /v2/: moving a tag → 400 TAG_INVALID")
def _():
    name = new_repo(imageTagMutability="IMMUTABLE")
    push_image(ADMIN, name, tag="v1")
    b = build_image()
    for blob in b.blobs():
        upload_blob(ADMIN, name, blob)
    status, _, body = v2("PUT", f"/v2/{name}/manifests/v1", pw=pw(), headers={"Content-Type": OCI_MANIFEST},
                         body=b.manifest.encode())
    eq(status, 400, f"status (body {body[:300]!r})")
    contains(body.decode(errors="replace"), "TAG_INVALID")


@case("IMMUTABLE_WITH_EXCLUSION: excluded tags move, others → ImageTagAlreadyExistsException")
def _():
    name = new_repo(imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
                    imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "latest"},
                                                        {"filterType": "WILDCARD", "filter": "dev-*"}])
    for t in ("v1", "latest", "dev-1"):
        push_image(ADMIN, name, tag=t)
    for t, ok in (("latest", True), ("dev-1", True), ("v1", False)):
        img = build_image()
        for blob in img.blobs():
            upload_blob(ADMIN, name, blob)
        if ok:
            ADMIN.put_image(repositoryName=name, imageManifest=img.manifest, imageTag=t)
        else:
            expect_error("ImageTagAlreadyExistsException", ADMIN.put_image, repositoryName=name,
                         imageManifest=img.manifest, imageTag=t)


@case("MUTABLE_WITH_EXCLUSION: excluded tags are frozen, others move")
def _():
    name = new_repo(imageTagMutability="MUTABLE_WITH_EXCLUSION",
                    imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "release-*"}])
    for t in ("release-1", "main"):
        push_image(ADMIN, name, tag=t)
    img = build_image()
    for blob in img.blobs():
        upload_blob(ADMIN, name, blob)
    ADMIN.put_image(repositoryName=name, imageManifest=img.manifest, imageTag="main")
    expect_error("ImageTagAlreadyExistsException", ADMIN.put_image, repositoryName=name, imageManifest=img.manifest,
                 imageTag="release-1")


@case("Moving a tag leaves the old image untagged (ListImages tagStatus filters)")
def _():
    name = new_repo()
    a = push_image(ADMIN, name, tag="v1")
    b = push_image(ADMIN, name, tag="v1")
    eq(image_ids(ADMIN.list_images(repositoryName=name, filter={"tagStatus": "UNTAGGED"})), [(a.digest, None)], "UNTAGGED")
    eq(image_ids(ADMIN.list_images(repositoryName=name, filter={"tagStatus": "TAGGED"})), [(b.digest, "v1")], "TAGGED")
    eq(len(ADMIN.list_images(repositoryName=name, filter={"tagStatus": "ANY"})["imageIds"]), 2, "ANY")
    d = ADMIN.describe_images(repositoryName=name, imageIds=[{"imageDigest": a.digest}])["imageDetails"][0]
    assert not d.get("imageTags"), f"old image still tagged: {d.get('imageTags')}"
    d = ADMIN.describe_images(repositoryName=name, filter={"tagStatus": "UNTAGGED"})["imageDetails"]
    eq([x["imageDigest"] for x in d], [a.digest], "DescribeImages UNTAGGED")
    expect_error("InvalidParameterException", LAX.list_images, repositoryName=name, filter={"tagStatus": "BOGUS"},
                 message="tagStatus")


@case("BatchGetImage: byte-exact manifest by tag and digest; failures for missing and mismatched ids")
def _():
    name = new_repo()
    img = push_image(ADMIN, name, tag="v1")
    other = push_image(ADMIN, name, tag="v2")
    r = ADMIN.batch_get_image(repositoryName=name, imageIds=[{"imageTag": "v1"}, {"imageDigest": img.digest},
                                                             {"imageTag": "nope"}])
    eq(len(r["images"]), 2, f"images (failures {r['failures']})")
    for i in r["images"]:
        eq(i["imageManifest"], img.manifest, "manifest bytes")
        eq(i["imageManifestMediaType"], OCI_MANIFEST)
        eq(i["imageId"]["imageDigest"], img.digest)
        eq((i["registryId"], i["repositoryName"]), (ACCOUNT, name))
    eq([(f["imageId"], f["failureCode"]) for f in r["failures"]], [({"imageTag": "nope"}, "ImageNotFound")], "failures")
    d = ADMIN.describe_images(repositoryName=name, imageIds=[{"imageDigest": img.digest}])["imageDetails"][0]
    assert d.get("lastRecordedPullTime"), f"no lastRecordedPullTime after BatchGetImage: {d}"
    r = ADMIN.batch_get_image(repositoryName=name, imageIds=[{"imageTag": "v1", "imageDigest": other.digest}])
    eq(r["images"], [], "tag+digest mismatch returns no image")
    assert r["failures"] and r["failures"][0]["failureCode"] in ("ImageTagDoesNotMatchDigest", "ImageNotFound"), r["failures"]
    r = ADMIN.batch_get_image(repositoryName=name, imageIds=[{"imageTag": "v1"}], acceptedMediaTypes=[DOCKER_MANIFEST])
    eq(r["images"], [], "acceptedMediaTypes excludes the OCI manifest")
    eq(len(r["failures"]), 1, "one failure for the unaccepted media type")


@case("BatchDeleteImage: by tag removes the tag, by digest the image; ImageTagDoesNotMatchDigest")
def _():
    name = new_repo()
    a = push_image(ADMIN, name, tag="a1")
    ADMIN.put_image(repositoryName=name, imageManifest=a.manifest, imageTag="a2")
    b = push_image(ADMIN, name, tag="b1")
    r = ADMIN.batch_delete_image(repositoryName=name, imageIds=[{"imageTag": "a1"}])
    eq(r["imageIds"], [{"imageDigest": a.digest, "imageTag": "a1"}], "deleted ids")
    eq(r["failures"], [])
    eq(image_ids(ADMIN.list_images(repositoryName=name)), sorted([(a.digest, "a2"), (b.digest, "b1")]),
       "after deleting one of two tags")
    r = ADMIN.batch_delete_image(repositoryName=name, imageIds=[{"imageTag": "a2", "imageDigest": b.digest}])
    eq(r["imageIds"], [])
    eq([f["failureCode"] for f in r["failures"]], ["ImageTagDoesNotMatchDigest"], "mismatch failure")
    r = ADMIN.batch_delete_image(repositoryName=name, imageIds=[{"imageDigest": b.digest}, {"imageTag": "ghost"},
                                                                {"imageDigest": "sha256:" + "1" * 64}])
    eq([i["imageDigest"] for i in r["imageIds"]], [b.digest], "deleted by digest")
    eq(sorted(f["failureCode"] for f in r["failures"]), ["ImageNotFound", "ImageNotFound"], "missing ids")
    eq(image_ids(ADMIN.list_images(repositoryName=name)), [(a.digest, "a2")], "left")
    # the last tag of an image: deleting it deletes the image
    ADMIN.batch_delete_image(repositoryName=name, imageIds=[{"imageTag": "a2"}])
    eq(ADMIN.list_images(repositoryName=name)["imageIds"], [], "deleting the last tag deletes the image")
    r = ADMIN.batch_delete_image(repositoryName=name, imageIds=[{"imageDigest": "not-a-digest"}])
    eq([f["failureCode"] for f in r["failures"]], ["InvalidImageDigest"], "invalid digest failure")


@case("DescribeImages: missing image → ImageNotFoundException; bad maxResults; imageIds + maxResults")
def _():
    name = new_repo()
    push_image(ADMIN, name, tag="v1")
    expect_error("ImageNotFoundException", ADMIN.describe_images, repositoryName=name, imageIds=[{"imageTag": "nope"}],
                 message=["nope", name])
    for n in (0, 1001):
        expect_error("InvalidParameterException", LAX.describe_images, repositoryName=name, maxResults=n,
                     message="maxResults")
        expect_error("InvalidParameterException", LAX.list_images, repositoryName=name, maxResults=n,
                     message="maxResults")
    expect_error("InvalidParameterException", ADMIN.describe_images, repositoryName=name,
                 imageIds=[{"imageTag": "v1"}], maxResults=5)
    expect_error("RepositoryNotFoundException", ADMIN.describe_images, repositoryName=f"e2e/{uniq('gone')}")
    expect_error("RepositoryNotFoundException", ADMIN.list_images, repositoryName=f"e2e/{uniq('gone')}")


@case("DescribeImages/ListImages paginators: PageSize=2 over 5 images")
def _():
    name = new_repo()
    digests = sorted(push_image(ADMIN, name, tag=f"t{i}").digest for i in range(5))
    pages = list(ADMIN.get_paginator("describe_images").paginate(repositoryName=name, PaginationConfig={"PageSize": 2}))
    eq([len(p["imageDetails"]) for p in pages], [2, 2, 1], "describe_images page sizes")
    eq(sorted(d["imageDigest"] for p in pages for d in p["imageDetails"]), digests, "describe_images digests")
    pages = list(ADMIN.get_paginator("list_images").paginate(repositoryName=name, PaginationConfig={"PageSize": 2}))
    eq([len(p["imageIds"]) for p in pages], [2, 2, 1], "list_images page sizes")
    eq(sorted(i["imageDigest"] for p in pages for i in p["imageIds"]), digests, "list_images digests")
    full = ADMIN.get_paginator("list_images").paginate(repositoryName=name).build_full_result()
    eq(len(full["imageIds"]), 5)


@case("ListImages: maxResults counts image ids (one per tag), nextToken continues inside an image's tags")
def _():
    name = new_repo()
    multi = push_image(ADMIN, name, tag="t1")
    for t in ("t2", "t3", "t4"):  # the same manifest under more tags
        ADMIN.put_image(repositoryName=name, imageManifest=multi.manifest, imageManifestMediaType=multi.media_type,
                        imageTag=t)
    untagged = push_image(ADMIN, name)
    single = push_image(ADMIN, name, tag="solo")
    want = sorted([(multi.digest, f"t{i}") for i in range(1, 5)] + [(untagged.digest, None), (single.digest, "solo")],
                  key=lambda x: (x[0], x[1] or ""))
    eq(image_ids(ADMIN.list_images(repositoryName=name)), sorted(want, key=str), "one id per tag, untagged once")
    for size in (1, 2, 3, 4, 6):
        got, token, pages = [], None, 0
        while True:
            args = {"repositoryName": name, "maxResults": size, **({"nextToken": token} if token else {})}
            r = ADMIN.list_images(**args)
            assert len(r["imageIds"]) <= size, f"maxResults {size}: page of {len(r['imageIds'])}"
            got += [(i["imageDigest"], i.get("imageTag")) for i in r["imageIds"]]
            pages += 1
            token = r.get("nextToken")
            if not token:
                break
        eq(sorted(got, key=str), sorted(want, key=str), f"maxResults {size}: every id once")
        eq(len(got), len(set(got)), f"maxResults {size}: no id twice")
        eq(pages, -(-len(want) // size), f"maxResults {size}: pages")
    # the paginator and the AWS CLI agree
    pages = list(ADMIN.get_paginator("list_images").paginate(repositoryName=name, PaginationConfig={"PageSize": 4}))
    eq([len(p["imageIds"]) for p in pages], [4, 2], "paginator page sizes")
    out = run([AWS_CLI, "ecr", "list-images", "--repository-name", name, "--page-size", "2", "--endpoint-url", ENDPOINT,
               "--output", "json"], env=aws_env(KEY, SECRET)).stdout
    eq(sorted(((i["imageDigest"], i.get("imageTag")) for i in json.loads(out)["imageIds"]), key=str),
       sorted(want, key=str), "aws ecr list-images --page-size 2")


@case("ListImageReferrers: an artifact with a subject is listed, artifactType filter works")
def _():
    name = new_repo()
    subject = push_image(ADMIN, name, tag="v1")
    sig = push_image(ADMIN, name, image=build_image(subject=subject, artifact_type="application/vnd.e2e.sig"))
    sbom = push_image(ADMIN, name, image=build_image(subject=subject, artifact_type="application/vnd.e2e.sbom"))
    r = ADMIN.list_image_referrers(repositoryName=name, subjectId={"imageDigest": subject.digest})
    got = sorted((x["digest"], x.get("artifactType")) for x in r["referrers"])
    eq(got, sorted([(sig.digest, "application/vnd.e2e.sig"), (sbom.digest, "application/vnd.e2e.sbom")]), "referrers")
    for x in r["referrers"]:
        eq(x["mediaType"], OCI_MANIFEST)
    r = ADMIN.list_image_referrers(repositoryName=name, subjectId={"imageDigest": subject.digest},
                                   filter={"artifactTypes": ["application/vnd.e2e.sig"]})
    eq([x["digest"] for x in r["referrers"]], [sig.digest], "filtered")
    d = ADMIN.describe_images(repositoryName=name, imageIds=[{"imageDigest": sig.digest}])["imageDetails"][0]
    eq(d.get("subjectManifestDigest"), subject.digest, "subjectManifestDigest")
    eq(d.get("artifactMediaType"), "application/vnd.e2e.sig", "artifactMediaType")
    # the OCI referrers API agrees
    status, _, body = v2("GET", f"/v2/{name}/referrers/{subject.digest}", pw=pw())
    eq(status, 200)
    eq(sorted(m["digest"] for m in json.loads(body)["manifests"]), sorted([sig.digest, sbom.digest]), "/v2/ referrers")


# ================================================================================================
# Layer API


@case("Layer API end to end: 11 MiB in 5 MiB parts (the last smaller) → PutImage → crane pull and skopeo copy match")
def _():
    name = new_repo()
    mib = 1024 * 1024
    blob = os.urandom(11 * mib)
    digest = sha(blob)
    init = ADMIN.initiate_layer_upload(repositoryName=name)
    up = init["uploadId"]
    assert re.fullmatch(r"[0-9a-f-]{36}", up), f"uploadId {up!r} is not a UUID"
    assert init.get("partSize", 0) > 0, init
    for first, last in ((0, 5 * mib - 1), (5 * mib, 10 * mib - 1), (10 * mib, 11 * mib - 1)):
        r = ADMIN.upload_layer_part(repositoryName=name, uploadId=up, partFirstByte=first,
                                    partLastByte=last, layerPartBlob=blob[first:last + 1])
        eq(r["lastByteReceived"], last, f"lastByteReceived after the part from {first}")
        eq((r["uploadId"], r["repositoryName"], r["registryId"]), (up, name, ACCOUNT))
    r = ADMIN.complete_layer_upload(repositoryName=name, uploadId=up, layerDigests=[digest])
    eq((r["layerDigest"], r["uploadId"], r["repositoryName"], r["registryId"]), (digest, up, name, ACCOUNT))
    r = ADMIN.batch_check_layer_availability(repositoryName=name, layerDigests=[digest])
    eq([(x["layerDigest"], x["layerAvailability"], x.get("layerSize")) for x in r["layers"]],
       [(digest, "AVAILABLE", len(blob))], "BatchCheckLayerAvailability")
    img = build_image(layers=[blob])
    # the random blob is not a tar: label it as an uncompressed layer so no client tries gunzip
    m = json.loads(img.manifest)
    m["layers"][0]["mediaType"] = OCI_LAYER
    img = Image([blob], img.config, json.dumps(m, indent=3), OCI_MANIFEST)
    upload_blob(ADMIN, name, img.config)
    ADMIN.put_image(repositoryName=name, imageManifest=img.manifest, imageTag="big")
    eq(ADMIN.describe_images(repositoryName=name)["imageDetails"][0]["imageSizeInBytes"], len(blob) + len(img.config),
       "imageSizeInBytes (layer + config)")
    # crane
    out = os.path.join(TMP, uniq("crane"))
    crane("pull", "--format", "oci", f"{HOST}/{name}:big", out, pw=pw())
    idx = json.load(open(os.path.join(out, "index.json")))
    eq(idx["manifests"][0]["digest"], img.digest, "crane pulled manifest digest")
    eq(open(os.path.join(out, "blobs", "sha256", digest[7:]), "rb").read(), blob, "crane pulled layer bytes")
    # skopeo
    out = os.path.join(TMP, uniq("skopeo"))
    skopeo("copy", "-q", "--preserve-digests", "--src-tls-verify=false", "--src-creds", f"AWS:{pw()}",
           f"docker://{HOST}/{name}:big", f"oci:{out}:big")
    idx = json.load(open(os.path.join(out, "index.json")))
    eq(idx["manifests"][0]["digest"], img.digest, "skopeo copied manifest digest")
    eq(open(os.path.join(out, "blobs", "sha256", digest[7:]), "rb").read(), blob, "skopeo copied layer bytes")
    eq(open(os.path.join(out, "blobs", "sha256", img.digest[7:])).read(), img.manifest, "manifest bytes untouched")


@case("GetDownloadUrlForLayer: URL returns the exact bytes; a tampered signature is refused")
def _():
    name = new_repo()
    img = push_image(ADMIN, name, tag="v1", layer_size=200_000)
    data = img.layers[0]
    digest = sha(data)
    r = ADMIN.get_download_url_for_layer(repositoryName=name, layerDigest=digest)
    eq(r["layerDigest"], digest)
    url = r["downloadUrl"]
    status, _, body = http("GET", url)
    eq(status, 200, "GET downloadUrl")
    assert body == data, f"downloadUrl returned {len(body)} bytes, not the layer"
    u = urllib.parse.urlparse(url)
    q = urllib.parse.parse_qsl(u.query)
    sig_keys = [k for k, _ in q if "signature" in k.lower()]
    assert sig_keys, f"no signature parameter in {url}"
    tampered = [(k, (v[:-2] + ("AA" if not v.endswith("AA") else "BB")) if k in sig_keys else v) for k, v in q]
    status, _, _ = http("GET", u._replace(query=urllib.parse.urlencode(tampered)).geturl())
    assert status in (401, 403), f"tampered signature: HTTP {status}"
    # the URL is for this blob only: another path with the same query is refused
    other = sha(push_image(ADMIN, name, tag="v2").layers[0])
    status, _, _ = http("GET", url.replace(digest, other))
    assert status in (401, 403), f"signature reused for another blob: HTTP {status}"
    expect_error("LayersNotFoundException", ADMIN.get_download_url_for_layer, repositoryName=name,
                 layerDigest="sha256:" + "2" * 64)
    expect_error("RepositoryNotFoundException", ADMIN.get_download_url_for_layer, repositoryName=f"e2e/{uniq('gone')}",
                 layerDigest=digest)


@case("GetDownloadUrlForLayer: a layer no image references → LayerInaccessibleException")
def _():
    name = new_repo()
    digest = upload_blob(ADMIN, name, os.urandom(1000))
    expect_error("LayerInaccessibleException", ADMIN.get_download_url_for_layer, repositoryName=name, layerDigest=digest)


@case("CompleteLayerUpload: existing layer → LayerAlreadyExistsException; no parts → EmptyUploadException")
def _():
    name = new_repo()
    data = os.urandom(5000)
    digest = upload_blob(ADMIN, name, data)
    up = ADMIN.initiate_layer_upload(repositoryName=name)["uploadId"]
    ADMIN.upload_layer_part(repositoryName=name, uploadId=up, partFirstByte=0, partLastByte=len(data) - 1, layerPartBlob=data)
    expect_error("LayerAlreadyExistsException", ADMIN.complete_layer_upload, repositoryName=name, uploadId=up,
                 layerDigests=[digest])
    up = ADMIN.initiate_layer_upload(repositoryName=name)["uploadId"]
    expect_error("EmptyUploadException", ADMIN.complete_layer_upload, repositoryName=name, uploadId=up,
                 layerDigests=["sha256:" + "3" * 64])


@case("Layer API: unknown uploadId → UploadNotFoundException (part and complete)")
def _():
    name = new_repo()
    ghost = "00000000-0000-4000-8000-000000000000"
    expect_error("UploadNotFoundException", ADMIN.upload_layer_part, repositoryName=name, uploadId=ghost,
                 partFirstByte=0, partLastByte=2, layerPartBlob=b"abc")
    expect_error("UploadNotFoundException", ADMIN.complete_layer_upload, repositoryName=name, uploadId=ghost,
                 layerDigests=["sha256:" + "4" * 64])
    # an upload of another repository is not found here either
    other = new_repo()
    up = ADMIN.initiate_layer_upload(repositoryName=other)["uploadId"]
    expect_error("UploadNotFoundException", ADMIN.upload_layer_part, repositoryName=name, uploadId=up,
                 partFirstByte=0, partLastByte=2, layerPartBlob=b"abc")


@case("CompleteLayerUpload: digest not matching the bytes → InvalidLayerException")
def _():
    name = new_repo()
    up = ADMIN.initiate_layer_upload(repositoryName=name)["uploadId"]
    ADMIN.upload_layer_part(repositoryName=name, uploadId=up, partFirstByte=0, partLastByte=9, layerPartBlob=b"0123456789")
    expect_error("InvalidLayerException", ADMIN.complete_layer_upload, repositoryName=name, uploadId=up,
                 layerDigests=["sha256:" + "5" * 64])
    up = ADMIN.initiate_layer_upload(repositoryName=name)["uploadId"]
    ADMIN.upload_layer_part(repositoryName=name, uploadId=up, partFirstByte=0, partLastByte=9, layerPartBlob=b"0123456789")
    # a digest outside the model's pattern is rejected by input validation, naming the field
    expect_error("InvalidParameterException", LAX.complete_layer_upload, repositoryName=name, uploadId=up,
                 layerDigests=["not-a-digest"], message="layerDigests")


@case("UploadLayerPart: gap or overlap → InvalidLayerPartException with lastValidByteReceived")
def _():
    name = new_repo()
    first_part = 5 * 1024 * 1024  # ECR's smallest part before the last
    up = ADMIN.initiate_layer_upload(repositoryName=name)["uploadId"]
    ADMIN.upload_layer_part(repositoryName=name, uploadId=up, partFirstByte=0, partLastByte=first_part - 1,
                            layerPartBlob=b"x" * first_part)
    for first in (first_part + 50, first_part - 50):  # a gap, an overlap
        e = expect_error("InvalidLayerPartException", ADMIN.upload_layer_part, repositoryName=name, uploadId=up,
                         partFirstByte=first, partLastByte=first + 9, layerPartBlob=b"y" * 10)
        eq(e.get("lastValidByteReceived"), first_part - 1, f"lastValidByteReceived (partFirstByte {first}); response {e}")
        eq(e.get("uploadId"), up, "uploadId in the error")
    e = expect_error("InvalidLayerPartException", ADMIN.upload_layer_part, repositoryName=name, uploadId=up,
                     partFirstByte=first_part, partLastByte=first_part + 100, layerPartBlob=b"z" * 10)  # range ≠ length
    eq(e.get("lastValidByteReceived"), first_part - 1)
    # the upload is still usable after the rejected parts
    ADMIN.upload_layer_part(repositoryName=name, uploadId=up, partFirstByte=first_part, partLastByte=first_part + 9,
                            layerPartBlob=b"y" * 10)
    data = b"x" * first_part + b"y" * 10
    ADMIN.complete_layer_upload(repositoryName=name, uploadId=up, layerDigests=[sha(data)])
    status, _, body = v2("GET", f"/v2/{name}/blobs/{sha(data)}", pw=pw())
    eq((status, body), (200, data), "blob over /v2/")


@case("UploadLayerPart: a part under 5 MiB before the last → LayerPartTooSmallException at CompleteLayerUpload")
def _():
    name = new_repo()
    mib = 1024 * 1024
    data = os.urandom(5 * mib + 1000)
    # 5 MiB - 1 byte, then the rest: each part is accepted, the first is judged once it is not the last
    split = 5 * mib - 1
    up = ADMIN.initiate_layer_upload(repositoryName=name)["uploadId"]
    for first, last in ((0, split - 1), (split, len(data) - 1)):
        r = ADMIN.upload_layer_part(repositoryName=name, uploadId=up, partFirstByte=first, partLastByte=last,
                                    layerPartBlob=data[first:last + 1])
        eq(r["lastByteReceived"], last)
    expect_error("LayerPartTooSmallException", ADMIN.complete_layer_upload, repositoryName=name, uploadId=up,
                 layerDigests=[sha(data)], message="5 MiB")
    r = ADMIN.batch_check_layer_availability(repositoryName=name, layerDigests=[sha(data)])
    eq([x["layerAvailability"] for x in r["layers"]], ["UNAVAILABLE"], "the layer was not stored")
    # exactly 5 MiB before a 1000-byte last part completes; a single small part does too
    up = ADMIN.initiate_layer_upload(repositoryName=name)["uploadId"]
    for first, last in ((0, 5 * mib - 1), (5 * mib, len(data) - 1)):
        ADMIN.upload_layer_part(repositoryName=name, uploadId=up, partFirstByte=first, partLastByte=last,
                                layerPartBlob=data[first:last + 1])
    eq(ADMIN.complete_layer_upload(repositoryName=name, uploadId=up, layerDigests=[sha(data)])["layerDigest"], sha(data))
    small = os.urandom(1000)
    up = ADMIN.initiate_layer_upload(repositoryName=name)["uploadId"]
    ADMIN.upload_layer_part(repositoryName=name, uploadId=up, partFirstByte=0, partLastByte=999, layerPartBlob=small)
    eq(ADMIN.complete_layer_upload(repositoryName=name, uploadId=up, layerDigests=[sha(small)])["layerDigest"], sha(small))


@case("BatchCheckLayerAvailability: UNAVAILABLE for unknown, failure for invalid digests")
def _():
    name = new_repo()
    r = ADMIN.batch_check_layer_availability(repositoryName=name, layerDigests=["sha256:" + "6" * 64, "bogus"])
    eq([(x["layerDigest"], x["layerAvailability"]) for x in r["layers"]], [("sha256:" + "6" * 64, "UNAVAILABLE")], "layers")
    eq([(f["layerDigest"], f["failureCode"]) for f in r["failures"]], [("bogus", "InvalidLayerDigest")], "failures")
    expect_error("RepositoryNotFoundException", ADMIN.batch_check_layer_availability,
                 repositoryName=f"e2e/{uniq('gone')}", layerDigests=["sha256:" + "6" * 64])
    expect_error("RepositoryNotFoundException", ADMIN.initiate_layer_upload, repositoryName=f"e2e/{uniq('gone')}")


@case("BatchCheckLayerAvailability: mediaType of layers and config once an image references them")
def _():
    name = new_repo()
    img = build_image(docker=True)
    for b in img.blobs():
        upload_blob(ADMIN, name, b)
    layer, config = sha(img.layers[0]), sha(img.config)
    r = ADMIN.batch_check_layer_availability(repositoryName=name, layerDigests=[layer, config])
    eq([(x["layerDigest"], x["layerAvailability"], x.get("mediaType")) for x in r["layers"]],
       [(layer, "AVAILABLE", None), (config, "AVAILABLE", None)], "no image references them yet")
    ADMIN.put_image(repositoryName=name, imageManifest=img.manifest, imageManifestMediaType=DOCKER_MANIFEST, imageTag="v1")
    m = json.loads(img.manifest)
    r = ADMIN.batch_check_layer_availability(repositoryName=name, layerDigests=[layer, config])
    eq([(x["layerDigest"], x.get("mediaType"), x.get("layerSize")) for x in r["layers"]],
       [(layer, m["layers"][0]["mediaType"], len(img.layers[0])), (config, m["config"]["mediaType"], len(img.config))],
       "media types from the manifest")


# ================================================================================================
# Cross-API: images pushed with OCI clients, seen through the ECR API


@case("skopeo push (--dest-creds AWS:pw) → DescribeImages and BatchGetImage agree byte for byte")
def _():
    name = new_repo()
    img = build_image(n_layers=2, layer_size=3000)
    src = os.path.join(TMP, uniq("layout"))
    write_oci_layout(img, src, "s1")
    skopeo("copy", "-q", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", f"AWS:{pw()}",
           f"oci:{src}:s1", f"docker://{HOST}/{name}:s1")
    d = ADMIN.describe_images(repositoryName=name)["imageDetails"]
    eq(len(d), 1)
    eq((d[0]["imageDigest"], d[0].get("imageTags"), d[0]["imageManifestMediaType"], d[0]["imageSizeInBytes"]),
       (img.digest, ["s1"], OCI_MANIFEST, img.image_size), "digest, tags, media type, size")
    raw = skopeo("inspect", "--raw", "--tls-verify=false", "--creds", f"AWS:{pw()}", f"docker://{HOST}/{name}:s1").stdout
    got = ADMIN.batch_get_image(repositoryName=name, imageIds=[{"imageTag": "s1"}])["images"][0]["imageManifest"]
    eq(got, raw, "BatchGetImage manifest vs skopeo inspect --raw")
    eq(got, img.manifest, "BatchGetImage manifest vs pushed bytes")


@case("crane push (auth login -u AWS -p) of a docker tarball → DescribeImages matches crane's view")
def _():
    name = new_repo()
    cfg = os.path.join(TMP, uniq("dockercfg"))
    os.makedirs(cfg)
    crane("auth", "login", HOST, "-u", "AWS", "-p", pw(), docker_config=cfg)
    # crane append builds a real image from a tarball layer, no base image needed
    layer_tar = os.path.join(TMP, uniq("layer") + ".tar")
    with open(layer_tar, "wb") as f:
        f.write(tar_layer(4096, gz=False)[0])
    crane("append", "-f", layer_tar, "-t", f"{HOST}/{name}:c1", docker_config=cfg)
    digest = crane("digest", f"{HOST}/{name}:c1", docker_config=cfg).stdout.strip()
    manifest = crane("manifest", f"{HOST}/{name}:c1", docker_config=cfg).stdout
    m = json.loads(manifest)
    d = ADMIN.describe_images(repositoryName=name)["imageDetails"]
    eq([x["imageDigest"] for x in d], [digest], "digest")
    eq(d[0].get("imageTags"), ["c1"])
    eq(d[0]["imageManifestMediaType"], m["mediaType"])
    eq(d[0]["imageSizeInBytes"], sum(l["size"] for l in m["layers"]) + m["config"]["size"], "imageSizeInBytes")
    got = ADMIN.batch_get_image(repositoryName=name, imageIds=[{"imageDigest": digest}])["images"][0]
    eq(sha(manifest.encode()), digest, "crane manifest output hashes to crane digest")
    eq(got["imageManifest"], manifest, "BatchGetImage manifest bytes vs crane manifest")
    eq(sha(got["imageManifest"].encode()), digest, "BatchGetImage manifest hashes to the digest")
    eq(got["imageId"], {"imageDigest": digest, "imageTag": "c1"})


@case("/v2/ pushes to a missing repository are refused (NAME_UNKNOWN) without a template")
def _():
    name = f"e2e/{uniq('nocreate')}"
    status, _, body = v2("POST", f"/v2/{name}/blobs/uploads/", pw=pw())
    eq(status, 404, f"start upload ({body[:200]!r})")
    contains(body.decode(), "NAME_UNKNOWN")
    expect_error("RepositoryNotFoundException", ADMIN.describe_repositories, repositoryNames=[name])


# ================================================================================================
# Policies


@case("Set/Get/DeleteRepositoryPolicy round trip; absent → RepositoryPolicyNotFoundException")
def _():
    name = new_repo()
    expect_error("RepositoryPolicyNotFoundException", ADMIN.get_repository_policy, repositoryName=name, message=name)
    expect_error("RepositoryPolicyNotFoundException", ADMIN.delete_repository_policy, repositoryName=name)
    pol = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "x", "Effect": "Allow", "Principal": {
        "AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": ["ecr:BatchGetImage"]}]})
    r = ADMIN.set_repository_policy(repositoryName=name, policyText=pol)
    eq((r["registryId"], r["repositoryName"]), (ACCOUNT, name))
    eq(json.loads(r["policyText"]), json.loads(pol))
    eq(json.loads(ADMIN.get_repository_policy(repositoryName=name)["policyText"]), json.loads(pol), "get")
    r = ADMIN.delete_repository_policy(repositoryName=name)
    eq(json.loads(r["policyText"]), json.loads(pol), "delete echoes the policy")
    expect_error("RepositoryPolicyNotFoundException", ADMIN.get_repository_policy, repositoryName=name)
    expect_error("InvalidParameterException", ADMIN.set_repository_policy, repositoryName=name, policyText="{nope")
    expect_error("InvalidParameterException", ADMIN.set_repository_policy, repositoryName=name,
                 policyText=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Principal": "*",
                                                                                 "Action": "ecr:*"}]}))
    expect_error("RepositoryNotFoundException", ADMIN.set_repository_policy, repositoryName=f"e2e/{uniq('gone')}",
                 policyText=pol)


@case("Put/Get/DeleteRegistryPolicy round trip; absent → RegistryPolicyNotFoundException (fresh account)")
def _():
    acct, c = new_account_admin()
    expect_error("RegistryPolicyNotFoundException", c.get_registry_policy)
    expect_error("RegistryPolicyNotFoundException", c.delete_registry_policy)
    pol = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "repl", "Effect": "Allow",
                      "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                      "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
                      "Resource": f"arn:aws:ecr:{REGION}:{acct}:repository/*"}]})
    r = c.put_registry_policy(policyText=pol)
    eq(r["registryId"], acct)
    eq(json.loads(c.get_registry_policy()["policyText"]), json.loads(pol))
    eq(json.loads(c.delete_registry_policy()["policyText"]), json.loads(pol))
    expect_error("RegistryPolicyNotFoundException", c.get_registry_policy)
    expect_error("InvalidParameterException", c.put_registry_policy, policyText="[]")


@case("DescribeRegistry and Get/PutAccountSetting (fresh account)")
def _():
    acct, c = new_account_admin()
    r = c.describe_registry()
    eq(r["registryId"], acct)
    assert "rules" in r["replicationConfiguration"], r
    eq(c.get_account_setting(name="BLOB_MOUNTING")["value"], "ENABLED", "BLOB_MOUNTING default")
    r = c.put_account_setting(name="BLOB_MOUNTING", value="DISABLED")
    eq((r["name"], r["value"]), ("BLOB_MOUNTING", "DISABLED"), "PutAccountSetting echo")
    eq(c.get_account_setting(name="BLOB_MOUNTING")["value"], "DISABLED")
    eq(c.get_account_setting(name="REGISTRY_POLICY_SCOPE")["value"], "V2", "REGISTRY_POLICY_SCOPE default")
    expect_error("InvalidParameterException", LAX.get_account_setting, name="NOT_A_SETTING")
    expect_error("InvalidParameterException", c.put_account_setting, name="BLOB_MOUNTING", value="MAYBE")
    # settings are per account: the default account is unchanged
    eq(ADMIN.get_account_setting(name="BLOB_MOUNTING")["value"], "ENABLED", "default account's setting")


@case("Register/Deregister/ListPullTimeUpdateExclusions: errors, paging, the AWS CLI (fresh account)")
def _():
    acct = new_account()
    key, secret = new_user("boss", FULL_ACCESS, account=acct)
    boss = client(key, secret)
    eq(boss.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"], [], "empty at first")
    arns = sorted(f"arn:aws:iam::{acct}:{kind}/{n}" for kind, n in (("user", "ci"), ("role", "scanner"), ("role", "a/b")))
    for arn in arns:
        r = boss.register_pull_time_update_exclusion(principalArn=arn)
        eq(r["principalArn"], arn)
        assert abs(r["createdAt"].timestamp() - time.time()) < 120, r["createdAt"]
    expect_error("ExclusionAlreadyExistsException", boss.register_pull_time_update_exclusion, principalArn=arns[0])
    expect_error("InvalidParameterException", boss.register_pull_time_update_exclusion, principalArn="not-an-arn",
                 message="principalArn")
    expect_error("InvalidParameterException", LAX.list_pull_time_update_exclusions, maxResults=0, message="maxResults")
    first = boss.list_pull_time_update_exclusions(maxResults=2)
    eq(first["pullTimeUpdateExclusions"], arns[:2], "first page")
    rest = boss.list_pull_time_update_exclusions(maxResults=2, nextToken=first["nextToken"])
    eq(rest["pullTimeUpdateExclusions"], arns[2:], "second page")
    assert "nextToken" not in rest, rest
    expect_error("InvalidParameterException", boss.list_pull_time_update_exclusions, nextToken="!!not-a-token!!")
    # another registry's list is its own
    assert arns[0] not in ADMIN.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"], "default account"
    env = aws_env(key, secret)
    cli = [AWS_CLI, "ecr", "--endpoint-url", ENDPOINT, "--output", "json"]
    out = json.loads(run([*cli[:2], "deregister-pull-time-update-exclusion", "--principal-arn", arns[1], *cli[2:]],
                         env=env).stdout)
    eq(out, {"principalArn": arns[1]}, "aws ecr deregister-pull-time-update-exclusion")
    out = json.loads(run([*cli[:2], "list-pull-time-update-exclusions", *cli[2:]], env=env).stdout)
    eq(out["pullTimeUpdateExclusions"], [arns[0], arns[2]], "aws ecr list-pull-time-update-exclusions")
    expect_error("ExclusionNotFoundException", boss.deregister_pull_time_update_exclusion, principalArn=arns[1])
    # only principals allowed the registry-level actions may use them
    key2, secret2 = new_user("viewer", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ecr:DescribeRepositories", "Resource": "*"}]}, account=acct)
    expect_error("AccessDeniedException", client(key2, secret2).register_pull_time_update_exclusion,
                 principalArn=arns[1])


@case("pulls by an excluded principal (BatchGetImage and /v2/) leave lastRecordedPullTime unchanged")
def _():
    # /v2/ serves the default account's registry, so the puller and the exclusion live there.
    boss = ADMIN
    user = uniq("reader")
    rkey, rsecret = new_user(user, FULL_ACCESS)
    reader = client(rkey, rsecret)
    arn = f"arn:aws:iam::{ACCOUNT}:user/{user}"
    name = new_repo(boss)
    img = push_image(boss, name, tag="v1")
    boss.register_pull_time_update_exclusion(principalArn=arn)

    def last_pull():
        d = boss.describe_images(repositoryName=name, imageIds=[{"imageTag": "v1"}])["imageDetails"][0]
        return d.get("lastRecordedPullTime")

    eq(last_pull(), None, "never pulled")
    got = reader.batch_get_image(repositoryName=name, imageIds=[{"imageTag": "v1"}])["images"]
    eq([g["imageId"]["imageDigest"] for g in got], [img.digest], "the excluded principal still pulls")
    status, _, body = v2("GET", f"/v2/{name}/manifests/v1", pw=password_of(reader), headers={"Accept": ACCEPT_ALL})
    eq((status, body.decode()), (200, img.manifest), "/v2/ pull by the excluded principal")
    time.sleep(1.0)  # /v2/ records pulls off the request path
    eq(last_pull(), None, "excluded pulls are not recorded")
    # once deregistered, its pulls count again
    boss.deregister_pull_time_update_exclusion(principalArn=arn)
    reader.batch_get_image(repositoryName=name, imageIds=[{"imageTag": "v1"}])
    t = last_pull()
    assert t is not None and abs(t.timestamp() - time.time()) < 120, f"lastRecordedPullTime {t}"


# ================================================================================================
# Repository creation templates


@case("Repository creation templates: create, describe, update, delete, errors; CREATE_ON_PUSH applies")
def _():
    prefix = uniq("tpl")
    desc = lambda: {t["prefix"]: t for t in ADMIN.describe_repository_creation_templates()["repositoryCreationTemplates"]}
    r = ADMIN.create_repository_creation_template(
        prefix=prefix, appliedFor=["CREATE_ON_PUSH"], description="e2e",
        imageTagMutability="IMMUTABLE", resourceTags=[{"Key": "made-by", "Value": "template"}])
    eq(r["registryId"], ACCOUNT)
    t = r["repositoryCreationTemplate"]
    eq((t["prefix"], t["appliedFor"], t["description"], t["imageTagMutability"]),
       (prefix, ["CREATE_ON_PUSH"], "e2e", "IMMUTABLE"))
    assert prefix in desc(), "template not described"
    eq([x["prefix"] for x in ADMIN.describe_repository_creation_templates(prefixes=[prefix])["repositoryCreationTemplates"]],
       [prefix], "describe by prefix")
    expect_error("TemplateAlreadyExistsException", ADMIN.create_repository_creation_template, prefix=prefix,
                 appliedFor=["CREATE_ON_PUSH"])
    expect_error("InvalidParameterException", ADMIN.create_repository_creation_template, prefix="Bad_Prefix",
                 appliedFor=["CREATE_ON_PUSH"], message="prefix")
    # a /v2/ push under the prefix creates the repository with the template's settings
    name = f"{prefix}/app"
    img = build_image()
    src = os.path.join(TMP, uniq("layout"))
    write_oci_layout(img, src, "v1")
    skopeo("copy", "-q", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", f"AWS:{pw()}",
           f"oci:{src}:v1", f"docker://{HOST}/{name}:v1")
    repo = ADMIN.describe_repositories(repositoryNames=[name])["repositories"][0]
    eq(repo["imageTagMutability"], "IMMUTABLE", "created repository's mutability")
    tags = ADMIN.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]
    eq([(x["Key"], x["Value"]) for x in tags], [("made-by", "template")], "created repository's tags")
    r = ADMIN.update_repository_creation_template(prefix=prefix, description="updated")
    eq(r["repositoryCreationTemplate"]["description"], "updated")
    eq(r["repositoryCreationTemplate"]["imageTagMutability"], "IMMUTABLE", "unchanged fields survive an update")
    expect_error("TemplateNotFoundException", ADMIN.update_repository_creation_template, prefix=uniq("none"), description="x")
    r = ADMIN.delete_repository_creation_template(prefix=prefix)
    eq(r["repositoryCreationTemplate"]["prefix"], prefix)
    expect_error("TemplateNotFoundException", ADMIN.delete_repository_creation_template, prefix=prefix)
    assert prefix not in desc(), "deleted template still described"
    status, _, body = v2("POST", f"/v2/{prefix}/other/blobs/uploads/", pw=pw())
    eq(status, 404, f"push after the template is gone ({body[:200]!r})")


@case("DescribeRepositoryCreationTemplates paginator (fresh account)")
def _():
    _, c = new_account_admin()
    prefixes = sorted(uniq("pt") for _ in range(3))
    for p in prefixes:
        c.create_repository_creation_template(prefix=p, appliedFor=["CREATE_ON_PUSH"])
    pages = list(c.get_paginator("describe_repository_creation_templates").paginate(PaginationConfig={"PageSize": 2}))
    eq([len(p["repositoryCreationTemplates"]) for p in pages], [2, 1], "page sizes")
    eq(sorted(t["prefix"] for p in pages for t in p["repositoryCreationTemplates"]), prefixes)


# ================================================================================================
# IAM: identity policies, repository policies, cross-account, anonymous, revoked tokens


@case("pull-only user: pulls its repository; push → 403 denied; CreateRepository → AccessDenied")
def _():
    allowed = new_repo()
    other = new_repo()
    img = push_image(ADMIN, allowed, tag="v1")
    push_image(ADMIN, other, tag="v1")
    key, secret = new_user(uniq("puller"), pull_policy(allowed))
    c = client(key, secret)
    upw = password_of(c)
    eq(crane("digest", f"{HOST}/{allowed}:v1", pw=upw).stdout.strip(), img.digest, "crane digest as puller")
    out = os.path.join(TMP, uniq("pull"))
    crane("pull", "--format", "oci", f"{HOST}/{allowed}:v1", out, pw=upw)
    status, _, body = v2("POST", f"/v2/{allowed}/blobs/uploads/", pw=upw)
    eq(status, 403, f"push as puller ({body[:200]!r})")
    contains(body.decode(), "DENIED")
    p = crane("copy", f"{HOST}/{allowed}:v1", f"{HOST}/{allowed}:v2", pw=upw, check=False)
    assert p.returncode != 0 and re.search(r"denied|DENIED|403", p.stderr), f"crane push as puller: {p.stderr[-400:]}"
    status, _, _ = v2("GET", f"/v2/{other}/manifests/v1", pw=upw, headers={"Accept": ACCEPT_ALL})
    eq(status, 403, "pull of a repository the policy does not name")
    e = expect_error("AccessDeniedException", c.create_repository, repositoryName=f"e2e/{uniq('nope')}",
                     message=["ecr:CreateRepository"])
    eq(e["ResponseMetadata"]["HTTPStatusCode"], 400, "AccessDenied HTTP status")
    expect_error("AccessDeniedException", c.put_image, repositoryName=allowed, imageManifest=img.manifest, imageTag="x")
    expect_error("AccessDeniedException", c.delete_repository, repositoryName=allowed, force=True)
    r = c.batch_get_image(repositoryName=allowed, imageIds=[{"imageTag": "v1"}])
    eq(r["images"][0]["imageManifest"], img.manifest, "BatchGetImage as puller")
    expect_error("AccessDeniedException", c.batch_get_image, repositoryName=other, imageIds=[{"imageTag": "v1"}])


@case("repository policy with an explicit Deny blocks the user's pull; removing it restores it")
def _():
    name = new_repo()
    push_image(ADMIN, name, tag="v1")
    user = uniq("denied")
    key, secret = new_user(user, pull_policy(name))
    upw = password_of(client(key, secret))
    eq(v2("GET", f"/v2/{name}/manifests/v1", pw=upw, headers={"Accept": ACCEPT_ALL})[0], 200, "pull before the Deny")
    ADMIN.set_repository_policy(repositoryName=name, policyText=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "deny", "Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/{user}"},
                       "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]}))
    status, _, body = v2("GET", f"/v2/{name}/manifests/v1", pw=upw, headers={"Accept": ACCEPT_ALL})
    eq(status, 403, f"pull with the Deny ({body[:200]!r})")
    expect_error("AccessDeniedException", client(key, secret).batch_get_image, repositoryName=name,
                 imageIds=[{"imageTag": "v1"}])
    # the administrator is not named by the Deny and still pulls
    eq(v2("GET", f"/v2/{name}/manifests/v1", pw=pw(), headers={"Accept": ACCEPT_ALL})[0], 200, "admin pull")
    ADMIN.delete_repository_policy(repositoryName=name)
    eq(v2("GET", f"/v2/{name}/manifests/v1", pw=upw, headers={"Accept": ACCEPT_ALL})[0], 200, "pull after removal")


@case("cross-account pull: needs account A's repository policy; registryId selects A's registry")
def _():
    name = new_repo()
    img = push_image(ADMIN, name, tag="v1")
    acct_b = new_account()
    user_b = uniq("xpuller")
    key, secret = new_user(user_b, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                                       "ecr:BatchCheckLayerAvailability", "ecr:DescribeImages"], "Resource": "*"}]},
        account=acct_b)
    b = client(key, secret)
    bpw = password_of(b)
    expect_error("AccessDeniedException", b.batch_get_image, registryId=ACCOUNT, repositoryName=name,
                 imageIds=[{"imageTag": "v1"}])
    eq(v2("GET", f"/v2/{name}/manifests/v1", pw=bpw, headers={"Accept": ACCEPT_ALL})[0], 403,
       "B's /v2/ pull of A's image without A's policy")
    ADMIN.set_repository_policy(repositoryName=name, policyText=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "b", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct_b}:user/{user_b}"},
                       "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]}]}))
    r = b.batch_get_image(registryId=ACCOUNT, repositoryName=name, imageIds=[{"imageTag": "v1"}])
    eq(r["images"][0]["imageManifest"], img.manifest, "B's BatchGetImage(registryId=A)")
    eq(r["images"][0]["registryId"], ACCOUNT)
    # without registryId the request is for B's own registry, which has no such repository
    expect_error("RepositoryNotFoundException", b.describe_images, repositoryName=name, message=acct_b)
    # A's policy grants pulls only, not DescribeImages (B's identity allows it: both sides are needed)
    expect_error("AccessDeniedException", b.describe_images, registryId=ACCOUNT, repositoryName=name)
    # /v2/ with no registry_domain serves the default account (A), so B's token pulls there
    status, _, body = v2("GET", f"/v2/{name}/manifests/v1", pw=bpw, headers={"Accept": ACCEPT_ALL})
    eq((status, body.decode(errors="replace")), (200, img.manifest), "B's /v2/ pull of A's image")
    crane("pull", "--format", "oci", f"{HOST}/{name}:v1", os.path.join(TMP, uniq("xpull")), pw=bpw)
    # writes across accounts need B's resource policy too: A's administrator cannot create in B
    expect_error("AccessDeniedException", ADMIN.create_repository, registryId=acct_b, repositoryName=f"e2e/{uniq('x')}")


@case("anonymous pull: 401 before, 200 after a Principal '*' repository policy; push stays 401")
def _():
    name = new_repo()
    img = push_image(ADMIN, name, tag="v1")
    status, h, _ = v2("GET", f"/v2/{name}/manifests/v1", headers={"Accept": ACCEPT_ALL})
    eq(status, 401, "anonymous manifest GET before the policy")
    contains(h.get("www-authenticate", ""), "Basic", "challenge")
    ADMIN.set_repository_policy(repositoryName=name, policyText=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "public", "Effect": "Allow", "Principal": "*",
                       "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]}))
    status, _, body = v2("GET", f"/v2/{name}/manifests/v1", headers={"Accept": ACCEPT_ALL})
    eq((status, body.decode(errors="replace")), (200, img.manifest), "anonymous manifest GET")
    layer = sha(img.layers[0])
    status, _, body = v2("GET", f"/v2/{name}/blobs/{layer}")
    eq((status, body == img.layers[0]), (200, True), "anonymous blob GET")
    run(["curl", "-fsS", "-o", "/dev/null", f"{ENDPOINT}/v2/{name}/manifests/v1", "-H", f"Accept: {ACCEPT_ALL}"])
    eq(v2("POST", f"/v2/{name}/blobs/uploads/")[0], 401, "anonymous push")
    eq(v2("GET", f"/v2/{new_repo()}/tags/list")[0], 401, "another repository stays private")
    out = os.path.join(TMP, uniq("anon"))
    crane("pull", "--format", "oci", f"{HOST}/{name}:v1", out)  # no credentials at all
    eq(json.load(open(os.path.join(out, "index.json")))["manifests"][0]["digest"], img.digest, "crane anonymous pull")


@case("anonymous pull with skopeo --no-creds (it answers the Basic challenge with empty credentials, 'Og==')")
def _():
    name = new_repo()
    img = push_image(ADMIN, name, tag="v1")
    ADMIN.set_repository_policy(repositoryName=name, policyText=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]}))
    p = skopeo("inspect", "--raw", "--tls-verify=false", "--no-creds", f"docker://{HOST}/{name}:v1")
    eq(p.stdout, img.manifest, "skopeo --no-creds")


@case("/v2/ refuses garbage, tampered and wrong-user tokens with 401")
def _():
    name = new_repo()
    push_image(ADMIN, name, tag="v1")
    good = pw()
    last = good[-1]
    tampered = good[:-1] + ("A" if last != "A" else "B")
    mid = len(good) // 2
    tampered_mid = good[:mid] + ("x" if good[mid] != "x" else "y") + good[mid + 1:]
    for label, p, user in (("garbage", "garbage", "AWS"), ("tampered tail", tampered, "AWS"),
                           ("tampered body", tampered_mid, "AWS"), ("user not AWS", good, "admin"),
                           ("empty", "", "AWS")):
        status, h, _ = v2("GET", f"/v2/{name}/manifests/v1", pw=p, user=user, headers={"Accept": ACCEPT_ALL})
        eq(status, 401, label)
        contains(h.get("www-authenticate", ""), "Basic", f"{label}: challenge")
    eq(http("GET", "/v2/", headers={"Authorization": "Bearer " + good})[0], 401, "Bearer scheme")


@case("deactivated access key: its tokens get 401 and its SigV4 calls UnrecognizedClient; reactivation restores")
def _():
    name = new_repo()
    push_image(ADMIN, name, tag="v1")
    user = uniq("revoked")
    key, secret = new_user(user, pull_policy(name))
    c = client(key, secret)
    upw = password_of(c)
    eq(v2("GET", f"/v2/{name}/manifests/v1", pw=upw, headers={"Accept": ACCEPT_ALL})[0], 200, "before deactivation")
    admin("deactivate-access-key", key)
    # One embedded server trusts a looked-up key for 5 s (KEY_CACHE_TTL) when another process
    # (`wharf admin`) changes it; over PostgreSQL the cache epoch flushes it on the next request.
    settle = lambda: time.sleep(0 if os.environ.get("E2E_REGISTRY") == "wharf-cluster" else 5.5)  # noqa: E731
    settle()
    eq(v2("GET", f"/v2/{name}/manifests/v1", pw=upw, headers={"Accept": ACCEPT_ALL})[0], 401, "token after deactivation")
    expect_error("UnrecognizedClientException", c.get_authorization_token)
    admin("activate-access-key", key)
    settle()
    eq(v2("GET", f"/v2/{name}/manifests/v1", pw=upw, headers={"Accept": ACCEPT_ALL})[0], 200, "after reactivation")
    admin("delete-access-key", key)
    settle()
    eq(v2("GET", f"/v2/{name}/manifests/v1", pw=upw, headers={"Accept": ACCEPT_ALL})[0], 401, "after deletion")
    expect_error("UnrecognizedClientException", c.describe_repositories)


@case("identity policy scoping DescribeRepositories / catalog to one prefix")
def _():
    mine = new_repo(prefix="scoped")
    new_repo(prefix="e2e")
    key, secret = new_user(uniq("lister"), {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ecr:DescribeRepositories",
         "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/scoped/*"},
        {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}]})
    c = client(key, secret)
    names = [r["repositoryName"] for r in c.describe_repositories()["repositories"]]
    assert mine in names, f"{mine} not listed: {names[:10]}"
    assert all(n.startswith("scoped/") for n in names), f"listed outside scoped/: {[n for n in names if not n.startswith('scoped/')][:5]}"
    status, _, body = v2("GET", "/v2/_catalog?n=1000", pw=password_of(c))
    eq(status, 200)
    repos = json.loads(body)["repositories"]
    assert mine in repos and all(r.startswith("scoped/") for r in repos), f"catalog {repos[:10]}"


@case("Put/Get/DeleteSigningConfiguration, DescribeImageSigningStatus: signed on push, errors, the AWS CLI (fresh account)")
def _():
    acct = new_account()
    key, secret = new_user("boss", FULL_ACCESS, account=acct)
    boss = client(key, secret)
    name = uniq("key").replace("-", "_")
    arn = admin("create-signing-profile", name, "--account", acct).strip()
    eq(arn, f"arn:aws:signer:{REGION}:{acct}:/signing-profiles/{name}", "profile ARN")
    assert "BEGIN PUBLIC KEY" in admin("signing-public-key", name, "--account", acct)
    expect_error("SigningConfigurationNotFoundException", boss.get_signing_configuration)
    expect_error("SigningConfigurationNotFoundException", boss.delete_signing_configuration)
    # Another account's profile, an unknown one, or not an ARN at all is refused.
    for bad in (arn.replace(acct, ACCOUNT), arn + "_x"):
        expect_error("InvalidParameterException", boss.put_signing_configuration,
                     signingConfiguration={"rules": [{"signingProfileArn": bad}]}, message="does not exist")
    expect_error("InvalidParameterException", LAX.put_signing_configuration,
                 signingConfiguration={"rules": [{"signingProfileArn": "arn:aws:ecr:x"}]})
    config = {"rules": [{"signingProfileArn": arn,
                         "repositoryFilters": [{"filter": "signed/*", "filterType": "WILDCARD_MATCH"}]}]}
    eq(boss.put_signing_configuration(signingConfiguration=config)["signingConfiguration"], config, "put echoes")
    got = boss.get_signing_configuration()
    eq((got["registryId"], got["signingConfiguration"]), (acct, config), "get")

    signed = f"signed/{uniq('r')}"
    plain = f"plain/{uniq('r')}"
    for r in (signed, plain):
        boss.create_repository(repositoryName=r)
    img = push_image(boss, signed, tag="v1")
    push_image(boss, plain, tag="v1", image=img)
    deadline = time.time() + 60
    while True:
        st = boss.describe_image_signing_status(repositoryName=signed, imageId={"imageTag": "v1"})
        statuses = st["signingStatuses"]
        if statuses and statuses[0]["status"] != "IN_PROGRESS" or time.time() > deadline:
            break
        time.sleep(0.3)
    eq([(s["signingProfileArn"], s["status"]) for s in statuses], [(arn, "COMPLETE")], "signing status")
    eq((st["repositoryName"], st["registryId"], st["imageId"]["imageDigest"]), (signed, acct, img.digest), "ids")
    eq(boss.describe_image_signing_status(repositoryName=plain, imageId={"imageDigest": img.digest})["signingStatuses"],
       [], "outside the filter")
    expect_error("ImageNotFoundException", boss.describe_image_signing_status, repositoryName=signed,
                 imageId={"imageTag": "nope"})
    expect_error("RepositoryNotFoundException", boss.describe_image_signing_status, repositoryName="signed/none",
                 imageId={"imageTag": "v1"})
    # The signature: a cosign simple-signing manifest under sha256-<hex>.sig, referring to the image.
    sig_tag = img.digest.replace(":", "-") + ".sig"
    got = boss.batch_get_image(repositoryName=signed, imageIds=[{"imageTag": sig_tag}])["images"]
    eq(len(got), 1, "the .sig tag")
    m = json.loads(got[0]["imageManifest"])
    eq(m["subject"]["digest"], img.digest, "subject")
    layer = m["layers"][0]
    eq(layer["mediaType"], "application/vnd.dev.cosign.simplesigning.v1+json", "payload media type")
    assert layer["annotations"]["dev.cosignproject.cosign/signature"], layer
    refs = boss.list_image_referrers(repositoryName=signed, subjectId={"imageDigest": img.digest})["referrers"]
    eq([r["digest"] for r in refs], [got[0]["imageId"]["imageDigest"]], "referrer")
    # The signature itself is not signed.
    sig_status = boss.describe_image_signing_status(repositoryName=signed, imageId={"imageTag": sig_tag})
    eq(sig_status["signingStatuses"], [], "the signature is not signed again")

    env = aws_env(key, secret)
    cli = [AWS_CLI, "ecr", "--endpoint-url", ENDPOINT, "--output", "json"]
    out = json.loads(run([*cli[:2], "describe-image-signing-status", "--repository-name", signed,
                          "--image-id", "imageTag=v1", *cli[2:]], env=env).stdout)
    eq(out["signingStatuses"][0]["status"], "COMPLETE", "aws ecr describe-image-signing-status")
    out = json.loads(run([*cli[:2], "delete-signing-configuration", *cli[2:]], env=env).stdout)
    eq(out["signingConfiguration"], config, "aws ecr delete-signing-configuration")
    expect_error("SigningConfigurationNotFoundException", boss.get_signing_configuration)
    # Only principals allowed the registry-level actions may use them.
    key2, secret2 = new_user("viewer", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ecr:DescribeRepositories", "Resource": "*"}]}, account=acct)
    expect_error("AccessDeniedException", client(key2, secret2).put_signing_configuration, signingConfiguration=config)


if __name__ == "__main__":
    sys.exit(run_cases())
