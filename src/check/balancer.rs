//! Load-balancer addressing checks: fixed `address=`es of services and
//! gateways inside their pool (E0313), not given twice in one cluster
//! (E0314), only on LoadBalancer services (E0315) and only where MetalLB
//! hands them out (E0502); BGP pools with peers (E0316), peers only on BGP
//! pools (E0317), a peer's password a `basic-auth` secret of MetalLB's
//! namespace (E0318, E0201), one router declared one way (E0319).

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::secrets::resolve_in;
use crate::backend::metallb::NAMESPACE as METALLB_NAMESPACE;
use crate::diag::{Code, Diagnostic};
use crate::model::{Advertise, Cluster, LoadBalancer, Model, Name, Peer, Pool, SecretType, ServiceType, Word};
use crate::source::Spanned;

/// Runs the checks on every cluster of the model.
pub fn check(model: &Model, diags: &mut Vec<Diagnostic>) {
    for cluster in &model.clusters {
        let pools: Vec<&Pool> = model
            .pools
            .iter()
            .filter(|p| model.cluster_for(p.cluster.as_ref()).is_some_and(|c| c.name.value == cluster.name.value))
            .collect();
        fixed_addresses(model, cluster, &pools, diags);
        for pool in &pools {
            peers(model, pool, diags);
        }
        conflicting_peers(&pools, diags);
    }
}

/// One fixed address: who asks for it, from which pool.
struct Fixed<'m> {
    address: &'m Spanned<IpAddr>,
    pool: Option<&'m Name>,
    owner: String,
}

/// E0315, E0502, E0313 and E0314 for the fixed addresses of a cluster.
fn fixed_addresses(model: &Model, cluster: &Cluster, pools: &[&Pool], diags: &mut Vec<Diagnostic>) {
    let here = |c: Option<&Name>| model.cluster_for(c).is_some_and(|c| c.name.value == cluster.name.value);
    let mut wanted: Vec<Fixed<'_>> = Vec::new();
    for app in model.apps.iter().filter(|a| here(a.cluster.as_ref())) {
        let Some(service) = &app.service else { continue };
        let Some(address) = &service.address else { continue };
        if service.kind.value != ServiceType::LoadBalancer {
            diags.push(
                Diagnostic::new(
                    Code::E0315,
                    format!("the service of `{}` has a fixed address but is not a LoadBalancer", app.name.value),
                )
                .primary(address.span, "only a LoadBalancer Service takes an address from a pool")
                .secondary(service.kind.span, format!("a {} Service", service.kind.value))
                .help(format!(
                    "write `service type=\"LoadBalancer\" pool=\"...\" address=\"{}\"`, or drop `address=`",
                    address.value
                )),
            );
            continue;
        }
        wanted.push(Fixed {
            address,
            pool: service.pool.as_ref(),
            owner: format!("the service of `{}`", app.name.value),
        });
    }
    for gateway in model.gateways.iter().filter(|g| here(g.cluster.as_ref())) {
        if let Some(address) = &gateway.address {
            wanted.push(Fixed {
                address,
                pool: gateway.pool.as_ref(),
                owner: format!("gateway `{}`", gateway.name.value),
            });
        }
    }
    if cluster.load_balancer.value != LoadBalancer::Metallb {
        // A `pool=` on a cluster without MetalLB is reported already (E0502).
        for fixed in wanted.iter().filter(|f| f.pool.is_none()) {
            diags.push(
                Diagnostic::new(
                    Code::E0502,
                    format!("{} asks for a fixed address, but cluster `{}` does not run MetalLB", fixed.owner, cluster.name.value),
                )
                .primary(fixed.address.span, "an address MetalLB would hand out")
                .secondary(cluster.load_balancer.span, format!("load balancer `{}`", cluster.load_balancer.value))
                .help(format!(
                    "set `load-balancer \"metallb\"` and declare a `pool` holding {} in cluster `{}`, or drop `address=`",
                    fixed.address.value, cluster.name.value
                )),
            );
        }
        return;
    }
    for fixed in &wanted {
        diags.extend(outside_pool(fixed, pools));
    }
    let mut by_place: Vec<&Fixed<'_>> = wanted.iter().collect();
    by_place.sort_by_key(|f| f.address.span);
    let mut first: BTreeMap<IpAddr, &Fixed<'_>> = BTreeMap::new();
    for fixed in by_place {
        match first.get(&fixed.address.value) {
            Some(earlier) => diags.push(
                Diagnostic::new(
                    Code::E0314,
                    format!("address {} is given twice in cluster `{}`", fixed.address.value, cluster.name.value),
                )
                .primary(fixed.address.span, format!("asked again here by {}", fixed.owner))
                .secondary(earlier.address.span, format!("first asked by {}", earlier.owner))
                .help(
                    "MetalLB gives an address to one Service only: give each its own address, or drop one `address=`",
                ),
            ),
            None => {
                first.insert(fixed.address.value, fixed);
            }
        }
    }
}

/// E0313 when a fixed address is not in its pool (the one named, else any
/// pool of the cluster). An unknown pool is an E0201 already.
fn outside_pool(fixed: &Fixed<'_>, pools: &[&Pool]) -> Option<Diagnostic> {
    let ip = fixed.address.value;
    match fixed.pool {
        Some(name) => {
            let pool = pools.iter().find(|p| p.name.value == name.value)?;
            if pool.range.value.contains(ip) {
                return None;
            }
            let holding = pools.iter().find(|p| p.range.value.contains(ip));
            let help = match holding {
                Some(other) => format!(
                    "the address is in pool `{}`: name that pool, or pick an address of `{}`",
                    other.name.value, name.value
                ),
                None => format!("pick an address of pool `{}` ({})", name.value, pool.range.value),
            };
            Some(
                Diagnostic::new(Code::E0313, format!("address {ip} is outside pool `{}`", name.value))
                    .primary(fixed.address.span, format!("asked by {}", fixed.owner))
                    .secondary(pool.range.span, format!("pool `{}` holds these addresses", name.value))
                    .help(help),
            )
        }
        None if pools.iter().any(|p| p.range.value.contains(ip)) => None,
        None => {
            let ranges: Vec<String> = pools.iter().map(|p| format!("`{}` ({})", p.name.value, p.range.value)).collect();
            let help = match ranges.as_slice() {
                [] => "declare a `pool` holding the address".to_string(),
                _ => format!("pick an address of a pool of the cluster: {}", ranges.join(", ")),
            };
            Some(
                Diagnostic::new(Code::E0313, format!("address {ip} is in no pool of its cluster"))
                    .primary(fixed.address.span, format!("asked by {}", fixed.owner))
                    .help(help),
            )
        }
    }
}

/// E0316, E0317, E0201 and E0318 for a pool's BGP peers.
fn peers(model: &Model, pool: &Pool, diags: &mut Vec<Diagnostic>) {
    let name = &pool.name.value;
    match (pool.advertise.value, pool.peers.first()) {
        (Advertise::Bgp, None) => diags.push(
            Diagnostic::new(Code::E0316, format!("pool `{name}` is advertised over BGP but has no peer"))
                .primary(pool.advertise.span, "BGP, announced to nobody")
                .help(format!(
                    "add the router to announce to inside the pool: `pool \"{name}\" ... {{ peer \"192.168.1.1\" asn=64512 local-asn=64513 }}`, or use `advertise=\"l2\"`"
                )),
        ),
        (Advertise::L2, Some(peer)) => {
            // Without `advertise=`, the advertisement is spanned at the keyword.
            let label = if pool.advertise.span.start == pool.span.start {
                "pools are advertised over L2 unless they say `advertise=\"bgp\"`".to_string()
            } else {
                "advertised over L2 here".to_string()
            };
            diags.push(
                Diagnostic::new(Code::E0317, format!("pool `{name}` declares BGP peers but is advertised over L2"))
                    .primary(peer.address.span, "a BGP peer nothing would talk to")
                    .secondary(pool.advertise.span, label)
                    .help(format!("set `advertise=\"bgp\"` on pool `{name}`, or remove its peers")),
            );
        }
        _ => {}
    }
    for peer in &pool.peers {
        let Some(secret) = &peer.password_secret else { continue };
        let ns = METALLB_NAMESPACE;
        let found = resolve_in(model, ns, secret, "MetalLB", || {
            format!(
                "declare it where MetalLB reads it: `secret \"{}\" namespace=\"{ns}\" from=\"existing\" type=\"basic-auth\"` (key `password`)",
                secret.value
            )
        });
        if let Some(diag) = found {
            diags.push(diag);
            continue;
        }
        let declared = model.secrets.iter().find(|s| s.name.value == secret.value && s.namespace.value == ns);
        if let Some(declared) = declared.filter(|s| s.secret_type.value != SecretType::BasicAuth) {
            diags.push(
                Diagnostic::new(
                    Code::E0318,
                    format!("the password of BGP peer {} is read from `{}`, which is not a basic-auth secret", peer.address.value, secret.value),
                )
                .primary(declared.secret_type.span, format!("a secret of type `{}`", declared.secret_type.value.as_str()))
                .secondary(secret.span, "read as the BGP session's password")
                .help(format!(
                    "MetalLB reads the `password` key of a `kubernetes.io/basic-auth` Secret only: give `{}` `type=\"basic-auth\"`",
                    secret.value
                )),
            );
        }
    }
}

/// E0319 when one router address is declared with different ASNs or
/// passwords by the pools of one cluster (MetalLB would open two sessions).
fn conflicting_peers(pools: &[&Pool], diags: &mut Vec<Diagnostic>) {
    let mut first: BTreeMap<IpAddr, &Peer> = BTreeMap::new();
    let mut all: Vec<&Peer> = pools.iter().flat_map(|p| &p.peers).collect();
    all.sort_by_key(|p| p.span);
    for peer in all {
        let Some(earlier) = first.get(&peer.address.value) else {
            first.insert(peer.address.value, peer);
            continue;
        };
        if settings(earlier) == settings(peer) {
            continue;
        }
        diags.push(
            Diagnostic::new(Code::E0319, format!("BGP peer {} is declared twice with different settings", peer.address.value))
                .primary(peer.span, "declared again here")
                .secondary(earlier.span, "first declared here")
                .help("a router is one BGP session: give it the same `asn=`, `local-asn=` and `password-secret=` in every pool"),
        );
    }
}

/// What makes a BGP session: the two ASNs and the password.
fn settings(peer: &Peer) -> (u32, u32, Option<&str>) {
    (peer.asn.value, peer.local_asn.value, peer.password_secret.as_ref().map(|s| s.value.as_str()))
}
