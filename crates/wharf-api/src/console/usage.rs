//! Usage and cost: the account's repositories' logical bytes (what ECR would bill) against
//! physical bytes (what Wharf stores after deduplication) as an inline SVG bar chart, and their
//! monthly cost at the server's price (wharf-core `usage.rs`, the same report as `wharf usage`).
//! A repository's line is shown only where the user may `ecr:DescribeImages` it (the figures
//! are sums over its images); the account's free tier is not applied to per-repository lines.

use super::error::ConsoleError;
use super::html::{self, Html};
use super::View;
use axum::response::Response;
use wharf_core::usage::{Pricing, RepositoryLine, UsageFilter};
use wharf_core::Action;

/// The chart's geometry: a label column, then bars scaled to the largest figure.
const LABEL_W: u64 = 220;
const BAR_W: u64 = 520;
const ROW_H: u64 = 34;

/// The SVG chart: per repository, a logical bar over a physical one.
fn chart(lines: &[&RepositoryLine]) -> Html {
    let max = lines
        .iter()
        .map(|l| l.usage.logical_bytes().max(l.usage.physical_bytes()))
        .max()
        .unwrap_or(0)
        .max(1);
    let height = ROW_H * lines.len() as u64 + 30;
    let mut h = Html::new();
    h.raw("<svg id=\"usage-chart\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"")
        .num(LABEL_W + BAR_W + 120)
        .raw("\" height=\"")
        .num(height)
        .raw("\" aria-label=\"Logical and physical bytes per repository\">");
    for (i, l) in lines.iter().enumerate() {
        let y = ROW_H * i as u64;
        let scale = |b: u64| ((u128::from(b) * u128::from(BAR_W)) / u128::from(max)) as u64;
        let (logical, physical) = (l.usage.logical_bytes(), l.usage.physical_bytes());
        h.raw("<text x=\"0\" y=\"")
            .num(y + 18)
            .raw("\" class=\"label\">")
            .text(&l.name)
            .raw("</text><rect class=\"logical\" x=\"")
            .num(LABEL_W)
            .raw("\" y=\"")
            .num(y + 4)
            .raw("\" height=\"12\" width=\"")
            .num(scale(logical).max(1))
            .raw("\"><title>logical ")
            .text(&html::bytes(i128::from(logical)))
            .raw("</title></rect><rect class=\"physical\" x=\"")
            .num(LABEL_W)
            .raw("\" y=\"")
            .num(y + 17)
            .raw("\" height=\"12\" width=\"")
            .num(scale(physical).max(1))
            .raw("\"><title>physical ")
            .text(&html::bytes(i128::from(physical)))
            .raw("</title></rect><text class=\"value\" x=\"")
            .num(LABEL_W + scale(logical.max(physical)) + 6)
            .raw("\" y=\"")
            .num(y + 22)
            .raw("\">")
            .text(&html::bytes(i128::from(logical)))
            .raw("</text>");
    }
    let legend_y = ROW_H * lines.len() as u64 + 14;
    h.raw("<rect class=\"logical\" x=\"0\" y=\"")
        .num(legend_y)
        .raw("\" width=\"12\" height=\"12\"/><text x=\"18\" y=\"")
        .num(legend_y + 11)
        .raw("\">logical (billed by ECR)</text><rect class=\"physical\" x=\"200\" y=\"")
        .num(legend_y)
        .raw("\" width=\"12\" height=\"12\"/><text x=\"218\" y=\"")
        .num(legend_y + 11)
        .raw("\">physical (stored, deduplicated)</text></svg>");
    h
}

fn usd(v: f64) -> String {
    format!("${v:.4}")
}

pub async fn usage(view: &View<'_>) -> Result<Response, ConsoleError> {
    let pricing: Pricing = view.state.console.pricing;
    let report = view
        .state
        .registry
        .usage(
            &UsageFilter {
                account: Some(view.user.account.clone()),
                repository: None,
            },
            pricing,
        )
        .await?;
    let mut lines = Vec::new();
    for l in &report.repositories {
        let repo = view.repo(&l.name)?;
        if view.allowed(Action::DescribeImages, &repo).await? {
            lines.push(l);
        }
    }
    let mut h = Html::new();
    h.raw("<p class=\"note\">Monthly estimate at ")
        .text(&usd(pricing.price_per_gb_month))
        .raw(" per GB-month (1 GB = 2<sup>30</sup> bytes); today's bytes priced as if stored all month. ")
        .raw("The account's free allowance (")
        .text(&format!("{} GB-month", pricing.free_gb_month))
        .raw(") is not subtracted per repository.</p>");
    if lines.is_empty() {
        h.html(&html::notice(
            "note",
            "No repository here whose images you may describe.",
        ));
        return Ok(view.page("Usage and cost", &h));
    }
    h.html(&chart(&lines));
    h.raw("<table id=\"usage\"><thead><tr><th>Repository</th><th class=\"num\">Images</th>")
        .raw("<th class=\"num\">Logical</th><th class=\"num\">Physical</th>")
        .raw("<th class=\"num\">Cost (logical)</th><th class=\"num\">Cost (physical)</th></tr></thead><tbody>");
    let (mut logical, mut physical, mut cost_l, mut cost_p) = (0u64, 0u64, 0f64, 0f64);
    for l in &lines {
        let u = &l.usage;
        logical += u.logical_bytes();
        physical += u.physical_bytes();
        cost_l += u.costs.logical_usd;
        cost_p += u.costs.physical_usd;
        h.raw("<tr><td>")
            .text(&l.name)
            .raw("</td><td class=\"num\">")
            .num(u.figures.images)
            .raw("</td><td class=\"num\">")
            .text(&html::bytes(i128::from(u.logical_bytes())))
            .raw("</td><td class=\"num\">")
            .text(&html::bytes(i128::from(u.physical_bytes())))
            .raw("</td><td class=\"num\">")
            .text(&usd(u.costs.logical_usd))
            .raw("</td><td class=\"num\">")
            .text(&usd(u.costs.physical_usd))
            .raw("</td></tr>");
    }
    h.raw("</tbody><tfoot><tr><th>Shown repositories</th><th></th><th class=\"num\">")
        .text(&html::bytes(i128::from(logical)))
        .raw("</th><th class=\"num\">")
        .text(&html::bytes(i128::from(physical)))
        .raw("</th><th class=\"num\">")
        .text(&usd(cost_l))
        .raw("</th><th class=\"num\">")
        .text(&usd(cost_p))
        .raw("</th></tr></tfoot></table>");
    Ok(view.page("Usage and cost", &h))
}
