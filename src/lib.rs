//! homelabc: a declarative infrastructure compiler for homelabs.
//!
//! The compiler runs in phases (see ARCHITECTURE.md):
//! sources ─load─▶ KDL ─lower─▶ Model ─check─▶ ─graph─▶ Order ─▶ backends.
//! [`driver`] is the only module that knows the order of the phases.

pub mod attach;
pub mod backend;
pub mod check;
pub mod cli;
pub mod diag;
pub mod driver;
pub mod edit;
pub mod fmt;
pub mod graph;
pub mod heap;
pub mod host;
pub mod layout;
pub mod leaks;
pub mod load;
pub mod lower;
pub mod lsp;
pub mod memo;
pub mod model;
pub mod output;
pub mod par;
pub mod plan;
pub mod renovate;
pub mod source;
pub mod stdlib;
pub mod suggest;
pub mod syntax;
pub mod verify;
pub mod yaml;
