//! Semantic checks over the [`Model`]: addressing, ports, references,
//! security, capacity. Each module adds diagnostics and never stops early.

mod addressing;
mod capacity;
mod components;
mod observe;
pub mod pipelines;
mod ports;
mod refs;
mod security;

use crate::diag::Diagnostic;
use crate::model::Model;

/// Runs every check and appends what it finds.
pub fn run(model: &Model, diags: &mut Vec<Diagnostic>) {
    refs::check(model, diags);
    addressing::check(model, diags);
    ports::check(model, diags);
    security::check(model, diags);
    capacity::check(model, diags);
    components::check(model, diags);
    pipelines::check(model, diags);
    observe::check(model, diags);
}
