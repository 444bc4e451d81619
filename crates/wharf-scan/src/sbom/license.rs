//! How a package's recorded license strings are written into SBOMs.
//!
//! Package metadata records licenses as free text: SPDX identifiers (`MIT`), expressions
//! (`MIT OR Apache-2.0`), and names that are neither (`Apache 2.0`, `BSD`, `GPL-2+`). Both SBOM
//! formats validate identifiers: CycloneDX's schema checks `license.id` against the SPDX list,
//! and SPDX tools reject unknown identifiers that are not `LicenseRef-`. So a string is written
//! as an identifier or expression only when every identifier in it is one we know from the SPDX
//! list (the common ones, below, matched without regard to case as SPDX matching does); anything
//! else is kept verbatim as a name (CycloneDX) or a `LicenseRef-` with its text (SPDX).

/// Common SPDX license identifiers, in their canonical spelling.
const KNOWN_IDS: &[&str] = &[
    "0BSD",
    "AFL-2.1",
    "AFL-3.0",
    "AGPL-3.0",
    "AGPL-3.0-only",
    "AGPL-3.0-or-later",
    "Apache-1.1",
    "Apache-2.0",
    "Artistic-1.0",
    "Artistic-1.0-Perl",
    "Artistic-2.0",
    "BlueOak-1.0.0",
    "BSD-1-Clause",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "BSD-4-Clause",
    "BSL-1.0",
    "bzip2-1.0.6",
    "CC-BY-3.0",
    "CC-BY-4.0",
    "CC-BY-SA-3.0",
    "CC-BY-SA-4.0",
    "CC0-1.0",
    "CDDL-1.0",
    "CDDL-1.1",
    "curl",
    "EPL-1.0",
    "EPL-2.0",
    "FSFAP",
    "FTL",
    "GFDL-1.2-or-later",
    "GFDL-1.3-only",
    "GFDL-1.3-or-later",
    "GPL-1.0-or-later",
    "GPL-2.0",
    "GPL-2.0-only",
    "GPL-2.0-or-later",
    "GPL-3.0",
    "GPL-3.0-only",
    "GPL-3.0-or-later",
    "HPND",
    "ISC",
    "LGPL-2.0-only",
    "LGPL-2.0-or-later",
    "LGPL-2.1",
    "LGPL-2.1-only",
    "LGPL-2.1-or-later",
    "LGPL-3.0",
    "LGPL-3.0-only",
    "LGPL-3.0-or-later",
    "Libpng",
    "MIT",
    "MIT-0",
    "MPL-1.1",
    "MPL-2.0",
    "NCSA",
    "OpenSSL",
    "PostgreSQL",
    "PSF-2.0",
    "Python-2.0",
    "Ruby",
    "Unicode-3.0",
    "Unicode-DFS-2016",
    "Unlicense",
    "UPL-1.0",
    "W3C",
    "WTFPL",
    "X11",
    "Zlib",
    "ZPL-2.1",
];

/// Common SPDX license exception identifiers (the right side of `WITH`).
const KNOWN_EXCEPTIONS: &[&str] = &[
    "Autoconf-exception-3.0",
    "Bison-exception-2.2",
    "Classpath-exception-2.0",
    "GCC-exception-3.1",
    "LLVM-exception",
    "OpenSSL-exception",
];

/// What a license string is, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum License {
    /// One known SPDX identifier, in canonical spelling.
    Id(String),
    /// An SPDX expression whose identifiers are all known, rewritten with canonical spelling.
    Expression(String),
    /// Anything else, trimmed.
    Name(String),
}

/// Classifies one recorded license string.
pub fn classify(text: &str) -> License {
    let text = text.trim();
    if let Some(id) = known(KNOWN_IDS, text) {
        return License::Id(id.to_string());
    }
    match canonical_expression(text) {
        Some(expression) => License::Expression(expression),
        None => License::Name(text.to_string()),
    }
}

/// The `LicenseRef-` identifier an SPDX document uses for a license it cannot name: the text
/// with every character outside `[A-Za-z0-9.-]` replaced by `-`.
pub fn license_ref(text: &str) -> String {
    let sanitized: String = text
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("LicenseRef-{sanitized}")
}

fn known(list: &'static [&'static str], token: &str) -> Option<&'static str> {
    list.iter()
        .copied()
        .find(|id| id.eq_ignore_ascii_case(token))
}

/// Rewrites an SPDX expression with canonical identifier spelling, or `None` when it is not one
/// or names an identifier we do not know. Grammar: operands joined by `AND`/`OR`, an operand is
/// `id`, `id+`, `id WITH exception` or a parenthesized expression.
fn canonical_expression(text: &str) -> Option<String> {
    let spaced = text.replace('(', " ( ").replace(')', " ) ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut out = Vec::with_capacity(tokens.len());
    let mut depth = 0usize;
    // Whether the next token must be an operand (or `(`), as opposed to an operator (or `)`).
    let mut expect_operand = true;
    let mut iter = tokens.iter().copied().peekable();
    while let Some(token) = iter.next() {
        if expect_operand {
            if token == "(" {
                depth += 1;
                out.push("(".to_string());
                continue;
            }
            let (base, plus) = match token.strip_suffix('+') {
                Some(base) => (base, "+"),
                None => (token, ""),
            };
            let id = known(KNOWN_IDS, base)?;
            out.push(format!("{id}{plus}"));
            if iter.peek().is_some_and(|t| t.eq_ignore_ascii_case("WITH")) {
                iter.next();
                let exception = known(KNOWN_EXCEPTIONS, iter.next()?)?;
                out.push("WITH".to_string());
                out.push(exception.to_string());
            }
            expect_operand = false;
        } else if token == ")" {
            depth = depth.checked_sub(1)?;
            out.push(")".to_string());
        } else if token.eq_ignore_ascii_case("AND") || token.eq_ignore_ascii_case("OR") {
            out.push(token.to_ascii_uppercase());
            expect_operand = true;
        } else {
            return None;
        }
    }
    if expect_operand || depth != 0 {
        return None;
    }
    Some(out.join(" ").replace("( ", "(").replace(" )", ")"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: License) {
        assert_eq!(classify(text), expected);
    }

    #[test]
    fn classifies_license_strings() {
        check("MIT", License::Id("MIT".into()));
        check(" apache-2.0 ", License::Id("Apache-2.0".into()));
        check(
            "mit or Apache-2.0",
            License::Expression("MIT OR Apache-2.0".into()),
        );
        check(
            "(MIT OR apache-2.0) AND bsd-3-clause",
            License::Expression("(MIT OR Apache-2.0) AND BSD-3-Clause".into()),
        );
        check(
            "GPL-2.0-or-later WITH classpath-exception-2.0",
            License::Expression("GPL-2.0-or-later WITH Classpath-exception-2.0".into()),
        );
        check("LGPL-2.1+", License::Expression("LGPL-2.1+".into()));
        check("Apache 2.0", License::Name("Apache 2.0".into()));
        check("BSD", License::Name("BSD".into()));
        check("MIT OR", License::Name("MIT OR".into()));
        check("(MIT", License::Name("(MIT".into()));
        check("MIT)", License::Name("MIT)".into()));
        check("MIT WITH", License::Name("MIT WITH".into()));
        check("MIT WITH Nope", License::Name("MIT WITH Nope".into()));
        check("", License::Name(String::new()));
    }

    #[test]
    fn license_refs_are_valid_spdx_ids() {
        assert_eq!(license_ref("Apache 2.0"), "LicenseRef-Apache-2.0");
        assert_eq!(
            license_ref("GPL-2+ (see COPYING)"),
            "LicenseRef-GPL-2---see-COPYING-"
        );
    }
}
