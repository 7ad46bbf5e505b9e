//! The dependency graph of declarations (placeholder until filled).
use crate::diag::Diagnostic;
use crate::model::Model;

/// The graph.
#[derive(Debug, Default)]
pub struct Graph;

/// Builds the graph.
pub fn build(_model: &Model, _diags: &mut Vec<Diagnostic>) -> Graph {
    Graph
}
