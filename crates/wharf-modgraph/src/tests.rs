//! The rule on small synthetic crates: what makes an edge, what does not, and how a cycle is
//! reported.

use super::*;

/// The cycles of a crate made of `files` (paths relative to `src/`, the root `lib.rs`).
fn check(files: &[(&str, &str)]) -> Vec<Cycle> {
    let files: BTreeMap<String, String> = files
        .iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect();
    cycles("demo", "lib.rs", "src/", &|f| files.get(f).cloned()).expect("the sources load")
}

/// The members of each cycle, as `parent: a, b`.
fn members(cycles: &[Cycle]) -> Vec<String> {
    cycles
        .iter()
        .map(|c| format!("{}: {}", c.parent.join("::"), c.members.join(", ")))
        .collect()
}

#[test]
fn a_dag_passes() {
    let found = check(&[
        ("lib.rs", "mod a; mod b; mod c; pub use c::Base;"),
        (
            "a.rs",
            "use crate::b::Thing; fn f() -> crate::Base { todo!() }",
        ),
        ("b.rs", "pub struct Thing(super::c::Base);"),
        ("c.rs", "pub struct Base;"),
    ]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_cycle_is_reported_with_its_references() {
    let found = check(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "//! A.\n\npub struct A;\nfn f(_: crate::b::B) {}\n"),
        ("b.rs", "//! B.\nuse crate::a::A;\npub struct B(A);\n"),
    ]);
    assert_eq!(members(&found), [": a, b"]);
    let report = found[0].to_string();
    assert_eq!(
        report,
        "demo: modules under crate form a cycle: a, b (e.g. a -> b -> a)\n\
         \x20 a -> b:\n\
         \x20   src/a.rs:4: crate::b::B\n\
         \x20 b -> a:\n\
         \x20   src/b.rs:2: crate::a::A\n"
    );
}

#[test]
fn test_only_code_makes_no_edge() {
    let found = check(&[
        ("lib.rs", "mod a; mod b;"),
        ("a.rs", "pub struct A; fn f(_: crate::b::B) {}"),
        (
            "b.rs",
            "pub struct B;\n\
             #[cfg(test)] mod tests { use crate::a::A; }\n\
             #[cfg(all(test, unix))] fn helper() -> crate::a::A { crate::a::A }\n\
             impl B { #[cfg(test)] fn t() { let _ = crate::a::A; } }\n\
             #[cfg(test)] mod more;",
        ),
        // Not even read: a test-only file may name anything.
        ("b/more.rs", "use crate::a::A;"),
    ]);
    assert!(found.is_empty(), "{found:?}");
    // `any(test, …)` and `not(test)` are not test-only.
    let found = check(&[
        ("lib.rs", "mod a; mod b;"),
        ("a.rs", "pub struct A; fn f(_: crate::b::B) {}"),
        (
            "b.rs",
            "pub struct B;\n#[cfg(any(test, feature = \"x\"))] use crate::a::A;",
        ),
    ]);
    assert_eq!(members(&found), [": a, b"]);
}

#[test]
fn use_groups_super_and_macros_make_edges() {
    let found = check(&[
        ("lib.rs", "mod a; mod b; mod c;"),
        ("a.rs", "use crate::{c, b::{self, B}};"),
        ("b.rs", "fn f() { println!(\"{}\", super::c::C); }"),
        ("c.rs", "pub struct C; fn g() { let x = crate::a::f(); }"),
    ]);
    assert_eq!(members(&found), [": a, b, c"]);
    assert_eq!(found[0].shortest, ["a", "c", "a"]);
}

#[test]
fn a_root_reexport_counts_as_its_defining_module() {
    let found = check(&[
        (
            "lib.rs",
            "mod a; mod b; pub use a::A; pub use std::fmt::Debug;",
        ),
        ("a.rs", "pub struct A; fn f(_: crate::b::B) {}"),
        ("b.rs", "use crate::{A, Debug}; pub struct B;"),
    ]);
    assert_eq!(members(&found), [": a, b"]);
    // An item the root defines itself is above every module: no edge.
    let found = check(&[
        ("lib.rs", "mod a; mod b; pub struct Root;"),
        ("a.rs", "pub struct A; fn f(_: crate::b::B) {}"),
        ("b.rs", "use crate::Root; pub struct B;"),
    ]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_nested_cycle_is_reported_under_its_directory_module() {
    let found = check(&[
        ("lib.rs", "mod ecr; mod oci; pub use ecr::Error;"),
        ("ecr/mod.rs", "mod ops; mod wire; pub use wire::Error;"),
        ("ecr/ops.rs", "use super::wire::Shape;"),
        // `super::Error` is the directory module's re-export of wire's own item: no edge to ops.
        (
            "ecr/wire.rs",
            "pub struct Shape; pub struct Error; fn f() { super::ops::run() }",
        ),
        ("oci.rs", "use crate::Error;"),
    ]);
    assert_eq!(members(&found), ["ecr: ops, wire"]);
    // A sibling reached through the directory module's re-export is a dependency on it.
    let found = check(&[
        ("lib.rs", "mod ecr;"),
        ("ecr/mod.rs", "mod ops; mod wire; use ops::run;"),
        (
            "ecr/ops.rs",
            "pub fn run() {} fn f(_: super::wire::Shape) {}",
        ),
        ("ecr/wire.rs", "pub struct Shape; fn f() { super::run() }"),
    ]);
    assert_eq!(members(&found), ["ecr: ops, wire"]);
}

#[test]
fn inline_modules_and_deeper_paths_count_for_their_ancestors() {
    let found = check(&[
        ("lib.rs", "mod a; mod b;"),
        ("a.rs", "mod inner { fn f(_: crate::b::deep::D) {} }"),
        ("b/mod.rs", "pub mod deep;"),
        (
            "b/deep.rs",
            "pub struct D; fn g() { super::super::a::inner::f }",
        ),
    ]);
    assert_eq!(members(&found), [": a, b"]);
}

#[test]
fn other_crates_and_relative_paths_are_not_edges() {
    let found = check(&[
        ("lib.rs", "mod a; mod b;"),
        ("a.rs", "use b::Thing; use std::fmt; pub struct A;"),
        ("b.rs", "use crate::a::A;"),
    ]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn unreadable_modules_and_path_attributes_are_errors() {
    let files: BTreeMap<String, String> = [
        ("lib.rs", "mod gone; #[path = \"x.rs\"] mod moved;"),
        ("x.rs", ""),
    ]
    .into_iter()
    .map(|(p, s)| (p.to_string(), s.to_string()))
    .collect();
    let errors = cycles("demo", "lib.rs", "src/", &|f| files.get(f).cloned()).unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
}
