//! The awsJson1.1 protocol layer shared by the AWS services on `POST /`: Amazon ECR
//! (`AmazonEC2ContainerRegistry_V20150921.*`) and Amazon ECR Public (`SpencerFrontendService.*`).
//!
//! It owns what the protocol is, not what a service means: routing by `X-Amz-Target` prefix to a
//! closed [`Service`], the body limit, SigV4 verification under the service's signing name
//! (a verified `Principal` comes out), JSON bodies and the error envelope ([`AwsError`]). Each
//! service's operations live in its own module (`ecr/`, `ecr_public/`), which builds on this one;
//! the entry point that reads a request through this layer and hands a [`Call`] to the service's
//! `serve` is `aws_entry.rs`, above both.

pub(crate) mod body;
mod error;
pub(crate) mod sigv4;

pub use error::AwsError;

use axum::extract::Request;
use serde_json::Value;
use wharf_core::{AccountId, Client, Principal};

/// The AWS JSON services Wharf answers, told apart by their target prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Ecr,
    EcrPublic,
}

impl Service {
    /// Every service, for routing.
    const ALL: [Service; 2] = [Service::Ecr, Service::EcrPublic];

    /// What precedes the operation name in `X-Amz-Target`.
    pub fn target_prefix(self) -> &'static str {
        match self {
            Service::Ecr => "AmazonEC2ContainerRegistry_V20150921.",
            Service::EcrPublic => "SpencerFrontendService.",
        }
    }

    /// The SigV4 service name clients sign with.
    pub fn signing_name(self) -> &'static str {
        match self {
            Service::Ecr => "ecr",
            Service::EcrPublic => "ecr-public",
        }
    }

    /// The `surface` label of its requests' metrics.
    pub fn surface(self) -> &'static str {
        match self {
            Service::Ecr => "ecr",
            Service::EcrPublic => "ecr-public",
        }
    }

    /// The service's name in messages.
    pub fn title(self) -> &'static str {
        match self {
            Service::Ecr => "ECR",
            Service::EcrPublic => "ECR Public",
        }
    }

    /// The service a target belongs to and the operation name after its prefix.
    pub fn of_target(target: &str) -> Option<(Service, &str)> {
        Service::ALL
            .into_iter()
            .find_map(|s| target.strip_prefix(s.target_prefix()).map(|op| (s, op)))
    }
}

/// The AWS JSON service a request is for: `POST /` (or any method, answered with an error) with
/// an `X-Amz-Target` naming a known service.
pub fn service_of(req: &Request) -> Option<Service> {
    if req.uri().path() != "/" {
        return None;
    }
    let target = req.headers().get("x-amz-target")?.to_str().ok()?;
    Service::of_target(target).map(|(s, _)| s)
}

/// An authenticated call, handed to a service's `serve`.
pub struct Call {
    pub principal: Principal,
    /// The caller's own account: the registry an operation acts on unless the input says otherwise.
    pub caller_account: AccountId,
    pub client: Client,
    /// The operation name after the target prefix (not yet checked against the service's model).
    pub operation: String,
    /// The request body as JSON (`{}` when empty); `null` for an operation the service does
    /// not have, whose body is never read as JSON.
    pub input: Value,
}

/// Parses a request body as a JSON object; an empty body is `{}`.
pub fn json_input(body: &[u8]) -> Result<Value, AwsError> {
    if body.is_empty() {
        return Ok(serde_json::json!({}));
    }
    serde_json::from_slice(body).map_err(|e| {
        AwsError::new(
            "SerializationException",
            format!("The request body is not valid JSON: {e}"),
        )
    })
}

/// The error every service answers for an operation its target prefix does not know.
pub fn unknown_operation(service: Service, operation: &str) -> AwsError {
    AwsError::new(
        "UnknownOperationException",
        format!(
            "The operation {operation:?} is not part of the {} API.",
            service.title()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_route_by_prefix() {
        assert_eq!(
            Service::of_target("AmazonEC2ContainerRegistry_V20150921.ListImages"),
            Some((Service::Ecr, "ListImages"))
        );
        assert_eq!(
            Service::of_target("SpencerFrontendService.DescribeRegistries"),
            Some((Service::EcrPublic, "DescribeRegistries"))
        );
        assert_eq!(Service::of_target("DynamoDB_20120810.GetItem"), None);
        assert_eq!(Service::of_target("SpencerFrontendService"), None);
    }

    #[test]
    fn unknown_operations_name_the_service() {
        let e = unknown_operation(Service::EcrPublic, "Nope");
        assert_eq!(e.code, "UnknownOperationException");
        assert!(e.message.contains("ECR Public"), "{}", e.message);
    }

    #[test]
    fn empty_body_is_an_empty_object() {
        assert_eq!(json_input(b"").unwrap(), serde_json::json!({}));
        assert_eq!(json_input(b"{").unwrap_err().code, "SerializationException");
    }
}
