//! The module tree of one crate: which modules exist, in which file, what names each defines or
//! imports, and the raw `crate::` / `super::` / `self::` paths its own (non-test) code writes.

use std::collections::{BTreeMap, BTreeSet};

use syn::visit::Visit;

/// A module's path below the crate root (`[]` is the root, `["ecr", "ops"]` is `crate::ecr::ops`).
pub type ModPath = Vec<String>;

/// One path written in the source, with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub segments: Vec<String>,
    /// The file, relative to the crate's `src/`.
    pub file: String,
    pub line: usize,
}

/// One module: its own items (not its children's) and the paths they write.
#[derive(Debug, Default)]
pub struct Module {
    pub file: String,
    pub children: BTreeSet<String>,
    /// Names of the items defined here (functions, types, traits, constants, macros).
    pub items: BTreeSet<String>,
    /// `use` bindings: the name they bind and the path they name.
    pub uses: BTreeMap<String, Vec<String>>,
    /// `use path::*` imports.
    pub globs: Vec<Vec<String>>,
    /// Every path starting `crate`, `super` or `self` (and every `use` path) in this module's
    /// own code.
    pub written: Vec<Written>,
}

/// Every module of one crate target, keyed by path.
#[derive(Debug, Default)]
pub struct Tree {
    pub modules: BTreeMap<ModPath, Module>,
    /// Files that were declared but could not be read or parsed.
    pub errors: Vec<String>,
}

impl Tree {
    /// Loads the tree whose root is `root_file` (e.g. `lib.rs`), reading files relative to
    /// `src/` through `read`.
    pub fn load(root_file: &str, read: &dyn Fn(&str) -> Option<String>) -> Tree {
        let mut tree = Tree::default();
        tree.load_file(Vec::new(), root_file, "", read);
        tree
    }

    fn load_file(
        &mut self,
        path: ModPath,
        file: &str,
        dir: &str,
        read: &dyn Fn(&str) -> Option<String>,
    ) {
        let Some(text) = read(file) else {
            self.errors.push(format!("{file}: cannot read"));
            return;
        };
        match syn::parse_file(&text) {
            Ok(parsed) => self.load_items(path, file, dir, &parsed.items, read),
            Err(e) => self.errors.push(format!("{file}: {e}")),
        }
    }

    /// Records the items of module `path`, written in `file`; its file children live in `dir`.
    fn load_items(
        &mut self,
        path: ModPath,
        file: &str,
        dir: &str,
        items: &[syn::Item],
        read: &dyn Fn(&str) -> Option<String>,
    ) {
        let mut module = Module {
            file: file.to_string(),
            ..Module::default()
        };
        let mut nested = Vec::new();
        for item in items {
            if test_only(item_attrs(item)) {
                continue;
            }
            match item {
                syn::Item::Mod(m) => {
                    let name = m.ident.to_string();
                    module.children.insert(name.clone());
                    nested.push(m);
                }
                syn::Item::Use(u) => {
                    let mut leaves = Vec::new();
                    use_leaves(&u.tree, &mut Vec::new(), &mut leaves);
                    for leaf in leaves {
                        match leaf.bound {
                            Some(name) => {
                                module.uses.insert(name, leaf.segments.clone());
                            }
                            None => module.globs.push(leaf.segments.clone()),
                        }
                        module.written.push(Written {
                            segments: leaf.segments,
                            file: file.to_string(),
                            line: leaf.line,
                        });
                    }
                }
                other => {
                    if let Some(name) = item_name(other) {
                        module.items.insert(name);
                    }
                    let mut paths = Paths::default();
                    paths.visit_item(other);
                    module
                        .written
                        .extend(paths.found.into_iter().map(|(segments, line)| Written {
                            segments,
                            file: file.to_string(),
                            line,
                        }));
                }
            }
        }
        self.modules.insert(path.clone(), module);
        for m in nested {
            let name = m.ident.to_string();
            let mut child = path.clone();
            child.push(name.clone());
            let child_dir = format!("{dir}{name}/");
            if m.attrs.iter().any(|a| a.path().is_ident("path")) {
                self.errors
                    .push(format!("{file}: `#[path]` on mod {name} is not supported"));
                continue;
            }
            match &m.content {
                Some((_, items)) => self.load_items(child, file, &child_dir, items, read),
                None => {
                    let flat = format!("{dir}{name}.rs");
                    let nested_file = format!("{dir}{name}/mod.rs");
                    let chosen = if read(&flat).is_some() {
                        flat
                    } else {
                        nested_file
                    };
                    self.load_file(child, &chosen, &child_dir, read);
                }
            }
        }
    }
}

/// True for attributes that compile the item only under test: `#[cfg(test)]`, or `#[cfg(all(..))]`
/// with a test-only condition among its arguments. `any(test, ..)` and `not(test)` are not.
pub fn test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .parse_args::<syn::Meta>()
                .is_ok_and(|meta| meta_test_only(&meta))
    })
}

fn meta_test_only(meta: &syn::Meta) -> bool {
    match meta {
        syn::Meta::Path(p) => p.is_ident("test"),
        syn::Meta::List(list) if list.path.is_ident("all") => list
            .parse_args_with(
                syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
            )
            .is_ok_and(|args| args.iter().any(meta_test_only)),
        _ => false,
    }
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::ExternCrate(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::ForeignMod(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Macro(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::TraitAlias(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        syn::Item::Union(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

fn item_name(item: &syn::Item) -> Option<String> {
    let ident = match item {
        syn::Item::Const(i) => &i.ident,
        syn::Item::Enum(i) => &i.ident,
        syn::Item::Fn(i) => &i.sig.ident,
        syn::Item::Macro(i) => i.ident.as_ref()?,
        syn::Item::Static(i) => &i.ident,
        syn::Item::Struct(i) => &i.ident,
        syn::Item::Trait(i) => &i.ident,
        syn::Item::TraitAlias(i) => &i.ident,
        syn::Item::Type(i) => &i.ident,
        syn::Item::Union(i) => &i.ident,
        _ => return None,
    };
    Some(ident.to_string())
}

/// One leaf of a `use` tree: the full path, the name it binds (None for a glob), its line.
struct UseLeaf {
    segments: Vec<String>,
    bound: Option<String>,
    line: usize,
}

fn use_leaves(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<UseLeaf>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_leaves(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => out.push(leaf(prefix, &n.ident, &n.ident)),
        syn::UseTree::Rename(r) => out.push(leaf(prefix, &r.ident, &r.rename)),
        syn::UseTree::Glob(g) => out.push(UseLeaf {
            segments: prefix.clone(),
            bound: None,
            line: g.star_token.span.start().line,
        }),
        syn::UseTree::Group(g) => {
            for tree in &g.items {
                use_leaves(tree, prefix, out);
            }
        }
    }
}

/// `use a::b` binds `b`; `use a::{self}` binds `a` (the path is `a`); `_` binds nothing.
fn leaf(prefix: &[String], ident: &syn::Ident, bound: &syn::Ident) -> UseLeaf {
    let mut segments = prefix.to_vec();
    let bound = if ident == "self" {
        prefix.last().cloned().unwrap_or_default()
    } else {
        segments.push(ident.to_string());
        bound.to_string()
    };
    UseLeaf {
        segments,
        bound: (bound != "_").then_some(bound),
        line: ident.span().start().line,
    }
}

/// Collects the paths starting `crate`, `super` or `self` in an item, outside test-only items
/// and visibility restrictions, including inside macro invocations' tokens.
#[derive(Default)]
struct Paths {
    found: Vec<(Vec<String>, usize)>,
}

const ANCHORS: [&str; 3] = ["crate", "super", "self"];

impl<'ast> Visit<'ast> for Paths {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !test_only(item_attrs(item)) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_impl_item(&mut self, item: &'ast syn::ImplItem) {
        let attrs: &[syn::Attribute] = match item {
            syn::ImplItem::Const(i) => &i.attrs,
            syn::ImplItem::Fn(i) => &i.attrs,
            syn::ImplItem::Type(i) => &i.attrs,
            syn::ImplItem::Macro(i) => &i.attrs,
            _ => &[],
        };
        if !test_only(attrs) {
            syn::visit::visit_impl_item(self, item);
        }
    }

    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    /// A `use` inside a function body: its paths count like any other.
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut leaves = Vec::new();
        use_leaves(&item.tree, &mut Vec::new(), &mut leaves);
        for leaf in leaves {
            if leaf.segments.len() >= 2 && ANCHORS.contains(&leaf.segments[0].as_str()) {
                self.found.push((leaf.segments, leaf.line));
            }
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if path.leading_colon.is_none()
            && segments.len() >= 2
            && ANCHORS.contains(&segments[0].as_str())
        {
            let line = path.segments[0].ident.span().start().line;
            self.found.push((segments, line));
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        syn::visit::visit_macro(self, mac);
        let mut tokens = Vec::new();
        flatten(mac.tokens.clone(), &mut tokens);
        self.found.extend(token_paths(&tokens));
    }
}

fn flatten(stream: proc_macro2::TokenStream, out: &mut Vec<proc_macro2::TokenTree>) {
    for tree in stream {
        match tree {
            proc_macro2::TokenTree::Group(g) => flatten(g.stream(), out),
            other => out.push(other),
        }
    }
}

/// `crate :: a :: b` sequences in a macro's tokens (`$crate` is not one: it is `$` then `crate`
/// inside a macro definition, which is not an invocation).
fn token_paths(tokens: &[proc_macro2::TokenTree]) -> Vec<(Vec<String>, usize)> {
    use proc_macro2::TokenTree as T;
    let ident = |i: usize| match tokens.get(i) {
        Some(T::Ident(id)) => Some(id.to_string()),
        _ => None,
    };
    let colons = |i: usize| {
        matches!((tokens.get(i), tokens.get(i + 1)),
            (Some(T::Punct(a)), Some(T::Punct(b))) if a.as_char() == ':' && b.as_char() == ':')
    };
    let mut found = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let starts = ident(i).is_some_and(|s| ANCHORS.contains(&s.as_str()))
            && !(i > 0 && colons(i.saturating_sub(2)))
            && !matches!(i.checked_sub(1).and_then(|p| tokens.get(p)), Some(T::Punct(p)) if p.as_char() == '$');
        if !starts {
            i += 1;
            continue;
        }
        let line = tokens[i].span().start().line;
        let mut segments = vec![ident(i).unwrap_or_default()];
        let mut j = i + 1;
        while colons(j) {
            match ident(j + 2) {
                Some(s) => segments.push(s),
                None => break,
            }
            j += 3;
        }
        if segments.len() >= 2 {
            found.push((segments, line));
        }
        i = j.max(i + 1);
    }
    found
}
