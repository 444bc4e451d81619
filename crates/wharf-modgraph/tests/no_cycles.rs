//! The workspace's own module graphs have no cycles (ARCHITECTURE.md, invariants): every crate
//! under `crates/` is read and each cycle found is listed with the references that form it.

use std::path::Path;
use std::sync::OnceLock;
use wharf_modgraph::{workspace_targets, Target};

/// The workspace's crate targets, read once for both tests.
fn targets() -> &'static [Target] {
    static TARGETS: OnceLock<Vec<Target>> = OnceLock::new();
    TARGETS.get_or_init(|| {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        workspace_targets(&workspace)
            .unwrap_or_else(|errors| panic!("cannot read the sources:\n{}", errors.join("\n")))
    })
}

#[test]
fn no_module_cycles_in_any_crate() {
    let cycles: Vec<_> = targets().iter().flat_map(Target::cycles).collect();
    let report: String = cycles.iter().map(ToString::to_string).collect();
    assert!(
        cycles.is_empty(),
        "{} module cycle(s); move what an edge needs to the module that owns it (a shared type \
         into a lower module, a function into the module of its concern):\n{report}",
        cycles.len()
    );
}

/// The check above passes trivially if the sources are not really read: the graphs must hold
/// edges this workspace is known to have, nested ones included.
#[test]
fn the_graphs_see_the_workspace() {
    let targets = targets();
    let edge = |target: &str, parent: &[&str], from: &str, to: &str| {
        targets
            .iter()
            .find(|t| t.name == target)
            .and_then(|t| {
                t.graphs
                    .get(&parent.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            })
            .and_then(|g| g.edges.get(from))
            .is_some_and(|tos| tos.contains_key(to))
    };
    assert!(targets.iter().any(|t| t.name == "wharf (bin)"));
    assert!(targets.len() >= 15, "{} crate targets", targets.len());
    assert!(edge("wharf-api", &[], "ecr_public", "ecr"));
    assert!(edge("wharf-api", &[], "audit", "aws_json"));
    assert!(edge("wharf-api", &["ecr_public"], "catalog", "wire"));
    assert!(edge("wharf-scan", &[], "layers", "catalog"));
    assert!(edge("wharf-jobs", &[], "replicate", "error"));
    assert!(edge("wharf (bin)", &[], "gc", "open"));
}
