//! Checks: capacity.

use crate::diag::Diagnostic;
use crate::model::Model;

/// Runs the capacity checks.
pub fn check(_model: &Model, _diags: &mut Vec<Diagnostic>) {}
