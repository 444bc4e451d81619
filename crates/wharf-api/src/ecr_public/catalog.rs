//! Catalog data: a public repository's (Get/PutRepositoryCatalogData, also set by
//! CreateRepository) and the registry's (Get/PutRegistryCatalogData), with logo images served
//! without credentials at `/ecr-public/logos/<sha256 hex>` (the `logoUrl`).

use super::public_repo;
use super::wire::{catalog_json, check_len, logo_url, CatalogText, LOGO_PATH};
use crate::ecr::{Ctx, EcrError};
use crate::AppState;
use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use wharf_core::Action;
use wharf_core::Repo;

/// The largest logo image the model allows.
const MAX_LOGO: usize = 512_000;

/// `RepositoryCatalogDataInput`. `categories` is accepted and not kept (Wharf has no gallery).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CatalogInput {
    description: Option<String>,
    architectures: Option<Vec<String>>,
    operating_systems: Option<Vec<String>>,
    logo_image_blob: Option<String>,
    about_text: Option<String>,
    usage_text: Option<String>,
}

/// Catalog input that satisfied the model's bounds, with the logo decoded.
pub struct CheckedCatalog {
    text: CatalogText,
    logo: Option<Vec<u8>>,
}

/// The content type of a logo image: PNG or JPEG, by its magic bytes.
fn logo_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else {
        None
    }
}

fn decode_logo(blob: Option<&str>) -> Result<Option<Vec<u8>>, EcrError> {
    let Some(blob) = blob else { return Ok(None) };
    let bytes = STANDARD.decode(blob).map_err(|_| {
        EcrError::invalid(
            "Invalid parameter at 'logoImageBlob' failed to satisfy constraint: 'must be base64'",
        )
    })?;
    if bytes.len() > MAX_LOGO {
        return Err(EcrError::invalid(format!(
            "Invalid parameter at 'logoImageBlob' failed to satisfy constraint: 'Member must have length less than or equal to {MAX_LOGO}'"
        )));
    }
    if logo_type(&bytes).is_none() {
        return Err(EcrError::invalid(
            "Invalid parameter at 'logoImageBlob' failed to satisfy constraint: 'the logo must be a PNG or JPEG image'",
        ));
    }
    Ok(Some(bytes))
}

fn check_list(field: &str, list: &Option<Vec<String>>) -> Result<(), EcrError> {
    let Some(list) = list else { return Ok(()) };
    if list.len() > 50 {
        return Err(EcrError::invalid(format!(
            "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length less than or equal to 50"
        )));
    }
    list.iter()
        .try_for_each(|v| check_len(&format!("{field}.member"), v, 1, 50))
}

impl CatalogInput {
    pub fn check(self) -> Result<CheckedCatalog, EcrError> {
        if let Some(d) = &self.description {
            check_len("catalogData.description", d, 0, 1024)?;
        }
        if let Some(t) = &self.about_text {
            check_len("catalogData.aboutText", t, 0, 25600)?;
        }
        if let Some(t) = &self.usage_text {
            check_len("catalogData.usageText", t, 0, 25600)?;
        }
        check_list("catalogData.architectures", &self.architectures)?;
        check_list("catalogData.operatingSystems", &self.operating_systems)?;
        let logo = decode_logo(self.logo_image_blob.as_deref())?;
        Ok(CheckedCatalog {
            text: CatalogText {
                description: self.description,
                architectures: self.architectures,
                operating_systems: self.operating_systems,
                about_text: self.about_text,
                usage_text: self.usage_text,
            },
            logo,
        })
    }
}

/// The stored text of a repository's catalog data (empty when none was put) and its logo.
async fn stored(ctx: &Ctx<'_>, repo: &Repo) -> Result<(CatalogText, Option<String>), EcrError> {
    let data = ctx
        .state
        .registry
        .catalog_data(repo)
        .await
        .map_err(|e| ctx.core_error(e, repo))?;
    Ok(match data {
        Some(d) => (
            serde_json::from_str(&d.data).unwrap_or_default(),
            d.logo_digest,
        ),
        None => (CatalogText::default(), None),
    })
}

/// Stores catalog data over what a repository has: fields given replace theirs, others stay.
pub async fn store_catalog(
    ctx: &Ctx<'_>,
    repo: &Repo,
    new: CheckedCatalog,
) -> Result<Value, EcrError> {
    let (old, _) = stored(ctx, repo).await?;
    let t = new.text;
    let text = CatalogText {
        description: t.description.or(old.description),
        architectures: t.architectures.or(old.architectures),
        operating_systems: t.operating_systems.or(old.operating_systems),
        about_text: t.about_text.or(old.about_text),
        usage_text: t.usage_text.or(old.usage_text),
    };
    let json_text = serde_json::to_string(&text).map_err(|_| EcrError::server())?;
    let saved = ctx
        .state
        .registry
        .put_catalog_data(repo, &json_text, new.logo.as_deref())
        .await
        .map_err(|e| ctx.core_error(e, repo))?;
    Ok(catalog_json(
        &ctx.state.ecr,
        &text,
        saved.logo_digest.as_deref(),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetRepositoryCatalogData {
    registry_id: Option<String>,
    repository_name: String,
}

pub async fn get_repository(
    ctx: &Ctx<'_>,
    input: GetRepositoryCatalogData,
) -> Result<Value, EcrError> {
    let (repo, _) = public_repo(ctx, input.registry_id.as_deref(), &input.repository_name).await?;
    ctx.authorize(Action::GetRepositoryCatalogData, &repo)
        .await?;
    let (text, logo) = stored(ctx, &repo).await?;
    Ok(json!({ "catalogData": catalog_json(&ctx.state.ecr, &text, logo.as_deref()) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutRepositoryCatalogData {
    registry_id: Option<String>,
    repository_name: String,
    catalog_data: CatalogInput,
}

pub async fn put_repository(
    ctx: &Ctx<'_>,
    input: PutRepositoryCatalogData,
) -> Result<Value, EcrError> {
    let (repo, _) = public_repo(ctx, input.registry_id.as_deref(), &input.repository_name).await?;
    ctx.authorize(Action::PutRepositoryCatalogData, &repo)
        .await?;
    let checked = input.catalog_data.check()?;
    let catalog = store_catalog(ctx, &repo, checked).await?;
    Ok(json!({ "catalogData": catalog }))
}

fn registry_catalog_json(ctx: &Ctx<'_>, r: &wharf_core::model::PublicRegistry) -> Value {
    let mut v = json!({ "displayName": r.display_name });
    if !r.description.is_empty() {
        v["description"] = json!(r.description);
    }
    if let Some(d) = &r.logo_digest {
        v["logoUrl"] = json!(logo_url(&ctx.state.ecr, d));
    }
    v
}

pub async fn get_registry(ctx: &Ctx<'_>) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::GetRegistryCatalogData, &account)
        .await?;
    let r = ctx
        .state
        .registry
        .public_registry(&account)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    Ok(json!({ "registryCatalogData": registry_catalog_json(ctx, &r) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutRegistryCatalogData {
    display_name: Option<String>,
    description: Option<String>,
    logo_image_blob: Option<String>,
}

pub async fn put_registry(ctx: &Ctx<'_>, input: PutRegistryCatalogData) -> Result<Value, EcrError> {
    let account = ctx.caller_account.clone();
    ctx.authorize_registry(Action::PutRegistryCatalogData, &account)
        .await?;
    if let Some(n) = &input.display_name {
        check_len("displayName", n, 0, 100)?;
    }
    if let Some(d) = &input.description {
        check_len("description", d, 0, 1024)?;
    }
    let logo = decode_logo(input.logo_image_blob.as_deref())?;
    let current = ctx
        .state
        .registry
        .public_registry(&account)
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    let r = ctx
        .state
        .registry
        .put_registry_catalog_data(
            &account,
            input
                .display_name
                .as_deref()
                .unwrap_or(&current.display_name),
            input.description.as_deref().unwrap_or(&current.description),
            logo.as_deref(),
        )
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    Ok(json!({ "registryCatalogData": registry_catalog_json(ctx, &r) }))
}

/// The logo a request asks for: `GET|HEAD /ecr-public/logos/<64 hex digits>`.
pub fn logo_request(req: &Request) -> Option<String> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return None;
    }
    let hex = req.uri().path().strip_prefix(LOGO_PATH)?;
    (hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| hex.to_string())
}

/// Serves a logo image; catalog data is public, so no credentials are asked for.
pub async fn serve_logo(state: &AppState, digest: &str) -> Response {
    match state.registry.catalog_logo(digest).await {
        Ok(Some(bytes)) => {
            let kind = logo_type(&bytes).unwrap_or("application/octet-stream");
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, kind),
                    (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                ],
                bytes,
            )
                .into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, "no such logo").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "reading a catalog logo");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logos_must_be_png_or_jpeg() {
        let png = STANDARD.encode(b"\x89PNG\r\n\x1a\nrest");
        assert!(decode_logo(Some(&png)).unwrap().is_some());
        let gif = STANDARD.encode(b"GIF89a");
        assert_eq!(
            decode_logo(Some(&gif)).unwrap_err().code,
            "InvalidParameterException"
        );
        assert!(decode_logo(Some("%%%")).is_err());
        let big = STANDARD.encode([0xffu8; MAX_LOGO + 1]);
        assert!(decode_logo(Some(&big)).is_err());
    }

    #[test]
    fn catalog_bounds() {
        let long = CatalogInput {
            description: Some("x".repeat(1025)),
            ..Default::default()
        };
        assert!(long.check().is_err());
        let many = CatalogInput {
            architectures: Some(vec!["ARM".into(); 51]),
            ..Default::default()
        };
        assert!(many.check().is_err());
        let empty_item = CatalogInput {
            operating_systems: Some(vec![String::new()]),
            ..Default::default()
        };
        assert!(empty_item.check().is_err());
        let ok = CatalogInput {
            description: Some("d".into()),
            architectures: Some(vec!["x86-64".into()]),
            ..Default::default()
        };
        assert!(ok.check().is_ok());
    }

    #[test]
    fn logo_paths() {
        let hex = "a".repeat(64);
        let req = |m: Method, p: &str| {
            Request::builder()
                .method(m)
                .uri(p)
                .body(axum::body::Body::empty())
                .unwrap()
        };
        assert_eq!(
            logo_request(&req(Method::GET, &format!("{LOGO_PATH}{hex}"))),
            Some(hex.clone())
        );
        assert_eq!(
            logo_request(&req(Method::POST, &format!("{LOGO_PATH}{hex}"))),
            None
        );
        assert_eq!(
            logo_request(&req(Method::GET, &format!("{LOGO_PATH}{}", "A".repeat(64)))),
            None
        );
        assert_eq!(
            logo_request(&req(Method::GET, "/ecr-public/logos/../x")),
            None
        );
    }
}
