//! The module graph of each workspace crate, and its cycles: modules that depend on each other,
//! directly or around a loop, cannot be understood, tested or moved one at a time.
//!
//! The rule (ARCHITECTURE.md, invariants): in every crate target (`src/lib.rs`, `src/main.rs`),
//! the children of any one module — the crate root's top-level modules, and the modules inside a
//! directory module such as `wharf-api`'s `ecr/` — form a graph without cycles.
//!
//! How the graph is built, from the parsed sources (`syn`), never from compiler output:
//!
//! - Module `a` depends on its sibling `b` when code anywhere inside `a` (its file, its
//!   sub-modules) writes a path that reaches `b`: `crate::b::X`, `super::b::X`, `self::…`,
//!   every leaf of a `use` group (`use crate::{b, c::Y}`), and such paths inside macro
//!   invocations (`format!("{}", crate::b::X)`).
//! - A name the crate root (or any module enclosing the writer) only re-exports is followed to
//!   the module it comes from: `use crate::X` where `lib.rs` says `pub use b::X` is a
//!   dependency on `b`. A module that is not an ancestor of the writer and re-exports a name is
//!   itself the dependency (a facade). Items defined in an enclosing module's own file belong to
//!   that module, which is above its children: no edge.
//! - Test-only code is not part of the structure: items under `#[cfg(test)]` (or
//!   `#[cfg(all(test, …))]`), including `mod tests;` files, are skipped. `tests/`, `benches/`
//!   and `examples/` are separate crates and not read.
//! - Paths relative to the writer (`child::X`) name its own children or imports and so never
//!   make a sibling edge; names of other crates are ignored. `#[path]` modules are refused
//!   rather than guessed.
//! - What a path cannot show is not seen: a method call finds its `impl` through the value's
//!   type, so an inherent `impl` written in another module makes no edge, and the bare names a
//!   glob import (`use crate::b::*`) brings in count only as the glob's own edge to `b`.
//!
//! A cycle is reported with its members, one shortest loop through them, and the file:line of
//! every reference on each edge inside it.

mod graph;
mod resolve;
mod tree;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

pub use graph::{Graph, Site};
pub use tree::{ModPath, Tree};

/// One cycle among the children of one module.
#[derive(Debug)]
pub struct Cycle {
    /// The crate target, e.g. `wharf-api` or `wharf (bin)`.
    pub target: String,
    /// The module whose children cycle (`[]`: the crate root's top-level modules).
    pub parent: ModPath,
    pub members: Vec<String>,
    /// A shortest loop through the first member: `[a, b, a]`.
    pub shortest: Vec<String>,
    /// Every edge between members, with the references behind it.
    pub edges: Vec<(String, String, Vec<Site>)>,
}

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let under = if self.parent.is_empty() {
            "crate".to_string()
        } else {
            format!("crate::{}", self.parent.join("::"))
        };
        writeln!(
            f,
            "{}: modules under {under} form a cycle: {} (e.g. {})",
            self.target,
            self.members.join(", "),
            self.shortest.join(" -> ")
        )?;
        for (from, to, sites) in &self.edges {
            writeln!(f, "  {from} -> {to}:")?;
            for site in sites {
                writeln!(f, "    {}:{}: {}", site.file, site.line, site.path)?;
            }
        }
        Ok(())
    }
}

/// The graphs of one crate target: for each module with children, the edges between them.
/// `read` reads a file relative to `src/`; reported files are prefixed with `shown_prefix`.
pub fn graphs(
    root_file: &str,
    shown_prefix: &str,
    read: &dyn Fn(&str) -> Option<String>,
) -> Result<BTreeMap<ModPath, Graph>, Vec<String>> {
    let tree = Tree::load(root_file, read);
    if !tree.errors.is_empty() {
        return Err(tree.errors);
    }
    let mut graphs: BTreeMap<ModPath, Graph> = BTreeMap::new();
    for (writer, module) in &tree.modules {
        for written in &module.written {
            let Some(target) = resolve::resolve(&tree, writer, &written.segments).module() else {
                continue;
            };
            let common = writer
                .iter()
                .zip(&target)
                .take_while(|(a, b)| a == b)
                .count();
            if common < writer.len() && common < target.len() {
                let site = Site {
                    file: format!("{shown_prefix}{}", written.file),
                    line: written.line,
                    path: written.segments.join("::"),
                };
                graphs.entry(writer[..common].to_vec()).or_default().add(
                    &writer[common],
                    &target[common],
                    site,
                );
            }
        }
    }
    Ok(graphs)
}

/// The cycles of one crate target.
pub fn cycles(
    target: &str,
    root_file: &str,
    shown_prefix: &str,
    read: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Cycle>, Vec<String>> {
    let graphs = graphs(root_file, shown_prefix, read)?;
    Ok(Target {
        name: target.to_string(),
        graphs,
    }
    .cycles())
}

/// The module graphs of one crate target.
#[derive(Debug)]
pub struct Target {
    /// `wharf-api`, or `wharf (bin)` for a `main.rs`.
    pub name: String,
    /// Per module with children (`[]`: the crate root), the edges between its children.
    pub graphs: BTreeMap<ModPath, Graph>,
}

impl Target {
    /// The cycles of this target's graphs.
    pub fn cycles(&self) -> Vec<Cycle> {
        let mut found = Vec::new();
        for (parent, graph) in &self.graphs {
            for members in graph.components() {
                let shortest = graph.shortest_cycle(&members);
                let edges = graph
                    .edges_within(&members)
                    .map(|(a, b, sites)| {
                        (
                            a.to_string(),
                            b.to_string(),
                            sites.iter().cloned().collect(),
                        )
                    })
                    .collect();
                found.push(Cycle {
                    target: self.name.clone(),
                    parent: parent.clone(),
                    members,
                    shortest,
                    edges,
                });
            }
        }
        found
    }
}

/// Every crate target under `workspace/crates/*/src` (`lib.rs`, `main.rs`), with its graphs.
pub fn workspace_targets(workspace: &Path) -> Result<Vec<Target>, Vec<String>> {
    let crates_dir = workspace.join("crates");
    let mut dirs: Vec<_> = std::fs::read_dir(&crates_dir)
        .map_err(|e| vec![format!("{}: {e}", crates_dir.display())])?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.join("src").is_dir())
        .collect();
    dirs.sort();
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    for dir in dirs {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let src = dir.join("src");
        let read = |file: &str| std::fs::read_to_string(src.join(file)).ok();
        for (root, target) in [
            ("lib.rs", name.clone()),
            ("main.rs", format!("{name} (bin)")),
        ] {
            if !src.join(root).is_file() {
                continue;
            }
            let prefix = format!("crates/{name}/src/");
            match graphs(root, &prefix, &read) {
                Ok(graphs) => targets.push(Target {
                    name: target,
                    graphs,
                }),
                Err(e) => errors.extend(e.into_iter().map(|e| format!("{prefix}{e}"))),
            }
        }
    }
    if errors.is_empty() {
        Ok(targets)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests;
