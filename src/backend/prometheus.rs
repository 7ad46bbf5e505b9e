//! PrometheusRules.

use super::Artifacts;
use crate::model::Model;

/// Adds a PrometheusRule per namespace.
pub fn emit(_model: &Model, _out: &mut Artifacts) {}
