//! `homelabc graph [PATH] [--format mermaid|dot|json]`: the dependency graph.

use std::path::PathBuf;

use super::{ExitStatus, Printer};
use crate::graph;

/// Output format of the graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// A mermaid flowchart.
    Mermaid,
    /// Graphviz dot.
    Dot,
    /// JSON nodes (in order, with depth) and edges.
    Json,
}

/// Arguments of `homelabc graph`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A homelab.kdl file, or a folder holding one.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    pub format: GraphFormat,
}

/// Runs the command.
pub fn run(args: &Args, printer: &Printer, library: &crate::stdlib::Library) -> ExitStatus {
    let Some(checked) = super::check_path(&args.path, printer, library) else {
        return ExitStatus::Error;
    };
    if checked.has_errors() {
        return ExitStatus::Failure;
    }
    let text = match args.format {
        GraphFormat::Mermaid => graph::to_mermaid(&checked.graph),
        GraphFormat::Dot => graph::to_dot(&checked.graph),
        GraphFormat::Json => graph::to_json(&checked.graph),
    };
    printer.out(&text);
    ExitStatus::Success
}
