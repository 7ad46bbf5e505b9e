//! Lowering: KDL documents to the typed [`Model`], one file per family of
//! declarations, collecting every error instead of stopping at the first.

mod app;
mod chart;
pub mod component;
mod edge;
mod infra;
mod observe;
mod pipeline;
mod platform;
pub mod reader;
mod storage;
pub mod trace;

use crate::diag::{Code, Diagnostic};
use crate::load::{Loaded, ParsedFile};
use crate::model::{DeclKind, Model};
use crate::source::{FileId, SourceMap, Span};
use crate::suggest;
use crate::syntax::tree;
use reader::Cx;

/// The keyword of imports, which the loader reads: not a declaration.
pub const IMPORT: &str = "import";

/// Every keyword a top-level node may start with: the declaration kinds
/// (from the one registry, [`DeclKind::ALL`]) and `import`.
pub fn keywords() -> impl Iterator<Item = &'static str> {
    DeclKind::ALL.iter().map(|k| k.keyword()).chain([IMPORT])
}

/// Lowers every loaded file into one model. The model's lists come out sorted
/// by name, so the order of declarations and files does not matter.
pub fn lower(loaded: Loaded, sources: &SourceMap, diags: &mut Vec<Diagnostic>) -> Model {
    // Files lower independently, on every core. Each document is freed as
    // soon as it is lowered: they are several times the size of their text,
    // and of what they lower to.
    let files = crate::par::map_owned(loaded.files, |parsed| ParsedFile {
        file: parsed.file,
        doc: lower_document(parsed.file, sources, parsed.doc),
    });
    merge(Loaded { files, complete: loaded.complete }, diags)
}

/// Lowers one file's document (freed when done): what [`merge`] takes. The
/// driver lowers each file with it as soon as the loader has read its
/// imports ([`crate::load::load_then`]).
pub fn lower_document(file: FileId, sources: &SourceMap, doc: tree::Document) -> FilePart {
    lower_file(file, &doc, sources, None)
}

/// Merges the files' lowered parts into one model, in file order (the first
/// `homelab` wins, diagnostics per file), then completes and sorts it.
pub fn merge(loaded: Loaded<FilePart>, diags: &mut Vec<Diagnostic>) -> Model {
    let mut model = Model::default();
    let mut homelabs: Vec<Span> = Vec::new();
    let root = loaded.files.first().map(|f| f.file);
    let parts: Vec<FilePart> = loaded.files.into_iter().map(|f| f.doc).collect();
    // Room for every declaration at once (apps are the many large ones),
    // rather than lists regrown (and copied) as files are merged.
    model.reserve_for(&parts.iter().map(|p| &p.model).collect::<Vec<_>>());
    for part in parts {
        diags.extend(part.diags);
        homelabs.extend(part.homelabs.iter().map(|h| h.name.span));
        if model.homelab.is_none() {
            model.homelab = part.homelabs.into_iter().next();
        }
        model.append(part.model);
    }
    match homelabs.as_slice() {
        [] if !loaded.complete => {}
        [] => {
            let diag = Diagnostic::new(Code::E0111, "the description has no `homelab` declaration")
                .help("add `homelab \"name\" { domain \"lab.example.com\" }` to homelab.kdl");
            // Point at the root file's start when there is one.
            let diag = match root {
                Some(file) => diag.primary(Span::new(file, 0, 0), "in this description"),
                None => diag,
            };
            diags.push(diag);
        }
        [_] => {}
        [first, rest @ ..] => {
            for span in rest {
                diags.push(
                    Diagnostic::new(Code::E0111, "more than one `homelab` declaration")
                        .primary(*span, "declared again here")
                        .secondary(*first, "first declared here")
                        .help("a description has exactly one `homelab`; declare several clusters inside it instead"),
                );
            }
        }
    }
    edge::complete(&mut model);
    model.sort();
    model
}

/// What one file lowers to.
#[derive(Debug)]
pub struct FilePart {
    model: Model,
    /// Every `homelab` declaration of the file, in order.
    homelabs: Vec<crate::model::Homelab>,
    diags: Vec<Diagnostic>,
}

/// Lowers the declarations of one file, recording what the readers see in
/// `trace` when there is one.
fn lower_file(file: FileId, doc: &tree::Document, sources: &SourceMap, trace: Option<&mut trace::Trace>) -> FilePart {
    let mut model = Model::default();
    let mut homelabs = Vec::new();
    let mut diags = Vec::new();
    let mut cx = Cx { file, text: &sources.get(file).text, diags: &mut diags, trace };
    for node in doc.nodes() {
        let keyword = node.name().value();
        let Some(kind) = DeclKind::from_keyword(keyword) else {
            if keyword != IMPORT {
                unknown_kind(&mut cx, node);
            }
            continue;
        };
        match kind {
            DeclKind::Homelab => homelabs.extend(infra::homelab(&mut cx, node)),
            DeclKind::Network => model.networks.extend(infra::network(&mut cx, node)),
            DeclKind::Cluster => model.clusters.extend(infra::cluster(&mut cx, node)),
            DeclKind::Node => model.nodes.extend(infra::node(&mut cx, node)),
            DeclKind::Pool => model.pools.extend(infra::pool(&mut cx, node)),
            DeclKind::StorageClass => model.storage_classes.extend(storage::storage_class(&mut cx, node)),
            DeclKind::Backup => model.backups.extend(storage::backup(&mut cx, node)),
            DeclKind::Claim => model.claims.extend(storage::claim(&mut cx, node)),
            DeclKind::Gateway => model.gateways.extend(edge::gateway(&mut cx, node)),
            DeclKind::Dns => model.dns.extend(edge::dns(&mut cx, node)),
            DeclKind::Tunnel => model.tunnels.extend(edge::tunnel(&mut cx, node)),
            DeclKind::Registry => model.registries.extend(infra::registry(&mut cx, node)),
            DeclKind::Namespace => model.namespaces.extend(infra::namespace(&mut cx, node)),
            DeclKind::App => model.apps.extend(app::app(&mut cx, node)),
            DeclKind::Chart => model.charts.extend(chart::chart(&mut cx, node)),
            DeclKind::Secret => model.secrets.extend(chart::secret(&mut cx, node)),
            DeclKind::SecretStore => model.secret_stores.extend(platform::secret_store(&mut cx, node)),
            DeclKind::Issuer => model.issuers.extend(platform::issuer(&mut cx, node)),
            DeclKind::Manifest => model.manifests.extend(chart::manifest(&mut cx, node)),
            DeclKind::Component => model.uses.extend(chart::use_component(&mut cx, node)),
            DeclKind::Pipeline => model.pipelines.extend(pipeline::pipeline(&mut cx, node)),
            DeclKind::Dashboard => model.dashboards.extend(observe::dashboard(&mut cx, node)),
            DeclKind::Alert => model.alerts.extend(observe::alert(&mut cx, node)),
        }
    }
    FilePart { model, homelabs, diags }
}

/// E0102 for a top-level node that is no declaration kind.
fn unknown_kind(cx: &mut Cx<'_>, node: &tree::Node) {
    let other = node.name().value();
    let span = cx.span(node.name().span());
    let keywords: Vec<&str> = keywords().collect();
    let help = suggest::did_you_mean(other, keywords.iter().copied())
        .map(|k| format!("did you mean `{k}`?"))
        .unwrap_or_else(|| format!("the declaration kinds are {}", keywords.join(", ")));
    cx.report(
        Diagnostic::new(Code::E0102, format!("unknown declaration kind `{other}`"))
            .primary(span, "not a declaration kind")
            .help(help),
    );
}
