//! TLS checks: every TLS ingress and https listener gets its certificate
//! from exactly one issuer of its cluster (E0410, E0415, E0411), a wildcard
//! listener's is not proven over HTTP-01 (E0418), a `tls-issuer` names an issuer of its own
//! cluster (E0201), an issuer's secrets are where cert-manager reads them —
//! its own namespace — and a CA's is a TLS secret (E0201, E0413), and an
//! HTTP-01 issuer has an ingress controller to serve its challenges (E0412).
//! An unknown `tls-issuer` name is reported with the other references
//! (`refs.rs`).

use crate::diag::{Code, Diagnostic};
use crate::model::{
    AcmeSolver, App, CERT_MANAGER_NAMESPACE, Cluster, Gateway, Ingress, Issuer, IssuerKind, Listener, Model, Name,
    SecretType, Word,
};
use crate::suggest;

/// The check of the whole description: a `tls-issuer` naming an issuer
/// that belongs to another cluster.
pub fn whole(model: &Model, diags: &mut Vec<Diagnostic>) {
    for cluster in &model.clusters {
        let Some(wanted) = &cluster.tls_issuer else { continue };
        if model.issuers_of(cluster).any(|i| i.name.value == wanted.value) {
            continue;
        }
        let elsewhere = model.issuers.iter().filter(|i| i.name.value == wanted.value);
        for issuer in elsewhere {
            let Some(owner) = model.cluster_for(issuer.cluster.as_ref()) else { continue };
            let mine: Vec<&str> = model.issuers_of(cluster).map(|i| i.name.value.as_str()).collect();
            let help = suggest::help_for(&wanted.value, &mine, &format!("issuers of cluster `{}`", cluster.name.value))
                .unwrap_or_else(|| {
                    format!(
                        "declare an issuer with `cluster=\"{}\"` (ClusterIssuers exist per cluster) and name it here",
                        cluster.name.value
                    )
                });
            diags.push(
                Diagnostic::new(
                    Code::E0201,
                    format!(
                        "issuer `{}` belongs to cluster `{}`, not `{}`",
                        wanted.value, owner.name.value, cluster.name.value
                    ),
                )
                .primary(wanted.span, format!("no issuer named `{}` in cluster `{}`", wanted.value, cluster.name.value))
                .secondary(issuer.name.span, format!("declared for cluster `{}`", owner.name.value))
                .help(help),
            );
        }
    }
}

/// The checks of one cluster: the issuer of its TLS ingresses, and its
/// issuers' secrets and solvers.
pub fn cluster(model: &Model, diags: &mut Vec<Diagnostic>) {
    for cluster in &model.clusters {
        let tls = tls_ingresses(model, cluster);
        let listeners = tls_listeners(model, cluster);
        let issuers: Vec<&Issuer> = model.issuers_of(cluster).collect();
        if let Some(diag) = missing_issuer(cluster, &tls, &issuers) {
            diags.push(diag);
        }
        diags.extend(listeners_without_issuer(cluster, &listeners, &issuers));
        if tls.is_empty()
            && let Some(diag) = ambiguous_for_listeners(cluster, &listeners, &issuers)
        {
            diags.push(diag);
        }
        if let Some(issuer) = model.tls_issuer(cluster) {
            diags.extend(wildcards_over_http01(&listeners, issuer));
        }
        for issuer in issuers {
            issuer_secrets(model, issuer, diags);
            diags.extend(http01_without_controller(cluster, issuer));
        }
    }
}

/// The TLS ingresses of a cluster's apps, with their app.
fn tls_ingresses<'m>(model: &'m Model, cluster: &Cluster) -> Vec<(&'m App, &'m Ingress)> {
    let here = |a: &&App| model.cluster_for(a.cluster.as_ref()).is_some_and(|c| c.name.value == cluster.name.value);
    let apps = model.apps.iter().filter(here);
    apps.flat_map(|a| a.ingresses.iter().filter(|i| i.tls.value).map(move |i| (a, i))).collect()
}

/// The https listeners of a cluster's gateways, with their gateway.
fn tls_listeners<'m>(model: &'m Model, cluster: &'m Cluster) -> Vec<(&'m Gateway, &'m Listener)> {
    let gateways = model.gateways_of(cluster);
    gateways.flat_map(|g| g.listeners.iter().filter(|l| l.is_tls()).map(move |l| (g, l))).collect()
}

/// E0415 when a cluster with https listeners has no issuer: one diagnostic,
/// labelling every listener.
fn listeners_without_issuer(
    cluster: &Cluster,
    listeners: &[(&Gateway, &Listener)],
    issuers: &[&Issuer],
) -> Option<Diagnostic> {
    let ((gateway, first), rest) = listeners.split_first()?;
    if !issuers.is_empty() {
        return None;
    }
    let cname = &cluster.name.value;
    let mut diag = Diagnostic::new(
        Code::E0415,
        format!(
            "https listener `{}` of gateway `{}` needs a certificate, but cluster `{cname}` has no issuer",
            first.name.value, gateway.name.value
        ),
    )
    .primary(first.protocol.span, "needs a certificate nothing would sign")
    .help(format!(
        "declare `issuer \"letsencrypt\" kind=\"acme\" email=\"you@example.com\" solver=\"dns01\" provider=\"cloudflare\" \
         token-secret=\"cloudflare-token\"` (a wildcard is proven over DNS-01) and name it in cluster `{cname}` with \
         `tls-issuer \"letsencrypt\"`"
    ));
    for (gateway, listener) in rest {
        diag = diag.secondary(
            listener.protocol.span,
            format!("listener `{}` of gateway `{}` needs one too", listener.name.value, gateway.name.value),
        );
    }
    Some(diag)
}

/// E0411 when a cluster's https listeners (and no TLS ingress, which has its
/// own E0411) need a certificate from one of several issuers, and no
/// `tls-issuer` chooses.
fn ambiguous_for_listeners(
    cluster: &Cluster,
    listeners: &[(&Gateway, &Listener)],
    issuers: &[&Issuer],
) -> Option<Diagnostic> {
    let (gateway, first) = listeners.first()?;
    if cluster.tls_issuer.is_some() || issuers.len() < 2 {
        return None;
    }
    let cname = &cluster.name.value;
    let choices: Vec<String> = issuers.iter().map(|i| format!("`tls-issuer \"{}\"`", i.name.value)).collect();
    let (last, others) = choices.split_last()?;
    let mut diag = Diagnostic::new(
        Code::E0411,
        format!(
            "cluster `{cname}` has {} issuers and no `tls-issuer` to choose one for its https listeners",
            issuers.len()
        ),
    )
    .primary(cluster.name.span, "no `tls-issuer` here")
    .secondary(
        first.protocol.span,
        format!("listener `{}` of gateway `{}` needs a certificate", first.name.value, gateway.name.value),
    );
    for issuer in issuers {
        diag = diag.secondary(issuer.name.span, "could sign it");
    }
    Some(diag.help(format!("add {} or {last} to cluster `{cname}`", others.join(", "))))
}

/// E0418 for every wildcard https listener whose certificate the cluster's
/// issuer would prove over HTTP-01: ACME CAs sign wildcards over DNS-01 only.
fn wildcards_over_http01(listeners: &[(&Gateway, &Listener)], issuer: &Issuer) -> Vec<Diagnostic> {
    let Some(solver) = issuer.solver.as_ref().filter(|s| s.value == AcmeSolver::Http01) else { return Vec::new() };
    if issuer.kind.value != IssuerKind::Acme {
        return Vec::new();
    }
    let wildcards = listeners.iter().filter_map(|(g, l)| {
        let hostname = l.hostname.as_ref().filter(|h| h.value.starts_with("*."))?;
        Some((g, l, hostname))
    });
    wildcards
        .map(|(gateway, listener, hostname)| {
            Diagnostic::new(
                Code::E0418,
                format!(
                    "the wildcard certificate of listener `{}` of gateway `{}` would be proven over HTTP-01",
                    listener.name.value, gateway.name.value
                ),
            )
            .primary(hostname.span, format!("`{}` is a wildcard", hostname.value))
            .secondary(solver.span, format!("issuer `{}` proves names over HTTP-01", issuer.name.value))
            .help(format!(
                "ACME CAs such as Let's Encrypt sign wildcards over DNS-01 only: give issuer `{}` `solver=\"dns01\"` \
                 with a `provider=` and its `token-secret=`, or give the listener an exact `hostname=`",
                issuer.name.value
            ))
        })
        .collect()
}

/// E0410 when a cluster with TLS ingresses has no issuer, E0411 when it has
/// several and no `tls-issuer` choosing one.
fn missing_issuer(cluster: &Cluster, tls: &[(&App, &Ingress)], issuers: &[&Issuer]) -> Option<Diagnostic> {
    let ((first_app, first), rest) = tls.split_first()?;
    let cname = &cluster.name.value;
    if issuers.is_empty() {
        let asking = match rest.len() {
            0 => format!("the ingress of `{}` asks", first_app.name.value),
            n => format!("the ingresses of `{}` and {n} more ask", first_app.name.value),
        };
        let example = match Model::controller_class(cluster) {
            Some(_) => "issuer \"letsencrypt\" kind=\"acme\" email=\"you@example.com\" solver=\"http01\"",
            None => {
                "issuer \"letsencrypt\" kind=\"acme\" email=\"you@example.com\" solver=\"dns01\" provider=\"cloudflare\" token-secret=\"cloudflare-token\""
            }
        };
        let mut diag = Diagnostic::new(Code::E0410, format!("{asking} for TLS, but cluster `{cname}` has no issuer"))
            .primary(first.tls.span, "needs a certificate nothing would sign")
            .help(format!(
                "declare `{example}` and name it in cluster `{cname}` with `tls-issuer \"letsencrypt\"`, or drop `tls=#true`"
            ));
        for (app, ingress) in rest {
            diag = diag.secondary(ingress.tls.span, format!("the ingress of `{}` needs one too", app.name.value));
        }
        return Some(diag);
    }
    if cluster.tls_issuer.is_some() || issuers.len() < 2 {
        return None;
    }
    let choices: Vec<String> = issuers.iter().map(|i| format!("`tls-issuer \"{}\"`", i.name.value)).collect();
    let (last, others) = choices.split_last()?;
    let mut diag = Diagnostic::new(
        Code::E0411,
        format!(
            "cluster `{cname}` has {} issuers and no `tls-issuer` to choose one for its TLS ingresses",
            issuers.len()
        ),
    )
    .primary(cluster.name.span, "no `tls-issuer` here")
    .secondary(first.tls.span, format!("the ingress of `{}` needs a certificate", first_app.name.value));
    for issuer in issuers {
        diag = diag.secondary(issuer.name.span, "could sign it");
    }
    Some(diag.help(format!("add {} or {last} to cluster `{cname}`", others.join(", "))))
}

/// E0201 when an issuer's `token-secret=` or `secret=` is not a secret of
/// cert-manager's namespace (where cert-manager reads a ClusterIssuer's
/// secrets), E0413 when a CA's secret is not a TLS secret.
fn issuer_secrets(model: &Model, issuer: &Issuer, diags: &mut Vec<Diagnostic>) {
    let named = [(issuer.token_secret.as_ref(), "token-secret"), (issuer.secret.as_ref(), "secret")];
    for (reference, property) in named.into_iter().filter_map(|(r, p)| Some((r?, p))) {
        let decls: Vec<&crate::model::Secret> =
            model.secrets.iter().filter(|s| s.name.value == reference.value).collect();
        match decls.iter().find(|s| s.namespace.value == CERT_MANAGER_NAMESPACE) {
            Some(secret) => {
                let is_ca = property == "secret" && issuer.kind.value == IssuerKind::Ca;
                if is_ca && secret.secret_type.value != SecretType::Tls {
                    diags.push(ca_secret_type(issuer, reference, secret));
                }
            }
            None => diags.push(unknown_secret(model, reference, &decls)),
        }
    }
}

/// The E0201 of an issuer's secret that is not declared in cert-manager's namespace.
fn unknown_secret(model: &Model, reference: &Name, decls: &[&crate::model::Secret]) -> Diagnostic {
    let (name, ns) = (&reference.value, CERT_MANAGER_NAMESPACE);
    let label = format!("no secret named `{name}` in namespace `{ns}`");
    if decls.is_empty() {
        let here: Vec<&str> = model.secrets_in(ns).iter().map(|s| s.name.value.as_str()).collect();
        let help = suggest::did_you_mean(name, here.iter().copied())
            .map(|close| format!("did you mean `{close}`?"))
            .unwrap_or_else(|| {
                format!(
                    "declare it in cert-manager's namespace, e.g. `secret \"{name}\" namespace=\"{ns}\" from=\"existing\"` \
                     (made by hand) or `from=\"sops\"`"
                )
            });
        return Diagnostic::new(Code::E0201, format!("unknown secret `{name}`"))
            .primary(reference.span, label)
            .help(help);
    }
    let mut diag = Diagnostic::new(Code::E0201, format!("secret `{name}` is not declared in namespace `{ns}`"))
        .primary(reference.span, label)
        .help(format!(
            "cert-manager reads a ClusterIssuer's secrets from its own namespace: declare `{name}` with `namespace=\"{ns}\"`"
        ));
    for secret in decls {
        diag =
            diag.secondary(secret.name.span, format!("`{name}` is declared in namespace `{}`", secret.namespace.value));
    }
    diag
}

/// The E0413 of a CA issuer whose secret is not `type="tls"`.
fn ca_secret_type(issuer: &Issuer, reference: &Name, secret: &crate::model::Secret) -> Diagnostic {
    let name = &secret.name.value;
    let given = secret.secret_type.value.as_str();
    // Without `type=` the type is spanned at the declaration's keyword.
    let label = if secret.secret_type.span.start == secret.span.start {
        format!("declared without `type=`: an `{given}` secret")
    } else {
        format!("a secret of type `{given}`")
    };
    Diagnostic::new(Code::E0413, format!("CA issuer `{}` reads secret `{name}`, which is not a TLS secret", issuer.name.value))
        .primary(secret.secret_type.span, label)
        .secondary(reference.span, "read as the CA's certificate and key")
        .help(format!(
            "cert-manager signs with the `tls.crt` and `tls.key` of a `kubernetes.io/tls` Secret: give `{name}` `type=\"tls\"`"
        ))
}

/// E0412 when an ACME issuer proves names over HTTP on a cluster whose
/// ingress controller is `none`: nothing would serve the challenge.
fn http01_without_controller(cluster: &Cluster, issuer: &Issuer) -> Option<Diagnostic> {
    let solver = issuer.solver.as_ref().filter(|s| s.value == AcmeSolver::Http01)?;
    if issuer.kind.value != IssuerKind::Acme || Model::controller_class(cluster).is_some() {
        return None;
    }
    let cname = &cluster.name.value;
    Some(
        Diagnostic::new(
            Code::E0412,
            format!("issuer `{}` proves names over HTTP, but cluster `{cname}` runs no ingress controller", issuer.name.value),
        )
        .primary(solver.span, "an HTTP-01 challenge, served through the cluster's ingress controller")
        .secondary(cluster.ingress.span, format!("ingress set to `{}` here", cluster.ingress.value))
        .help(format!(
            "use `solver=\"dns01\"` with a `provider=` and its `token-secret=`, or set `ingress \"traefik\"` or `\"nginx\"` in cluster `{cname}`"
        )),
    )
}

#[cfg(test)]
mod tests {
    use crate::host::MemHost;

    /// The codes a description produces, but warnings, in order.
    fn codes(body: &str) -> Vec<String> {
        let text = format!("homelab \"lab\" {{ domain \"lab.example.com\"; }}\n{body}");
        let checked = crate::driver::check(&MemHost::with([("homelab.kdl", text)]), "homelab.kdl");
        (checked.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.code.to_string())).collect()
    }

    /// An app with a TLS ingress, in `cluster` when one is named.
    fn tls_app(name: &str, cluster: Option<&str>) -> String {
        let placed = cluster.map(|c| format!(" cluster=\"{c}\"")).unwrap_or_default();
        format!(
            "app \"{name}\" namespace=\"demo\"{placed} {{\n image \"me/{name}\" tag=\"1.0.0\"\n port \"http\" 8080\n \
             resources cpu=\"100m\" memory=\"64Mi\" cpu-limit=\"200m\" memory-limit=\"128Mi\"\n \
             ingress host=\"{name}\" path=\"/\" port=\"http\" tls=#true\n}}\n"
        )
    }

    const CLUSTER: &str = "cluster \"home\" distribution=\"k3s\"\n";
    const SELF: &str = "issuer \"self\" kind=\"self-signed\"\n";
    const ACME: &str = "issuer \"le\" kind=\"acme\" email=\"a@b.c\" solver=\"http01\"\n";

    #[test]
    fn the_only_issuer_needs_no_tls_issuer() {
        assert!(codes(&format!("{CLUSTER}{SELF}{}", tls_app("web", None))).is_empty());
    }

    #[test]
    fn a_tls_issuer_chooses_among_several() {
        let chosen = CLUSTER.replace('\n', " { tls-issuer \"le\"; }\n");
        assert!(codes(&format!("{chosen}{SELF}{ACME}{}", tls_app("web", None))).is_empty());
        assert_eq!(codes(&format!("{CLUSTER}{SELF}{ACME}{}", tls_app("web", None))), ["E0411"]);
    }

    #[test]
    fn several_issuers_without_tls_ingress_need_no_choice() {
        assert!(codes(&format!("{CLUSTER}{SELF}{ACME}")).is_empty());
    }

    #[test]
    fn one_diagnostic_per_cluster_without_issuer() {
        let body = format!("{CLUSTER}{}{}", tls_app("web", None), tls_app("api", None));
        assert_eq!(codes(&body), ["E0410"]);
    }

    #[test]
    fn each_cluster_uses_its_own_issuers() {
        let clusters = "cluster \"a\" distribution=\"k3s\"\ncluster \"b\" distribution=\"k3s\"\n";
        let issuers = "issuer \"x\" kind=\"self-signed\" cluster=\"a\"\n";
        let body = format!("{clusters}{issuers}{}{}", tls_app("web", Some("a")), tls_app("api", Some("b")));
        // Cluster `b` has no issuer of its own: `a`'s does not sign its ingress.
        assert_eq!(codes(&body), ["E0410"]);
    }

    #[test]
    fn a_ca_secret_of_type_tls_in_cert_managers_namespace_is_fine() {
        let body = format!(
            "{CLUSTER}issuer \"ca\" kind=\"ca\" secret=\"ca\"\n\
             secret \"ca\" namespace=\"cert-manager\" from=\"existing\" type=\"tls\"\n{}",
            tls_app("web", None)
        );
        assert!(codes(&body).is_empty(), "{:?}", codes(&body));
    }
}
