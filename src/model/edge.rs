//! The edge of a cluster (SPEC §2.5, "The edge"): Gateway API gateways and
//! their listeners, the routes of apps, the DNS zones external-dns owns, the
//! tunnels that expose apps, and the namespaces of the components that serve
//! them. What a host is covered by — which listener, which zone, which
//! tunnel — is answered here, once, for the checks, the backends and the
//! inventory alike.

use std::net::IpAddr;

use super::{App, Cluster, DnsProvider, IngressController, ListenerProtocol, Model, Name, TunnelProvider};
use crate::source::{Span, Spanned};

/// The namespace of the `envoy-gateway` component: the controller, the
/// Envoy proxies it starts for each Gateway, and the Gateways themselves
/// with their certificates.
pub const ENVOY_GATEWAY_NAMESPACE: &str = "envoy-gateway-system";
/// The namespace of the `external-dns` component, where a `dns` declaration's
/// token secret lives.
pub const EXTERNAL_DNS_NAMESPACE: &str = "external-dns";
/// The namespace cloudflared runs in, where a tunnel's token secret lives.
pub const CLOUDFLARED_NAMESPACE: &str = "cloudflared";
/// The name of the gateway a cluster with `ingress "envoy-gateway"` and no
/// `gateway` declaration gets.
pub const DEFAULT_GATEWAY: &str = "default";

/// `gateway "name" pool=... address=... { listener ... }`: a Gateway API
/// Gateway served by Envoy Gateway, with the LoadBalancer address its Envoy
/// proxies take.
#[derive(Clone, Debug)]
pub struct Gateway {
    /// Name.
    pub name: Name,
    /// The MetalLB pool its address comes from.
    pub pool: Option<Name>,
    /// A fixed address, inside the pool.
    pub address: Option<Spanned<IpAddr>>,
    /// Its listeners, as declared (the http→https redirect listeners are the
    /// backend's, not the model's).
    pub listeners: Vec<Listener>,
    /// Implied by a cluster's `ingress "envoy-gateway"` (the `default`
    /// gateway), not written by the user: its spans point at that line.
    pub implicit: bool,
    /// The cluster, when several are declared.
    pub cluster: Option<Name>,
    /// The whole declaration.
    pub span: Span,
}

/// `listener "https" port=443 protocol="https" hostname="*.lab.example.com"`.
#[derive(Clone, Debug)]
pub struct Listener {
    /// Its name (the Gateway's `sectionName`).
    pub name: Name,
    /// HTTP or HTTPS (default https, or http on port 80).
    pub protocol: Spanned<ListenerProtocol>,
    /// The port (default 443 for https, 80 for http).
    pub port: Spanned<u16>,
    /// The hosts it accepts: exact or `*.` wildcard; every host when absent.
    pub hostname: Option<Spanned<String>>,
    /// The whole child.
    pub span: Span,
}

impl Listener {
    /// Whether it terminates TLS.
    pub fn is_tls(&self) -> bool {
        self.protocol.value == ListenerProtocol::Https
    }

    /// Whether a route for `host` may attach to it: its hostname matches the
    /// host (a TLS listener's wildcard only one label deep, as its wildcard
    /// certificate is; a plain one any depth, as Gateway API matches).
    pub fn covers(&self, host: &str) -> bool {
        match &self.hostname {
            None => true,
            Some(pattern) => hostname_covers(&pattern.value, host, self.is_tls()),
        }
    }
}

/// How the plain-HTTP requests for an https listener's hosts are redirected
/// to https.
#[derive(Clone, Debug)]
pub enum Redirect<'g> {
    /// A declared http listener on port 80 with the same hostname carries
    /// the redirect.
    Declared(&'g Listener),
    /// A listener of this name is added on port 80 with the same hostname.
    Added(String),
}

impl Gateway {
    /// The redirect of an https listener of this gateway: through its
    /// declared http listener on port 80 for the same hostname, else through
    /// an added `<name>-redirect` listener; none when port 80 serves https
    /// here or that name is taken.
    pub fn redirect(&self, tls: &Listener) -> Option<Redirect<'_>> {
        let hostname = |l: &Listener| l.hostname.as_ref().map(|h| h.value.clone());
        let plain = self.listeners.iter().find(|l| !l.is_tls() && l.port.value == 80 && hostname(l) == hostname(tls));
        if let Some(listener) = plain {
            return Some(Redirect::Declared(listener));
        }
        let name = format!("{}-redirect", tls.name.value);
        let blocked = self.listeners.iter().any(|l| (l.is_tls() && l.port.value == 80) || l.name.value == name);
        (!blocked).then_some(Redirect::Added(name))
    }
}

/// Whether a hostname pattern (exact, or `*.suffix`) matches `host`; with
/// `one_label`, a wildcard stands for exactly one label.
pub fn hostname_covers(pattern: &str, host: &str, one_label: bool) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => match host.strip_suffix(suffix).and_then(|h| h.strip_suffix('.')) {
            Some(label) => !(label.is_empty() || (one_label && label.contains('.'))),
            None => false,
        },
        None => pattern == host,
    }
}

/// `route host=... path=... port=... gateway=...`: an HTTPRoute of the app.
#[derive(Clone, Debug)]
pub struct Route {
    /// Host, completed with the homelab domain when it has no dot.
    pub host: Spanned<String>,
    /// Path prefix (default `/`).
    pub path: Spanned<String>,
    /// The app port routed to.
    pub port: Name,
    /// The gateway it attaches to; the cluster's only one when absent.
    pub gateway: Option<Name>,
    /// The whole child.
    pub span: Span,
}

/// `dns "name" provider=... zone=... token-secret=...`: external-dns keeps
/// the records of the cluster's hosts inside the zone.
#[derive(Clone, Debug)]
pub struct Dns {
    /// Name.
    pub name: Name,
    /// The DNS provider whose API holds the zone.
    pub provider: Spanned<DnsProvider>,
    /// The zone (a domain) whose records it owns.
    pub zone: Spanned<String>,
    /// The secret holding the provider's API token, in external-dns' namespace.
    pub token_secret: Name,
    /// The cluster, when several are declared.
    pub cluster: Option<Name>,
    /// The whole declaration.
    pub span: Span,
}

impl Dns {
    /// Whether a host is inside the zone.
    pub fn owns(&self, host: &str) -> bool {
        in_zone(&self.zone.value, host)
    }
}

/// Whether `host` is the zone itself or a name below it.
pub fn in_zone(zone: &str, host: &str) -> bool {
    host == zone || host.strip_suffix(zone).is_some_and(|h| h.ends_with('.'))
}

/// `tunnel "name" provider=... token-secret=... id=... { expose "APP" }`:
/// cloudflared forwarding the hosts of the exposed apps.
#[derive(Clone, Debug)]
pub struct Tunnel {
    /// Name.
    pub name: Name,
    /// Who runs the tunnel's edge.
    pub provider: Spanned<TunnelProvider>,
    /// The secret holding the tunnel's token, in cloudflared's namespace.
    pub token_secret: Name,
    /// The tunnel's id (a UUID): the DNS records of its hosts point at
    /// `<id>.cfargotunnel.com`.
    pub id: Option<Spanned<String>>,
    /// The apps whose routes and ingresses it forwards.
    pub exposes: Vec<Name>,
    /// The cluster, when several are declared.
    pub cluster: Option<Name>,
    /// The whole declaration.
    pub span: Span,
}

impl Tunnel {
    /// The name the DNS records of its hosts point at.
    pub fn target(&self) -> Option<String> {
        self.id.as_ref().map(|id| format!("{}.cfargotunnel.com", id.value))
    }
}

/// `peer "192.168.1.1" asn=64512 local-asn=64513 password-secret=...`: a BGP
/// router a pool's addresses are announced to.
#[derive(Clone, Debug)]
pub struct Peer {
    /// The router's address.
    pub address: Spanned<IpAddr>,
    /// The router's autonomous system number.
    pub asn: Spanned<u32>,
    /// The cluster's own autonomous system number.
    pub local_asn: Spanned<u32>,
    /// A `basic-auth` secret in MetalLB's namespace holding the session's password.
    pub password_secret: Option<Name>,
    /// The whole child.
    pub span: Span,
}

/// One host an app is reached at, through an ingress or a route.
#[derive(Clone, Debug)]
pub struct Host<'m> {
    /// The host, completed with the homelab domain.
    pub host: String,
    /// The path prefix.
    pub path: &'m str,
    /// The app port it reaches.
    pub port: &'m Name,
    /// The host as written (its span is the one diagnostics point at).
    pub written: &'m Spanned<String>,
    /// A route (not an ingress).
    pub route: bool,
}

impl App {
    /// The Service port an app port is reached at: the number it is exposed
    /// on, else its own number (the Service carries routed ports as they are).
    pub fn service_port(&self, port: &str) -> Option<u16> {
        let exposed = self.service.iter().flat_map(|s| &s.exposes).find(|e| e.port.value == port);
        match exposed {
            Some(e) => Some(e.number.value),
            None => self.pod_port(port).map(|p| p.number.value),
        }
    }
}

impl Model {
    /// Whether a declaration's `cluster=` puts it in `cluster`.
    fn in_cluster(&self, of: Option<&Name>, cluster: &Cluster) -> bool {
        self.cluster_for(of).is_some_and(|c| c.name.value == cluster.name.value)
    }

    /// The gateways of a cluster.
    pub fn gateways_of<'m>(&'m self, cluster: &'m Cluster) -> impl Iterator<Item = &'m Gateway> + 'm {
        self.gateways.iter().filter(move |g| self.in_cluster(g.cluster.as_ref(), cluster))
    }

    /// The `dns` declarations of a cluster.
    pub fn dns_of<'m>(&'m self, cluster: &'m Cluster) -> impl Iterator<Item = &'m Dns> + 'm {
        self.dns.iter().filter(move |d| self.in_cluster(d.cluster.as_ref(), cluster))
    }

    /// The tunnels of a cluster.
    pub fn tunnels_of<'m>(&'m self, cluster: &'m Cluster) -> impl Iterator<Item = &'m Tunnel> + 'm {
        self.tunnels.iter().filter(move |t| self.in_cluster(t.cluster.as_ref(), cluster))
    }

    /// The gateway a route attaches to: the one it names, else its cluster's
    /// only gateway; `None` when that is not one gateway (the checks say why).
    pub fn route_gateway(&self, app: &App, route: &Route) -> Option<&Gateway> {
        let cluster = self.cluster_for(app.cluster.as_ref())?;
        let mut gateways = self.gateways_of(cluster);
        match &route.gateway {
            Some(name) => gateways.find(|g| g.name.value == name.value),
            None => {
                let only = gateways.next();
                if gateways.next().is_some() { None } else { only }
            }
        }
    }

    /// The listeners of a gateway a route for `host` attaches to: those of
    /// its TLS listeners that cover it, else its plain ones that do.
    pub fn route_listeners<'g>(gateway: &'g Gateway, host: &str) -> Vec<&'g Listener> {
        let covering = |tls: bool| -> Vec<&'g Listener> {
            gateway.listeners.iter().filter(|l| l.is_tls() == tls && l.covers(host)).collect()
        };
        let tls = covering(true);
        if tls.is_empty() { covering(false) } else { tls }
    }

    /// Every host an app is reached at: its ingresses', then its routes',
    /// completed with the homelab domain.
    pub fn app_hosts<'m>(&self, app: &'m App) -> Vec<Host<'m>> {
        let ingresses = app.ingresses.iter().map(|i| Host {
            host: self.ingress_host(&i.host.value),
            path: &i.path.value,
            port: &i.port,
            written: &i.host,
            route: false,
        });
        let routes = app.routes.iter().map(|r| Host {
            host: self.ingress_host(&r.host.value),
            path: &r.path.value,
            port: &r.port,
            written: &r.host,
            route: true,
        });
        ingresses.chain(routes).collect()
    }

    /// The `dns` of the app's cluster whose zone holds `host` (the longest
    /// zone, when zones nest).
    pub fn zone_of<'m>(&'m self, cluster: &'m Cluster, host: &str) -> Option<&'m Dns> {
        self.dns_of(cluster).filter(|d| d.owns(host)).max_by_key(|d| d.zone.value.len())
    }

    /// The tunnel of its cluster that exposes an app, if any.
    pub fn tunnel_of(&self, app: &App) -> Option<&Tunnel> {
        let cluster = self.cluster_for(app.cluster.as_ref())?;
        self.tunnels_of(cluster).find(|t| t.exposes.iter().any(|e| e.value == app.name.value))
    }

    /// The tunnel and zone that publish an app's host: the tunnel exposing
    /// the app, when the host is in a Cloudflare zone of the cluster and the
    /// tunnel has an id to point the record at (a DNSEndpoint then owns the
    /// host's record, and external-dns leaves its ingress or route alone).
    pub fn tunnel_record(&self, app: &App, host: &str) -> Option<(&Tunnel, &Dns)> {
        let tunnel = self.tunnel_of(app).filter(|t| t.id.is_some())?;
        let cluster = self.cluster_for(app.cluster.as_ref())?;
        let zone = self.zone_of(cluster, host).filter(|z| z.provider.value == DnsProvider::Cloudflare)?;
        Some((tunnel, zone))
    }

    /// The apps of a tunnel's cluster it exposes, in the order written
    /// (names that are no app of the cluster are left out: the checks report them).
    pub fn exposed_apps<'m>(&'m self, tunnel: &'m Tunnel) -> Vec<&'m App> {
        let Some(cluster) = self.cluster_for(tunnel.cluster.as_ref()) else { return Vec::new() };
        let apps = self.apps.iter().filter(|a| self.in_cluster(a.cluster.as_ref(), cluster));
        let apps: Vec<&App> = apps.collect();
        tunnel.exposes.iter().filter_map(|e| apps.iter().copied().find(|a| a.name.value == e.value)).collect()
    }

    /// Whether a cluster runs Envoy Gateway: its ingress is `envoy-gateway`,
    /// or it declares a gateway.
    pub fn runs_envoy_gateway(&self, cluster: &Cluster) -> bool {
        cluster.ingress.value == IngressController::EnvoyGateway || self.gateways_of(cluster).next().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_label_for_tls_and_any_depth_for_plain_http() {
        assert!(hostname_covers("*.lab.example.com", "web.lab.example.com", true));
        assert!(!hostname_covers("*.lab.example.com", "a.web.lab.example.com", true));
        assert!(hostname_covers("*.lab.example.com", "a.web.lab.example.com", false));
        assert!(!hostname_covers("*.lab.example.com", "lab.example.com", false));
        assert!(!hostname_covers("*.lab.example.com", "weblab.example.com", false));
        assert!(hostname_covers("web.lab.example.com", "web.lab.example.com", true));
    }

    #[test]
    fn zones_hold_themselves_and_names_below() {
        assert!(in_zone("example.com", "example.com"));
        assert!(in_zone("example.com", "web.lab.example.com"));
        assert!(!in_zone("example.com", "badexample.com"));
    }
}
