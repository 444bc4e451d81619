//! Images of public repositories: DescribeImageTags (ECR Public's own: one entry per tag with
//! the image it points at), and DescribeImages, PutImage and BatchDeleteImage, run by ECR's
//! handlers (same shapes) once the repository is known to be public.

use super::wire::check_max_results;
use super::{delegate, public_repo};
use crate::ecr::images;
use crate::ecr::wire::{decode_token, encode_token, epoch};
use crate::ecr::{Ctx, EcrError};
use serde::Deserialize;
use serde_json::{json, Value};
use wharf_core::model::ImageRecord;
use wharf_core::Action;

pub async fn describe_images(ctx: &Ctx<'_>, body: Value) -> Result<Value, EcrError> {
    if let Some(n) = body.get("maxResults").and_then(Value::as_u64) {
        check_max_results(Some(n as usize))?;
    }
    images::describe_images(ctx, delegate(ctx, body).await?).await
}

pub async fn put_image(ctx: &Ctx<'_>, body: Value) -> Result<Value, EcrError> {
    images::put_image(ctx, delegate(ctx, body).await?).await
}

pub async fn batch_delete_image(ctx: &Ctx<'_>, body: Value) -> Result<Value, EcrError> {
    images::batch_delete_image(ctx, delegate(ctx, body).await?).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeImageTags {
    registry_id: Option<String>,
    repository_name: String,
    next_token: Option<String>,
    max_results: Option<usize>,
}

/// One `ImageTagDetail`. A tag's creation time is not kept apart from its image's push, so
/// `createdAt` is the push time of the image it points at.
fn tag_detail(tag: &str, image: &ImageRecord) -> Value {
    let mut detail = json!({
        "imageDigest": image.digest.to_string(),
        "imageSizeInBytes": image.image_size,
        "imagePushedAt": epoch(image.pushed_at),
        "imageManifestMediaType": image.media_type,
    });
    if let Some(a) = &image.artifact_type {
        detail["artifactMediaType"] = json!(a);
    }
    json!({ "imageTag": tag, "createdAt": epoch(image.pushed_at), "imageDetail": detail })
}

/// Tags in name order after `after`, at most `limit`, and whether more follow.
fn tag_page<'a>(
    mut tags: Vec<(&'a str, &'a ImageRecord)>,
    after: Option<&str>,
    limit: usize,
) -> (Vec<(&'a str, &'a ImageRecord)>, bool) {
    tags.sort_by(|a, b| a.0.cmp(b.0));
    tags.retain(|(t, _)| after.is_none_or(|a| *t > a));
    let more = tags.len() > limit;
    tags.truncate(limit);
    (tags, more)
}

pub async fn describe_image_tags(
    ctx: &Ctx<'_>,
    input: DescribeImageTags,
) -> Result<Value, EcrError> {
    let (repo, _) = public_repo(ctx, input.registry_id.as_deref(), &input.repository_name).await?;
    ctx.authorize(Action::DescribeImageTags, &repo).await?;
    let limit = check_max_results(input.max_results)?;
    let after = match &input.next_token {
        Some(t) => Some(decode_token(t)?),
        None => None,
    };
    let mut all: Vec<ImageRecord> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let batch = ctx
            .state
            .registry
            .images(&repo, cursor.as_deref(), 1000)
            .await
            .map_err(|e| ctx.core_error(e, &repo))?;
        let done = batch.len() < 1000;
        cursor = batch.last().map(|i| i.digest.to_string());
        all.extend(batch);
        if done {
            break;
        }
    }
    let tags: Vec<(&str, &ImageRecord)> = all
        .iter()
        .flat_map(|i| i.tags.iter().map(move |t| (t.as_str(), i)))
        .collect();
    let (page, more) = tag_page(tags, after.as_deref(), limit);
    let mut v = json!({
        "imageTagDetails": page.iter().map(|(t, i)| tag_detail(t, i)).collect::<Vec<_>>()
    });
    if more {
        if let Some((last, _)) = page.last() {
            v["nextToken"] = json!(encode_token(last));
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(c: char, tags: &[&str]) -> ImageRecord {
        ImageRecord {
            digest: format!("sha256:{}", c.to_string().repeat(64))
                .parse()
                .unwrap(),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            artifact_type: None,
            image_size: 10,
            pushed_at: 1,
            last_pulled_at: None,
            subject: None,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            status: "ACTIVE".into(),
            archived_at: None,
            activated_at: None,
        }
    }

    #[test]
    fn tags_page_in_name_order() {
        let a = image('a', &["zeta", "alpha"]);
        let b = image('b', &["mid"]);
        let all: Vec<(&str, &ImageRecord)> = [&a, &b]
            .into_iter()
            .flat_map(|i| i.tags.iter().map(move |t| (t.as_str(), i)))
            .collect();
        let (page, more) = tag_page(all.clone(), None, 2);
        assert_eq!(
            page.iter().map(|p| p.0).collect::<Vec<_>>(),
            ["alpha", "mid"]
        );
        assert!(more);
        let (page, more) = tag_page(all, Some("mid"), 2);
        assert_eq!(page.iter().map(|p| p.0).collect::<Vec<_>>(), ["zeta"]);
        assert!(!more);
        let detail = tag_detail("zeta", &a);
        assert_eq!(detail["imageTag"], "zeta");
        assert_eq!(detail["imageDetail"]["imageDigest"], a.digest.to_string());
    }
}
