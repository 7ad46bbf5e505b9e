//! Gateway API checks: every route attaches to a gateway of its cluster —
//! the one it names (E0201 with did-you-mean), the only one (E0416 when there
//! are several), or none exists (E0502) — and a listener of that gateway
//! covers its host (E0414); a gateway's listeners do not collide (E0417,
//! names: at lowering) and exist (E0422).

use std::collections::BTreeMap;

use crate::diag::{Code, Diagnostic};
use crate::model::{App, Cluster, Gateway, Listener, Model, Route};
use crate::suggest;

/// Runs the checks on every cluster of the model.
pub fn check(model: &Model, diags: &mut Vec<Diagnostic>) {
    for cluster in &model.clusters {
        let gateways: Vec<&Gateway> = model.gateways_of(cluster).collect();
        for gateway in &gateways {
            listeners(cluster, gateway, diags);
        }
        let apps = model
            .apps
            .iter()
            .filter(|a| model.cluster_for(a.cluster.as_ref()).is_some_and(|c| c.name.value == cluster.name.value));
        for app in apps {
            for route in &app.routes {
                diags.extend(attach(model, cluster, &gateways, app, route));
            }
        }
    }
}

/// The gateway a route attaches to, or why it attaches to none; then whether
/// a listener covers its host.
fn attach(model: &Model, cluster: &Cluster, gateways: &[&Gateway], app: &App, route: &Route) -> Option<Diagnostic> {
    let cname = &cluster.name.value;
    let gateway = match (&route.gateway, gateways) {
        (_, []) => {
            let label = if cluster.ingress.span == cluster.name.span {
                format!("{} clusters default to ingress `{}`", cluster.distribution.value, cluster.ingress.value)
            } else {
                format!("ingress set to `{}` here", cluster.ingress.value)
            };
            return Some(
                Diagnostic::new(
                    Code::E0502,
                    format!("`{}` has a route, but cluster `{cname}` runs no Gateway API gateway", app.name.value),
                )
                .primary(route.span, format!("route for `{}` that nothing would serve", route.host.value))
                .secondary(cluster.ingress.span, label)
                .help(format!(
                    "set `ingress \"envoy-gateway\"` in cluster `{cname}` (it gets a `default` gateway), or declare a \
                     `gateway`, or write an `ingress` for the cluster's controller"
                )),
            );
        }
        (Some(name), _) => match gateways.iter().find(|g| g.name.value == name.value) {
            Some(gateway) => *gateway,
            None => {
                let names: Vec<&str> = gateways.iter().map(|g| g.name.value.as_str()).collect();
                let help = suggest::help_for(&name.value, &names, &format!("gateways of cluster `{cname}`"))
                    .unwrap_or_else(|| format!("declare `gateway \"{}\"` in cluster `{cname}`", name.value));
                return Some(
                    Diagnostic::new(Code::E0201, format!("unknown gateway `{}`", name.value))
                        .primary(name.span, format!("no gateway named `{}` in cluster `{cname}`", name.value))
                        .help(help),
                );
            }
        },
        (None, [only]) => *only,
        (None, several) => {
            let choices: Vec<String> = several.iter().map(|g| format!("`gateway=\"{}\"`", g.name.value)).collect();
            let mut diag = Diagnostic::new(
                Code::E0416,
                format!(
                    "the route of `{}` names no gateway, and cluster `{cname}` has {}",
                    app.name.value,
                    several.len()
                ),
            )
            .primary(route.span, "which gateway serves it?")
            .help(format!("add one of {} to the route", choices.join(", ")));
            for gateway in several {
                diag = diag.secondary(gateway.name.span, "could serve it");
            }
            return Some(diag);
        }
    };
    covered(model, gateway, app, route)
}

/// E0414 when no listener of the gateway covers the route's host.
fn covered(model: &Model, gateway: &Gateway, app: &App, route: &Route) -> Option<Diagnostic> {
    let host = model.ingress_host(&route.host.value);
    // A gateway without listeners has its own error (E0422).
    if gateway.listeners.is_empty() || !Model::route_listeners(gateway, &host).is_empty() {
        return None;
    }
    let gname = &gateway.name.value;
    let mut diag = Diagnostic::new(Code::E0414, format!("no listener of gateway `{gname}` covers host `{host}`"))
        .primary(route.host.span, format!("the route of `{}` for `{host}`", app.name.value));
    for listener in &gateway.listeners {
        let label = match &listener.hostname {
            Some(h) if listener.is_tls() && h.value.starts_with("*.") && h.value.len() > 2 => format!(
                "listener `{}` covers `{}` (its wildcard certificate one label deep)",
                listener.name.value, h.value
            ),
            Some(h) => format!("listener `{}` covers `{}`", listener.name.value, h.value),
            None => format!("listener `{}` covers every host", listener.name.value),
        };
        let at = listener.hostname.as_ref().map_or(listener.name.span, |h| h.span);
        diag = diag.secondary(at, label);
    }
    let help = if gateway.implicit {
        format!(
            "the `{gname}` gateway serves `*.<homelab domain>` only: declare a `gateway` with a listener for `{host}`, \
             such as `listener \"{}\" hostname=\"{host}\"`",
            host.split('.').next().unwrap_or("web")
        )
    } else {
        format!(
            "add `listener \"{}\" hostname=\"{host}\"` to gateway `{gname}`, or route a host its listeners cover",
            host.split('.').next().unwrap_or("web")
        )
    };
    Some(diag.help(help))
}

/// E0417 for listeners of one gateway on one port with one hostname, or on
/// one port with both protocols; E0422 for a gateway without listeners or an
/// https listener without hostname (no homelab domain to default to).
fn listeners(cluster: &Cluster, gateway: &Gateway, diags: &mut Vec<Diagnostic>) {
    let gname = &gateway.name.value;
    if gateway.listeners.is_empty() {
        let (message, label) = if gateway.implicit {
            (
                format!("the `{gname}` gateway of cluster `{}` has no listener", cluster.name.value),
                "`ingress \"envoy-gateway\"` gives the cluster a gateway for `*.<homelab domain>`".to_string(),
            )
        } else {
            (format!("gateway `{gname}` has no listener"), "declared without `listener`".to_string())
        };
        diags.push(Diagnostic::new(Code::E0422, message).primary(gateway.name.span, label).help(format!(
            "give the homelab a `domain` (gateways default to an https listener for `*.<domain>`), or declare \
                     `gateway \"{gname}\" {{ listener \"https\" hostname=\"*.lab.example.com\" }}`"
        )));
    }
    for listener in gateway.listeners.iter().filter(|l| l.is_tls() && l.hostname.is_none()) {
        diags.push(
            Diagnostic::new(
                Code::E0422,
                format!("https listener `{}` of gateway `{gname}` has no hostname", listener.name.value),
            )
            .primary(listener.name.span, "its certificate would name no host")
            .help("give it `hostname=\"*.lab.example.com\"`, or give the homelab a `domain` (the default wildcard)"),
        );
    }
    let mut by_port: BTreeMap<u16, Vec<&Listener>> = BTreeMap::new();
    for listener in &gateway.listeners {
        by_port.entry(listener.port.value).or_default().push(listener);
    }
    for (port, on_port) in by_port {
        for (i, listener) in on_port.iter().enumerate() {
            let hostname = |l: &Listener| l.hostname.as_ref().map(|h| h.value.clone());
            let earlier = on_port[..i]
                .iter()
                .find(|e| e.protocol.value != listener.protocol.value || hostname(e) == hostname(listener));
            let Some(earlier) = earlier else { continue };
            let (message, help) = if earlier.protocol.value != listener.protocol.value {
                (
                    format!("port {port} of gateway `{gname}` is both http and https"),
                    "give the https listeners their own port (443) and the http ones theirs (80)".to_string(),
                )
            } else {
                let host = hostname(listener).unwrap_or_else(|| "every host".into());
                (
                    format!(
                        "listeners `{}` and `{}` of gateway `{gname}` both serve {host} on port {port}",
                        earlier.name.value, listener.name.value
                    ),
                    "keep one of them, or give each its own hostname".to_string(),
                )
            };
            diags.push(
                Diagnostic::new(Code::E0417, message)
                    .primary(listener.name.span, format!("{} on port {port}", listener.protocol.value))
                    .secondary(earlier.name.span, format!("{} on port {port} first", earlier.protocol.value))
                    .help(help),
            );
        }
    }
}
