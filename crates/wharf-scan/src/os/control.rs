//! Stanza files in the Debian control format (dpkg `status`, `status.d/*`): paragraphs of
//! `Field: value` lines separated by blank lines, with continuation lines starting with a space
//! or tab.

/// One paragraph: its first line number (1-based) and its fields in order.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Stanza<'a> {
    pub line: usize,
    pub fields: Vec<(&'a str, String)>,
}

impl Stanza<'_> {
    /// The value of the first field called `name` (field names are case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Splits `text` into stanzas. A line that is neither a field, a continuation of one, nor blank
/// is an error naming its line number.
pub(super) fn parse(text: &str) -> Result<Vec<Stanza<'_>>, String> {
    let mut stanzas = Vec::new();
    let mut current: Option<Stanza<'_>> = None;
    for (number, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l)) {
        if line.trim().is_empty() {
            stanzas.extend(current.take());
            continue;
        }
        if line.starts_with([' ', '\t']) {
            let Some((_, value)) = current.as_mut().and_then(|s| s.fields.last_mut()) else {
                return Err(format!("line {number}: continuation line outside a field"));
            };
            value.push('\n');
            value.push_str(line.trim());
            continue;
        }
        let field = line.split_once(':').filter(|(name, _)| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
        });
        let Some((name, value)) = field else {
            return Err(format!("line {number}: expected 'Field: value'"));
        };
        current
            .get_or_insert_with(|| Stanza {
                line: number,
                fields: Vec::new(),
            })
            .fields
            .push((name, value.trim().to_string()));
    }
    stanzas.extend(current);
    Ok(stanzas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stanzas_with_continuations() {
        let text = "Package: a\nDescription: short\n long line\n .\n\tmore\n\n\n\
                    Package: b\r\nVersion: 1\n";
        let stanzas = parse(text).unwrap();
        assert_eq!(
            stanzas,
            vec![
                Stanza {
                    line: 1,
                    fields: vec![
                        ("Package", "a".into()),
                        ("Description", "short\nlong line\n.\nmore".into())
                    ]
                },
                Stanza {
                    line: 8,
                    fields: vec![("Package", "b".into()), ("Version", "1".into())]
                },
            ]
        );
        assert_eq!(stanzas[1].get("version"), Some("1"));
    }

    #[test]
    fn bad_lines_are_reported() {
        assert_eq!(
            parse(" leading\n"),
            Err("line 1: continuation line outside a field".into())
        );
        assert_eq!(
            parse("Package: a\nno colon here\n"),
            Err("line 2: expected 'Field: value'".into())
        );
        assert_eq!(
            parse(": x\n"),
            Err("line 1: expected 'Field: value'".into())
        );
    }
}
