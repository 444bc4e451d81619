//! Translating the model's Java-style `pattern`s into Rust `regex` syntax.
//!
//! AWS validates with `java.util.regex` and `Matcher.matches()`, so a pattern must match the whole
//! value. The `regex` crate differs from Java in ways that matter for the ECR model:
//!
//! * `\w`, `\d` and `\s`/`\S` are Unicode-aware in Rust but ASCII-only in Java (without
//!   `UNICODE_CHARACTER_CLASS`). They are rewritten to explicit ASCII classes, so that `é` does
//!   not pass `[\w+=,.@-]+` here when AWS would reject it.
//! * Java reads a `-` right after a range inside a class (`[a-zA-Z0-9-_+.]`) as a literal; Rust
//!   rejects it. It is escaped to `\-`.
//! * `$` in Java's `matches()` and Rust's `\z` both mean the true end; Rust's `$` without `m` is
//!   also the true end, so `^`/`$` inside patterns need no change.
//!
//! Every pattern in botocore 1.44.5's ECR model compiles after translation; the test
//! `every_model_pattern_compiles` keeps it that way and lists which ones needed rewriting.

use regex::Regex;

/// Java's `\s`: `[ \t\n\x0B\f\r]`.
const JAVA_SPACE: &str = r" \t\n\x0B\x0C\r";
const JAVA_WORD: &str = "0-9A-Za-z_";
const JAVA_DIGIT: &str = "0-9";

/// Rewrites a Java-style pattern into an equivalent Rust `regex` pattern (not yet anchored).
pub fn translate(java: &str) -> String {
    let mut out = String::with_capacity(java.len() + 16);
    let mut chars = java.chars().peekable();
    // Inside a character class, and whether the previous item completed a range (`a-z`).
    let mut in_class = false;
    let mut after_range = false;
    // The position in the class: 0 right after `[`, used to keep `[^` and `[-` intact.
    let mut class_items = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(e) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let class = match e {
                    'w' => Some((JAVA_WORD, false)),
                    'd' => Some((JAVA_DIGIT, false)),
                    's' => Some((JAVA_SPACE, false)),
                    'W' => Some((JAVA_WORD, true)),
                    'D' => Some((JAVA_DIGIT, true)),
                    'S' => Some((JAVA_SPACE, true)),
                    _ => None,
                };
                match (class, in_class) {
                    (Some((set, false)), true) => out.push_str(set),
                    (Some((set, negated)), _) => {
                        // Outside a class, or a negated class inside one (`[^\S]` does not
                        // occur in the model): emit a nested class, which Rust supports.
                        out.push('[');
                        if negated {
                            out.push('^');
                        }
                        out.push_str(set);
                        out.push(']');
                    }
                    (None, _) => {
                        out.push('\\');
                        out.push(e);
                    }
                }
                after_range = false;
                class_items += 1;
            }
            '[' if !in_class => {
                in_class = true;
                after_range = false;
                class_items = 0;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    out.push(chars.next().unwrap_or('^'));
                }
            }
            ']' if in_class && class_items > 0 => {
                in_class = false;
                out.push(']');
            }
            '-' if in_class => {
                let next = chars.peek().copied();
                if class_items == 0 || next == Some(']') {
                    out.push('-');
                } else if after_range {
                    // `[0-9-_]`: Java's literal `-` after a range.
                    out.push_str(r"\-");
                    after_range = false;
                } else if let Some(end) = next {
                    // A range `x-y`: copy it whole so the next `-` knows it follows a range.
                    chars.next();
                    out.push('-');
                    if end == '\\' {
                        out.push('\\');
                        if let Some(esc) = chars.next() {
                            out.push(esc);
                        }
                    } else {
                        out.push(end);
                    }
                    after_range = true;
                    class_items += 1;
                    continue;
                } else {
                    out.push('-');
                }
                class_items += 1;
            }
            _ => {
                out.push(c);
                if in_class {
                    after_range = false;
                    class_items += 1;
                }
            }
        }
    }
    out
}

/// Translates and compiles a model pattern for a full match. Returns `None` if it still does not
/// compile, in which case the constraint is skipped rather than rejecting every request.
pub fn compile(java: &str) -> Option<Regex> {
    Regex::new(&format!(r"\A(?:{})\z", translate(java))).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(java: &str, rust: &str) {
        assert_eq!(translate(java), rust);
    }

    #[test]
    fn translates_java_specifics() {
        check("[a-zA-Z0-9-_+.]+:[a-f]+", r"[a-zA-Z0-9\-_+.]+:[a-f]+");
        check(r"[\w+=,.@-]+", "[0-9A-Za-z_+=,.@-]+");
        check(r"^\S+$", r"^[^ \t\n\x0B\x0C\r]+$");
        check(r"arn:aws(-\w+)*", "arn:aws(-[0-9A-Za-z_]+)*");
        check(r"[._\-/a-z0-9*]", r"[._\-/a-z0-9*]");
        check("[-a]", "[-a]");
        check("[^-a]", "[^-a]");
        check("[0-9]{12}", "[0-9]{12}");
    }

    #[test]
    fn compiled_patterns_match_whole_values() {
        let re = compile("[0-9]{12}").unwrap();
        assert!(re.is_match("123456789012"));
        assert!(!re.is_match("1234567890123"));
        assert!(!re.is_match("x123456789012"));
        let alt = compile("^$|arn:aws:kms:[a-z0-9-]+").unwrap();
        assert!(alt.is_match(""));
        assert!(!alt.is_match("xarn:aws:kms:a"));
    }
}
