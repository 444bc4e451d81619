//! The wire shape of Wharf's events: AWS EventBridge's envelope (`version`, `id`, `detail-type`,
//! `source: aws.ecr`, `account`, `time`, `region`, `resources`, `detail`) around the `detail` of
//! ECR's "ECR Image Action", "ECR Image Scan" and "ECR Replication Action" events, with ECR's
//! kebab-case field names. Pure: building an event does no IO; its id is a fresh UUID.

use serde::Serialize;
use serde_json::{json, Map, Value};

/// ECR's detail types, the closed set Wharf emits and webhook filters name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailType {
    ImageAction,
    ImageScan,
    ReplicationAction,
    PullThroughCacheAction,
}

impl DetailType {
    pub const ALL: [DetailType; 4] = [
        DetailType::ImageAction,
        DetailType::ImageScan,
        DetailType::ReplicationAction,
        DetailType::PullThroughCacheAction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DetailType::ImageAction => "ECR Image Action",
            DetailType::ImageScan => "ECR Image Scan",
            DetailType::ReplicationAction => "ECR Replication Action",
            DetailType::PullThroughCacheAction => "ECR Pull Through Cache Action",
        }
    }

    /// The detail type named exactly as EventBridge names it.
    pub fn parse(s: &str) -> Option<DetailType> {
        DetailType::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// One event, ready to be delivered: `body` is the exact JSON every webhook receives.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub detail_type: DetailType,
    /// The repository the event concerns (filters match its name by prefix).
    pub repository: String,
    pub body: String,
}

/// The envelope, in EventBridge's field order.
#[derive(Serialize)]
struct Envelope<'a> {
    version: &'static str,
    id: &'a str,
    #[serde(rename = "detail-type")]
    detail_type: &'static str,
    source: &'static str,
    account: &'a str,
    time: String,
    region: &'a str,
    resources: Vec<String>,
    detail: Value,
}

/// Where an event happened: account, region, repository and time (Unix seconds).
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub repository: &'a str,
    pub time: i64,
}

impl Origin<'_> {
    /// The repository's ARN, the event's one resource.
    pub fn repository_arn(&self) -> String {
        crate::arn::repository(self.region, self.account, self.repository)
    }

    fn event(&self, detail_type: DetailType, detail: Value) -> Event {
        let id = uuid::Uuid::new_v4().to_string();
        let body = serde_json::to_string(&Envelope {
            version: "0",
            id: &id,
            detail_type: detail_type.as_str(),
            source: "aws.ecr",
            account: self.account,
            time: rfc3339(self.time),
            region: self.region,
            resources: vec![self.repository_arn()],
            detail,
        })
        .unwrap_or_default();
        Event {
            id,
            detail_type,
            repository: self.repository.to_string(),
            body,
        }
    }
}

/// `2019-11-16T01:54:34Z`, as EventBridge writes `time`.
fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string())
}

/// A push or delete of an image: ECR's "ECR Image Action".
#[derive(Debug, Clone, Copy)]
pub struct ImageAction<'a> {
    /// `PUSH` or `DELETE`.
    pub action: &'static str,
    pub digest: Option<&'a str>,
    pub tag: Option<&'a str>,
    pub manifest_media_type: Option<&'a str>,
    pub artifact_media_type: Option<&'a str>,
}

pub fn image_action(origin: &Origin<'_>, a: &ImageAction<'_>) -> Event {
    let mut d = Map::new();
    d.insert("result".into(), json!("SUCCESS"));
    d.insert("repository-name".into(), json!(origin.repository));
    if let Some(v) = a.digest {
        d.insert("image-digest".into(), json!(v));
    }
    d.insert("action-type".into(), json!(a.action));
    if let Some(v) = a.tag {
        d.insert("image-tag".into(), json!(v));
    }
    if let Some(v) = a.manifest_media_type {
        d.insert("manifest-media-type".into(), json!(v));
    }
    if let Some(v) = a.artifact_media_type {
        d.insert("artifact-media-type".into(), json!(v));
    }
    origin.event(DetailType::ImageAction, Value::Object(d))
}

/// A finished scan: ECR's "ECR Image Scan". `status` is `COMPLETE` or `FAILED`; counts are per
/// severity name (only severities with findings).
pub fn image_scan(
    origin: &Origin<'_>,
    status: &str,
    digest: &str,
    tags: &[String],
    counts: &[(&str, u64)],
) -> Event {
    let counts: Map<String, Value> = counts
        .iter()
        .map(|(s, n)| ((*s).into(), json!(n)))
        .collect();
    origin.event(
        DetailType::ImageScan,
        json!({
            "scan-status": status,
            "repository-name": origin.repository,
            "finding-severity-counts": counts,
            "image-digest": digest,
            "image-tags": tags,
        }),
    )
}

/// A replication that finished: ECR's "ECR Replication Action" (`result` `SUCCESS`, or
/// `FAILURE` with the failure code, which ECR does not emit). The origin is the source.
pub struct Replication<'a> {
    pub success: bool,
    pub digest: &'a str,
    pub tag: Option<&'a str>,
    pub destination_region: &'a str,
    pub destination_registry: &'a str,
    pub failure_code: Option<&'a str>,
}

pub fn replication(origin: &Origin<'_>, r: &Replication<'_>) -> Event {
    let mut d = Map::new();
    d.insert(
        "result".into(),
        json!(if r.success { "SUCCESS" } else { "FAILURE" }),
    );
    d.insert("repository-name".into(), json!(origin.repository));
    d.insert("image-digest".into(), json!(r.digest));
    d.insert("source-account".into(), json!(origin.account));
    d.insert("action-type".into(), json!("REPLICATE"));
    d.insert("source-region".into(), json!(origin.region));
    if let Some(t) = r.tag {
        d.insert("image-tag".into(), json!(t));
    }
    d.insert("destination-region".into(), json!(r.destination_region));
    d.insert(
        "destination-registry-id".into(),
        json!(r.destination_registry),
    );
    if let Some(c) = r.failure_code {
        d.insert("failure-code".into(), json!(c));
    }
    origin.event(DetailType::ReplicationAction, Value::Object(d))
}

/// An image a pull-through cache fetched: ECR's "ECR Pull Through Cache Action" (`sync-status`
/// `SUCCESS`, or `FAILED` with a failure code).
pub struct PullThrough<'a> {
    pub success: bool,
    pub ecr_prefix: &'a str,
    pub upstream_url: &'a str,
    pub digest: &'a str,
    pub tag: Option<&'a str>,
    pub failure_code: Option<&'a str>,
}

pub fn pull_through(origin: &Origin<'_>, p: &PullThrough<'_>) -> Event {
    let mut d = Map::new();
    d.insert("rule-version".into(), json!("1"));
    d.insert(
        "sync-status".into(),
        json!(if p.success { "SUCCESS" } else { "FAILED" }),
    );
    d.insert("ecr-repository-prefix".into(), json!(p.ecr_prefix));
    d.insert("repository-name".into(), json!(origin.repository));
    d.insert("upstream-registry-url".into(), json!(p.upstream_url));
    if let Some(t) = p.tag {
        d.insert("image-tag".into(), json!(t));
    }
    d.insert("image-digest".into(), json!(p.digest));
    if let Some(c) = p.failure_code {
        d.insert("failure-code".into(), json!(c));
    }
    origin.event(DetailType::PullThroughCacheAction, Value::Object(d))
}

/// `sha256=<hex>`: the HMAC-SHA256 of `body` under `secret`, as `X-Wharf-Signature` carries it.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret)
        .expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: Origin<'static> = Origin {
        account: "123456789012",
        region: "us-west-2",
        repository: "team/app",
        time: 1_573_869_274,
    };

    fn parsed(e: &Event) -> Value {
        serde_json::from_str(&e.body).unwrap()
    }

    #[test]
    fn a_push_reads_as_ecrs_image_action() {
        let e = image_action(
            &ORIGIN,
            &ImageAction {
                action: "PUSH",
                digest: Some("sha256:ab"),
                tag: Some("latest"),
                manifest_media_type: Some("application/vnd.oci.image.manifest.v1+json"),
                artifact_media_type: Some("application/vnd.oci.image.config.v1+json"),
            },
        );
        assert_eq!(
            parsed(&e),
            json!({
                "version": "0",
                "id": e.id,
                "detail-type": "ECR Image Action",
                "source": "aws.ecr",
                "account": "123456789012",
                "time": "2019-11-16T01:54:34Z",
                "region": "us-west-2",
                "resources": ["arn:aws:ecr:us-west-2:123456789012:repository/team/app"],
                "detail": {
                    "result": "SUCCESS",
                    "repository-name": "team/app",
                    "image-digest": "sha256:ab",
                    "action-type": "PUSH",
                    "image-tag": "latest",
                    "manifest-media-type": "application/vnd.oci.image.manifest.v1+json",
                    "artifact-media-type": "application/vnd.oci.image.config.v1+json"
                }
            })
        );
        // The envelope keeps EventBridge's field order.
        assert!(e.body.starts_with(r#"{"version":"0","id":""#));
        assert_eq!(e.detail_type, DetailType::ImageAction);
        assert_eq!(e.repository, "team/app");
        assert_eq!(uuid::Uuid::parse_str(&e.id).unwrap().get_version_num(), 4);
    }

    #[test]
    fn a_delete_by_tag_omits_what_it_does_not_know() {
        let e = image_action(
            &ORIGIN,
            &ImageAction {
                action: "DELETE",
                digest: None,
                tag: Some("v1"),
                manifest_media_type: None,
                artifact_media_type: None,
            },
        );
        assert_eq!(
            parsed(&e)["detail"],
            json!({"result": "SUCCESS", "repository-name": "team/app", "action-type": "DELETE", "image-tag": "v1"})
        );
    }

    #[test]
    fn scans_and_replications_read_as_ecrs_events() {
        let e = image_scan(
            &ORIGIN,
            "COMPLETE",
            "sha256:ab",
            &["latest".into()],
            &[("CRITICAL", 2), ("LOW", 1)],
        );
        let v = parsed(&e);
        assert_eq!(v["detail-type"], "ECR Image Scan");
        assert_eq!(
            v["detail"],
            json!({
                "scan-status": "COMPLETE",
                "repository-name": "team/app",
                "finding-severity-counts": {"CRITICAL": 2, "LOW": 1},
                "image-digest": "sha256:ab",
                "image-tags": ["latest"]
            })
        );
        let e = replication(
            &ORIGIN,
            &Replication {
                success: true,
                digest: "sha256:ab",
                tag: None,
                destination_region: "eu-west-1",
                destination_registry: "210987654321",
                failure_code: None,
            },
        );
        let v = parsed(&e);
        assert_eq!(v["detail-type"], "ECR Replication Action");
        assert_eq!(v["detail"]["result"], "SUCCESS");
        assert_eq!(v["detail"]["action-type"], "REPLICATE");
        assert_eq!(v["detail"]["source-account"], "123456789012");
        assert_eq!(v["detail"]["source-region"], "us-west-2");
        assert_eq!(v["detail"]["destination-region"], "eu-west-1");
    }

    #[test]
    fn pull_through_actions_read_as_ecrs_events() {
        let e = pull_through(
            &ORIGIN,
            &PullThrough {
                success: false,
                ecr_prefix: "hub",
                upstream_url: "registry-1.docker.io",
                digest: "sha256:ab",
                tag: Some("v1"),
                failure_code: Some("UPSTREAM_FAILURE"),
            },
        );
        let v = parsed(&e);
        assert_eq!(v["detail-type"], "ECR Pull Through Cache Action");
        assert_eq!(
            v["detail"],
            json!({
                "rule-version": "1",
                "sync-status": "FAILED",
                "ecr-repository-prefix": "hub",
                "repository-name": "team/app",
                "upstream-registry-url": "registry-1.docker.io",
                "image-tag": "v1",
                "image-digest": "sha256:ab",
                "failure-code": "UPSTREAM_FAILURE"
            })
        );
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn detail_types_parse_by_their_eventbridge_names() {
        for d in DetailType::ALL {
            assert_eq!(DetailType::parse(d.as_str()), Some(d));
        }
        assert_eq!(DetailType::parse("ECR Image Push"), None);
    }
}
