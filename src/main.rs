//! The `homelabc` binary: parse the command line, run, map the status to an exit code.

fn main() -> std::process::ExitCode {
    homelabc::cli::main()
}
