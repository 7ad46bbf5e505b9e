//! Checks: ports.

use crate::diag::Diagnostic;
use crate::model::Model;

/// Runs the ports checks.
pub fn check(_model: &Model, _diags: &mut Vec<Diagnostic>) {}
