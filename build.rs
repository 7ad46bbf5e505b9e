//! Rebuilds the crate when `examples/` changes: `homelabc init` embeds its
//! folders (include_dir), and a file added there must reach the binary.

fn main() {
    println!("cargo:rerun-if-changed=examples");
    println!("cargo:rerun-if-changed=stdlib");
}
