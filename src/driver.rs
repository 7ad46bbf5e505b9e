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
    let declarations = model.declaration_count();
    watch(Phase::Check, declarations);
    // The checks and the graph read the bound model and write only their own
    // diagnostics: a large description builds its graph during its checks.
    let graph_of = |models: &[&Model]| {
        let mut found = Vec::new();
        (graph::build_all(models, &mut found), found)
    };
    let (views, (graph, found)) = if model.clusters.len() > 1 {
        // Several clusters: the whole description is checked once, then each
        // cluster on its own view, with the components it needs.
        let mut views: Vec<Model> = model.clusters.iter().map(|c| model.view(&c.name.value)).collect();
        for view in &mut views {
            crate::lower::component::bind(view, library, &mut sources, &mut diagnostics);
        }
        let bound: Vec<&Model> = views.iter().collect();
        let built = crate::par::both(
            declarations,
            || graph_of(&bound),
            || {
                crate::check::whole(&model, &mut diagnostics);
                for view in &bound {
                    crate::check::cluster(view, &mut diagnostics);
                }
            },
        )
        .0;
        (views, built)
    } else {
        crate::lower::component::bind(&mut model, library, &mut sources, &mut diagnostics);
        let built =
            crate::par::both(declarations, || graph_of(&[&model]), || crate::check::run(&model, &mut diagnostics)).0;
        (Vec::new(), built)
    };
    diagnostics.extend(found);
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
    let mut checked = check_watched(host, root, library, watch);
    let tree = lay_out(&mut checked, options, watch, false);
    Built { checked, tree }
}

/// A build whose tree is to be written ([`build_lean`]): what is left of it
/// once its model was freed.
#[derive(Debug)]
pub struct Lean {
    /// Every source file read.
    pub sources: SourceMap,
    /// Every diagnostic, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// As [`Built::tree`].
    pub tree: Option<Result<crate::output::OutputTree, String>>,
    /// Where the tree goes without `-o DIR` ([`Model::output_folder`]).
    pub output: String,
    /// The files the description references, below its root.
    pub attachments: Vec<String>,
}

/// [`build_watched`] for a tree about to be written: the model, its views and
/// the graph are freed as soon as the backends made the objects, before the
/// layout (a build's peak of memory, where the whole tree is text); only
/// what writing needs of them is kept. The same tree and diagnostics.
pub fn build_lean(
    host: &dyn Host,
    root: &str,
    library: &Library,
    options: crate::layout::Options,
    watch: Watch<'_>,
) -> Lean {
    let mut checked = check_watched(host, root, library, watch);
    let output = checked.model.output_folder().to_string();
    let attachments = checked.model.attachments.keys().cloned().collect();
    let tree = lay_out(&mut checked, options, watch, true);
    let Checked { sources, diagnostics, .. } = checked;
    Lean { sources, diagnostics, tree, output, attachments }
}

/// The phases after the checks, when they found no error: backends, checks
/// of the output, layout, seal. With `free`, the model, its views and the
/// graph are dropped (on a thread of their own) once the backends ran.
fn lay_out(
    checked: &mut Checked,
    options: crate::layout::Options,
    watch: Watch<'_>,
    free: bool,
) -> Option<Result<crate::output::OutputTree, String>> {
    if checked.has_errors() {
        return None;
    }
    watch(Phase::Emit, checked.model.declaration_count());
    let artifacts = crate::backend::emit(&checked.model, &checked.clusters(), &checked.graph);
    // Nothing after the backends reads the graph, nor the model but through
    // `world`: their memory goes to the layout.
    let graph = std::mem::take(&mut checked.graph);
    let world = crate::verify::World::new(&checked.model, &checked.clusters());
    let clusters: Vec<String> = checked.views.iter().filter_map(|v| v.scope.clone()).collect();
    let freeing = if free {
        let model = (std::mem::take(&mut checked.model), std::mem::take(&mut checked.views), graph);
        // Where no thread can start, the model is dropped here, with the closure.
        std::thread::Builder::new().spawn(move || drop(model)).ok()
    } else {
        drop(graph);
        None
    };
    let tree = check_and_lay_out(artifacts, &world, &mut checked.diagnostics, options, watch);
    drop(world);
    if let Some(Err(panic)) = freeing.map(std::thread::JoinHandle::join) {
        std::panic::resume_unwind(panic);
    }
    let tree = match tree? {
        Ok(tree) => tree,
        Err(message) => return Some(Err(message)),
    };
    let clusters: Vec<&str> = clusters.iter().map(String::as_str).collect();
    watch(Phase::Seal, tree.len());
    Some(Ok(tree.seal_clusters(COMPILER_VERSION, &clusters)))
}

/// The checks of the backends' output, the layout and the closed world:
/// the unsealed tree, `None` when a check found an error.
fn check_and_lay_out(
    artifacts: crate::backend::Artifacts,
    world: &crate::verify::World,
    diagnostics: &mut Vec<Diagnostic>,
    options: crate::layout::Options,
    watch: Watch<'_>,
) -> Option<Result<crate::output::OutputTree, String>> {
    watch(Phase::Verify, artifacts.objects.len());
    diagnostics.extend(crate::verify::verify(world, &artifacts));
    diag::sort(diagnostics);
    if diag::has_errors(diagnostics) {
        return None;
    }
    watch(Phase::Layout, artifacts.objects.len());
    let (files, seen) = crate::layout::files_of(artifacts, true, options);
    // The closed world is checked, and what it read freed, while the files
    // are sorted into the tree.
    let (tree, found) = crate::par::both(
        files.len(),
        || crate::layout::tree_of(files),
        || {
            let found = crate::verify::closed_world(world, &seen);
            drop(seen);
            found
        },
    );
    let tree = match tree {
        Ok(tree) => tree,
        Err(message) => return Some(Err(message)),
    };
    diagnostics.extend(found);
    diag::sort(diagnostics);
    (!diag::has_errors(diagnostics)).then_some(Ok(tree))
}
