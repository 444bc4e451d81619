//! One image: what DescribeImages says of it (needed: `ecr:DescribeImages`, else 403), then one
//! section per API call, each shown only if its action is allowed (else a notice naming it):
//! the manifest and its layers or entries (`ecr:BatchGetImage`), scan findings with a severity
//! filter (`ecr:DescribeImageScanFindings`), referrers such as signatures and SBOMs
//! (`ecr:BatchGetImage`, as ECR authorizes ListImageReferrers) with SBOM downloads (`ecr:BatchGetImage`), and replication status
//! per destination (`ecr:DescribeImageReplicationStatus`).

use super::error::ConsoleError;
use super::html::{self, Html};
use super::images::scan_cells;
use super::{query, View};
use axum::http::header;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use wharf_core::model::ImageRecord;
use wharf_core::scan::{SbomFormat, ScanFinding, MAX_FINDINGS_PAGE};
use wharf_core::Action;
use wharf_core::{CoreError, ImageId, Repo};
use wharf_oci::{Descriptor, Digest, Manifest, Reference};

/// The severities a findings filter may name, most severe first.
const SEVERITIES: [&str; 6] = [
    "CRITICAL",
    "HIGH",
    "MEDIUM",
    "LOW",
    "INFORMATIONAL",
    "UNDEFINED",
];
/// Artifact types of SBOM referrers and the console's name for their format.
const SBOM_TYPES: [(&str, &str); 2] = [
    ("application/vnd.cyclonedx+json", "cyclonedx"),
    ("application/spdx+json", "spdx"),
];

#[derive(Deserialize)]
struct ImageQuery {
    repository: String,
    digest: String,
    severity: Option<String>,
}

fn denied(h: &mut Html, action: Action) {
    h.html(&html::notice(
        "denied",
        &format!("Not shown: your policies do not allow {action} on this repository."),
    ));
}

async fn resolve(view: &View<'_>, repo: &Repo, digest: &str) -> Result<ImageRecord, ConsoleError> {
    digest
        .parse::<Digest>()
        .map_err(|e| ConsoleError::BadRequest(format!("Invalid digest: {e}")))?;
    let id = ImageId {
        digest: Some(digest.to_string()),
        tag: None,
    };
    view.state
        .registry
        .resolve_image(repo, &id)
        .await
        .map_err(|e| ConsoleError::from_core(e, Action::DescribeImages))?
        .map_err(|_| ConsoleError::NotFound("The image does not exist in this repository.".into()))
}

fn image_link(h: &mut Html, repo: &Repo, digest: &str) {
    h.raw("<a class=\"digest\" href=\"")
        .text(&html::url(
            "/console/image",
            &[("repository", repo.name.as_str()), ("digest", digest)],
        ))
        .raw("\">")
        .text(digest)
        .raw("</a>");
}

fn descriptor_rows(h: &mut Html, role: &'static str, d: &Descriptor) {
    h.raw("<tr><td>")
        .raw(role)
        .raw("</td><td><code>")
        .text(&d.media_type)
        .raw("</code></td><td><code>")
        .text(&d.digest.to_string())
        .raw("</code></td><td class=\"num\">")
        .text(&html::bytes(i128::from(d.size)))
        .raw("</td></tr>");
}

async fn manifest_section(
    view: &View<'_>,
    repo: &Repo,
    image: &ImageRecord,
    h: &mut Html,
) -> Result<(), ConsoleError> {
    h.raw("<section id=\"manifest\"><h2>Manifest</h2>");
    if !view.allowed(Action::BatchGetImage, repo).await? {
        denied(h, Action::BatchGetImage);
        h.raw("</section>");
        return Ok(());
    }
    if image.status != "ACTIVE" {
        h.html(&html::notice(
            "note",
            "The image is archived; restore it to read its manifest.",
        ));
        h.raw("</section>");
        return Ok(());
    }
    let m = view
        .state
        .registry
        .get_manifest(repo, &Reference::Digest(image.digest.clone()))
        .await
        .map_err(|e| ConsoleError::from_core(e, Action::BatchGetImage))?;
    if let Ok(parsed) = Manifest::parse(&m.body, Some(&m.media_type)) {
        if parsed.manifests.is_empty() {
            h.raw("<h3>Layers</h3><table id=\"layers\"><thead><tr><th></th><th>Media type</th>")
                .raw("<th>Digest</th><th class=\"num\">Size</th></tr></thead><tbody>");
            if let Some(c) = &parsed.config {
                descriptor_rows(h, "config", c);
            }
            for l in &parsed.layers {
                descriptor_rows(h, "layer", l);
            }
            h.raw("</tbody></table>");
        } else {
            h.raw("<h3>Entries</h3><table id=\"entries\"><thead><tr><th>Platform</th>")
                .raw("<th>Digest</th><th class=\"num\">Size</th></tr></thead><tbody>");
            for d in &parsed.manifests {
                let platform = d
                    .platform
                    .as_ref()
                    .map(|p| {
                        let os = p.get("os").and_then(|v| v.as_str()).unwrap_or("?");
                        let arch = p
                            .get("architecture")
                            .and_then(|v| v.as_str())
                            .unwrap_or("?");
                        format!("{os}/{arch}")
                    })
                    .unwrap_or_default();
                let kind = d
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get("vnd.docker.reference.type"))
                    .cloned()
                    .unwrap_or_default();
                h.raw("<tr><td>").text(&platform);
                if !kind.is_empty() {
                    h.raw(" <span class=\"chip\">").text(&kind).raw("</span>");
                }
                h.raw("</td><td>");
                image_link(h, repo, &d.digest.to_string());
                h.raw("</td><td class=\"num\">")
                    .text(&html::bytes(i128::from(d.size)))
                    .raw("</td></tr>");
            }
            h.raw("</tbody></table>");
        }
    }
    let pretty = serde_json::from_slice::<serde_json::Value>(&m.body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| String::from_utf8_lossy(&m.body).into_owned());
    h.raw("<details open><summary>Manifest JSON (")
        .text(&m.media_type)
        .raw(", shown re-indented; the stored bytes are served unchanged)</summary><pre id=\"manifest-json\"><code>")
        .text(&pretty)
        .raw("</code></pre></details></section>");
    Ok(())
}

/// Every finding of the image's last scan (`None`: never scanned).
async fn all_findings(
    view: &View<'_>,
    repo: &Repo,
    digest: &Digest,
) -> Result<Option<(wharf_core::scan::ScanSummary, Vec<ScanFinding>)>, ConsoleError> {
    let mut token: Option<String> = None;
    let mut out = Vec::new();
    loop {
        let report = match view
            .state
            .registry
            .image_scan(repo, digest, token.as_deref(), MAX_FINDINGS_PAGE)
            .await
        {
            Ok(r) => r,
            Err(CoreError::ScanNotFound(_)) => return Ok(None),
            Err(e) => {
                return Err(ConsoleError::from_core(
                    e,
                    Action::DescribeImageScanFindings,
                ))
            }
        };
        out.extend(report.findings);
        match report.next_token {
            Some(t) => token = Some(t),
            None => return Ok(Some((report.summary, out))),
        }
    }
}

async fn findings_section(
    view: &View<'_>,
    repo: &Repo,
    image: &ImageRecord,
    severity: Option<&str>,
    h: &mut Html,
) -> Result<(), ConsoleError> {
    h.raw("<section id=\"findings\"><h2>Scan findings</h2>");
    if !view
        .allowed(Action::DescribeImageScanFindings, repo)
        .await?
    {
        denied(h, Action::DescribeImageScanFindings);
        h.raw("</section>");
        return Ok(());
    }
    let Some((summary, findings)) = all_findings(view, repo, &image.digest).await? else {
        h.html(&html::notice("note", "This image has not been scanned."));
        h.raw("</section>");
        return Ok(());
    };
    h.raw("<table class=\"facts\"><tr>");
    scan_cells(h, Some(&summary));
    h.raw("</tr></table>");
    // The filter: a plain GET form, so it works without scripts.
    let digest = image.digest.to_string();
    h.raw("<form method=\"get\" action=\"/console/image\" class=\"filter\">")
        .raw("<input type=\"hidden\" name=\"repository\" value=\"")
        .text(repo.name.as_str())
        .raw("\"><input type=\"hidden\" name=\"digest\" value=\"")
        .text(&digest)
        .raw(
            "\"><label for=\"severity\">Severity</label><select id=\"severity\" name=\"severity\">",
        )
        .raw("<option value=\"\">all</option>");
    for s in SEVERITIES {
        h.raw("<option");
        if severity == Some(s) {
            h.raw(" selected");
        }
        h.raw(">").raw(s).raw("</option>");
    }
    h.raw("</select><button type=\"submit\" id=\"filter-findings\">Filter</button></form>");
    let shown: Vec<&ScanFinding> = findings
        .iter()
        .filter(|f| severity.is_none_or(|s| f.finding.severity.as_str() == s))
        .collect();
    h.raw("<p class=\"note\" id=\"findings-count\">")
        .num(shown.len())
        .raw(" of ")
        .num(findings.len())
        .raw(" findings shown.</p>");
    if !shown.is_empty() {
        h.raw("<table id=\"findings-table\"><thead><tr><th>Severity</th><th>Vulnerability</th>")
            .raw("<th>Package</th><th>Version</th><th>Fixed in</th></tr></thead><tbody>");
        for f in shown {
            let x = &f.finding;
            h.raw("<tr class=\"finding\"><td class=\"severity\">")
                .text(x.severity.as_str())
                .raw("</td><td>");
            match x
                .references
                .first()
                .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            {
                Some(u) => {
                    h.raw("<a rel=\"noopener noreferrer\" href=\"")
                        .text(u)
                        .raw("\">")
                        .text(&x.name)
                        .raw("</a>");
                }
                None => {
                    h.text(&x.name);
                }
            }
            h.raw("</td><td>")
                .text(&x.package.name)
                .raw("</td><td>")
                .text(&x.package.version)
                .raw("</td><td>")
                .text(x.fixed_version.as_deref().unwrap_or(""))
                .raw("</td></tr>");
        }
        h.raw("</tbody></table>");
    }
    h.raw("</section>");
    Ok(())
}

async fn referrers_section(
    view: &View<'_>,
    repo: &Repo,
    image: &ImageRecord,
    h: &mut Html,
) -> Result<(), ConsoleError> {
    h.raw("<section id=\"referrers\"><h2>Referrers (signatures, SBOMs, attestations)</h2>");
    if !view.allowed(Action::BatchGetImage, repo).await? {
        denied(h, Action::BatchGetImage);
        h.raw("</section>");
        return Ok(());
    }
    let refs = view
        .state
        .registry
        .referrer_records(repo, &image.digest)
        .await
        .map_err(|e| ConsoleError::from_core(e, Action::BatchGetImage))?;
    if refs.is_empty() {
        h.html(&html::notice("note", "No referrers point at this image."));
    } else {
        h.raw("<table id=\"referrers-table\"><thead><tr><th>Artifact type</th><th>Digest</th>")
            .raw("<th class=\"num\">Size</th><th>Status</th></tr></thead><tbody>");
        for r in &refs {
            h.raw("<tr><td>")
                .text(r.artifact_type.as_deref().unwrap_or(&r.media_type))
                .raw("</td><td>");
            image_link(h, repo, &r.digest.to_string());
            h.raw("</td><td class=\"num\">")
                .text(&html::bytes(i128::from(r.size)))
                .raw("</td><td>")
                .text(&r.status)
                .raw("</td></tr>");
        }
        h.raw("</tbody></table>");
    }
    let sboms: Vec<&str> = SBOM_TYPES
        .iter()
        .filter(|(t, _)| refs.iter().any(|r| r.artifact_type.as_deref() == Some(*t)))
        .map(|(_, f)| *f)
        .collect();
    if !sboms.is_empty() {
        if view.allowed(Action::BatchGetImage, repo).await? {
            h.raw("<p id=\"sbom-downloads\">Download the SBOM:");
            let digest = image.digest.to_string();
            for f in sboms {
                h.raw(" <a class=\"sbom\" href=\"")
                    .text(&html::url(
                        "/console/sbom",
                        &[
                            ("repository", repo.name.as_str()),
                            ("digest", &digest),
                            ("format", f),
                        ],
                    ))
                    .raw("\">")
                    .text(f)
                    .raw("</a>");
            }
            h.raw("</p>");
        } else {
            denied(h, Action::BatchGetImage);
        }
    }
    h.raw("</section>");
    Ok(())
}

async fn replication_section(
    view: &View<'_>,
    repo: &Repo,
    image: &ImageRecord,
    h: &mut Html,
) -> Result<(), ConsoleError> {
    h.raw("<section id=\"replication\"><h2>Replication</h2>");
    if !view
        .allowed(Action::DescribeImageReplicationStatus, repo)
        .await?
    {
        denied(h, Action::DescribeImageReplicationStatus);
        h.raw("</section>");
        return Ok(());
    }
    let statuses = view
        .state
        .registry
        .replication_statuses(repo, &image.digest)
        .await
        .map_err(|e| ConsoleError::from_core(e, Action::DescribeImageReplicationStatus))?;
    if statuses.is_empty() {
        h.html(&html::notice(
            "note",
            "No replication rule applies to this image.",
        ));
    } else {
        h.raw("<table id=\"replication-table\"><thead><tr><th>Region</th><th>Registry</th>")
            .raw("<th>Status</th><th>Failure</th><th>Updated</th></tr></thead><tbody>");
        for s in &statuses {
            h.raw("<tr><td>")
                .text(&s.region)
                .raw("</td><td>")
                .text(&s.registry_id)
                .raw("</td><td>")
                .text(&s.status)
                .raw("</td><td>")
                .text(s.failure_code.as_deref().unwrap_or(""))
                .raw("</td><td>")
                .text(&html::time(s.updated_at))
                .raw("</td></tr>");
        }
        h.raw("</tbody></table>");
    }
    h.raw("</section>");
    Ok(())
}

pub async fn detail(view: &View<'_>, uri: &Uri) -> Result<Response, ConsoleError> {
    let q: ImageQuery = query(uri)?;
    let repo = view.repo(&q.repository)?;
    view.authorize(Action::DescribeImages, &repo).await?;
    let image = resolve(view, &repo, &q.digest).await?;
    let severity = q
        .severity
        .as_deref()
        .and_then(|s| SEVERITIES.iter().copied().find(|x| *x == s));
    let scans = view
        .state
        .registry
        .scan_summaries(&repo, std::slice::from_ref(&image))
        .await
        .map_err(|e| ConsoleError::from_core(e, Action::DescribeImages))?;
    let digest = image.digest.to_string();
    let mut h = Html::new();
    h.back_to_repository(repo.name.as_str())
        .raw("<dl class=\"facts\"><dt>Digest</dt><dd><code id=\"image-digest\">")
        .text(&digest)
        .raw("</code></dd><dt>Media type</dt><dd><code>")
        .text(&image.media_type)
        .raw("</code></dd>");
    if let Some(a) = &image.artifact_type {
        h.raw("<dt>Artifact type</dt><dd><code>")
            .text(a)
            .raw("</code></dd>");
    }
    h.raw("<dt>Tags</dt><dd>");
    for t in &image.tags {
        h.raw("<span class=\"tag\">").text(t).raw("</span> ");
    }
    h.raw("</dd><dt>Size</dt><dd>")
        .text(&html::bytes(i128::from(image.image_size)))
        .raw("</dd><dt>Pushed</dt><dd>")
        .text(&html::time(image.pushed_at))
        .raw("</dd><dt>Last pulled</dt><dd>")
        .text(
            &image
                .last_pulled_at
                .map_or_else(|| "never".to_string(), html::time),
        )
        .raw("</dd><dt>Status</dt><dd>")
        .text(&image.status)
        .raw("</dd>");
    if let Some(s) = &image.subject {
        h.raw("<dt>Subject</dt><dd>");
        image_link(&mut h, &repo, s);
        h.raw("</dd>");
    }
    h.raw("</dl><table class=\"facts\"><tr><th>Scan</th>");
    scan_cells(&mut h, scans.get(&image.digest));
    h.raw("</tr></table>");
    manifest_section(view, &repo, &image, &mut h).await?;
    findings_section(view, &repo, &image, severity, &mut h).await?;
    referrers_section(view, &repo, &image, &mut h).await?;
    replication_section(view, &repo, &image, &mut h).await?;
    Ok(view.page(
        &format!("{}@{}", repo.name, html::short_digest(&digest)),
        &h,
    ))
}

#[derive(Deserialize)]
struct SbomQuery {
    repository: String,
    digest: String,
    format: String,
}

/// The image's SBOM document (the one its scan attached as a referrer), as a download.
pub async fn sbom(view: &View<'_>, uri: &Uri) -> Result<Response, ConsoleError> {
    let q: SbomQuery = query(uri)?;
    let repo = view.repo(&q.repository)?;
    view.authorize(Action::BatchGetImage, &repo).await?;
    let (format, ext) = match q.format.as_str() {
        "cyclonedx" => (SbomFormat::CycloneDx, "cdx.json"),
        "spdx" => (SbomFormat::Spdx, "spdx.json"),
        _ => {
            return Err(ConsoleError::BadRequest(
                "The SBOM format is cyclonedx or spdx.".into(),
            ))
        }
    };
    let digest: Digest = q
        .digest
        .parse()
        .map_err(|e| ConsoleError::BadRequest(format!("Invalid digest: {e}")))?;
    let doc = match view.state.registry.sbom(&repo, &digest, format).await {
        Ok(d) => d,
        Err(CoreError::ScanNotFound(m)) => return Err(ConsoleError::NotFound(m)),
        Err(e) => return Err(ConsoleError::from_core(e, Action::BatchGetImage)),
    };
    // The file name holds only hex digits and a fixed extension.
    let disposition = format!(
        "attachment; filename=\"sbom-{}.{ext}\"",
        &digest.hex()[..12.min(digest.hex().len())]
    );
    Ok((
        [
            (header::CONTENT_TYPE, format.media_type().to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        doc.to_string(),
    )
        .into_response())
}
