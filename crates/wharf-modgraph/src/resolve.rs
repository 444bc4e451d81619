//! Where a written path leads: the module owning the name it reaches. `use` bindings of the
//! writer's own ancestors (the crate root, a directory module's `mod.rs`) are followed to the
//! module they re-export from; a binding anywhere else stops there (that module is a facade the
//! writer depends on).

use crate::tree::{ModPath, Tree};

/// What a path names: a module itself, an item owned by a module, or nothing in this crate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    Module(ModPath),
    Item(ModPath),
    External,
}

impl Resolved {
    /// The module the path depends on, if it is in this crate.
    pub fn module(self) -> Option<ModPath> {
        match self {
            Resolved::Module(m) | Resolved::Item(m) => Some(m),
            Resolved::External => None,
        }
    }
}

/// Bindings that lead to bindings are followed at most this deep (a `use` loop ends here).
const MAX_DEPTH: usize = 32;

/// Resolves `segments`, written in module `from`.
pub fn resolve(tree: &Tree, from: &ModPath, segments: &[String]) -> Resolved {
    resolve_in(tree, from, from, segments, 0)
}

/// Resolves `segments` as written in module `at`, on behalf of a reference made in `writer`.
fn resolve_in(
    tree: &Tree,
    writer: &ModPath,
    at: &ModPath,
    segments: &[String],
    depth: usize,
) -> Resolved {
    let Some(first) = segments.first() else {
        return Resolved::External;
    };
    let mut cur = at.clone();
    let mut rest = segments;
    match first.as_str() {
        "crate" => {
            cur.clear();
            rest = &rest[1..];
        }
        "self" => rest = &rest[1..],
        "super" => {
            while rest.first().is_some_and(|s| s == "super") {
                if cur.pop().is_none() {
                    return Resolved::External;
                }
                rest = &rest[1..];
            }
        }
        // A relative path names something in `at` (2018 paths), or else another crate.
        name => {
            let Some(module) = tree.modules.get(at) else {
                return Resolved::External;
            };
            let local = module.children.contains(name)
                || module.items.contains(name)
                || module.uses.contains_key(name);
            if !local {
                return Resolved::External;
            }
        }
    }
    walk(tree, writer, cur, rest, depth)
}

fn walk(
    tree: &Tree,
    writer: &ModPath,
    mut cur: ModPath,
    mut rest: &[String],
    depth: usize,
) -> Resolved {
    if depth > MAX_DEPTH {
        return Resolved::Item(cur);
    }
    while let Some(seg) = rest.first() {
        let Some(module) = tree.modules.get(&cur) else {
            return Resolved::Item(cur);
        };
        if module.children.contains(seg) {
            cur.push(seg.clone());
            rest = &rest[1..];
            continue;
        }
        if module.items.contains(seg) {
            return Resolved::Item(cur);
        }
        // A name imported here: transparent when `cur` encloses the writer (its re-exports
        // are how the crate root and directory modules expose their children's items).
        let transparent = writer.starts_with(&cur);
        if let Some(binding) = module.uses.get(seg) {
            if !transparent {
                return Resolved::Item(cur);
            }
            match resolve_in(tree, writer, &cur, binding, depth + 1) {
                Resolved::Module(m) if rest.len() > 1 => {
                    cur = m;
                    rest = &rest[1..];
                    continue;
                }
                other => return other,
            }
        }
        for glob in &module.globs {
            let Resolved::Module(source) = resolve_in(tree, writer, &cur, glob, depth + 1) else {
                continue;
            };
            let Some(from) = tree.modules.get(&source) else {
                continue;
            };
            if from.children.contains(seg)
                || from.items.contains(seg)
                || from.uses.contains_key(seg)
            {
                if !transparent {
                    return Resolved::Item(cur);
                }
                return walk(tree, writer, source, rest, depth + 1);
            }
        }
        // A name this tool cannot see (a macro's item, a variant): the module it was looked
        // up in owns it.
        return Resolved::Item(cur);
    }
    Resolved::Module(cur)
}
