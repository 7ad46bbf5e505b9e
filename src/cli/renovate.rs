//! `homelabc renovate`: print the Renovate preset for the stdlib in use
//! (`--stdlib` included), the text `renovate/homelabc.json5` ships.

use super::{ExitStatus, Printer};

/// Arguments of `homelabc renovate`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Save it beside homelab.kdl and extend it from the repository's Renovate config: \
                  `homelabc renovate > renovate/homelabc.json5`, then \
                  `{\"extends\": [\"config:recommended\", \"local>OWNER/REPO//renovate/homelabc.json5\"]}` \
                  (README.md, \"Renovate\").")]
pub struct Args {}

/// Runs the command.
pub fn run(_args: &Args, printer: &Printer, library: &crate::stdlib::Library) -> ExitStatus {
    printer.out(&crate::renovate::preset(library));
    ExitStatus::Success
}
