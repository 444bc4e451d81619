//! The gem cataloger: installed gemspecs (as `gem install` writes them, default gems, and ones
//! missing a version) and gemspecs outside a `specifications` directory, which it does not want.

use super::{run, summary, wants};
use wharf_scan::lang::ruby::GemCataloger;
use wharf_scan::PackageKind;

#[test]
fn gemspec_variants() {
    let check = |path: &str, text: &str, expected: Vec<(String, String, Vec<String>)>| {
        let packages = run(&GemCataloger, path, 0o644, text.as_bytes());
        assert_eq!(summary(&packages), expected, "{path}");
        assert!(packages.iter().all(|p| p.kind == PackageKind::Gem));
    };
    check(
        "/usr/local/bundle/specifications/rack-3.0.8.gemspec",
        r#"# -*- encoding: utf-8 -*-
# stub: rack 3.0.8 ruby lib

Gem::Specification.new do |s|
  s.name = "rack".freeze
  s.version = "3.0.8"

  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=
  s.authors = ["Leah Neukirchen".freeze]
  s.licenses = ["MIT".freeze, "Ruby".freeze]
  s.rubygems_version = "3.4.10".freeze
end
"#,
        vec![(
            "rack".into(),
            "3.0.8".into(),
            vec!["MIT".into(), "Ruby".into()],
        )],
    );
    check(
        "/usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec",
        "Gem::Specification.new do |s|\n  s.name = 'json'\n  s.version = Gem::Version.new(\"2.6.1\")\n  s.license = \"Ruby\"\nend\n",
        vec![("json".into(), "2.6.1".into(), vec!["Ruby".into()])],
    );
    check(
        "/usr/local/bundle/specifications/broken.gemspec",
        "Gem::Specification.new do |s|\n  s.name = \"broken\"\nend\n",
        vec![("broken".into(), "UNKNOWN".into(), vec![])],
    );
    assert!(!wants(&GemCataloger, "/src/app/mygem.gemspec", 0o644, 10));
}
