//! DNS and tunnel checks: a `dns` or `tunnel` token is a secret of the
//! namespace of the component that reads it (E0201); the `dns` of one cluster
//! agree on provider and token, as one external-dns serves them (E0420); a
//! tunnel exposes apps of its cluster (E0201 with did-you-mean) that have a
//! host (E0419), each app through one tunnel (E0423), and the hosts it
//! forwards inside a zone get a record pointing at it (E0421); when any `dns`
//! exists, a host outside every zone is a warning (W0510).

use std::collections::BTreeMap;

use super::secrets::resolve_in;
use crate::diag::{Code, Diagnostic};
use crate::model::{
    App, CLOUDFLARED_NAMESPACE, Cluster, Dns, DnsProvider, EXTERNAL_DNS_NAMESPACE, Model, Tunnel, Word,
};
use crate::suggest;

/// Runs the checks on every cluster of the model.
pub fn check(model: &Model, diags: &mut Vec<Diagnostic>) {
    for cluster in &model.clusters {
        // In the order written, so that "first" means the one written first.
        let mut zones: Vec<&Dns> = model.dns_of(cluster).collect();
        zones.sort_by_key(|d| d.span);
        for dns in &zones {
            diags.extend(token(model, EXTERNAL_DNS_NAMESPACE, "external-dns", &dns.token_secret));
        }
        diags.extend(conflicting(&zones));
        let apps: Vec<&App> = model
            .apps
            .iter()
            .filter(|a| model.cluster_for(a.cluster.as_ref()).is_some_and(|c| c.name.value == cluster.name.value))
            .collect();
        let mut exposed: BTreeMap<&str, &Tunnel> = BTreeMap::new();
        let mut tunnels: Vec<&Tunnel> = model.tunnels_of(cluster).collect();
        tunnels.sort_by_key(|t| t.span);
        for tunnel in tunnels {
            diags.extend(token(model, CLOUDFLARED_NAMESPACE, "cloudflared", &tunnel.token_secret));
            exposes(model, cluster, &apps, tunnel, &mut exposed, diags);
        }
        if !zones.is_empty() {
            outside_zones(model, cluster, &apps, diags);
        }
    }
}

/// E0201 when a token is not a secret of the reading component's namespace.
fn token(model: &Model, namespace: &str, reader: &str, name: &crate::model::Name) -> Option<Diagnostic> {
    resolve_in(model, namespace, name, reader, || {
        format!(
            "declare it where {reader} reads it: `secret \"{}\" namespace=\"{namespace}\" from=\"existing\"` \
             (made by hand) or `from=\"sops\"`",
            name.value
        )
    })
}

/// E0420 for every `dns` of a cluster whose provider or token differs from
/// the first one's: one external-dns per cluster serves them all.
fn conflicting(zones: &[&Dns]) -> Vec<Diagnostic> {
    let Some((first, rest)) = zones.split_first() else { return Vec::new() };
    let mut diags = Vec::new();
    for dns in rest {
        let (span, first_span, what) = if dns.provider.value != first.provider.value {
            (dns.provider.span, first.provider.span, "provider")
        } else if dns.token_secret.value != first.token_secret.value {
            (dns.token_secret.span, first.token_secret.span, "token")
        } else {
            continue;
        };
        diags.push(
            Diagnostic::new(
                Code::E0420,
                format!(
                    "dns `{}` and dns `{}` need a different {what} in one cluster",
                    first.name.value, dns.name.value
                ),
            )
            .primary(span, format!("the {what} of `{}`", dns.name.value))
            .secondary(first_span, format!("the {what} of `{}`", first.name.value))
            .help(
                "one external-dns serves the zones of a cluster, with one provider and one token: use one provider \
                 and `token-secret=` for every `dns` of the cluster (a token may hold several zones)",
            ),
        );
    }
    diags
}

/// The checks of a tunnel's `expose` children.
fn exposes<'m>(
    model: &'m Model,
    cluster: &Cluster,
    apps: &[&'m App],
    tunnel: &'m Tunnel,
    exposed: &mut BTreeMap<&'m str, &'m Tunnel>,
    diags: &mut Vec<Diagnostic>,
) {
    let cname = &cluster.name.value;
    for name in &tunnel.exposes {
        let Some(app) = apps.iter().find(|a| a.name.value == name.value) else {
            let names: Vec<&str> = apps.iter().map(|a| a.name.value.as_str()).collect();
            let help =
                suggest::help_for(&name.value, &names, &format!("apps of cluster `{cname}`")).unwrap_or_else(|| {
                    format!("a tunnel exposes apps of its own cluster: declare app `{}` there", name.value)
                });
            diags.push(
                Diagnostic::new(Code::E0201, format!("unknown app `{}`", name.value))
                    .primary(name.span, format!("no app named `{}` in cluster `{cname}`", name.value))
                    .help(help),
            );
            continue;
        };
        if let Some(other) = exposed.get(app.name.value.as_str()) {
            let first = other.exposes.iter().find(|e| e.value == name.value).map_or(other.name.span, |e| e.span);
            diags.push(
                Diagnostic::new(Code::E0423, format!("app `{}` is exposed by two tunnels", name.value))
                    .primary(name.span, format!("exposed again by tunnel `{}`", tunnel.name.value))
                    .secondary(first, format!("first exposed by tunnel `{}`", other.name.value))
                    .help("a host is forwarded by one tunnel: expose the app in one of them"),
            );
            continue;
        }
        exposed.insert(&app.name.value, tunnel);
        let hosts = model.app_hosts(app);
        if hosts.is_empty() {
            diags.push(
                Diagnostic::new(
                    Code::E0419,
                    format!("tunnel `{}` exposes `{}`, which has no host", tunnel.name.value, name.value),
                )
                .primary(name.span, "nothing to forward")
                .secondary(app.name.span, "no `route` or `ingress` here")
                .help(format!(
                    "give `{}` a host: `route host=\"{}\" port=\"...\"` (or an `ingress`), or stop exposing it",
                    name.value, name.value
                )),
            );
            continue;
        }
        for host in &hosts {
            let Some(zone) = model.zone_of(cluster, &host.host) else { continue };
            if zone.provider.value != DnsProvider::Cloudflare {
                diags.push(
                    Diagnostic::new(
                        Code::E0421,
                        format!(
                            "host `{}` is forwarded by a Cloudflare tunnel, but its zone `{}` is at {}",
                            host.host,
                            zone.zone.value,
                            zone.provider.value.as_str()
                        ),
                    )
                    .primary(host.written.span, "forwarded by the tunnel")
                    .secondary(zone.provider.span, "the zone's provider")
                    .help(
                        "Cloudflare serves a tunnel's hosts only from a zone it holds: move the zone to Cloudflare, or \
                         stop exposing the app",
                    ),
                );
            } else if tunnel.id.is_none() {
                diags.push(
                    Diagnostic::new(
                        Code::E0421,
                        format!(
                            "tunnel `{}` forwards `{}` in zone `{}`, but has no `id=` to point its record at",
                            tunnel.name.value, host.host, zone.zone.value
                        ),
                    )
                    .primary(tunnel.name.span, "no `id=`")
                    .secondary(host.written.span, "a host of the zone it forwards")
                    .help(
                        "give the tunnel its id (`cloudflared tunnel list` shows it): external-dns points the host's \
                         record at `<id>.cfargotunnel.com`",
                    ),
                );
                break;
            }
        }
    }
}

/// W0510 for every ingress and route host outside every zone of the cluster.
fn outside_zones(model: &Model, cluster: &Cluster, apps: &[&App], diags: &mut Vec<Diagnostic>) {
    let zones: Vec<String> = model.dns_of(cluster).map(|d| format!("`{}`", d.zone.value)).collect();
    for app in apps {
        for host in model.app_hosts(app).into_iter().filter(|h| model.zone_of(cluster, &h.host).is_none()) {
            diags.push(
                Diagnostic::new(Code::W0510, format!("host `{}` is in no DNS zone of cluster `{}`", host.host, cluster.name.value))
                    .primary(host.written.span, format!("the {} of `{}`", if host.route { "route" } else { "ingress" }, app.name.value))
                    .help(format!(
                        "external-dns keeps the records of {} only: make its record by hand, declare a `dns` for its zone, or use a host inside one",
                        zones.join(", ")
                    )),
            );
        }
    }
}
