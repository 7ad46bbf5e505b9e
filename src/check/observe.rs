//! Checks of dashboards and alerts (E09xx).

use crate::diag::Diagnostic;
use crate::model::Model;

/// Runs the dashboard and alert checks.
pub(super) fn check(_model: &Model, _diags: &mut Vec<Diagnostic>) {}
