//! Path handling for the layer walker: tar entry names normalized to absolute image paths
//! (`/a/b`), link targets resolved inside the image, and the whiteout names of the OCI layer
//! format. Everything here is lexical; nothing touches the host filesystem.

/// Why a path could not be placed inside the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Escapes;

/// Normalizes a tar entry name into an absolute image path: leading `./` and `/` stripped,
/// `//` and `.` collapsed. A `..` component anywhere is refused, since an entry name has no
/// business climbing directories and extractors disagree on what it would mean. The root itself
/// normalizes to `/`.
pub(crate) fn normalize_entry(name: &str) -> Result<String, Escapes> {
    let mut out = String::with_capacity(name.len() + 1);
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(Escapes),
            _ => {
                out.push('/');
                out.push_str(part);
            }
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// Resolves a symlink target lexically, as the image would see it: an absolute target from the
/// image root, a relative one from the directory holding the link. A `..` that would climb above
/// the root is an escape (an extractor following it would write outside the image).
pub(crate) fn resolve_symlink(link_path: &str, target: &str) -> Result<String, Escapes> {
    let mut parts: Vec<&str> = Vec::new();
    if !target.starts_with('/') {
        parts.extend(link_path.split('/').filter(|p| !p.is_empty()));
        // The link itself is not a directory of its own target.
        parts.pop();
    }
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(Escapes);
                }
            }
            _ => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Ok("/".to_string());
    }
    let mut out = String::with_capacity(target.len() + link_path.len());
    for part in parts {
        out.push('/');
        out.push_str(part);
    }
    Ok(out)
}

/// What an entry's last path component says about whiteouts.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Whiteout<'a> {
    /// Not a whiteout: an ordinary entry.
    None,
    /// `.wh..wh..opq` in directory `dir`: lower layers' contents of `dir` are hidden.
    Opaque { dir: &'a str },
    /// `.wh.<name>`: the path `target` (and everything under it) is deleted from lower layers.
    Delete { target: String },
    /// Another `.wh..wh.` name (aufs bookkeeping such as `.wh..wh.plnk`): carries no meaning for
    /// the final filesystem and is skipped.
    Ignored,
}

/// Classifies a normalized absolute path by its whiteout name, if any.
pub(crate) fn whiteout(path: &str) -> Whiteout<'_> {
    let (dir, base) = split_parent(path);
    if base == ".wh..wh..opq" {
        return Whiteout::Opaque { dir };
    }
    if base.starts_with(".wh..wh.") {
        return Whiteout::Ignored;
    }
    match base.strip_prefix(".wh.") {
        None => Whiteout::None,
        Some("") => Whiteout::Ignored,
        Some(name) => Whiteout::Delete {
            target: join(dir, name),
        },
    }
}

/// Splits `/a/b/c` into (`/a/b`, `c`) and `/c` into (`/`, `c`).
pub(crate) fn split_parent(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(0) => ("/", path.get(1..).unwrap_or("")),
        Some(i) => (
            path.get(..i).unwrap_or("/"),
            path.get(i + 1..).unwrap_or(""),
        ),
        None => ("/", path),
    }
}

/// Joins an absolute directory and a name.
pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_normalize() {
        let check = |name: &str, expected: Result<&str, Escapes>| {
            assert_eq!(
                normalize_entry(name),
                expected.map(str::to_string),
                "{name}"
            );
        };
        check("./etc/os-release", Ok("/etc/os-release"));
        check("/etc//apk/./world", Ok("/etc/apk/world"));
        check("usr/lib/", Ok("/usr/lib"));
        check("./", Ok("/"));
        check("", Ok("/"));
        check("a/../b", Err(Escapes));
        check("../../etc/passwd", Err(Escapes));
        check("/../x", Err(Escapes));
    }

    #[test]
    fn symlinks_resolve_inside_the_image() {
        let check = |link: &str, target: &str, expected: Result<&str, Escapes>| {
            assert_eq!(
                resolve_symlink(link, target),
                expected.map(str::to_string),
                "{link} -> {target}"
            );
        };
        check(
            "/etc/os-release",
            "../usr/lib/os-release",
            Ok("/usr/lib/os-release"),
        );
        check(
            "/etc/os-release",
            "/usr/lib/os-release",
            Ok("/usr/lib/os-release"),
        );
        check("/etc/alt", "./x/../y", Ok("/etc/y"));
        check("/lib", "usr/lib", Ok("/usr/lib"));
        check("/etc/x", "..", Ok("/"));
        check("/etc/x", "../../etc/passwd", Err(Escapes));
        check("/x", "/../etc", Err(Escapes));
    }

    #[test]
    fn whiteouts_are_recognized() {
        assert_eq!(
            whiteout("/etc/.wh..wh..opq"),
            Whiteout::Opaque { dir: "/etc" }
        );
        assert_eq!(whiteout("/.wh..wh..opq"), Whiteout::Opaque { dir: "/" });
        assert_eq!(
            whiteout("/var/lib/.wh.dpkg"),
            Whiteout::Delete {
                target: "/var/lib/dpkg".into()
            }
        );
        assert_eq!(
            whiteout("/.wh.etc"),
            Whiteout::Delete {
                target: "/etc".into()
            }
        );
        assert_eq!(whiteout("/.wh..wh.plnk"), Whiteout::Ignored);
        assert_eq!(whiteout("/etc/.wh."), Whiteout::Ignored);
        assert_eq!(whiteout("/etc/passwd"), Whiteout::None);
    }
}
