//! `homelabc fmt` as a developer and a CI job run it, on copies of the
//! examples: `--check` lists what would change and writes nothing, `fmt`
//! rewrites and a second `--check` passes, comments survive, and a syntax
//! error leaves every file byte-identical.

mod common;

use common::{copy_of, files, homelabc, stderr, stdout};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).expect("readable")
}

/// Formats every example in place, so that a test can spoil one file.
fn formatted(example: &str) -> tempfile::TempDir {
    let dir = copy_of(example);
    let out = homelabc(dir.path(), &["fmt"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    dir
}

#[test]
fn check_lists_a_badly_indented_file_and_writes_nothing() {
    let dir = formatted("proxmox-k3s-actions");
    let app = read(dir.path(), "apps/demo-app.kdl");
    let spoiled = app.replacen("\n    ", "\n  ", 1);
    assert_ne!(spoiled, app);
    std::fs::write(dir.path().join("apps/demo-app.kdl"), &spoiled).expect("writable");
    let before = files(dir.path());

    let out = homelabc(dir.path(), &["fmt", "--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "apps/demo-app.kdl\n");
    assert!(stderr(&out).contains("1 file would be reformatted"), "{}", stderr(&out));
    assert_eq!(files(dir.path()), before, "--check wrote something");

    let out = homelabc(dir.path(), &["fmt"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("formatted 1 file"), "{}", stderr(&out));
    assert_eq!(read(dir.path(), "apps/demo-app.kdl"), app);

    let out = homelabc(dir.path(), &["fmt", "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("3 files already formatted"), "{}", stderr(&out));
}

#[test]
fn check_names_files_below_the_path_given() {
    let dir = copy_of("kind-flux-tekton");
    // The examples are formatted: indent one file by two spaces instead of four.
    let file = dir.path().join("platform/monitoring.kdl");
    let text = std::fs::read_to_string(&file).expect("readable");
    std::fs::write(&file, text.replace("\n    ", "\n  ")).expect("writable");
    let parent = dir.path().parent().expect("a parent");
    let name = dir.path().file_name().expect("named").to_string_lossy().into_owned();
    let out = homelabc(parent, &["fmt", &name, "--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).lines().all(|l| l.starts_with(&format!("{name}/"))), "{}", stdout(&out));
    assert!(stdout(&out).contains(&format!("{name}/platform/monitoring.kdl")), "{}", stdout(&out));
}

#[test]
fn fmt_is_idempotent_and_keeps_every_comment() {
    for example in ["kind-flux-tekton", "microservices-argocd", "pi-k3s-drone", "proxmox-k3s-actions", "tekton-rbac"] {
        let dir = copy_of(example);
        let comments = |files: &BTreeMap<PathBuf, Vec<u8>>| -> Vec<String> {
            files
                .values()
                .flat_map(|text| String::from_utf8_lossy(text).lines().map(str::to_string).collect::<Vec<_>>())
                .filter_map(|line| line.find("//").map(|at| line[at..].to_string()))
                .collect()
        };
        let before = files(dir.path());
        let out = homelabc(dir.path(), &["fmt"]);
        assert_eq!(out.status.code(), Some(0), "{example}: {}", stderr(&out));
        let after = files(dir.path());
        assert_eq!(comments(&after), comments(&before), "{example}");
        assert!(read(dir.path(), "homelab.kdl").starts_with("// "), "{example}: the first-line comment is gone");

        let out = homelabc(dir.path(), &["fmt"]);
        assert_eq!(out.status.code(), Some(0), "{example}: {}", stderr(&out));
        assert!(stderr(&out).contains("already formatted"), "{example}: {}", stderr(&out));
        assert_eq!(files(dir.path()), after, "{example}: formatting twice changed a file");
    }
}

#[test]
fn a_formatted_example_builds_the_same_tree() {
    let dir = copy_of("microservices-argocd");
    let build = |dir: &Path, out: &str| {
        let result = homelabc(dir, &["build", "-o", out]);
        assert_eq!(result.status.code(), Some(0), "{}", stderr(&result));
        files(&dir.join(out))
    };
    let before = build(dir.path(), "before");
    assert_eq!(homelabc(dir.path(), &["fmt"]).status.code(), Some(0));
    assert_eq!(build(dir.path(), "after"), before);
}

#[test]
fn a_syntax_error_exits_1_and_changes_nothing() {
    let dir = copy_of("pi-k3s-drone");
    let broken = read(dir.path(), "homelab.kdl").replacen("\"lan\"", "\"lan", 1);
    std::fs::write(dir.path().join("homelab.kdl"), broken).expect("writable");
    let before = files(dir.path());
    for args in [&["fmt"][..], &["fmt", "--check"]] {
        let out = homelabc(dir.path(), args);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(stderr(&out).contains("E0101"), "{}", stderr(&out));
        assert_eq!(files(dir.path()), before, "{args:?} changed a file");
    }
}

#[test]
fn a_v1_file_is_rewritten_in_v2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let v1 = "// lab\nhomelab \"lab\"\n\nregistry \"local\" address=\"192.168.1.171:5000\" {\n  insecure true  // plain HTTP\n}\n";
    std::fs::write(dir.path().join("homelab.kdl"), v1).expect("writable");
    let out = homelabc(dir.path(), &["fmt"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("W0101"), "{}", stderr(&out));
    assert_eq!(
        read(dir.path(), "homelab.kdl"),
        "// lab\nhomelab \"lab\"\n\nregistry \"local\" address=\"192.168.1.171:5000\" {\n    insecure #true // plain HTTP\n}\n"
    );
}

#[test]
fn usage_errors_exit_3() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = homelabc(dir.path(), &["fmt"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("holds no homelab.kdl"), "{}", stderr(&out));
    let out = homelabc(dir.path(), &["fmt", "--bogus"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

#[cfg(unix)]
#[test]
fn a_rewritten_file_keeps_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = copy_of("tekton-rbac");
    let path = dir.path().join("homelab.kdl");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let out = homelabc(dir.path(), &["fmt"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777, 0o640);
}
