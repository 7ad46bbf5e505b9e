//! The driver: the only place that knows the order of the phases.
//!
//! load → lower → resolve referenced files → check → graph.

use crate::diag::{self, Code, Diagnostic};
use crate::graph::{self, Graph};
use crate::host::{self, Host};
use crate::model::{Model, SecretSource};
use crate::source::{SourceMap, Spanned};
use crate::stdlib::Library;

/// The result of compiling a description up to the checked model and graph.
#[derive(Debug)]
pub struct Checked {
    /// Every source file read.
    pub sources: SourceMap,
    /// The model, as far as the input allowed.
    pub model: Model,
    /// The dependency graph.
    pub graph: Graph,
    /// Every diagnostic, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// Whether any error was found.
    pub fn has_errors(&self) -> bool {
        diag::has_errors(&self.diagnostics)
    }
}

/// Loads, lowers and checks the description whose root file is `root`
/// (a logical path in `host`, usually `homelab.kdl`).
pub fn check(host: &dyn Host, root: &str) -> Checked {
    check_with(host, root, &Library::embedded())
}

/// [`check`] with a given stdlib (`--stdlib DIR`).
pub fn check_with(host: &dyn Host, root: &str, library: &Library) -> Checked {
    let mut sources = SourceMap::new();
    let mut diagnostics = Vec::new();
    let loaded = crate::load::load(host, root, &mut sources, &mut diagnostics);
    let mut model = crate::lower::lower(&loaded, &sources, &mut diagnostics);
    crate::lower::component::bind(&mut model, library, &mut sources, &mut diagnostics);
    // The documents are done with: free them now, on every core (they are
    // several times the size of the text).
    crate::par::map_owned(loaded.files, drop);
    attach_files(&mut model, &sources, host, &mut diagnostics);
    crate::check::run(&model, &mut diagnostics);
    let graph = graph::build(&model, &mut diagnostics);
    diag::sort(&mut diagnostics);
    Checked { sources, model, graph, diagnostics }
}

/// Resolves every file path of the model relative to the file that declares it,
/// and reads those files into `model.attachments`.
fn attach_files(model: &mut Model, sources: &SourceMap, host: &dyn Host, diags: &mut Vec<Diagnostic>) {
    let mut paths: Vec<&mut Spanned<String>> = Vec::new();
    for secret in &mut model.secrets {
        match &mut secret.source {
            SecretSource::Sops { file } | SecretSource::Sealed { file } => paths.push(file),
            SecretSource::External { .. } => {}
        }
    }
    for chart in &mut model.charts {
        if let Some(file) = &mut chart.values_file {
            paths.push(file);
        }
    }
    for manifest in &mut model.manifests {
        paths.push(&mut manifest.path);
    }
    let mut attachments = std::collections::BTreeMap::new();
    for path in paths {
        let base = &sources.get(path.span.file).path;
        let Some(resolved) = host::resolve(base, &path.value) else {
            diags.push(
                Diagnostic::new(Code::E0206, format!("`{}` leaves the description's folder", path.value))
                    .primary(path.span, "points outside the root folder")
                    .help("paths are relative to the file that holds them and must stay below the folder of `homelab.kdl`"),
            );
            continue;
        };
        match host.read(&resolved) {
            Ok(text) => {
                attachments.insert(resolved.clone(), text);
            }
            Err(error) => diags.push(
                Diagnostic::new(Code::E0203, format!("cannot read `{}`: {}", path.value, error_kind(&error)))
                    .primary(path.span, "referenced here")
                    .help("the path is relative to the file that holds it"),
            ),
        }
        path.value = resolved;
    }
    model.attachments = attachments;
}

fn error_kind(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        _ => error.to_string(),
    }
}

/// The version written into `homelab.lock`.
pub const COMPILER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A checked description and, when it has no errors, its output tree.
#[derive(Debug)]
pub struct Built {
    /// The checked description.
    pub checked: Checked,
    /// The sealed tree; `None` when the description has errors, `Err` on a
    /// layout bug.
    pub tree: Option<Result<crate::output::OutputTree, String>>,
}

/// Checks the description and, when it has no errors, runs the backends and
/// lays out the sealed output tree, in memory.
pub fn build(host: &dyn Host, root: &str) -> Built {
    build_with(host, root, &Library::embedded())
}

/// [`build`] with a given stdlib (`--stdlib DIR`).
pub fn build_with(host: &dyn Host, root: &str, library: &Library) -> Built {
    let checked = check_with(host, root, library);
    if checked.has_errors() {
        return Built { checked, tree: None };
    }
    let artifacts = crate::backend::emit(&checked.model, &checked.graph);
    let tree = crate::layout::assemble(artifacts).map(|t| t.seal(COMPILER_VERSION));
    Built { checked, tree: Some(tree) }
}
