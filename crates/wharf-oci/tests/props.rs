//! Property tests of the OCI grammar and manifest parsing: parsers never panic, what they accept
//! round-trips, values generated from the spec's regular expressions are accepted, strings with a
//! known-invalid feature are refused, and a generated manifest yields exactly the references it
//! was built from, whatever its JSON layout.

use proptest::prelude::*;
use proptest::test_runner::Config;
use regex::Regex;
use serde_json::{json, Value};
use std::sync::LazyLock;
use wharf_oci::name::{MAX_NAME_LEN, MAX_TAG_LEN};
use wharf_oci::{Algorithm, Digest, Manifest, MediaType, Reference, RepoName, Tag};

/// The distribution spec's `<name>` grammar, anchored.
const NAME_RE: &str = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*";
/// The distribution spec's `<reference>` grammar for tags.
const TAG_RE: &str = r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}";

static NAME: LazyLock<Regex> = LazyLock::new(|| Regex::new(&format!("^{NAME_RE}$")).unwrap());
static TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(&format!("^{TAG_RE}$")).unwrap());

fn config() -> Config {
    Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Strings near the grammar: its alphabet plus characters that must be refused.
fn near_name() -> impl Strategy<Value = String> {
    "[a-z0-9._/-]{0,12}|[a-zA-Z0-9._/%:@ \\x00-]{0,20}|.{0,40}"
}

/// The name grammar with its repetitions bounded (so names stay under the length limit and
/// generation stays fast); every string it yields matches `NAME_RE`.
const BOUNDED_NAME_RE: &str = r"[a-z0-9]{1,6}((\.|_|__|-{1,3})[a-z0-9]{1,6}){0,2}(/[a-z0-9]{1,6}((\.|_|__|-{1,3})[a-z0-9]{1,6}){0,2}){0,3}";

fn valid_name() -> impl Strategy<Value = String> {
    proptest::string::string_regex(BOUNDED_NAME_RE).unwrap()
}

fn hex_of(len: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[0-9a-f]{{{len}}}")).unwrap()
}

fn valid_digest() -> impl Strategy<Value = String> {
    prop_oneof![
        hex_of(64).prop_map(|h| format!("sha256:{h}")),
        hex_of(128).prop_map(|h| format!("sha512:{h}")),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn names_agree_with_the_spec_grammar(s in near_name()) {
        let parsed = s.parse::<RepoName>();
        let want = NAME.is_match(&s) && s.len() <= MAX_NAME_LEN;
        prop_assert_eq!(parsed.is_ok(), want, "{:?}", s);
        if let Ok(n) = parsed {
            prop_assert_eq!(n.to_string(), s.clone());
            prop_assert_eq!(n.to_string().parse::<RepoName>().unwrap(), n);
        }
    }

    #[test]
    fn generated_names_are_accepted(s in valid_name()) {
        let n: RepoName = s.parse().unwrap();
        prop_assert_eq!(n.as_str(), s.as_str());
    }

    #[test]
    fn names_with_an_invalid_feature_are_refused(
        s in valid_name(),
        at in any::<prop::sample::Index>(),
        bad in prop_oneof![
            Just("A"), Just("//"), Just("/../"), Just("/./"), Just("%2e"), Just("\0"),
            Just(" "), Just("___"), Just("._"), Just(":"), Just("é"),
        ],
    ) {
        let i = at.index(s.len() + 1);
        let mutated = format!("{}{bad}{}", &s[..i], &s[i..]);
        prop_assert!(mutated.parse::<RepoName>().is_err(), "{:?}", mutated);
        for edge in [format!("/{s}"), format!("{s}/"), format!("-{s}"), format!("{s}.")] {
            prop_assert!(edge.parse::<RepoName>().is_err(), "{:?}", edge);
        }
        let long = format!("{s}{}", "a".repeat(MAX_NAME_LEN + 1 - s.len()));
        prop_assert!(long.parse::<RepoName>().is_err());
    }

    #[test]
    fn tags_agree_with_the_spec_grammar(s in "[a-zA-Z0-9._:/-]{0,6}|.{0,140}") {
        let parsed = s.parse::<Tag>();
        prop_assert_eq!(parsed.is_ok(), TAG.is_match(&s), "{:?}", s);
        if let Ok(t) = parsed {
            prop_assert_eq!(t.to_string(), s);
        }
    }

    #[test]
    fn generated_tags_are_accepted_and_invalid_ones_refused(
        s in TAG_RE,
        bad in prop_oneof![Just('/'), Just(':'), Just('@'), Just('\0'), Just('ü'), Just(' ')],
        at in any::<prop::sample::Index>(),
    ) {
        prop_assert_eq!(s.parse::<Tag>().unwrap().to_string(), s.clone());
        let i = at.index(s.len() + 1);
        let mutated = format!("{}{bad}{}", &s[..i], &s[i..]);
        prop_assert!(mutated.parse::<Tag>().is_err(), "{:?}", mutated);
        for lead in ['.', '-'] {
            let led = format!("{lead}{s}");
            prop_assert!(led.parse::<Tag>().is_err(), "{}", led);
        }
        let long = format!("{s}{}", "x".repeat(MAX_TAG_LEN + 1 - s.len()));
        prop_assert!(long.parse::<Tag>().is_err());
    }

    #[test]
    fn digests_parse_without_panic_and_round_trip(
        s in "(sha256|sha512|md5|SHA256|)(:)?[0-9a-fA-F:]{0,130}|.{0,80}"
    ) {
        if let Ok(d) = s.parse::<Digest>() {
            prop_assert_eq!(d.to_string(), s.clone());
            prop_assert_eq!(d.hex().len(), d.algorithm().hex_len());
            prop_assert_eq!(d.to_string().parse::<Digest>().unwrap(), d);
        }
    }

    #[test]
    fn generated_digests_are_accepted_and_mutations_refused(
        s in valid_digest(),
        at in any::<prop::sample::Index>(),
        bad in prop_oneof![Just('A'), Just('g'), Just('/'), Just(':'), Just('.')],
    ) {
        let d: Digest = s.parse().unwrap();
        prop_assert_eq!(d.to_string(), s.clone());
        let (alg, hex) = s.split_once(':').unwrap();
        // One character of the hex part replaced by a non-hex (or uppercase) one.
        let i = at.index(hex.len());
        let replaced = format!("{alg}:{}{bad}{}", &hex[..i], &hex[i + 1..]);
        prop_assert!(replaced.parse::<Digest>().is_err(), "{}", replaced);
        let short = format!("{alg}:{}", &hex[1..]);
        let long = format!("{s}0");
        let md5 = format!("md5:{hex}");
        for bad in [short, long, md5, hex.to_string()] {
            prop_assert!(bad.parse::<Digest>().is_err(), "{}", bad);
        }
    }

    #[test]
    fn computed_digests_round_trip(bytes in prop::collection::vec(any::<u8>(), 0..256), wide in any::<bool>()) {
        let alg = if wide { Algorithm::Sha512 } else { Algorithm::Sha256 };
        let d = Digest::of(alg, &bytes);
        prop_assert_eq!(d.to_string().parse::<Digest>().unwrap(), d);
    }

    #[test]
    fn references_are_tags_or_digests(s in prop_oneof![TAG_RE.boxed(), valid_digest().boxed(), ".{0,80}".boxed()]) {
        match s.parse::<Reference>() {
            Ok(r) => {
                prop_assert_eq!(r.to_string(), s.clone());
                match r {
                    Reference::Tag(_) => prop_assert!(!s.contains(':')),
                    Reference::Digest(d) => prop_assert_eq!(d.to_string(), s),
                }
            }
            Err(_) => prop_assert!(s.parse::<Tag>().is_err() && s.parse::<Digest>().is_err()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Manifests.

const CONTENT_TYPES: &[&str] = &[
    "",
    "application/json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.oci.image.manifest.v1+json; charset=utf-8",
];

/// Arbitrary JSON that leans on manifest field names, so parsing gets past the first checks.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("schemaVersion".to_string()),
        Just("mediaType".to_string()),
        Just("config".to_string()),
        Just("layers".to_string()),
        Just("manifests".to_string()),
        Just("subject".to_string()),
        Just("digest".to_string()),
        Just("size".to_string()),
        Just("urls".to_string()),
        Just("annotations".to_string()),
        "[a-zA-Z]{1,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        Just(json!(2)),
        prop::sample::select(CONTENT_TYPES).prop_map(Value::from),
        valid_digest().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// What a generated manifest was built from.
#[derive(Debug, Clone)]
struct Built {
    media_type: MediaType,
    with_media_type: bool,
    config: Option<String>,
    /// `(digest, foreign)`.
    layers: Vec<(String, bool)>,
    children: Vec<String>,
    subject: Option<String>,
    artifact_type: Option<String>,
}

fn descriptor(media_type: &str, digest: &str, foreign: bool) -> Value {
    let mut d = json!({"mediaType": media_type, "digest": digest, "size": 1234});
    if foreign {
        d["urls"] = json!(["https://example.com/layer"]);
    }
    d
}

impl Built {
    fn to_json(&self) -> Value {
        let mut v = json!({"schemaVersion": 2});
        if self.with_media_type {
            v["mediaType"] = json!(self.media_type.as_str());
        }
        if let Some(c) = &self.config {
            v["config"] = descriptor("application/vnd.oci.image.config.v1+json", c, false);
            v["layers"] = Value::Array(
                self.layers
                    .iter()
                    .map(|(d, foreign)| {
                        let mt = if *foreign {
                            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
                        } else {
                            "application/vnd.oci.image.layer.v1.tar+gzip"
                        };
                        descriptor(mt, d, *foreign)
                    })
                    .collect(),
            );
        } else {
            v["manifests"] = Value::Array(
                self.children
                    .iter()
                    .map(|d| descriptor("application/vnd.oci.image.manifest.v1+json", d, false))
                    .collect(),
            );
        }
        if let Some(s) = &self.subject {
            v["subject"] = descriptor("application/vnd.oci.image.manifest.v1+json", s, false);
        }
        if let Some(a) = &self.artifact_type {
            v["artifactType"] = json!(a);
            v["annotations"] = json!({"org.example": a});
        }
        v
    }
}

fn built() -> impl Strategy<Value = Built> {
    let digests = |n| prop::collection::vec(valid_digest(), 0..n);
    (
        prop::sample::select(MediaType::ALL.to_vec()),
        any::<bool>(),
        valid_digest(),
        prop::collection::vec((valid_digest(), any::<bool>()), 0..6),
        digests(6),
        prop::option::of(valid_digest()),
        prop::option::of("application/[a-z.+]{1,20}"),
    )
        .prop_map(
            |(media_type, with_media_type, config, layers, children, subject, artifact_type)| {
                let index = media_type.is_index();
                Built {
                    media_type,
                    // Docker formats must name themselves in the body.
                    with_media_type: with_media_type
                        || matches!(
                            media_type,
                            MediaType::DockerManifest | MediaType::DockerManifestList
                        ),
                    config: (!index).then_some(config),
                    layers: if index { Vec::new() } else { layers },
                    children: if index { children } else { Vec::new() },
                    subject,
                    artifact_type,
                }
            },
        )
}

/// The same JSON value in another layout: pretty or compact, with extra spaces.
fn layout(v: &Value, style: u8) -> Vec<u8> {
    match style % 3 {
        0 => serde_json::to_vec(v).unwrap(),
        1 => serde_json::to_vec_pretty(v).unwrap(),
        _ => format!(" \n{}\t\r\n", serde_json::to_string(v).unwrap())
            .replace(",\"", ",  \"")
            .into_bytes(),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn manifest_parse_never_panics_on_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        ct in prop::sample::select(CONTENT_TYPES),
    ) {
        let _ = Manifest::parse(&bytes, Some(ct).filter(|c| !c.is_empty()));
    }

    #[test]
    fn manifest_parse_never_panics_on_json(v in json_value(), ct in prop::sample::select(CONTENT_TYPES)) {
        let bytes = serde_json::to_vec(&v).unwrap();
        if let Ok(m) = Manifest::parse(&bytes, Some(ct).filter(|c| !c.is_empty())) {
            // Whatever is accepted has the shape its media type demands.
            prop_assert_eq!(m.media_type.is_index(), m.config.is_none());
            prop_assert!(m.media_type.is_index() || m.manifests.is_empty());
        }
    }

    #[test]
    fn generated_manifests_yield_their_references(b in built(), style in any::<u8>(), header in any::<bool>()) {
        let bytes = layout(&b.to_json(), style);
        let before = Digest::sha256(&bytes);
        let ct = header.then(|| b.media_type.as_str());
        let m = Manifest::parse(&bytes, ct).unwrap();
        // Parsing borrows the bytes: the digest a registry serves under is the pushed one.
        prop_assert_eq!(Digest::sha256(&bytes), before);
        prop_assert_eq!(m.media_type, b.media_type);
        let blobs: Vec<String> = m.blob_refs().map(|d| d.digest.to_string()).collect();
        let want: Vec<String> = b
            .config
            .iter()
            .cloned()
            .chain(b.layers.iter().filter(|(_, f)| !f).map(|(d, _)| d.clone()))
            .collect();
        prop_assert_eq!(blobs, want);
        let children: Vec<String> = m.child_refs().map(|d| d.digest.to_string()).collect();
        prop_assert_eq!(children, b.children.clone());
        prop_assert_eq!(m.subject.map(|s| s.digest.to_string()), b.subject.clone());
        prop_assert_eq!(m.artifact_type.clone(), b.artifact_type.clone());
        // The parsed view does not depend on the JSON layout, so nothing needs re-serializing.
        let other = Manifest::parse(&layout(&b.to_json(), style.wrapping_add(1)), ct).unwrap();
        prop_assert_eq!(other, Manifest::parse(&bytes, ct).unwrap());
    }

    #[test]
    fn generated_manifests_with_a_broken_digest_are_refused(b in built(), upper in any::<bool>()) {
        let text = serde_json::to_string(&b.to_json()).unwrap();
        let Some(d) = b.config.clone().or_else(|| b.children.first().cloned()) else {
            return Ok(());
        };
        let broken = if upper { d.to_uppercase() } else { d[..d.len() - 1].to_string() };
        let bad = text.replace(&d, &broken);
        prop_assert!(Manifest::parse(bad.as_bytes(), None).is_err(), "{}", bad);
    }
}
