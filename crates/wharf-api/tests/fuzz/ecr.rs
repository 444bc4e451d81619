//! Random ECR and ECR Public calls on `POST /`: a real operation's target with a body built from
//! its botocore input shape (plausible values, wrong types, huge strings, nested garbage), signed
//! with a real access key; and unsigned, wrongly signed or badly dated requests.

use crate::common::sha256;
use crate::oci::manifest_body;
use crate::rng::Rng;
use crate::{Surface, World};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Map, Value};
use wharf_ecr_model::model::{shape, ShapeType};
use wharf_ecr_model::Operation;
use wharf_sigv4::{sign_headers, Payload, SigningParams};

pub const ECR_PREFIX: &str = "AmazonEC2ContainerRegistry_V20150921.";
const PUBLIC_PREFIX: &str = "SpencerFrontendService.";

/// A value of the model shape `name`, for the member `member`.
fn value(w: &World, rng: &mut Rng, name: &str, member: &str, depth: usize) -> Value {
    if depth > 6 || rng.chance(8) {
        return garbage(rng, depth);
    }
    let Some(s) = shape(name) else {
        return garbage(rng, depth);
    };
    match s.kind {
        ShapeType::Structure => {
            let mut m = Map::new();
            for mem in &s.members {
                let required = s.is_required(&mem.name);
                if rng.chance(if required { 92 } else { 45 }) {
                    m.insert(
                        mem.name.clone(),
                        value(w, rng, &mem.shape, &mem.name, depth + 1),
                    );
                }
            }
            Value::Object(m)
        }
        ShapeType::List => {
            let item = s.member.as_ref().map(|r| r.shape.as_str()).unwrap_or("");
            let n = if rng.chance(3) { 200 } else { rng.below(4) };
            Value::Array(
                (0..n)
                    .map(|_| value(w, rng, item, member, depth + 1))
                    .collect(),
            )
        }
        ShapeType::Map => {
            let v = s.value.as_ref().map(|r| r.shape.as_str()).unwrap_or("");
            let mut m = Map::new();
            for _ in 0..rng.below(3) {
                m.insert(rng.word(), value(w, rng, v, member, depth + 1));
            }
            Value::Object(m)
        }
        ShapeType::String => match &s.enum_values {
            Some(e) if rng.chance(85) => json!(rng.pick(e)),
            _ => json!(string_for(w, rng, member)),
        },
        ShapeType::Integer | ShapeType::Long => {
            json!(rng.pick(&[
                1i64,
                2,
                10,
                100,
                1000,
                0,
                -1,
                i64::from(i32::MAX) + 1,
                i64::MAX
            ]))
        }
        ShapeType::Double | ShapeType::Timestamp => {
            json!(rng.pick(&[0.5, 1.7e9, -1.0, 1e300]))
        }
        ShapeType::Boolean => json!(rng.chance(50)),
        ShapeType::Blob => {
            use base64::Engine as _;
            let bytes = {
                let n = rng.below(64);
                rng.bytes(n)
            };
            json!(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
    }
}

/// Plausible strings by member name, so calls reach the handlers past validation.
fn string_for(w: &World, rng: &mut Rng, member: &str) -> String {
    if rng.chance(10) {
        return rng.junk();
    }
    match member {
        "repositoryName" | "repositoryNames" | "sourceRepositoryName" => match rng.below(4) {
            0 => format!("fuzz/{}", rng.word()),
            _ => rng.pick(&w.repos).clone(),
        },
        "registryId" | "registryIds" | "sourceRegistryId" => w.account.clone(),
        "imageTag" | "imageTags" => rng.pick(&["v1", "latest", "fuzz"]).to_string(),
        "imageDigest" | "layerDigest" | "layerDigests" | "blobDigest" => {
            rng.pick(&w.digests).clone()
        }
        "imageManifest" => String::from_utf8_lossy(&manifest_body(w, rng)).into_owned(),
        "imageManifestMediaType" | "mediaType" | "acceptedMediaTypes" => {
            "application/vnd.oci.image.manifest.v1+json".to_string()
        }
        "policyText" => rng
            .pick(&[
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}"#,
                r#"{"Statement":[{"Effect":"Deny","Principal":{"AWS":"*"},"Action":["ecr:*"],"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#,
                r#"{"Statement":[]}"#,
            ])
            .to_string(),
        "lifecyclePolicyText" => rng
            .pick(&[
                r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#,
                r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}      "#,
                r#"{"rules":[]}                                                                                                   "#,
            ])
            .to_string(),
        "uploadId" => rng.pick(&w.ecr_uploads).clone(),
        _ => rng.word(),
    }
}

fn garbage(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(7) {
        0 => Value::Null,
        1 => json!(rng.junk()),
        2 => json!("x".repeat(100_000 + rng.below(50_000))),
        3 => json!(rng.next() as i64),
        4 if depth < 6 => {
            Value::Array((0..rng.below(4)).map(|_| garbage(rng, depth + 1)).collect())
        }
        5 if depth < 6 => {
            let mut m = Map::new();
            for _ in 0..rng.below(4) {
                m.insert(rng.junk(), garbage(rng, depth + 1));
            }
            Value::Object(m)
        }
        _ => json!(rng.chance(50)),
    }
}

/// A target among the real operations of both services, or an unknown one.
fn target(rng: &mut Rng) -> (String, Option<Operation>) {
    match rng.below(10) {
        0..=6 => {
            let op = *rng.pick(Operation::ALL);
            (format!("{ECR_PREFIX}{}", op.name()), Some(op))
        }
        7 | 8 => {
            let op = *rng.pick(&wharf_api::ecr_public::Operation::ALL);
            let shared = Operation::from_name(op.name());
            (format!("{PUBLIC_PREFIX}{}", op.name()), shared)
        }
        _ => {
            let name: String = rng
                .junk()
                .chars()
                .filter(|c| (' '..='~').contains(c))
                .collect();
            (format!("{ECR_PREFIX}{name}"), None)
        }
    }
}

fn body(w: &World, rng: &mut Rng, op: Option<Operation>) -> Vec<u8> {
    match (rng.below(10), op) {
        (0, _) => Vec::new(),
        (1, _) => {
            let n = rng.below(200);
            rng.bytes(n)
        }
        (2, _) => garbage(rng, 0).to_string().into_bytes(),
        (3, _) => b"{\"repositoryName\":".to_vec(),
        (_, Some(op)) => value(w, rng, op.input_shape(), "", 0)
            .to_string()
            .into_bytes(),
        (_, None) => json!({"repositoryName": rng.pick(&w.repos)})
            .to_string()
            .into_bytes(),
    }
}

/// Headers for `POST /` with `target`, signed with the fuzz user's key for `service`.
pub fn signed(w: &World, target: &str, body: &[u8], service: &str, secret: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    let host = w.s.base.trim_start_matches("http://");
    h.insert("host", HeaderValue::from_str(host).unwrap());
    h.insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    h.insert("x-amz-target", HeaderValue::from_str(target).unwrap());
    let params = SigningParams {
        access_key_id: &w.key_id,
        secret_access_key: secret,
        session_token: None,
        region: "us-east-1",
        service,
        time: time::OffsetDateTime::now_utc(),
    };
    let payload = Payload::from_body(body);
    sign_headers(&reqwest::Method::POST, "/", "", &mut h, payload, &params).unwrap();
    // reqwest sets Host itself, from the URL.
    h.remove("host");
    h
}

/// Makes one signed ECR call that must succeed; returns its output.
pub async fn call(w: &World, op: &str, input: Value) -> Value {
    let target = format!("{ECR_PREFIX}{op}");
    let body = input.to_string().into_bytes();
    let headers = signed(w, &target, &body, "ecr", &w.secret);
    let resp = w
        .client
        .post(w.s.url("/"))
        .headers(headers)
        .body(body)
        .send()
        .await;
    let resp = resp.unwrap_or_else(|e| panic!("{op}: {e}"));
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    assert_eq!(status, 200, "{op}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// One random call: signed correctly most of the time, otherwise not at all, with the wrong
/// secret or service, a body changed after signing, or a well-formed authorization with an
/// arbitrary `Date`.
pub async fn case(w: &mut World, rng: &mut Rng) {
    let (target, op) = target(rng);
    let body = body(w, rng, op);
    let service = if target.starts_with(PUBLIC_PREFIX) {
        "ecr-public"
    } else {
        "ecr"
    };
    let secret = w.secret.clone();
    let mut sent = body.clone();
    let mut how = "signed";
    let headers = match rng.below(12) {
        0 => {
            how = "unsigned";
            let mut h = signed(w, &target, &body, service, &secret);
            h.remove("authorization");
            h
        }
        1 => {
            how = "wrong secret";
            signed(w, &target, &body, service, "not-the-secret")
        }
        2 => {
            how = "wrong service";
            signed(w, &target, &body, "s3", &secret)
        }
        3 => {
            how = "body changed";
            sent.push(b' ');
            sent.extend_from_slice(&rng.bytes(4));
            signed(w, &target, &body, service, &secret)
        }
        4 => {
            how = "odd date";
            let mut h = signed(w, &target, &body, service, &secret);
            h.remove("x-amz-date");
            let year = 1000 + rng.below(9000);
            let options = [
                "Fri, 31 Dec 9999 23:59:59 -2359".to_string(),
                "Mon, 01 Jan 1900 00:00:00 +2359".to_string(),
                format!("Thu, 02 Jan {year} 03:04:05 GMT"),
                rng.junk(),
            ];
            let date = rng.pick(&options).clone();
            if let Ok(v) = HeaderValue::from_str(&date) {
                h.insert("date", v);
            }
            h
        }
        5 => {
            how = "garbage authorization";
            let mut h = signed(w, &target, &body, service, &secret);
            let junk = format!("AWS4-HMAC-SHA256 Credential={}", rng.junk());
            if let Ok(v) = HeaderValue::from_str(&junk) {
                h.insert("authorization", v);
            }
            h
        }
        _ => signed(w, &target, &body, service, &secret),
    };
    let mut req = w.client.post(w.s.url("/")).headers(headers);
    if rng.chance(5) {
        req = req.header(HeaderName::from_static("content-type"), "text/plain");
    }
    let what = format!(
        "ECR {target} ({how}) {}",
        crate::oci::short(&String::from_utf8_lossy(&sent))
    );
    w.send(req.body(sent), Surface::Aws, false, what).await;
}

/// A layer pushed through the ECR layer API (initiate, one part, complete).
pub async fn push_layer(w: &mut World, repo: &str, bytes: &[u8]) {
    use base64::Engine as _;
    let init = call(w, "InitiateLayerUpload", json!({"repositoryName": repo})).await;
    let id = init["uploadId"].as_str().unwrap().to_string();
    w.ecr_uploads.push(id.clone());
    let blob = base64::engine::general_purpose::STANDARD.encode(bytes);
    let part = json!({"repositoryName": repo, "uploadId": id, "partFirstByte": 0,
        "partLastByte": bytes.len() - 1, "layerPartBlob": blob});
    call(w, "UploadLayerPart", part).await;
    let digest = sha256(bytes);
    let done = json!({"repositoryName": repo, "uploadId": id, "layerDigests": [digest]});
    call(w, "CompleteLayerUpload", done).await;
    w.digests.push(digest);
}
