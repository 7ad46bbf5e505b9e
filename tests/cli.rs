//! The command line as a user runs it: exit codes and output streams.

use std::path::Path;
use std::process::{Command, Output};

fn homelabc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_homelabc")).args(args).env("NO_COLOR", "1").output().expect("the binary runs")
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(name).display().to_string()
}

fn case(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui").join(name).display().to_string()
}

#[test]
fn check_exit_codes() {
    assert_eq!(homelabc(&["check", &example("pi-k3s-drone")]).status.code(), Some(0));
    assert_eq!(homelabc(&["check", &case("e0102-unknown-kind.kdl")]).status.code(), Some(1));
    assert_eq!(homelabc(&["check", "/nonexistent/homelab"]).status.code(), Some(3));
    assert_eq!(homelabc(&["check", "--no-such-flag"]).status.code(), Some(3));
    assert_eq!(homelabc(&["frobnicate"]).status.code(), Some(3));
    assert_eq!(homelabc(&["--help"]).status.code(), Some(0));
}

#[test]
fn deny_warnings_fails_on_warnings() {
    // The seed 002 homelab has one server node: a warning, not an error.
    let out = homelabc(&["check", &example("pi-k3s-drone")]);
    let warned = String::from_utf8_lossy(&out.stderr).contains("warning[");
    let denied = homelabc(&["check", "--deny-warnings", &example("pi-k3s-drone")]);
    assert_eq!(denied.status.code(), Some(if warned { 1 } else { 0 }));
}

#[test]
fn json_diagnostics_are_one_object_per_line() {
    let out = homelabc(&["check", "--message-format", "json", &case("e0102-unknown-kind.kdl")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    let value: serde_json::Value = serde_json::from_str(lines[0]).expect("valid JSON");
    assert_eq!(value["code"], "E0102");
    assert_eq!(value["severity"], "error");
    assert_eq!(value["file"], "e0102-unknown-kind.kdl");
    assert_eq!(value["line"], 4);
    assert_eq!(value["column"], 1);
    assert_eq!(value["help"], "did you mean `network`?");
    assert_eq!(value["labels"][0]["primary"], true);
}

#[test]
fn short_diagnostics() {
    let out = homelabc(&["check", "--message-format", "short", &case("e0102-unknown-kind.kdl")]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "e0102-unknown-kind.kdl:4:1: error[E0102]: unknown declaration kind `netwrk`\n"
    );
}

#[test]
fn explain() {
    let out = homelabc(&["explain", "E0301"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("# E0301 node-outside-network"));
    let by_name = homelabc(&["explain", "node-outside-network"]);
    assert_eq!(by_name.stdout, out.stdout);
    let list = homelabc(&["explain"]);
    assert!(String::from_utf8_lossy(&list.stdout).contains("E0501"));
    let unknown = homelabc(&["explain", "E0302x"]);
    assert_eq!(unknown.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("did you mean `E0302`"));
}

#[test]
fn graph_formats() {
    for (format, start) in [("mermaid", "flowchart TD"), ("dot", "digraph homelab {"), ("json", "{")] {
        let out = homelabc(&["graph", "--format", format, &example("kind-flux-tekton")]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).starts_with(start), "{format}");
    }
    let json = homelabc(&["graph", "--format", "json", &example("kind-flux-tekton")]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("valid JSON");
    assert!(value["nodes"].as_array().is_some_and(|n| !n.is_empty()));
}

#[test]
fn a_file_path_works_like_its_folder() {
    let file = format!("{}/homelab.kdl", example("tekton-rbac"));
    assert_eq!(homelabc(&["check", &file]).status.code(), Some(0));
}

#[test]
fn stdlib_overrides_replace_components_by_name() {
    let listed = homelabc(&["explain", "stdlib"]);
    assert_eq!(listed.status.code(), Some(0));
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(
        text.contains("metallb") && text.contains("chart metallb: https://metallb.github.io/metallb/metallb"),
        "{text}"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let component = "component \"metallb\" {\n    description \"a pinned fork\"\n    param \"version\" type=\"string\" default=\"9.9.9\"\n    namespace \"metallb-system\" pod-security=\"privileged\"\n    chart \"metallb\" namespace=\"metallb-system\" repo=\"https://example.com/charts\" chart=\"metallb\" version=\"{version}\"\n}\n";
    std::fs::write(dir.path().join("metallb.kdl"), component).expect("writable");
    let stdlib = dir.path().display().to_string();
    let overridden = homelabc(&["--stdlib", &stdlib, "explain", "stdlib"]);
    let text = String::from_utf8_lossy(&overridden.stdout);
    assert!(text.contains("chart metallb: https://example.com/charts/metallb 9.9.9"), "{text}");
    assert!(text.contains("kube-prometheus-stack"), "the other components stay: {text}");

    let out = dir.path().join("out");
    let built = homelabc(&["--stdlib", &stdlib, "build", &example("pi-k3s-drone"), "-o", &out.display().to_string()]);
    assert_eq!(built.status.code(), Some(0), "{}", String::from_utf8_lossy(&built.stderr));
    let chart =
        std::fs::read_to_string(out.join("infrastructure/metallb/helmchart-metallb.yaml")).expect("k3s HelmChart");
    assert!(chart.contains("version: 9.9.9") && chart.contains("repo: https://example.com/charts"), "{chart}");

    let missing = homelabc(&["--stdlib", "/nonexistent/stdlib", "explain", "stdlib"]);
    assert_eq!(missing.status.code(), Some(3));
}
