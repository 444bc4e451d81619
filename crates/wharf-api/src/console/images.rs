//! A repository's page: its settings, its images grouped as a tree — an index, its platform
//! images (os/arch from the index's descriptors) beneath it, each platform image's build
//! attestations (index entries annotated `vnd.docker.reference.type: attestation-manifest`,
//! attached to the image `vnd.docker.reference.digest` names) and referrers (signatures,
//! SBOMs: manifests whose `subject` is the image) beneath those — with sizes, tags, push and
//! pull times, scan status and severity counts; and the push commands.
//!
//! Needs `ecr:DescribeImages` (403 otherwise). Grouping reads the indexes' manifests, which is
//! `ecr:BatchGetImage`; without it the images are listed flat, referrers still under their
//! subjects. Reading manifests here does not record a pull.

use super::error::ConsoleError;
use super::html::{self, Html};
use super::{query, repositories, View};
use axum::http::Uri;
use axum::response::Response;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use wharf_core::model::ImageRecord;
use wharf_core::scan::{ScanStatus, ScanSummary};
use wharf_core::Action;
use wharf_core::Repo;
use wharf_oci::{Digest, Manifest, MediaType, Reference};

/// Images are read in pages of this many.
const PAGE: usize = 1000;
/// How deep the tree goes (index → image → attestation → referrer → …); deeper links are cut.
const MAX_DEPTH: usize = 6;
/// Config media types of plain images.
const IMAGE_CONFIGS: [&str; 2] = [
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];
const ATTESTATION_TYPE: &str = "vnd.docker.reference.type";
const ATTESTATION_FOR: &str = "vnd.docker.reference.digest";

/// What a row of the tree is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Index,
    Image,
    Attestation,
    Referrer,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Index => "index",
            Kind::Image => "image",
            Kind::Attestation => "attestation",
            Kind::Referrer => "referrer",
        }
    }
}

/// One row of the tree.
#[derive(Debug)]
pub struct Node<'a> {
    pub image: &'a ImageRecord,
    pub kind: Kind,
    /// `os/arch[/variant]`, from the index entry.
    pub platform: Option<String>,
    pub children: Vec<Node<'a>>,
}

/// What an index says about one of its entries.
struct Entry {
    digest: String,
    platform: Option<String>,
    /// The image this entry attests, for a buildx attestation manifest.
    attests: Option<String>,
}

fn platform_of(p: &serde_json::Value) -> Option<String> {
    let os = p.get("os")?.as_str()?;
    let arch = p.get("architecture")?.as_str()?;
    Some(match p.get("variant").and_then(|v| v.as_str()) {
        Some(v) => format!("{os}/{arch}/{v}"),
        None => format!("{os}/{arch}"),
    })
}

fn entries(index: &Manifest) -> Vec<Entry> {
    index
        .manifests
        .iter()
        .map(|d| {
            let ann = d.annotations.as_ref();
            let attests = ann
                .filter(|a| {
                    a.get(ATTESTATION_TYPE).map(String::as_str) == Some("attestation-manifest")
                })
                .and_then(|a| a.get(ATTESTATION_FOR).cloned());
            Entry {
                digest: d.digest.to_string(),
                platform: d.platform.as_ref().and_then(platform_of),
                attests,
            }
        })
        .collect()
}

fn is_index(image: &ImageRecord) -> bool {
    MediaType::parse(&image.media_type).is_some_and(MediaType::is_index)
}

struct Grouper<'a> {
    by_digest: HashMap<String, &'a ImageRecord>,
    indexes: HashMap<String, Vec<Entry>>,
    referrers: HashMap<String, Vec<&'a ImageRecord>>,
}

impl<'a> Grouper<'a> {
    fn node(
        &self,
        image: &'a ImageRecord,
        kind: Kind,
        platform: Option<String>,
        depth: usize,
    ) -> Node<'a> {
        let mut children = Vec::new();
        if depth < MAX_DEPTH {
            if let Some(entries) = self.indexes.get(&image.digest.to_string()) {
                let mut attestations = Vec::new();
                for e in entries {
                    let Some(child) = self.by_digest.get(e.digest.as_str()) else {
                        continue;
                    };
                    match &e.attests {
                        Some(target) => attestations.push((target.clone(), *child)),
                        None => children.push(self.node(
                            child,
                            if is_index(child) {
                                Kind::Index
                            } else {
                                Kind::Image
                            },
                            e.platform.clone(),
                            depth + 1,
                        )),
                    }
                }
                for (target, att) in attestations {
                    let node = self.node(att, Kind::Attestation, None, depth + 2);
                    match children
                        .iter_mut()
                        .find(|c: &&mut Node<'a>| c.image.digest.to_string() == target)
                    {
                        Some(parent) => parent.children.push(node),
                        None => children.push(node),
                    }
                }
            }
            if let Some(refs) = self.referrers.get(&image.digest.to_string()) {
                for r in refs {
                    children.push(self.node(r, Kind::Referrer, None, depth + 1));
                }
            }
        }
        Node {
            image,
            kind,
            platform,
            children,
        }
    }
}

/// Groups a repository's images into trees: indexes over their entries, attestations under the
/// images they attest, referrers under their subjects; what no index or subject claims is a
/// root. Roots come newest first. `indexes` holds the parsed manifests of the indexes that could
/// be read.
pub fn group<'a>(images: &'a [ImageRecord], indexes: &HashMap<Digest, Manifest>) -> Vec<Node<'a>> {
    let by_digest: HashMap<String, &ImageRecord> =
        images.iter().map(|i| (i.digest.to_string(), i)).collect();
    let indexes: HashMap<String, Vec<Entry>> = indexes
        .iter()
        .map(|(d, m)| (d.to_string(), entries(m)))
        .collect();
    let mut claimed: HashSet<String> = indexes
        .iter()
        .filter(|(d, _)| by_digest.contains_key(d.as_str()))
        .flat_map(|(_, es)| es.iter().map(|e| e.digest.clone()))
        .collect();
    let mut referrers: HashMap<String, Vec<&ImageRecord>> = HashMap::new();
    for i in images {
        if let Some(s) = i.subject.as_deref() {
            if by_digest.contains_key(s) && s != i.digest.to_string() {
                referrers.entry(s.to_string()).or_default().push(i);
                claimed.insert(i.digest.to_string());
            }
        }
    }
    let g = Grouper {
        by_digest,
        indexes,
        referrers,
    };
    let mut roots: Vec<&ImageRecord> = images
        .iter()
        .filter(|i| !claimed.contains(&i.digest.to_string()))
        .collect();
    roots.sort_by(|a, b| b.pushed_at.cmp(&a.pushed_at).then(a.digest.cmp(&b.digest)));
    roots
        .into_iter()
        .map(|i| {
            g.node(
                i,
                if is_index(i) {
                    Kind::Index
                } else {
                    Kind::Image
                },
                None,
                0,
            )
        })
        .collect()
}

/// Every image of a repository.
pub async fn all_images(view: &View<'_>, repo: &Repo) -> Result<Vec<ImageRecord>, ConsoleError> {
    let mut out: Vec<ImageRecord> = Vec::new();
    loop {
        let after = out.last().map(|i| i.digest.to_string());
        let page = view
            .state
            .registry
            .images(repo, after.as_deref(), PAGE)
            .await
            .map_err(|e| ConsoleError::from_core(e, Action::DescribeImages))?;
        let done = page.len() < PAGE;
        out.extend(page);
        if done {
            return Ok(out);
        }
    }
}

/// A scan's status cell and its severity counts.
pub fn scan_cells(h: &mut Html, scan: Option<&ScanSummary>) {
    match scan {
        None => {
            h.raw("<td class=\"muted\">not scanned</td><td></td>");
        }
        Some(s) => {
            h.raw("<td class=\"scan\">")
                .text(s.status.as_str())
                .raw("</td><td>");
            if s.status == ScanStatus::Complete && s.severity_counts.is_empty() {
                h.raw("<span class=\"sev none\">no findings</span>");
            }
            for (sev, n) in &s.severity_counts {
                h.raw("<span class=\"sev\" title=\"")
                    .text(sev.as_str())
                    .raw("\">")
                    .text(sev.as_str())
                    .raw(" ")
                    .num(n)
                    .raw("</span> ");
            }
            h.raw("</td>");
        }
    }
}

fn rows(
    h: &mut Html,
    repo: &Repo,
    node: &Node<'_>,
    depth: usize,
    scans: &HashMap<Digest, ScanSummary>,
) {
    let i = node.image;
    let digest = i.digest.to_string();
    h.raw("<tr class=\"img depth-")
        .num(depth.min(MAX_DEPTH))
        .raw(" kind-")
        .raw(node.kind.label())
        .raw("\" data-digest=\"")
        .text(&digest)
        .raw("\"><td class=\"tree\"><span class=\"kind\">")
        .raw(node.kind.label())
        .raw("</span> <a class=\"digest\" href=\"")
        .text(&html::url(
            "/console/image",
            &[("repository", repo.name.as_str()), ("digest", &digest)],
        ))
        .raw("\">")
        .text(html::short_digest(&digest))
        .raw("</a>");
    if let Some(p) = &node.platform {
        h.raw(" <span class=\"platform\">").text(p).raw("</span>");
    }
    // ECR reports an image's config media type as its artifact type; only other types (an
    // artifact's own) are worth a chip here.
    if let Some(a) = i
        .artifact_type
        .as_deref()
        .filter(|a| !IMAGE_CONFIGS.contains(a))
    {
        h.raw(" <span class=\"artifact\">").text(a).raw("</span>");
    }
    if i.status != "ACTIVE" {
        h.raw(" <span class=\"chip\">")
            .text(&i.status)
            .raw("</span>");
    }
    h.raw("</td><td class=\"tags\">");
    for t in &i.tags {
        h.raw("<span class=\"tag\">").text(t).raw("</span> ");
    }
    h.raw("</td><td class=\"num\">")
        .text(&html::bytes(i128::from(i.image_size)))
        .raw("</td><td>")
        .text(&html::time(i.pushed_at))
        .raw("</td><td>")
        .text(
            &i.last_pulled_at
                .map_or_else(|| "never".to_string(), html::time),
        )
        .raw("</td>");
    scan_cells(h, scans.get(&i.digest));
    h.raw("</tr>");
    for c in &node.children {
        rows(h, repo, c, depth + 1, scans);
    }
}

#[derive(Deserialize)]
struct RepositoryQuery {
    name: String,
}

pub async fn repository(view: &View<'_>, uri: &Uri) -> Result<Response, ConsoleError> {
    let q: RepositoryQuery = query(uri)?;
    let repo = view.repo(&q.name)?;
    view.authorize(Action::DescribeImages, &repo).await?;
    let record = view
        .state
        .registry
        .repository(&repo)
        .await
        .map_err(|e| ConsoleError::from_core(e, Action::DescribeImages))?;
    let images = all_images(view, &repo).await?;
    let scans = view
        .state
        .registry
        .scan_summaries(&repo, &images)
        .await
        .map_err(|e| ConsoleError::from_core(e, Action::DescribeImages))?;
    let can_read = view.allowed(Action::BatchGetImage, &repo).await?;
    let mut indexes = HashMap::new();
    if can_read {
        for i in images
            .iter()
            .filter(|i| is_index(i) && i.status == "ACTIVE")
        {
            let m = view
                .state
                .registry
                .get_manifest(&repo, &Reference::Digest(i.digest.clone()))
                .await
                .map_err(|e| ConsoleError::from_core(e, Action::BatchGetImage))?;
            if let Ok(parsed) = Manifest::parse(&m.body, Some(&m.media_type)) {
                indexes.insert(i.digest.clone(), parsed);
            }
        }
    }
    let tree = group(&images, &indexes);

    let mut body = Html::new();
    let s = &record.settings;
    body.raw("<dl class=\"facts\"><dt>URI</dt><dd><code id=\"repository-uri\">")
        .text(&repositories::repository_uri(view, &record.name))
        .raw("</code></dd><dt>Tag mutability</dt><dd>")
        .text(&s.image_tag_mutability)
        .raw("</dd><dt>Scanning</dt><dd>")
        .raw(if s.scan_on_push { "on push" } else { "manual" })
        .raw("</dd><dt>Encryption</dt><dd>")
        .text(&s.encryption_type)
        .raw("</dd><dt>Created</dt><dd>")
        .text(&html::time(record.created_at))
        .raw("</dd></dl><p class=\"actions\"><a id=\"edit-lifecycle\" href=\"")
        .text(&html::url(
            "/console/lifecycle",
            &[("repository", &record.name)],
        ))
        .raw("\">Lifecycle policy</a> <a id=\"edit-policy\" href=\"")
        .text(&html::url(
            "/console/policy",
            &[("repository", &record.name)],
        ))
        .raw("\">Repository policy</a></p>");
    body.raw("<h2>Images</h2>");
    if !can_read {
        body.html(&html::notice(
            "note",
            "Listed without grouping by index: reading index manifests needs ecr:BatchGetImage.",
        ));
    }
    if tree.is_empty() {
        body.html(&html::notice("note", "This repository has no images yet."));
    } else {
        body.raw("<table id=\"images\"><thead><tr><th>Image</th><th>Tags</th>")
            .raw("<th class=\"num\">Size</th><th>Pushed</th><th>Last pulled</th>")
            .raw("<th>Scan</th><th>Findings</th></tr></thead><tbody>");
        for n in &tree {
            rows(&mut body, &repo, n, 0, &scans);
        }
        body.raw("</tbody></table>");
    }
    body.html(&repositories::push_commands(view, &record.name));
    Ok(view.page(&record.name, &body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_oci::media::{OCI_INDEX, OCI_MANIFEST};

    fn digest(n: u8) -> Digest {
        Digest::sha256(&[n])
    }

    fn image(n: u8, media_type: &str, subject: Option<u8>, pushed_at: i64) -> ImageRecord {
        ImageRecord {
            digest: digest(n),
            media_type: media_type.into(),
            artifact_type: None,
            image_size: 100,
            pushed_at,
            last_pulled_at: None,
            subject: subject.map(|s| digest(s).to_string()),
            tags: Vec::new(),
            status: "ACTIVE".into(),
            archived_at: None,
            activated_at: None,
        }
    }

    fn index(children: &[(u8, Option<&str>, Option<u8>)]) -> Manifest {
        let manifests: Vec<serde_json::Value> = children
            .iter()
            .map(|(n, platform, attests)| {
                let mut d = serde_json::json!({
                    "mediaType": OCI_MANIFEST, "digest": digest(*n).to_string(), "size": 10,
                });
                if let Some(p) = platform {
                    let (os, arch) = p.split_once('/').unwrap();
                    d["platform"] = serde_json::json!({ "os": os, "architecture": arch });
                }
                if let Some(a) = attests {
                    d["platform"] =
                        serde_json::json!({ "os": "unknown", "architecture": "unknown" });
                    d["annotations"] = serde_json::json!({
                        "vnd.docker.reference.type": "attestation-manifest",
                        "vnd.docker.reference.digest": digest(*a).to_string(),
                    });
                }
                d
            })
            .collect();
        let body = serde_json::json!({ "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests });
        Manifest::parse(body.to_string().as_bytes(), Some(OCI_INDEX)).unwrap()
    }

    /// The tree as `(depth, kind, digest number, platform)` lines.
    fn flatten(nodes: &[Node<'_>], depth: usize, out: &mut Vec<(usize, Kind, u8, Option<String>)>) {
        for n in nodes {
            let num = (0..=255u8).find(|k| digest(*k) == n.image.digest).unwrap();
            out.push((depth, n.kind, num, n.platform.clone()));
            flatten(&n.children, depth + 1, out);
        }
    }

    #[test]
    fn an_index_holds_platforms_attestations_and_referrers() {
        let images = vec![
            image(1, OCI_INDEX, None, 10),
            image(2, OCI_MANIFEST, None, 10),
            image(3, OCI_MANIFEST, None, 10),
            image(4, OCI_MANIFEST, None, 10),
            image(5, OCI_MANIFEST, None, 10),
            image(6, OCI_MANIFEST, Some(2), 11), // a signature of the amd64 image
            image(7, OCI_MANIFEST, None, 20),    // a plain image, newer
            image(8, OCI_MANIFEST, Some(99), 5), // a referrer whose subject is gone
        ];
        let indexes = HashMap::from([(
            digest(1),
            index(&[
                (2, Some("linux/amd64"), None),
                (3, Some("linux/arm64"), None),
                (4, None, Some(2)),
                (5, None, Some(3)),
            ]),
        )]);
        let tree = group(&images, &indexes);
        let mut lines = Vec::new();
        flatten(&tree, 0, &mut lines);
        let p = |s: &str| Some(s.to_string());
        assert_eq!(
            lines,
            vec![
                (0, Kind::Image, 7, None),
                (0, Kind::Index, 1, None),
                (1, Kind::Image, 2, p("linux/amd64")),
                (2, Kind::Referrer, 6, None),
                (2, Kind::Attestation, 4, None),
                (1, Kind::Image, 3, p("linux/arm64")),
                (2, Kind::Attestation, 5, None),
                (0, Kind::Image, 8, None),
            ]
        );
    }

    #[test]
    fn without_manifests_images_are_flat_but_referrers_still_nest() {
        let images = vec![
            image(1, OCI_INDEX, None, 10),
            image(2, OCI_MANIFEST, None, 9),
            image(6, OCI_MANIFEST, Some(2), 11),
        ];
        let tree = group(&images, &HashMap::new());
        let mut lines = Vec::new();
        flatten(&tree, 0, &mut lines);
        assert_eq!(
            lines,
            vec![
                (0, Kind::Index, 1, None),
                (0, Kind::Image, 2, None),
                (1, Kind::Referrer, 6, None),
            ]
        );
    }

    #[test]
    fn cycles_do_not_loop() {
        // Two images naming each other as subject (not pushable, but the tree must not loop).
        let images = vec![
            image(1, OCI_MANIFEST, Some(2), 1),
            image(2, OCI_MANIFEST, Some(1), 1),
        ];
        let tree = group(&images, &HashMap::new());
        assert!(tree.is_empty(), "both are referrers of a present subject");
    }
}
