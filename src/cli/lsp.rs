//! `homelabc lsp`: the language server, over stdin and stdout, for editors.

use super::{ExitStatus, Printer};

/// Arguments of `homelabc lsp`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Editors start it and speak the Language Server Protocol on its standard input and \
                  output: diagnostics (those of `homelabc check`, across imports, as you type), completion of \
                  declaration kinds, properties, children, allowed values and names of declarations, hover \
                  (docs of kinds and properties, the explanation of diagnostic codes), go to definition of \
                  references and imports, and formatting (`homelabc fmt`). The README's \"Editor\" section \
                  says how to wire it into VS Code, Neovim and Helix.")]
pub struct Args {
    /// Speak over stdin and stdout (the only transport; accepted because
    /// editors' generic clients often pass it).
    #[arg(long)]
    pub stdio: bool,
}

/// Runs the command until the editor asks it to exit.
pub fn run(_args: &Args, printer: &Printer, library: &crate::stdlib::Library) -> ExitStatus {
    let (connection, threads) = lsp_server::Connection::stdio();
    let served = crate::lsp::serve(&connection, library, &super::init::example_sources());
    // The writer thread ends once every sender is gone.
    drop(connection);
    let joined = threads.join();
    match (served, joined) {
        (Ok(()), Ok(())) => ExitStatus::Success,
        (Err(message), _) => {
            printer.error(&format!("language server: {message}"));
            ExitStatus::Failure
        }
        (Ok(()), Err(error)) => {
            printer.error(&format!("language server: {error}"));
            ExitStatus::Error
        }
    }
}
