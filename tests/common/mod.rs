//! Helpers shared by the integration tests. Each test crate uses some of
//! them, so the others are dead code there.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Every example folder (one holding a `homelab.kdl`), sorted.
pub fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("examples/ exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("homelab.kdl").is_file())
        .collect();
    found.sort();
    found
}

/// Runs the built binary in `dir`, without colours.
pub fn homelabc(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_homelabc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

/// Standard output, as text.
pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Standard error, as text.
pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A copy of an example in a temporary folder (the folder is removed on drop).
pub fn copy_of(example: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(example), dir.path());
    dir
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("creatable");
    for entry in std::fs::read_dir(from).expect("readable") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("named"));
        if path.is_dir() {
            copy(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copyable");
        }
    }
}

/// Every file below a folder, by relative path, with its bytes.
pub fn files(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut found = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(here) = stack.pop() {
        for entry in std::fs::read_dir(&here).expect("readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.insert(
                    path.strip_prefix(dir).expect("below").to_path_buf(),
                    std::fs::read(&path).expect("readable"),
                );
            }
        }
    }
    found
}
