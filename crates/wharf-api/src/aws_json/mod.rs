//! The awsJson1.1 protocol layer shared by the AWS services on `POST /`: Amazon ECR
//! (`AmazonEC2ContainerRegistry_V20150921.*`) and Amazon ECR Public (`SpencerFrontendService.*`).
//!
//! It owns what the protocol is, not what a service means: routing by `X-Amz-Target` prefix to a
//! closed [`Service`], the body limit, SigV4 verification under the service's signing name
//! (a verified `Principal` comes out), JSON bodies, the `x-amzn-RequestId` header and the error
//! envelope ([`AwsError`]). Each service's operations live in its own module (`ecr/`,
//! `ecr_public/`), reached through one `serve` function per service with a [`Call`].

mod body;
mod error;
mod sigv4;

pub use error::AwsError;

use crate::AppState;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
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

    /// The `eventSource` of its calls in the audit trail.
    pub fn audit_source(self) -> &'static str {
        match self {
            Service::Ecr => crate::audit::ECR_SOURCE,
            Service::EcrPublic => crate::audit::ECR_PUBLIC_SOURCE,
        }
    }

    /// The name of one of its operations, if it has that operation.
    fn operation_name(self, operation: &str) -> Option<&'static str> {
        match self {
            Service::Ecr => crate::ecr::operation_name(operation),
            Service::EcrPublic => {
                crate::ecr_public::Operation::from_name(operation).map(|o| o.name())
            }
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

/// Entry point for every AWS JSON request: serves it, names its operation for the metrics, and
/// makes its one call into the audit trail.
pub async fn handle(state: AppState, client: Client, req: Request, service: Service) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut call = crate::audit::Call::new(client, req.headers());
    call.access_key_id = crate::audit::sigv4_access_key(req.headers());
    let result = serve(&state, client, req, service, &mut call).await;
    crate::audit::ecr(&state, service.audit_source(), &call, &request_id, &result);
    let operation = call.event_name.unwrap_or("unknown");
    let mut resp = match result {
        Ok(v) => {
            let mut r = (StatusCode::OK, v.to_string()).into_response();
            r.headers_mut().insert(
                "content-type",
                HeaderValue::from_static("application/x-amz-json-1.1"),
            );
            r
        }
        Err(e) => e.into_response(),
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-amzn-requestid", v);
    }
    resp.extensions_mut()
        .insert(crate::metrics::Operation(operation));
    resp
}

async fn serve(
    state: &AppState,
    client: Client,
    req: Request,
    service: Service,
    audit: &mut crate::audit::Call,
) -> Result<Value, AwsError> {
    if req.method() != Method::POST {
        return Err(AwsError::new(
            "UnknownOperationException",
            format!("The {} API only accepts POST requests.", service.title()),
        ));
    }
    let (parts, body) = req.into_parts();
    let operation = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.strip_prefix(service.target_prefix()))
        .unwrap_or("")
        .to_string();
    // Named before authentication, so a refused call is recorded under its operation.
    let name = service.operation_name(&operation);
    if let Some(name) = name {
        audit.event_name = Some(name);
        audit.mutating = crate::audit::ecr_mutating(name);
    }
    let body = body::read(body).await?;
    // Once per request, before anything reads a cache (authorization does).
    crate::sync_caches(state)
        .await
        .map_err(|e| AwsError::from_core(e, "", ""))?;
    let principal = sigv4::authenticate(state, &parts, &body, service.signing_name()).await?;
    audit.principal = Some(principal.clone());
    let Principal::User(user) = &principal else {
        return Err(AwsError::new(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    // The body of an operation the service does not have is never parsed: the service answers
    // that the operation is unknown.
    let input = match name {
        Some(_) => json_input(&body)?,
        None => Value::Null,
    };
    if name.is_some() {
        audit.set_parameters(&input);
    }
    let call = Call {
        caller_account: user.account.clone(),
        principal: principal.clone(),
        client,
        operation,
        input,
    };
    match service {
        Service::Ecr => crate::ecr::serve(state, call).await,
        Service::EcrPublic => crate::ecr_public::serve(state, call).await,
    }
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
