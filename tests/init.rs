//! `homelabc init`: every embedded example starts a homelab that builds, byte
//! for byte the example folder, and nothing that is already there is touched.

mod common;

use common::{files, homelabc, stderr};

#[test]
fn every_example_starts_a_homelab_that_builds() {
    let temp = tempfile::tempdir().expect("temp dir");
    for example in common::examples() {
        let name = example.file_name().expect("named").to_string_lossy().into_owned();
        let out = homelabc(temp.path(), &["init", &name, "--example", &name]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let dir = temp.path().join(&name);
        let mut written = files(&dir);
        // Beside the example, the Renovate configuration: Renovate's base and homelabc's managers.
        let renovate = written.remove(std::path::Path::new("renovate.json5")).expect("renovate.json5 is written");
        let renovate = String::from_utf8(renovate).expect("UTF-8");
        assert!(renovate.contains("\"extends\": [\"config:recommended\"]"), "{renovate}");
        assert!(renovate.contains("\"customManagers\""), "{renovate}");
        assert_eq!(written, files(&example), "{name}: init writes the example, byte for byte");
        let built = homelabc(temp.path(), &["build", "-q", &name]);
        assert_eq!(built.status.code(), Some(0), "{name}: {}", stderr(&built));
        assert_eq!(homelabc(temp.path(), &["build", "--check", "-q", &name]).status.code(), Some(0));
    }
}

#[test]
fn the_default_starts_in_the_current_folder_and_says_what_to_run_next() {
    let temp = tempfile::tempdir().expect("temp dir");
    std::fs::write(temp.path().join("README.md"), "mine\n").expect("writable");
    let out = homelabc(temp.path(), &["init"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains("from the example `kind-flux-tekton`"), "{text}");
    assert!(text.contains("./homelab.kdl"), "every written file is named: {text}");
    assert!(text.contains("homelabc check .") && text.contains("homelabc build ."), "{text}");
    assert_eq!(std::fs::read_to_string(temp.path().join("README.md")).expect("kept"), "mine\n");
    assert_eq!(homelabc(temp.path(), &["check"]).status.code(), Some(0));
    let leftovers: Vec<_> =
        files(temp.path()).into_keys().filter(|p| p.to_string_lossy().contains("homelabc-")).collect();
    assert!(leftovers.is_empty(), "no temporary file is left: {leftovers:?}");
    // Quiet: nothing at all.
    let quiet = tempfile::tempdir().expect("temp dir");
    let out = homelabc(quiet.path(), &["init", "-q", "lab"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{}", stderr(&out));
}

#[test]
fn an_existing_file_is_named_and_nothing_is_written() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("lab");
    std::fs::create_dir_all(dir.join("platform")).expect("writable");
    std::fs::write(dir.join("homelab.kdl"), "// mine\n").expect("writable");
    // A file where the example has a folder is in the way too.
    std::fs::write(dir.join("platform/secrets"), "not a folder\n").expect("writable");
    let before = files(&dir);
    let out = homelabc(temp.path(), &["init", "lab"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains("lab/homelab.kdl") && text.contains("lab/platform/secrets"), "{text}");
    assert!(text.contains("nothing written"), "{text}");
    assert_eq!(files(&dir), before, "nothing written, nothing changed");
}

#[test]
fn list_describes_every_example() {
    let temp = tempfile::tempdir().expect("temp dir");
    let out = homelabc(temp.path(), &["init", "--list"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for example in common::examples() {
        let name = example.file_name().expect("named").to_string_lossy().into_owned();
        assert!(text.lines().any(|l| l.starts_with(&format!("{name} "))), "{name} listed: {text}");
    }
    assert!(text.lines().any(|l| l.starts_with("kind-flux-tekton") && l.ends_with("(the default)")), "{text}");
    assert!(files(temp.path()).is_empty(), "--list writes nothing");
}

#[test]
fn an_unknown_example_gets_a_suggestion_and_the_list() {
    let temp = tempfile::tempdir().expect("temp dir");
    let out = homelabc(temp.path(), &["init", "lab", "--example", "tekton-rbax"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains("no example `tekton-rbax`; did you mean `tekton-rbac`?"), "{text}");
    assert!(text.contains("`pi-k3s-drone`") && text.contains("homelabc init --list"), "{text}");
    assert!(!temp.path().join("lab").exists(), "nothing written");
}
