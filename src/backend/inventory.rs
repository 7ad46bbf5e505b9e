//! The generated inventory: `README.md` at the root of the output tree.

use super::Artifacts;
use crate::graph::Graph;
use crate::model::Model;

/// Adds `README.md`.
pub fn emit(_model: &Model, _graph: &Graph, _out: &mut Artifacts) {}
