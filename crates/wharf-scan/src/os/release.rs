//! `os-release` (freedesktop.org): where it lives and how to read it. It names the image's
//! distribution, which OS advisories are keyed by. It is not a package, so the walker keeps the
//! file itself and parses it when the inventory is finished (after symlinks are resolved).

use crate::package::OsRelease;

/// Where os-release is looked for, in order of preference.
pub const RELEASE_PATHS: [&str; 2] = ["/etc/os-release", "/usr/lib/os-release"];

/// Whether the walker keeps the file or symlink at `path` for `parse`.
pub fn is_release_path(path: &str) -> bool {
    RELEASE_PATHS.contains(&path)
}

/// Parses os-release text: `KEY=value` lines, values optionally in single or double quotes with
/// shell-style backslash escapes, `#` comments. Returns `None` when no assignment is found. A
/// file without `ID` gets `linux`, the default the specification gives.
pub fn parse(text: &str) -> Option<OsRelease> {
    let mut release = OsRelease::default();
    let mut id = None;
    let mut any = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        any = true;
        let value = unquote(raw.trim());
        let present = (!value.is_empty()).then(|| value.clone());
        match key {
            "ID" => id = present,
            "VERSION_ID" => release.version_id = present,
            "VERSION_CODENAME" => release.version_codename = present,
            "PRETTY_NAME" => release.pretty_name = present,
            "ID_LIKE" => {
                release.id_like = value.split_whitespace().map(str::to_string).collect();
            }
            _ => {}
        }
    }
    if !any {
        return None;
    }
    release.id = id.unwrap_or_else(|| "linux".to_string());
    Some(release)
}

/// Removes shell quoting from one value: `"a \"b\""` → `a "b"`, `'x'` → `x`, `a\ b` → `a b`.
fn unquote(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            // Inside single quotes a backslash is literal, as in the shell.
            (Some('\''), c) => out.push(c),
            (_, '\\') => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            // Unquoted whitespace ends the value (a trailing comment, say).
            (None, c) if c.is_whitespace() => break,
            (_, c) => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_unquoted() {
        let check = |raw: &str, expected: &str| assert_eq!(unquote(raw), expected, "{raw}");
        check("debian", "debian");
        check(
            "\"Debian GNU/Linux 12 (bookworm)\"",
            "Debian GNU/Linux 12 (bookworm)",
        );
        check("'rhel fedora'", "rhel fedora");
        check(r#""say \"hi\" \\ \$x""#, r#"say "hi" \ $x"#);
        check(r"'a\b'", r"a\b");
        check(r"a\ b", "a b");
        check("\"unterminated", "unterminated");
        check("", "");
    }

    #[test]
    fn debian_release_parses() {
        let text = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n\
                    VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\n\
                    ID=debian\nHOME_URL=\"https://www.debian.org/\"\n";
        assert_eq!(
            parse(text),
            Some(OsRelease {
                id: "debian".into(),
                version_id: Some("12".into()),
                version_codename: Some("bookworm".into()),
                id_like: Vec::new(),
                pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
            })
        );
    }

    #[test]
    fn rocky_release_parses_with_comments_and_id_like() {
        let text = "# comment\nNAME=\"Rocky Linux\"\nID='rocky'\nID_LIKE=\"rhel centos fedora\"\n\
                    VERSION_ID=\"9.3\"\nnot a line\n=x\n";
        assert_eq!(
            parse(text),
            Some(OsRelease {
                id: "rocky".into(),
                version_id: Some("9.3".into()),
                version_codename: None,
                id_like: vec!["rhel".into(), "centos".into(), "fedora".into()],
                pretty_name: None,
            })
        );
    }

    #[test]
    fn missing_id_defaults_to_linux_and_empty_text_is_none() {
        assert_eq!(parse("NAME=Linux\n").map(|r| r.id), Some("linux".into()));
        assert_eq!(parse(""), None);
        assert_eq!(parse("# only a comment\ngarbage\n"), None);
    }
}
