//! `homelabc plan [PATH] [-o DIR] [--against REF] [--format F] [--detailed-exitcode]`:
//! what a build would change, compiled in memory and compared with the tree
//! in DIR, or with the tree as of a git ref (read with git, the working tree
//! untouched). See [`crate::plan`].

use std::io::Write as _;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use super::{ExitStatus, Printer};
use crate::output::OutputTree;
use crate::plan::{self, Format};

/// Arguments of `homelabc plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A homelab.kdl file, or a folder holding one.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The output folder to compare with (default: as `build`).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Compare with the output folder as of this git ref (a branch, tag or commit) instead of
    /// the files on disk.
    #[arg(long, value_name = "REF")]
    pub against: Option<String>,
    /// How the plan is printed: for a terminal, as JSON, or as Markdown for a pull request.
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub format: PlanFormat,
    /// Exit 0 when nothing changes, 2 when something does, 1 on errors.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Compare trees written without the `# yaml-language-server: $schema=` line (as `build
    /// --no-schema-comments` writes them).
    #[arg(long)]
    pub no_schema_comments: bool,
}

/// How a plan is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    /// Terraform-like, for a terminal.
    Human,
    /// One JSON object: the entries and the summary.
    Json,
    /// Markdown, ready to post on a pull request.
    Markdown,
}

/// Runs the command.
pub fn run(args: &Args, printer: &Printer, library: &crate::stdlib::Library) -> ExitStatus {
    let super::Compiled { location, output, tree, .. } = match super::compile_path(
        &args.path,
        printer,
        library,
        crate::layout::Options { schema_comments: !args.no_schema_comments },
    ) {
        Ok(compiled) => compiled,
        Err(status) => return status,
    };
    let dir = args.output.clone().unwrap_or_else(|| location.root.join(output));
    let before = match &args.against {
        Some(reference) => git_tree(&location.root, &dir, reference),
        None => crate::output::read_tree(&dir).map_err(|e| format!("{}: {e}", dir.display())),
    };
    let before = match before {
        Ok(tree) => tree,
        Err(message) => {
            printer.error(&message);
            return ExitStatus::Error;
        }
    };
    let plan = plan::diff(&before, &tree);
    let format = match args.format {
        PlanFormat::Human => Format::Human,
        PlanFormat::Json => Format::Json,
        PlanFormat::Markdown => Format::Markdown,
    };
    printer.out(&plan::render(&plan, format));
    if args.detailed_exitcode && !plan.is_empty() { ExitStatus::Pending } else { ExitStatus::Success }
}

/// The tree in `dir` as of `reference`, read with `git ls-tree` and `git cat-file`.
fn git_tree(root: &Path, dir: &Path, reference: &str) -> Result<OutputTree, String> {
    let top = git(root, &["rev-parse", "--show-toplevel"], None)?;
    let top = PathBuf::from(String::from_utf8_lossy(&top).trim_end());
    let top = top.canonicalize().map_err(|e| format!("{}: {e}", top.display()))?;
    let absolute = absolute(dir)?;
    let Ok(relative) = absolute.strip_prefix(&top) else {
        return Err(format!("{} is not inside the git repository at {}", dir.display(), top.display()));
    };
    let prefix = relative.to_string_lossy().replace('\\', "/");
    git(&top, &["rev-parse", "--verify", "--quiet", &format!("{reference}^{{commit}}")], None)
        .map_err(|_| format!("--against {reference}: no such commit, branch or tag"))?;
    let listing = if prefix.is_empty() {
        git(&top, &["ls-tree", "-r", "-z", "--full-tree", reference], None)?
    } else {
        git(&top, &["ls-tree", "-r", "-z", "--full-tree", reference, "--", &prefix], None)?
    };
    let mut blobs = Vec::new();
    for record in listing.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let record = String::from_utf8_lossy(record);
        let Some((meta, path)) = record.split_once('\t') else { continue };
        let mut parts = meta.split(' ');
        let (_mode, kind, oid) = (parts.next(), parts.next(), parts.next());
        if kind != Some("blob") {
            continue;
        }
        let inner = if prefix.is_empty() { path } else { path.strip_prefix(&format!("{prefix}/")).unwrap_or(path) };
        blobs.push((inner.to_string(), oid.unwrap_or_default().to_string()));
    }
    let input: String = blobs.iter().map(|(_, oid)| format!("{oid}\n")).collect();
    let contents = git(&top, &["cat-file", "--batch"], Some(input.as_bytes()))?;
    let mut tree = OutputTree::new();
    let mut rest = contents.as_slice();
    for (path, _) in &blobs {
        let newline = rest.iter().position(|b| *b == b'\n').ok_or("git cat-file: truncated output")?;
        let header = String::from_utf8_lossy(&rest[..newline]).to_string();
        let size: usize = header.rsplit(' ').next().and_then(|s| s.parse().ok()).ok_or("git cat-file: bad header")?;
        let body = rest.get(newline + 1..newline + 1 + size).ok_or("git cat-file: truncated output")?;
        tree.insert_any(path, body.to_vec()).map_err(|e| format!("{path} at {reference}: {e}"))?;
        rest = rest.get(newline + 2 + size..).unwrap_or_default();
    }
    Ok(tree)
}

/// Runs git in `dir` and returns its standard output.
fn git(dir: &Path, args: &[&str], input: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        // Written from another thread: git answers while it reads.
        let input = input.to_vec();
        std::thread::spawn(move || stdin.write_all(&input));
    }
    let output = child.wait_with_output().map_err(|e| format!("git: {e}"))?;
    if !output.status.success() {
        return Err(format!("git {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim()));
    }
    Ok(output.stdout)
}

/// `dir` made absolute and normalized without touching the file system below
/// its deepest existing ancestor (the folder need not exist at HEAD).
fn absolute(dir: &Path) -> Result<PathBuf, String> {
    let mut existing = dir.to_path_buf();
    let mut missing = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name.to_os_string());
                existing = if parent.as_os_str().is_empty() { PathBuf::from(".") } else { parent.to_path_buf() };
            }
            _ => break,
        }
    }
    let mut path = existing.canonicalize().map_err(|e| format!("{}: {e}", existing.display()))?;
    for name in missing.into_iter().rev() {
        match Path::new(&name).components().next() {
            Some(Component::ParentDir) => {
                path.pop();
            }
            Some(Component::CurDir) | None => {}
            _ => path.push(name),
        }
    }
    Ok(path)
}
