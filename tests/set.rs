//! `homelabc set` as a pipeline runs it, on copies of the examples: the value
//! and only the value changes, comments survive, and a refused edit (E0207, a
//! value the checks refuse, a usage error) leaves every file byte-identical.

mod common;

use common::{copy_of, files, homelabc, stderr};

use std::path::Path;

/// The text with the quoted value of the first `key="` after `after` replaced.
fn replace_value(text: &str, after: &str, key: &str, new: &str) -> String {
    let from = text.find(after).expect("the anchor is in the file");
    let start = from + text[from..].find(&format!("{key}=\"")).expect("the key is there") + key.len() + 1;
    let end = start + 1 + text[start + 1..].find('"').expect("closed");
    format!("{}{new}{}", &text[..start], &text[end + 1..])
}

#[test]
fn a_tag_bump_in_an_imported_file_changes_only_the_value() {
    let dir = copy_of("proxmox-k3s-actions");
    let before = files(dir.path());
    let out = homelabc(dir.path(), &["set", "app.demo-app.image.tag", "sha-9f9f9f9"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("set app.demo-app.image.tag = \"sha-9f9f9f9\" in apps/demo-app.kdl"),
        "{}",
        stderr(&out)
    );
    let after = files(dir.path());
    let app = Path::new("apps/demo-app.kdl");
    for (path, bytes) in &before {
        if path != app {
            assert_eq!(&after[path], bytes, "{} changed", path.display());
        }
    }
    let old = String::from_utf8(before[app].clone()).expect("UTF-8");
    let expected = replace_value(&old, "image \"demo-ha/demo-app\"", "tag", "\"sha-9f9f9f9\"");
    assert_eq!(String::from_utf8_lossy(&after[app]), expected);
    // The edited description builds, and setting the same value again writes nothing.
    assert_eq!(homelabc(dir.path(), &["check"]).status.code(), Some(0));
    let again = homelabc(dir.path(), &["set", "app.demo-app.image.tag", "sha-9f9f9f9"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(stderr(&again).contains("nothing written"), "{}", stderr(&again));
    assert_eq!(files(dir.path()), after);
}

#[test]
fn comments_survive_and_a_path_may_be_given() {
    let dir = copy_of("tekton-rbac");
    let file = dir.path().join("homelab.kdl");
    let old = std::fs::read_to_string(&file).expect("readable");
    let out = homelabc(Path::new("/"), &["set", &file.display().to_string(), "app.demo-app.replicas", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let new = std::fs::read_to_string(&file).expect("readable");
    let replicas = old.find("    replicas 2\n").expect("the example has 2 replicas");
    assert_eq!(new, format!("{}    replicas 3\n{}", &old[..replicas], &old[replicas + "    replicas 2\n".len()..]));
    for comment in old.lines().filter(|l| l.contains("//")) {
        assert!(new.contains(comment), "lost: {comment}");
    }
}

#[test]
fn a_stdlib_component_is_set_through_its_use() {
    let dir = copy_of("proxmox-k3s-actions");
    let out = homelabc(dir.path(), &["set", "use.argocd.node-port", "30671"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let root = std::fs::read_to_string(dir.path().join("homelab.kdl")).expect("readable");
    assert!(root.contains("use \"argocd\" {\n    node-port 30671\n}"), "{root}");
}

#[cfg(unix)]
#[test]
fn the_file_keeps_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = copy_of("tekton-rbac");
    let file = dir.path().join("homelab.kdl");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let out = homelabc(dir.path(), &["set", ".", "app.demo-app.image.tag", "0.2.0"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mode = std::fs::metadata(&file).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("readable")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["homelab.kdl"], "no temporary file is left behind");
}

#[test]
fn a_bad_value_is_refused_and_nothing_is_written() {
    let dir = copy_of("proxmox-k3s-actions");
    let before = files(dir.path());
    for (address, value, code) in
        [("app.demo-app.replicas", "abc", "E0105"), ("app.demo-app.image.tag", "latest", "E0603")]
    {
        let out = homelabc(dir.path(), &["set", address, value]);
        assert_eq!(out.status.code(), Some(1), "{address} = {value}: {}", stderr(&out));
        assert!(stderr(&out).contains(&format!("error[{code}]")), "{}", stderr(&out));
        assert!(stderr(&out).contains("nothing written"), "{}", stderr(&out));
        assert_eq!(files(dir.path()), before, "{address} = {value} wrote something");
    }
}

#[test]
fn an_unknown_address_is_e0207_with_a_suggestion() {
    let dir = copy_of("proxmox-k3s-actions");
    let before = files(dir.path());
    let out = homelabc(dir.path(), &["set", "app.demo-ap.image.tag", "sha-9f9f9f9"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("error[E0207]: no app named `demo-ap`"), "{}", stderr(&out));
    assert!(stderr(&out).contains("did you mean `app.demo-app`?"), "{}", stderr(&out));
    let out = homelabc(dir.path(), &["--message-format", "short", "set", "app.demo-app.image.tags", "x"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let short = stderr(&out);
    assert!(short.starts_with("apps/demo-app.kdl:"), "a span in the app's file: {short}");
    assert!(short.contains(": error[E0207]: `app.demo-app.image` has no `tags`"), "{short}");
    assert_eq!(files(dir.path()), before);
}

#[test]
fn usage_errors_exit_3() {
    let dir = copy_of("tekton-rbac");
    let before = files(dir.path());
    for args in [
        &["set", "app.demo-app.replicas"][..],
        &["set", "app", "3"],
        &["set", "app..replicas", "3"],
        &["set", "/nonexistent/homelab", "app.demo-app.replicas", "3"],
        &["set", ".", "app.demo-app.replicas", "3", "4"],
    ] {
        let out = homelabc(dir.path(), args);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(files(dir.path()), before);
}
