//! Ruby gems from installed specifications (`…/specifications/*.gemspec`, which RubyGems writes
//! for every installed gem).
//!
//! The file is Ruby, but an installed spec is generated in a fixed shape, so it is read line by
//! line the way Syft reads it: `s.name = "x".freeze`, `s.version = "1.2.3"` and
//! `s.licenses = ["MIT".freeze]`, with `.freeze` dropped and `\uXXXX` escapes decoded. A version
//! written as `Gem::Version.new("1.2.3")` is accepted as well. A spec without a version is kept
//! with version `UNKNOWN`, as Syft keeps it; one without a name yields nothing.

use super::{package, read_manifest};
use crate::catalog::{CatalogError, Cataloger, FileInfo};
use crate::limits::Limits;
use crate::package::{Package, PackageKind};
use regex::Regex;
use std::io::Read;
use std::sync::LazyLock;

/// Reads installed gem specifications.
pub struct GemCataloger;

impl Cataloger for GemCataloger {
    fn name(&self) -> &'static str {
        "gem"
    }

    fn wants(&self, file: &FileInfo<'_>) -> bool {
        // Syft's glob: `**/specifications/**/*.gemspec`.
        file.path.ends_with(".gemspec") && file.path.contains("/specifications/")
    }

    fn catalog(
        &self,
        file: &FileInfo<'_>,
        reader: &mut dyn Read,
        limits: &Limits,
    ) -> Result<Vec<Package>, CatalogError> {
        let Some(bytes) = read_manifest(file, reader, limits)? else {
            return Ok(Vec::new());
        };
        let text = String::from_utf8_lossy(&bytes);
        Ok(parse_gemspec(&text, file.path).into_iter().collect())
    }
}

static NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#".*\.name\s*=\s*["'](?P<v>.*)["'] *"#).expect("valid regex"));
static VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#".*\.version\s*=\s*(?:Gem::Version\.new\(\s*)?["'](?P<v>[^"']*)["']"#)
        .expect("valid regex")
});
static LICENSES: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#".*\.licenses\s*=\s*\[(?P<v>.*)\] *"#).expect("valid regex"));
static LICENSE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#".*\.license\s*=\s*["'](?P<v>.*)["'] *"#).expect("valid regex"));
static UNICODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\\u(?P<hex>[0-9A-Fa-f]{4})").expect("valid regex"));

/// The gem an installed specification describes, if it has a name.
pub fn parse_gemspec(text: &str, location: &str) -> Option<Package> {
    let mut name = None;
    let mut version = None;
    let mut licenses = Vec::new();
    for line in text.lines() {
        let line = line.trim().replace(".freeze", "");
        if line.is_empty() {
            continue;
        }
        let line = decode_unicode_escapes(&line);
        let capture = |re: &Regex| {
            re.captures(&line)
                .and_then(|c| c.name("v"))
                .map(|m| m.as_str().to_string())
                .filter(|v| !v.is_empty())
        };
        // One field per line, checked in a fixed order (a spec line sets one attribute).
        if let Some(v) = capture(&NAME) {
            name = Some(v);
        } else if let Some(v) = capture(&VERSION) {
            version = Some(v);
        } else if let Some(v) = capture(&LICENSES) {
            licenses = v
                .split(',')
                .map(|item| item.trim_matches(|c| c == '"' || c == '\'' || c == ' '))
                .filter(|item| !item.is_empty())
                .map(str::to_string)
                .collect();
        } else if let Some(v) = capture(&LICENSE) {
            licenses = vec![v];
        }
    }
    Some(package(
        PackageKind::Gem,
        &name?,
        &version.unwrap_or_default(),
        licenses,
        location,
    ))
}

/// Replaces `\uXXXX` escapes (which RubyGems writes for non-ASCII text) with the characters.
fn decode_unicode_escapes(line: &str) -> String {
    UNICODE
        .replace_all(line, |caps: &regex::Captures<'_>| {
            caps.name("hex")
                .and_then(|h| u32::from_str_radix(h.as_str(), 16).ok())
                .and_then(char::from_u32)
                .map(String::from)
                .unwrap_or_else(|| {
                    caps.get(0)
                        .map_or(String::new(), |m| m.as_str().to_string())
                })
        })
        .into_owned()
}
