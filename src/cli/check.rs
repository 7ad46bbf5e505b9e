//! `homelabc check [PATH]`: parse, type and check, for pre-commit hooks.

use std::path::PathBuf;

use super::{ExitStatus, Printer};

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

/// Runs the command.
pub fn run(args: &Args, printer: &Printer, library: &crate::stdlib::Library) -> ExitStatus {
    let Some(checked) = super::check_path(&args.path, printer, library) else {
        return ExitStatus::Error;
    };
    let warnings = checked.diagnostics.iter().any(|d| !d.is_error());
    if checked.has_errors() || (args.deny_warnings && warnings) {
        return ExitStatus::Failure;
    }
    printer.status(&format!(
        "checked {} file{}: no errors",
        checked.sources.len(),
        if checked.sources.len() == 1 { "" } else { "s" }
    ));
    ExitStatus::Success
}
