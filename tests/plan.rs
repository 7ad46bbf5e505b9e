//! `homelabc plan` and the data-loss guard of `build`, as a user runs them:
//! before/after fixtures (tag bump, app removed, volume removed, chart version
//! bumped) with their plans as snapshots, the exit codes, and `--against` in a
//! temporary git repository.

mod common;

use common::{homelabc, stdout};

use std::path::Path;
use std::process::{Command, Output};

/// A small homelab: a web app, a database app on a volume, a chart.
const BEFORE: &str = r#"homelab "lab"

cluster "lab" distribution="k3s" version="v1.33.6+k3s1"

node "n1" role="server" {
    address "10.0.0.2"
    arch "amd64"
    cpu 4; memory "8Gi"; disk "50Gi"
}

registry "local" address="10.0.0.2:30500" {
    insecure #true
}

app "web" namespace="demo" {
    image "web" registry="local" tag="sha-1111111"
    port "http" 8080
    resources cpu="10m" memory="16Mi" cpu-limit="100m" memory-limit="32Mi"
}

app "db" namespace="demo" {
    image "db" registry="local" tag="1.0.0"
    port "sql" 5432
    resources cpu="10m" memory="16Mi" cpu-limit="100m" memory-limit="32Mi"
    volume "data" mount="/data" size="1Gi"
}

chart "cache" namespace="demo" repo="https://charts.example.com/stable" chart="cache" version="1.0.0"
"#;

/// A folder with `homelab.kdl` = `text`, built once.
fn built(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("homelab.kdl"), text).expect("write");
    let out = homelabc(dir.path(), &["build", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    dir
}

/// The plan after replacing the description with `after`.
fn plan_after(after: &str, extra: &[&str]) -> (Output, tempfile::TempDir) {
    let dir = built(BEFORE);
    std::fs::write(dir.path().join("homelab.kdl"), after).expect("write");
    let mut args = vec!["plan", "-q", "--detailed-exitcode"];
    args.extend_from_slice(extra);
    (homelabc(dir.path(), &args), dir)
}

#[test]
fn no_change_is_exit_0_with_detailed_exitcode() {
    let dir = built(BEFORE);
    let out = homelabc(dir.path(), &["plan", "-q", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "No changes. The tree is up to date.\n");
}

#[test]
fn a_tag_bump() {
    let (out, _dir) = plan_after(&BEFORE.replace("sha-1111111", "sha-2222222"), &[]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("tag-bump", stdout(&out));
}

#[test]
fn an_app_removed() {
    let after = BEFORE.replace(
        "app \"web\" namespace=\"demo\" {\n    image \"web\" registry=\"local\" tag=\"sha-1111111\"\n    port \"http\" 8080\n    resources cpu=\"10m\" memory=\"16Mi\" cpu-limit=\"100m\" memory-limit=\"32Mi\"\n}\n",
        "",
    );
    let (out, _dir) = plan_after(&after, &[]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("app-removed", stdout(&out));
}

#[test]
fn a_volume_removed_is_data_loss_and_build_refuses_it() {
    let after = BEFORE.replace("    volume \"data\" mount=\"/data\" size=\"1Gi\"\n", "");
    let (out, dir) = plan_after(&after, &[]);
    assert_eq!(out.status.code(), Some(2));
    let text = stdout(&out);
    assert!(text.contains("! data loss: "), "{text}");
    insta::assert_snapshot!("volume-removed", text);
    // build refuses, and leaves the tree as it was.
    let lock = std::fs::read(dir.path().join("deploy/homelab.lock")).expect("lock");
    let refused = homelabc(dir.path(), &["build", "-q"]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--allow-destroy db"), "{stderr}");
    assert_eq!(std::fs::read(dir.path().join("deploy/homelab.lock")).expect("lock"), lock);
    assert!(dir.path().join("deploy/apps/demo/db/statefulset-db.yaml").exists());
    // Naming another declaration does not help; naming this one does.
    assert_eq!(homelabc(dir.path(), &["build", "-q", "--allow-destroy", "web"]).status.code(), Some(1));
    assert_eq!(homelabc(dir.path(), &["build", "-q", "--allow-destroy", "db"]).status.code(), Some(0));
    assert!(dir.path().join("deploy/apps/demo/db/deployment-db.yaml").exists());
}

#[test]
fn a_chart_version_bumped() {
    let (out, _dir) = plan_after(&BEFORE.replace("version=\"1.0.0\"\n", "version=\"1.1.0\"\n"), &[]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("chart-bumped", stdout(&out));
}

#[test]
fn json_and_markdown_formats() {
    let after = BEFORE.replace("sha-1111111", "sha-2222222");
    let (json, _dir) = plan_after(&after, &["--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(value["summary"], serde_json::json!({"add": 0, "change": 1, "destroy": 0}));
    let (markdown, _dir) = plan_after(&after, &["--format", "markdown"]);
    let text = stdout(&markdown);
    assert!(text.starts_with("### homelabc plan\n\n**Plan: 0 to add, 1 to change, 0 to destroy.**"), "{text}");
    assert!(text.contains("```diff\n~ Deployment demo/web (apps/v1)\n"), "{text}");
}

#[test]
fn exit_codes() {
    let dir = built(BEFORE);
    // Changes without --detailed-exitcode are a success.
    std::fs::write(dir.path().join("homelab.kdl"), BEFORE.replace("sha-1111111", "sha-3333333")).expect("write");
    assert_eq!(homelabc(dir.path(), &["plan", "-q"]).status.code(), Some(0));
    // An input error is 1, with or without --detailed-exitcode.
    std::fs::write(dir.path().join("homelab.kdl"), BEFORE.replace("registry=\"local\"", "registry=\"nope\""))
        .expect("write");
    assert_eq!(homelabc(dir.path(), &["plan", "-q", "--detailed-exitcode"]).status.code(), Some(1));
    assert_eq!(homelabc(dir.path(), &["plan", "-q"]).status.code(), Some(1));
    // Usage and I/O errors are 3.
    assert_eq!(homelabc(dir.path(), &["plan", "--format", "yaml"]).status.code(), Some(3));
    assert_eq!(homelabc(dir.path(), &["plan", "/nonexistent/homelab"]).status.code(), Some(3));
    std::fs::write(dir.path().join("homelab.kdl"), BEFORE).expect("write");
    assert_eq!(
        homelabc(dir.path(), &["plan", "-q", "--against", "HEAD"]).status.code(),
        Some(3),
        "not a git repository"
    );
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn against_a_git_ref_reads_the_tree_from_git_and_leaves_the_working_tree_alone() {
    let dir = built(BEFORE);
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "v1"]);
    // The working tree moves on: a tag bump, built and committed.
    std::fs::write(dir.path().join("homelab.kdl"), BEFORE.replace("sha-1111111", "sha-2222222")).expect("write");
    assert_eq!(homelabc(dir.path(), &["build", "-q"]).status.code(), Some(0));
    git(dir.path(), &["commit", "-q", "-am", "v2"]);
    // Against the working tree nothing changes; against the first commit the tag does.
    assert_eq!(homelabc(dir.path(), &["plan", "-q", "--detailed-exitcode"]).status.code(), Some(0));
    let out = homelabc(dir.path(), &["plan", "-q", "--detailed-exitcode", "--against", "HEAD~1"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    assert!(text.contains("\"web:sha-1111111\"") || text.contains("sha-1111111"), "{text}");
    assert!(text.ends_with("Plan: 0 to add, 1 to change, 0 to destroy.\n"), "{text}");
    // Nothing in the working tree was touched.
    let status = Command::new("git").args(["status", "--porcelain"]).current_dir(dir.path()).output().expect("git");
    assert!(status.stdout.is_empty(), "{}", String::from_utf8_lossy(&status.stdout));
    // An unknown ref is an error of its own.
    assert_eq!(homelabc(dir.path(), &["plan", "-q", "--against", "no-such-ref"]).status.code(), Some(3));
}

/// Two clusters hold objects of one identity: the plan tells them apart by
/// cluster, and a change in one is a change of that cluster's object only.
#[test]
fn objects_of_two_clusters_are_planned_apart() {
    let dir = common::copy_of("staging-production");
    let out = homelabc(dir.path(), &["build", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let lock = std::fs::read_to_string(dir.path().join("deploy/homelab.lock")).expect("lock");
    assert!(lock.contains("\nclusters: production staging\n"), "{lock}");
    let apps = dir.path().join("apps/recipes.kdl");
    let text = std::fs::read_to_string(&apps).expect("read");
    std::fs::write(&apps, text.replace("tag=\"2.4.0-rc.1\"", "tag=\"2.4.0-rc.2\"")).expect("write");
    let out = homelabc(dir.path(), &["plan", "-q", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let plan = stdout(&out);
    assert!(plan.contains("Deployment food/recipes (apps/v1) in cluster staging"), "{plan}");
    assert!(!plan.contains("in cluster production"), "{plan}");
    assert!(plan.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{plan}");
}

/// A homelab with a shared claim and a Deployment whose own claim is backed up.
const STORAGE: &str = r#"homelab "lab"

cluster "lab" distribution="k3s" version="v1.33.6+k3s1"

node "n1" role="server" {
    address "10.0.0.2"
    cpu 4; memory "8Gi"; disk "50Gi"
}

backup "nightly" repository="s3:https://s3.lan/restic" secret="restic" schedule="0 3 * * *" keep-daily=7
secret "restic" namespace="docs" from="existing"

claim "shared" namespace="docs" size="5Gi" backup="nightly"

app "wiki" namespace="docs" kind="deployment" {
    image "wiki" tag="1.0.0"
    port "http" 3000
    resources cpu="10m" memory="16Mi" cpu-limit="100m" memory-limit="32Mi"
    volume "files" mount="/files" claim="shared"
}
"#;

#[test]
fn a_volume_whose_backup_is_removed_shows_in_the_plan_and_a_removed_claim_is_data_loss() {
    let dir = built(STORAGE);
    let unbacked =
        STORAGE.replace(" backup=\"nightly\"\n", "\n").replace("backup \"nightly\"", "// backup \"nightly\"");
    std::fs::write(dir.path().join("homelab.kdl"), &unbacked).expect("write");
    let out = homelabc(dir.path(), &["plan", "-q", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    assert!(text.contains("- ReplicationSource docs/shared (volsync.backube/v1alpha1)"), "{text}");
    // The claim keeps its data; VolSync goes with the last backup (its namespace is flagged).
    assert!(!text.contains("claim `shared`"), "{text}");
    assert!(text.contains("- HelmChart kube-system/volsync"), "{text}");
    // The claim itself goes: its volume with it.
    let gone = STORAGE.replace("claim \"shared\" namespace=\"docs\" size=\"5Gi\" backup=\"nightly\"\n", "").replace(
        "    volume \"files\" mount=\"/files\" claim=\"shared\"\n",
        "    volume \"files\" mount=\"/files\" size=\"5Gi\" backup=\"nightly\"\n",
    );
    std::fs::write(dir.path().join("homelab.kdl"), &gone).expect("write");
    let text = stdout(&homelabc(dir.path(), &["plan", "-q"]));
    assert!(text.contains("! data loss: the volume of claim `shared`"), "{text}");
    assert!(text.contains("--allow-destroy shared"), "{text}");
    assert_eq!(homelabc(dir.path(), &["build", "-q"]).status.code(), Some(1));
    assert_eq!(homelabc(dir.path(), &["build", "-q", "--allow-destroy", "shared"]).status.code(), Some(0));
}

/// A Talos cluster's talconfig.yaml is planned field by field, its nodes
/// matched by hostname: a worker added and another's install disk changed
/// read as those two changes, not as a new list of nodes.
#[test]
fn talconfig_changes_name_the_nodes() {
    let dir = common::copy_of("talos-home");
    let out = homelabc(dir.path(), &["build", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let root = dir.path().join("homelab.kdl");
    let text = std::fs::read_to_string(&root).expect("read");
    let second = "node \"worker-2\" role=\"worker\" {\n    address \"192.168.10.22\" network=\"lan\"\n    install-disk \"/dev/sda\"\n}\n";
    let after =
        text.replace("install-disk \"/dev/sda\"\n    interface", "install-disk \"/dev/sdb\"\n    interface") + second;
    std::fs::write(&root, after).expect("write");
    let out = homelabc(dir.path(), &["plan", "-q", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    insta::assert_snapshot!("talconfig-changed", stdout(&out));
}
