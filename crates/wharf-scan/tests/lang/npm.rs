//! The npm cataloger: `package.json` variants (string, object and array licenses, private
//! packages without a version, malformed files) and the paths it does not want.

use super::{run, run_with, summary, wants};
use wharf_scan::lang::npm::NpmCataloger;
use wharf_scan::{Limits, PackageKind};

#[test]
fn npm_package_json_variants() {
    let check = |text: &str, expected: Vec<(String, String, Vec<String>)>| {
        let packages = run(
            &NpmCataloger,
            "/app/node_modules/@types/node/package.json",
            0o644,
            text.as_bytes(),
        );
        assert_eq!(summary(&packages), expected, "{text}");
        assert!(packages.iter().all(|p| p.kind == PackageKind::Npm));
    };
    check(
        r#"{"name":"@types/node","version":"20.11.5","license":"MIT"}"#,
        vec![("@types/node".into(), "20.11.5".into(), vec!["MIT".into()])],
    );
    check(
        r#"{"name":"old","version":"0.1.0","license":{"type":"BSD","url":"x"}}"#,
        vec![("old".into(), "0.1.0".into(), vec!["BSD".into()])],
    );
    check(
        r#"{"name":"older","version":"0.0.1","licenses":[{"type":"MIT"},{"type":"Apache-2.0"}]}"#,
        vec![(
            "older".into(),
            "0.0.1".into(),
            vec!["MIT".into(), "Apache-2.0".into()],
        )],
    );
    check(
        r#"{"name":"app","private":true}"#,
        vec![("app".into(), "UNKNOWN".into(), vec![])],
    );
    check(r#"{"version":"1.0.0"}"#, vec![]);
    check(r#"{"name":"n","version":1}"#, vec![]);
    check("not json", vec![]);
    // A null name or version reads as absent; a non-object document is no manifest.
    check(r#"{"name":null}"#, vec![]);
    check(
        r#"{"name":"n","version":null}"#,
        vec![("n".into(), "UNKNOWN".into(), vec![])],
    );
    check(r#"["n","1"]"#, vec![]);
    check(r#""n""#, vec![]);
    // Licenses: strings in the legacy array, and a `license` of another shape falls back to it.
    check(
        r#"{"name":"l","version":"1","license":7,"licenses":["MIT",{"type":""},{"type":3},"",{"url":"x"},[1],{"type":"ISC"}]}"#,
        vec![("l".into(), "1".into(), vec!["MIT".into(), "ISC".into()])],
    );
    check(
        r#"{"name":"l","version":"1","license":["MIT"],"licenses":{"type":"MIT"}}"#,
        vec![("l".into(), "1".into(), vec![])],
    );
    check(
        r#"{"name":"l","version":"1","license":{"type":"A","type":"B","extra":[{}]}}"#,
        vec![("l".into(), "1".into(), vec!["B".into()])],
    );
    // Fields the inventory does not use are skipped, however large.
    let big = format!(
        r#"{{"files":[{}0],"name":"big","version":"2"}}"#,
        "0,".repeat(100_000)
    );
    check(&big, vec![("big".into(), "2".into(), vec![])]);
    // Outside node_modules too, as Syft reads every package.json.
    assert!(wants(&NpmCataloger, "/srv/app/package.json", 0o644, 10));
    assert!(!wants(
        &NpmCataloger,
        "/srv/app/package-lock.json",
        0o644,
        10
    ));
}

#[test]
fn a_package_json_over_the_manifest_cap_is_skipped() {
    let limits = Limits {
        max_manifest_bytes: 40,
        ..Limits::default()
    };
    let path = "/app/package.json";
    let run = |text: &str| {
        let packages = run_with(&NpmCataloger, path, 0o644, text.as_bytes(), &limits).unwrap();
        summary(&packages)
    };
    let small = r#"{"name":"app","version":"1.0.0"}"#;
    let large = r#"{"name":"app","version":"1.0.0","description":"x"}"#;
    assert_eq!((small.len(), large.len()), (32, 50));
    assert_eq!(run(small), vec![("app".into(), "1.0.0".into(), vec![])]);
    assert_eq!(run(large), vec![]);
}
