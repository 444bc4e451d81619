//! The policy editors of a repository: its lifecycle policy (read with
//! `ecr:GetLifecyclePolicy`, saved with `ecr:PutLifecyclePolicy`, previewed with
//! `ecr:StartLifecyclePolicyPreview`, showing the images the text would expire or archive) and
//! its repository policy (`ecr:GetRepositoryPolicy`, `ecr:SetRepositoryPolicy`). Both validate
//! as the API does (the lifecycle grammar in wharf-core, IAM resource policies in
//! wharf-policy) and show the validation message above the text the user sent, kept as typed.

use super::error::ConsoleError;
use super::html::{self, Html};
use super::{html_response, query, View};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use wharf_core::Action;
use wharf_core::{unix_now, CoreError, LifecycleAction, LifecyclePreview, Repo, StorageClass};
use wharf_policy::{PolicyDocument, PolicyKind};

#[derive(Deserialize)]
struct RepoQuery {
    repository: String,
}

#[derive(Deserialize)]
struct PolicyForm {
    repository: String,
    text: String,
    #[serde(default)]
    action: String,
}

/// Which editor a page is.
#[derive(Clone, Copy)]
enum Editor {
    Lifecycle,
    RepositoryPolicy,
}

impl Editor {
    fn title(self) -> &'static str {
        match self {
            Editor::Lifecycle => "Lifecycle policy",
            Editor::RepositoryPolicy => "Repository policy",
        }
    }

    fn action(self) -> &'static str {
        match self {
            Editor::Lifecycle => "/console/lifecycle",
            Editor::RepositoryPolicy => "/console/policy",
        }
    }

    fn buttons(self) -> &'static str {
        match self {
            Editor::Lifecycle => LIFECYCLE_BUTTONS,
            Editor::RepositoryPolicy => POLICY_BUTTONS,
        }
    }
}

/// The editor page: outcome notices, the form, and a preview's results.
fn editor(
    view: &View<'_>,
    status: StatusCode,
    kind: Editor,
    repo: &Repo,
    text: &str,
    above: &Html,
    below: &Html,
) -> Response {
    let (title, action, buttons) = (kind.title(), kind.action(), kind.buttons());
    let mut h = Html::new();
    h.back_to_repository(repo.name.as_str())
        .html(above)
        .raw("<form method=\"post\" action=\"")
        .raw(action)
        .raw("\" class=\"editor\">")
        .html(&html::csrf_field(&view.session.csrf))
        .raw("<input type=\"hidden\" name=\"repository\" value=\"")
        .text(repo.name.as_str())
        .raw("\"><textarea id=\"policy-text\" name=\"text\" rows=\"18\" spellcheck=\"false\">")
        .text(text)
        .raw("</textarea><div class=\"buttons\">")
        .raw(buttons)
        .raw("</div></form>")
        .html(below);
    let page = super::html::page(title, Some(&view.chrome()), &h);
    (status, html_response(page)).into_response()
}

const LIFECYCLE_BUTTONS: &str = "<button type=\"submit\" name=\"action\" value=\"save\" id=\"save-policy\">Save</button> \
     <button type=\"submit\" name=\"action\" value=\"preview\" id=\"preview-policy\">Preview</button>";
const POLICY_BUTTONS: &str =
    "<button type=\"submit\" name=\"action\" value=\"save\" id=\"save-policy\">Save</button>";

fn class_name(c: StorageClass) -> &'static str {
    match c {
        StorageClass::Standard => "STANDARD",
        StorageClass::Archive => "ARCHIVE",
    }
}

fn preview_table(repo: &Repo, preview: &LifecyclePreview) -> Html {
    let mut h = Html::new();
    h.raw("<section id=\"preview\"><h2>Preview</h2>");
    if preview.results.is_empty() {
        h.html(&html::notice(
            "note",
            "No image would expire or be archived.",
        ));
    } else {
        let expiring = preview
            .results
            .iter()
            .filter(|r| r.action == LifecycleAction::Expire)
            .count();
        h.raw("<p class=\"note\" id=\"preview-summary\">")
            .num(expiring)
            .raw(" image(s) would expire, ")
            .num(preview.results.len() - expiring)
            .raw(" would be archived.</p>")
            .raw(
                "<table id=\"preview-table\"><thead><tr><th>Image</th><th>Tags</th><th>Pushed</th>",
            )
            .raw("<th>Action</th><th>Rule</th></tr></thead><tbody>");
        for r in &preview.results {
            h.raw("<tr><td><a class=\"digest\" href=\"")
                .text(&html::url(
                    "/console/image",
                    &[("repository", repo.name.as_str()), ("digest", &r.digest)],
                ))
                .raw("\">")
                .text(html::short_digest(&r.digest))
                .raw("</a></td><td>");
            for t in &r.tags {
                h.raw("<span class=\"tag\">").text(t).raw("</span> ");
            }
            h.raw("</td><td>")
                .text(&html::time(r.pushed_at))
                .raw("</td><td>");
            match r.action {
                LifecycleAction::Expire => {
                    h.raw("EXPIRE");
                }
                LifecycleAction::Transition { target } => {
                    h.raw("TRANSITION to ").raw(class_name(target));
                }
            }
            h.raw("</td><td>").num(r.rule_priority).raw("</td></tr>");
        }
        h.raw("</tbody></table>");
    }
    h.raw("</section>");
    h
}

pub async fn lifecycle(view: &View<'_>, uri: &Uri) -> Result<Response, ConsoleError> {
    let q: RepoQuery = query(uri)?;
    let repo = view.repo(&q.repository)?;
    view.authorize(Action::GetLifecyclePolicy, &repo).await?;
    view.state
        .registry
        .repository(&repo)
        .await
        .map_err(|e| ConsoleError::from_core(e, Action::GetLifecyclePolicy))?;
    let (text, above) = match view.state.registry.lifecycle_policy(&repo).await {
        Ok(p) => {
            let mut above = Html::new();
            if let Some(t) = p.evaluated_at {
                above.html(&html::notice(
                    "note",
                    &format!("Last evaluated {}.", html::time(t)),
                ));
            }
            (p.text, above)
        }
        Err(CoreError::LifecyclePolicyNotFound) => (
            String::new(),
            html::notice("note", "This repository has no lifecycle policy yet."),
        ),
        Err(e) => return Err(ConsoleError::from_core(e, Action::GetLifecyclePolicy)),
    };
    Ok(editor(
        view,
        StatusCode::OK,
        Editor::Lifecycle,
        &repo,
        &text,
        &above,
        &Html::new(),
    ))
}

pub async fn save_lifecycle(view: &View<'_>, req: Request) -> Result<Response, ConsoleError> {
    let form: PolicyForm = view.form(req).await?;
    let repo = view.repo(&form.repository)?;
    let preview = form.action == "preview";
    let action = if preview {
        Action::StartLifecyclePolicyPreview
    } else {
        Action::PutLifecyclePolicy
    };
    view.authorize(action, &repo).await?;
    view.state
        .registry
        .repository(&repo)
        .await
        .map_err(|e| ConsoleError::from_core(e, action))?;
    let outcome = if preview {
        view.state
            .registry
            .start_lifecycle_preview(&repo, Some(&form.text), unix_now())
            .await
            .map(|p| {
                (
                    html::notice("ok", "Preview complete."),
                    preview_table(&repo, &p),
                )
            })
    } else {
        view.state
            .registry
            .put_lifecycle_policy(&repo, &form.text)
            .await
            .map(|()| (html::notice("ok", "Lifecycle policy saved."), Html::new()))
    };
    let (status, above, below) = match outcome {
        Ok((above, below)) => (StatusCode::OK, above, below),
        Err(CoreError::InvalidParameter(m)) => (
            StatusCode::BAD_REQUEST,
            html::notice("error", &format!("The policy is not valid: {m}")),
            Html::new(),
        ),
        Err(e) => return Err(ConsoleError::from_core(e, action)),
    };
    Ok(editor(
        view,
        status,
        Editor::Lifecycle,
        &repo,
        &form.text,
        &above,
        &below,
    ))
}

pub async fn repository_policy(view: &View<'_>, uri: &Uri) -> Result<Response, ConsoleError> {
    let q: RepoQuery = query(uri)?;
    let repo = view.repo(&q.repository)?;
    view.authorize(Action::GetRepositoryPolicy, &repo).await?;
    let (text, above) = match view.state.registry.repository_policy(&repo).await {
        Ok(t) => (t, Html::new()),
        Err(CoreError::RepositoryPolicyNotFound) => (
            String::new(),
            html::notice("note", "This repository has no repository policy yet."),
        ),
        Err(e) => return Err(ConsoleError::from_core(e, Action::GetRepositoryPolicy)),
    };
    Ok(editor(
        view,
        StatusCode::OK,
        Editor::RepositoryPolicy,
        &repo,
        &text,
        &above,
        &Html::new(),
    ))
}

pub async fn save_repository_policy(
    view: &View<'_>,
    req: Request,
) -> Result<Response, ConsoleError> {
    let form: PolicyForm = view.form(req).await?;
    let repo = view.repo(&form.repository)?;
    view.authorize(Action::SetRepositoryPolicy, &repo).await?;
    let (status, above) = match PolicyDocument::parse(&form.text, PolicyKind::Resource) {
        Err(e) => (
            StatusCode::BAD_REQUEST,
            html::notice("error", &format!("The policy is not valid: {e}")),
        ),
        Ok(_) => {
            view.state
                .registry
                .set_repository_policy(&repo, &form.text)
                .await
                .map_err(|e| ConsoleError::from_core(e, Action::SetRepositoryPolicy))?;
            (
                StatusCode::OK,
                html::notice("ok", "Repository policy saved."),
            )
        }
    };
    Ok(editor(
        view,
        status,
        Editor::RepositoryPolicy,
        &repo,
        &form.text,
        &above,
        &Html::new(),
    ))
}
