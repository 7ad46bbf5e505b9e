//! Semantic checks over the [`Model`]: addressing, ports, references,
//! security, capacity, TLS, the edge (gateways, routes, DNS, tunnels). Each
//! module adds diagnostics and never stops early.

mod addressing;
mod backups;
mod balancer;
mod capacity;
mod components;
mod distribution;
mod dns;
pub(crate) mod observe;
pub mod pipelines;
mod plaintext;
mod podsecurity;
mod ports;
mod refs;
mod routes;
mod secret_files;
mod secrets;
mod security;
mod storage;
mod tls;
mod workloads;

use crate::diag::Diagnostic;
use crate::model::Model;

/// How a message names a container: the app for its own, else the sidecar or
/// init container of the app.
pub(crate) fn container_of(app: &crate::model::App, container: &crate::model::Container) -> String {
    if container.name.value == app.name.value {
        format!("app `{}`", app.name.value)
    } else {
        format!("container `{}` of app `{}`", container.name.value, app.name.value)
    }
}

/// Runs every check on a description of one cluster (or none).
pub fn run(model: &Model, diags: &mut Vec<Diagnostic>) {
    whole(model, diags);
    cluster(model, diags);
}

/// The checks of the whole description: names and references, addresses on
/// the networks the clusters share, what each distribution takes, and what is written in the declarations
/// themselves (plain-text secrets, tags, the types of secret files), which
/// cluster a `tls-issuer` names. They run once, on the whole model.
pub fn whole(model: &Model, diags: &mut Vec<Diagnostic>) {
    refs::check(model, diags);
    addressing::check(model, diags);
    distribution::whole(model, diags);
    security::check(model, diags);
    plaintext::check(model, diags);
    secret_files::check(model, diags);
    tls::whole(model, diags);
    secrets::whole(model, diags);
    podsecurity::check(model, diags);
    workloads::check(model, diags);
}

/// The checks that hold within one cluster: NodePorts, capacity, the stdlib
/// components it needs, its pipelines, dashboards and alerts, the issuers of
/// its TLS ingresses and https listeners, what its GitOps agent and secret
/// stores can read, its load-balancer addresses and BGP peers, its routes
/// and gateways, its DNS zones and tunnels, and its storage classes, claims
/// and backups.
/// With several clusters they run on each cluster's view ([`Model::view`]).
pub fn cluster(model: &Model, diags: &mut Vec<Diagnostic>) {
    ports::check(model, diags);
    capacity::check(model, diags);
    components::check(model, diags);
    distribution::cluster(model, diags);
    pipelines::check(model, diags);
    observe::check(model, diags);
    tls::cluster(model, diags);
    secrets::cluster(model, diags);
    balancer::check(model, diags);
    routes::check(model, diags);
    dns::check(model, diags);
    storage::check(model, diags);
    backups::check(model, diags);
}
