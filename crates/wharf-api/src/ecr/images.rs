//! Image operations: ListImages, DescribeImages, BatchGetImage, BatchDeleteImage, PutImage and
//! ListImageReferrers.

use super::findings::{status_json, summary_json};
use super::id_page::IdPage;
use super::wire::{decode_token, encode_token, epoch, invalid_token};
use super::{Ctx, EcrError};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use wharf_core::model::ImageRecord;
use wharf_core::scan::ScanSummary;
use wharf_core::Action;
use wharf_core::{CoreError, ImageFailure, ImageId, Repo};
use wharf_oci::{Digest, MediaType, Reference, Tag};

#[derive(Deserialize, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ImageIdentifier {
    image_digest: Option<String>,
    image_tag: Option<String>,
}

impl ImageIdentifier {
    pub fn tag(&self) -> Option<&str> {
        self.image_tag.as_deref()
    }

    /// Whether this id names the image with `digest` and `tags`.
    pub fn names(&self, digest: &str, tags: &[String]) -> bool {
        self.image_digest.as_deref().is_none_or(|d| d == digest)
            && self
                .image_tag
                .as_deref()
                .is_none_or(|t| tags.iter().any(|x| x == t))
            && (self.image_digest.is_some() || self.image_tag.is_some())
    }

    /// ECR's `ImageNotFoundException` for this id.
    pub fn not_found(&self, repo: &Repo) -> EcrError {
        EcrError::new(
            "ImageNotFoundException",
            format!(
                "The image with imageId {{imageDigest:'{}', imageTag:'{}'}} does not exist within the repository with name '{}' in the registry with id '{}'",
                self.image_digest.as_deref().unwrap_or("null"),
                self.image_tag.as_deref().unwrap_or("null"),
                repo.name,
                repo.account
            ),
        )
    }

    pub fn id(&self) -> ImageId {
        ImageId {
            digest: self.image_digest.clone(),
            tag: self.image_tag.clone(),
        }
    }

    fn json(&self) -> Value {
        let mut v = json!({});
        if let Some(d) = &self.image_digest {
            v["imageDigest"] = json!(d);
        }
        if let Some(t) = &self.image_tag {
            v["imageTag"] = json!(t);
        }
        v
    }
}

fn failure(id: &ImageIdentifier, f: ImageFailure, repo: &Repo) -> Value {
    let reason = match f {
        ImageFailure::ImageNotFound => "Requested image not found".to_string(),
        ImageFailure::MissingDigestAndTag => {
            "Invalid request parameters: both tag and digest cannot be null".into()
        }
        ImageFailure::InvalidImageDigest => "Invalid image digest".into(),
        ImageFailure::InvalidImageTag => "Invalid image tag".into(),
        ImageFailure::ImageTagDoesNotMatchDigest => {
            "Invalid request parameters: image tag digest did not match image digest".into()
        }
        ImageFailure::ImageReferencedByManifestList => {
            format!(
                "Requested image is referenced by a manifest list in the repository '{}'",
                repo.name
            )
        }
    };
    json!({ "imageId": id.json(), "failureCode": f.code(), "failureReason": reason })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    tag_status: Option<String>,
    image_status: Option<String>,
}

/// Whether an image passes the filter: by tag status, and by image status (only `ACTIVE`
/// images unless the filter says otherwise, as ECR does).
fn keep(filter: &Option<Filter>, image: &ImageRecord) -> bool {
    let tagged = match filter.as_ref().and_then(|f| f.tag_status.as_deref()) {
        Some("TAGGED") => !image.tags.is_empty(),
        Some("UNTAGGED") => image.tags.is_empty(),
        _ => true,
    };
    let status = match filter.as_ref().and_then(|f| f.image_status.as_deref()) {
        Some("ANY") => true,
        Some(s) => image.status == s,
        None => image.status == "ACTIVE",
    };
    tagged && status
}

/// Walks images in digest order after a page token, keeping those the filter admits, until `limit`.
async fn page(
    ctx: &Ctx<'_>,
    repo: &Repo,
    token: Option<&str>,
    limit: usize,
    filter: &Option<Filter>,
) -> Result<(Vec<ImageRecord>, Option<String>), EcrError> {
    let mut after = match token {
        Some(t) => Some(decode_token(t)?),
        None => None,
    };
    let mut out = Vec::new();
    loop {
        let batch = ctx
            .state
            .registry
            .images(repo, after.as_deref(), 1000)
            .await
            .map_err(|e| ctx.core_error(e, repo))?;
        let done = batch.len() < 1000;
        for image in batch {
            if out.len() == limit {
                return Ok((out, after.map(|a| encode_token(&a))));
            }
            after = Some(image.digest.to_string());
            if keep(filter, &image) {
                out.push(image);
            }
        }
        if done {
            return Ok((out, None));
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListImages {
    registry_id: Option<String>,
    repository_name: String,
    next_token: Option<String>,
    max_results: Option<usize>,
    filter: Option<Filter>,
}

/// ListImages pages image ids, not images (`IdPage`): at most `maxResults` ids, and a token
/// that continues exactly after the last one, even inside one image's tags.
pub async fn list_images(ctx: &Ctx<'_>, input: ListImages) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::ListImages, &repo).await?;
    let limit = input.max_results.unwrap_or(100);
    let (mut after, resume_tag) = match &input.next_token {
        Some(t) => {
            let (digest, tag) = IdPage::resume(&decode_token(t)?);
            (Some(digest), tag)
        }
        None => (None, None),
    };
    let mut page = IdPage::new(limit);
    // The image the last page stopped inside: its remaining tags come first.
    if let (Some(digest), Some(tag)) = (&after, &resume_tag) {
        let id = ImageIdentifier {
            image_digest: Some(digest.clone()),
            image_tag: None,
        };
        let image = ctx
            .state
            .registry
            .resolve_image(&repo, &id.id())
            .await
            .map_err(|e| ctx.core_error(e, &repo))?;
        match image {
            Ok(image) => {
                if keep(&input.filter, &image) && !page.add(&image, Some(tag)) {
                    return Ok(page.finish(true));
                }
            }
            // Deleted since: the listing goes on after it.
            Err(ImageFailure::ImageNotFound) => {}
            Err(_) => return Err(invalid_token()),
        }
    }
    loop {
        let batch = ctx
            .state
            .registry
            .images(&repo, after.as_deref(), 1000)
            .await
            .map_err(|e| ctx.core_error(e, &repo))?;
        let done = batch.len() < 1000;
        for image in batch {
            after = Some(image.digest.to_string());
            if keep(&input.filter, &image) && !page.add(&image, None) {
                return Ok(page.finish(true));
            }
        }
        if done {
            return Ok(page.finish(false));
        }
    }
}

fn detail(repo: &Repo, image: &ImageRecord, scans: &HashMap<Digest, ScanSummary>) -> Value {
    let mut v = json!({
        "registryId": repo.account.as_str(),
        "repositoryName": repo.name.as_str(),
        "imageDigest": image.digest.to_string(),
        "imageSizeInBytes": image.image_size,
        "imagePushedAt": epoch(image.pushed_at),
        "imageManifestMediaType": image.media_type,
        "imageStatus": image.status,
    });
    if let Some(t) = image.archived_at {
        v["lastArchivedAt"] = epoch(t);
    }
    if let Some(t) = image.activated_at {
        v["lastActivatedAt"] = epoch(t);
    }
    if !image.tags.is_empty() {
        v["imageTags"] = json!(image.tags);
    }
    if let Some(a) = &image.artifact_type {
        v["artifactMediaType"] = json!(a);
    }
    if let Some(t) = image.last_pulled_at {
        v["lastRecordedPullTime"] = epoch(t);
    }
    if let Some(s) = &image.subject {
        v["subjectManifestDigest"] = json!(s);
    }
    // Images never scanned carry neither member, as in ECR.
    if let Some(scan) = scans.get(&image.digest) {
        v["imageScanStatus"] = status_json(scan.status, scan.description.as_deref());
        if let Some(summary) = summary_json(scan) {
            v["imageScanFindingsSummary"] = summary;
        }
    }
    v
}

/// The scan summaries of a page of images, in one query.
async fn scan_summaries(
    ctx: &Ctx<'_>,
    repo: &Repo,
    images: &[ImageRecord],
) -> Result<HashMap<Digest, ScanSummary>, EcrError> {
    ctx.state
        .registry
        .scan_summaries(repo, images)
        .await
        .map_err(|e| ctx.core_error(e, repo))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeImages {
    registry_id: Option<String>,
    repository_name: String,
    image_ids: Option<Vec<ImageIdentifier>>,
    next_token: Option<String>,
    max_results: Option<usize>,
    filter: Option<Filter>,
}

pub async fn describe_images(ctx: &Ctx<'_>, input: DescribeImages) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::DescribeImages, &repo).await?;
    ctx.require_repo(&repo).await?;
    if let Some(ids) = input.image_ids {
        if input.next_token.is_some() || input.max_results.is_some() {
            return Err(EcrError::invalid(
                "Invalid parameter: nextToken and maxResults cannot be used with imageIds",
            ));
        }
        let mut images = Vec::new();
        for id in &ids {
            match ctx
                .state
                .registry
                .resolve_image(&repo, &id.id())
                .await
                .map_err(|e| ctx.core_error(e, &repo))?
            {
                Ok(image) => images.push(image),
                Err(_) => return Err(id.not_found(&repo)),
            }
        }
        let scans = scan_summaries(ctx, &repo, &images).await?;
        let out: Vec<Value> = images.iter().map(|i| detail(&repo, i, &scans)).collect();
        return Ok(json!({ "imageDetails": out }));
    }
    let (images, next) = page(
        ctx,
        &repo,
        input.next_token.as_deref(),
        input.max_results.unwrap_or(100),
        &input.filter,
    )
    .await?;
    let scans = scan_summaries(ctx, &repo, &images).await?;
    let mut v = json!({
        "imageDetails": images.iter().map(|i| detail(&repo, i, &scans)).collect::<Vec<_>>()
    });
    if let Some(n) = next {
        v["nextToken"] = json!(n);
    }
    Ok(v)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchGetImage {
    registry_id: Option<String>,
    repository_name: String,
    image_ids: Vec<ImageIdentifier>,
    accepted_media_types: Option<Vec<String>>,
}

pub async fn batch_get_image(ctx: &Ctx<'_>, input: BatchGetImage) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::BatchGetImage, &repo).await?;
    ctx.require_repo(&repo).await?;
    let mut images = Vec::new();
    let mut failures = Vec::new();
    for id in &input.image_ids {
        let image = match ctx
            .state
            .registry
            .resolve_image(&repo, &id.id())
            .await
            .map_err(|e| ctx.core_error(e, &repo))?
        {
            Ok(i) => i,
            Err(f) => {
                failures.push(failure(id, f, &repo));
                continue;
            }
        };
        if image.status != "ACTIVE" {
            failures.push(json!({
                "imageId": id.json(),
                "failureCode": "ImageNotFound",
                "failureReason": "The requested image is archived; restore it with UpdateImageStorageClass before pulling it",
            }));
            continue;
        }
        if let Some(accepted) = &input.accepted_media_types {
            if !accepted.iter().any(|a| a == &image.media_type) {
                failures.push(json!({
                    "imageId": id.json(),
                    "failureCode": "ImageNotFound",
                    "failureReason": format!("The image's manifest media type {} is not among acceptedMediaTypes", image.media_type),
                }));
                continue;
            }
        }
        let manifest = ctx
            .state
            .registry
            .get_manifest(&repo, &Reference::Digest(image.digest.clone()))
            .await
            .map_err(|e| ctx.core_error(e, &repo))?;
        let text = String::from_utf8_lossy(&manifest.body).into_owned();
        let mut image_id = json!({ "imageDigest": image.digest.to_string() });
        if let Some(t) = id.image_tag.clone().or_else(|| image.tags.first().cloned()) {
            image_id["imageTag"] = json!(t);
        }
        images.push(json!({
            "registryId": repo.account.as_str(),
            "repositoryName": repo.name.as_str(),
            "imageId": image_id,
            "imageManifest": text,
            "imageManifestMediaType": manifest.media_type,
        }));
        ctx.state
            .registry
            .record_pull(&repo, &image.digest, &ctx.principal)
            .await
            .map_err(|e| ctx.core_error(e, &repo))?;
    }
    Ok(json!({ "images": images, "failures": failures }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchDeleteImage {
    registry_id: Option<String>,
    repository_name: String,
    image_ids: Vec<ImageIdentifier>,
}

pub async fn batch_delete_image(ctx: &Ctx<'_>, input: BatchDeleteImage) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::BatchDeleteImage, &repo).await?;
    ctx.require_repo(&repo).await?;
    let mut deleted = Vec::new();
    let mut failures = Vec::new();
    for id in &input.image_ids {
        match ctx
            .state
            .registry
            .delete_image(&repo, &id.id())
            .await
            .map_err(|e| ctx.core_error(e, &repo))?
        {
            Ok(image) => {
                let mut v = json!({ "imageDigest": image.digest.to_string() });
                if let Some(t) = &id.image_tag {
                    v["imageTag"] = json!(t);
                }
                deleted.push(v);
            }
            Err(f) => failures.push(failure(id, f, &repo)),
        }
    }
    Ok(json!({ "imageIds": deleted, "failures": failures }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutImage {
    registry_id: Option<String>,
    repository_name: String,
    image_manifest: String,
    image_manifest_media_type: Option<String>,
    image_tag: Option<String>,
    image_digest: Option<String>,
}

pub async fn put_image(ctx: &Ctx<'_>, input: PutImage) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::PutImage, &repo).await?;
    let body = input.image_manifest.as_bytes();
    let actual = Digest::sha256(body);
    if let Some(d) = &input.image_digest {
        if d != &actual.to_string() {
            return Err(EcrError::new(
                "ImageDigestDoesNotMatchException",
                format!("The specified image digest '{d}' does not match the digest '{actual}' calculated for the manifest."),
            ));
        }
    }
    let tags: Vec<Tag> = match &input.image_tag {
        Some(t) => vec![t.parse().map_err(|e| {
            EcrError::invalid(format!(
                "Invalid parameter at 'imageTag' failed to satisfy constraint: '{e}'"
            ))
        })?],
        None => Vec::new(),
    };
    if let Some(m) = &input.image_manifest_media_type {
        if MediaType::parse(m).is_none() {
            return Err(EcrError::invalid(format!("Invalid parameter at 'imageManifestMediaType' failed to satisfy constraint: 'unsupported media type {m}'")));
        }
    }
    // An ECR push to a missing repository fails, unless a template creates it.
    let pushed = ctx
        .state
        .registry
        .put_manifest(
            &repo,
            &Reference::Digest(actual.clone()),
            &tags,
            input.image_manifest_media_type.as_deref(),
            body,
        )
        .await
        .map_err(|e| match e {
            CoreError::ManifestInvalid(m) => EcrError::invalid(format!(
                "Invalid parameter at 'imageManifest' failed to satisfy constraint: '{m}'"
            )),
            other => ctx.core_error(other, &repo),
        })?;
    if !pushed.inserted && !pushed.tags_changed && !pushed.restored {
        return Err(EcrError::new(
            "ImageAlreadyExistsException",
            format!(
                "Image with digest '{actual}'{} already exists in the repository with name '{}' in the registry with id '{}'",
                input.image_tag.as_ref().map(|t| format!(" and tag '{t}'")).unwrap_or_default(),
                repo.name,
                repo.account
            ),
        ));
    }
    let mut image_id = json!({ "imageDigest": actual.to_string() });
    if let Some(t) = &input.image_tag {
        image_id["imageTag"] = json!(t);
    }
    Ok(json!({ "image": {
        "registryId": repo.account.as_str(),
        "repositoryName": repo.name.as_str(),
        "imageId": image_id,
        "imageManifest": input.image_manifest,
        "imageManifestMediaType": pushed.media_type.as_str(),
    }}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReferrerFilter {
    artifact_types: Option<Vec<String>>,
    artifact_status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectId {
    image_digest: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListImageReferrers {
    registry_id: Option<String>,
    repository_name: String,
    subject_id: SubjectId,
    filter: Option<ReferrerFilter>,
    next_token: Option<String>,
    max_results: Option<usize>,
}

pub async fn list_image_referrers(
    ctx: &Ctx<'_>,
    input: ListImageReferrers,
) -> Result<Value, EcrError> {
    let repo = ctx.repo(input.registry_id.as_deref(), &input.repository_name)?;
    ctx.authorize(Action::BatchGetImage, &repo).await?;
    let subject: Digest = input.subject_id.image_digest.parse().map_err(|e| {
        EcrError::invalid(format!(
            "Invalid parameter at 'subjectId.imageDigest' failed to satisfy constraint: '{e}'"
        ))
    })?;
    ctx.require_repo(&repo).await?;
    let all = ctx
        .state
        .registry
        .referrer_records(&repo, &subject)
        .await
        .map_err(|e| ctx.core_error(e, &repo))?;
    let (types, status) = match input.filter {
        Some(f) => (f.artifact_types.unwrap_or_default(), f.artifact_status),
        None => (Vec::new(), None),
    };
    // Only ACTIVE referrers unless the filter asks for others, as ECR does.
    let status = status.unwrap_or_else(|| "ACTIVE".to_owned());
    let after = match &input.next_token {
        Some(t) => Some(decode_token(t)?),
        None => None,
    };
    let limit = input.max_results.unwrap_or(20);
    let mut out = Vec::new();
    let mut more = false;
    for r in all {
        if after
            .as_deref()
            .is_some_and(|a| r.digest.to_string().as_str() <= a)
        {
            continue;
        }
        if !types.is_empty() && !r.artifact_type.as_ref().is_some_and(|t| types.contains(t)) {
            continue;
        }
        if status != "ANY" && r.status != status {
            continue;
        }
        if out.len() == limit {
            more = true;
            break;
        }
        let mut v = json!({
            "digest": r.digest.to_string(),
            "mediaType": r.media_type,
            "size": r.size,
            "artifactStatus": r.status,
        });
        if let Some(a) = &r.artifact_type {
            v["artifactType"] = json!(a);
        }
        if let Some(a) = r
            .annotations
            .as_deref()
            .and_then(|a| serde_json::from_str::<Value>(a).ok())
        {
            v["annotations"] = a;
        }
        out.push(v);
    }
    // The token names the last referrer returned; the next page starts after it.
    let next = if more {
        out.last()
            .and_then(|v| v["digest"].as_str())
            .map(encode_token)
    } else {
        None
    };
    let mut v = json!({ "referrers": out });
    if let Some(n) = next {
        v["nextToken"] = json!(n);
    }
    Ok(v)
}
