//! `homelabc set [PATH] ADDRESS VALUE`: change one value of the description in
//! place, keeping comments, spacing and order; nothing is written unless the
//! edited description checks.

use std::path::Path;

use super::{ExitStatus, Printer};
use crate::edit::{self, Address, Edit, Outcome};

/// Arguments of `homelabc set`.
#[derive(Debug, clap::Args)]
#[command(
    override_usage = "homelabc set [PATH] <ADDRESS> <VALUE>",
    after_help = "Addresses are `kind.name.path`: `app.demo-app.image.tag` (the `tag=` of the app's `image`), \
                  `app.demo-app.replicas` (the value of its `replicas`), `app.demo-app.env.LOG_LEVEL` (the `env` \
                  whose first argument is `LOG_LEVEL`). Where apps of one name live in several namespaces, \
                  write `app.NAMESPACE/NAME`. Only what is written in the description's files can be set: \
                  declarations a stdlib component adds are set through the parameters of their `use` \
                  (`use.argocd.node-port`)."
)]
pub struct Args {
    /// A homelab.kdl file, or a folder holding one; may be left out [default: .]
    #[arg(allow_negative_numbers = true)]
    pub path: Option<String>,
    /// What to set, as `kind.name.path` (required).
    #[arg(allow_negative_numbers = true)]
    pub address: Option<String>,
    /// The new value, as plain text: `sha-1a2b3c4`, `3`, `true` (required; a value starting with `-`
    /// other than a number goes after `--`).
    #[arg(allow_negative_numbers = true)]
    pub value: Option<String>,
}

/// Runs the command.
pub fn run(args: &Args, printer: &Printer, library: &crate::stdlib::Library) -> ExitStatus {
    // PATH may be left out: two words are ADDRESS and VALUE.
    let (path, address, value) = match (&args.path, &args.address, &args.value) {
        (Some(address), Some(value), None) => (".", address, value),
        (Some(path), Some(address), Some(value)) => (path.as_str(), address, value),
        _ => {
            printer.error("give an address and a value: `homelabc set [PATH] ADDRESS VALUE`");
            return ExitStatus::Error;
        }
    };
    let address = match Address::parse(address) {
        Ok(address) => address,
        Err(message) => {
            printer.error(&message);
            return ExitStatus::Error;
        }
    };
    let location = match super::locate(Path::new(path)) {
        Ok(l) => l,
        Err(message) => {
            printer.error(&message);
            return ExitStatus::Error;
        }
    };
    let host = crate::host::FsHost::new(&location.root);
    let set = edit::set(&host, &location.file, &address, value, library);
    printer.diagnostics(&set.diagnostics, &set.sources);
    match set.outcome {
        Outcome::Edited(edit) => write(&location.root, &edit, &address, printer),
        Outcome::Unchanged(edit) => {
            printer.status(&format!("{address} is already {} in {}: nothing written", edit.token, edit.path));
            ExitStatus::Success
        }
        Outcome::Refused => {
            printer.status(&format!("nothing written: `{address}` was not set"));
            ExitStatus::Failure
        }
        Outcome::Internal(message) => {
            printer.error(&format!("internal error, nothing written: {message}"));
            ExitStatus::Failure
        }
    }
}

/// Writes the checked edit and reports it.
fn write(root: &Path, edit: &Edit, address: &Address, printer: &Printer) -> ExitStatus {
    match super::replace_file(&root.join(&edit.path), &edit.before, &edit.after) {
        Ok(()) => {
            let verb = if edit.inserted { "added" } else { "set" };
            printer.status(&format!("{verb} {address} = {} in {}", edit.token, edit.path));
            ExitStatus::Success
        }
        Err(error) => {
            printer.error(&format!("{}: {error}; nothing written", edit.path));
            ExitStatus::Error
        }
    }
}
