//! The command line as a user runs it: exit codes and output streams.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn homelabc(args: &[&str]) -> Output {
    common::homelabc(Path::new("."), args)
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
    // Every declaration kind of the registry, with its keyword.
    let kinds = String::from_utf8_lossy(&homelabc(&["explain", "kinds"]).stdout).into_owned();
    for keyword in ["homelab", "network", "use", "manifest", "alert", "import"] {
        assert!(kinds.lines().any(|l| l.trim_start().starts_with(keyword)), "{keyword} missing:\n{kinds}");
    }
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

// Exit codes of every command (SPEC §1: 0 success, 1 errors in the input or a
// refusal, 2 changes pending, 3 usage or I/O error). Covered elsewhere, and not
// repeated here: `check` 0/1/3 (`check_exit_codes`), `explain` 0/3 (`explain`),
// `graph` 0 (`graph_formats`), `build` 0 (`stdlib_overrides_replace_components_by_name`);
// `build` 0, 2 and 1 for a refused stray file (tests/build.rs,
// `build_check_reports_a_stale_tree_with_exit_code_2`); `set` 0, 1 and 3 (tests/set.rs).

#[test]
fn build_exit_codes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("deploy").display().to_string();
    let broken = case("e0102-unknown-kind.kdl");
    assert_eq!(homelabc(&["build", &broken, "-o", &out]).status.code(), Some(1), "errors in the input");
    assert_eq!(homelabc(&["build", "--check", &broken, "-o", &out]).status.code(), Some(1), "--check too");
    assert!(!dir.path().join("deploy").exists(), "a description with errors writes nothing");
    assert_eq!(homelabc(&["build", "/nonexistent/homelab", "-o", &out]).status.code(), Some(3));
    assert_eq!(homelabc(&["build", "--no-such-flag"]).status.code(), Some(3));
    assert_eq!(homelabc(&["build", "--check", "-o"]).status.code(), Some(3), "-o without a value");
    // `--check` against an output path that is a file cannot read the tree: an I/O error.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder\n").expect("writable");
    let check = homelabc(&["build", "--check", "-q", &example("tekton-rbac"), "-o", &file.display().to_string()]);
    assert_eq!(check.status.code(), Some(3), "{}", String::from_utf8_lossy(&check.stderr));
}

#[test]
fn timings_print_a_table_of_the_phases_and_no_progress_line_off_a_terminal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("deploy").display().to_string();
    // talos-home has no warning: with -q, stderr holds the table alone.
    let built = homelabc(&["build", "-q", "--timings", &example("talos-home"), "-o", &out]);
    assert_eq!(built.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&built.stderr);
    let phases: Vec<&str> = stderr.lines().filter_map(|l| l.split_whitespace().next()).collect();
    let expected =
        ["phase", "load", "lower", "check", "emit", "verify", "layout", "seal", "read", "plan", "write", "total"];
    assert_eq!(phases, expected, "{stderr}");
    // Standard error is a pipe here: no progress line, even for a slow build.
    assert!(!stderr.contains('\r') && !stderr.contains("building:"), "{stderr}");
    // Without the flag, a quiet build prints nothing.
    let again = homelabc(&["build", "-q", &example("talos-home"), "-o", &out]);
    assert_eq!((again.status.code(), again.stderr.is_empty()), (Some(0), true));
}

#[test]
fn graph_exit_codes() {
    assert_eq!(homelabc(&["graph", &case("e0102-unknown-kind.kdl")]).status.code(), Some(1));
    assert_eq!(homelabc(&["graph", "/nonexistent/homelab"]).status.code(), Some(3));
    assert_eq!(homelabc(&["graph", "--format", "svg", &example("tekton-rbac")]).status.code(), Some(3));
}

#[test]
fn init_exit_codes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lab = dir.path().join("lab").display().to_string();
    assert_eq!(homelabc(&["init", "-q", &lab]).status.code(), Some(0));
    let again = homelabc(&["init", &lab]);
    assert_eq!(again.status.code(), Some(1), "refused: the files exist");
    assert!(String::from_utf8_lossy(&again.stderr).contains("homelab.kdl"), "the file is named");
    assert_eq!(homelabc(&["init", "--list"]).status.code(), Some(0));
    let other = dir.path().join("other").display().to_string();
    assert_eq!(homelabc(&["init", &other, "--example", "no-such-example"]).status.code(), Some(3));
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder\n").expect("writable");
    assert_eq!(homelabc(&["init", &file.display().to_string()]).status.code(), Some(3), "DIR is a file");
    assert_eq!(homelabc(&["init", "--list", &other]).status.code(), Some(3), "--list takes no DIR");
    assert_eq!(homelabc(&["init", "--no-such-flag"]).status.code(), Some(3));
    assert!(!dir.path().join("other").exists(), "a usage error writes nothing");
}

#[test]
fn completions_exit_codes_and_scripts() {
    for (shell, marker) in [("bash", "_homelabc() {"), ("zsh", "#compdef homelabc"), ("fish", "complete -c homelabc")] {
        let out = homelabc(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", String::from_utf8_lossy(&out.stderr));
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains(marker), "{shell}: {script}");
        for word in ["completions", "deny-warnings", "message-format", "example"] {
            assert!(script.contains(word), "{shell} completes `{word}`");
        }
    }
    assert_eq!(homelabc(&["completions", "nushell"]).status.code(), Some(3), "unknown shell");
    assert_eq!(homelabc(&["completions"]).status.code(), Some(3), "no shell");
}

#[test]
fn the_bash_completion_script_parses() {
    let out = homelabc(&["completions", "bash"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("homelabc.bash");
    std::fs::write(&script, &out.stdout).expect("writable");
    // `bash -n` reads without running; skipped where there is no bash.
    if let Ok(checked) = Command::new("bash").arg("-n").arg(&script).output() {
        assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stderr));
    }
}

#[test]
fn schema_comments_are_written_unless_asked_not_to_and_check_compares_like_for_like() {
    let temp = tempfile::tempdir().expect("temp dir");
    let (with, without) = (temp.path().join("with"), temp.path().join("without"));
    let (with, without) = (with.display().to_string(), without.display().to_string());
    let tekton = example("tekton-rbac");
    assert_eq!(homelabc(&["build", &tekton, "-o", &with, "-q"]).status.code(), Some(0));
    assert_eq!(homelabc(&["build", &tekton, "-o", &without, "-q", "--no-schema-comments"]).status.code(), Some(0));
    let grep = |dir: &str| {
        walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter(|e| {
                std::fs::read_to_string(e.path()).is_ok_and(|t| t.starts_with("# yaml-language-server: $schema="))
            })
            .count()
    };
    assert!(grep(&with) > 10, "object files start with their schema");
    assert_eq!(grep(&without), 0);
    // A tree is up to date only as it was written.
    assert_eq!(homelabc(&["build", &tekton, "-o", &without, "--check", "--no-schema-comments"]).status.code(), Some(0));
    assert_eq!(homelabc(&["build", &tekton, "-o", &without, "--check", "-q"]).status.code(), Some(2));
}

/// The phases of the `--timings` table at the end of standard error.
fn phases(out: &Output) -> Vec<String> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let table = stderr.lines().skip_while(|l| !l.starts_with("phase ")).skip(1);
    table.filter_map(|l| l.split_whitespace().next()).filter(|p| *p != "total").map(str::to_string).collect()
}

#[test]
fn a_rebuild_of_unchanged_inputs_recalls_the_last_build_instead_of_compiling() {
    // media-server prints two warnings: a recalled build prints them too.
    let src = common::copy_of("media-server");
    let out = tempfile::tempdir().expect("temp dir");
    let dir = out.path().join("deploy");
    let memos = tempfile::tempdir().expect("temp dir");
    let run = |memos: &Path, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_homelabc"))
            .args(args)
            .arg(src.path())
            .arg("-o")
            .arg(&dir)
            .env("NO_COLOR", "1")
            .env("HOMELABC_CACHE_DIR", memos)
            .output()
            .expect("the binary runs")
    };
    let compiled = ["load", "lower", "check", "emit", "verify", "layout", "seal", "read", "plan", "write"];
    let recalled = ["recall", "read"];
    let first = run(memos.path(), &["build", "--timings"]);
    assert_eq!((first.status.code(), phases(&first)), (Some(0), compiled.map(String::from).to_vec()));
    // Compiled again (memos off) and recalled, the build says the same.
    let off = run(Path::new(""), &["build"]);
    let on = run(memos.path(), &["build"]);
    assert_eq!(String::from_utf8_lossy(&on.stderr), String::from_utf8_lossy(&off.stderr));
    assert!(String::from_utf8_lossy(&on.stderr).contains("warning[W0702]"));
    assert_eq!(run(memos.path(), &["build", "--timings"]).status.code(), Some(0));
    assert_eq!(phases(&run(memos.path(), &["build", "--timings"])), recalled);
    assert_eq!(phases(&run(Path::new(""), &["build", "--timings"])), compiled, "an empty HOMELABC_CACHE_DIR");
    let check = run(memos.path(), &["build", "--check", "--timings"]);
    assert_eq!((check.status.code(), phases(&check)), (Some(0), recalled.map(String::from).to_vec()));
    // A changed description is compiled (here to the same tree), and remembered anew.
    let root = src.path().join("homelab.kdl");
    let text = std::fs::read_to_string(&root).expect("readable");
    std::fs::write(&root, format!("{text}// a comment changes no object\n")).expect("writable");
    let changed = phases(&run(memos.path(), &["build", "--timings"]));
    assert_eq!(changed[..3], ["recall", "load", "lower"], "the memo is asked, then the description compiled");
    assert_eq!(phases(&run(memos.path(), &["build", "--timings"])), recalled);
    // A file of DIR edited by hand is written again, by a build that compiles.
    std::fs::write(dir.join("README.md"), "edited\n").expect("writable");
    let repaired = run(memos.path(), &["build"]);
    assert!(String::from_utf8_lossy(&repaired.stderr).contains("0 added, 1 changed, 0 removed"));
    // A file homelabc did not write is refused, as without memos.
    std::fs::write(dir.join("notes.txt"), "mine\n").expect("writable");
    let refused = run(memos.path(), &["build"]);
    assert_eq!(refused.status.code(), Some(1), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("notes.txt"));
}

#[test]
fn memos_live_in_the_users_cache_folder() {
    let cache = tempfile::tempdir().expect("temp dir");
    let out = tempfile::tempdir().expect("temp dir");
    let built = Command::new(env!("CARGO_BIN_EXE_homelabc"))
        .args(["build", "-q", &example("talos-home"), "-o"])
        .arg(out.path().join("deploy"))
        .env_remove("HOMELABC_CACHE_DIR")
        .env("XDG_CACHE_HOME", cache.path())
        .output()
        .expect("the binary runs");
    assert_eq!(built.status.code(), Some(0));
    let memos = std::fs::read_dir(cache.path().join("homelabc/memos")).expect("a memo folder");
    assert_eq!(memos.count(), 1);
    assert_eq!(std::fs::read_dir(out.path()).expect("readable").count(), 1, "nothing but DIR beside DIR");
}

#[test]
fn memos_no_build_saved_for_a_month_are_removed() {
    let cache = tempfile::tempdir().expect("temp dir");
    let folder = cache.path().join("memos");
    std::fs::create_dir_all(&folder).expect("a memo folder");
    let day = std::time::Duration::from_secs(24 * 60 * 60);
    #[allow(clippy::disallowed_methods)] // Files made to look a month old.
    let now = std::time::SystemTime::now();
    for (name, age) in [("old.json", 31), ("recent.json", 29), ("interrupted.tmp", 40)] {
        let path = folder.join(name);
        std::fs::write(&path, "{}").expect("written");
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(now - day * age).unwrap();
    }
    let out = tempfile::tempdir().expect("temp dir");
    let build = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_homelabc"))
            .args(args)
            .arg(out.path().join("deploy"))
            .env("HOMELABC_CACHE_DIR", cache.path())
            .output()
            .expect("the binary runs")
    };
    // The build compiles and saves its memo: the memos older than a month
    // go, with the file of a save that was interrupted.
    assert_eq!(build(&["build", "-q", &example("talos-home"), "-o"]).status.code(), Some(0));
    let mut left: Vec<String> =
        std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.contains(&"recent.json".to_string()), "{left:?}");
    assert!(!left.iter().any(|name| name == "old.json" || name == "interrupted.tmp"), "{left:?}");
}

#[test]
fn a_check_of_unchanged_inputs_recalls_its_verdict() {
    let src = common::copy_of("pi-k3s-drone");
    let memos = tempfile::tempdir().expect("temp dir");
    let run = |memos: &Path, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_homelabc"))
            .arg("check")
            .args(args)
            .arg(src.path())
            .env("NO_COLOR", "1")
            .env("HOMELABC_CACHE_DIR", memos)
            .output()
            .expect("the binary runs")
    };
    let said = |out: &Output| (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned());
    let fresh = said(&run(Path::new(""), &[]));
    assert!(fresh.1.contains("warning[W0702]") && fresh.1.contains("no errors"), "{}", fresh.1);
    assert_eq!(said(&run(memos.path(), &[])), fresh, "checked, and remembered");
    assert_eq!(said(&run(memos.path(), &[])), fresh, "recalled");
    // The verdict is remembered per option: warnings denied, the same check fails.
    assert_eq!(run(memos.path(), &["--deny-warnings"]).status.code(), Some(1));
    assert_eq!(run(memos.path(), &["--deny-warnings"]).status.code(), Some(1));
    // An error written into the description is found, not recalled away.
    let root = src.path().join("homelab.kdl");
    let text = std::fs::read_to_string(&root).expect("readable");
    std::fs::write(&root, format!("{text}\nfrobnicate \"x\"\n")).expect("writable");
    let broken = run(memos.path(), &[]);
    assert_eq!(broken.status.code(), Some(1), "{}", String::from_utf8_lossy(&broken.stderr));
    std::fs::write(&root, text).expect("writable");
    assert_eq!(said(&run(memos.path(), &[])), fresh);
}
