//! Validating a request body against its operation's input shape, the way AWS's frontend does.
//!
//! AWS first deserializes the body into the input type and then checks the modeled constraints.
//! We follow the same two phases in one walk: a JSON type that does not fit the shape stops the
//! walk at once with a `SerializationException`, while constraint violations are collected and
//! reported together (`2 validation errors detected: ...; ...`) as `InvalidParameterException`.
//!
//! Decisions, each chosen to be what a real client can observe from AWS:
//!
//! * **Unknown members are ignored.** botocore never sends them (it validates parameter names on
//!   the client), and AWS's JSON frontends skip fields they do not know, which keeps older servers
//!   working with newer SDKs. Rejecting them would break a newer botocore that learnt a member this
//!   snapshot does not know.
//! * **`null` counts as absent**, so a required member sent as `null` gets the same
//!   `Value null at 'x' ...: Member must not be null` message as a missing one.
//! * **Paths** use AWS's Coral style: structure members are joined with `.`, list elements are
//!   `<list>.<1-based index>.member`, map values are `<map>.<key>`; e.g.
//!   `imageIds.1.member.imageTag`. Constraint text such as the pattern is quoted from the model
//!   verbatim, not in its translated form.
//! * **Lengths** count Unicode scalar values for strings and decoded bytes for blobs.
//! * **Values echoed** in messages are cut to [`MAX_ECHO`] characters, so a 4 MiB manifest that
//!   is too long is not sent back whole.
//! * For one value, its checks run in the order pattern, length, range, enum.

use base64::Engine as _;
use serde_json::{Map, Number, Value};

use crate::error::{ValidationError, Violation};
use crate::model::{self, Shape, ShapeType};
use crate::operations::Operation;

/// At most this many characters of an offending value are quoted in a message.
pub const MAX_ECHO: usize = 1024;

/// Checks a request body against the input shape of `op`.
///
/// Returns the first type mismatch as a `SerializationException`-kind error, or else all
/// constraint violations as one `InvalidParameterException`-kind error.
pub fn validate_input(op: Operation, body: &Value) -> Result<(), ValidationError> {
    if !body.is_object() {
        let message = unexpected(body, ShapeType::Structure);
        return Err(ValidationError::serialization("", message));
    }
    validate_shape(op.input_shape(), body, "")
}

/// Checks `value` against the named shape, reporting paths under `path`.
fn validate_shape(shape: &str, value: &Value, path: &str) -> Result<(), ValidationError> {
    let mut walk = Walk {
        violations: Vec::new(),
    };
    walk.value(value, shape, path)?;
    if walk.violations.is_empty() {
        Ok(())
    } else {
        Err(ValidationError::constraints(walk.violations))
    }
}

struct Walk {
    violations: Vec<Violation>,
}

type Step = Result<(), ValidationError>;

impl Walk {
    fn violation(&mut self, field: &str, value: Option<&Value>, constraint: &str) {
        self.violation_text(field, value, &format!("Member must {constraint}"));
    }

    fn violation_text(&mut self, field: &str, value: Option<&Value>, constraint: &str) {
        let shown = match value {
            None | Some(Value::Null) => "null".to_owned(),
            Some(v) => format!("'{}'", echo(v)),
        };
        self.violations.push(Violation {
            field: field.to_owned(),
            message: format!(
                "Value {shown} at '{field}' failed to satisfy constraint: {constraint}"
            ),
        });
    }

    fn structure(&mut self, object: &Map<String, Value>, shape: &Shape, path: &str) -> Step {
        for member in &shape.members {
            let field = join(path, &member.name);
            match object.get(&member.name) {
                None | Some(Value::Null) if shape.is_required(&member.name) => {
                    self.violation(&field, None, "not be null");
                }
                None | Some(Value::Null) => {}
                Some(value) => self.value(value, &member.shape, &field)?,
            }
        }
        Ok(())
    }

    fn value(&mut self, value: &Value, shape_name: &str, path: &str) -> Step {
        let shape = model::shape(shape_name).expect("every referenced shape is in the model");
        let mismatch = || {
            Err(ValidationError::serialization(
                path,
                unexpected(value, shape.kind),
            ))
        };
        match (shape.kind, value) {
            (ShapeType::Structure, Value::Object(object)) => self.structure(object, shape, path),
            (ShapeType::List, Value::Array(items)) => self.list(value, items, shape, path),
            (ShapeType::Map, Value::Object(entries)) => self.map(value, entries, shape, path),
            (ShapeType::String, Value::String(s)) => {
                self.string(value, s, shape, path);
                Ok(())
            }
            (ShapeType::Integer, Value::Number(n)) => self.integer(value, n, shape, path, 32),
            (ShapeType::Long, Value::Number(n)) => self.integer(value, n, shape, path, 64),
            (ShapeType::Double, Value::Number(_)) | (ShapeType::Boolean, Value::Bool(_)) => Ok(()),
            (ShapeType::Timestamp, Value::Number(_)) => Ok(()),
            (ShapeType::Timestamp, Value::String(s)) if is_timestamp_text(s) => Ok(()),
            (ShapeType::Timestamp, Value::String(_)) => Err(ValidationError::serialization(
                path,
                format!("Unable to parse the timestamp at '{path}'"),
            )),
            (ShapeType::Blob, Value::String(s)) => self.blob(value, s, shape, path),
            _ => mismatch(),
        }
    }

    fn list(&mut self, whole: &Value, items: &[Value], shape: &Shape, path: &str) -> Step {
        self.length(whole, items.len(), shape, path);
        let member = &shape
            .member
            .as_ref()
            .expect("a list shape has a member")
            .shape;
        for (i, item) in items.iter().enumerate() {
            let field = format!("{path}.{}.member", i + 1);
            if item.is_null() {
                self.violation(&field, None, "not be null");
            } else {
                self.value(item, member, &field)?;
            }
        }
        Ok(())
    }

    fn map(
        &mut self,
        whole: &Value,
        entries: &Map<String, Value>,
        shape: &Shape,
        path: &str,
    ) -> Step {
        self.length(whole, entries.len(), shape, path);
        let key_shape = shape.key.as_ref().and_then(|k| model::shape(&k.shape));
        let value_shape = &shape.value.as_ref().expect("a map shape has a value").shape;
        for (key, value) in entries {
            if let Some(key_shape) = key_shape {
                // AWS reports a bad key as a violation of the map itself.
                let mut keys = Walk {
                    violations: Vec::new(),
                };
                keys.string(&Value::String(key.clone()), key, key_shape, path);
                for v in keys.violations {
                    let inner = v.message.split("failed to satisfy constraint: ").nth(1);
                    let text = format!(
                        "Map keys must satisfy constraint: [{}]",
                        inner.unwrap_or("")
                    );
                    self.violation_text(path, Some(whole), &text);
                }
            }
            let field = join(path, key);
            if value.is_null() {
                self.violation(&field, None, "not be null");
            } else {
                self.value(value, value_shape, &field)?;
            }
        }
        Ok(())
    }

    fn string(&mut self, value: &Value, s: &str, shape: &Shape, path: &str) {
        if let (Some(pattern), Some(re)) = (&shape.pattern, shape.regex()) {
            if !re.is_match(s) {
                let text = format!("satisfy regular expression pattern: {pattern}");
                self.violation(path, Some(value), &text);
            }
        }
        self.length(value, s.chars().count(), shape, path);
        if let Some(allowed) = &shape.enum_values {
            if !allowed.iter().any(|a| a == s) {
                let text = format!("satisfy enum value set: [{}]", allowed.join(", "));
                self.violation(path, Some(value), &text);
            }
        }
    }

    fn blob(&mut self, value: &Value, s: &str, shape: &Shape, path: &str) -> Step {
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(s) else {
            return Err(ValidationError::serialization(
                path,
                format!("Value at '{path}' is not valid base64"),
            ));
        };
        self.length(value, bytes.len(), shape, path);
        Ok(())
    }

    fn integer(&mut self, value: &Value, n: &Number, shape: &Shape, path: &str, bits: u32) -> Step {
        let (min, max) = if bits == 32 {
            (i64::from(i32::MIN), i64::from(i32::MAX))
        } else {
            (i64::MIN, i64::MAX)
        };
        let integral = n.as_i64().or_else(|| {
            // `5.0` is integral; `5.5` and out-of-range numbers are not.
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= -9.2e18 && *f <= 9.2e18)
                .map(|f| f as i64)
        });
        let Some(i) = integral.filter(|i| (min..=max).contains(i)) else {
            let target = if bits == 32 { "an Integer" } else { "a Long" };
            return Err(ValidationError::serialization(
                path,
                format!("NUMBER_VALUE can not be converted to {target}"),
            ));
        };
        if let Some(lo) = shape.min.filter(|lo| i < *lo) {
            self.violation(
                path,
                Some(value),
                &format!("have value greater than or equal to {lo}"),
            );
        }
        if let Some(hi) = shape.max.filter(|hi| i > *hi) {
            self.violation(
                path,
                Some(value),
                &format!("have value less than or equal to {hi}"),
            );
        }
        Ok(())
    }

    fn length(&mut self, value: &Value, len: usize, shape: &Shape, path: &str) {
        let len = i64::try_from(len).unwrap_or(i64::MAX);
        if let Some(lo) = shape.min.filter(|lo| len < *lo) {
            self.violation(
                path,
                Some(value),
                &format!("have length greater than or equal to {lo}"),
            );
        }
        if let Some(hi) = shape.max.filter(|hi| len > *hi) {
            self.violation(
                path,
                Some(value),
                &format!("have length less than or equal to {hi}"),
            );
        }
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// The deserializer's complaint when a JSON value has the wrong type for a shape, worded like the
/// messages AWS JSON frontends send with `SerializationException`.
fn unexpected(value: &Value, expected: ShapeType) -> String {
    match value {
        Value::Array(_) => "Start of list found where not expected.".to_owned(),
        Value::Object(_) => "Start of structure or map found where not expected.".to_owned(),
        Value::String(_) => format!(
            "STRING_VALUE can not be converted to {}",
            java_type(expected)
        ),
        Value::Number(_) => format!(
            "NUMBER_VALUE can not be converted to {}",
            java_type(expected)
        ),
        Value::Bool(b) => {
            let token = if *b { "TRUE_VALUE" } else { "FALSE_VALUE" };
            format!("{token} can not be converted to {}", java_type(expected))
        }
        Value::Null => "Unexpected null".to_owned(),
    }
}

fn java_type(kind: ShapeType) -> &'static str {
    match kind {
        ShapeType::Structure => "a Structure",
        ShapeType::List => "a List",
        ShapeType::Map => "a Map",
        ShapeType::String => "a String",
        ShapeType::Integer => "an Integer",
        ShapeType::Long => "a Long",
        ShapeType::Double => "a Double",
        ShapeType::Boolean => "a Boolean",
        ShapeType::Timestamp => "a Date",
        ShapeType::Blob => "a ByteBuffer",
    }
}

/// Accepts the string forms of a timestamp: epoch seconds (`"1700000000.5"`) or an ISO 8601
/// date-time (`2023-11-14T22:13:20Z`, with optional fraction and offset).
fn is_timestamp_text(s: &str) -> bool {
    if s.parse::<f64>().is_ok_and(f64::is_finite) {
        return true;
    }
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    b.len() >= 19
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't' | b' ')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
}

/// Renders a value the way AWS quotes it in messages: strings bare, lists as `[a, b]`, other
/// values as compact JSON; cut to [`MAX_ECHO`] characters.
fn echo(value: &Value) -> String {
    let text = render(value);
    if text.chars().count() <= MAX_ECHO {
        text
    } else {
        let mut cut: String = text.chars().take(MAX_ECHO).collect();
        cut.push_str("...");
        cut
    }
}

fn render(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(render).collect();
            format!("[{}]", parts.join(", "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn timestamps_accept_epoch_numbers_and_date_strings() {
        for ok in [
            json!(1_700_000_000),
            json!(1_700_000_000.123),
            json!("1700000000.5"),
        ] {
            assert_eq!(
                validate_shape("CreationTimestamp", &ok, "t"),
                Ok(()),
                "{ok}"
            );
        }
        for ok in ["2023-11-14T22:13:20Z", "2023-11-14T22:13:20.5+01:00"] {
            assert_eq!(
                validate_shape("CreationTimestamp", &json!(ok), "t"),
                Ok(()),
                "{ok}"
            );
        }
        let err = validate_shape("CreationTimestamp", &json!("yesterday"), "t").unwrap_err();
        assert_eq!(err.code(), "SerializationException");
        let err = validate_shape("CreationTimestamp", &json!(true), "t").unwrap_err();
        assert_eq!(err.message(), "TRUE_VALUE can not be converted to a Date");
    }

    #[test]
    fn maps_check_keys_values_and_types() {
        let counts = json!({"HIGH": 1, "CRITICAL": 0});
        assert_eq!(
            validate_shape("FindingSeverityCounts", &counts, "c"),
            Ok(())
        );
        let bad_key = json!({"SEVERE": 1});
        let err = validate_shape("FindingSeverityCounts", &bad_key, "c").unwrap_err();
        assert_eq!(
            err.message(),
            "1 validation error detected: Value '{\"SEVERE\":1}' at 'c' failed to satisfy \
             constraint: Map keys must satisfy constraint: [Member must satisfy enum value set: \
             [INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL, UNDEFINED]]"
        );
        let bad_value = json!({"LOW": -1});
        let err = validate_shape("FindingSeverityCounts", &bad_value, "c").unwrap_err();
        assert_eq!(err.field(), "c.LOW");
        let err = validate_shape("FindingSeverityCounts", &json!({"LOW": "1"}), "c").unwrap_err();
        assert_eq!(
            err.message(),
            "STRING_VALUE can not be converted to an Integer"
        );
    }

    #[test]
    fn long_values_and_doubles() {
        assert_eq!(
            validate_shape("ImageSizeInBytes", &json!(5_000_000_000_i64), "s"),
            Ok(())
        );
        assert_eq!(validate_shape("Score", &json!(7.5), "s"), Ok(()));
        let err = validate_shape("InUseCount", &json!(-1), "s").unwrap_err();
        assert!(err
            .message()
            .ends_with("Member must have value greater than or equal to 0"));
    }
}
