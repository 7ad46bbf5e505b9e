//! CI steps never compile homelabc (SPEC §2.5): no example's tree holds a
//! `cargo install`, every GitOps deploy runs the homelabc release image, and
//! the files that produce and use that release (Dockerfile, release workflow,
//! pre-commit hooks, README recipes) agree with the compiler's default image.

mod common;

use std::path::Path;

use common::examples;

use homelabc::driver;
use homelabc::host::FsHost;
use homelabc::model::{DEFAULT_HOMELABC_IMAGE, DeployVia};

/// A file of the repository, as text.
fn repository_file(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect("readable")
}

#[test]
fn no_tree_compiles_homelabc_and_every_gitops_deploy_runs_the_release_image() {
    for example in examples() {
        let name = example.file_name().expect("named").to_string_lossy().into_owned();
        let built = driver::build(&FsHost::new(&example), "homelab.kdl");
        assert!(!built.checked.has_errors(), "{name}: {:?}", built.checked.diagnostics);
        let tree = built.tree.as_ref().expect("no errors").as_ref().expect("layout succeeds");
        for (path, bytes) in tree.files() {
            let text = String::from_utf8_lossy(bytes);
            assert!(!text.contains("cargo install"), "{name}: {path} compiles homelabc");
        }
        let gitops_deploys = built
            .checked
            .model
            .pipelines
            .iter()
            .filter(|p| p.deploy.as_ref().is_some_and(|d| d.via.value == DeployVia::Gitops));
        for pipeline in gitops_deploys {
            let prefix = format!("pipelines/{}/", pipeline.name.value);
            let runs_release = tree
                .files()
                .filter(|(path, _)| path.starts_with(&prefix) || path.contains(&format!("/{prefix}")))
                .any(|(_, bytes)| String::from_utf8_lossy(bytes).contains(DEFAULT_HOMELABC_IMAGE));
            assert!(runs_release, "{name}: pipeline {} deploys without {DEFAULT_HOMELABC_IMAGE}", pipeline.name.value);
        }
    }
}

#[test]
fn the_default_image_is_this_version_of_the_release() {
    assert_eq!(DEFAULT_HOMELABC_IMAGE, format!("ghcr.io/homelabc/homelabc:{}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn the_dockerfile_builds_static_musl_binaries_and_ends_with_the_ci_image() {
    let dockerfile = repository_file("Dockerfile");
    for needle in [
        "rustup target add x86_64-unknown-linux-musl aarch64-unknown-linux-musl",
        "cargo zigbuild --locked --profile dist --target \"$target\"",
        "FROM scratch AS static",
        "apk add --no-cache bash ca-certificates git openssh-client",
    ] {
        assert!(dockerfile.contains(needle), "the Dockerfile lacks `{needle}`");
    }
    // `docker build .` gives the image deploys run: the CI image is the last stage.
    let last = dockerfile.lines().rfind(|l| l.starts_with("FROM ")).expect("stages");
    assert!(last.ends_with(" AS ci"), "{last}");
}

#[test]
fn the_release_workflow_publishes_what_deploys_and_hooks_use() {
    let workflow = repository_file(".github/workflows/release.yml");
    for needle in [
        "- \"v*\"",
        "--platform linux/amd64,linux/arm64 --target static",
        "release/homelabc-x86_64-unknown-linux-musl",
        "release/homelabc-aarch64-unknown-linux-musl",
        "sha256sum homelabc-* > SHA256SUMS",
        "target: ci",
        "tags: ${{ steps.version.outputs.image }}:${{ steps.version.outputs.version }}\n",
        "tags: ${{ steps.version.outputs.image }}:${{ steps.version.outputs.version }}-static\n",
    ] {
        assert!(workflow.contains(needle), "release.yml lacks `{needle}`");
    }
}

#[test]
fn the_hooks_and_the_readme_install_a_release_instead_of_compiling() {
    let hooks = repository_file(".pre-commit-hooks.yaml");
    let static_image = format!("{DEFAULT_HOMELABC_IMAGE}-static ");
    for line in hooks.lines().filter(|l| l.starts_with("  entry: ")) {
        let entry = &line["  entry: ".len()..];
        assert!(entry.starts_with(&static_image) || entry.starts_with("homelabc "), "{line}");
    }
    assert!(!hooks.contains("language: rust"), "a hook compiles homelabc");
    let readme = repository_file("README.md");
    assert!(!readme.contains("cargo install"), "the README's recipes compile homelabc");
}
