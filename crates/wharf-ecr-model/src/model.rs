//! The embedded, stripped botocore model (`model/ecr-2015-09-21.json`) and read-only access to it.
//!
//! The JSON is written by `scripts/strip_model.py` and parsed once, on first use, into the types
//! below. The snapshot is the contract: a test checks that it parses and that every operation's
//! shapes resolve, so a bad regeneration fails `cargo test` rather than a request.

use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock};

use regex::Regex;
use serde::Deserialize;

use crate::operations::Operation;
use crate::patterns;

const MODEL_JSON: &str = include_str!("../model/ecr-2015-09-21.json");

static MODEL: LazyLock<Model> =
    LazyLock::new(|| serde_json::from_str(MODEL_JSON).expect("embedded ECR model is valid JSON"));

/// Modeled error shape names per operation, indexed like [`Operation::ALL`].
static ERRORS: LazyLock<Vec<Vec<&'static str>>> = LazyLock::new(|| {
    Operation::ALL
        .iter()
        .map(|op| {
            let model: &'static Model = &MODEL;
            model
                .operations
                .get(op.name())
                .map_or_else(Vec::new, |def| {
                    def.errors.iter().map(String::as_str).collect()
                })
        })
        .collect()
});

#[derive(Debug, Deserialize)]
struct Model {
    metadata: Metadata,
    operations: HashMap<String, OperationDef>,
    shapes: HashMap<String, Shape>,
    pagination: HashMap<String, Pagination>,
}

/// Service-level facts from the model's `metadata`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// The botocore release the snapshot was taken from.
    pub botocore_version: String,
    /// `2015-09-21`.
    pub api_version: String,
    /// `1.1`: requests and responses use `application/x-amz-json-1.1`.
    pub json_version: String,
    /// `json` (awsJson).
    pub protocol: String,
    /// `AmazonEC2ContainerRegistry_V20150921`, the `X-Amz-Target` prefix.
    pub target_prefix: String,
    /// `ecr`, the SigV4 service name.
    pub signing_name: String,
}

#[derive(Debug, Deserialize)]
struct OperationDef {
    errors: Vec<String>,
}

/// The kind of a model shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShapeType {
    /// A JSON object with named members.
    Structure,
    /// A JSON array of one member shape.
    List,
    /// A JSON object with arbitrary keys of one key shape and values of one value shape.
    Map,
    /// A JSON string.
    String,
    /// A JSON number that must be integral and fit in 32 bits.
    Integer,
    /// A JSON number that must be integral and fit in 64 bits.
    Long,
    /// Any JSON number.
    Double,
    /// A JSON boolean.
    Boolean,
    /// Epoch seconds (a number); botocore never sends the string forms, but they are accepted.
    Timestamp,
    /// A base64 string.
    Blob,
}

/// A reference from a structure, list or map to another shape.
#[derive(Debug, Deserialize)]
pub struct ShapeRef {
    /// The referenced shape's name.
    pub shape: String,
}

/// One member of a structure, in model order.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// The member's JSON key.
    pub name: String,
    /// The member's shape name.
    pub shape: String,
    /// The member is marked deprecated in the model (still accepted).
    #[serde(default)]
    pub deprecated: bool,
}

/// One shape of the model, with the constraints the server enforces.
#[derive(Debug, Deserialize)]
pub struct Shape {
    /// What JSON type the shape is.
    #[serde(rename = "type")]
    pub kind: ShapeType,
    /// Structure members, in model order.
    #[serde(default)]
    pub members: Vec<Member>,
    /// Names of the structure members that must be present and non-null.
    #[serde(default)]
    pub required: Vec<String>,
    /// Minimum length (strings, blobs, lists, maps) or value (numbers).
    pub min: Option<i64>,
    /// Maximum length (strings, blobs, lists, maps) or value (numbers).
    pub max: Option<i64>,
    /// Java-style regular expression a string must match in full.
    pub pattern: Option<String>,
    /// The values a string may take, in model order.
    #[serde(rename = "enum")]
    pub enum_values: Option<Vec<String>>,
    /// A list's element shape.
    pub member: Option<ShapeRef>,
    /// A map's key shape.
    pub key: Option<ShapeRef>,
    /// A map's value shape.
    pub value: Option<ShapeRef>,
    /// The shape is an error (its name is an error code).
    #[serde(default)]
    pub exception: bool,
    /// The error is a server fault (HTTP 500) rather than a client error.
    #[serde(default)]
    pub fault: bool,
    /// The shape is marked deprecated in the model.
    #[serde(default)]
    pub deprecated: bool,
    #[serde(skip)]
    regex: OnceLock<Option<Regex>>,
}

impl Shape {
    /// The shape's pattern compiled for a full match, or `None` if it has no pattern or the
    /// pattern cannot be expressed in Rust regex syntax (see [`crate::patterns`]).
    pub fn regex(&self) -> Option<&Regex> {
        self.regex
            .get_or_init(|| self.pattern.as_deref().and_then(patterns::compile))
            .as_ref()
    }

    /// Whether a structure member is required.
    pub fn is_required(&self, member: &str) -> bool {
        self.required.iter().any(|r| r == member)
    }
}

/// A botocore paginator: how an operation pages its results.
#[derive(Debug, Deserialize)]
pub struct Pagination {
    /// The input member carrying the token (`nextToken`).
    pub input_token: String,
    /// The output member carrying the next token (`nextToken`), absent on the last page.
    pub output_token: String,
    /// The input member holding the page size (`maxResults`).
    pub limit_key: String,
    /// The output member(s) holding the page's items; dotted paths such as
    /// `imageScanFindings.findings` descend into structures.
    pub result_key: Vec<String>,
}

/// Service metadata from the embedded model.
pub fn metadata() -> &'static Metadata {
    &MODEL.metadata
}

/// Looks a shape up by name.
pub fn shape(name: &str) -> Option<&'static Shape> {
    MODEL.shapes.get(name)
}

/// Every shape in the model, by name (unordered).
pub fn shapes() -> impl Iterator<Item = (&'static str, &'static Shape)> {
    let model: &'static Model = &MODEL;
    model.shapes.iter().map(|(n, s)| (n.as_str(), s))
}

/// The error codes the model lists for an operation. Generic AWS errors (`AccessDeniedException`,
/// `SerializationException`, ...) are not modeled and so not included.
pub fn error_shapes(op: Operation) -> &'static [&'static str] {
    let index = Operation::ALL
        .iter()
        .position(|o| *o == op)
        .expect("Operation::ALL lists every operation");
    &ERRORS[index]
}

/// The botocore paginator for an operation, if it has one.
pub fn paginated(op: Operation) -> Option<&'static Pagination> {
    MODEL.pagination.get(op.name())
}
