//! `homelabc build` on the examples: the output tree of each is snapshotted
//! unit by unit, and the tree is a pure function of the description — whatever
//! the order of declarations and files, the run, the timezone or the locale.

mod common;

use common::{MEMOS, examples};

use std::path::Path;
use std::process::Command;

use homelabc::driver;
use homelabc::host::{FsHost, MemHost};
use homelabc::output::OutputTree;

fn tree_of(host: &dyn homelabc::host::Host) -> OutputTree {
    let built = driver::build(host, "homelab.kdl");
    assert!(!built.checked.has_errors(), "{:?}", built.checked.diagnostics);
    built.tree.expect("no errors").expect("layout succeeds")
}

fn render(tree: &OutputTree) -> String {
    let mut text = String::new();
    for (path, bytes) in tree.files() {
        text.push_str(&format!("=== {path}\n{}", String::from_utf8_lossy(bytes)));
    }
    text
}

/// The files of a tree grouped for their snapshots: by the unit folder
/// (holding a `kustomization.yaml`) that holds them, the others by their
/// first folder (`nodes`, `pipelines`) or `root`.
fn groups(tree: &OutputTree) -> std::collections::BTreeMap<String, Vec<(&str, &[u8])>> {
    let units: std::collections::BTreeSet<&str> =
        tree.files().filter_map(|(p, _)| p.strip_suffix("/kustomization.yaml")).collect();
    let mut groups: std::collections::BTreeMap<String, Vec<(&str, &[u8])>> = Default::default();
    for (path, bytes) in tree.files() {
        let unit = std::iter::successors(path.rsplit_once('/').map(|(f, _)| f), |f| f.rsplit_once('/').map(|(p, _)| p))
            .find(|f| units.contains(f));
        let group = match unit {
            Some(unit) => unit.to_string(),
            None => path.split_once('/').map_or("root", |(first, _)| first).to_string(),
        };
        groups.entry(group).or_default().push((path, bytes));
    }
    groups
}

/// Every example's tree, one snapshot per unit folder (and per group of plain
/// files), small enough to read in review; `tests/meaning.rs` asserts what
/// must be in them.
#[test]
fn every_example_builds_and_matches_its_snapshots() {
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut expected = std::collections::BTreeSet::new();
    for example in examples() {
        let tree = tree_of(&FsHost::new(&example));
        let name = example.file_name().expect("named").to_string_lossy().into_owned();
        for (group, files) in groups(&tree) {
            let mut text = String::new();
            for (path, bytes) in files {
                text.push_str(&format!("=== {path}\n{}", String::from_utf8_lossy(bytes)));
            }
            let snapshot = format!("{name}@{}", group.replace('/', "+"));
            insta::assert_snapshot!(snapshot.clone(), text);
            expected.insert(format!("build__{snapshot}.snap"));
        }
    }
    // A unit that is gone leaves no snapshot behind.
    let stale: Vec<String> = std::fs::read_dir(&snapshots)
        .expect("tests/snapshots")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|f| f.starts_with("build__") && f.ends_with(".snap") && f.contains('@') && !expected.contains(f))
        .collect();
    assert!(stale.is_empty(), "snapshots of units no example has any more: {stale:?}");
}

/// Every file of an example folder, by logical path.
fn files_of(example: &Path) -> Vec<(String, String)> {
    common::files(example)
        .into_iter()
        .map(|(rel, bytes)| (rel.to_string_lossy().replace('\\', "/"), String::from_utf8(bytes).expect("text")))
        .collect()
}

/// A deterministic permutation (a small LCG; no randomness reaches the test).
fn permute<T>(items: &mut [T], seed: u64) {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    for i in (1..items.len()).rev() {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let j = (state >> 33) as usize % (i + 1);
        items.swap(i, j);
    }
}

/// Moves the root file's self-contained declarations into `parts/*.kdl` files
/// in a shuffled order, and shuffles the declarations of every other file.
fn shuffled(example: &Path, seed: u64) -> MemHost {
    let mut host = MemHost::new();
    for (path, text) in files_of(example) {
        if !path.ends_with(".kdl") {
            host.insert(path, text);
            continue;
        }
        let doc: kdl::KdlDocument = text.parse().expect("examples parse");
        let mut nodes: Vec<String> = doc.nodes().iter().map(|n| n.to_string()).collect();
        permute(&mut nodes, seed);
        if path != "homelab.kdl" {
            host.insert(path, nodes.join("\n"));
            continue;
        }
        // Declarations naming files stay in the root, whose folder their paths are relative to.
        let (stay, movable): (Vec<String>, Vec<String>) = nodes.into_iter().partition(|n| {
            n.contains("file=") || n.contains("import") || n.contains("manifest") || n.contains("values-file")
        });
        let mut root = stay.join("\n");
        root.push_str("\nimport \"zz-parts/\"\n");
        host.insert("homelab.kdl", root);
        for (i, node) in movable.iter().enumerate() {
            host.insert(format!("zz-parts/{:02}.kdl", (i * 7 + seed as usize) % 97), node.clone());
        }
    }
    host
}

#[test]
fn shuffled_and_split_declarations_give_the_same_tree() {
    for example in examples() {
        let reference = tree_of(&FsHost::new(&example));
        for seed in 1..=3 {
            let tree = tree_of(&shuffled(&example, seed));
            assert_eq!(render(&tree), render(&reference), "{} with seed {seed}", example.display());
            assert_eq!(tree.digest(), reference.digest());
        }
    }
}

/// A homelab of `apps` apps, one file each in `apps/`, app `i` in the file
/// the permutation of `seed` gives it: large enough that the build's loops
/// and phases run on several threads (`par`: 512 items and more).
fn large(apps: usize, seed: u64) -> MemHost {
    let mut host = MemHost::new();
    let nodes = "node \"n1\" role=\"server\" {\n    address \"10.0.0.2\" network=\"lan\"\n    cpu 512; memory \"1Ti\"; disk \"1Ti\"\n}\n";
    host.insert("homelab.kdl", format!("{}{nodes}import \"apps/\"\n", common::ONE_CLUSTER));
    let mut places: Vec<usize> = (0..apps).collect();
    permute(&mut places, seed);
    for (i, place) in places.into_iter().enumerate() {
        let after = if i > 0 { format!("    depends-on \"app-{}\"\n", i - 1) } else { String::new() };
        host.insert(
            format!("apps/{place:05}.kdl"),
            format!(
                "app \"app-{i}\" namespace=\"ns-{ns}\" {{\n    image \"me/app-{i}\" tag=\"1.0.{i}\"\n    port \"http\" 8080\n    \
                 service {{ expose \"http\" 80 }}\n    env \"LEVEL\" \"info\"\n    metrics path=\"/metrics\" port=\"http\"\n{after}}}\n",
                ns = i % 7
            ),
        );
    }
    host
}

#[test]
fn a_large_homelab_built_on_several_threads_is_the_same_whatever_its_files_order() {
    // 600 apps: the files are parsed and lowered, the graph built beside the
    // checks, the inventory's halves, the objects and the hashes made on
    // several threads; the apps move between files from one seed to the next.
    let reference = tree_of(&large(600, 1));
    assert!(reference.len() > 600 * 4, "{} files", reference.len());
    for seed in [2, 3] {
        let tree = tree_of(&large(600, seed));
        assert_eq!(tree.digest(), reference.digest(), "seed {seed}");
        assert!(tree == reference, "seed {seed}: the same files, byte for byte");
    }
}

#[test]
fn two_builds_have_the_same_lock() {
    for example in examples() {
        let a = tree_of(&FsHost::new(&example));
        let b = tree_of(&FsHost::new(&example));
        assert_eq!(a.get("homelab.lock"), b.get("homelab.lock"));
        assert_eq!(a, b);
    }
}

#[test]
fn timezone_locale_and_working_directory_do_not_matter() {
    let example = &examples()[0];
    let mut outputs = Vec::new();
    for (tz, lang, cwd) in [
        ("UTC", "C", "/"),
        ("Asia/Kolkata", "de_DE.UTF-8", "/tmp"),
        ("America/New_York", "tr_TR.UTF-8", env!("CARGO_MANIFEST_DIR")),
    ] {
        let out = tempfile::tempdir().expect("temp dir");
        let status = Command::new(env!("CARGO_BIN_EXE_homelabc"))
            .args(["build", "-q"])
            .arg(example)
            .arg("-o")
            .arg(out.path().join("tree"))
            .env("HOMELABC_CACHE_DIR", MEMOS)
            .env("TZ", tz)
            .env("LANG", lang)
            .env("LC_ALL", lang)
            .current_dir(cwd)
            .status()
            .expect("runs");
        assert!(status.success());
        outputs.push(render(&homelabc::output::read_tree(&out.path().join("tree")).expect("readable")));
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[1], outputs[2]);
}

#[test]
fn build_check_reports_a_stale_tree_with_exit_code_2() {
    let example = examples().into_iter().find(|e| e.ends_with("pi-k3s-drone")).expect("seed 002");
    let out = tempfile::tempdir().expect("temp dir");
    let dir = out.path().join("deploy");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_homelabc"))
            .args(args)
            .env("HOMELABC_CACHE_DIR", MEMOS)
            .arg(&example)
            .arg("-o")
            .arg(&dir)
            .output()
            .expect("runs")
    };
    assert_eq!(run(&["build", "--check", "-q"]).status.code(), Some(2), "nothing written yet: stale");
    assert!(!dir.exists(), "--check writes nothing");
    assert_eq!(run(&["build", "-q"]).status.code(), Some(0));
    assert_eq!(run(&["build", "--check", "-q"]).status.code(), Some(0));
    let config = dir.join("nodes/pi-agent/etc/rancher/k3s/config.yaml");
    std::fs::write(&config, "edited by hand\n").expect("writable");
    assert_eq!(run(&["build", "--check", "-q"]).status.code(), Some(2));
    // A rebuild restores the file; a stray file is refused and kept.
    assert_eq!(run(&["build", "-q"]).status.code(), Some(0));
    std::fs::write(dir.join("notes.txt"), "mine\n").expect("writable");
    let refused = run(&["build", "-q"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("notes.txt"));
    assert_eq!(std::fs::read_to_string(dir.join("notes.txt")).expect("kept"), "mine\n");
}

/// The build the CLI runs, which frees the model before the layout
/// (`driver::build_lean`), gives what `driver::build` gives: the same tree,
/// diagnostics and output folder, for every example and for descriptions the
/// checks of the output refuse (E1001, E1003) or that clash (E0209).
#[test]
fn a_lean_build_gives_what_a_build_gives() {
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    let refused = ["e1001-chart-values-name-a-missing-secret.kdl", "e1003-manifest-reads-a-missing-store"]
        .into_iter()
        .chain(["e0209-manifest-clashes-with-namespace"]);
    let hosts = examples().into_iter().map(|e| (e.display().to_string(), FsHost::new(&e), "homelab.kdl".to_string()));
    let hosts = hosts.chain(refused.map(|case| {
        let path = ui.join(case);
        match path.is_dir() {
            true => (case.to_string(), FsHost::new(&path), "homelab.kdl".to_string()),
            false => (case.to_string(), FsHost::new(&ui), case.to_string()),
        }
    }));
    let mut refusals = 0;
    for (name, host, root) in hosts {
        let library = homelabc::stdlib::Library::embedded();
        let options = homelabc::layout::Options::default();
        let built = driver::build_with_options(&host, &root, &library, options);
        let lean = driver::build_lean(&host, &root, &library, options, &|_, _| {});
        assert_eq!(lean.diagnostics, built.checked.diagnostics, "{name}");
        assert_eq!(lean.tree, built.tree, "{name}");
        let gitops = built.checked.model.clusters.iter().find_map(|c| c.gitops.as_ref());
        assert_eq!(lean.output, gitops.map_or("deploy", |g| g.path.value.as_str()), "{name}");
        assert_eq!(lean.attachments, built.checked.model.attachments.keys().cloned().collect::<Vec<_>>(), "{name}");
        refusals += usize::from(lean.tree.is_none());
    }
    assert_eq!(refusals, 3, "the three refused descriptions are refused");
}
