//! The Python cataloger: core-metadata files (`METADATA` in dist-info, `PKG-INFO` in egg-info,
//! bare `.egg-info` files), header parsing up to the first blank line, name normalization, and
//! the paths it does not want.

use super::{run, summary, wants};
use wharf_scan::lang::python::PythonCataloger;
use wharf_scan::PackageKind;

#[test]
fn python_metadata_headers_only() {
    let metadata = "Metadata-Version: 2.1\r\nName: Flask_SQLAlchemy\r\nVersion: 3.1.1\r\n\
        License: BSD-3-Clause\r\nClassifier: Framework :: Flask\r\n\r\n\
        # Changelog\r\nVersion: 9.9.9\r\nName: not-this\r\n";
    let packages = run(
        &PythonCataloger,
        "/usr/lib/python3.11/site-packages/Flask_SQLAlchemy-3.1.1.dist-info/METADATA",
        0o644,
        metadata.as_bytes(),
    );
    assert_eq!(
        summary(&packages),
        // Reported under its normalized name, as Syft v1.57 reports it.
        vec![(
            "flask-sqlalchemy".into(),
            "3.1.1".into(),
            vec!["BSD-3-Clause".into()]
        )]
    );
    assert_eq!(packages[0].kind, PackageKind::Python);
    assert_eq!(
        packages[0].location,
        "/usr/lib/python3.11/site-packages/Flask_SQLAlchemy-3.1.1.dist-info/METADATA"
    );
}

#[test]
fn python_variants() {
    let check = |path: &str, text: &str, expected: Vec<(String, String, Vec<String>)>| {
        assert_eq!(
            summary(&run(&PythonCataloger, path, 0o644, text.as_bytes())),
            expected,
            "{path}"
        );
    };
    // PKG-INFO in an egg-info directory; License-Expression wins over License; continuation
    // lines belong to the header above them.
    check(
        "/usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO",
        "Metadata-Version: 1.2\nName: six\nVersion: 1.16.0\nLicense: MIT License\n  spanning lines\nLicense-Expression: MIT\n\nVersion: 2\n",
        vec![("six".into(), "1.16.0".into(), vec!["MIT".into()])],
    );
    // An egg-info file (distutils writes PKG-INFO under this name); UNKNOWN license dropped.
    check(
        "/usr/lib/python3/dist-packages/python_apt-2.4.0.egg-info",
        "Metadata-Version: 1.1\nName: python-apt\nVersion: 2.4.0\nLicense: UNKNOWN\n",
        vec![("python-apt".into(), "2.4.0".into(), vec![])],
    );
    // Blank lines before the headers are skipped; a repeated header keeps its last value.
    check(
        "/opt/venv/lib/python3.12/site-packages/zope.interface-6.1.dist-info/METADATA",
        "\n\nName: zope.interface\nVersion: 6.0\nVersion: 6.1\n",
        vec![("zope-interface".into(), "6.1".into(), vec![])],
    );
    // No version: kept with Syft's stub version. The interpreter's own egg-info: skipped.
    check(
        "/opt/venv/lib/python3.12/site-packages/x-1.dist-info/METADATA",
        "Metadata-Version: 2.1\nName: x\n\nVersion: 1\n",
        vec![("x".into(), "UNKNOWN".into(), vec![])],
    );
    check(
        "/usr/lib/python2.7/lib-dynload/Python-2.7.egg-info",
        "Metadata-Version: 1.0\nName: Python\nVersion: 2.7.18\n",
        vec![],
    );
    // Unreadable: nothing.
    check(
        "/opt/venv/lib/python3.12/site-packages/y-1.dist-info/METADATA",
        "\u{0}\u{1}binary",
        vec![],
    );
    assert!(!wants(
        &PythonCataloger,
        "/usr/lib/python3/x.dist-info/RECORD",
        0o644,
        10
    ));
    assert!(!wants(
        &PythonCataloger,
        "/usr/share/doc/METADATA",
        0o644,
        10
    ));
}
