//! `homelabc check [PATH]`: parse, type and check, for pre-commit hooks.

use std::path::PathBuf;

use super::memo::Memos;
use super::{ExitStatus, Printer};
use crate::memo::{Made, Recording};

/// Arguments of `homelabc check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A homelab.kdl file, or a folder holding one.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Fail on warnings too (for CI).
    #[arg(long)]
    pub deny_warnings: bool,
}

/// Runs the command; when the description answers every question as it did
/// for a check remembered with the same options, the verdict is recalled
/// ([`crate::memo`]).
pub fn run(args: &Args, printer: &Printer, library: &crate::stdlib::Library) -> ExitStatus {
    let location = match super::located(&args.path, printer) {
        Ok(location) => location,
        Err(status) => return status,
    };
    let host = crate::host::FsHost::new(&location.root);
    let memos = Memos::of_check(&location, args.deny_warnings, printer, library);
    if let Some(memo) = memos.as_ref().and_then(Memos::load)
        && let Made::Verdict { failed, said } = &memo.made
        && memo.holds(&host)
    {
        return verdict(printer, &memo.shown, *failed, said.as_deref());
    }
    let recording = if memos.is_some() { Recording::new(&host) } else { Recording::off(&host) };
    let checked = crate::driver::check_with(&recording, &location.file, library);
    let shown = printer.render(&checked.diagnostics, &checked.sources);
    let warnings = checked.diagnostics.iter().any(|d| !d.is_error());
    let failed = checked.has_errors() || (args.deny_warnings && warnings);
    let files = checked.sources.len();
    let said = (!failed).then(|| format!("checked {files} file{}: no errors", if files == 1 { "" } else { "s" }));
    if let Some(memos) = &memos
        && let Some(asked) = recording.asked()
    {
        memos.save(&memos.memo(asked, &shown, Made::Verdict { failed, said: said.clone() }));
    }
    super::left_to_exit(checked);
    verdict(printer, &shown, failed, said.as_deref())
}

/// Prints a check's diagnostics and its last line; its exit status.
fn verdict(printer: &Printer, shown: &str, failed: bool, said: Option<&str>) -> ExitStatus {
    printer.shown(shown);
    if let Some(said) = said {
        printer.status(said);
    }
    if failed { ExitStatus::Failure } else { ExitStatus::Success }
}
