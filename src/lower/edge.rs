//! Lowering of the edge declarations: `gateway` (with its `listener`
//! children), `dns` and `tunnel` (with its `expose` children); and, once the
//! whole description is lowered, what the edge implies: the `default`
//! gateway of a cluster whose ingress is `envoy-gateway` and that declares
//! none, and the `*.<homelab domain>` listeners of gateways that give no
//! hostname.

use std::net::IpAddr;

use super::reader::{Cx, Label, PortNumber, Reader, Shape, report_duplicates};
use crate::diag::{Code, Diagnostic};
use crate::model::*;
use crate::source::{Span, Spanned};
use crate::syntax::tree;

pub(super) fn gateway(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Gateway> {
    let r = Reader::open(
        cx,
        node,
        Shape { what: "gateway", max_args: 1, props: &["pool", "address", "cluster"], children: &["listener"] },
    );
    let name = r.name(cx);
    let pool = r.opt_ref(cx, "pool");
    let address = r.prop::<IpAddr>(cx, "address");
    let cluster = r.opt_ref(cx, "cluster");
    let listeners: Vec<Listener> = r.lower_each(cx, "listener", listener);
    report_duplicates(cx, listeners.iter().map(|l| (l.name.value.as_str(), l.name.span)), "listener", Code::E0417);
    Some(Gateway { name: name?, pool, address, listeners, implicit: false, cluster, span: r.span(cx) })
}

/// `listener "https" port=443 protocol="https" hostname="*.lab.example.com"`.
fn listener(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Listener> {
    let r = Reader::open(
        cx,
        node,
        Shape { what: "listener", max_args: 1, props: &["port", "protocol", "hostname"], children: &[] },
    );
    let name = r.name(cx);
    let port = r.prop::<PortNumber>(cx, "port").map(|p| p.map(|p| p.0));
    let at = r.name_span(cx);
    // The protocol follows the port when only the port is given (80 is
    // plain HTTP), the port the protocol when only the protocol is.
    let protocol = r.word_prop::<ListenerProtocol>(cx, "protocol").unwrap_or_else(|| {
        let http = port.as_ref().is_some_and(|p| p.value == 80);
        Spanned::new(if http { ListenerProtocol::Http } else { ListenerProtocol::Https }, at)
    });
    let port = port.unwrap_or_else(|| {
        let number = match protocol.value {
            ListenerProtocol::Http => 80,
            ListenerProtocol::Https => 443,
        };
        Spanned::new(number, at)
    });
    let hostname = r.prop::<String>(cx, "hostname");
    if let Some(h) = &hostname {
        let bare = h.value.strip_prefix("*.").unwrap_or(&h.value);
        if let Err(m) = check_dns_subdomain(bare) {
            cx.report(
                Diagnostic::new(Code::E0105, format!("invalid listener hostname: {m}"))
                    .primary(h.span, "not a host name or `*.` wildcard")
                    .help("write a host such as `web.lab.example.com`, or a wildcard such as `*.lab.example.com`"),
            );
        }
    }
    Some(Listener { name: name?, protocol, port, hostname, span: r.span(cx) })
}

pub(super) fn dns(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Dns> {
    let r = Reader::open(
        cx,
        node,
        Shape { what: "dns", max_args: 1, props: &["provider", "zone", "token-secret", "cluster"], children: &[] },
    );
    let name = r.name(cx);
    let provider = r.req_word_prop::<DnsProvider>(cx, "provider");
    let zone = r.req_prop::<String>(cx, "zone");
    if let Some(z) = &zone
        && let Err(m) = check_dns_subdomain(&z.value)
    {
        cx.report(
            Diagnostic::new(Code::E0105, format!("invalid DNS zone: {m}"))
                .primary(z.span, "not a domain")
                .help("write the zone the provider holds, such as `example.com`"),
        );
    }
    let token_secret = r.req_ref(cx, "token-secret");
    let cluster = r.opt_ref(cx, "cluster");
    Some(Dns { name: name?, provider: provider?, zone: zone?, token_secret: token_secret?, cluster, span: r.span(cx) })
}

pub(super) fn tunnel(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Tunnel> {
    let r = Reader::open(
        cx,
        node,
        Shape {
            what: "tunnel",
            max_args: 1,
            props: &["provider", "token-secret", "id", "cluster"],
            children: &["expose"],
        },
    );
    let name = r.name(cx);
    let at = r.name_span(cx);
    let provider =
        r.word_prop::<TunnelProvider>(cx, "provider").unwrap_or(Spanned::new(TunnelProvider::Cloudflare, at));
    let token_secret = r.req_ref(cx, "token-secret");
    let id = r.prop::<String>(cx, "id");
    if let Some(id) = &id
        && !is_uuid(&id.value)
    {
        cx.report(
            Diagnostic::new(Code::E0105, format!("tunnel id `{}` is not a UUID", id.value))
                .primary(id.span, "expected 8-4-4-4-12 hexadecimal digits")
                .help("copy the id `cloudflared tunnel list` shows, e.g. `6ff42ae2-765d-4adf-8112-31c55c1551ef`"),
        );
    }
    let cluster = r.opt_ref(cx, "cluster");
    let mut exposes = Vec::new();
    for c in r.children_named("expose") {
        let e = Reader::open(cx, c, Shape { what: "expose", max_args: 16, props: &[], children: &[] });
        let names = e.rest_args::<Label>(cx, 0);
        if names.is_empty() {
            e.arg::<Label>(cx, 0, "an app name");
        }
        exposes.extend(names.into_iter().map(|l| l.map(|l| l.0)));
    }
    report_duplicates(cx, exposes.iter().map(|e| (e.value.as_str(), e.span)), "exposed app", Code::E0107);
    if exposes.is_empty() {
        cx.report(
            Diagnostic::new(Code::E0104, "tunnel exposes no app")
                .primary(at, "nothing to forward")
                .help("add `expose \"APP\"` inside the tunnel for each app whose hosts it forwards"),
        );
    }
    Some(Tunnel { name: name?, provider, token_secret: token_secret?, id, exposes, cluster, span: r.span(cx) })
}

/// Whether a text is a UUID (`8-4-4-4-12` hexadecimal digits).
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// What the lowered description implies at the edge: a `default` gateway
/// for every cluster whose ingress is `envoy-gateway` and that declares no
/// gateway (addressed from the cluster's pool when it has exactly one), and
/// an https listener for `*.<homelab domain>` on every gateway that declares
/// no listener, or an https listener without a hostname.
pub(super) fn complete(model: &mut Model) {
    let several = model.clusters.len() > 1;
    let mut implied = Vec::new();
    for cluster in model.clusters.iter().filter(|c| c.ingress.value == IngressController::EnvoyGateway) {
        if model.gateways_of(cluster).next().is_some() {
            continue;
        }
        let at = cluster.ingress.span;
        let pools: Vec<&Pool> = model
            .pools
            .iter()
            .filter(|p| model.cluster_for(p.cluster.as_ref()).is_some_and(|c| c.name.value == cluster.name.value))
            .collect();
        let pool = match pools.as_slice() {
            [only] => Some(Spanned::new(only.name.value.clone(), at)),
            _ => None,
        };
        implied.push(Gateway {
            name: Spanned::new(DEFAULT_GATEWAY.to_string(), at),
            pool,
            address: None,
            listeners: Vec::new(),
            implicit: true,
            cluster: several.then(|| Spanned::new(cluster.name.value.clone(), at)),
            span: at,
        });
    }
    model.gateways.extend(implied);
    let domain = model.homelab.as_ref().and_then(|h| h.domain.as_ref()).map(|d| d.value.clone());
    let Some(domain) = domain else { return };
    for gateway in &mut model.gateways {
        let wildcard = |at: Span| Spanned::new(format!("*.{domain}"), at);
        if gateway.listeners.is_empty() {
            let at = gateway.name.span;
            gateway.listeners.push(Listener {
                name: Spanned::new("https".to_string(), at),
                protocol: Spanned::new(ListenerProtocol::Https, at),
                port: Spanned::new(443, at),
                hostname: Some(wildcard(at)),
                span: at,
            });
        }
        for listener in gateway.listeners.iter_mut().filter(|l| l.is_tls() && l.hostname.is_none()) {
            listener.hostname = Some(wildcard(listener.name.span));
        }
    }
}

/// The values the description implies for a component's chart, with the
/// declarations they come from: for `external-dns`, what the `dns`
/// declarations of the (view's only) cluster say — the provider, its API
/// token, the zones, the owner id and the sources to watch. `None` for the
/// other components, and for a cluster without `dns`. Declarations that
/// disagree on the provider or token are reported by the checks (E0420); the
/// first one's win here.
pub fn implied_values(model: &Model, component: &str) -> Option<(Value, Vec<DeclId>)> {
    if component != "external-dns" {
        return None;
    }
    let cluster = model.cluster_for(None)?;
    let zones: Vec<&Dns> = model.dns_of(cluster).collect();
    let first = zones.first()?;
    let span = first.span;
    let value = |kind: ValueKind| Value { kind, span };
    let text = |s: &str| value(ValueKind::String(s.to_string()));
    let map = |pairs: Vec<(&str, Value)>| {
        value(ValueKind::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), (span, v))).collect()))
    };
    let list = |items: Vec<Value>| value(ValueKind::List(items));
    let (provider, variable) = match first.provider.value {
        DnsProvider::Cloudflare => ("cloudflare", "CF_API_TOKEN"),
        DnsProvider::Digitalocean => ("digitalocean", "DO_TOKEN"),
    };
    let token = map(vec![
        ("name", text(variable)),
        (
            "valueFrom",
            map(vec![(
                "secretKeyRef",
                map(vec![("name", text(&first.token_secret.value)), ("key", text(first.provider.value.token_key()))]),
            )]),
        ),
    ]);
    let mut filters: Vec<&str> = zones.iter().map(|d| d.zone.value.as_str()).collect();
    filters.sort_unstable();
    filters.dedup();
    let mut sources = vec![text("ingress")];
    if model.runs_envoy_gateway(cluster) {
        sources.push(text("gateway-httproute"));
    }
    if model.tunnels_of(cluster).next().is_some() {
        sources.push(text("crd"));
    }
    let values = map(vec![
        ("provider", map(vec![("name", text(provider))])),
        ("env", list(vec![token])),
        ("domainFilters", list(filters.into_iter().map(text).collect())),
        ("txtOwnerId", text(&cluster.name.value)),
        ("sources", list(sources)),
    ]);
    Some((values, zones.iter().map(|d| d.id(model)).collect()))
}

#[cfg(test)]
mod tests {
    use crate::host::MemHost;
    use crate::model::{ListenerProtocol, Word};

    /// The listeners (name, protocol, port, hostname) of a description's only gateway.
    fn listeners(body: &str) -> Vec<(String, &'static str, u16, Option<String>)> {
        let text =
            format!("homelab \"lab\" {{ domain \"lab.example.com\"; }}\ncluster \"home\" distribution=\"k3s\"\n{body}");
        let checked = crate::driver::check(&MemHost::with([("homelab.kdl", text)]), "homelab.kdl");
        let gateway = checked.model.gateways.first().expect("a gateway");
        gateway
            .listeners
            .iter()
            .map(|l| {
                let protocol = ListenerProtocol::as_str(l.protocol.value);
                (l.name.value.clone(), protocol, l.port.value, l.hostname.as_ref().map(|h| h.value.clone()))
            })
            .collect()
    }

    #[test]
    fn protocol_and_port_default_to_each_other() {
        let got = listeners(
            "gateway \"g\" {\n listener \"a\"\n listener \"b\" port=80 hostname=\"b.lab.example.com\"\n \
             listener \"c\" protocol=\"http\" hostname=\"c.lab.example.com\"\n listener \"d\" port=8443\n}\n",
        );
        let wildcard = Some("*.lab.example.com".to_string());
        assert_eq!(
            got,
            [
                ("a".to_string(), "https", 443, wildcard.clone()),
                ("b".to_string(), "http", 80, Some("b.lab.example.com".to_string())),
                ("c".to_string(), "http", 80, Some("c.lab.example.com".to_string())),
                ("d".to_string(), "https", 8443, wildcard),
            ]
        );
    }

    #[test]
    fn envoy_gateway_clusters_get_a_default_gateway_and_declared_ones_replace_it() {
        let default = "cluster \"edge\" distribution=\"k3s\" { ingress \"envoy-gateway\"; }";
        let text = format!("homelab \"lab\" {{ domain \"lab.example.com\"; }}\n{default}\n");
        let checked = crate::driver::check(&MemHost::with([("homelab.kdl", text)]), "homelab.kdl");
        let names: Vec<(&str, bool)> =
            checked.model.gateways.iter().map(|g| (g.name.value.as_str(), g.implicit)).collect();
        assert_eq!(names, [("default", true)]);
        assert_eq!(listeners("gateway \"own\"\n").len(), 1);
    }
}
