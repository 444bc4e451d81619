//! The entry point of every AWS JSON request on `POST /`: the request is read and authenticated
//! through the protocol layer (`aws_json`), its operation named before anything can refuse it,
//! the resulting [`Call`] handed to its service (`ecr`, `ecr_public`), and the outcome given its
//! one audit call and its metrics label (the `x-amzn-RequestId` header is set here too). It sits
//! above the services and the audit trail, which all build on `aws_json`.

use crate::aws_json::{self, AwsError, Call, Service};
use crate::AppState;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use wharf_core::{Client, Principal};

/// The `eventSource` of a service's calls in the audit trail.
fn audit_source(service: Service) -> &'static str {
    match service {
        Service::Ecr => crate::audit::ECR_SOURCE,
        Service::EcrPublic => crate::audit::ECR_PUBLIC_SOURCE,
    }
}

/// The name of one of a service's operations, if it has that operation.
fn operation_name(service: Service, operation: &str) -> Option<&'static str> {
    match service {
        Service::Ecr => crate::ecr::operation_name(operation),
        Service::EcrPublic => crate::ecr_public::Operation::from_name(operation).map(|o| o.name()),
    }
}

/// Entry point for every AWS JSON request: serves it, names its operation for the metrics, and
/// makes its one call into the audit trail.
pub async fn handle(state: AppState, client: Client, req: Request, service: Service) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut call = crate::audit::Call::new(client, req.headers());
    call.access_key_id = crate::audit::sigv4_access_key(req.headers());
    let result = serve(&state, client, req, service, &mut call).await;
    crate::audit::ecr(&state, audit_source(service), &call, &request_id, &result);
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
        .insert(crate::operation_label::Operation(operation));
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
    let name = operation_name(service, &operation);
    if let Some(name) = name {
        audit.event_name = Some(name);
        audit.mutating = crate::audit::ecr_mutating(name);
    }
    let body = aws_json::body::read(body).await?;
    // Once per request, before anything reads a cache (authorization does).
    crate::sync_caches(state)
        .await
        .map_err(|e| AwsError::from_core(e, "", ""))?;
    let principal =
        aws_json::sigv4::authenticate(state, &parts, &body, service.signing_name()).await?;
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
        Some(_) => aws_json::json_input(&body)?,
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
