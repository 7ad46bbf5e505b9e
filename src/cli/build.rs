//! `homelabc build [PATH] [-o DIR] [--check] [--force]`: render the tree.

use std::path::{Path, PathBuf};

use super::{ExitStatus, Printer};
use crate::output::{self, WriteOptions, WriteOutcome};

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
}

/// Runs the command.
pub fn run(args: &Args, printer: &Printer, library: &crate::stdlib::Library) -> ExitStatus {
    let location = match super::locate(&args.path) {
        Ok(l) => l,
        Err(message) => {
            printer.error(&message);
            return ExitStatus::Error;
        }
    };
    let host = crate::host::FsHost::new(&location.root);
    let built = crate::driver::build_with(&host, &location.file, library);
    printer.diagnostics(&built.checked.diagnostics, &built.checked.sources);
    let tree = match built.tree {
        Some(Ok(tree)) => tree,
        Some(Err(message)) => {
            printer.error(&format!("internal error while laying out the tree: {message}"));
            return ExitStatus::Failure;
        }
        None => return ExitStatus::Failure,
    };
    let dir = match &args.output {
        Some(dir) => dir.clone(),
        None => location.root.join(default_output(&built.checked.model)),
    };
    if args.check {
        return check_tree(&dir, &tree, printer);
    }
    match output::write(&dir, &tree, &WriteOptions { force: args.force, ..WriteOptions::default() }) {
        Ok(WriteOutcome::Unchanged) => {
            printer.status(&format!("{} is up to date ({} files)", dir.display(), tree.len()));
            ExitStatus::Success
        }
        Ok(WriteOutcome::Written { added, changed, removed }) => {
            printer.status(&format!(
                "wrote {} ({} files: {} added, {} changed, {} removed)",
                dir.display(),
                tree.len(),
                added.len(),
                changed.len(),
                removed.len()
            ));
            ExitStatus::Success
        }
        Err(error) => {
            printer.error(&format!("{}: {error}", dir.display()));
            ExitStatus::Failure
        }
    }
}

/// The gitops path of the first cluster that has one, else `deploy`.
fn default_output(model: &crate::model::Model) -> PathBuf {
    model
        .clusters
        .iter()
        .find_map(|c| c.gitops.as_ref())
        .map_or_else(|| PathBuf::from("deploy"), |g| PathBuf::from(&g.path.value))
}

/// `--check`: what `build` would change in DIR, writing nothing.
fn check_tree(dir: &Path, tree: &output::OutputTree, printer: &Printer) -> ExitStatus {
    let (added, changed, removed) = match output::pending(dir, tree) {
        Ok(WriteOutcome::Unchanged) => {
            printer.status(&format!("{} is up to date", dir.display()));
            return ExitStatus::Success;
        }
        Ok(WriteOutcome::Written { added, changed, removed }) => (added, changed, removed),
        Err(error) => {
            printer.error(&format!("{}: {error}", dir.display()));
            return ExitStatus::Error;
        }
    };
    let mut stale: Vec<(String, char)> = added.into_iter().map(|p| (p, '+')).collect();
    stale.extend(changed.into_iter().map(|p| (p, '~')));
    stale.extend(removed.into_iter().map(|p| (p, '-')));
    stale.sort();
    printer.status(&format!("{} is stale; `homelabc build` would change:", dir.display()));
    for (path, mark) in &stale {
        printer.status(&format!("  {mark} {path}"));
    }
    ExitStatus::Pending
}
