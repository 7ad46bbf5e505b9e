//! The command line: clap definitions (doc comments are the help text), one
//! file per subcommand, and the mapping from outcomes to exit codes.
//!
//! Exit codes, the same for every command: 0 success; 1 the input has errors;
//! 2 the input is fine but changes are pending; 3 usage or I/O error.

mod build;
mod check;
mod completions;
mod explain;
mod fmt;
mod graph;
mod init;
mod lsp;
mod memo;
mod plan;
mod printer;
mod progress;
mod renovate;
mod set;

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::stdlib::Library;
use clap::{Parser, Subcommand, ValueEnum};

pub use printer::Printer;

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Success.
    Success,
    /// The input has errors, or a build was refused.
    Failure,
    /// The input is fine but changes are pending.
    Pending,
    /// A usage or I/O error.
    Error,
}

impl ExitStatus {
    /// The process's exit code, the same for every command (SPEC §1).
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Pending => 2,
            ExitStatus::Error => 3,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        ExitCode::from(status.code())
    }
}

/// homelabc compiles a homelab described in KDL into a deterministic GitOps tree.
#[derive(Debug, Parser)]
#[command(name = "homelabc", version, about, propagate_version = true)]
pub struct Cli {
    /// When to use colors.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// How diagnostics are printed.
    #[arg(long, global = true, value_enum, default_value_t = MessageFormat::Human)]
    pub message_format: MessageFormat,
    /// Print nothing but diagnostics.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// A folder of stdlib components (`<name>.kdl`) replacing or adding to the embedded ones.
    #[arg(long, global = true, value_name = "DIR")]
    pub stdlib: Option<PathBuf>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// When to use colors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// When standard error is a terminal and NO_COLOR is unset.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// How diagnostics are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MessageFormat {
    /// Rendered reports with the source and labels.
    Human,
    /// One line per diagnostic: `file:line:col: error[CODE]: message`.
    Short,
    /// One JSON object per line.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile a description into its output tree.
    Build(build::Args),
    /// Show what a build would change in the output tree (or against a git ref), like `terraform plan`.
    Plan(plan::Args),
    /// Parse, type and check a description (for pre-commit hooks).
    Check(check::Args),
    /// Print the dependency graph.
    Graph(graph::Args),
    /// Explain a diagnostic code, or list them all.
    Explain(explain::Args),
    /// Change one value of the description in place (`set app.demo-app.image.tag sha-1a2b3c4`),
    /// keeping comments and layout; nothing is written unless the result checks.
    Set(set::Args),
    /// Format the description's files canonically, comments kept.
    Fmt(fmt::Args),
    /// Start a homelab from an embedded example.
    Init(init::Args),
    /// Print a shell completion script.
    Completions(completions::Args),
    /// Print the Renovate preset that finds every version pinned in `.kdl` files.
    Renovate(renovate::Args),
    /// Serve editors over the Language Server Protocol on stdin and stdout.
    Lsp(lsp::Args),
}

/// Parses the command line and runs the command.
pub fn main() -> ExitStatus {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() { ExitStatus::Error } else { ExitStatus::Success };
        }
    };
    run(cli)
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitStatus {
    let printer = Printer::new(cli.color, cli.message_format, cli.quiet);
    let library = match &cli.stdlib {
        None => Library::embedded(),
        Some(dir) if dir.is_dir() => match Library::with_overrides(&crate::host::FsHost::new(dir)) {
            Ok(library) => library,
            Err(error) => {
                printer.error(&format!("cannot read the stdlib folder {}: {error}", dir.display()));
                return ExitStatus::Error;
            }
        },
        Some(dir) => {
            printer.error(&format!("--stdlib {}: no such folder", dir.display()));
            return ExitStatus::Error;
        }
    };
    match cli.command {
        Command::Build(args) => build::run(&args, &printer, &library),
        Command::Check(args) => check::run(&args, &printer, &library),
        Command::Graph(args) => graph::run(&args, &printer, &library),
        Command::Explain(args) => explain::run(&args, &printer, &library),
        Command::Set(args) => set::run(&args, &printer, &library),
        Command::Plan(args) => plan::run(&args, &printer, &library),
        Command::Fmt(args) => fmt::run(&args, &printer, &library),
        Command::Init(args) => init::run(&args, &printer, &library),
        Command::Completions(args) => completions::run(&args, &printer, &library),
        Command::Renovate(args) => renovate::run(&args, &printer, &library),
        Command::Lsp(args) => lsp::run(&args, &printer, &library),
    }
}

/// Lets go of what a command made without freeing it, piece by piece, when
/// the process is about to end: the kernel takes the memory back at once.
/// Freeing a large homelab's model, objects and tree cost a tenth of the
/// CPU time of a 10,000-app `build --check` (BENCHMARKS.md, run F). Only for
/// what a command holds at its end: [`run`] returns right before the process
/// exits.
fn left_to_exit<T>(value: T) {
    std::mem::forget(value);
}

/// Where a description is: its root folder and root file name.
#[derive(Clone, Debug)]
pub struct Location {
    /// The folder holding the root file; paths are relative to it.
    pub root: PathBuf,
    /// The root file's name within it.
    pub file: String,
}

/// Resolves PATH: a file, or a folder holding `homelab.kdl`.
pub fn locate(path: &Path) -> Result<Location, String> {
    if path.is_dir() {
        let file = path.join(crate::host::ROOT_FILE);
        if !file.is_file() {
            return Err(format!("{} holds no {}", path.display(), crate::host::ROOT_FILE));
        }
        return Ok(Location { root: path.to_path_buf(), file: crate::host::ROOT_FILE.into() });
    }
    if path.is_file() {
        let root = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        return Ok(Location { root, file });
    }
    Err(format!("{}: no such file or folder", path.display()))
}

/// [`locate`], the error printed: the exit status to end with on failure.
pub fn located(path: &Path, printer: &Printer) -> Result<Location, ExitStatus> {
    locate(path).map_err(|message| {
        printer.error(&message);
        ExitStatus::Error
    })
}

/// A description compiled in memory.
#[derive(Debug)]
pub struct Compiled {
    /// Where it is.
    pub location: Location,
    /// Where its tree goes when no `-o DIR` says ([`crate::model::Model::output_folder`]).
    pub output: PathBuf,
    /// Its sealed output tree.
    pub tree: crate::output::OutputTree,
    /// The description's folder and every file it read (its `.kdl` files and
    /// the files they reference), as paths below PATH's folder: the output may
    /// never hold or replace them.
    pub read: Vec<PathBuf>,
    /// Its diagnostics, as printed.
    pub shown: String,
}

/// Loads, checks and compiles the description at PATH in memory, printing
/// its diagnostics. On failure, the exit status to end with (after printing).
pub fn compile_path(
    path: &Path,
    printer: &Printer,
    library: &Library,
    options: crate::layout::Options,
) -> Result<Compiled, ExitStatus> {
    compile_watched(path, printer, library, options, &|_, _| {})
}

/// [`compile_path`], telling `watch` when each phase starts.
pub fn compile_watched(
    path: &Path,
    printer: &Printer,
    library: &Library,
    options: crate::layout::Options,
    watch: crate::driver::Watch<'_>,
) -> Result<Compiled, ExitStatus> {
    let location = located(path, printer)?;
    let host = crate::host::FsHost::new(&location.root);
    compile_at(location, &host, printer, library, options, watch)
}

/// [`compile_watched`] of a located description, read through `host` (a
/// host over `location.root`).
pub fn compile_at(
    location: Location,
    host: &dyn crate::host::Host,
    printer: &Printer,
    library: &Library,
    options: crate::layout::Options,
    watch: crate::driver::Watch<'_>,
) -> Result<Compiled, ExitStatus> {
    let built = crate::driver::build_lean(host, &location.file, library, options, watch);
    let shown = printer.render(&built.diagnostics, &built.sources);
    printer.shown(&shown);
    match built.tree {
        Some(Ok(tree)) => {
            let sources = built.sources.iter().filter(|(_, f)| f.origin == crate::source::Origin::User);
            let files = sources.map(|(_, f)| f.path.clone()).chain(built.attachments);
            let read = std::iter::once(location.root.clone()).chain(files.map(|p| location.root.join(p))).collect();
            let output = PathBuf::from(built.output);
            left_to_exit((built.sources, built.diagnostics));
            Ok(Compiled { location, output, tree, read, shown })
        }
        Some(Err(message)) => {
            printer.error(&format!("internal error while laying out the tree: {message}"));
            Err(ExitStatus::Failure)
        }
        None => Err(ExitStatus::Failure),
    }
}

/// Loads and checks the description at PATH, printing its diagnostics.
/// Returns `None` (after printing) on an I/O error.
pub fn check_path(path: &Path, printer: &Printer, library: &Library) -> Option<crate::driver::Checked> {
    let location = located(path, printer).ok()?;
    let host = crate::host::FsHost::new(&location.root);
    let checked = crate::driver::check_with(&host, &location.file, library);
    printer.diagnostics(&checked.diagnostics, &checked.sources);
    Some(checked)
}

/// Replaces a description file's text atomically (`set`, `fmt`): a temporary
/// file beside it (tempfile: a unique name, removed if anything fails), with
/// its permissions, synced, then renamed over it. A link is followed to the
/// file it names. Refuses when the file no longer holds `before`.
fn replace_file(path: &Path, before: &str, after: &str) -> io::Result<()> {
    let real = path.canonicalize()?;
    if fs::read(&real)? != before.as_bytes() {
        return Err(io::Error::other("the file changed while homelabc was editing it"));
    }
    let dir = real.parent().ok_or_else(|| io::Error::other("the file has no folder"))?;
    let name = real.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut temp = tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".homelabc").tempfile_in(dir)?;
    temp.write_all(after.as_bytes())?;
    temp.as_file().set_permissions(fs::metadata(&real)?.permissions())?;
    temp.as_file().sync_all()?;
    temp.persist(&real).map_err(|e| e.error)?;
    // The rename is durable once the folder is synced (where folders can be opened).
    if let Ok(folder) = fs::File::open(dir) {
        let _ = folder.sync_all();
    }
    Ok(())
}
