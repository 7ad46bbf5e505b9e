//! `homelabc build [PATH] [-o DIR] [--check] [--force]`: render the tree.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::memo::Memos;
use super::progress::Progress;
use super::{ExitStatus, Printer};
use crate::memo::{Made, Recording};
use crate::output::{self, DirLock, Pause, WriteOptions, WriteOutcome};

/// Arguments of `homelabc build`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A homelab.kdl file, or a folder holding one.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The output folder (default: the gitops `path=` of the description, else `deploy`,
    /// relative to the description's folder).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Write nothing; exit 2 when the tree on disk is stale.
    #[arg(long)]
    pub check: bool,
    /// Adopt an output folder holding files homelabc did not write.
    #[arg(long)]
    pub force: bool,
    /// Accept that the change destroys the data of this declaration (a volume, a namespace, a
    /// registry's storage); repeat for several. Without it such a build is refused.
    #[arg(long, value_name = "NAME")]
    pub allow_destroy: Vec<String>,
    /// Leave out the `# yaml-language-server: $schema=` line that starts each object file whose
    /// kind has a public JSON Schema (for editors).
    #[arg(long)]
    pub no_schema_comments: bool,
    /// Print how long each phase took, as a table on stderr.
    #[arg(long)]
    pub timings: bool,
}

/// Runs the command.
pub fn run(args: &Args, printer: &Printer, library: &crate::stdlib::Library) -> ExitStatus {
    let progress = Progress::start(printer, args.timings);
    let status = build(args, printer, library, &progress);
    progress.finish();
    status
}

/// Compiles and writes (or checks) the tree, telling `progress` each phase;
/// or, when a memo of the last build holds, only checks that DIR holds its tree.
fn build(args: &Args, printer: &Printer, library: &crate::stdlib::Library, progress: &Progress) -> ExitStatus {
    let location = match super::located(&args.path, printer) {
        Ok(location) => location,
        Err(status) => return status,
    };
    let options = crate::layout::Options { schema_comments: !args.no_schema_comments };
    let host = crate::host::FsHost::new(&location.root);
    let memos = Memos::of_build(&location, args.output.as_deref(), options, printer, library);
    if let Some(status) = memos.as_ref().and_then(|memos| remembered(memos, &host, &location, args, printer, progress))
    {
        return status;
    }
    let recording = if memos.is_some() { Recording::new(&host) } else { Recording::off(&host) };
    let watch = |phase: crate::driver::Phase, count| progress.phase(phase.name(), count, phase.counts());
    let compiled = match super::compile_at(location, &recording, printer, library, options, &watch) {
        Ok(compiled) => compiled,
        Err(status) => return status,
    };
    let status = write_compiled(&compiled, args, printer, progress);
    // Only a build that ended well is remembered (a stale tree found by
    // `--check` too: the memo names the tree to make, not the tree found).
    if matches!(status, ExitStatus::Success | ExitStatus::Pending)
        && let Some(memos) = &memos
        && let Some(asked) = recording.asked()
        && let Some(made) = made(&compiled)
    {
        memos.save(&memos.memo(asked, &compiled.shown, made));
    }
    super::left_to_exit(compiled);
    status
}

/// The build as its memo remembers it, when the description answers every
/// question as it did and DIR holds the tree that build made: its
/// diagnostics are printed again and nothing is compiled or written.
/// `None` when the description must be compiled.
fn remembered(
    memos: &Memos,
    host: &crate::host::FsHost,
    location: &super::Location,
    args: &Args,
    printer: &Printer,
    progress: &Progress,
) -> Option<ExitStatus> {
    let memo = memos.load()?;
    let Made::Tree { output, lock: lock_sha, files } = &memo.made else { return None };
    let dir = args.output.clone().unwrap_or_else(|| location.root.join(output));
    progress.phase("recall", memo.asked.len(), "inputs");
    // A build reads DIR under its lock, from the first look to the last;
    // `--check` writes nothing and takes none.
    let lock = if args.check { None } else { Some(acquire(&dir, printer).ok()?) };
    // Cheapest first: DIR's lock, then the description, then every file of DIR.
    let listed = output::listed(&dir, lock_sha)?;
    if !memo.holds(host) {
        return None;
    }
    progress.phase("read", *files, "files");
    let holds = match &lock {
        Some(lock) => output::holds_locked(lock, &listed),
        None => output::holds(&dir, &listed),
    };
    if !holds {
        return None;
    }
    printer.shown(&memo.shown);
    up_to_date(printer, &dir, (!args.check).then_some(*files));
    Some(ExitStatus::Success)
}

/// Says that DIR already holds the tree: one line, whether the build compiled
/// or recalled it (`--check` gives no count of files).
fn up_to_date(printer: &Printer, dir: &Path, files: Option<usize>) {
    match files {
        Some(files) => printer.status(&format!("{} is up to date ({files} files)", dir.display())),
        None => printer.status(&format!("{} is up to date", dir.display())),
    }
}

/// What a compiled build made, as its memo remembers it.
fn made(compiled: &super::Compiled) -> Option<Made> {
    Some(Made::Tree {
        output: compiled.output.to_str()?.to_string(),
        lock: crate::output::sha256_hex(compiled.tree.get(output::LOCK_FILE)?),
        files: compiled.tree.len(),
    })
}

/// Takes DIR's [`DirLock`], saying so when another build holds it.
fn acquire(dir: &Path, printer: &Printer) -> Result<DirLock, output::WriteError> {
    DirLock::acquire(dir, &mut || {
        printer.status(&format!(
            "waiting for another homelabc writing next to {} (it holds the lock of {})",
            dir.display(),
            DirLock::folder(dir).display()
        ));
    })
}

/// Writes (or with `--check`, compares) a compiled tree.
fn write_compiled(compiled: &super::Compiled, args: &Args, printer: &Printer, progress: &Progress) -> ExitStatus {
    let super::Compiled { location, output, tree, read, .. } = compiled;
    let dir = match &args.output {
        Some(dir) => dir.clone(),
        None => location.root.join(output),
    };
    if args.check {
        progress.phase("read", tree.len(), "files");
        return check_tree(&dir, tree, printer);
    }
    // One writer of DIR at a time, from reading the old tree (for the
    // data-loss check) to the swap.
    let lock = match acquire(&dir, printer) {
        Ok(lock) => lock,
        Err(error) => return write_failed(&dir, error, printer),
    };
    let options =
        WriteOptions { force: args.force, protect: read.clone(), pause: test_pause(), ..WriteOptions::default() };
    // DIR is read once: the data-loss plan and the writer share it.
    progress.phase("read", tree.len(), "files");
    let old = match output::read_locked(&lock, tree, &options) {
        Ok(old) => old,
        Err(error) => return write_failed(&dir, error, printer),
    };
    progress.phase("plan", old.differing().count(), "files");
    if let Some(status) = refuse_data_loss(&dir, &old, tree, &args.allow_destroy, printer) {
        return status;
    }
    progress.phase("write", tree.len(), "files");
    match output::write_read(&lock, old, tree, &options) {
        Ok(WriteOutcome::Unchanged) => {
            up_to_date(printer, &dir, Some(tree.len()));
            ExitStatus::Success
        }
        Ok(WriteOutcome::Written { added, changed, removed, leftover }) => {
            printer.status(&format!(
                "wrote {} ({} files: {} added, {} changed, {} removed)",
                dir.display(),
                tree.len(),
                added.len(),
                changed.len(),
                removed.len()
            ));
            if let Some(left) = leftover {
                let ignored = if left.ignored {
                    "it holds a `.gitignore` of `*`, so Git leaves it out"
                } else {
                    "Git would see it: do not commit it"
                };
                printer.warning(&format!(
                    "the old tree could not be removed ({}); it is left at {} ({ignored}); remove it by hand, \
                     or the next build retries",
                    left.error,
                    left.path.display()
                ));
            }
            ExitStatus::Success
        }
        Err(error) => write_failed(&dir, error, printer),
    }
}

/// Reports a write that failed or was refused; its exit status.
fn write_failed(dir: &Path, error: output::WriteError, printer: &Printer) -> ExitStatus {
    printer.error(&format!("{}: {error}", dir.display()));
    match error {
        // A refusal to touch what homelabc did not write, or the description itself.
        output::WriteError::StrayFiles(_) | output::WriteError::Symlink(_) | output::WriteError::Protected { .. } => {
            ExitStatus::Failure
        }
        // The file system failed, or DIR is not a folder: an I/O error.
        _ => ExitStatus::Error,
    }
}

/// The writer's pause test hook, from `HOMELABC_TEST_PAUSE=STAGE:MARKER`
/// (tests/writer.rs kills a build there): never set outside that test.
fn test_pause() -> Option<(Pause, PathBuf)> {
    #[allow(clippy::disallowed_methods)] // The CLI edge may read the environment.
    let value = std::env::var("HOMELABC_TEST_PAUSE").ok()?;
    let (stage, marker) = value.split_once(':')?;
    let stage = match stage {
        "mid-write" => Pause::MidWrite,
        "before-swap" => Pause::BeforeSwap,
        "after-swap" => Pause::AfterSwap,
        _ => return None,
    };
    Some((stage, PathBuf::from(marker)))
}

/// Refuses a build that destroys data no `--allow-destroy` accepts, before
/// anything is written (SPEC §6). `None` when the build may go on.
///
/// Data can be lost only where the old tree differs: nothing is planned when
/// DIR is absent or byte-identical, and only the files that differ are parsed
/// (both trees' files that are the same hold the same objects), unless the
/// two locks list different clusters, which changes what some paths mean.
fn refuse_data_loss(
    dir: &Path,
    old: &output::OldTree,
    tree: &output::OutputTree,
    allowed: &[String],
    printer: &Printer,
) -> Option<ExitStatus> {
    if !old.exists() || old.unchanged(tree) {
        return None;
    }
    let old_lock = old.files(tree).find(|(path, _)| *path == output::LOCK_FILE);
    let old_clusters = old_lock.map(|(_, bytes)| output::lock_clusters_of(bytes)).unwrap_or_default();
    let new_clusters = output::lock_clusters(tree);
    let plan = if old_clusters == new_clusters {
        let after = tree.files().filter(|(path, _)| !old.same_at(path));
        crate::plan::diff_files(old.differing(), &old_clusters, after, &new_clusters)
    } else {
        crate::plan::diff_files(old.files(tree), &old_clusters, tree.files(), &new_clusters)
    };
    let refused = plan.refused(allowed);
    if refused.is_empty() {
        return None;
    }
    let mut message = format!("refusing to build: the change destroys data ({} left as it was)", dir.display());
    let mut names: Vec<&str> = Vec::new();
    for entry in refused {
        if let Some(loss) = &entry.data_loss {
            message.push_str(&format!("\n  - {}: {}", entry.key.label(), loss.reason));
            names.push(&loss.declaration);
        }
    }
    names.sort_unstable();
    names.dedup();
    let flags: Vec<String> = names.iter().map(|n| format!("--allow-destroy {n}")).collect();
    message.push_str(&format!("\n  review it with `homelabc plan`, then accept it with `{}`", flags.join(" ")));
    printer.error(&message);
    Some(ExitStatus::Failure)
}

/// `--check`: what `build` would change in DIR, writing nothing.
fn check_tree(dir: &Path, tree: &output::OutputTree, printer: &Printer) -> ExitStatus {
    let (added, changed, removed) = match output::pending(dir, tree) {
        Ok(WriteOutcome::Unchanged) => {
            up_to_date(printer, dir, None);
            return ExitStatus::Success;
        }
        Ok(WriteOutcome::Written { added, changed, removed, .. }) => (added, changed, removed),
        Err(error) => {
            printer.error(&format!("{}: {error}", dir.display()));
            return ExitStatus::Error;
        }
    };
    let mut stale: Vec<(String, char)> = added.into_iter().map(|p| (p, '+')).collect();
    stale.extend(changed.into_iter().map(|p| (p, '~')));
    stale.extend(removed.into_iter().map(|p| (p, '-')));
    stale.sort();
    // One write for the whole list (standard error is not buffered: a line
    // each was two system calls a file, 180,000 at 10,000 apps).
    let mut listing = format!("{} is stale; `homelabc build` would change:", dir.display());
    for (path, mark) in &stale {
        let _ = write!(listing, "\n  {mark} {path}");
    }
    printer.status(&listing);
    ExitStatus::Pending
}
