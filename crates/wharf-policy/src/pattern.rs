//! Wildcard patterns (`*`, `?`) and policy variables (`${aws:username}`), as IAM applies them to
//! actions, resources and condition values.
//!
//! A pattern string is first expanded against the request (variables replaced by the request's
//! values, `${*}`, `${?}` and `${$}` turned into literal characters) into a list of tokens; the
//! tokens are then matched against a value. Substituted text is always literal, so a user named
//! `a*` cannot widen a `${aws:username}` resource into a wildcard.

/// One element of an expanded pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    Lit(char),
    /// `*`: any run of characters, possibly empty.
    Star,
    /// `?`: exactly one character.
    One,
}

/// Looks up the single value of a request key for a policy variable.
pub(crate) trait VarSource {
    /// The value to substitute for `${key}`, or `None` when the request has no single value.
    fn var(&self, key: &str) -> Option<String>;
}

/// Expands `pattern` into tokens. Variables are only honoured when `vars` is given (policies with
/// `Version: 2012-10-17`); with older versions `${...}` is literal text, as in IAM.
///
/// Returns `None` when a variable names a key the request does not have (or has several values
/// for) and gives no default; the statement holding it then does not apply.
pub(crate) fn expand(pattern: &str, vars: Option<&dyn VarSource>) -> Option<Vec<Tok>> {
    let mut out = Vec::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(c) = rest.chars().next() {
        if let (Some(vars), true) = (vars, rest.starts_with("${")) {
            if let Some(end) = variable_end(rest) {
                let body = &rest[2..end];
                out.extend(substitute(body, vars)?.chars().map(Tok::Lit));
                rest = &rest[end + 1..];
                continue;
            }
        }
        out.push(match c {
            '*' => Tok::Star,
            '?' => Tok::One,
            c => Tok::Lit(c),
        });
        rest = &rest[c.len_utf8()..];
    }
    Some(out)
}

/// Whether `s` contains something `expand` would treat as a variable.
pub(crate) fn has_variable(s: &str) -> bool {
    s.match_indices("${")
        .any(|(i, _)| variable_end(&s[i..]).is_some())
}

/// The index of the `}` closing a `${` at the start of `s`, skipping quoted defaults.
fn variable_end(s: &str) -> Option<usize> {
    let mut in_quote = false;
    for (i, c) in s.char_indices().skip(2) {
        match c {
            '\'' => in_quote = !in_quote,
            '}' if !in_quote => return Some(i),
            _ => {}
        }
    }
    None
}

/// Resolves the inside of `${...}`: an escape, a key, or `key, 'default'`.
fn substitute(body: &str, vars: &dyn VarSource) -> Option<String> {
    let (key, default) = match body.split_once(',') {
        Some((k, d)) => (k.trim(), Some(unquote(d.trim())?)),
        None => (body.trim(), None),
    };
    match key {
        "*" | "?" | "$" if default.is_none() => return Some(key.to_string()),
        _ => {}
    }
    vars.var(key).or(default)
}

/// `'text'` with `''` standing for one quote.
fn unquote(s: &str) -> Option<String> {
    let inner = s.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(inner.replace("''", "'"))
}

/// Tokens as plain text, for operators without wildcards (`StringEquals`, `NumericEquals`...).
pub(crate) fn literal(toks: &[Tok]) -> String {
    toks.iter()
        .map(|t| match t {
            Tok::Lit(c) => *c,
            Tok::Star => '*',
            Tok::One => '?',
        })
        .collect()
}

/// Glob-matches `toks` against `value`; `fold` compares ASCII case-insensitively.
pub(crate) fn glob(toks: &[Tok], value: &str, fold: bool) -> bool {
    let v: Vec<char> = value.chars().collect();
    let eq = |a: char, b: char| {
        if fold {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    // Classic linear-time wildcard matching with one backtrack point for the latest `*`.
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < v.len() {
        match toks.get(p) {
            Some(Tok::Star) => {
                star = Some((p, i));
                p += 1;
            }
            Some(Tok::One) => {
                p += 1;
                i += 1;
            }
            Some(Tok::Lit(c)) if eq(*c, v[i]) => {
                p += 1;
                i += 1;
            }
            _ => match star {
                Some((sp, si)) => {
                    p = sp + 1;
                    i = si + 1;
                    star = Some((sp, si + 1));
                }
                None => return false,
            },
        }
    }
    toks[p.min(toks.len())..].iter().all(|t| *t == Tok::Star)
}

/// Matches an ARN pattern the way IAM does: each of the six colon-separated parts is matched
/// separately (a `*` in the region cannot swallow the account), and the sixth part — the
/// resource — may itself contain colons. A bare `*` matches everything. When neither side is a
/// six-part ARN (a registry-level resource is `*`) the whole strings are matched instead.
pub(crate) fn arn_match(toks: &[Tok], value: &str) -> bool {
    if toks == [Tok::Star] {
        return true;
    }
    let pat_parts = split_toks(toks, 6);
    let val_parts: Vec<&str> = value.splitn(6, ':').collect();
    match (pat_parts.len() == 6, val_parts.len() == 6) {
        (true, true) => {}
        (false, false) => return glob(toks, value, false),
        // A six-part pattern never matches a shorter value, nor a short pattern a full ARN.
        _ => return false,
    }
    pat_parts
        .iter()
        .zip(val_parts)
        .all(|(p, v)| glob(p, v, false))
}

fn split_toks(toks: &[Tok], max: usize) -> Vec<&[Tok]> {
    let mut parts = Vec::with_capacity(max);
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        if parts.len() + 1 == max {
            break;
        }
        if *t == Tok::Lit(':') {
            parts.push(&toks[start..i]);
            start = i + 1;
        }
    }
    parts.push(&toks[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Vars;
    impl VarSource for Vars {
        fn var(&self, key: &str) -> Option<String> {
            key.eq_ignore_ascii_case("aws:username")
                .then(|| "a*b".to_string())
        }
    }

    fn g(p: &str, v: &str) -> bool {
        glob(&expand(p, Some(&Vars)).unwrap(), v, false)
    }

    #[test]
    fn globs() {
        assert!(g("*", ""));
        assert!(g("a*c", "abbbc"));
        assert!(g("a?c", "abc"));
        assert!(!g("a?c", "ac"));
        assert!(g("*b*", "abc"));
        assert!(!g("abc", "abcd"));
        assert!(g("a**", "a"));
        assert!(glob(
            &expand("ECR:get*", None).unwrap(),
            "ecr:GetThing",
            true
        ));
    }

    #[test]
    fn variables_are_literal_after_substitution() {
        assert!(g("x/${aws:username}", "x/a*b"));
        assert!(!g("x/${aws:username}", "x/aXb"));
        assert!(g("${*}", "*"));
        assert!(!g("${*}", "z"));
        assert!(g("${aws:missing, 'd''x'}", "d'x"));
        assert!(expand("${aws:missing}", Some(&Vars)).is_none());
        assert!(g("${aws:username", "${aws:username"));
        assert_eq!(
            literal(&expand("${aws:username}", None).unwrap()),
            "${aws:username}"
        );
    }

    #[test]
    fn arns_match_per_segment() {
        let a = |p: &str, v: &str| arn_match(&expand(p, None).unwrap(), v);
        assert!(a(
            "arn:aws:ecr:*:123456789012:repository/*",
            "arn:aws:ecr:us-east-1:123456789012:repository/a/b"
        ));
        assert!(!a(
            "arn:aws:ecr:*:*",
            "arn:aws:ecr:us-east-1:123456789012:repository/a"
        ));
        assert!(a(
            "arn:aws:ecr:*:*:*",
            "arn:aws:ecr:us-east-1:123456789012:repository/a"
        ));
        assert!(a("*", "anything"));
    }
}
