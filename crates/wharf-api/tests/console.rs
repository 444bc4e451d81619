//! The web console over a real in-process server: sign-in (bad secrets, the double-submit
//! token, cookie attributes), sessions and sign-out, CSRF and origin checks on every POST,
//! authorization of each view by the ECR action its API call needs, and escaping.

mod common;

use common::{index_manifest, Server, OCI_INDEX, OCI_MANIFEST};
use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::{Response, StatusCode};

/// A browser-like client: no redirects followed, cookies handled by hand.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn set_cookies(resp: &Response) -> Vec<String> {
    resp.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

/// The value a `Set-Cookie` gives `name`.
fn cookie_value(cookies: &[String], name: &str) -> Option<String> {
    cookies.iter().find_map(|c| {
        let first = c.split(';').next()?;
        let (k, v) = first.split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

/// The value of the first hidden `csrf` field of a page.
fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    page[at..at + 64].to_string()
}

/// Creates a user with one identity policy and an access key; returns (key id, secret).
async fn user(s: &Server, name: &str, actions: &[&str]) -> (String, String) {
    let meta = s.registry.meta();
    let account = meta.default_account().to_string();
    let u = meta.create_user(&account, name).await.unwrap().unwrap();
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": actions, "Resource": "*" }],
    });
    meta.put_user_policy(u.id, "console-test", &policy.to_string())
        .await
        .unwrap();
    let id = format!("AKIATEST{:0>12}", name.len() * 7919);
    let secret = format!("secret-of-{name}-0123456789abcdefghijklmnopqr");
    meta.create_access_key(u.id, &id, &secret).await.unwrap();
    (id, secret)
}

/// A signed-in session: the cookie header value and the CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

/// Opens the sign-in form: its token and the double-submit cookie.
async fn signin_form(s: &Server, c: &reqwest::Client) -> (String, String) {
    let resp = c.get(s.url("/console/signin")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let cookies = set_cookies(&resp);
    let pre = cookie_value(&cookies, "wharf_console_signin").expect("sign-in cookie");
    let token = csrf_of(&resp.text().await.unwrap());
    assert_eq!(pre, token);
    (pre, token)
}

async fn post_signin(s: &Server, c: &reqwest::Client, id: &str, secret: &str) -> Response {
    let (pre, token) = signin_form(s, c).await;
    c.post(s.url("/console/signin"))
        .header(COOKIE, format!("wharf_console_signin={pre}"))
        .form(&[
            ("csrf", token.as_str()),
            ("access_key_id", id),
            ("secret_access_key", secret),
        ])
        .send()
        .await
        .unwrap()
}

async fn sign_in(s: &Server, c: &reqwest::Client, id: &str, secret: &str) -> Session {
    let resp = post_signin(s, c, id, secret).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/console/");
    let id = cookie_value(&set_cookies(&resp), "wharf_console").expect("session cookie");
    let cookie = format!("wharf_console={id}");
    let page = c
        .get(s.url("/console/"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csrf = csrf_of(&page.text().await.unwrap());
    Session { cookie, csrf }
}

async fn get(
    s: &Server,
    c: &reqwest::Client,
    session: &Session,
    path: &str,
) -> (StatusCode, String) {
    let resp = c
        .get(s.url(path))
        .header(COOKIE, &session.cookie)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.text().await.unwrap())
}

#[tokio::test]
async fn sign_in_sets_a_strict_http_only_cookie_and_bad_secrets_are_refused() {
    let s = Server::start().await;
    let c = browser();
    let (id, secret) = user(&s, "alice", &["ecr:*"]).await;

    // The sign-in form's own cookie.
    let resp = c.get(s.url("/console/signin")).send().await.unwrap();
    let cookies = set_cookies(&resp);
    let pre = cookies
        .iter()
        .find(|c| c.starts_with("wharf_console_signin="))
        .unwrap();
    assert!(
        pre.contains("HttpOnly") && pre.contains("SameSite=Strict"),
        "{pre}"
    );
    assert!(!pre.contains("Secure"), "plain HTTP: {pre}");
    assert_eq!(resp.headers()["x-frame-options"], "DENY");
    assert!(resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));

    // A wrong secret, an unknown key, and an empty secret: the form again, no session.
    for (key, sec) in [
        (id.as_str(), "not-the-secret"),
        ("AKIANOSUCHKEY0000000", secret.as_str()),
        (id.as_str(), ""),
    ] {
        let resp = post_signin(&s, &c, key, sec).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{key}");
        assert!(cookie_value(&set_cookies(&resp), "wharf_console").is_none());
        let body = resp.text().await.unwrap();
        assert!(body.contains("not valid"), "{body}");
        assert!(!body.contains(&secret), "the secret is never echoed");
    }

    // The right secret, but without the form's token (a login CSRF): refused.
    let resp = c
        .post(s.url("/console/signin"))
        .form(&[
            ("access_key_id", id.as_str()),
            ("secret_access_key", secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(cookie_value(&set_cookies(&resp), "wharf_console").is_none());

    // The right secret: a session cookie with every attribute.
    let resp = post_signin(&s, &c, &id, &secret).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let cookies = set_cookies(&resp);
    let session = cookies
        .iter()
        .find(|c| c.starts_with("wharf_console="))
        .unwrap();
    let value = cookie_value(&cookies, "wharf_console").unwrap();
    assert_eq!(value.len(), 64, "256 random bits, hex");
    assert!(value.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        session,
        &format!("wharf_console={value}; Path=/console; Max-Age=43200; HttpOnly; SameSite=Strict")
    );
}

#[tokio::test]
async fn pages_need_a_session_and_sign_out_ends_it() {
    let s = Server::start().await;
    let c = browser();
    s.push_image("web/app", "v1", "one").await;
    let (id, secret) = user(&s, "bob", &["ecr:*"]).await;

    for path in [
        "/console/",
        "/console/repository?name=web/app",
        "/console/usage",
    ] {
        let resp = c.get(s.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(resp.headers()[LOCATION], "/console/signin");
        let resp = c
            .get(s.url(path))
            .header(COOKIE, format!("wharf_console={}", "ab".repeat(32)))
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::SEE_OTHER,
            "forged cookie on {path}"
        );
    }
    let resp = c.get(s.url("/console")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/console/");

    let session = sign_in(&s, &c, &id, &secret).await;
    let (status, page) = get(&s, &c, &session, "/console/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("web/app"), "{page}");
    assert!(
        page.contains("arn:aws:iam::"),
        "the signed-in user is named"
    );

    // Sign-out without the token is refused and leaves the session alive.
    let resp = c
        .post(s.url("/console/signout"))
        .header(COOKIE, &session.cookie)
        .form(&[("csrf", "0".repeat(64))])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(get(&s, &c, &session, "/console/").await.0, StatusCode::OK);

    let resp = c
        .post(s.url("/console/signout"))
        .header(COOKIE, &session.cookie)
        .form(&[("csrf", session.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/console/signin");
    let cleared = set_cookies(&resp);
    assert!(cleared
        .iter()
        .any(|c| c.starts_with("wharf_console=;") && c.contains("Max-Age=0")));
    assert_eq!(
        get(&s, &c, &session, "/console/").await.0,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_deactivated_key_ends_its_sessions() {
    let s = Server::start().await;
    let c = browser();
    let (id, secret) = user(&s, "carol", &["ecr:*"]).await;
    let session = sign_in(&s, &c, &id, &secret).await;
    s.registry
        .meta()
        .set_access_key_active(&id, false)
        .await
        .unwrap();
    // The key cache of the identity service holds entries for at most a few seconds; the
    // console reads the key from the store on every request.
    assert_eq!(
        get(&s, &c, &session, "/console/").await.0,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn each_view_is_authorized_as_its_api_call() {
    let s = Server::start().await;
    let c = browser();
    s.push_image("team/api", "v1", "api").await;
    // May list repositories, but not describe their images.
    let (id, secret) = user(&s, "dave", &["ecr:DescribeRepositories"]).await;
    let session = sign_in(&s, &c, &id, &secret).await;
    let (status, page) = get(&s, &c, &session, "/console/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("team/api"));
    assert!(page.contains("needs ecr:DescribeImages"), "sizes hidden");
    for (path, action) in [
        ("/console/repository?name=team/api", "ecr:DescribeImages"),
        ("/console/lifecycle?repository=team/api", "ecr:GetLifecyclePolicy"),
        ("/console/policy?repository=team/api", "ecr:GetRepositoryPolicy"),
        (
            "/console/sbom?repository=team/api&digest=sha256:0000000000000000000000000000000000000000000000000000000000000000&format=spdx",
            "ecr:BatchGetImage",
        ),
    ] {
        let (status, page) = get(&s, &c, &session, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.contains(action), "{path}: {page}");
        assert!(page.contains("Access denied"));
    }
    // POSTs are authorized too, after the token check.
    let resp = c
        .post(s.url("/console/policy"))
        .header(COOKIE, &session.cookie)
        .form(&[
            ("csrf", session.csrf.as_str()),
            ("repository", "team/api"),
            ("text", "{}"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("ecr:SetRepositoryPolicy"));

    // A user allowed nothing sees no repository at all (as DescribeRepositories lists none).
    let (id, secret) = user(&s, "erin-nothing", &["ecr:GetAuthorizationToken"]).await;
    let session = sign_in(&s, &c, &id, &secret).await;
    let (status, page) = get(&s, &c, &session, "/console/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("team/api"));
    // Images but not manifests: the image page shows the sections it may, notices for others.
    let (id, secret) = user(&s, "frank", &["ecr:DescribeImages"]).await;
    let session = sign_in(&s, &c, &id, &secret).await;
    let (status, page) = get(&s, &c, &session, "/console/repository?name=team/api").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("needs ecr:BatchGetImage"), "{page}");
    let digest = s.push_image("team/api", "v2", "api2").await.0;
    let (status, page) = get(
        &s,
        &c,
        &session,
        &format!("/console/image?repository=team/api&digest={digest}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("do not allow ecr:BatchGetImage"));
    assert!(page.contains("do not allow ecr:DescribeImageScanFindings"));
    assert!(!page.contains("manifest-json"));
}

#[tokio::test]
async fn posts_need_the_session_token_and_the_console_origin() {
    let s = Server::start().await;
    let c = browser();
    s.push_image("csrf/app", "v1", "x").await;
    let (id, secret) = user(&s, "grace", &["ecr:*"]).await;
    let session = sign_in(&s, &c, &id, &secret).await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"ecr:BatchGetImage"}]}"#;
    let post = |csrf: String, origin: Option<&'static str>, site: Option<&'static str>| {
        let mut r = c
            .post(s.url("/console/policy"))
            .header(COOKIE, &session.cookie)
            .form(&[
                ("csrf", csrf.as_str()),
                ("repository", "csrf/app"),
                ("text", policy),
            ]);
        if let Some(o) = origin {
            r = r.header(ORIGIN, o);
        }
        if let Some(site) = site {
            r = r.header("sec-fetch-site", site);
        }
        r.send()
    };
    // No token, a wrong token, a token of the right length from another session.
    let other = sign_in(&s, &c, &id, &secret).await;
    assert_ne!(other.csrf, session.csrf);
    for bad in [
        String::new(),
        "x".into(),
        "0".repeat(64),
        other.csrf.clone(),
    ] {
        let resp = post(bad.clone(), None, None).await.unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "token {bad:?}");
    }
    // The right token from another site.
    let resp = post(session.csrf.clone(), Some("http://evil.example"), None)
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = post(session.csrf.clone(), None, Some("cross-site"))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(matches!(
        s.registry.repository_policy(&repo(&s, "csrf/app")).await,
        Err(wharf_core::CoreError::RepositoryPolicyNotFound)
    ));
    // The right token from the console's own origin.
    let origin: &'static str = Box::leak(s.base.clone().into_boxed_str());
    let resp = post(session.csrf.clone(), Some(origin), Some("same-origin"))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("Repository policy saved."));
    // Validation errors are shown, and the text is kept (escaped).
    let resp = c
        .post(s.url("/console/policy"))
        .header(COOKIE, &session.cookie)
        .form(&[
            ("csrf", session.csrf.as_str()),
            ("repository", "csrf/app"),
            ("text", "{\"Version\":</textarea><script>alert(1)</script>"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let page = resp.text().await.unwrap();
    assert!(page.contains("The policy is not valid"), "{page}");
    assert!(!page.contains("<script>"), "escaped: {page}");
    assert!(page.contains("&lt;/textarea&gt;&lt;script&gt;"));
}

/// A repository of the default account.
fn repo(s: &Server, name: &str) -> wharf_core::Repo {
    let account = s.registry.meta().default_account().parse().unwrap();
    wharf_core::Repo::new(account, name.parse().unwrap())
}

#[tokio::test]
async fn lifecycle_editor_validates_saves_and_previews() {
    let s = Server::start().await;
    let c = browser();
    s.push_image("lc/app", "old", "a").await;
    s.push_image("lc/app", "new", "b").await;
    let (id, secret) = user(&s, "heidi", &["ecr:*"]).await;
    let session = sign_in(&s, &c, &id, &secret).await;
    let post = |action: &'static str, text: &'static str| {
        c.post(s.url("/console/lifecycle"))
            .header(COOKIE, &session.cookie)
            .form(&[
                ("csrf", session.csrf.as_str()),
                ("repository", "lc/app"),
                ("text", text),
                ("action", action),
            ])
            .send()
    };
    let resp = post("save", r#"{"rules":[]}"#).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("The policy is not valid"));
    let good = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#;
    let resp = post("preview", good).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let page = resp.text().await.unwrap();
    assert!(page.contains("1 image(s) would expire"), "{page}");
    let resp = post("save", good).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let r = repo(&s, "lc/app");
    assert_eq!(s.registry.lifecycle_policy(&r).await.unwrap().text, good);
    let (status, page) = get(&s, &c, &session, "/console/lifecycle?repository=lc/app").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("imageCountMoreThan"));
}

#[tokio::test]
async fn an_index_groups_its_platform_images() {
    let s = Server::start().await;
    let c = browser();
    let (amd, amd_body) = s.push_image("multi/app", "amd", "amd64").await;
    let (arm, arm_body) = s.push_image("multi/app", "arm", "arm64").await;
    let index = index_manifest(
        OCI_INDEX,
        &[
            (OCI_MANIFEST, &amd, amd_body.len()),
            (OCI_MANIFEST, &arm, arm_body.len()),
        ],
    );
    let index_digest = s
        .push_manifest("multi/app", "latest", OCI_INDEX, index.as_bytes())
        .await;
    let (id, secret) = user(&s, "ivan", &["ecr:*"]).await;
    let session = sign_in(&s, &c, &id, &secret).await;
    let (status, page) = get(&s, &c, &session, "/console/repository?name=multi/app").await;
    assert_eq!(status, StatusCode::OK);
    let at = |d: &str| {
        page.find(&format!("data-digest=\"{d}\""))
            .unwrap_or_else(|| panic!("{d} in {page}"))
    };
    assert!(at(&index_digest) < at(&amd) && at(&index_digest) < at(&arm));
    assert!(page.contains("img depth-1 kind-image"), "{page}");
    assert!(page.contains("linux/amd64"));
    assert!(page.contains("id=\"push-commands\""));
    assert!(
        page.contains("docker push 127.0.0.1/multi/app:latest"),
        "{page}"
    );
    // The index's own page lists its entries and its manifest.
    let (status, page) = get(
        &s,
        &c,
        &session,
        &format!("/console/image?repository=multi/app&digest={index_digest}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"entries\""));
    assert!(page.contains("manifest-json"));
    let (status, _) = get(
        &s,
        &c,
        &session,
        "/console/image?repository=multi/app&digest=sha256:nope",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, page) = get(&s, &c, &session, "/console/usage").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("usage-chart") && page.contains("multi/app"));
}
