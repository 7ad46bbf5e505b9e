//! Checks: security.

use crate::diag::Diagnostic;
use crate::model::Model;

/// Runs the security checks.
pub fn check(_model: &Model, _diags: &mut Vec<Diagnostic>) {}
