//! The language catalogers' registry: every cataloger is registered, in order.

#[test]
fn catalogers_are_registered() {
    let names: Vec<&str> = wharf_scan::lang::catalogers()
        .iter()
        .map(|c| c.name())
        .collect();
    assert_eq!(
        names,
        vec!["python", "npm", "gem", "java", "go-binary", "rust-audit"]
    );
}
