#!/usr/bin/env python3
"""tests/e2e/ecr_public_api.py — Amazon ECR Public end to end against one running `wharf serve`:
every one of the 23 operations of botocore's `ecr-public/2020-10-30` model through boto3
(`SpencerFrontendService.*`, SigV4 signing name `ecr-public`) with their error paths, the AWS CLI's
`aws ecr-public get-login-password` feeding `crane auth login` and a crane push to
`HOST/<alias>/<name>`, anonymous pulls of public repositories by crane and skopeo with no
credentials, and the refusals: a private repository is not anonymously pullable, not reachable
through ECR Public, and anonymous pushes are refused.

Run by tests/e2e/ecr.sh after ecr_api.py (same environment, see tests/e2e/ecr/harness.py);
ECR_CASES=REGEX runs a subset (every name here starts with `public`).
"""

import base64
import json
import os
import struct
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import boto3  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

from ecr.harness import (  # noqa: E402
    ACCEPT_ALL,
    AWS_CLI,
    DATA_DIR,
    ENDPOINT,
    HOST,
    REGION,
    TMP,
    WHARF_BIN,
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
    new_user,
    push_image,
    run,
    run_cases,
    sha,
    skopeo,
    uniq,
    upload_blob,
    v2,
    write_oci_layout,
)

KEY, SECRET = admin_keys()
ACCOUNT = default_account()
ALIAS = f"wharf-{ACCOUNT}"


def pub_client(key=KEY, secret=SECRET, validate=True):
    cfg = Config(
        retries={"max_attempts": 1, "mode": "standard"},
        connect_timeout=10,
        read_timeout=60,
        parameter_validation=validate,
    )
    return boto3.session.Session().client(
        "ecr-public",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=cfg,
    )


PUB = pub_client()
LAX = pub_client(validate=False)  # no client-side validation: bad values reach the server
ECR = client(KEY, SECRET)


def png(width=1, height=1):
    """A tiny valid PNG."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def new_repo(**kw):
    name = uniq("pub")
    PUB.create_repository(repositoryName=name, **kw)
    return name


def arn(name, account=ACCOUNT):
    return f"arn:aws:ecr-public::{account}:repository/{name}"


def raw_public(target, body, key=KEY, secret=SECRET, service="ecr-public"):
    """A SigV4-signed POST (botocore's signer) with any target and signing name."""
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target}
    req = AWSRequest(method="POST", url=ENDPOINT + "/", data=body, headers=headers)
    SigV4Auth(Credentials(key, secret), service, REGION).add_auth(req)
    status, _, data = http("POST", "/", headers=dict(req.headers.items()), body=body)
    return status, json.loads(data or b"{}")


# ------------------------------------------------------------------------------------------------
# Registry


@case("public DescribeRegistries: the account's registry with its default alias")
def _():
    regs = PUB.describe_registries()["registries"]
    eq(len(regs), 1, "registries")
    r = regs[0]
    eq(r["registryId"], ACCOUNT, "registryId")
    eq(r["aliases"][0]["name"], ALIAS, "alias")
    eq(r["aliases"][0]["status"], "ACTIVE", "alias status")
    eq(r["aliases"][0]["defaultRegistryAlias"], True, "defaultRegistryAlias")
    eq(r["registryUri"], f"{HOST}/{ALIAS}", "registryUri")
    contains(r["registryArn"], f"arn:aws:ecr-public::{ACCOUNT}:registry/", "registryArn")
    expect_error("InvalidParameterException", LAX.describe_registries, maxResults=0)


@case("public Get/PutRegistryCatalogData: display name and logo")
def _():
    before = PUB.get_registry_catalog_data()["registryCatalogData"]
    assert "displayName" in before, before
    out = PUB.put_registry_catalog_data(displayName="Wharf e2e")["registryCatalogData"]
    eq(out["displayName"], "Wharf e2e", "displayName")
    # The pinned botocore's PutRegistryCatalogData has only displayName; newer models add
    # description and logoImageBlob, sent here as raw JSON.
    logo = png(2, 2)
    status, body = raw_public("SpencerFrontendService.PutRegistryCatalogData", json.dumps(
        {"description": "registry", "logoImageBlob": base64.b64encode(logo).decode()}).encode())
    eq((status, body["registryCatalogData"]["displayName"]), (200, "Wharf e2e"), "displayName kept")
    got = PUB.get_registry_catalog_data()["registryCatalogData"]
    eq(got["displayName"], "Wharf e2e", "displayName after get")
    got = raw_public("SpencerFrontendService.GetRegistryCatalogData", b"{}")[1]["registryCatalogData"]
    eq(got.get("description"), "registry", "description")
    status, h, body = http("GET", got["logoUrl"])
    eq((status, h.get("content-type"), body), (200, "image/png", logo), "registry logo served without credentials")
    # Leaving the logo out keeps it.
    PUB.put_registry_catalog_data(displayName="Wharf e2e 2")
    eq(raw_public("SpencerFrontendService.GetRegistryCatalogData", b"{}")[1]["registryCatalogData"].get("logoUrl"),
       got["logoUrl"], "logo kept")
    expect_error("InvalidParameterException", LAX.put_registry_catalog_data, displayName="x" * 101)


# ------------------------------------------------------------------------------------------------
# Repositories


@case("public CreateRepository with catalog data and tags; duplicates and bad names refused")
def _():
    name = uniq("pub")
    logo = png()
    out = PUB.create_repository(
        repositoryName=name,
        catalogData={
            "description": "a public e2e repository",
            "aboutText": "# About",
            "usageText": "docker pull it",
            "architectures": ["x86-64", "ARM 64"],
            "operatingSystems": ["Linux"],
            "logoImageBlob": logo,
        },
        tags=[{"Key": "team", "Value": "e2e"}],
    )
    repo = out["repository"]
    eq(repo["repositoryName"], name, "repositoryName")
    eq(repo["registryId"], ACCOUNT, "registryId")
    eq(repo["repositoryArn"], arn(name), "repositoryArn")
    eq(repo["repositoryUri"], f"{HOST}/{ALIAS}/{name}", "repositoryUri")
    cat = out["catalogData"]
    eq(cat["description"], "a public e2e repository", "description")
    eq(cat["architectures"], ["x86-64", "ARM 64"], "architectures")
    eq(cat["operatingSystems"], ["Linux"], "operatingSystems")
    status, h, body = http("GET", cat["logoUrl"])
    eq((status, h.get("content-type"), body), (200, "image/png", logo), "repository logo at logoUrl")
    eq(PUB.list_tags_for_resource(resourceArn=arn(name))["tags"], [{"Key": "team", "Value": "e2e"}], "tags")
    expect_error("RepositoryAlreadyExistsException", PUB.create_repository, repositoryName=name, message=name)
    expect_error("InvalidParameterException", LAX.create_repository, repositoryName="Bad_Name!")
    expect_error("InvalidParameterException", LAX.create_repository, repositoryName="a")
    expect_error("InvalidParameterException", LAX.create_repository, repositoryName=uniq("pub"),
                 catalogData={"logoImageBlob": b"GIF89a not a png"})
    expect_error("InvalidParameterException", LAX.create_repository, repositoryName=uniq("pub"),
                 catalogData={"description": "x" * 1025})
    expect_error("InvalidTagParameterException", LAX.create_repository, repositoryName=uniq("pub"),
                 tags=[{"Key": "aws:reserved", "Value": "v"}])


@case("public DescribeRepositories: public repositories only, by name or paged")
def _():
    names = sorted(new_repo() for _ in range(3))
    private = uniq("priv")
    ECR.create_repository(repositoryName=private)
    listed = []
    for page in PUB.get_paginator("describe_repositories").paginate(PaginationConfig={"PageSize": 2}):
        assert len(page["repositories"]) <= 2, page
        listed += [r["repositoryName"] for r in page["repositories"]]
    for n in names:
        contains(listed, n, "paged listing")
    assert private not in listed, f"the private repository {private} is listed by ECR Public"
    got = PUB.describe_repositories(repositoryNames=names[:2])["repositories"]
    eq([r["repositoryName"] for r in got], names[:2], "by name")
    expect_error("RepositoryNotFoundException", PUB.describe_repositories, repositoryNames=[uniq("nope")])
    expect_error("RepositoryNotFoundException", PUB.describe_repositories, repositoryNames=[private])
    expect_error("InvalidParameterException", LAX.describe_repositories, repositoryNames=[names[0]], maxResults=5)
    expect_error("InvalidParameterException", LAX.describe_repositories, maxResults=1001)
    expect_error("InvalidParameterException", LAX.describe_repositories, registryId="not-an-account")


@case("public DeleteRepository: not found, not empty, force")
def _():
    name = new_repo()
    push_image(PUB, name, tag="v1")
    expect_error("RepositoryNotEmptyException", PUB.delete_repository, repositoryName=name)
    out = PUB.delete_repository(repositoryName=name, force=True)["repository"]
    eq(out["repositoryName"], name, "deleted")
    expect_error("RepositoryNotFoundException", PUB.delete_repository, repositoryName=name)
    empty = new_repo()
    PUB.delete_repository(repositoryName=empty)
    expect_error("RepositoryNotFoundException", PUB.describe_repositories, repositoryNames=[empty])
    # A private repository is not ECR Public's to delete.
    private = uniq("priv")
    ECR.create_repository(repositoryName=private)
    expect_error("RepositoryNotFoundException", PUB.delete_repository, repositoryName=private)
    ECR.describe_repositories(repositoryNames=[private])


@case("public Get/PutRepositoryCatalogData: merge, logo, not found")
def _():
    name = new_repo(catalogData={"description": "first"})
    eq(PUB.get_repository_catalog_data(repositoryName=name)["catalogData"]["description"], "first", "created")
    logo = png(3, 1)
    out = PUB.put_repository_catalog_data(
        repositoryName=name, catalogData={"aboutText": "about", "logoImageBlob": logo}
    )["catalogData"]
    eq((out["description"], out["aboutText"]), ("first", "about"), "fields not given are kept")
    got = PUB.get_repository_catalog_data(repositoryName=name)["catalogData"]
    eq(got["aboutText"], "about", "aboutText")
    eq(http("GET", got["logoUrl"])[2], logo, "logo bytes")
    PUB.put_repository_catalog_data(repositoryName=name, catalogData={"usageText": "use"})
    eq(PUB.get_repository_catalog_data(repositoryName=name)["catalogData"]["logoUrl"], got["logoUrl"], "logo kept")
    expect_error("RepositoryNotFoundException", PUB.get_repository_catalog_data, repositoryName=uniq("nope"))
    expect_error("RepositoryNotFoundException", PUB.put_repository_catalog_data, repositoryName=uniq("nope"),
                 catalogData={"description": "d"})
    expect_error("InvalidParameterException", LAX.put_repository_catalog_data, repositoryName=name,
                 catalogData={"architectures": ["x"] * 51})
    eq(http("GET", "/ecr-public/logos/" + "0" * 64)[0], 404, "unknown logo")


@case("public Tag/UntagResource and ListTagsForResource on ecr-public ARNs")
def _():
    name = new_repo()
    PUB.tag_resource(resourceArn=arn(name), tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    eq(sorted(t["Key"] for t in PUB.list_tags_for_resource(resourceArn=arn(name))["tags"]), ["a", "b"], "tagged")
    PUB.untag_resource(resourceArn=arn(name), tagKeys=["a"])
    eq(PUB.list_tags_for_resource(resourceArn=arn(name))["tags"], [{"Key": "b", "Value": "2"}], "untagged")
    expect_error("RepositoryNotFoundException", PUB.list_tags_for_resource, resourceArn=arn(uniq("nope")))
    expect_error("InvalidParameterException", PUB.list_tags_for_resource,
                 resourceArn=f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/{name}")
    expect_error("InvalidParameterException", PUB.tag_resource, resourceArn="not-an-arn", tags=[{"Key": "k", "Value": "v"}])
    expect_error("InvalidTagParameterException", PUB.tag_resource, resourceArn=arn(name),
                 tags=[{"Key": "aws:x", "Value": "v"}])
    expect_error("TooManyTagsException", PUB.tag_resource, resourceArn=arn(name),
                 tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])


@case("public Set/Get/DeleteRepositoryPolicy")
def _():
    name = new_repo()
    expect_error("RepositoryPolicyNotFoundException", PUB.get_repository_policy, repositoryName=name)
    policy = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "push", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                       "Action": ["ecr-public:PutImage"]}],
    })
    out = PUB.set_repository_policy(repositoryName=name, policyText=policy)
    eq((out["repositoryName"], json.loads(out["policyText"])), (name, json.loads(policy)), "set")
    eq(json.loads(PUB.get_repository_policy(repositoryName=name)["policyText"]), json.loads(policy), "get")
    eq(json.loads(PUB.delete_repository_policy(repositoryName=name)["policyText"]), json.loads(policy), "delete")
    expect_error("RepositoryPolicyNotFoundException", PUB.delete_repository_policy, repositoryName=name)
    expect_error("InvalidParameterException", PUB.set_repository_policy, repositoryName=name, policyText="{nope")
    expect_error("RepositoryNotFoundException", PUB.get_repository_policy, repositoryName=uniq("nope"))


# ------------------------------------------------------------------------------------------------
# Layers and images


@case("public layer upload: BatchCheckLayerAvailability, Initiate/Upload/CompleteLayerUpload")
def _():
    name = new_repo()
    img = build_image(layer_size=4096)
    layer = img.layers[0]
    avail = PUB.batch_check_layer_availability(repositoryName=name, layerDigests=[sha(layer)])
    eq(avail["layers"][0]["layerAvailability"], "UNAVAILABLE", "before the upload")
    eq(avail["failures"], [], "no failures for a well-formed digest")
    up = PUB.initiate_layer_upload(repositoryName=name)
    assert up["uploadId"] and up["partSize"] > 0, up
    PUB.upload_layer_part(repositoryName=name, uploadId=up["uploadId"], partFirstByte=0,
                          partLastByte=len(layer) - 1, layerPartBlob=layer)
    done = PUB.complete_layer_upload(repositoryName=name, uploadId=up["uploadId"], layerDigests=[sha(layer)])
    eq(done["layerDigest"], sha(layer), "completed digest")
    avail = PUB.batch_check_layer_availability(repositoryName=name, layerDigests=[sha(layer)])["layers"]
    eq(avail[0]["layerAvailability"], "AVAILABLE", "available after upload")
    expect_error("UploadNotFoundException", PUB.upload_layer_part, repositoryName=name, uploadId="0" * 36,
                 partFirstByte=0, partLastByte=0, layerPartBlob=b"x")
    expect_error("RepositoryNotFoundException", PUB.initiate_layer_upload, repositoryName=uniq("nope"))
    private = uniq("priv")
    ECR.create_repository(repositoryName=private)
    expect_error("RepositoryNotFoundException", PUB.initiate_layer_upload, repositoryName=private)
    expect_error("RepositoryNotFoundException", PUB.batch_check_layer_availability, repositoryName=private,
                 layerDigests=[sha(layer)])


@case("public PutImage, DescribeImages, DescribeImageTags (paged), BatchDeleteImage")
def _():
    name = new_repo()
    img = push_image(PUB, name, tag="one")
    for t in ("two", "three"):
        PUB.put_image(repositoryName=name, imageManifest=img.manifest, imageManifestMediaType=img.media_type, imageTag=t)
    details = PUB.describe_images(repositoryName=name)["imageDetails"]
    eq(len(details), 1, "one image")
    eq(sorted(details[0]["imageTags"]), ["one", "three", "two"], "imageTags")
    eq(details[0]["imageDigest"], img.digest, "imageDigest")
    eq(details[0]["imageSizeInBytes"], img.image_size, "imageSizeInBytes")
    by_id = PUB.describe_images(repositoryName=name, imageIds=[{"imageTag": "two"}])["imageDetails"]
    eq(by_id[0]["imageDigest"], img.digest, "by tag")
    expect_error("ImageNotFoundException", PUB.describe_images, repositoryName=name, imageIds=[{"imageTag": "nope"}])
    tags = []
    for page in PUB.get_paginator("describe_image_tags").paginate(repositoryName=name, PaginationConfig={"PageSize": 1}):
        assert len(page["imageTagDetails"]) <= 1, page
        tags += page["imageTagDetails"]
    eq([t["imageTag"] for t in tags], ["one", "three", "two"], "every tag, in order, one per page")
    eq(tags[0]["imageDetail"]["imageDigest"], img.digest, "imageDetail digest")
    eq(tags[0]["imageDetail"]["imageSizeInBytes"], img.image_size, "imageDetail size")
    expect_error("ImageDigestDoesNotMatchException", PUB.put_image, repositoryName=name, imageManifest=img.manifest,
                 imageDigest="sha256:" + "0" * 64)
    missing = build_image()
    expect_error("LayersNotFoundException", PUB.put_image, repositoryName=name, imageManifest=missing.manifest)
    out = PUB.batch_delete_image(repositoryName=name, imageIds=[{"imageTag": "two"}, {"imageTag": "nope"}])
    eq([i.get("imageTag") for i in out["imageIds"]], ["two"], "deleted tag")
    eq(out["failures"][0]["failureCode"], "ImageNotFound", "failure for a missing tag")
    expect_error("RepositoryNotFoundException", PUB.describe_image_tags, repositoryName=uniq("nope"))
    expect_error("InvalidParameterException", LAX.describe_image_tags, repositoryName=name, maxResults=0)
    expect_error("RepositoryNotFoundException", PUB.describe_images, repositoryName=uniq("nope"))


# ------------------------------------------------------------------------------------------------
# Authentication, protocol errors


@case("public GetAuthorizationToken: ECR Public's shape; the token logs in to /v2/")
def _():
    data = PUB.get_authorization_token()["authorizationData"]
    assert isinstance(data, dict), f"authorizationData is one object, got {data!r}"
    user, pw = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
    eq(user, "AWS", "token user")
    assert data["expiresAt"].timestamp() > 0, data
    eq(v2("GET", "/v2/", pw=pw)[0], 200, "GET /v2/ with the token")


@case("public protocol: unknown and unsupported operations, wrong signing name, no signature")
def _():
    status, body = raw_public("SpencerFrontendService.NoSuchOperation", b"{}")
    eq((status, body.get("__type")), (400, "UnknownOperationException"), "unknown operation")
    contains(body.get("message", ""), "ECR Public", "message names the service")
    status, body = raw_public("SpencerFrontendService.CreatePremiumRepository", b"{}")
    eq((status, body.get("__type")), (400, "UnsupportedCommandException"), "unsupported operation")
    status, body = raw_public("SpencerFrontendService.DescribeRegistries", b"{}", service="ecr")
    eq(status, 400, "signed for ecr, sent to ecr-public")
    assert body.get("__type") in ("InvalidSignatureException", "IncompleteSignatureException"), body
    status, body = raw_public("SpencerFrontendService.DescribeRegistries", b"{not json")
    eq((status, body.get("__type")), (400, "SerializationException"), "bad JSON")
    status, body = raw_public("SpencerFrontendService.DescribeRegistries", b"{}", secret="wrong" * 8)
    eq((status, body.get("__type")), (400, "InvalidSignatureException"), "wrong secret")
    status, _, data = http("POST", "/", headers={"X-Amz-Target": "SpencerFrontendService.DescribeRegistries",
                                                  "Content-Type": "application/x-amz-json-1.1"}, body=b"{}")
    eq(status, 400, "unsigned")
    # The same endpoint still answers ECR.
    status, body = raw_public("AmazonEC2ContainerRegistry_V20150921.DescribeRegistry", b"{}", service="ecr")
    eq((status, body.get("registryId")), (200, ACCOUNT), "ECR on the same endpoint")
    status, body = raw_public("AmazonEC2ContainerRegistry_V20150921.NoSuch", b"{}", service="ecr")
    eq((status, body.get("__type")), (400, "UnknownOperationException"), "ECR's unknown operation")


@case("public IAM: ecr-public actions; a user allowed only ecr:* is denied")
def _():
    key, secret = new_user(uniq("ecronly"), {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]})
    expect_error("AccessDeniedException", pub_client(key, secret).describe_registries)
    key, secret = new_user(uniq("pubonly"), {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ecr-public:*", "Resource": "*"}]})
    c = pub_client(key, secret)
    eq(c.describe_registries()["registries"][0]["aliases"][0]["name"], ALIAS, "ecr-public:* allows it")
    name = uniq("pub")
    c.create_repository(repositoryName=name)
    # The same user pushes over /v2/ with its token (ecr-public:* covers the /v2/ push actions).
    pw = base64.b64decode(c.get_authorization_token()["authorizationData"]["authorizationToken"]).decode().split(":", 1)[1]
    img = build_image()
    out = os.path.join(TMP, uniq("layout"))
    write_oci_layout(img, out)
    skopeo("copy", "--dest-tls-verify=false", "--dest-creds", f"AWS:{pw}", f"oci:{out}:latest",
           f"docker://{HOST}/{ALIAS}/{name}:v1")
    eq(PUB.describe_images(repositoryName=name)["imageDetails"][0]["imageDigest"], img.digest, "pushed by skopeo")


# ------------------------------------------------------------------------------------------------
# /v2/: AWS CLI login + crane push, anonymous pulls


@case("public aws ecr-public get-login-password | crane auth login; crane push to HOST/alias/name")
def _():
    name = new_repo()
    pw = run([AWS_CLI, "ecr-public", "get-login-password", "--endpoint-url", ENDPOINT, "--region", REGION],
             env=aws_env(KEY, SECRET)).stdout.strip()
    assert pw, "empty password"
    cfg = os.path.join(TMP, uniq("docker"))
    os.makedirs(cfg)
    with open(os.path.join(cfg, "config.json"), "w") as f:
        f.write('{"auths": {}}')
    run(["crane", "auth", "login", HOST, "-u", "AWS", "--password-stdin"], input=pw, env={"DOCKER_CONFIG": cfg})
    img = build_image(n_layers=2)
    layout = os.path.join(TMP, uniq("layout"))
    write_oci_layout(img, layout)
    crane("push", layout, f"{HOST}/{ALIAS}/{name}:latest", docker_config=cfg)
    got = PUB.describe_images(repositoryName=name)["imageDetails"]
    eq((got[0]["imageDigest"], got[0]["imageTags"]), (img.digest, ["latest"]), "pushed image")
    # Without credentials, pushes are refused.
    status = v2("POST", f"/v2/{ALIAS}/{name}/blobs/uploads/")[0]
    eq(status, 401, "anonymous push to a public repository")
    p = crane("push", layout, f"{HOST}/{ALIAS}/{name}:anon", check=False)
    assert p.returncode != 0, "anonymous crane push succeeded"


@case("public anonymous pulls: crane and skopeo with no credentials; manifests, blobs and tags over HTTP")
def _():
    name = new_repo()
    img = push_image(PUB, name, tag="v1")
    ref = f"{HOST}/{ALIAS}/{name}"
    out = os.path.join(TMP, uniq("pulled"))
    crane("pull", "--format", "oci", f"{ref}:v1", out)
    eq(json.load(open(os.path.join(out, "index.json")))["manifests"][0]["digest"], img.digest, "crane anonymous pull")
    eq(crane("digest", f"{ref}:v1").stdout.strip(), img.digest, "crane digest")
    insp = json.loads(skopeo("inspect", "--raw", "--tls-verify=false", "--no-creds", f"docker://{ref}:v1").stdout or "{}")
    eq(insp.get("config", {}).get("digest"), sha(img.config), "skopeo --no-creds inspect")
    dest = os.path.join(TMP, uniq("skopeo"))
    skopeo("copy", "--src-tls-verify=false", "--src-no-creds", f"docker://{ref}:v1", f"oci:{dest}:v1")
    status, _, body = v2("GET", f"/v2/{ALIAS}/{name}/manifests/v1", headers={"Accept": ACCEPT_ALL})
    eq((status, body.decode()), (200, img.manifest), "anonymous manifest GET")
    eq(v2("HEAD", f"/v2/{ALIAS}/{name}/manifests/{img.digest}", headers={"Accept": ACCEPT_ALL})[0], 200, "HEAD")
    status, _, body = v2("GET", f"/v2/{ALIAS}/{name}/blobs/{sha(img.layers[0])}")
    eq((status, body == img.layers[0]), (200, True), "anonymous blob GET")
    status, _, body = v2("GET", f"/v2/{ALIAS}/{name}/tags/list")
    eq((status, json.loads(body)["tags"]), (200, ["v1"]), "anonymous tags list")
    eq(v2("DELETE", f"/v2/{ALIAS}/{name}/manifests/{img.digest}")[0], 401, "anonymous delete refused")


@case("public: a private repository is not anonymously pullable, not under the alias, not in ECR Public")
def _():
    private = uniq("priv")
    ECR.create_repository(repositoryName=private)
    img = push_image(ECR, private, tag="v1")
    eq(v2("GET", f"/v2/{private}/manifests/v1", headers={"Accept": ACCEPT_ALL})[0], 401, "private by its name")
    eq(v2("GET", f"/v2/{ALIAS}/{private}/manifests/v1", headers={"Accept": ACCEPT_ALL})[0], 401,
       "private under the alias")
    p = crane("pull", f"{HOST}/{private}:v1", os.path.join(TMP, uniq("x.tar")), check=False)
    assert p.returncode != 0, "anonymous crane pull of a private repository succeeded"
    p = skopeo("inspect", "--tls-verify=false", "--no-creds", f"docker://{HOST}/{private}:v1", check=False)
    assert p.returncode != 0, "skopeo --no-creds inspect of a private repository succeeded"
    expect_error("RepositoryNotFoundException", PUB.describe_images, repositoryName=private)
    expect_error("RepositoryNotFoundException", PUB.get_repository_catalog_data, repositoryName=private)
    eq(ECR.describe_images(repositoryName=private)["imageDetails"][0]["imageDigest"], img.digest, "still private")
    # A public repository's own name (without the alias) is not public.
    name = new_repo()
    push_image(PUB, name, tag="v1")
    eq(v2("GET", f"/v2/{name}/manifests/v1", headers={"Accept": ACCEPT_ALL})[0], 401, "public repo without alias")


@case("public token flow: /token hands out an anonymous pull token, accepted as Bearer on /v2/")
def _():
    name = new_repo()
    img = push_image(PUB, name, tag="v1")
    status, _, body = http("GET", f"/token?service={HOST}&scope=repository:{ALIAS}/{name}:pull")
    eq(status, 200, "GET /token without credentials")
    tok = json.loads(body)
    eq(tok["token"], tok["access_token"], "token and access_token")
    assert tok["expires_in"] > 0, tok
    bearer = {"Authorization": "Bearer " + tok["token"], "Accept": ACCEPT_ALL}
    status, _, body = http("GET", f"/v2/{ALIAS}/{name}/manifests/v1", headers=bearer)
    eq((status, body.decode()), (200, img.manifest), "anonymous Bearer pull of a public repository")
    eq(http("POST", f"/v2/{ALIAS}/{name}/blobs/uploads/", headers=bearer)[0], 401, "anonymous Bearer push")
    private = uniq("priv")
    ECR.create_repository(repositoryName=private)
    push_image(ECR, private, tag="v1")
    eq(http("GET", f"/v2/{private}/manifests/v1", headers=bearer)[0], 401, "anonymous Bearer, private repository")
    # Pushes and private pulls log in with Basic credentials, as on ECR: a login password is no
    # Bearer token.
    pw = base64.b64decode(PUB.get_authorization_token()["authorizationData"]["authorizationToken"]).decode()[4:]
    eq(http("GET", f"/v2/{private}/manifests/v1", headers={"Authorization": "Bearer " + pw})[0], 401,
       "a login password as a Bearer token")
    eq(v2("GET", f"/v2/{private}/manifests/v1", pw=pw, headers={"Accept": ACCEPT_ALL})[0], 200, "Basic login")
    eq(http("GET", "/v2/", headers={"Authorization": "Bearer forged"})[0], 401, "forged Bearer token")


@case("public audit trail: ECR Public calls are recorded with eventSource ecr-public.amazonaws.com")
def _():
    name = new_repo()
    PUB.tag_resource(resourceArn=arn(name), tags=[{"Key": "audit", "Value": "yes"}])
    deadline = time.time() + 20
    while True:
        p = run([WHARF_BIN, "audit", "--data-dir", DATA_DIR, "--event-name", "CreateRepository",
                 "--format", "json", "--limit", "1000"])
        found = [r for r in json.loads(p.stdout)["Records"]
                 if (r.get("requestParameters") or {}).get("repositoryName") == name]
        if found or time.time() > deadline:
            break
        time.sleep(0.5)
    assert found, f"no CreateRepository record for {name}"
    eq(found[0]["eventSource"], "ecr-public.amazonaws.com", "eventSource")
    eq(found[0].get("errorCode"), None, "errorCode")


@case("public: every one of the 23 operations was exercised by this suite")
def _():
    model = PUB.meta.service_model
    classic = {
        "BatchCheckLayerAvailability", "BatchDeleteImage", "CompleteLayerUpload", "CreateRepository",
        "DeleteRepository", "DeleteRepositoryPolicy", "DescribeImageTags", "DescribeImages",
        "DescribeRegistries", "DescribeRepositories", "GetAuthorizationToken", "GetRegistryCatalogData",
        "GetRepositoryCatalogData", "GetRepositoryPolicy", "InitiateLayerUpload", "ListTagsForResource",
        "PutImage", "PutRegistryCatalogData", "PutRepositoryCatalogData", "SetRepositoryPolicy", "TagResource",
        "UntagResource", "UploadLayerPart",
    }
    eq(len(classic), 23, "the classic operations")
    missing = classic - set(model.operation_names)
    eq(missing, set(), "operations missing from botocore's model")
    eq(model.metadata["targetPrefix"], "SpencerFrontendService", "target prefix")
    eq(model.signing_name, "ecr-public", "signing name")
    source = open(__file__).read()
    for op in sorted(classic):
        snake = "".join("_" + c.lower() if c.isupper() else c for c in op).lstrip("_")
        assert f".{snake}(" in source or f"PUB.{snake}," in source or f'"{snake}"' in source, f"no call of {op}"


if __name__ == "__main__":
    sys.exit(run_cases())
