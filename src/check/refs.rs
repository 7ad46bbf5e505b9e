//! Checks: refs.

use crate::diag::Diagnostic;
use crate::model::Model;

/// Runs the refs checks.
pub fn check(_model: &Model, _diags: &mut Vec<Diagnostic>) {}
