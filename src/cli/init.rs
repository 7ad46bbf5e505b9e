//! `homelabc init [DIR] [--example NAME] [--list]`: start a homelab from one of
//! the examples embedded in the binary, overwriting nothing.
//!
//! Every file is written to a temporary sibling first and then linked (or
//! renamed) into place, so a crash never leaves a half-written file; when a
//! file cannot be written, the files and folders already created are removed.

use std::borrow::Cow;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

use super::{ExitStatus, Printer};
use crate::suggest;

/// The folders of `examples/`, embedded at compile time.
static EXAMPLES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/examples");

/// The starter: a kind cluster runs on any machine with Docker, so it has no
/// hardware, LAN addresses or DHCP range to adapt, and it is the one complete
/// GitOps loop (Flux, a registry, CI, monitoring) that checks without a warning.
const DEFAULT_EXAMPLE: &str = "kind-flux-tekton";

/// A line about each example for `--list` (README.md, "Examples").
const SUMMARIES: &[(&str, &str)] = &[
    (
        "gateway-edge",
        "Envoy Gateway routes, wildcard certificates, external-dns, a Cloudflare tunnel, MetalLB over BGP",
    ),
    ("kind-flux-tekton", "kind cluster, Flux, Tekton, in-cluster registry, kube-prometheus-stack, Loki, ingress-nginx"),
    (
        "media-server",
        "k3s with an iGPU: Jellyfin with an init container, a sidecar and config files, DaemonSets, a CronJob, backups",
    ),
    ("microservices-argocd", "microservices with APISIX, Istio, PostgreSQL, Redis, NATS, Argo CD, HA apps"),
    ("pi-k3s-drone", "k3s on two Raspberry Pis, MetalLB L2 pool, registry on NodePort 30500, Gitea, Drone"),
    ("proxmox-k3s-actions", "k3s on Proxmox VMs, external HTTP registry, GitHub Actions with a GitOps tag bump"),
    ("staging-production", "two clusters in one description: a kind staging cluster and a k3s production cluster"),
    ("storage-backups", "k3s with an NFS storage class, a shared claim, NFS mounts and VolSync backups to S3"),
    (
        "talos-home",
        "Talos: three control planes on a VIP, a worker, talhelper's talconfig.yaml, Flux, MetalLB, ingress-nginx",
    ),
    ("tekton-rbac", "a Tekton fetch → build → deploy pipeline with the RBAC it needs"),
    ("woodpecker-gitea", "k3s on one machine, Gitea, Woodpecker CI building into an in-cluster registry"),
];

/// Arguments of `homelabc init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The folder to start the homelab in; created when missing. Files already in it are kept:
    /// init refuses to run when one of the example's files exists.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The example to start from (`--list` shows them).
    #[arg(long, value_name = "NAME", default_value = DEFAULT_EXAMPLE)]
    pub example: String,
    /// List the embedded examples; write nothing.
    #[arg(long, conflicts_with_all = ["dir", "example"])]
    pub list: bool,
}

/// Runs the command.
pub fn run(args: &Args, printer: &Printer, library: &crate::stdlib::Library) -> ExitStatus {
    if args.list {
        printer.out(&listing());
        return ExitStatus::Success;
    }
    let Some(example) = find(&args.example) else {
        let names = names();
        let hint = suggest::did_you_mean(&args.example, names.iter().copied())
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        let known = names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
        printer.error(&format!(
            "no example `{}`{hint}\n  the examples are {known}; `homelabc init --list` describes them",
            args.example
        ));
        return ExitStatus::Error;
    };
    let dir = &args.dir;
    if dir.exists() && !dir.is_dir() {
        printer.error(&format!("{} exists and is not a folder", dir.display()));
        return ExitStatus::Error;
    }
    let mut files = files_of(example);
    // Renovate finds the versions the description pins (README.md, "Renovate").
    files.push((PathBuf::from(RENOVATE_CONFIG), Cow::Owned(crate::renovate::repository_config(library).into_bytes())));
    let conflicts = conflicts(dir, &files);
    if !conflicts.is_empty() {
        let list = conflicts.iter().map(|p| format!("  {}\n", p.display())).collect::<String>();
        printer.error(&format!("refusing to overwrite what is already there; nothing written:\n{}", list.trim_end()));
        return ExitStatus::Failure;
    }
    if let Err((path, error)) = write_all(dir, &files) {
        printer.error(&format!("{}: {error}; nothing written", path.display()));
        return ExitStatus::Error;
    }
    printer.status(&report(dir, &args.example, &files));
    ExitStatus::Success
}

/// The names of the embedded examples (folders holding a `homelab.kdl`), sorted.
fn names() -> Vec<&'static str> {
    let mut names: Vec<&str> = EXAMPLES
        .dirs()
        .filter(|d| d.get_file(d.path().join(crate::host::ROOT_FILE)).is_some())
        .filter_map(|d| d.path().to_str())
        .collect();
    names.sort_unstable();
    names
}

/// The text of every `.kdl` file of every embedded example: what the
/// language server learns the shapes of nodes from when the file being
/// edited does not show them yet (`homelabc lsp`).
pub(super) fn example_sources() -> Vec<&'static str> {
    let examples = names().into_iter().filter_map(|name| EXAMPLES.get_dir(name));
    let files = examples.flat_map(files_of);
    files
        .filter(|(path, _)| path.extension().is_some_and(|e| e == "kdl"))
        .filter_map(|(_, bytes)| match bytes {
            Cow::Borrowed(bytes) => std::str::from_utf8(bytes).ok(),
            Cow::Owned(_) => None,
        })
        .collect()
}

/// The example called `name`.
fn find(name: &str) -> Option<&'static Dir<'static>> {
    if !names().contains(&name) {
        return None;
    }
    EXAMPLES.get_dir(name)
}

/// `--list`: every example with its summary, the default marked.
fn listing() -> String {
    let names = names();
    let width = names.iter().map(|n| n.len()).max().unwrap_or(0);
    let mut text = String::new();
    for name in names {
        let summary = SUMMARIES.iter().find(|(n, _)| *n == name).map_or("", |(_, s)| s);
        let default = if name == DEFAULT_EXAMPLE { " (the default)" } else { "" };
        text.push_str(&format!("{name:<width$}  {summary}{default}\n"));
    }
    text
}

/// The Renovate configuration `init` writes beside the description.
const RENOVATE_CONFIG: &str = "renovate.json5";

/// A file to write: its path relative to DIR, and its bytes.
type NewFile = (PathBuf, Cow<'static, [u8]>);

/// Every file of an example: its path relative to the example, and its bytes, sorted by path.
fn files_of(example: &'static Dir<'static>) -> Vec<NewFile> {
    let mut files = Vec::new();
    let mut stack = vec![example];
    while let Some(dir) = stack.pop() {
        stack.extend(dir.dirs());
        for file in dir.files() {
            let rel = file.path().strip_prefix(example.path()).unwrap_or(file.path());
            files.push((rel.to_path_buf(), Cow::Borrowed(file.contents())));
        }
    }
    files.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    files
}

/// What stands in the way below DIR: a file (or link) where one of the
/// example's files goes, or something that is not a folder where a folder goes.
fn conflicts(dir: &Path, files: &[NewFile]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for (rel, _) in files {
        let mut at = dir.to_path_buf();
        let mut parts = rel.components().peekable();
        while let Some(part) = parts.next() {
            at.push(part);
            let last = parts.peek().is_none();
            let blocked = if last { fs::symlink_metadata(&at).is_ok() } else { at.exists() && !at.is_dir() };
            if blocked {
                if !found.contains(&at) {
                    found.push(at.clone());
                }
                break;
            }
        }
    }
    found
}

/// Writes every file below DIR, or nothing: on a failure, what was created is removed.
fn write_all(dir: &Path, files: &[NewFile]) -> Result<(), (PathBuf, io::Error)> {
    let mut created: Vec<PathBuf> = Vec::new();
    let result = files.iter().try_for_each(|(rel, bytes)| {
        let target = dir.join(rel);
        let folder = target.parent().unwrap_or(dir);
        make_dirs(folder, &mut created).map_err(|error| (folder.to_path_buf(), error))?;
        place(&target, bytes).map_err(|error| (target.clone(), error))?;
        created.push(target);
        Ok(())
    });
    if result.is_err() {
        // Newest first: files before the folders that hold them.
        for path in created.iter().rev() {
            let _ = if path.is_dir() { fs::remove_dir(path) } else { fs::remove_file(path) };
        }
    }
    result
}

/// Creates `folder` and the folders above it that are missing, recording each one created.
fn make_dirs(folder: &Path, created: &mut Vec<PathBuf>) -> io::Result<()> {
    if folder.as_os_str().is_empty() || folder.is_dir() {
        return Ok(());
    }
    if let Some(parent) = folder.parent() {
        make_dirs(parent, created)?;
    }
    fs::create_dir(folder)?;
    created.push(folder.to_path_buf());
    Ok(())
}

/// Writes `target` whole: the bytes go to a synced temporary file beside it,
/// which is then hard-linked to `target` (failing if `target` appeared in the
/// meantime) or, where the file system has no hard links, renamed onto it.
fn place(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = target.with_file_name(format!(".{name}.homelabc-init-{}", std::process::id()));
    let _ = fs::remove_file(&temp);
    let written = fs::OpenOptions::new().write(true).create_new(true).open(&temp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    let placed = written.and_then(|()| match fs::hard_link(&temp, target) {
        Err(error) if error.kind() != io::ErrorKind::AlreadyExists => {
            if fs::symlink_metadata(target).is_ok() {
                return Err(io::ErrorKind::AlreadyExists.into());
            }
            fs::rename(&temp, target)
        }
        linked => linked,
    });
    let _ = fs::remove_file(&temp);
    if placed.is_ok()
        && let Some(folder) = target.parent().and_then(|f| fs::File::open(f).ok())
    {
        // The new name is durable once its folder is synced (where folders can be opened).
        let _ = folder.sync_all();
    }
    placed
}

/// What init wrote, and what to run next.
fn report(dir: &Path, example: &str, files: &[NewFile]) -> String {
    let mut text = format!("wrote {} files from the example `{example}`:\n", files.len());
    for (rel, _) in files {
        text.push_str(&format!("  {}\n", dir.join(rel).display()));
    }
    let shown = shell_word(&dir.display().to_string());
    text.push_str(&format!(
        "next:\n  homelabc check {shown}    check the description\n  homelabc build {shown}    compile it into its GitOps tree\n"
    ));
    text.push_str(
        "the example's repositories, addresses and secrets are its authors': replace them with yours \
         (SOPS files must be encrypted again for your own keys)",
    );
    text
}

/// `word` as one shell word: as it is when plain, else in single quotes.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:@+%".contains(c));
    if plain { word.to_string() } else { format!("'{}'", word.replace('\'', r"'\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_has_a_summary_and_the_default_exists() {
        let described: Vec<&str> = SUMMARIES.iter().map(|(n, _)| *n).collect();
        assert_eq!(names(), described, "SUMMARIES lists the embedded examples, sorted");
        assert!(find(DEFAULT_EXAMPLE).is_some());
    }

    #[test]
    fn files_are_relative_to_their_example() {
        let files = files_of(find("kind-flux-tekton").expect("embedded"));
        let paths: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
        assert!(paths.contains(&"homelab.kdl".to_string()), "{paths:?}");
        assert!(paths.contains(&"apps/demo-app.kdl".to_string()), "{paths:?}");
    }

    #[test]
    fn a_failed_write_removes_what_it_created() {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = temp.path().to_path_buf();
        // A NUL byte makes the second file's path invalid, after the first was written.
        let files: Vec<NewFile> = vec![
            (PathBuf::from("a/one.kdl"), Cow::Borrowed(b"one")),
            (PathBuf::from("b/tw\0o.kdl"), Cow::Borrowed(b"two")),
        ];
        let failed = write_all(&dir, &files).expect_err("the NUL byte fails");
        assert!(failed.0.ends_with("b/tw\0o.kdl"), "{failed:?}");
        let left: Vec<_> = fs::read_dir(&dir).expect("readable").collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn shell_words() {
        assert_eq!(shell_word("my-lab/x"), "my-lab/x");
        assert_eq!(shell_word("my lab"), "'my lab'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
