//! `## Certificates`: the issuers of a cluster, how they prove names or
//! whose key they sign with, and the hosts whose certificates they sign.

use super::heading;
use super::table::{Table, code};
use crate::model::{Issuer, IssuerKind, Model, Secret, SecretSource, Word};

/// Appends the section; nothing when the cluster has no issuer.
pub fn section(model: &Model, out: &mut String) {
    let mut table = Table::new(&["Issuer", "Kind", "Proof", "Secret", "Signs"]).optional(&["Proof", "Secret"]);
    for issuer in &model.issuers {
        table.row(vec![
            code(&issuer.name.value),
            issuer.kind.value.as_str().to_string(),
            proof(model, issuer),
            secret(model, issuer),
            hosts(model, issuer).join(", "),
        ]);
    }
    if !table.is_empty() {
        heading(out, "Certificates");
        table.render(out);
    }
}

/// How an ACME issuer proves names: `http01 via <class>` or `dns01 via <provider>`.
fn proof(model: &Model, issuer: &Issuer) -> String {
    let Some(solver) = issuer.solver.as_ref().filter(|_| issuer.kind.value == IssuerKind::Acme) else {
        return String::new();
    };
    let via = match &issuer.provider {
        Some(provider) => provider.value.as_str(),
        None => model.cluster_for(issuer.cluster.as_ref()).and_then(Model::controller_class).unwrap_or_default(),
    };
    format!("{} via {via}", solver.value.as_str())
}

/// The secret an issuer reads (a DNS token or a CA), and who makes it.
fn secret(model: &Model, issuer: &Issuer) -> String {
    let Some(name) = issuer.token_secret.as_ref().or(issuer.secret.as_ref()) else { return String::new() };
    let by_hand = issuer_secret(model, &name.value).is_some_and(|s| matches!(s.source, SecretSource::Existing));
    let ns = code(crate::model::CERT_MANAGER_NAMESPACE);
    format!("{} in {ns}{}", code(&name.value), if by_hand { ", made by hand" } else { "" })
}

/// The secret of cert-manager's namespace named `name`.
pub(super) fn issuer_secret<'m>(model: &'m Model, name: &str) -> Option<&'m Secret> {
    model.secrets.iter().find(|s| s.name.value == name && s.namespace.value == crate::model::CERT_MANAGER_NAMESPACE)
}

/// The hosts of the TLS ingresses and https listeners the issuer signs, sorted.
fn hosts(model: &Model, issuer: &Issuer) -> Vec<String> {
    let mut hosts: Vec<String> = model
        .apps
        .iter()
        .filter(|a| model.tls_issuer_of(a).is_some_and(|i| i.name.value == issuer.name.value))
        .flat_map(|a| a.ingresses.iter().filter(|i| i.tls.value).map(|i| code(&model.ingress_host(&i.host.value))))
        .collect();
    // The https listeners of the gateways of the issuer's cluster, when it is that cluster's TLS issuer.
    let cluster = model.cluster_for(issuer.cluster.as_ref());
    if let Some(cluster) = cluster.filter(|c| model.tls_issuer(c).is_some_and(|i| i.name.value == issuer.name.value)) {
        let listeners = model.gateways_of(cluster).flat_map(|g| g.listeners.iter().filter(|l| l.is_tls()));
        hosts.extend(listeners.filter_map(|l| l.hostname.as_ref()).map(|h| code(&h.value)));
    }
    hosts.sort();
    hosts.dedup();
    hosts
}
