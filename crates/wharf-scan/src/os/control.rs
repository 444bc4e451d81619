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

/// Splits `text` into stanzas, all in memory. The tests use it; catalogers use `each`.
#[cfg(test)]
pub(super) fn parse(text: &str) -> Result<Vec<Stanza<'_>>, String> {
    let mut stanzas = Vec::new();
    each::<String>(text, &mut |stanza| {
        stanzas.push(stanza);
        Ok(())
    })
    .map_err(|err| match err {
        Error::Syntax(reason) => reason,
        Error::Visit(reason) => reason,
    })?;
    Ok(stanzas)
}

/// Why `each` stopped: a line that does not parse, or the visitor's own error.
#[derive(Debug)]
pub(super) enum Error<E> {
    Syntax(String),
    Visit(E),
}

/// Hands each stanza of `text` to `visit` as soon as it ends, so only one stanza is held at a
/// time and the visitor can stop early. A line that is neither a field, a continuation of one,
/// nor blank is an error naming its line number.
pub(super) fn each<'a, E>(
    text: &'a str,
    visit: &mut dyn FnMut(Stanza<'a>) -> Result<(), E>,
) -> Result<(), Error<E>> {
    let mut current: Option<Stanza<'a>> = None;
    for (number, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l)) {
        if line.trim().is_empty() {
            if let Some(stanza) = current.take() {
                visit(stanza).map_err(Error::Visit)?;
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            let Some((_, value)) = current.as_mut().and_then(|s| s.fields.last_mut()) else {
                return Err(Error::Syntax(format!(
                    "line {number}: continuation line outside a field"
                )));
            };
            value.push('\n');
            value.push_str(line.trim());
            continue;
        }
        let field = line.split_once(':').filter(|(name, _)| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
        });
        let Some((name, value)) = field else {
            return Err(Error::Syntax(format!(
                "line {number}: expected 'Field: value'"
            )));
        };
        current
            .get_or_insert_with(|| Stanza {
                line: number,
                fields: Vec::new(),
            })
            .fields
            .push((name, value.trim().to_string()));
    }
    if let Some(stanza) = current {
        visit(stanza).map_err(Error::Visit)?;
    }
    Ok(())
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
