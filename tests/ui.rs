//! UI tests, in the manner of rustc's: every case in `tests/ui/` is a bad
//! description (a `.kdl` file, or a folder holding `homelab.kdl` and the
//! files it references) whose first line says which codes it must produce:
//!
//! ```kdl
//! // expect: E0301 W0702
//! ```
//!
//! Each case is built in memory (checks, backends and the checks of the
//! output). The runner checks that exactly that set of codes is emitted, then compares
//! the rendered diagnostics with the snapshot `tests/snapshots/ui__<case>.snap`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use homelabc::diag::codes::{ALL, Code};
use homelabc::diag::render::{self, Options};
use homelabc::driver;
use homelabc::host::{FsHost, MemHost};

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/ui exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "kdl"))
        .collect();
    cases.sort();
    cases
}

fn expected_codes(root_text: &str, case: &Path) -> BTreeSet<String> {
    let first = root_text.lines().next().unwrap_or_default();
    let Some(list) = first.strip_prefix("// expect:") else {
        panic!("{}: the first line must be `// expect: CODE...`", case.display());
    };
    list.split_whitespace().map(str::to_string).collect()
}

fn case_name(case: &Path) -> String {
    case.file_stem().expect("named").to_string_lossy().into_owned()
}

/// Compiles a case and returns (root text, emitted codes, rendered output).
fn run(case: &Path) -> (String, BTreeSet<String>, String) {
    let checked = build(case);
    let root = checked
        .sources
        .iter()
        .find(|(_, f)| f.path == "homelab.kdl")
        .map(|(_, f)| f.text.to_string())
        .unwrap_or_default();
    let codes = checked.diagnostics.iter().map(|d| d.code.to_string()).collect();
    let rendered = render::render_all(&checked.diagnostics, &checked.sources, &Options::default());
    (root, codes, rendered)
}

/// Builds a case in memory: a build, not only a check, so that the checks of
/// the compiler's own output (E0209, ...) run after the backends.
fn build(case: &Path) -> driver::Checked {
    if case.is_dir() {
        driver::build(&FsHost::new(case), "homelab.kdl").checked
    } else {
        let text = std::fs::read_to_string(case).expect("readable case");
        driver::build(&MemHost::with([("homelab.kdl", text)]), "homelab.kdl").checked
    }
}

/// SPEC §3: every diagnostic says what to do. Each code has a UI case
/// (`every_code_has_a_ui_case`), so this covers every code of the registry.
#[test]
fn every_diagnostic_has_a_help_line() {
    let mut missing = Vec::new();
    for case in cases() {
        let checked = build(&case);
        for diag in checked.diagnostics.iter().filter(|d| d.help.as_deref().is_none_or(|h| h.trim().is_empty())) {
            missing.push(format!("{}: {} {}", case_name(&case), diag.code, diag.message));
        }
        let rendered = render::render_all(&checked.diagnostics, &checked.sources, &Options::default());
        let helps = rendered.matches("help:").count();
        if helps < checked.diagnostics.len() {
            missing.push(format!(
                "{}: {} diagnostics render {helps} `help:` lines",
                case_name(&case),
                checked.diagnostics.len()
            ));
        }
        // A label in another file is a note of its diagnostic, not a
        // heading of its own (miette's "Advice:").
        if rendered.contains("Advice:") {
            missing.push(format!("{}: renders an `Advice:` heading", case_name(&case)));
        }
    }
    assert!(missing.is_empty(), "diagnostics without a help line:\n{}", missing.join("\n"));
}

#[test]
fn ui_cases_emit_exactly_their_expected_codes() {
    let mut failures = Vec::new();
    for case in cases() {
        let (root, codes, rendered) = run(&case);
        let expected = expected_codes(&root, &case);
        if codes != expected {
            failures.push(format!("{}: expected {:?}, emitted {:?}\n{rendered}", case_name(&case), expected, codes));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn ui_snapshots() {
    for case in cases() {
        let (_, _, rendered) = run(&case);
        insta::assert_snapshot!(case_name(&case), rendered);
    }
}

/// Codes that a command other than `check` raises, so that no description in
/// `tests/ui` can produce them, with the test file that covers each.
const COMMAND_ONLY: &[(&str, &str)] = &[("E0207", "tests/set.rs")];

#[test]
fn every_code_has_a_ui_case() {
    let mut covered = BTreeSet::new();
    for case in cases() {
        let (root, _, _) = run(&case);
        covered.extend(expected_codes(&root, &case));
    }
    for (code, test) in COMMAND_ONLY {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(test);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{code}: {test} does not exist"));
        assert!(text.contains(code), "{code}: {test} does not mention it");
        assert!(!covered.contains(*code), "{code} has a UI case: remove it from COMMAND_ONLY");
        covered.insert(code.to_string());
    }
    let missing: Vec<Code> = ALL.iter().copied().filter(|c| !covered.contains(c.as_str())).collect();
    assert!(missing.is_empty(), "codes without a UI case in tests/ui: {missing:?}");
}
