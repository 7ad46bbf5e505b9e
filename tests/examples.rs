//! Examples are tests: every `examples/*/` description is checked with no
//! error, and its diagnostics (warnings) and dependency graph are snapshotted.

mod common;

use common::examples;

use homelabc::diag::render::{self, Options};
use homelabc::driver;
use homelabc::graph;
use homelabc::host::FsHost;

#[test]
fn there_is_an_example_per_seed() {
    assert!(examples().len() >= 5, "one example per seed homelab");
}

#[test]
fn every_example_checks_without_errors() {
    for example in examples() {
        let checked = driver::check(&FsHost::new(&example), "homelab.kdl");
        let rendered = render::render_all(&checked.diagnostics, &checked.sources, &Options::default());
        assert!(!checked.has_errors(), "{}:\n{rendered}", example.display());
        let name = example.file_name().expect("named").to_string_lossy().into_owned();
        insta::assert_snapshot!(format!("{name}-diagnostics"), rendered);
        insta::assert_snapshot!(format!("{name}-graph"), graph::to_mermaid(&checked.graph));
    }
}

/// The count of declarations (the progress line's) is of those listed, in
/// every example's model and in each view of a description of several clusters.
#[test]
fn the_declarations_counted_are_those_listed() {
    let mut views = 0;
    for example in examples() {
        let checked = driver::check(&FsHost::new(&example), "homelab.kdl");
        for model in std::iter::once(&checked.model).chain(&checked.views) {
            let listed = model.declarations().len();
            assert!(listed > 1, "{}", example.display());
            assert_eq!(model.declaration_count(), listed, "{}", example.display());
        }
        views += checked.views.len();
    }
    assert!(views > 1, "an example has several clusters");
}
