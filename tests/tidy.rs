//! Tidy checks, in the manner of rust-analyzer's: the architecture rules of
//! ARCHITECTURE.md hold in the source text.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.expect("readable").into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    files
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rel(path: &Path) -> String {
    path.strip_prefix(src()).expect("below src").display().to_string()
}

#[test]
fn every_file_says_what_it_is_for() {
    for file in rust_files(&src()) {
        let text = std::fs::read_to_string(&file).expect("readable");
        assert!(text.starts_with("//!"), "{} must start with a `//!` line", rel(&file));
    }
}

#[test]
fn the_model_knows_nothing_of_kdl_yaml_miette_or_files() {
    for file in rust_files(&src().join("model")) {
        let text = std::fs::read_to_string(&file).expect("readable");
        for banned in ["kdl::", "miette::", "serde_yaml", "std::fs", "crate::host", "crate::lower", "crate::diag"] {
            assert!(!text.contains(banned), "{} uses `{banned}`", rel(&file));
        }
    }
}

#[test]
fn only_the_front_end_parses_kdl_and_only_render_uses_miette() {
    for file in rust_files(&src()) {
        let path = rel(&file);
        let text = std::fs::read_to_string(&file).expect("readable");
        if text.contains("kdl::") {
            // The loader and lowering read `syntax::tree`, not the crate's documents.
            assert!(
                path.starts_with("syntax") || path.starts_with("edit") || path.starts_with("fmt"),
                "{path} uses the kdl crate"
            );
        }
        if text.contains("use miette") || text.contains("miette::") {
            let allowed = path == "diag/render.rs" || path.starts_with("lower/") || path.starts_with("syntax");
            assert!(allowed, "{path} uses miette");
        }
    }
}

#[test]
fn no_stray_printing_outside_the_cli_printer() {
    for file in rust_files(&src()) {
        let path = rel(&file);
        if path == "cli/printer.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable");
        let code: String = text.split("#[cfg(test)]").next().unwrap_or_default().to_string();
        for banned in ["println!", "eprintln!", "print!(", "eprint!(", "dbg!("] {
            assert!(!code.contains(banned), "{path} prints with `{banned}`: go through cli::Printer");
        }
    }
}
