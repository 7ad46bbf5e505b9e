//! Helpers shared by the integration tests.

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
