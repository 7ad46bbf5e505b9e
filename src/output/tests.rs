//! Tests of the output tree: paths, the lock, and the guarantees of `write`
//! (atomic swap, stray files, links, nothing written when nothing changed).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;

/// A small sealed tree: a README and one object.
fn sample() -> OutputTree {
    let mut tree = OutputTree::new();
    tree.insert("README.md", "# homelab\n").unwrap();
    tree.insert("apps/web/namespace-web.yaml", "kind: Namespace\n").unwrap();
    tree.seal("0.1.0")
}

/// A sealed tree from (path, contents) pairs.
fn tree_of(files: &[(&str, &str)]) -> OutputTree {
    let mut tree = OutputTree::new();
    for (path, contents) in files {
        tree.insert(path, *contents).unwrap();
    }
    tree.seal("0.1.0")
}

/// Every file and folder below `dir` (itself included), with its mtime.
fn mtimes(dir: &Path) -> BTreeMap<PathBuf, SystemTime> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let meta = fs::symlink_metadata(&path).unwrap();
        out.insert(path.clone(), meta.modified().unwrap());
        if meta.is_dir() {
            stack.extend(fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        }
    }
    out
}

/// The names in a folder, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

fn written(added: &[&str], changed: &[&str], removed: &[&str]) -> WriteOutcome {
    let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
    WriteOutcome::Written { added: own(added), changed: own(changed), removed: own(removed), leftover: None }
}

#[test]
fn lock_text_and_digest_are_stable() {
    let tree = sample();
    let expected = "\
# homelab.lock — written by homelabc; every file below is owned by it.
compiler: homelabc 0.1.0
tree: sha256:3d03a178f4480ff0ab441eb5be1712ea66c7ac18c422d2e47634e1e4227e390b
digests: sha256 of each file, in base64
files:
  README.md: G9BgTT9SDtLGB/pwjiAiinfgVsttvlsAFoQhKPOgiSQ=
  apps/web/:
    namespace-web.yaml: 4lIJtubB94K3gTKwCLR13habkVNUDy1ZpS1MDkTRVXE=
";
    assert_eq!(std::str::from_utf8(tree.get(LOCK_FILE).unwrap()).unwrap(), expected);
    assert_eq!(tree.digest(), "sha256:3d03a178f4480ff0ab441eb5be1712ea66c7ac18c422d2e47634e1e4227e390b");
    assert_eq!(tree.len(), 3);
    // Sealing again replaces the lock with the same text; the digest ignores the lock.
    assert_eq!(tree.clone().seal("0.1.0"), tree);
    assert_ne!(tree.clone().seal("0.2.0").get(LOCK_FILE), tree.get(LOCK_FILE));
    assert_eq!(OutputTree::new().seal("0.1.0").get(LOCK_FILE).map(|b| b.ends_with(b"files: {}\n")), Some(true));
}

#[test]
fn insert_refuses_bad_paths() {
    let mut tree = OutputTree::new();
    tree.insert("a/b.yaml", "x").unwrap();
    let problem = |tree: &mut OutputTree, path: &str| tree.insert(path, "y").unwrap_err().problem;
    assert_eq!(problem(&mut tree, "../x"), PathProblem::DotSegment);
    assert_eq!(problem(&mut tree, "a/../x"), PathProblem::DotSegment);
    assert_eq!(problem(&mut tree, "a/./b"), PathProblem::DotSegment);
    assert_eq!(problem(&mut tree, "/abs"), PathProblem::Absolute);
    assert_eq!(problem(&mut tree, "a//b"), PathProblem::EmptySegment);
    assert_eq!(problem(&mut tree, "a/"), PathProblem::EmptySegment);
    assert_eq!(problem(&mut tree, ""), PathProblem::Empty);
    assert_eq!(problem(&mut tree, "a\\b"), PathProblem::Backslash);
    assert_eq!(problem(&mut tree, "a\0b"), PathProblem::ControlCharacter);
    assert_eq!(problem(&mut tree, "a\nb"), PathProblem::ControlCharacter);
    assert_eq!(problem(&mut tree, ".."), PathProblem::DotSegment);
    assert_eq!(problem(&mut tree, "a/.."), PathProblem::DotSegment);
    assert_eq!(problem(&mut tree, "./a"), PathProblem::DotSegment);
    // A backslash, then a control character, is said before a segment.
    assert_eq!(problem(&mut tree, "a//b\\c/\0"), PathProblem::Backslash);
    assert_eq!(problem(&mut tree, "../\u{85}"), PathProblem::ControlCharacter);
    for sound in ["...", ".a/..b/c..", "é/ü.yaml"] {
        OutputTree::new().insert(sound, "s").unwrap();
    }
    assert_eq!(problem(&mut tree, LOCK_FILE), PathProblem::Reserved);
    assert_eq!(problem(&mut tree, "a/b.yaml"), PathProblem::Duplicate);
    assert_eq!(problem(&mut tree, "a"), PathProblem::Clash { other: "a/b.yaml".into() });
    assert_eq!(problem(&mut tree, "a/b.yaml/c"), PathProblem::Clash { other: "a/b.yaml".into() });
    // `a.yaml` and `a/` are different names; refused inserts left nothing behind.
    tree.insert("a.yaml", "z").unwrap();
    assert_eq!(tree.files().map(|(p, _)| p).collect::<Vec<_>>(), ["a.yaml", "a/b.yaml"]);
    assert_eq!(tree.get("a/b.yaml"), Some(&b"x"[..]));
    let message = tree.insert("../x", "").unwrap_err().to_string();
    assert_eq!(message, "invalid output path `../x`: it has a `.` or `..` segment");
}

/// Every file is listed once under its folder, with its digest, however its
/// folder's files and subfolders interleave in path order, and whichever of
/// its folder and name needs quoting.
#[test]
fn the_lock_lists_each_file_under_its_folder() {
    let paths = [
        "a/b.yaml",
        "a/b/x.yaml",
        "a/b/y/z.yaml",
        "a/c.yaml",
        "a.yaml",
        "-lead/x.yaml",
        "a b/c d/e.yaml",
        "é/ü.yaml",
        "x/#y.yaml",
        "q\"uote/f.yaml",
        "top.md",
        "z/-f",
        "z/g",
    ];
    let tree = tree_of(&paths.iter().map(|p| (*p, *p)).collect::<Vec<_>>());
    let lock = tree.get(LOCK_FILE).unwrap();
    let listed = parse_lock_hashes(lock).expect("a lock");
    let expected: BTreeMap<String, FileDigest> =
        paths.iter().map(|p| (p.to_string(), Sha256::digest(p.as_bytes()).into())).collect();
    assert_eq!(listed, expected, "{}", String::from_utf8_lossy(lock));
    let text = std::str::from_utf8(lock).unwrap();
    assert_eq!(text.matches("\n  a/:\n").count(), 1, "{text}");
    assert!(text.contains("\n  a/:\n    b.yaml: ") && text.contains("\n  \"-lead/\":\n    x.yaml: "), "{text}");
}

#[test]
fn read_lock_lists_the_files_and_refuses_garbage() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(read_lock(tmp.path()).unwrap(), None);
    let tree = tree_of(&[("my notes.md", "n\n"), ("a/b.yaml", "b\n"), ("-x", "x"), ("odd: dir/c.yaml", "c")]);
    let lock = std::str::from_utf8(tree.get(LOCK_FILE).unwrap()).unwrap();
    assert!(lock.contains("\n  \"my notes.md\": "), "{lock}");
    assert!(lock.contains("\n  \"odd: dir/\":\n    c.yaml: "), "{lock}");
    fs::write(tmp.path().join(LOCK_FILE), lock).unwrap();
    let listed = read_lock(tmp.path()).unwrap().unwrap();
    assert_eq!(listed.into_iter().collect::<Vec<_>>(), ["-x", "a/b.yaml", "my notes.md", "odd: dir/c.yaml"]);
    let digest = lock.lines().find_map(|l| l.strip_prefix("    b.yaml: ")).unwrap();
    for garbage in [
        "",
        "hello",
        "files:\n  ../x: sha256:00\n",
        "files:\nzzz\n",
        &format!("files:\n  ../x: {digest}\n"),
        // A file of no folder, a folder not ending in `/`, a name with a `/`.
        &format!("files:\n    b.yaml: {digest}\n"),
        &format!("files:\n  a:\n    b.yaml: {digest}\n"),
        &format!("files:\n  a/:\n    b/c.yaml: {digest}\n"),
        &format!("files:\n  /:\n    b.yaml: {digest}\n"),
        // A file listed twice, by its folder and by its path.
        &format!("files:\n  a/:\n    b.yaml: {digest}\n  a/b.yaml: {digest}\n"),
        // Digests that are not 32 bytes of base64, or are not hex after `sha256:`.
        &lock.replace(digest, &digest[4..]),
        &lock.replace(digest, &digest.replace('=', "A")),
        &lock.replace(digest, &format!("{}!", &digest[..43])),
        &format!("files:\n  a/b.yaml: sha256:{}\n", "AB".repeat(32)),
        &format!("files:\n  a/b.yaml: md5:{}\n", "ab".repeat(32)),
    ] {
        fs::write(tmp.path().join(LOCK_FILE), garbage).unwrap();
        assert_eq!(read_lock(tmp.path()).unwrap(), None, "{garbage:?}");
    }
}

#[test]
fn a_folder_is_listed_once_whatever_sorts_between_its_files() {
    // `a/b.yaml` < `a/b/c.yaml` < `a/c.yaml` by bytes: `a/`'s files are not
    // next to each other in path order, and the lock still lists `a/` once.
    let tree = tree_of(&[("a/b.yaml", "1"), ("a/b/c.yaml", "2"), ("a/c.yaml", "3"), ("z.md", "4")]);
    let lock = std::str::from_utf8(tree.get(LOCK_FILE).unwrap()).unwrap();
    let files = lock.split_once("files:\n").unwrap().1;
    let keys: Vec<&str> = files.lines().map(|l| l.split_once(':').unwrap().0).collect();
    assert_eq!(keys, ["  z.md", "  a/", "    b.yaml", "    c.yaml", "  a/b/", "    c.yaml"]);
    let hashes = parse_lock_hashes(lock.as_bytes()).unwrap();
    assert_eq!(hashes.keys().collect::<Vec<_>>(), ["a/b.yaml", "a/b/c.yaml", "a/c.yaml", "z.md"]);
    assert_eq!(hashes["a/b/c.yaml"], <[u8; 32]>::from(Sha256::digest(b"2")));
}

#[test]
fn a_lock_that_lists_whole_paths_in_hex_is_still_read() {
    // The lock homelabc wrote before it listed files by folder: a tree it
    // wrote is still owned (an upgrade rewrites it rather than refusing it).
    let old = "\
# homelab.lock — written by homelabc; every file below is owned by it.
compiler: homelabc 0.1.0
tree: sha256:3d03a178f4480ff0ab441eb5be1712ea66c7ac18c422d2e47634e1e4227e390b
files:
  README.md: sha256:1bd0604d3f520ed2c607fa708e20228a77e056cb6dbe5b0016842128f3a08924
  apps/web/namespace-web.yaml: sha256:e25209b6e6c1f782b78132b008b475de169b9153540f2d59a52d4c0e44d15571
";
    let tree = sample();
    let new = parse_lock_hashes(tree.get(LOCK_FILE).unwrap()).unwrap();
    assert_eq!(parse_lock_hashes(old.as_bytes()).unwrap(), new);
    assert_eq!(new["README.md"], <[u8; 32]>::from(Sha256::digest(b"# homelab\n")));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    fs::create_dir_all(dir.join("apps/web")).unwrap();
    fs::write(dir.join("README.md"), "# homelab\n").unwrap();
    fs::write(dir.join("apps/web/namespace-web.yaml"), "kind: Namespace\n").unwrap();
    fs::write(dir.join(LOCK_FILE), old).unwrap();
    assert_eq!(write(&dir, &tree, &WriteOptions::default()).unwrap(), written(&[], &[LOCK_FILE], &[]));
    assert_eq!(read_tree(&dir).unwrap(), tree);
}

#[test]
fn a_fresh_write_creates_everything_with_fixed_modes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("deep/er/out");
    let tree = sample();
    let outcome = write(&dir, &tree, &WriteOptions::default()).unwrap();
    assert_eq!(outcome, written(&["README.md", "apps/web/namespace-web.yaml", LOCK_FILE], &[], &[]));
    assert_eq!(read_tree(&dir).unwrap(), tree);
    assert_eq!(read_lock(&dir).unwrap().unwrap().len(), 2);
    assert_eq!(names(&tmp.path().join("deep/er")), ["out"], "no temporary folder is left");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&dir), 0o755);
        assert_eq!(mode(&dir.join("apps/web")), 0o755);
        assert_eq!(mode(&dir.join("README.md")), 0o644);
        assert_eq!(mode(&dir.join(LOCK_FILE)), 0o644);
    }
}

#[test]
fn a_rebuild_of_the_same_tree_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    write(&dir, &sample(), &WriteOptions::default()).unwrap();
    // Put every time far in the past, so that any rewrite would show.
    let past = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    for path in mtimes(&dir).keys() {
        fs::File::open(path).unwrap().set_modified(past).unwrap();
    }
    let before = mtimes(&dir);
    assert!(before.values().all(|t| *t == past));
    assert_eq!(write(&dir, &sample(), &WriteOptions::default()).unwrap(), WriteOutcome::Unchanged);
    assert_eq!(mtimes(&dir), before);
}

#[test]
fn a_changed_tree_reports_and_removes_what_went() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let old = tree_of(&[("a.yaml", "a"), ("b/c.yaml", "c1"), ("d.yaml", "d"), ("gone/x.yaml", "x")]);
    write(&dir, &old, &WriteOptions::default()).unwrap();
    let new = tree_of(&[("a.yaml", "a"), ("b/c.yaml", "c2"), ("e/f.yaml", "f")]);
    let outcome = write(&dir, &new, &WriteOptions::default()).unwrap();
    assert_eq!(outcome, written(&["e/f.yaml"], &["b/c.yaml", LOCK_FILE], &["d.yaml", "gone/x.yaml"]));
    assert_eq!(read_tree(&dir).unwrap(), new);
    assert!(!dir.join("gone").exists(), "folders of removed files go too");
    assert_eq!(names(tmp.path()), ["out"]);
}

#[test]
fn stray_files_are_refused_named_and_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    write(&dir, &sample(), &WriteOptions::default()).unwrap();
    fs::write(dir.join("extra.txt"), "mine").unwrap();
    fs::write(dir.join("apps/notes.md"), "also mine").unwrap();
    let before = read_tree(&dir).unwrap();
    let new = tree_of(&[("README.md", "changed\n")]);
    let error = write(&dir, &new, &WriteOptions::default()).unwrap_err();
    assert!(matches!(&error, WriteError::StrayFiles(s) if s == &["apps/notes.md", "extra.txt"]), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("`apps/notes.md`, `extra.txt`") && message.contains("--force"), "{message}");
    assert_eq!(read_tree(&dir).unwrap(), before, "nothing was touched");
    assert_eq!(fs::read_to_string(dir.join("extra.txt")).unwrap(), "mine");
    assert_eq!(names(tmp.path()), ["out"]);

    // `force` adopts the folder: the stray files are removed like any other.
    let outcome = write(&dir, &new, &WriteOptions { force: true, ..WriteOptions::default() }).unwrap();
    let removed = ["apps/notes.md", "apps/web/namespace-web.yaml", "extra.txt"];
    assert_eq!(outcome, written(&[], &["README.md", LOCK_FILE], &removed));
    assert_eq!(read_tree(&dir).unwrap(), new);
}

#[test]
fn a_folder_without_a_lock_is_all_stray_but_an_empty_one_is_fine() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    fs::create_dir_all(dir.join("sub")).unwrap();
    assert!(matches!(write(&dir, &sample(), &WriteOptions::default()), Ok(WriteOutcome::Written { .. })));

    let other = tmp.path().join("other");
    fs::create_dir_all(other.join("sub")).unwrap();
    fs::write(other.join("sub/a"), "a").unwrap();
    fs::write(other.join(LOCK_FILE), "not a lock").unwrap();
    let error = write(&other, &sample(), &WriteOptions::default()).unwrap_err();
    assert!(matches!(&error, WriteError::StrayFiles(s) if s == &[LOCK_FILE, "sub/a"]), "{error:?}");
    assert_eq!(fs::read_to_string(other.join(LOCK_FILE)).unwrap(), "not a lock");
}

#[cfg(unix)]
#[test]
fn a_dir_that_is_a_link_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("target");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("keep.txt"), "keep").unwrap();
    let link = tmp.path().join("out");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let force = WriteOptions { force: true, ..WriteOptions::default() };
    for dir in [link.clone(), tmp.path().join("out/")] {
        let error = write(&dir, &sample(), &force).unwrap_err();
        assert!(matches!(error, WriteError::Symlink(_)), "{dir:?}: {error:?}");
    }
    assert!(matches!(read_tree(&link), Err(WriteError::Symlink(_))));
    assert_eq!(names(&target), ["keep.txt"]);
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
}

#[cfg(unix)]
#[test]
fn a_link_inside_dir_is_refused_even_with_force() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    write(&dir, &sample(), &WriteOptions::default()).unwrap();
    let outside = tmp.path().join("secret.txt");
    fs::write(&outside, "outside").unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("apps/web/link.yaml")).unwrap();
    let force = WriteOptions { force: true, ..WriteOptions::default() };
    let error = write(&dir, &tree_of(&[("x", "y")]), &force).unwrap_err();
    assert!(matches!(&error, WriteError::Symlink(p) if p == "apps/web/link.yaml"), "{error:?}");
    assert!(error.to_string().contains("`apps/web/link.yaml` is a symbolic link"));
    assert_eq!(fs::read_to_string(&outside).unwrap(), "outside");
    assert_eq!(fs::read(dir.join("README.md")).unwrap(), b"# homelab\n");
}

#[test]
fn a_failure_mid_write_leaves_the_old_tree_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let old = sample();
    write(&dir, &old, &WriteOptions::default()).unwrap();
    let new = tree_of(&[("README.md", "new\n"), ("apps/web/namespace-web.yaml", "new\n"), ("z.yaml", "z")]);
    for n in 0..new.len() {
        let options = WriteOptions { fail_after_files: Some(n), ..WriteOptions::default() };
        let error = write(&dir, &new, &options).unwrap_err();
        assert!(error.to_string().contains("injected failure"), "{error}");
        assert_eq!(read_tree(&dir).unwrap(), old, "after {n} files");
        assert_eq!(names(tmp.path()), ["out"], "after {n} files");
    }
    // A first write that fails leaves no DIR at all.
    let fresh = tmp.path().join("fresh");
    let options = WriteOptions { fail_after_files: Some(1), ..WriteOptions::default() };
    assert!(write(&fresh, &new, &options).is_err());
    assert_eq!(names(tmp.path()), ["out"]);
}

#[test]
fn a_failure_among_files_written_on_several_threads_leaves_the_old_tree_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let old = big(20, 10, "a");
    write(&dir, &old, &WriteOptions::default()).unwrap();
    let new = big(30, 10, "b");
    for n in [0, 1, new.len() / 2, new.len() - 1] {
        let options = WriteOptions { fail_after_files: Some(n), ..WriteOptions::default() };
        let error = write(&dir, &new, &options).unwrap_err();
        // The first failure in path order is the one reported.
        let path = new.files().nth(n).map(|(path, _)| path).unwrap();
        assert!(error.to_string().contains(&path.replace('/', std::path::MAIN_SEPARATOR_STR)), "{n}: {error}");
        assert_eq!(read_tree(&dir).unwrap(), old, "after {n} files");
        assert_eq!(names(tmp.path()), ["out"], "after {n} files");
    }
    write(&dir, &new, &WriteOptions::default()).unwrap();
    assert_eq!(read_tree(&dir).unwrap(), new);
}

#[test]
fn the_portable_swap_replaces_the_tree_too() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    write(&dir, &sample(), &WriteOptions::default()).unwrap();
    let new = tree_of(&[("only.yaml", "1")]);
    let options = WriteOptions { portable_swap: true, ..WriteOptions::default() };
    assert!(matches!(write(&dir, &new, &options), Ok(WriteOutcome::Written { .. })));
    assert_eq!(read_tree(&dir).unwrap(), new);
    assert_eq!(names(tmp.path()), ["out"]);
}

#[test]
fn stale_siblings_are_removed_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    for stale in [".out.homelabc-new-4242", ".out.homelabc-old-7"] {
        fs::create_dir_all(tmp.path().join(stale).join("x")).unwrap();
        fs::write(tmp.path().join(stale).join("x/y"), "stale").unwrap();
    }
    for keep in [".out.homelabc-new-", ".out.homelabc-new-12a", ".other.homelabc-new-1", "outside"] {
        fs::create_dir(tmp.path().join(keep)).unwrap();
    }
    write(&dir, &sample(), &WriteOptions::default()).unwrap();
    let kept = [".other.homelabc-new-1", ".out.homelabc-new-", ".out.homelabc-new-12a", "out", "outside"];
    assert_eq!(names(tmp.path()), kept);
}

#[test]
fn dir_must_be_a_named_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("out");
    fs::write(&file, "a file").unwrap();
    let error = write(&file, &sample(), &WriteOptions::default()).unwrap_err();
    assert!(matches!(error, WriteError::NotADirectory(_)), "{error:?}");
    assert_eq!(fs::read_to_string(&file).unwrap(), "a file");
    assert!(matches!(write(&tmp.path().join(".."), &sample(), &WriteOptions::default()), Err(WriteError::Io { .. })));
    assert_eq!(read_tree(&tmp.path().join("absent")).unwrap(), OutputTree::new());
}

/// A sealed tree of `apps` apps, each a folder of `files` files.
fn big(apps: usize, files: usize, version: &str) -> OutputTree {
    let mut tree = OutputTree::new();
    for app in 0..apps {
        for file in 0..files {
            tree.insert(&format!("apps/ns-{}/app-{app}/f-{file}.yaml", app % 7), format!("{version} {app} {file}\n"))
                .unwrap();
        }
    }
    tree.seal("0.1.0")
}

#[test]
fn a_write_flushes_a_constant_number_of_times() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let mut counts = Vec::new();
    for (apps, version) in [(2, "a"), (64, "b"), (300, "c")] {
        let before = flushes_on_this_thread();
        write(&dir, &big(apps, 10, version), &WriteOptions::default()).unwrap();
        counts.push(flushes_on_this_thread() - before);
    }
    // One flush of the new tree's file system, one of the parent after the swap
    // (per-file fsync where there is no syncfs).
    if cfg!(target_os = "linux") {
        assert_eq!(counts, [2, 2, 2]);
    }
    let before = flushes_on_this_thread();
    write(&dir, &big(300, 10, "c"), &WriteOptions::default()).unwrap();
    assert_eq!(flushes_on_this_thread() - before, 0, "an unchanged tree is not written");
}

#[test]
fn an_old_tree_that_cannot_be_removed_is_reported_and_git_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    write(&dir, &sample(), &WriteOptions::default()).unwrap();
    let new = tree_of(&[("only.yaml", "1")]);
    let options = WriteOptions { fail_remove_old: true, ..WriteOptions::default() };
    let Ok(WriteOutcome::Written { leftover: Some(left), .. }) = write(&dir, &new, &options) else {
        panic!("the leftover is reported");
    };
    assert!(left.ignored && left.error.contains("injected"), "{left:?}");
    assert_eq!(fs::read_to_string(left.path.join(".gitignore")).unwrap().lines().last(), Some("*"));
    assert_eq!(read_tree(&dir).unwrap(), new);
    // The next write removes it.
    write(&dir, &tree_of(&[("only.yaml", "2")]), &WriteOptions::default()).unwrap();
    assert_eq!(names(tmp.path()), ["out"]);
}

#[test]
fn the_output_never_holds_or_replaces_the_description() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir_all(src.join("values")).unwrap();
    fs::write(src.join("homelab.kdl"), "homelab \"lab\"\n").unwrap();
    fs::write(src.join("values/app.yaml"), "a: 1\n").unwrap();
    let protect = vec![src.clone(), src.join("homelab.kdl"), src.join("values/app.yaml")];
    let options = WriteOptions { force: true, protect, ..WriteOptions::default() };
    let spellings =
        [src.clone(), src.join("."), src.join("values"), src.join("values/../values"), tmp.path().to_path_buf()];
    for dir in spellings {
        let error = write(&dir, &sample(), &options).unwrap_err();
        assert!(matches!(error, WriteError::Protected { .. }), "{}: {error:?}", dir.display());
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&src, tmp.path().join("link")).unwrap();
        let error = write(&tmp.path().join("link/values"), &sample(), &options).unwrap_err();
        assert!(matches!(error, WriteError::Protected { .. }), "{error:?}");
    }
    assert_eq!(fs::read_to_string(src.join("homelab.kdl")).unwrap(), "homelab \"lab\"\n");
    assert_eq!(fs::read_to_string(src.join("values/app.yaml")).unwrap(), "a: 1\n");
    // Beside the sources is fine.
    assert!(write(&src.join("deploy"), &sample(), &options).is_ok());
}

#[test]
fn concurrent_writes_to_one_folder_take_turns_and_leave_one_whole_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let (a, b) = (big(40, 5, "a"), big(30, 6, "b"));
    for round in 0..10 {
        std::thread::scope(|scope| {
            let first = scope.spawn(|| write(&dir, &a, &WriteOptions::default()));
            let second = scope.spawn(|| write(&dir, &b, &WriteOptions::default()));
            first.join().unwrap().unwrap_or_else(|e| panic!("round {round}: {e}"));
            second.join().unwrap().unwrap_or_else(|e| panic!("round {round}: {e}"));
        });
        let on_disk = read_tree(&dir).unwrap();
        assert!(on_disk == a || on_disk == b, "round {round}: a mix");
        assert_eq!(names(tmp.path()), ["out"], "round {round}");
    }
}

#[test]
fn a_writer_waits_for_the_lock_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let held = DirLock::acquire(&dir, &mut || panic!("nobody holds it yet")).unwrap();
    assert!(held.held());
    let waited = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let lock = DirLock::acquire(&dir, &mut || waited.store(true, std::sync::atomic::Ordering::SeqCst)).unwrap();
            write_locked(&lock, &sample(), &WriteOptions::default()).unwrap()
        });
        while !waited.load(std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!dir.exists(), "nothing is written while the lock is held");
        drop(held);
        assert!(matches!(writer.join().unwrap(), WriteOutcome::Written { .. }));
    });
    assert_eq!(read_tree(&dir).unwrap(), sample());
}

/// The inode of a file, and how many names it has.
#[cfg(unix)]
fn inode(path: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::symlink_metadata(path).unwrap();
    (meta.ino(), meta.nlink())
}

#[cfg(unix)]
#[test]
fn unchanged_files_are_linked_from_the_old_tree_and_the_rest_written() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let old = tree_of(&[("a.yaml", "a"), ("b/c.yaml", "c1"), ("b/d.yaml", "d"), ("private.yaml", "p")]);
    write(&dir, &old, &WriteOptions::default()).unwrap();
    // A mode the writer would not give it: the file is written, with its own mode.
    fs::set_permissions(dir.join("private.yaml"), fs::Permissions::from_mode(0o600)).unwrap();
    let before = |p: &str| inode(&dir.join(p)).0;
    let was = ["a.yaml", "b/c.yaml", "b/d.yaml", "private.yaml"].map(before);
    let new =
        tree_of(&[("a.yaml", "a"), ("b/c.yaml", "c2"), ("b/d.yaml", "d"), ("e/f.yaml", "f"), ("private.yaml", "p")]);
    let outcome = write(&dir, &new, &WriteOptions::default()).unwrap();
    assert_eq!(outcome, written(&["e/f.yaml"], &["b/c.yaml", LOCK_FILE], &[]));
    assert_eq!(read_tree(&dir).unwrap(), new);
    // The same files, with one name each: the old tree's names are gone.
    assert_eq!(inode(&dir.join("a.yaml")), (was[0], 1));
    assert_eq!(inode(&dir.join("b/d.yaml")), (was[2], 1));
    assert_ne!(inode(&dir.join("b/c.yaml")).0, was[1]);
    assert_ne!(inode(&dir.join("private.yaml")).0, was[3]);
    assert_eq!(fs::metadata(dir.join("private.yaml")).unwrap().permissions().mode() & 0o7777, 0o644);
    assert_eq!(names(tmp.path()), ["out"]);
}

#[cfg(unix)]
#[test]
fn a_file_replaced_since_it_was_read_is_written_and_a_failed_link_ends_linking() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let files = [("a.yaml", "a"), ("b.yaml", "b"), ("c.yaml", "c"), ("d.yaml", "d1")];
    write(&dir, &tree_of(&files), &WriteOptions::default()).unwrap();
    let c = inode(&dir.join("c.yaml")).0;
    let new = tree_of(&[("a.yaml", "a"), ("b.yaml", "b"), ("c.yaml", "c"), ("d.yaml", "d2")]);
    let lock = DirLock::acquire(&dir, &mut || {}).unwrap();
    let read = read_locked(&lock, &new, &WriteOptions::default()).unwrap();
    // After the read, `a.yaml` is replaced by other bytes (another inode):
    // linking it would give the new tree the wrong bytes. `b.yaml` goes, so
    // that its link fails: `c.yaml`, after it, is written too.
    fs::write(tmp.path().join("a.new"), "A!").unwrap();
    fs::rename(tmp.path().join("a.new"), dir.join("a.yaml")).unwrap();
    fs::remove_file(dir.join("b.yaml")).unwrap();
    write_read(&lock, read, &new, &WriteOptions::default()).unwrap();
    assert_eq!(read_tree(&dir).unwrap(), new);
    assert_ne!(inode(&dir.join("c.yaml")).0, c, "no link is tried after one failed");
    assert_eq!(names(tmp.path()), ["out"]);
}

#[cfg(unix)]
#[test]
fn files_the_lock_does_not_list_are_written_even_when_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    fs::create_dir_all(dir.join("apps/web")).unwrap();
    let tree = sample();
    for (path, contents) in tree.files().filter(|(p, _)| *p != LOCK_FILE) {
        fs::write(dir.join(path), contents).unwrap();
        let mode = std::os::unix::fs::PermissionsExt::from_mode(0o644);
        fs::set_permissions(dir.join(path), mode).unwrap();
    }
    let readme = inode(&dir.join("README.md")).0;
    let force = WriteOptions { force: true, ..WriteOptions::default() };
    write(&dir, &tree, &force).unwrap();
    assert_eq!(read_tree(&dir).unwrap(), tree);
    assert_ne!(inode(&dir.join("README.md")).0, readme, "an adopted file is written");
}

#[cfg(unix)]
#[test]
fn the_leftover_old_tree_is_git_ignored_without_touching_a_linked_gitignore() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    write(&dir, &tree_of(&[(".gitignore", "mine\n"), ("x.yaml", "1")]), &WriteOptions::default()).unwrap();
    let new = tree_of(&[(".gitignore", "mine\n"), ("x.yaml", "2")]);
    let options = WriteOptions { fail_remove_old: true, ..WriteOptions::default() };
    let Ok(WriteOutcome::Written { leftover: Some(left), .. }) = write(&dir, &new, &options) else {
        panic!("the leftover is reported");
    };
    assert!(left.ignored, "{left:?}");
    assert_eq!(fs::read_to_string(left.path.join(".gitignore")).unwrap().lines().last(), Some("*"));
    assert_eq!(read_tree(&dir).unwrap(), new, "DIR's `.gitignore` shared the old tree's inode");
}

/// The hex sha256 of a tree's lock.
fn lock_sha(tree: &OutputTree) -> String {
    sha256_hex(tree.get(LOCK_FILE).unwrap())
}

#[test]
fn a_folder_holds_the_tree_of_a_lock_only_when_every_file_is_that_trees() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let tree = sample();
    let sha = lock_sha(&tree);
    assert!(listed(&dir, &sha).is_none(), "an absent folder holds nothing");
    write(&dir, &tree, &WriteOptions::default()).unwrap();
    let found = listed(&dir, &sha).expect("its lock");
    assert!(holds(&dir, &found));
    assert!(listed(&dir, &lock_sha(&tree_of(&[("README.md", "# other\n")]))).is_none(), "another lock");
    // A file edited by hand, a file gone, a file added: no longer that tree.
    fs::write(dir.join("README.md"), "# edited\n").unwrap();
    assert!(!holds(&dir, &found));
    fs::write(dir.join("README.md"), "# homelab\n").unwrap();
    assert!(holds(&dir, &found), "the same bytes again");
    fs::remove_file(dir.join("apps/web/namespace-web.yaml")).unwrap();
    assert!(!holds(&dir, &found));
    write(&dir, &tree, &WriteOptions::default()).unwrap();
    fs::write(dir.join("apps/web/extra.yaml"), "kind: Secret\n").unwrap();
    assert!(!holds(&dir, &found), "a stray file");
    fs::remove_file(dir.join("apps/web/extra.yaml")).unwrap();
    // Empty folders are no files: a write leaves them too.
    fs::create_dir(dir.join("empty")).unwrap();
    assert!(holds(&dir, &found));
    fs::remove_file(dir.join(LOCK_FILE)).unwrap();
    assert!(!holds(&dir, &found), "the lock gone since it was read");
}

#[cfg(unix)]
#[test]
fn a_link_in_the_folder_is_left_to_the_writer_to_refuse() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let tree = sample();
    write(&dir, &tree, &WriteOptions::default()).unwrap();
    let found = listed(&dir, &lock_sha(&tree)).expect("its lock");
    std::os::unix::fs::symlink("/etc/hostname", dir.join("apps/link")).unwrap();
    assert!(!holds(&dir, &found));
    std::os::unix::fs::symlink(&dir, tmp.path().join("via-link")).unwrap();
    assert!(listed(&tmp.path().join("via-link"), &lock_sha(&tree)).is_none(), "DIR itself a link");
}

#[test]
fn a_folder_found_holding_its_tree_under_the_lock_loses_stale_siblings() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let tree = sample();
    write(&dir, &tree, &WriteOptions::default()).unwrap();
    fs::create_dir(tmp.path().join(".out.homelabc-new-4242")).unwrap();
    let lock = DirLock::acquire(&dir, &mut || {}).unwrap();
    let found = listed(&dir, &lock_sha(&tree)).expect("its lock");
    assert!(holds_locked(&lock, &found));
    assert_eq!(names(tmp.path()), ["out"]);
}

/// What [`OutputTree::insert`] answers, worked out the plain way: every
/// folder of the path looked up among the files, and the files below it.
fn naive_insert(files: &mut BTreeMap<String, ()>, path: &str) -> Result<(), PathProblem> {
    if files.contains_key(path) {
        return Err(PathProblem::Duplicate);
    }
    for (i, _) in path.match_indices('/') {
        if files.contains_key(&path[..i]) {
            return Err(PathProblem::Clash { other: path[..i].to_string() });
        }
    }
    let folder = format!("{path}/");
    if let Some(other) = files.keys().find(|k| k.starts_with(&folder)) {
        return Err(PathProblem::Clash { other: other.clone() });
    }
    files.insert(path.to_string(), ());
    Ok(())
}

proptest::proptest! {
    #[test]
    fn refuses_clashes_as_the_plain_way_does(
        paths in proptest::collection::vec(proptest::collection::vec(proptest::sample::select(vec!["a", "b", "c.yaml"]), 1..5), 0..40)
    ) {
        let mut tree = OutputTree::new();
        let mut naive = BTreeMap::new();
        for segments in paths {
            let path = segments.join("/");
            let got = tree.insert(&path, path.as_bytes()).map_err(|e| e.problem);
            proptest::prop_assert_eq!(&got, &naive_insert(&mut naive, &path), "{}", path);
        }
        proptest::prop_assert!(tree.files().map(|(p, _)| p).eq(naive.keys().map(String::as_str)));
    }
}

/// The checks of a path as they were written before the one pass of
/// [`check_path`]: each on its own, in order.
fn check_path_reference(path: &str) -> Result<(), PathProblem> {
    if path.is_empty() {
        return Err(PathProblem::Empty);
    }
    if path.starts_with('/') {
        return Err(PathProblem::Absolute);
    }
    if path.contains('\\') {
        return Err(PathProblem::Backslash);
    }
    if path.chars().any(char::is_control) {
        return Err(PathProblem::ControlCharacter);
    }
    for segment in path.split('/') {
        match segment {
            "" => return Err(PathProblem::EmptySegment),
            "." | ".." => return Err(PathProblem::DotSegment),
            _ => {}
        }
    }
    Ok(())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]

    #[test]
    fn a_path_is_checked_as_each_check_on_its_own_does(path in "[a./\\\\\\x{0}\\x{1f}\\x{7f}\\x{85}\\x{9f}\\x{a0}é]{0,8}") {
        proptest::prop_assert_eq!(check_path(&path), check_path_reference(&path), "{:?}", path);
    }
}

proptest::proptest! {
    #[test]
    fn a_tree_built_at_once_is_the_tree_inserted_one_by_one(
        paths in proptest::collection::vec(
            proptest::collection::vec(proptest::sample::select(vec!["a", "b", "b-c", "c.yaml", "", ".", LOCK_FILE]), 1..5),
            0..40,
        )
    ) {
        let files: Vec<(String, Vec<u8>)> =
            paths.iter().enumerate().map(|(i, segments)| (segments.join("/"), i.to_string().into_bytes())).collect();
        let one_by_one = files.iter().try_fold(OutputTree::new(), |mut tree, (path, contents)| {
            tree.insert(path, contents.clone()).map(|()| tree)
        });
        // The folders the writer makes are exactly those of the files, found the plain way.
        if let Ok(tree) = &one_by_one {
            let plain: BTreeSet<&str> =
                tree.files().flat_map(|(path, _)| path.match_indices('/').map(move |(i, _)| &path[..i])).collect();
            proptest::prop_assert_eq!(tree.folders().collect::<BTreeSet<_>>(), plain);
        }
        proptest::prop_assert_eq!(OutputTree::from_files(files), one_by_one);
    }
}

proptest::proptest! {
    #[test]
    fn a_permutation_is_applied_in_place(order in proptest::strategy::Strategy::prop_shuffle(proptest::strategy::Just((0..40usize).collect::<Vec<_>>()))) {
        let mut items: Vec<String> = (0..order.len()).map(|i| format!("item {i}")).collect();
        let expected: Vec<String> = order.iter().map(|&i| items[i].clone()).collect();
        permute(&mut items, order);
        proptest::prop_assert_eq!(items, expected);
    }
}

#[test]
fn a_large_tree_built_at_once_holds_every_file_and_folder() {
    let files: Vec<(String, Vec<u8>)> = (0..600)
        .rev()
        .flat_map(|app| {
            let folder = format!("clusters/c/apps/ns-{}/app-{app}", app % 7);
            [format!("{folder}/deployment.yaml"), format!("{folder}-x/service.yaml"), format!("{folder}.yaml")]
        })
        .map(|path| (path.clone(), path.into_bytes()))
        .collect();
    let mut one_by_one = OutputTree::new();
    for (path, contents) in &files {
        one_by_one.insert(path, contents.clone()).unwrap();
    }
    let at_once = OutputTree::from_files(files).unwrap();
    assert_eq!(at_once.len(), 1800);
    assert_eq!(at_once, one_by_one);
    let clash = vec![("a/b".to_string(), vec![]), ("a/b-c".to_string(), vec![]), ("a/b/d".to_string(), vec![])];
    let refused = OutputTree::from_files(clash).unwrap_err();
    assert_eq!((refused.path.as_str(), refused.problem), ("a/b/d", PathProblem::Clash { other: "a/b".into() }));
}

/// Files larger than a read's block, read and hashed one after the other on
/// a thread that reuses its block: each is read whole, and a change past the
/// first block shows.
#[test]
fn files_larger_than_a_block_are_read_and_hashed_whole() {
    let large: String = (0..200_000u32).map(|i| char::from(b'a' + (i % 23) as u8)).collect();
    let tree = tree_of(&[("a/large.txt", &large), ("b/small.txt", "small\n"), ("c/large.txt", &large[7..])]);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    write(&dir, &tree, &WriteOptions::default()).unwrap();
    assert_eq!(read_tree(&dir).unwrap(), tree);
    let found = listed(&dir, &lock_sha(&tree)).expect("its lock");
    assert!(holds(&dir, &found));
    let mut edited = large.clone().into_bytes();
    edited[150_000] = b'!';
    fs::write(dir.join("a/large.txt"), edited).unwrap();
    assert!(!holds(&dir, &found), "a byte past the first block changed");
    assert_ne!(read_tree(&dir).unwrap(), tree);
}

#[test]
fn a_digest_written_in_place_is_the_hex_of_it() {
    for seed in [0u8, 1, 0x7f, 0xff] {
        let digest: FileDigest = std::array::from_fn(|i| u8::try_from(i).unwrap().wrapping_mul(37).wrapping_add(seed));
        let mut out = [0; 64];
        hex_into(&digest, &mut out);
        let reference: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(std::str::from_utf8(&out).unwrap(), reference);
        assert_eq!(hex(&digest), reference);
    }
}

#[test]
fn a_large_tree_seals_as_a_small_one_would() {
    // 600 files: the digest and the files' lines are made at once; the lock is
    // the one the same files sealed one by one would give (its tree line is
    // the digest of the tree, its files listed by folder, each once).
    let mut tree = OutputTree::new();
    for i in 0..600 {
        tree.insert(&format!("apps/ns-{}/app-{i}.yaml", i % 7), format!("n: {i}\n")).unwrap();
    }
    let sealed = tree.clone().seal_clusters("9.9.9", &[]);
    let lock = String::from_utf8(sealed.get(LOCK_FILE).unwrap().to_vec()).unwrap();
    assert!(lock.contains(&format!("\ntree: {}\n", tree.digest())), "{lock}");
    assert_eq!(lock.matches("  apps/ns-").count(), 7, "one heading per folder");
    assert_eq!(lock.lines().filter(|l| l.starts_with("    app-")).count(), 600);
    assert_eq!(parse_lock_hashes(lock.as_bytes()).map(|h| h.len()), Some(600), "it reads back");
}
