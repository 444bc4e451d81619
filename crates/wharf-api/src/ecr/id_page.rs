//! The ids of one ListImages page: one id per tag (an untagged image is one id, its digest
//! alone), in digest then tag order, at most `maxResults` of them. The page token names the last
//! id returned (`digest`, or `digest` newline `tag`), so the next page starts with the id after it,
//! even when that is the next tag of the same image.

use super::wire::encode_token;
use serde_json::{json, Value};
use wharf_core::model::ImageRecord;

/// A page of ListImages ids being filled, with the token naming its last id.
pub struct IdPage {
    ids: Vec<Value>,
    limit: usize,
    last: Option<String>,
}

impl IdPage {
    /// Where a page token says to resume: after this digest, or after this tag of its image.
    pub fn resume(last: &str) -> (String, Option<String>) {
        match last.split_once('\n') {
            Some((digest, tag)) => (digest.to_owned(), Some(tag.to_owned())),
            None => (last.to_owned(), None),
        }
    }

    pub fn new(limit: usize) -> Self {
        IdPage {
            ids: Vec::new(),
            limit,
            last: None,
        }
    }

    /// Adds an image's ids (only its tags after `after_tag`, when given); false when the page
    /// filled up before all of them fitted, so there is more to list.
    pub fn add(&mut self, image: &ImageRecord, after_tag: Option<&str>) -> bool {
        let digest = image.digest.to_string();
        if image.tags.is_empty() {
            if after_tag.is_some() {
                return true;
            }
            if self.ids.len() == self.limit {
                return false;
            }
            self.ids.push(json!({ "imageDigest": digest }));
            self.last = Some(digest);
            return true;
        }
        for t in &image.tags {
            if after_tag.is_some_and(|a| t.as_str() <= a) {
                continue;
            }
            if self.ids.len() == self.limit {
                return false;
            }
            self.ids
                .push(json!({ "imageDigest": digest, "imageTag": t }));
            self.last = Some(format!("{digest}\n{t}"));
        }
        true
    }

    pub fn finish(self, more: bool) -> Value {
        let mut v = json!({ "imageIds": self.ids });
        if let (true, Some(last)) = (more, self.last) {
            v["nextToken"] = json!(encode_token(&last));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecr::wire::decode_token;
    use wharf_oci::Digest;

    fn image(seed: &str, tags: &[&str]) -> ImageRecord {
        ImageRecord {
            digest: Digest::sha256(seed.as_bytes()),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            artifact_type: None,
            image_size: 0,
            pushed_at: 0,
            last_pulled_at: None,
            subject: None,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            status: "ACTIVE".into(),
            archived_at: None,
            activated_at: None,
        }
    }

    /// What list_images does over `images` (sorted by digest), one page from `token`.
    fn page(images: &[ImageRecord], token: Option<&str>, limit: usize) -> Value {
        let (after, tag) = match token {
            Some(t) => {
                let (d, tag) = IdPage::resume(&decode_token(t).unwrap());
                (Some(d), tag)
            }
            None => (None, None),
        };
        let mut page = IdPage::new(limit);
        if let (Some(d), Some(tag)) = (&after, &tag) {
            if let Some(i) = images.iter().find(|i| &i.digest.to_string() == d) {
                if !page.add(i, Some(tag)) {
                    return page.finish(true);
                }
            }
        }
        for i in images
            .iter()
            .filter(|i| after.as_ref().is_none_or(|a| i.digest.to_string() > *a))
        {
            if !page.add(i, None) {
                return page.finish(true);
            }
        }
        page.finish(false)
    }

    #[test]
    fn pages_hold_at_most_max_results_ids_and_continue_exactly() {
        let mut images = vec![
            image("a", &["t1", "t2", "t3"]),
            image("b", &[]),
            image("c", &["only"]),
            image("d", &["x", "y"]),
            image("e", &[]),
        ];
        images.sort_by_key(|i| i.digest.to_string());
        let all = page(&images, None, 1000);
        let all_ids = all["imageIds"].as_array().unwrap().clone();
        assert_eq!(all_ids.len(), 8, "one id per tag, one per untagged image");
        assert!(all.get("nextToken").is_none());
        for limit in 1..=9 {
            let mut got = Vec::new();
            let mut token: Option<String> = None;
            let mut pages = 0;
            loop {
                let p = page(&images, token.as_deref(), limit);
                let ids = p["imageIds"].as_array().unwrap();
                assert!(ids.len() <= limit, "limit {limit}: page of {}", ids.len());
                got.extend(ids.iter().cloned());
                pages += 1;
                match p.get("nextToken").and_then(Value::as_str) {
                    Some(t) => token = Some(t.to_owned()),
                    None => break,
                }
            }
            assert_eq!(
                got, all_ids,
                "limit {limit}: pages join to the full listing"
            );
            assert_eq!(
                pages,
                all_ids.len().div_ceil(limit),
                "limit {limit}: no empty last page"
            );
        }
    }

    #[test]
    fn a_token_inside_an_image_resumes_at_its_next_tag() {
        let img = image("a", &["t1", "t2", "t3"]);
        let mut page = IdPage::new(2);
        assert!(!page.add(&img, None));
        let first = page.finish(true);
        let token = first["nextToken"].as_str().unwrap();
        assert_eq!(decode_token(token).unwrap(), format!("{}\nt2", img.digest));
        let (digest, tag) = IdPage::resume(&decode_token(token).unwrap());
        assert_eq!(
            (digest, tag.as_deref()),
            (img.digest.to_string(), Some("t2"))
        );
        let mut page = IdPage::new(2);
        assert!(page.add(&img, Some("t2")));
        assert_eq!(
            page.finish(false)["imageIds"],
            json!([{ "imageDigest": img.digest.to_string(), "imageTag": "t3" }])
        );
    }
}
