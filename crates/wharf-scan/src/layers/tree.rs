//! What the walker remembers of the image filesystem between layers: only the paths that matter
//! to the inventory (files a cataloger read, and the os-release files and links), each tagged with
//! the layer that wrote it, so whiteouts and replacements in upper layers can drop them. Paths
//! nothing wanted are never stored, which keeps memory proportional to the package metadata
//! rather than to the image.

use crate::package::Package;
use std::collections::BTreeMap;

/// Content the walker keeps verbatim (small files the inventory needs outside the catalogers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kept {
    /// A regular file's bytes.
    File(Vec<u8>),
    /// A symlink, with its target already resolved to an absolute image path.
    Symlink(String),
}

/// One remembered path.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// The index of the layer that wrote the path.
    pub layer: usize,
    /// The packages the catalogers read from it.
    pub packages: Vec<Package>,
    /// Its content, when the walker keeps it.
    pub kept: Option<Kept>,
}

/// The remembered paths, keyed by absolute normalized path.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    nodes: BTreeMap<String, Node>,
    package_count: usize,
}

impl Tree {
    /// How many packages the remembered paths hold (before deduplication).
    pub fn package_count(&self) -> usize {
        self.package_count
    }

    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// Remembers `path`, replacing whatever was remembered there.
    pub fn insert(&mut self, path: String, node: Node) {
        self.package_count += node.packages.len();
        if let Some(old) = self.nodes.insert(path, node) {
            self.package_count -= old.packages.len();
        }
    }

    /// Forgets `path` itself, whichever layer wrote it (a directory now stands there).
    pub fn remove_exact(&mut self, path: &str) {
        if let Some(old) = self.nodes.remove(path) {
            self.package_count -= old.packages.len();
        }
    }

    /// Forgets `path` and everything below it that a layer before `before_layer` wrote (all
    /// layers when `None`). `include_self` false keeps `path` itself (opaque directories hide a
    /// directory's contents, not the directory).
    pub fn remove_tree(&mut self, path: &str, include_self: bool, before_layer: Option<usize>) {
        let lower = |node: &Node| before_layer.is_none_or(|layer| node.layer < layer);
        let mut doomed: Vec<String> = Vec::new();
        if include_self && self.nodes.get(path).is_some_and(lower) {
            doomed.push(path.to_string());
        }
        if path == "/" {
            doomed.extend(
                self.nodes
                    .iter()
                    .filter(|(_, node)| lower(node))
                    .map(|(key, _)| key.clone()),
            );
        } else {
            // Children of `/a` sort between `/a/` and `/a0`, since '0' follows '/'.
            let start = format!("{path}/");
            let end = format!("{path}0");
            doomed.extend(
                self.nodes
                    .range(start..end)
                    .filter(|(_, node)| lower(node))
                    .map(|(key, _)| key.clone()),
            );
        }
        for key in doomed {
            self.remove_exact(&key);
        }
    }

    /// Every remembered package, in no particular order.
    pub fn into_packages(self) -> Vec<Package> {
        self.nodes
            .into_values()
            .flat_map(|node| node.packages)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::PackageKind;

    fn node(layer: usize, name: &str) -> Node {
        Node {
            layer,
            packages: vec![Package {
                kind: PackageKind::Deb,
                name: name.into(),
                version: "1".into(),
                source_name: None,
                source_version: None,
                arch: None,
                licenses: Vec::new(),
                location: String::new(),
            }],
            kept: None,
        }
    }

    fn names(tree: &Tree) -> Vec<String> {
        tree.nodes.keys().cloned().collect()
    }

    #[test]
    fn subtrees_are_removed_by_layer() {
        let mut tree = Tree::default();
        tree.insert("/a".into(), node(0, "a"));
        tree.insert("/a/b".into(), node(0, "ab"));
        tree.insert("/a/c/d".into(), node(1, "acd"));
        tree.insert("/a-z".into(), node(0, "az"));
        tree.insert("/ab".into(), node(0, "ab2"));
        assert_eq!(tree.package_count(), 5);

        tree.remove_tree("/a", false, Some(1));
        assert_eq!(names(&tree), ["/a", "/a-z", "/a/c/d", "/ab"]);
        tree.remove_tree("/a", true, None);
        assert_eq!(names(&tree), ["/a-z", "/ab"]);
        assert_eq!(tree.package_count(), 2);
        tree.remove_tree("/", false, Some(1));
        assert!(names(&tree).is_empty());
        assert_eq!(tree.package_count(), 0);
    }

    #[test]
    fn insert_replaces_and_counts() {
        let mut tree = Tree::default();
        tree.insert("/x".into(), node(0, "x"));
        tree.insert("/x".into(), node(1, "y"));
        assert_eq!(tree.package_count(), 1);
        let packages = tree.into_packages();
        assert_eq!(packages.len(), 1);
        assert_eq!(packages[0].name, "y");
    }
}
