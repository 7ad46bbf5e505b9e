//! The `homelabc` binary: parse the command line, run, map the status to an exit code.

/// mimalloc instead of the system allocator: a build allocates millions of
/// small strings and maps, from several threads (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    homelabc::cli::main()
}
