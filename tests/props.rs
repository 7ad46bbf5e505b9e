//! Property tests: no input makes the front end panic — neither random text
//! nor the seed examples mutated byte by byte.

use std::path::Path;

use homelabc::driver;
use homelabc::host::MemHost;
use proptest::prelude::*;

fn check(text: &str) {
    let host = MemHost::with([("homelab.kdl", text.to_string()), ("apps/a.kdl", "app \"a\"\n".to_string())]);
    let checked = driver::check(&host, "homelab.kdl");
    // Rendering must not panic either, whatever the spans.
    let _ = homelabc::diag::render::render_all(
        &checked.diagnostics,
        &checked.sources,
        &homelabc::diag::render::Options::default(),
    );
}

fn seeds() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut texts = Vec::new();
    for entry in std::fs::read_dir(dir).expect("examples/") {
        let path = entry.expect("entry").path().join("homelab.kdl");
        if let Ok(text) = std::fs::read_to_string(path) {
            texts.push(text);
        }
    }
    texts.sort();
    texts
}

/// Fragments a mutation may splice in: tokens that stress every lowering path.
const FRAGMENTS: &[&str] = &[
    "\"",
    "{",
    "}",
    ";",
    "=",
    "#true",
    "#null",
    "-1",
    "99999999999999999999999",
    "(cidr)",
    "\"10.0.0.0/33\"",
    "app",
    "node",
    "import \"../x\"",
    "import \"homelab.kdl\"",
    "depends-on",
    "\"é\"",
    "\u{0}",
    "/-",
    "r#\"x\"#",
    "port \"http\" 0",
    "values { - 1; a 2 }",
    "expose \"http\" 80 node-port=1",
    "\n",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,200}") {
        check(&text);
    }

    #[test]
    fn kdl_shaped_text_never_panics(
        nodes in proptest::collection::vec(
            ("[a-z-]{1,12}", proptest::collection::vec("[a-z0-9=\"./:-]{0,16}", 0..4), any::<bool>()),
            0..12,
        )
    ) {
        let mut text = String::from("homelab \"lab\"\n");
        for (name, args, block) in nodes {
            text.push_str(&name);
            for a in args {
                text.push(' ');
                text.push_str(&a);
            }
            if block {
                text.push_str(" { replicas 2; port \"http\" 80 }");
            }
            text.push('\n');
        }
        check(&text);
    }

    #[test]
    fn mutated_examples_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), 0usize..8), 1..6),
    ) {
        let seeds = seeds();
        let mut text = pick.get(&seeds).clone();
        for (at, fragment, delete) in edits {
            let mut i = at.index(text.len() + 1);
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            let mut end = (i + delete).min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.replace_range(i..end, FRAGMENTS[fragment.index(FRAGMENTS.len())]);
        }
        check(&text);
    }
}
