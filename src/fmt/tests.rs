//! The formatter on snippets (canonical form, comments kept, idempotent,
//! meaning kept), on every example and UI case, and on the examples' builds.

use std::path::{Path, PathBuf};

use super::*;
use crate::host::MemHost;

fn formatted(text: &str) -> String {
    match format(text) {
        Ok(out) => out,
        Err(error) => panic!("{error} for:\n{text}"),
    }
}

/// Formats, then checks that the result is stable and says the same.
fn canonical(text: &str) -> String {
    let out = formatted(text);
    assert_eq!(formatted(&out), out, "formatting twice changes:\n{out}");
    let (Ok(a), Ok(b)) =
        (KdlDocument::parse_v2(text).or_else(|_| KdlDocument::parse_v1(text)), KdlDocument::parse_v2(&out))
    else {
        panic!("does not parse:\n{out}");
    };
    same_nodes(a.nodes(), b.nodes(), "").unwrap();
    out
}

#[test]
fn indentation_and_spacing_become_canonical() {
    let text = "node   \"a\"  key = 1 {\n  child 1\n\t\tother  (t) \"x\"\n      }\n";
    assert_eq!(canonical(text), "node \"a\" key=1 {\n    child 1\n    other (t)\"x\"\n}\n");
}

#[test]
fn semicolons_become_lines() {
    assert_eq!(canonical("a 1; b 2;c {\n d; e }\n"), "a 1\nb 2\nc {\n    d\n    e\n}\n");
}

#[test]
fn short_blocks_written_on_one_line_stay_on_one_line() {
    // Values-heavy files stay compact (a `values` tree of one-line blocks is
    // not opened onto five times the lines), spaced canonically.
    let text =
        "use \"x\" {\n    values {\n        controller{replicaCount 2;  service {type \"LoadBalancer\"}}\n    }\n}\n";
    let want = "use \"x\" {\n    values {\n        controller { replicaCount 2; service { type \"LoadBalancer\" } }\n    }\n}\n";
    assert_eq!(canonical(text), want);
    assert_eq!(canonical(want), want, "idempotent");
    // A block opened onto lines by its author stays so, however short.
    assert_eq!(canonical("a {\n    b 1\n}\n"), "a {\n    b 1\n}\n");
    // Past the width, or with a comment inside, it is opened.
    let long = format!("a {{ b \"{}\"; c 1 }}\n", "x".repeat(100));
    assert_eq!(canonical(&long), format!("a {{\n    b \"{}\"\n    c 1\n}}\n", "x".repeat(100)));
    assert_eq!(canonical("a { b /* why */ 1 }\n"), "a { b /* why */ 1 }\n");
    assert_eq!(canonical("a { b 1 } // note\n"), "a { b 1 } // note\n");
    assert_eq!(canonical("a { b { c; d }; e {} }\n"), "a { b { c; d }; e {} }\n");
}

#[test]
fn blank_lines_are_kept_but_collapsed() {
    assert_eq!(canonical("\n\na\n\n\n\nb\nc {\n\n  d\n\n}\n\n"), "a\n\nb\nc {\n    d\n}\n");
}

#[test]
fn line_endings_and_the_final_newline() {
    assert_eq!(canonical("a 1\r\nb 2\rc 3"), "a 1\nb 2\nc 3\n");
    assert_eq!(canonical(""), "");
    assert_eq!(canonical("\n\n"), "");
}

#[test]
fn comments_stay_where_they_were() {
    let text = "// head\n// second\n\na \"x\"   // after a\nb /* in */ 1 /-2 k=#true   /* end */\nc {\n  // inside\n  d  // after d\n} // after c\n/* own line */\n// last\n";
    assert_eq!(
        canonical(text),
        "// head\n// second\n\na \"x\" // after a\nb /* in */ 1 /-2 k=#true /* end */\nc {\n    // inside\n    d // after d\n} // after c\n/* own line */\n// last\n"
    );
}

#[test]
fn slashdash_nodes_entries_and_children() {
    let text = "/- gone {\n  child\n      }\na /- 1 /-key=2 /-{ x } {\n  /-b\n}\n/-c\nd\n";
    assert_eq!(canonical(text), "/-gone {\n    child\n}\na /-1 /-key=2 /-{ x } {\n    /-b\n}\n/-c\nd\n");
}

#[test]
fn strings_are_written_as_they_were() {
    let text =
        "a \"\"\"\n   line one\n     two\n   \"\"\" #\"raw \\n \"quoted\"\"# ##\"x\"#y\"## bare 0x1F 1_000.5e3 #null\n";
    assert_eq!(canonical(text), text);
}

#[test]
fn a_multi_line_string_keeps_its_columns_when_the_node_moves() {
    let text = "a {\n        script \"\"\"\n        echo hi\n        \"\"\"\n}\n";
    assert_eq!(canonical(text), "a {\n    script \"\"\"\n        echo hi\n        \"\"\"\n}\n");
}

#[test]
fn type_annotations_and_quoted_names() {
    let text = "(t)node (u8)1 \"my key\"=( date )\"2024\" (\"odd type\")x\n";
    assert_eq!(canonical(text), "(t)node (u8)1 \"my key\"=(date)\"2024\" (\"odd type\")x\n");
}

#[test]
fn continuations_stay_and_indent_one_level() {
    let text = "a 1 \\\n  2 \\   // why\n       3\nb 1 \\\n\nc\n";
    assert_eq!(canonical(text), "a 1 \\\n    2 \\ // why\n    3\nb 1\nc\n");
}

#[test]
fn a_block_comment_over_lines_is_kept_verbatim() {
    let text = "a {\n      /* one\n         two */ b\n  /*\n   * c\n   */\n}\n";
    assert_eq!(canonical(text), "a {\n    /* one\n         two */ b\n    /*\n   * c\n   */\n}\n");
}

#[test]
fn empty_children_stay_empty() {
    assert_eq!(canonical("a { }\nb {\n\n}\nc {   // why\n}\n"), "a {}\nb {}\nc { // why\n}\n");
}

#[test]
fn kdl_v1_is_rewritten_in_v2_with_its_comments() {
    let v1 = "// a v1 file\nnode \"name\" flag=true nothing=null { // why\n  raw r#\"C:\\dir\"# r\"x\"\n  path \"a\\/b\" /-gone=false\n}\n";
    let out = canonical(v1);
    assert_eq!(
        out,
        "// a v1 file\nnode \"name\" flag=#true nothing=#null { // why\n    raw #\"C:\\dir\"# #\"x\"#\n    path \"a/b\" /-gone=#false\n}\n"
    );
    assert!(KdlDocument::parse_v2(&out).is_ok());
}

#[test]
fn kdl_v1_multi_line_strings_keep_their_value() {
    let out = canonical("script \"line one\n  line two\"\n");
    assert!(out.starts_with("script \"\"\"\n"), "{out}");
}

#[test]
fn a_value_glued_to_the_next_is_refused() {
    // The crate reads these, though KDL wants a space; a space would change
    // what it reads.
    for text in ["a #true\"s\"\n", "a 1(t)2\n", "a #true/-b c\n"] {
        assert!(matches!(format(text), Err(Error::Unsupported(_)) | Err(Error::Syntax)), "{text}");
    }
}

#[test]
fn not_kdl_is_a_syntax_error() {
    assert_eq!(format("a \"open\n{"), Err(Error::Syntax));
}

#[test]
fn the_meaning_check_catches_a_changed_value() {
    let a = KdlDocument::parse_v2("a 1 { b \"x\" }").unwrap();
    let b = KdlDocument::parse_v2("a 1 { b \"y\" }").unwrap();
    let c = KdlDocument::parse_v2("a 1 { b \"x\"; c }").unwrap();
    assert!(same_nodes(a.nodes(), a.nodes(), "").is_ok());
    assert_eq!(same_nodes(a.nodes(), b.nodes(), ""), Err("/a[0]/b[0]: the node's entries changed".into()));
    assert!(same_nodes(a.nodes(), c.nodes(), "").is_err());
    let nan = KdlDocument::parse_v2("a #nan").unwrap();
    assert!(same_nodes(nan.nodes(), nan.nodes(), "").is_ok());
}

#[test]
fn the_token_check_catches_a_lost_comment() {
    let original = lex::lex("a // c\n", Dialect::V2).unwrap();
    let doc = KdlDocument::parse_v2("a // c\n").unwrap();
    assert!(verify(&doc, &original, "a // c\n").is_ok());
    assert!(verify(&doc, &original, "a\n").is_err());
}

/// The kdl crate's own formatter loses comments: the reason this module
/// lays tokens out itself. Should this fail, the crate may have been fixed.
#[test]
fn the_crates_autoformat_loses_comments() {
    let mut doc = KdlDocument::parse_v2("a 1 // why\nb /* in */ 2\n").unwrap();
    doc.autoformat();
    assert!(!doc.to_string().contains("why") && !doc.to_string().contains("in"), "{doc}");
    // Its parser, too, loses a comment after a children block.
    let doc = KdlDocument::parse_v2("c {\n    d\n} // after c\nf 1\n").unwrap();
    assert!(!doc.to_string().contains("after c"), "{doc}");
}

/// Every `.kdl` file below a folder of the crate.
fn kdl_files(dir: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "kdl") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn every_example_and_ui_case_that_parses_formats_stably() {
    let mut parsed = 0;
    for path in kdl_files("examples").into_iter().chain(kdl_files("tests/ui")) {
        // A case of a file that is not UTF-8 is no text to format.
        let Ok(text) = String::from_utf8(std::fs::read(&path).unwrap()) else { continue };
        if crate::syntax::guard::check(&text).is_some() {
            assert!(matches!(format(&text), Err(Error::Unsupported(_))), "{}", path.display());
            continue;
        }
        if KdlDocument::parse_v2(&text).is_err() && KdlDocument::parse_v1(&text).is_err() {
            assert_eq!(format(&text), Err(Error::Syntax), "{}", path.display());
            continue;
        }
        let out = format(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(format(&out).as_ref(), Ok(&out), "{}", path.display());
        parsed += 1;
    }
    assert!(parsed > 50, "only {parsed} files parsed");
}

/// Every file below an example folder, as logical paths and texts.
fn example(dir: &Path) -> Vec<(String, String)> {
    let root = dir.to_path_buf();
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let logical = path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
                if let Ok(text) = std::fs::read_to_string(&path) {
                    files.push((logical, text));
                }
            }
        }
    }
    files
}

#[test]
fn formatting_an_example_does_not_change_its_build() {
    let examples: Vec<PathBuf> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("homelab.kdl").is_file())
        .collect();
    assert!(!examples.is_empty());
    for dir in examples {
        let host = MemHost::with(example(&dir));
        let formatting = description(&host, "homelab.kdl");
        assert!(formatting.diagnostics.is_empty() && formatting.failures.is_empty(), "{}", dir.display());
        let mut after = host.clone();
        for file in &formatting.files {
            after.insert(file.path.clone(), file.after.clone());
        }
        let tree =
            |host: &MemHost| crate::driver::build(host, "homelab.kdl").tree.expect("no errors").expect("laid out");
        assert_eq!(tree(&host), tree(&after), "{}", dir.display());
    }
}

#[test]
fn a_syntax_error_formats_nothing() {
    let host = MemHost::with([("homelab.kdl", "import \"b.kdl\"\n"), ("b.kdl", "app \"x\n")]);
    let formatting = description(&host, "homelab.kdl");
    assert!(formatting.files.is_empty());
    assert!(formatting.diagnostics.iter().any(|d| d.code == crate::diag::Code::E0101));
}

#[test]
fn the_description_is_the_root_and_its_imports() {
    let host = MemHost::with([
        ("homelab.kdl", "homelab \"x\"\nimport \"apps/\"\n"),
        ("apps/a.kdl", "app \"a\"  namespace=\"n\"\n"),
        ("stray.kdl", "not   imported\n"),
    ]);
    let formatting = description(&host, "homelab.kdl");
    let paths: Vec<(&str, bool)> = formatting.files.iter().map(|f| (f.path.as_str(), f.changed())).collect();
    assert_eq!(paths, [("homelab.kdl", false), ("apps/a.kdl", true)]);
}

/// Pieces of KDL that random documents are made of: every kind of token and
/// of space, so that comments and slashdashes land in odd places.
const FRAGMENTS: &[&str] = &[
    "a",
    "b",
    "\"q s\"",
    "#\"r\\\"\"#",
    "\"\"\"\n  m\n  \"\"\"",
    "1",
    "0x1F",
    "-1.5e3",
    "#true",
    "#null",
    "(t)",
    "k=",
    "k = ",
    "\"my key\"=",
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\n\n\n",
    ";",
    "{",
    "}",
    "/-",
    "/- ",
    "// c\n",
    "/* b */",
    "/* x\n y */",
    "\\",
    "\\ // e\n",
    "\\\n",
    "-",
    "true",
    "r\"v1\"",
];

/// Values of every spelling.
const VALUES: &[&str] = &[
    "a",
    "\"q s\"",
    "\"\"",
    "#\"r\\\"\"#",
    "##\"x\"#y\"##",
    "\"\"\"\n    m\n      n\n    \"\"\"",
    "1",
    "0x1F",
    "-1.5e3",
    "#true",
    "#null",
    "#nan",
    "(t)1",
    "( u8 )2",
    "(\"t y\")\"s\"",
];

/// What may stand between two entries.
const SPACES: &[&str] = &[" ", "   ", "\t", " /* b */ ", " /* x\n y */ ", " \\\n      ", " \\ // e\n  "];

/// What may end a node.
const ENDS: &[&str] = &["\n", ";", "; ", " // c\n", ";\n", "\r\n", "\n\n", "\n\n\n  ", " /* b */\n"];

/// One node: name, entries, maybe children (`inner`), and its end.
fn node(inner: proptest::strategy::BoxedStrategy<String>) -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let entry = (
        prop::bool::weighted(0.2),
        prop::option::weighted(0.4, prop::sample::select(&["k", "\"my key\"", "(t)k"][..])),
        prop::sample::select(VALUES),
    )
        .prop_map(|(dashed, key, value)| {
            let key = key.map(|k| format!("{k}=")).unwrap_or_default();
            format!("{}{key}{value}", if dashed { "/-" } else { "" })
        });
    (
        prop::sample::select(&["", "  ", "// c\n", "/* b */ ", "/-", "/- ", "\n"][..]),
        prop::sample::select(&["a", "\"n m\"", "(t)b", "-"][..]),
        prop::collection::vec((prop::sample::select(SPACES), entry), 0..4),
        prop::option::weighted(0.3, (prop::bool::weighted(0.2), prop::collection::vec(inner, 0..4))),
        prop::sample::select(ENDS),
    )
        .prop_map(|(before, name, entries, children, end)| {
            let mut text = format!("{before}{name}");
            for (space, entry) in entries {
                text.push_str(space);
                text.push_str(&entry);
            }
            if let Some((dashed, nodes)) = children {
                text.push_str(if dashed { " /-{" } else { " {" });
                text.push_str(&nodes.concat());
                text.push('}');
            }
            text.push_str(end);
            text
        })
}

/// Whole documents of nodes nested up to three deep.
fn documents() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let leaf = node(Just(String::new()).boxed()).boxed();
    let nested = leaf.prop_recursive(3, 24, 4, |inner| node(inner).boxed());
    prop::collection::vec(nested, 1..6).prop_map(|nodes| nodes.concat())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 3000,
        failure_persistence: None,
        ..Default::default()
    })]

    /// Whatever parses is formatted (or refused as unsupported, never as a
    /// bug), and formatting the result again changes nothing.
    #[test]
    fn random_documents_format_stably(pieces in proptest::collection::vec(proptest::sample::select(FRAGMENTS), 1..40)) {
        let text: String = pieces.concat();
        let parses = KdlDocument::parse_v2(&text).is_ok() || KdlDocument::parse_v1(&text).is_ok();
        match format(&text) {
            Ok(out) => proptest::prop_assert_eq!(format(&out), Ok(out.clone())),
            Err(Error::Syntax) => proptest::prop_assert!(!parses),
            Err(Error::Unsupported(_)) => {}
            Err(Error::Internal(why)) => proptest::prop_assert!(false, "{why} for {text:?}"),
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..Default::default()
    })]

    /// Documents built node by node, with comments, slashdashes,
    /// continuations and every kind of string between and around the
    /// entries: each one that parses is formatted, stays formatted, and
    /// parses to the same nodes (`format` checks that).
    #[test]
    fn generated_documents_format_stably(text in documents()) {
        let parses = KdlDocument::parse_v2(&text).is_ok();
        match format(&text) {
            Ok(out) => proptest::prop_assert_eq!(format(&out), Ok(out.clone())),
            Err(Error::Syntax) => proptest::prop_assert!(!parses),
            Err(error) => proptest::prop_assert!(!parses, "{error} for {text:?}"),
        }
    }
}

#[test]
fn a_text_the_parser_guard_refuses_is_not_formatted_and_nothing_aborts() {
    // The fast path reads this comment, but the crate that judges the result
    // would recurse once per `*`.
    let comment = format!("a 1\n/*{}*/\n", "*".repeat(100_000));
    assert!(matches!(format(&comment), Err(Error::Unsupported(_))));
    let deep = format!("{}{}", "a{".repeat(1280), "}".repeat(1280));
    assert!(matches!(format(&deep), Err(Error::Unsupported(_))));
}

#[test]
fn an_escape_before_a_multi_byte_character_in_a_multi_line_string_does_not_panic() {
    // Found by the fuzzer: the lexer stepped over `\` and one byte, into the
    // middle of `é`, then sliced the text there.
    for text in [
        "a \"\"\"\n    \\é\n    \"\"\"\n",
        "a \"\"\"\\é",
        // A v1 string over several lines with a multi-byte character, as the fuzzer found it.
        "node \"pi-2\" role=\"ser expect\n// KDL\u{fffd}\nhome\"\nimport \"NOTES.md\"\n",
    ] {
        let _ = format(text);
    }
}
