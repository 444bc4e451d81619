//! The JSON-schema pass: shape, types, required and unknown keys, enums and minimums.
//!
//! ECR validates the text against a JSON schema before any semantic check, and its details are
//! the messages of the Java validator it uses (`object has missing required properties
//! (["rules"])`, `instance value (foo) not found in enum :(possible values: [...])`). This module
//! reproduces those details and stops at the first failure, in document order: the policy, then
//! each rule's own keys, its `action`, then its `selection`, as ECR (and moto) report them.

use serde_json::{Map, Value};

use crate::error::LifecycleError;
use crate::storage_class::StorageClass;

/// The most rules one policy may hold (the ECR quota).
pub(crate) const MAX_RULES: usize = 50;

const POLICY_KEYS: &[&str] = &["rules"];
const RULE_REQUIRED: &[&str] = &["rulePriority", "selection", "action"];
const RULE_KEYS: &[&str] = &["rulePriority", "description", "selection", "action"];
const ACTION_REQUIRED: &[&str] = &["type"];
const ACTION_KEYS: &[&str] = &["type", "targetStorageClass"];
const SELECTION_REQUIRED: &[&str] = &["tagStatus", "countType", "countNumber"];
const SELECTION_KEYS: &[&str] = &[
    "tagStatus",
    "tagPrefixList",
    "tagPatternList",
    "storageClass",
    "countType",
    "countUnit",
    "countNumber",
];

/// `tagStatus` as written, before the semantic checks turn it into a `TagSelection`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RawTagStatus {
    Tagged,
    Untagged,
    Any,
}

/// `countType` as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RawCountType {
    ImageCountMoreThan,
    SinceImagePushed,
    SinceImagePulled,
    SinceImageTransitioned,
}

/// `action.type` as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RawActionType {
    Expire,
    Transition,
}

/// One rule that satisfies the schema; the cross-field rules are checked in `policy.rs`.
#[derive(Debug, Clone)]
pub(crate) struct RawRule {
    pub priority: i64,
    pub description: Option<String>,
    pub tag_status: RawTagStatus,
    pub prefixes: Option<Vec<String>>,
    pub patterns: Option<Vec<String>>,
    pub storage_class: StorageClass,
    pub count_type: RawCountType,
    pub count_number: i64,
    pub action: RawActionType,
    pub target: Option<StorageClass>,
}

fn fail<T>(detail: impl Into<String>) -> Result<T, LifecycleError> {
    Err(LifecycleError::new(detail))
}

/// The rules of a policy text that is already known to be within the length limits.
pub(crate) fn parse_rules(text: &str) -> Result<Vec<RawRule>, LifecycleError> {
    let Ok(Value::Object(policy)) = serde_json::from_str::<Value>(text) else {
        return fail("Could not map policyString into LifecyclePolicy.");
    };
    keys(&policy, POLICY_KEYS, POLICY_KEYS)?;
    let rules = array(&policy["rules"])?;
    if rules.is_empty() {
        return fail(
            "array is too short: must have at least 1 elements but instance has 0 elements",
        );
    }
    if rules.len() > MAX_RULES {
        return fail(format!(
            "array is too long: must have at most {MAX_RULES} elements but instance has {} elements",
            rules.len()
        ));
    }
    rules.iter().map(rule).collect()
}

fn rule(value: &Value) -> Result<RawRule, LifecycleError> {
    let rule = object(value)?;
    keys(rule, RULE_REQUIRED, RULE_KEYS)?;
    let priority = integer(&rule["rulePriority"])?;
    let description = match rule.get("description") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return wrong_type(other, "string"),
    };

    let action = object(&rule["action"])?;
    keys(action, ACTION_REQUIRED, ACTION_KEYS)?;
    let action_type = match enumerated(&action["type"], &["expire", "transition"])? {
        "expire" => RawActionType::Expire,
        _ => RawActionType::Transition,
    };
    let target = match action.get("targetStorageClass") {
        None => None,
        Some(v) => {
            enumerated(v, &["archive"])?;
            Some(StorageClass::Archive)
        }
    };

    let selection = object(&rule["selection"])?;
    keys(selection, SELECTION_REQUIRED, SELECTION_KEYS)?;
    let tag_status = match enumerated(&selection["tagStatus"], &["tagged", "untagged", "any"])? {
        "tagged" => RawTagStatus::Tagged,
        "untagged" => RawTagStatus::Untagged,
        _ => RawTagStatus::Any,
    };
    let prefixes = selection.get("tagPrefixList").map(strings).transpose()?;
    let patterns = selection.get("tagPatternList").map(strings).transpose()?;
    let storage_class = match selection.get("storageClass") {
        None => StorageClass::Standard,
        Some(v) => match enumerated(v, &["standard", "archive"])? {
            "standard" => StorageClass::Standard,
            _ => StorageClass::Archive,
        },
    };
    let has_unit = match selection.get("countUnit") {
        None => false,
        Some(v) => {
            enumerated(v, &["days"])?;
            true
        }
    };
    let count_number = integer(&selection["countNumber"])?;
    // The schema is a `oneOf` of two branches: a count without a unit, and an age with one.
    let count_type = match (selection["countType"].as_str(), has_unit) {
        (Some("imageCountMoreThan"), false) => RawCountType::ImageCountMoreThan,
        (Some("sinceImagePushed"), true) => RawCountType::SinceImagePushed,
        (Some("sinceImagePulled"), true) => RawCountType::SinceImagePulled,
        (Some("sinceImageTransitioned"), true) => RawCountType::SinceImageTransitioned,
        _ => return fail("instance failed to match exactly one schema (matched 0 out of 2)"),
    };

    Ok(RawRule {
        priority,
        description,
        tag_status,
        prefixes,
        patterns,
        storage_class,
        count_type,
        count_number,
        action: action_type,
        target,
    })
}

/// Required keys first, then keys the schema does not allow, each sorted and listed like the
/// validator does.
fn keys(
    object: &Map<String, Value>,
    required: &[&str],
    allowed: &[&str],
) -> Result<(), LifecycleError> {
    let mut missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|k| !object.contains_key(*k))
        .collect();
    if !missing.is_empty() {
        missing.sort_unstable();
        return fail(format!(
            "object has missing required properties ({})",
            json_list(&missing)
        ));
    }
    let mut unknown: Vec<&str> = object
        .keys()
        .map(String::as_str)
        .filter(|k| !allowed.contains(k))
        .collect();
    if !unknown.is_empty() {
        unknown.sort_unstable();
        return fail(format!(
            "object instance has properties which are not allowed by the schema: ({})",
            json_list(&unknown)
        ));
    }
    Ok(())
}

/// `["a","b"]`, the way the validator prints a list of names.
fn json_list(items: &[&str]) -> String {
    serde_json::to_string(items).unwrap_or_default()
}

/// The validator's name for a JSON value's type; an integral number is an `integer`.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn wrong_type<T>(value: &Value, expected: &str) -> Result<T, LifecycleError> {
    fail(format!(
        "instance type ({}) does not match any allowed primitive type (allowed: [\"{expected}\"])",
        type_name(value)
    ))
}

fn object(value: &Value) -> Result<&Map<String, Value>, LifecycleError> {
    match value {
        Value::Object(map) => Ok(map),
        other => wrong_type(other, "object"),
    }
}

fn array(value: &Value) -> Result<&Vec<Value>, LifecycleError> {
    match value {
        Value::Array(items) => Ok(items),
        other => wrong_type(other, "array"),
    }
}

fn strings(value: &Value) -> Result<Vec<String>, LifecycleError> {
    array(value)?
        .iter()
        .map(|item| match item {
            Value::String(s) => Ok(s.clone()),
            other => wrong_type(other, "string"),
        })
        .collect()
}

/// An integer of at least 1 (both `rulePriority` and `countNumber` have that minimum).
fn integer(value: &Value) -> Result<i64, LifecycleError> {
    let Value::Number(n) = value else {
        return wrong_type(value, "integer");
    };
    if let Some(i) = n.as_i64() {
        if i < 1 {
            return fail(format!(
                "numeric instance is lower than the required minimum (minimum: 1, found: {i})"
            ));
        }
        return Ok(i);
    }
    if n.is_u64() {
        // Larger than any timestamp arithmetic can use; ECR's Java schema stops at a 64-bit int.
        return fail(format!(
            "numeric instance is greater than the required maximum (maximum: {}, found: {n})",
            i64::MAX
        ));
    }
    wrong_type(value, "integer")
}

/// A string from a closed set; anything else gets the validator's enum message.
fn enumerated<'a>(value: &'a Value, allowed: &[&str]) -> Result<&'a str, LifecycleError> {
    if let Value::String(s) = value {
        if allowed.contains(&s.as_str()) {
            return Ok(s);
        }
    }
    let shown = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    fail(format!(
        "instance value ({shown}) not found in enum :(possible values: {})",
        json_list(allowed)
    ))
}
