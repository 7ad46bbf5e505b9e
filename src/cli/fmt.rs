//! `homelabc fmt [PATH] [--check]`: rewrite the description's files in the
//! canonical layout, comments kept; `--check` writes nothing and fails when a
//! file would change, like `rustfmt --check`.

use std::path::{Path, PathBuf};

use super::{ExitStatus, Printer};

/// Arguments of `homelabc fmt`.
#[derive(Debug, clap::Args)]
#[command(after_help = "The description's files are the root file and every file it imports. Canonical means one \
                  node per line, four spaces per level, single spaces between entries, at most one blank line \
                  in a row, `\\n` line breaks and a final one; comments, quoting and number notation stay as \
                  written, and a KDL v1 file is rewritten in KDL v2. A file is written only when the result \
                  parses to the same nodes and values.")]
pub struct Args {
    /// A homelab.kdl file, or a folder holding one.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Write nothing; list the files that would change and fail (exit 1) if any.
    #[arg(long)]
    pub check: bool,
}

/// Runs the command.
pub fn run(args: &Args, printer: &Printer, _library: &crate::stdlib::Library) -> ExitStatus {
    let location = match super::locate(&args.path) {
        Ok(l) => l,
        Err(message) => {
            printer.error(&message);
            return ExitStatus::Error;
        }
    };
    let host = crate::host::FsHost::new(&location.root);
    let formatted = crate::fmt::description(&host, &location.file);
    if !formatted.diagnostics.is_empty() {
        printer.diagnostics(&formatted.diagnostics, &formatted.sources);
        printer.status("nothing formatted: the description has errors");
        return ExitStatus::Failure;
    }
    if !formatted.failures.is_empty() {
        for (path, error) in &formatted.failures {
            printer.error(&format!("{}: {error}", shown(&location.root, path)));
        }
        printer.status("nothing written");
        return ExitStatus::Failure;
    }
    let changed: Vec<&crate::fmt::File> = formatted.files.iter().filter(|f| f.changed()).collect();
    if args.check {
        for file in &changed {
            printer.out(&format!("{}\n", shown(&location.root, &file.path)));
        }
        if !changed.is_empty() {
            printer.status(&format!("{} would be reformatted", files(changed.len())));
            return ExitStatus::Failure;
        }
    } else {
        for file in &changed {
            let path = location.root.join(&file.path);
            if let Err(error) = super::replace_file(&path, &file.before, &file.after) {
                printer.error(&format!("{}: {error}", shown(&location.root, &file.path)));
                return ExitStatus::Error;
            }
        }
    }
    if changed.is_empty() {
        printer.status(&format!("{} already formatted", files(formatted.files.len())));
    } else if !args.check {
        printer.status(&format!("formatted {}", files(changed.len())));
    }
    ExitStatus::Success
}

/// A file's path as the user names it: below the folder PATH named.
fn shown(root: &Path, logical: &str) -> String {
    if root == Path::new(".") { logical.to_string() } else { root.join(logical).display().to_string() }
}

/// `1 file`, `3 files`.
fn files(n: usize) -> String {
    format!("{n} file{}", if n == 1 { "" } else { "s" })
}
