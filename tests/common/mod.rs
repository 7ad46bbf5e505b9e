//! Helpers shared by the integration tests. Each test crate uses some of
//! them, so the others are dead code there.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Where the binaries run by the tests keep their memos (`HOMELABC_CACHE_DIR`),
/// so that tests leave the user's cache folder alone.
pub const MEMOS: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/memos");

/// A homelab of one k3s cluster on the network `lan` (10.0.0.0/24), its
/// GitOps tree in `deploy`: how the tests' generated descriptions start,
/// before their nodes and apps.
pub const ONE_CLUSTER: &str = r#"homelab "lab" {
    domain "lab.example.com"
}
network "lan" cidr="10.0.0.0/24" gateway="10.0.0.1"
cluster "home" distribution="k3s" version="v1.33.6+k3s1" {
    gitops "flux" repo="https://github.com/me/lab" branch="main" path="deploy"
}
"#;

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
        .env("HOMELABC_CACHE_DIR", MEMOS)
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
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("readable");
        let target = to.join(entry.path().strip_prefix(from).expect("below"));
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("creatable");
        } else {
            std::fs::copy(entry.path(), &target).expect("copyable");
        }
    }
}

/// Every file below a folder, by relative path, with its bytes.
pub fn files(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.expect("readable"))
        .filter(|e| !e.file_type().is_dir())
        .map(|e| (e.path().strip_prefix(dir).expect("below").to_path_buf(), std::fs::read(e.path()).expect("readable")))
        .collect()
}
