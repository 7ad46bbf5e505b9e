//! Grafana dashboards.

use super::Artifacts;
use crate::model::Model;

/// Adds a ConfigMap per shipped dashboard.
pub fn emit(_model: &Model, _out: &mut Artifacts) {}
