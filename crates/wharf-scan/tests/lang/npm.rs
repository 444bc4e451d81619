//! The npm cataloger: `package.json` variants (string, object and array licenses, private
//! packages without a version, malformed files) and the paths it does not want.

use super::{run, summary, wants};
use wharf_scan::lang::npm::NpmCataloger;
use wharf_scan::PackageKind;

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
    // Outside node_modules too, as Syft reads every package.json.
    assert!(wants(&NpmCataloger, "/srv/app/package.json", 0o644, 10));
    assert!(!wants(
        &NpmCataloger,
        "/srv/app/package-lock.json",
        0o644,
        10
    ));
}
