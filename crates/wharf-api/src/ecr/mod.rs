//! The ECR control plane: awsJson1.1 over `POST /` with `X-Amz-Target`, SigV4-authenticated.
//!
//! One entry point authenticates the request (a verified `Principal` comes out, or an AWS error),
//! validates the body against botocore's model, and dispatches the closed `Operation` enum to one
//! function per operation, grouped by resource in the files beside this one.

mod auth;
mod error;
mod findings;
mod id_page;
mod images;
mod layers;
mod lifecycle;
mod ops;
mod policies;
mod pull_exclusions;
mod registry;
mod replication;
mod repositories;
mod scanning;
mod signing;
mod wire;

pub use error::EcrError;
pub use wire::{registry_host, registry_url};

use crate::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Limited};
use wharf_core::Client;
use wharf_core::{Access, AccountId, CoreError, Principal, Repo, Resource};
use wharf_ecr_model::Operation;
use wharf_oci::RepoName;

/// Largest request body accepted: an `UploadLayerPart` of 20 MiB, base64-encoded, plus framing.
const MAX_BODY: usize = 28 * 1024 * 1024;

/// What an operation needs: the shared state and who is calling.
pub struct Ctx<'a> {
    pub state: &'a AppState,
    pub principal: Principal,
    /// The caller's own account: the registry an operation acts on unless `registryId` says otherwise.
    pub caller_account: AccountId,
    pub client: Client,
}

impl Ctx<'_> {
    /// The registry an operation targets.
    pub fn account(&self, registry_id: Option<&str>) -> Result<AccountId, EcrError> {
        match registry_id {
            None => Ok(self.caller_account.clone()),
            Some(id) => id.parse().map_err(|_| {
                EcrError::invalid(format!(
                    "Invalid parameter at 'registryId' failed to satisfy constraint: 'must satisfy regular expression '[0-9]{{12}}'', value: '{id}'"
                ))
            }),
        }
    }

    /// The repository an operation targets.
    pub fn repo(&self, registry_id: Option<&str>, name: &str) -> Result<Repo, EcrError> {
        let account = self.account(registry_id)?;
        let name: RepoName = name.parse().map_err(|e| {
            EcrError::invalid(format!(
                "Invalid parameter at 'repositoryName' failed to satisfy constraint: '{e}'"
            ))
        })?;
        Ok(Repo::new(account, name))
    }

    /// The repository an ARN names (`arn:aws:ecr:<region>:<account>:repository/<name>`).
    pub fn repo_from_arn(&self, arn: &str) -> Result<Repo, EcrError> {
        let bad = || {
            EcrError::invalid(format!("Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN {arn}'"))
        };
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [prefix, partition, service, _region, account, resource] = parts.as_slice() else {
            return Err(bad());
        };
        if *prefix != "arn" || *partition != "aws" || *service != "ecr" {
            return Err(bad());
        }
        let name = resource.strip_prefix("repository/").ok_or_else(bad)?;
        self.repo(Some(account), name).map_err(|_| bad())
    }

    /// Fails with `RepositoryNotFoundException` unless the repository exists.
    pub async fn require_repo(
        &self,
        repo: &Repo,
    ) -> Result<wharf_meta::RepositoryRecord, EcrError> {
        self.state
            .registry
            .repository(repo)
            .await
            .map_err(|e| self.core_error(e, repo))
    }

    fn access<'b>(&'b self, action: &'b str, resource: Resource<'b>) -> Access<'b> {
        Access {
            principal: &self.principal,
            action,
            resource,
            client: self.client,
            request_tags: &[],
        }
    }

    /// Authorizes an action on a repository, or answers `AccessDeniedException`.
    pub async fn authorize(&self, action: &str, repo: &Repo) -> Result<(), EcrError> {
        self.state
            .registry
            .authorize(&self.access(action, Resource::Repository(repo)))
            .await
            .map_err(|e| self.core_error(e, repo))
    }

    /// Authorizes a registry-level action (`Resource: "*"` in ECR's terms).
    pub async fn authorize_registry(
        &self,
        action: &str,
        account: &AccountId,
    ) -> Result<(), EcrError> {
        self.state
            .registry
            .authorize(&self.access(action, Resource::Registry(account)))
            .await
            .map_err(|e| self.core_error_account(e, account))
    }

    /// Authorizes `ecr:CreateRepository`, with the requested tags as `aws:RequestTag/…`.
    pub async fn authorize_create(
        &self,
        repo: &Repo,
        tags: &[(String, String)],
    ) -> Result<(), EcrError> {
        let mut access = self.access("ecr:CreateRepository", Resource::Repository(repo));
        access.request_tags = tags;
        self.state
            .registry
            .authorize(&access)
            .await
            .map_err(|e| self.core_error(e, repo))
    }

    /// Whether an action is allowed, without failing (for filtering listings).
    pub async fn allowed(&self, action: &str, repo: &Repo) -> Result<bool, EcrError> {
        match self
            .state
            .registry
            .authorize(&self.access(action, Resource::Repository(repo)))
            .await
        {
            Ok(()) => Ok(true),
            Err(CoreError::AccessDenied(_)) => Ok(false),
            Err(e) => Err(self.core_error(e, repo)),
        }
    }

    pub fn core_error(&self, e: CoreError, repo: &Repo) -> EcrError {
        EcrError::from_core(e, repo.account.as_str(), repo.name.as_str())
    }

    pub fn core_error_account(&self, e: CoreError, account: &AccountId) -> EcrError {
        EcrError::from_core(e, account.as_str(), "")
    }
}

/// The target prefix of every ECR operation.
const TARGET_PREFIX: &str = "AmazonEC2ContainerRegistry_V20150921.";

/// Whether a request is for this surface.
pub fn is_ecr_request(req: &Request) -> bool {
    req.uri().path() == "/"
        && req
            .headers()
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with(TARGET_PREFIX))
}

/// Entry point for every ECR API request: serves it, names its operation for the metrics, and
/// makes its one call into the audit trail.
pub async fn handle(State(state): State<AppState>, client: Client, req: Request) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut call = crate::audit::Call::new(client, req.headers());
    call.access_key_id = crate::audit::sigv4_access_key(req.headers());
    let result = serve(&state, client, req, &mut call).await;
    crate::audit::ecr(&state, &call, &request_id, &result);
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
    call: &mut crate::audit::Call,
) -> Result<serde_json::Value, EcrError> {
    if req.method() != axum::http::Method::POST {
        return Err(EcrError::new(
            "UnknownOperationException",
            "The ECR API only accepts POST requests.",
        ));
    }
    let (parts, body) = req.into_parts();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    // Named before authentication, so a refused call is recorded under its operation.
    if let Some(op) = Operation::from_target(&target) {
        call.event_name = Some(op.name());
        call.mutating = crate::audit::ecr_mutating(op.name());
    }
    let body = read_body(body).await?;
    // Once per request, before anything reads a cache (authorization does).
    crate::sync_caches(state)
        .await
        .map_err(|e| EcrError::from_core(e, "", ""))?;
    let principal = auth::authenticate(state, &parts, &body).await?;
    call.principal = Some(principal.clone());
    let Principal::User(user) = &principal else {
        return Err(EcrError::new(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    let ctx = Ctx {
        state,
        caller_account: user.account.clone(),
        principal: principal.clone(),
        client,
    };
    let Some(op) = Operation::from_target(&target) else {
        return Err(EcrError::new(
            "UnknownOperationException",
            format!(
                "The operation {:?} is not part of the ECR API.",
                target.strip_prefix(TARGET_PREFIX).unwrap_or(&target)
            ),
        ));
    };
    let input: serde_json::Value = if body.is_empty() {
        serde_json::json!({})
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            EcrError::new(
                "SerializationException",
                format!("The request body is not valid JSON: {e}"),
            )
        })?
    };
    call.set_parameters(&input);
    // The model's constraints (lengths, patterns, enums, list sizes) come first, as in ECR.
    wharf_ecr_model::validate_input(op, &input)
        .map_err(|e| EcrError::new(e.code(), e.message().to_string()))?;
    tracing::debug!(operation = op.name(), principal = %principal.arn(), "ecr request");
    ops::dispatch(&ctx, op.name(), input).await
}

async fn read_body(body: Body) -> Result<bytes::Bytes, EcrError> {
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(EcrError::new(
            "SerializationException",
            format!("The request body exceeds {MAX_BODY} bytes."),
        )),
        Err(_) => Err(EcrError::new(
            "SerializationException",
            "The request body could not be read.",
        )),
    }
}
