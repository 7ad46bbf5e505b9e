//! Checks: addressing.

use crate::diag::Diagnostic;
use crate::model::Model;

/// Runs the addressing checks.
pub fn check(_model: &Model, _diags: &mut Vec<Diagnostic>) {}
