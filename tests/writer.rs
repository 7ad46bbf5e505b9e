//! The writer as a user meets it: `homelabc build` killed at every step of a
//! write leaves the old tree or the new one, a rebuild keeps the very files it
//! leaves unchanged (linked, not rewritten), builds into one folder take
//! turns, the output never replaces the description, and a write flushes a
//! constant number of times whatever the size of the tree.

mod common;

use common::MEMOS;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use homelabc::host::FsHost;
use homelabc::output::{self, OutputTree, WriteOptions};

/// A description of `apps` apps (about seven files each in the tree), with `tag` as every image tag.
fn description(apps: usize, tag: &str) -> String {
    let mut text = common::ONE_CLUSTER.to_string();
    text.push_str(
        r#"node "n1" role="server" {
    address "10.0.0.2" network="lan"
    cpu 64; memory "256Gi"; disk "1Ti"
}
node "n2" role="agent" {
    address "10.0.0.3" network="lan"
    cpu 64; memory "256Gi"; disk "1Ti"
}
"#,
    );
    for i in 0..apps {
        text.push_str(&format!(
            r#"app "app-{i}" namespace="ns-{ns}" {{
    image "me/app-{i}" tag="{tag}"
    replicas 2
    port "http" 8080
    service {{ expose "http" 80 }}
    resources cpu="10m" memory="16Mi" cpu-limit="20m" memory-limit="32Mi"
}}
"#,
            ns = i % 4
        ));
    }
    text
}

/// [`description`] with every tag `1.0.0` but app `changed`'s, `2.0.0`.
fn one_tag_changed(apps: usize, changed: usize) -> String {
    let old = format!("image \"me/app-{changed}\" tag=\"1.0.0\"");
    let text = description(apps, "1.0.0");
    assert!(text.contains(&old));
    text.replace(&old, &format!("image \"me/app-{changed}\" tag=\"2.0.0\""))
}

/// A folder holding a description.
fn project(apps: usize, tag: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("homelab.kdl"), description(apps, tag)).unwrap();
    dir
}

fn homelabc(args: &[&str]) -> Output {
    common::homelabc(Path::new("."), args)
}

/// The tree a description compiles to.
fn compiled(dir: &Path) -> OutputTree {
    let built = homelabc::driver::build(&FsHost::new(dir), "homelab.kdl");
    built.tree.expect("no errors").expect("laid out")
}

/// The names in a folder, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// Builds `src` with the writer paused at `stage` (`HOMELABC_TEST_PAUSE`),
/// and returns the running build once it says so in `marker`.
fn paused_build(src: &Path, stage: &str, marker: &Path) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_homelabc"))
        .args(["build", src.to_str().unwrap(), "-q"])
        .env("HOMELABC_CACHE_DIR", MEMOS)
        .env("HOMELABC_TEST_PAUSE", format!("{stage}:{}", marker.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !marker.exists() {
        assert!(started.elapsed() < Duration::from_secs(120), "{stage}: the build never paused");
        assert!(child.try_wait().unwrap().is_none(), "{stage}: the build ended without pausing");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn a_build_killed_at_any_step_leaves_the_old_tree_or_the_new_one() {
    for stage in ["mid-write", "before-swap", "after-swap"] {
        let src = project(64, "1.0.0");
        let out = src.path().join("deploy");
        let src_path = src.path().to_str().unwrap();
        assert!(homelabc(&["build", src_path, "-q"]).status.success());
        let old = compiled(src.path());
        fs::write(src.path().join("homelab.kdl"), description(64, "2.0.0")).unwrap();
        let new = compiled(src.path());
        // The build stops at the stage, says so in the marker, and is killed there.
        let marker = src.path().join("paused");
        let mut child = paused_build(src.path(), stage, &marker);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let on_disk = output::read_tree(&out).unwrap();
        let expected = if stage == "after-swap" { &new } else { &old };
        assert!(on_disk == *expected, "{stage}: DIR holds neither whole tree it should");
        assert!(names(src.path()).len() > 3, "{stage}: the killed write left its sibling folder");
        // The next build finishes the job and clears what the killed one left.
        fs::remove_file(&marker).unwrap();
        let rebuilt = homelabc(&["build", src_path, "-q"]);
        assert!(rebuilt.status.success(), "{stage}: {}", String::from_utf8_lossy(&rebuilt.stderr));
        assert!(output::read_tree(&out).unwrap() == new, "{stage}");
        assert_eq!(names(src.path()), ["deploy", "homelab.kdl"], "{stage}");
    }
}

#[test]
fn a_64_app_build_flushes_a_constant_number_of_times() {
    let mut counts = Vec::new();
    for apps in [4, 64] {
        let src = project(apps, "1.0.0");
        let tree = compiled(src.path());
        let before = output::flushes_on_this_thread();
        output::write(&src.path().join("deploy"), &tree, &WriteOptions::default()).unwrap();
        counts.push((tree.len(), output::flushes_on_this_thread() - before));
    }
    assert!(counts[1].0 > 400, "{counts:?}");
    if cfg!(target_os = "linux") {
        // One syncfs of the new tree, one fsync of the parent after the swap.
        assert_eq!([counts[0].1, counts[1].1], [2, 2], "{counts:?}");
    }
}

/// The modes of everything below `dir` that are not `want_file` (files) or
/// `want_dir` (folders, `dir` itself included).
#[cfg(target_os = "linux")]
fn odd_modes(dir: &Path, want_file: u32, want_dir: u32) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut odd = Vec::new();
    for entry in walkdir::WalkDir::new(dir) {
        let entry = entry.unwrap();
        let mode = entry.metadata().unwrap().permissions().mode() & 0o7777;
        let want = if entry.file_type().is_dir() { want_dir } else { want_file };
        if mode != want {
            odd.push(format!("{} {mode:o}", entry.path().display()));
        }
    }
    odd
}

#[test]
#[cfg(target_os = "linux")]
fn every_file_and_folder_has_its_fixed_mode_whatever_the_umask() {
    use std::os::unix::process::CommandExt;
    // 077 takes bits the writer wants (it sets them again after creating);
    // 002 and 022 take none (the modes asked at creation are kept as they are).
    for mask in [0o077, 0o002, 0o022] {
        let src = project(4, "1.0.0");
        let out = src.path().join("deploy");
        let mut build = Command::new(env!("CARGO_BIN_EXE_homelabc"));
        build.args(["build", src.path().to_str().unwrap(), "-q"]).env("HOMELABC_CACHE_DIR", MEMOS);
        // SAFETY: `umask` is async-signal-safe; it runs in the child before exec.
        unsafe {
            build.pre_exec(move || {
                libc::umask(mask);
                Ok(())
            });
        }
        let status = build.status().unwrap();
        assert!(status.success(), "umask {mask:o}: {status}");
        assert!(walkdir::WalkDir::new(&out).into_iter().count() > 10, "umask {mask:o}: a tree is written");
        assert_eq!(odd_modes(&out, 0o644, 0o755), Vec::<String>::new(), "umask {mask:o}");
    }
}

#[test]
fn the_output_folder_is_never_the_description_even_with_force() {
    let src = project(2, "1.0.0");
    let src_path = src.path().to_str().unwrap();
    fs::write(src.path().join("db.sops.yaml"), "kept: true\n").unwrap();
    for args in [vec!["build", src_path, "-o", src_path, "--force"], vec!["build", src_path, "-o", src_path]] {
        let out = homelabc(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("which the description reads") && !stderr.contains("pass --force"), "{stderr}");
    }
    // `-o ..`: the output would hold the description's folder.
    let parent = src.path().join("..").join(src.path().file_name().unwrap());
    let out = homelabc(&["build", src_path, "-o", parent.to_str().unwrap(), "--force"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(fs::read_to_string(src.path().join("db.sops.yaml")).unwrap(), "kept: true\n");
    assert_eq!(fs::read_to_string(src.path().join("homelab.kdl")).unwrap(), description(2, "1.0.0"));
}

#[test]
fn concurrent_builds_into_one_folder_end_with_one_whole_tree() {
    let a = project(16, "1.0.0");
    let b = project(24, "2.0.0");
    let out = tempfile::tempdir().unwrap();
    let dir: PathBuf = out.path().join("deploy");
    let (tree_a, tree_b) = (compiled(a.path()), compiled(b.path()));
    for round in 0..8 {
        let spawn = |src: &Path| {
            Command::new(env!("CARGO_BIN_EXE_homelabc"))
                .args(["build", src.to_str().unwrap(), "-o", dir.to_str().unwrap(), "-q"])
                .env("HOMELABC_CACHE_DIR", MEMOS)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (first, second) = (spawn(a.path()), spawn(b.path()));
        for child in [first, second] {
            let result = child.wait_with_output().unwrap();
            assert!(result.status.success(), "round {round}: {}", String::from_utf8_lossy(&result.stderr));
        }
        let on_disk = output::read_tree(&dir).unwrap();
        assert!(on_disk == tree_a || on_disk == tree_b, "round {round}: a mix of two trees");
        assert_eq!(names(out.path()), ["deploy"], "round {round}");
    }
}

/// The inode of every file of `tree` in `dir`, and how many names it has.
#[cfg(unix)]
fn inodes(dir: &Path, tree: &OutputTree) -> BTreeMap<String, (u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let inode = |path: &str| {
        let meta = fs::symlink_metadata(dir.join(path)).unwrap();
        (meta.ino(), meta.nlink())
    };
    tree.files().map(|(path, _)| (path.to_string(), inode(path))).collect()
}

/// A 64-app project built once into `out`, then one app's tag changed in
/// its description: the trees before and after, and DIR's inodes before.
#[cfg(unix)]
struct OneAppChanged {
    src: tempfile::TempDir,
    out: PathBuf,
    old: OutputTree,
    new: OutputTree,
    before: BTreeMap<String, (u64, u64)>,
}

#[cfg(unix)]
fn one_app_changed() -> OneAppChanged {
    let src = project(64, "1.0.0");
    let out = src.path().join("deploy");
    assert!(homelabc(&["build", src.path().to_str().unwrap(), "-q"]).status.success());
    let old = compiled(src.path());
    let before = inodes(&out, &old);
    fs::write(src.path().join("homelab.kdl"), one_tag_changed(64, 7)).unwrap();
    let new = compiled(src.path());
    OneAppChanged { src, out, old, new, before }
}

#[cfg(unix)]
#[test]
fn a_rebuild_keeps_the_files_it_leaves_unchanged_and_writes_the_rest() {
    let OneAppChanged { src, out, old, new, before } = one_app_changed();
    let src_path = src.path().to_str().unwrap();
    let built = homelabc(&["build", src_path, "-q"]);
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    assert!(output::read_tree(&out).unwrap() == new);
    let after = inodes(&out, &new);
    let (mut kept, mut changed) = (0, Vec::new());
    for (path, contents) in new.files() {
        if old.get(path) == Some(contents) {
            // The very file DIR held, and its only name: the old tree is gone.
            assert_eq!(after[path], (before[path].0, 1), "{path} is unchanged");
            kept += 1;
        } else {
            assert_ne!(Some(after[path].0), before.get(path).map(|b| b.0), "{path} changed");
            changed.push(path);
        }
    }
    assert!(changed.iter().any(|p| p.contains("app-7")) && changed.contains(&"homelab.lock"), "{changed:?}");
    assert!(kept > 400 && changed.len() < 10, "{kept} kept, {changed:?} changed");
    assert_eq!(names(src.path()), ["deploy", "homelab.kdl"]);
}

#[cfg(unix)]
#[test]
fn a_rebuild_of_one_app_killed_before_its_swap_leaves_the_old_tree_untouched() {
    for stage in ["mid-write", "before-swap"] {
        let OneAppChanged { src, out, old, new, before } = one_app_changed();
        let src_path = src.path().to_str().unwrap();
        let marker = src.path().join("paused");
        let mut child = paused_build(src.path(), stage, &marker);
        // The unchanged files written so far are DIR's own, with a second name
        // in the new tree's folder.
        let linked = inodes(&out, &old).values().filter(|(_, names)| *names == 2).count();
        assert!(linked > 100, "{stage}: {linked} files linked");
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert!(output::read_tree(&out).unwrap() == old, "{stage}: DIR is not the old tree byte for byte");
        let same_files = inodes(&out, &old).into_iter().all(|(path, (ino, _))| ino == before[&path].0);
        assert!(same_files, "{stage}: DIR's files were replaced");
        fs::remove_file(&marker).unwrap();
        let rebuilt = homelabc(&["build", src_path, "-q"]);
        assert!(rebuilt.status.success(), "{stage}: {}", String::from_utf8_lossy(&rebuilt.stderr));
        assert!(output::read_tree(&out).unwrap() == new, "{stage}");
        assert!(inodes(&out, &new).values().all(|(_, names)| *names == 1), "{stage}: the killed tree is gone");
        assert_eq!(names(src.path()), ["deploy", "homelab.kdl"], "{stage}");
    }
}
