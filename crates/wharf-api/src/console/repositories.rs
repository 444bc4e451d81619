//! The repositories view: every repository of the account the user may `ecr:DescribeRepositories`
//! (as the API's listing skips the others), with its URI, tag mutability, scan on push and
//! encryption; the image count and total size (from the usage figures) only where the user may
//! also `ecr:DescribeImages`. Also the "push commands" panel the repository page shows.

use super::error::ConsoleError;
use super::html::{self, Html};
use super::View;
use axum::response::Response;
use std::collections::HashMap;
use wharf_core::model::RepositoryRecord;
use wharf_core::usage::UsageFilter;
use wharf_core::Action;

/// Repositories are read in pages of this many.
const PAGE: usize = 1000;

/// Every repository record of the user's account, in name order.
pub async fn all(view: &View<'_>) -> Result<Vec<RepositoryRecord>, ConsoleError> {
    let account = &view.user.account;
    let mut out: Vec<RepositoryRecord> = Vec::new();
    loop {
        let last = out.last().map(|r| r.name.clone());
        let page = view
            .state
            .registry
            .repositories(account, last.as_deref(), PAGE)
            .await?;
        let done = page.len() < PAGE;
        out.extend(page);
        if done {
            return Ok(out);
        }
    }
}

/// `host/name`: what clients pull.
pub fn repository_uri(view: &View<'_>, name: &str) -> String {
    format!(
        "{}/{name}",
        crate::ecr::wire::registry_host(&view.state.ecr, view.user.account.as_str())
    )
}

pub async fn list(view: &View<'_>) -> Result<Response, ConsoleError> {
    let records = all(view).await?;
    let report = view
        .state
        .registry
        .usage(
            &UsageFilter {
                account: Some(view.user.account.clone()),
                repository: None,
            },
            view.state.console.pricing,
        )
        .await?;
    let usage: HashMap<&str, _> = report
        .repositories
        .iter()
        .map(|l| (l.name.as_str(), l.usage.figures))
        .collect();
    let mut rows = Html::new();
    let mut shown = 0;
    for r in &records {
        let repo = view.repo(&r.name)?;
        if !view.allowed(Action::DescribeRepositories, &repo).await? {
            continue;
        }
        shown += 1;
        let images_allowed = view.allowed(Action::DescribeImages, &repo).await?;
        let s = &r.settings;
        rows.raw("<tr class=\"repository\"><td><a class=\"repo-link\" href=\"")
            .text(&html::url("/console/repository", &[("name", &r.name)]))
            .raw("\">")
            .text(&r.name)
            .raw("</a></td><td><code>")
            .text(&repository_uri(view, &r.name))
            .raw("</code></td><td>")
            .text(&s.image_tag_mutability);
        for f in &s.mutability_exclusions {
            rows.raw(" <span class=\"chip\">").text(f).raw("</span>");
        }
        rows.raw("</td><td>")
            .raw(if s.scan_on_push { "on push" } else { "manual" })
            .raw("</td><td>")
            .text(&s.encryption_type);
        if let Some(k) = &s.kms_key {
            rows.raw("<br><small>").text(k).raw("</small>");
        }
        rows.raw("</td>");
        match (images_allowed, usage.get(r.name.as_str())) {
            (true, Some(f)) => {
                rows.raw("<td class=\"num\">")
                    .num(f.images)
                    .raw("</td><td class=\"num\">")
                    .text(&html::bytes(i128::from(f.logical_bytes)))
                    .raw("</td>");
            }
            (true, None) => {
                rows.raw("<td class=\"num\">0</td><td class=\"num\">0 B</td>");
            }
            (false, _) => {
                rows.raw("<td class=\"muted\" title=\"needs ecr:DescribeImages\">—</td>")
                    .raw("<td class=\"muted\" title=\"needs ecr:DescribeImages\">—</td>");
            }
        }
        rows.raw("</tr>");
    }
    let mut body = Html::new();
    if shown == 0 {
        body.html(&html::notice(
            "note",
            "There are no repositories you may describe (ecr:DescribeRepositories) in this account.",
        ));
    } else {
        body.raw("<table id=\"repositories\"><thead><tr><th>Repository</th><th>URI</th>")
            .raw("<th>Tag mutability</th><th>Scanning</th><th>Encryption</th>")
            .raw("<th class=\"num\">Images</th><th class=\"num\">Size</th></tr></thead><tbody>")
            .html(&rows)
            .raw("</tbody></table>");
    }
    Ok(view.page("Repositories", &body))
}

/// The commands that push an image to a repository: log in through the AWS CLI, tag, push.
pub fn push_commands(view: &View<'_>, name: &str) -> Html {
    let settings = &view.state.ecr;
    let host = crate::ecr::wire::registry_host(settings, view.user.account.as_str());
    let endpoint = crate::ecr::wire::registry_url(settings, view.user.account.as_str());
    let uri = repository_uri(view, name);
    let local = name.rsplit('/').next().unwrap_or(name);
    let mut h = Html::new();
    h.raw("<section id=\"push-commands\"><h2>Push commands</h2><ol>")
        .raw("<li>Get a login token and log Docker in:<pre><code>")
        .text(&format!(
            "aws ecr get-login-password --region {} --endpoint-url {endpoint} | docker login --username AWS --password-stdin {host}",
            settings.region
        ))
        .raw("</code></pre></li><li>Tag your image for this repository:<pre><code>")
        .text(&format!("docker tag {local}:latest {uri}:latest"))
        .raw("</code></pre></li><li>Push it:<pre><code>")
        .text(&format!("docker push {uri}:latest"))
        .raw("</code></pre></li></ol>");
    if settings.public_scheme == "http" {
        h.raw("<p class=\"note\">This registry is served over plain HTTP: list <code>")
            .text(&host)
            .raw("</code> under <code>insecure-registries</code> in Docker's daemon.json.</p>");
    }
    h.raw("</section>");
    h
}
