//! The console's HTML builder: markup goes in only as `&'static str` literals (`raw`), and every
//! value computed at run time goes through `text`, which escapes it for element content and
//! quoted attribute values alike. There is no way to append a dynamic string unescaped, so a
//! repository name, tag, annotation or policy text can never become markup (XSS).
//!
//! Also the small formatting helpers every view shares: sizes, times, query-string encoding and
//! the page layout (navigation, sign-out form).

use std::fmt::Write as _;

/// A fragment of HTML that is safe by construction.
#[derive(Debug, Default, Clone)]
pub struct Html(String);

impl Html {
    pub fn new() -> Html {
        Html(String::with_capacity(4096))
    }

    /// Appends markup written in the source code.
    pub fn raw(&mut self, markup: &'static str) -> &mut Html {
        self.0.push_str(markup);
        self
    }

    /// Appends a value, escaped (`& < > " '`).
    pub fn text(&mut self, value: &str) -> &mut Html {
        escape_into(&mut self.0, value);
        self
    }

    /// Appends the "← repository" link back to a repository's page.
    pub fn back_to_repository(&mut self, name: &str) -> &mut Html {
        self.raw("<p><a href=\"")
            .text(&url("/console/repository", &[("name", name)]))
            .raw("\">← ")
            .text(name)
            .raw("</a></p>")
    }

    /// Appends a number.
    pub fn num(&mut self, n: impl std::fmt::Display) -> &mut Html {
        // Numbers have no characters to escape, but go through `text` all the same.
        let s = n.to_string();
        self.text(&s)
    }

    /// Appends another safe fragment.
    pub fn html(&mut self, other: &Html) -> &mut Html {
        self.0.push_str(&other.0);
        self
    }

    pub fn into_string(self) -> String {
        self.0
    }

    #[cfg(test)]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Percent-encodes a query-string value: everything but RFC 3986's unreserved characters.
pub fn query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A console URL: `path` (a literal) with its query parameters encoded.
pub fn url(path: &'static str, params: &[(&str, &str)]) -> String {
    let mut out = String::from(path);
    for (i, (k, v)) in params.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(&query_value(k));
        out.push('=');
        out.push_str(&query_value(v));
    }
    out
}

/// Bytes in binary units, one decimal (`12.3 MiB`).
pub fn bytes(n: i128) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let negative = n < 0;
    let mut v = n.unsigned_abs() as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    let sign = if negative { "-" } else { "" };
    if unit == 0 {
        format!("{sign}{v} B")
    } else {
        format!("{sign}{v:.1} {}", UNITS[unit])
    }
}

/// A Unix time as `2024-05-01 13:45 UTC`.
pub fn time(secs: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| secs.to_string())
}

/// The first 12 hex digits of a digest (`sha256:0123456789ab`).
pub fn short_digest(digest: &str) -> &str {
    match digest.split_once(':') {
        Some((alg, hex)) if hex.len() > 12 => &digest[..alg.len() + 1 + 12],
        _ => digest,
    }
}

/// Who is signed in and the token their forms carry; absent on the sign-in page.
pub struct Chrome<'a> {
    pub user_arn: &'a str,
    pub csrf: &'a str,
}

/// A whole page: head, navigation (with the sign-out form when signed in), then `body`.
pub fn page(title: &str, chrome: Option<&Chrome<'_>>, body: &Html) -> Html {
    let mut h = Html::new();
    h.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .raw("<title>")
        .text(title)
        .raw(" · Wharf console</title>")
        .raw("<link rel=\"stylesheet\" href=\"/console/assets/console.css\"></head><body>")
        .raw("<header><a class=\"brand\" href=\"/console/\">Wharf</a>");
    if let Some(c) = chrome {
        h.raw("<nav><a href=\"/console/\" id=\"nav-repositories\">Repositories</a>")
            .raw("<a href=\"/console/usage\" id=\"nav-usage\">Usage and cost</a></nav>")
            .raw("<div class=\"who\"><span id=\"signed-in-as\">")
            .text(c.user_arn)
            .raw("</span><form method=\"post\" action=\"/console/signout\">")
            .html(&csrf_field(c.csrf))
            .raw("<button type=\"submit\" id=\"sign-out\">Sign out</button></form></div>");
    }
    h.raw("</header><main>")
        .raw("<h1>")
        .text(title)
        .raw("</h1>")
        .html(body)
        .raw("</main></body></html>\n");
    h
}

/// The hidden field every console form carries.
pub fn csrf_field(token: &str) -> Html {
    let mut h = Html::new();
    h.raw("<input type=\"hidden\" name=\"csrf\" value=\"")
        .text(token)
        .raw("\">");
    h
}

/// A message box (`kind` is a literal CSS class: `error`, `ok`, `denied`, `note`).
pub fn notice(kind: &'static str, message: &str) -> Html {
    let mut h = Html::new();
    h.raw("<p class=\"notice ")
        .raw(kind)
        .raw("\" role=\"status\">")
        .text(message)
        .raw("</p>");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_everywhere() {
        let mut h = Html::new();
        h.raw("<a title=\"")
            .text("\"><script>alert('x')</script>&")
            .raw("\">");
        assert_eq!(
            h.as_str(),
            "<a title=\"&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;\">"
        );
        let p = page("<b>", None, &Html::new());
        assert!(p
            .as_str()
            .contains("<title>&lt;b&gt; · Wharf console</title>"));
        assert!(!p.as_str().contains("<b>"));
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            url(
                "/console/image",
                &[("repository", "a/b c"), ("digest", "sha256:00&x=1")]
            ),
            "/console/image?repository=a%2Fb%20c&digest=sha256%3A00%26x%3D1"
        );
    }

    #[test]
    fn sizes_times_and_digests() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(-3 * 1024 * 1024), "-3.0 MiB");
        assert_eq!(time(0), "1970-01-01 00:00 UTC");
        assert_eq!(
            short_digest("sha256:0123456789abcdef0123"),
            "sha256:0123456789ab"
        );
        assert_eq!(short_digest("odd"), "odd");
    }
}
