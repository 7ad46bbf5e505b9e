//! `## Gateways`, `## DNS` and `## Tunnels`: the edge of a cluster — where
//! each gateway listens and which certificate it serves, which records
//! external-dns keeps for which hosts, and which hosts a tunnel forwards.
//! The routes themselves are listed with their URLs in `## Reachable from
//! outside` ([`super::reach`]).

use super::heading;
use super::table::{Table, code};
use crate::model::{Gateway, Model, Redirect, Word};

/// Appends the three sections; each one only when the cluster has its kind.
pub fn sections(model: &Model, out: &mut String) {
    gateways(model, out);
    dns(model, out);
    tunnels(model, out);
}

/// `## Gateways`: address, listeners, certificates and redirects.
fn gateways(model: &Model, out: &mut String) {
    let mut table = Table::new(&["Gateway", "Address", "Listeners", "Routes"]);
    for gateway in &model.gateways {
        let name = if gateway.implicit {
            format!("{} (from `ingress \"envoy-gateway\"`)", code(&gateway.name.value))
        } else {
            code(&gateway.name.value)
        };
        table.row(vec![name, address(model, gateway), listeners(model, gateway), routes(model, gateway)]);
    }
    if !table.is_empty() {
        heading(out, "Gateways");
        table.render(out);
        out.push_str(&format!(
            "Gateways are served by Envoy Gateway (GatewayClass {}): its Envoy proxies, in namespace {}, \
             answer on the gateway's address; every host of a route must resolve to it.\n\n",
            code(crate::backend::gateway::CLASS),
            code(crate::model::ENVOY_GATEWAY_NAMESPACE)
        ));
    }
}

/// Where a gateway's proxies are reached.
fn address(model: &Model, gateway: &Gateway) -> String {
    let pool = gateway.pool.as_ref().map(|p| {
        let range = model.pools.iter().find(|q| q.name.value == p.value).map(|q| format!(" ({})", q.range.value));
        format!("pool {}{}", code(&p.value), range.unwrap_or_default())
    });
    match (&gateway.address, pool) {
        (Some(ip), Some(pool)) => format!("{} from {pool}", ip.value),
        (Some(ip), None) => ip.value.to_string(),
        (None, Some(pool)) => format!("an address from {pool}"),
        (None, None) => "an address from the cluster's load balancer".to_string(),
    }
}

/// A gateway's listeners: protocol, port and hosts; the certificate of the
/// https ones and where their plain-HTTP requests are redirected.
fn listeners(model: &Model, gateway: &Gateway) -> String {
    let issuer = model.cluster_for(gateway.cluster.as_ref()).and_then(|c| model.tls_issuer(c));
    let mut cells = Vec::new();
    for listener in &gateway.listeners {
        let hosts = listener.hostname.as_ref().map_or_else(|| "every host".to_string(), |h| code(&h.value));
        let mut text = format!(
            "{} {}:{} for {hosts}",
            code(&listener.name.value),
            listener.protocol.value.as_str(),
            listener.port.value
        );
        if listener.is_tls() {
            if let Some(issuer) = issuer {
                text.push_str(&format!(", certificate from {}", code(&issuer.name.value)));
            }
            match gateway.redirect(listener) {
                Some(Redirect::Declared(plain)) => {
                    text.push_str(&format!(", http redirected through {}", code(&plain.name.value)));
                }
                Some(Redirect::Added(name)) => text.push_str(&format!(", http:80 redirected ({})", code(&name))),
                None => {}
            }
        }
        cells.push(text);
    }
    cells.join("; ")
}

/// The apps whose routes attach to a gateway.
fn routes(model: &Model, gateway: &Gateway) -> String {
    let attached = model.apps.iter().filter(|a| {
        a.routes.iter().any(|r| model.route_gateway(a, r).is_some_and(|g| g.name.value == gateway.name.value))
    });
    attached.map(|a| format!("app {}", code(&a.name.value))).collect::<Vec<_>>().join(", ")
}

/// `## DNS`: the zones external-dns keeps, and the hosts whose records it owns.
fn dns(model: &Model, out: &mut String) {
    let Some(cluster) = model.cluster_for(None) else { return };
    let mut table = Table::new(&["DNS", "Provider", "Zone", "Token", "Records"]);
    for zone in model.dns_of(cluster) {
        let mut records = Vec::new();
        for app in &model.apps {
            for host in model.app_hosts(app) {
                if model.zone_of(cluster, &host.host).is_none_or(|z| z.name.value != zone.name.value) {
                    continue;
                }
                let record = match model.tunnel_record(app, &host.host) {
                    Some((tunnel, _)) => format!("{} → tunnel {}", code(&host.host), code(&tunnel.name.value)),
                    None if host.route => format!("{} → its gateway", code(&host.host)),
                    None => format!("{} → the ingress controller", code(&host.host)),
                };
                records.push(record);
            }
        }
        records.sort();
        records.dedup();
        table.row(vec![
            code(&zone.name.value),
            zone.provider.value.as_str().to_string(),
            code(&zone.zone.value),
            format!("{} in {}", code(&zone.token_secret.value), code(crate::model::EXTERNAL_DNS_NAMESPACE)),
            records.join(", "),
        ]);
    }
    if !table.is_empty() {
        heading(out, "DNS");
        table.render(out);
        out.push_str(&format!(
            "external-dns keeps these records (owner id {}, TXT registry): a gateway host points at the \
             gateway's address, a tunnel host is a proxied CNAME to the tunnel.\n\n",
            code(&cluster.name.value)
        ));
    }
}

/// `## Tunnels`: what each tunnel forwards, and where its records point.
fn tunnels(model: &Model, out: &mut String) {
    let mut table =
        Table::new(&["Tunnel", "Provider", "Forwards", "Token", "Record target"]).optional(&["Record target"]);
    for tunnel in &model.tunnels {
        let mut forwards = Vec::new();
        for app in model.exposed_apps(tunnel) {
            for host in model.app_hosts(app) {
                let port = app.service_port(&host.port.value).map(|p| format!(":{p}")).unwrap_or_default();
                forwards.push(format!(
                    "{} → {}",
                    code(&format!("https://{}{}", host.host, host.path)),
                    code(&format!("{}.{}{port}", app.name.value, app.namespace.value))
                ));
            }
        }
        table.row(vec![
            code(&tunnel.name.value),
            tunnel.provider.value.as_str().to_string(),
            forwards.join(", "),
            format!("{} in {}", code(&tunnel.token_secret.value), code(crate::model::CLOUDFLARED_NAMESPACE)),
            tunnel.target().map(|t| code(&t)).unwrap_or_default(),
        ]);
    }
    if !table.is_empty() {
        heading(out, "Tunnels");
        table.render(out);
        out.push_str(
            "cloudflared forwards the listed hosts and answers 404 to every other. Create the tunnel once with \
             `cloudflared tunnel create NAME` and store `cloudflared tunnel token NAME` under the key `token` of its secret.\n\n",
        );
    }
}
