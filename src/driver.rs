//! The driver: the only place that knows the order of the phases.
//!
//! load → lower → resolve referenced files → (per cluster: components, checks)
//! → graph; `build` adds backends → checks of the output → layout → seal.

use crate::diag::{self, Diagnostic};
use crate::graph::{self, Graph};
use crate::host::Host;
use crate::model::Model;
use crate::source::SourceMap;
use crate::stdlib::Library;

/// The result of compiling a description up to the checked model and graph.
#[derive(Debug)]
pub struct Checked {
    /// Every source file read.
    pub sources: SourceMap,
    /// The model, as far as the input allowed: the whole description, with
    /// its stdlib components when it has one cluster (or none).
    pub model: Model,
    /// With several clusters, one view of the model per cluster, each with
    /// its own stdlib components ([`Model::view`]); empty otherwise.
    pub views: Vec<Model>,
    /// The dependency graph; empty in a [`Built`], whose backends were its
    /// last readers.
    pub graph: Graph,
    /// Every diagnostic, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// The models the later phases run on: each cluster's view, or the
    /// model itself when the description has one cluster (or none).
    pub fn clusters(&self) -> Vec<&Model> {
        if self.views.is_empty() { vec![&self.model] } else { self.views.iter().collect() }
    }

    /// Whether any error was found.
    pub fn has_errors(&self) -> bool {
        diag::has_errors(&self.diagnostics)
    }
}

/// A phase of a compilation, as a watcher of it ([`Watch`]) is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Reading and parsing the description's files, and lowering each into
    /// its declarations as soon as its imports are read.
    Load,
    /// Merging the files' declarations into the model, with the files it references.
    Lower,
    /// Components, checks and the dependency graph.
    Check,
    /// The backends making objects and files (serializing most objects as
    /// they are made, `Object::rendered`).
    Emit,
    /// The checks of the compiler's own output (clashes, credentials).
    Verify,
    /// Placing every object (rendering those still typed) and the closed-world check.
    Layout,
    /// Hashing every file into the lock.
    Seal,
}

impl Phase {
    /// The phase's name, as `--timings` and the progress line print it.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Load => "load",
            Phase::Lower => "lower",
            Phase::Check => "check",
            Phase::Emit => "emit",
            Phase::Verify => "verify",
            Phase::Layout => "layout",
            Phase::Seal => "seal",
        }
    }

    /// What the count given with the phase counts.
    pub fn counts(self) -> &'static str {
        match self {
            Phase::Load => "files",
            Phase::Lower => "files",
            Phase::Check | Phase::Emit => "declarations",
            Phase::Verify | Phase::Layout => "objects",
            Phase::Seal => "files",
        }
    }
}

/// Told when each phase starts, with how many things it works on (for the
/// progress line and `--timings` of the CLI; the library keeps no clock).
pub type Watch<'a> = &'a dyn Fn(Phase, usize);

/// A watcher that does nothing.
fn unwatched(_: Phase, _: usize) {}

/// Loads, lowers and checks the description whose root file is `root`
/// (a logical path in `host`, usually `homelab.kdl`).
pub fn check(host: &dyn Host, root: &str) -> Checked {
    check_with(host, root, &Library::embedded())
}

/// [`check`] with a given stdlib (`--stdlib DIR`).
pub fn check_with(host: &dyn Host, root: &str, library: &Library) -> Checked {
    check_watched(host, root, library, &unwatched)
}

/// [`check_with`], telling `watch` when each phase starts.
pub fn check_watched(host: &dyn Host, root: &str, library: &Library, watch: Watch<'_>) -> Checked {
    let mut sources = SourceMap::new();
    let mut diagnostics = Vec::new();
    watch(Phase::Load, 0);
    // Each file is lowered as soon as its imports are read, and its document
    // freed: a description's documents never all live at once.
    let loaded = crate::load::load_then(host, root, &mut sources, &mut diagnostics, &crate::lower::lower_document);
    watch(Phase::Lower, loaded.files.len());
    let mut model = crate::lower::merge(loaded, &mut diagnostics);
    crate::attach::attach(&mut model, &sources, host, &mut diagnostics);
    watch(Phase::Check, model.declarations().len());
    let (views, graph) = if model.clusters.len() > 1 {
        // Several clusters: the whole description is checked once, then each
        // cluster on its own view, with the components it needs.
        crate::check::whole(&model, &mut diagnostics);
        let mut views: Vec<Model> = model.clusters.iter().map(|c| model.view(&c.name.value)).collect();
        for view in &mut views {
            crate::lower::component::bind(view, library, &mut sources, &mut diagnostics);
            crate::check::cluster(view, &mut diagnostics);
        }
        let graph = graph::build_all(&views.iter().collect::<Vec<_>>(), &mut diagnostics);
        (views, graph)
    } else {
        crate::lower::component::bind(&mut model, library, &mut sources, &mut diagnostics);
        crate::check::run(&model, &mut diagnostics);
        let graph = graph::build(&model, &mut diagnostics);
        (Vec::new(), graph)
    };
    diag::sort(&mut diagnostics);
    Checked { sources, model, views, graph, diagnostics }
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
    build_with_options(host, root, library, crate::layout::Options::default())
}

/// [`build_with`], the tree written as `options` say (`--no-schema-comments`).
pub fn build_with_options(host: &dyn Host, root: &str, library: &Library, options: crate::layout::Options) -> Built {
    build_watched(host, root, library, options, &unwatched)
}

/// [`build_with_options`], telling `watch` when each phase starts.
pub fn build_watched(
    host: &dyn Host,
    root: &str,
    library: &Library,
    options: crate::layout::Options,
    watch: Watch<'_>,
) -> Built {
    let checked = check_watched(host, root, library, watch);
    if checked.has_errors() {
        return Built { checked, tree: None };
    }
    let mut checked = checked;
    watch(Phase::Emit, checked.model.declarations().len());
    let artifacts = crate::backend::emit(&checked.model, &checked.clusters(), &checked.graph);
    // Nothing after the backends reads the graph: its memory goes to the layout.
    checked.graph = Graph::default();
    watch(Phase::Verify, artifacts.objects.len());
    checked.diagnostics.extend(crate::verify::verify(&checked.model, &artifacts));
    diag::sort(&mut checked.diagnostics);
    if checked.has_errors() {
        return Built { checked, tree: None };
    }
    watch(Phase::Layout, artifacts.objects.len());
    let (tree, seen) = match crate::layout::assemble_with(artifacts, true, options) {
        Ok(laid) => laid,
        Err(message) => return Built { checked, tree: Some(Err(message)) },
    };
    let closed = crate::verify::closed_world(&checked.model, &checked.clusters(), &seen);
    checked.diagnostics.extend(closed);
    diag::sort(&mut checked.diagnostics);
    if checked.has_errors() {
        return Built { checked, tree: None };
    }
    let clusters: Vec<&str> = checked.views.iter().filter_map(|v| v.scope.as_deref()).collect();
    watch(Phase::Seal, tree.len());
    let tree = tree.seal_clusters(COMPILER_VERSION, &clusters);
    Built { checked, tree: Some(Ok(tree)) }
}
