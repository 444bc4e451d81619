//! The one error type of request validation, carrying the AWS error code and message to send.

/// Which AWS error a validation failure becomes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The body is not the JSON the shape needs (not an object, a string where a number belongs,
    /// bad base64). AWS fails these while deserializing, before any constraint is checked, and
    /// answers `SerializationException`.
    Serialization,
    /// The body has the right types but breaks a modeled constraint (required, length, range,
    /// pattern, enum). ECR answers `InvalidParameterException`.
    InvalidParameter,
}

/// One broken constraint: where, and the full AWS-style sentence describing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The member path, e.g. `repositoryName` or `imageIds.1.member.imageTag`.
    pub field: String,
    /// e.g. `Value null at 'repositoryName' failed to satisfy constraint: Member must not be null`.
    pub message: String,
}

/// Why a request body does not fit its operation's input shape.
///
/// Send it as `{"__type": code(), "message": message()}` with HTTP 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}", code = self.code())]
pub struct ValidationError {
    kind: ErrorKind,
    message: String,
    violations: Vec<Violation>,
    field: String,
}

impl ValidationError {
    pub(crate) fn serialization(field: &str, message: impl Into<String>) -> Self {
        ValidationError {
            kind: ErrorKind::Serialization,
            message: message.into(),
            violations: Vec::new(),
            field: field.to_owned(),
        }
    }

    /// Builds the AWS summary: `1 validation error detected: <v>` or
    /// `N validation errors detected: <v1>; <v2>; ...`.
    pub(crate) fn constraints(violations: Vec<Violation>) -> Self {
        let count = violations.len();
        let noun = if count == 1 { "error" } else { "errors" };
        let details: Vec<&str> = violations.iter().map(|v| v.message.as_str()).collect();
        ValidationError {
            kind: ErrorKind::InvalidParameter,
            message: format!("{count} validation {noun} detected: {}", details.join("; ")),
            field: violations
                .first()
                .map(|v| v.field.clone())
                .unwrap_or_default(),
            violations,
        }
    }

    /// Which wire error this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The AWS error code for `__type`: `SerializationException` or `InvalidParameterException`.
    pub fn code(&self) -> &'static str {
        match self.kind {
            ErrorKind::Serialization => "SerializationException",
            ErrorKind::InvalidParameter => "InvalidParameterException",
        }
    }

    /// The path of the (first) offending member; empty when the body itself is wrong.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The message to send to the client.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Every broken constraint, in the order found (empty for serialization errors).
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }
}
