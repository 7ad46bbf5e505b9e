//! Addressing checks (E03xx): node addresses, load-balancer pools, DHCP ranges
//! and cluster CIDRs must lie where they belong and never collide.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::diag::{Code, Diagnostic};
use crate::model::{Cluster, IpRange, Model, Network, Node, NodeAddress, Pool, is_canonical, nets_overlap};
use crate::source::{Span, Spanned};

/// Runs the addressing checks.
pub fn check(model: &Model, diags: &mut Vec<Diagnostic>) {
    for network in &model.networks {
        check_network(network, diags);
    }
    for cluster in &model.clusters {
        check_cluster(model, cluster, diags);
    }
    for node in &model.nodes {
        check_node(model, node, diags);
    }
    check_duplicate_addresses(model, diags);
    for pool in &model.pools {
        check_pool(model, pool, diags);
    }
    check_pool_pairs(model, diags);
}

/// E0308 on the CIDR and E0310 on the gateway and DHCP ranges of a network.
/// DNS servers may sit anywhere: public resolvers such as `1.1.1.1` are fine.
fn check_network(network: &Network, diags: &mut Vec<Diagnostic>) {
    diags.extend(non_canonical(&network.cidr, "network"));
    let cidr = network.cidr.value.trunc();
    let whole = IpRange::from(cidr);
    let name = &network.name.value;
    if let Some(gateway) = &network.gateway
        && !whole.contains(gateway.value)
    {
        diags.push(
            Diagnostic::new(Code::E0310, format!("gateway `{}` is outside network `{name}`", gateway.value))
                .primary(gateway.span, format!("not in `{cidr}`"))
                .secondary(network.cidr.span, format!("network `{name}` declared here"))
                .help(format!(
                    "a gateway must be on the network it serves: use the router's address in `{cidr}`, \
                     or fix `cidr=` if that is the typo"
                )),
        );
    }
    for dhcp in &network.dhcp {
        if !whole.covers(&dhcp.value) {
            diags.push(
                Diagnostic::new(Code::E0310, format!("DHCP range `{}` is outside network `{name}`", dhcp.value))
                    .primary(dhcp.span, format!("not inside `{cidr}`"))
                    .secondary(network.cidr.span, format!("network `{name}` declared here"))
                    .help(format!(
                        "copy the DHCP range from the router's settings; it must lie {}",
                        between(host_range(&cidr))
                    )),
            );
        }
    }
}

/// E0308 and E0309 on a cluster's CIDRs, and E0307 on their overlaps.
fn check_cluster(model: &Model, cluster: &Cluster, diags: &mut Vec<Diagnostic>) {
    diags.extend(non_canonical(&cluster.pod_cidr, "pod"));
    diags.extend(non_canonical(&cluster.service_cidr, "service"));
    check_service_room(cluster, diags);
    let name = &cluster.name.value;
    let (pod, service) = (&cluster.pod_cidr, &cluster.service_cidr);
    if nets_overlap(&pod.value, &service.value) {
        // Point at the CIDR the user wrote: at most one of them is a default.
        let ((first, first_what), (second, second_what)) = if is_default(cluster, pod) {
            ((service, "service"), (pod, "pod"))
        } else {
            ((pod, "pod"), (service, "service"))
        };
        diags.push(
            Diagnostic::new(
                Code::E0307,
                format!("pod CIDR `{}` and service CIDR `{}` of cluster `{name}` overlap", pod.value, service.value),
            )
            .primary(first.span, cidr_label(cluster, first, first_what))
            .secondary(second.span, cidr_label(cluster, second, second_what))
            .help_opt(free_cidr(model, cluster, &first.value).map(|free| {
                format!("pod and Service addresses would collide; use a {first_what} CIDR that overlaps no other, such as `{free}`")
            })),
        );
    }
    for (cidr, what) in [(pod, "pod"), (service, "service")] {
        for network in model.networks.iter().filter(|n| nets_overlap(&cidr.value, &n.cidr.value)) {
            let help = match free_cidr(model, cluster, &cidr.value) {
                Some(free) => format!(
                    "choose a {what} CIDR that no network uses, such as `{free}`; k3s cannot change it after the first install"
                ),
                None => {
                    format!("choose a {what} CIDR that no network uses; k3s cannot change it after the first install")
                }
            };
            diags.push(
                Diagnostic::new(
                    Code::E0307,
                    format!(
                        "{what} CIDR `{}` of cluster `{name}` overlaps network `{}` (`{}`)",
                        cidr.value, network.name.value, network.cidr.value
                    ),
                )
                .primary(cidr.span, cidr_label(cluster, cidr, what))
                .secondary(network.cidr.span, format!("network `{}` declared here", network.name.value))
                .help(help),
            );
        }
    }
}

/// E0309: the service CIDR must hold the cluster DNS address, the 10th after
/// the network address (`10.43.0.10` for `10.43.0.0/16`).
fn check_service_room(cluster: &Cluster, diags: &mut Vec<Diagnostic>) {
    let service = &cluster.service_cidr;
    let net = service.value.trunc();
    let smallest = if net.addr().is_ipv4() { 28 } else { 124 };
    if net.prefix_len() <= smallest {
        return;
    }
    let v4 = net.addr().is_ipv4();
    let dns = from_bits(to_bits(net.network()) + 10, v4);
    let size = 1u128 << (net.max_prefix_len() - net.prefix_len());
    diags.push(
        Diagnostic::new(
            Code::E0309,
            format!(
                "service CIDR `{}` of cluster `{}` has no room for the cluster DNS address",
                service.value, cluster.name.value
            ),
        )
        .primary(service.span, format!("holds {size} addresses, up to `{}`", net.broadcast()))
        .help(format!(
            "the cluster DNS Service gets `{dns}`, the 10th address after the network's own; \
             use a `/{smallest}` or larger, such as `{}`",
            IpNet::new(net.network(), if v4 { 16 } else { 112 }).map_or(net, |n| n.trunc())
        )),
    );
}

/// E0308: a CIDR with host bits set.
fn non_canonical(cidr: &Spanned<IpNet>, what: &str) -> Option<Diagnostic> {
    if is_canonical(&cidr.value) {
        return None;
    }
    let canonical = cidr.value.trunc();
    let addr = cidr.value.addr();
    let help = if what == "network" {
        format!(
            "write the network as `{canonical}`; if `{addr}` is a machine's own address, give it to that node's `address`"
        )
    } else {
        format!("write the {what} CIDR as `{canonical}`")
    };
    Some(
        Diagnostic::new(Code::E0308, format!("{what} CIDR `{}` has host bits set", cidr.value))
            .primary(cidr.span, format!("`{addr}` is not the first address of this network"))
            .help(help),
    )
}

/// Where a node's address sits.
enum Placement<'a> {
    /// On this network: the one named by `network=`, or the one containing it.
    On(&'a Network),
    /// `network=` names no declared network (the reference check reports it).
    Unknown,
    /// No `network=`, and no declared network contains the address.
    Nowhere,
}

/// The network a node's address is on.
fn placement<'a>(model: &'a Model, address: &NodeAddress) -> Placement<'a> {
    match &address.network {
        Some(name) => model.network(&name.value).map_or(Placement::Unknown, Placement::On),
        None => model
            .networks
            .iter()
            .find(|n| IpRange::from(n.cidr.value).contains(address.ip.value))
            .map_or(Placement::Nowhere, Placement::On),
    }
}

/// E0301, E0311 and E0312 on one node's address.
fn check_node(model: &Model, node: &Node, diags: &mut Vec<Diagnostic>) {
    let Some(address) = &node.address else { return };
    let ip = &address.ip;
    let network = match placement(model, address) {
        Placement::Unknown => return,
        Placement::Nowhere => {
            diags.extend(on_no_network(model, node, ip));
            return;
        }
        Placement::On(network) => network,
    };
    let (name, cidr) = (&network.name.value, network.cidr.value.trunc());
    if !IpRange::from(cidr).contains(ip.value) {
        diags.push(outside_network(model, node, network, ip));
        return;
    }
    if let Some((role, span, label)) = reserved_role(network, ip.value) {
        let except = if role == "gateway address" { ", other than the gateway's" } else { "" };
        diags.push(
            Diagnostic::new(Code::E0312, format!("node `{}` has the {role} of network `{name}`", node.name.value))
                .primary(ip.span, format!("`{}` is the {role}", ip.value))
                .secondary(span, label)
                .help(format!("give the node an address of its own {}{except}", between(host_range(&cidr)))),
        );
    }
    for dhcp in network.dhcp.iter().filter(|d| d.value.contains(ip.value)) {
        diags.push(
            Diagnostic::new(
                Code::E0311,
                format!("static address `{}` of node `{}` is inside the DHCP range", ip.value, node.name.value),
            )
            .primary(ip.span, "inside the DHCP range")
            .secondary(dhcp.span, format!("DHCP of `{name}` hands out `{}`", dhcp.value))
            .help(format!(
                "the DHCP server may lease `{}` to another device; pick an address outside `{}`, \
                     or shrink the DHCP range on the router and here",
                ip.value, dhcp.value
            )),
        );
    }
}

/// E0301 for an address outside the network it is said to be on; the help
/// names the network that does contain it, if any.
fn outside_network(model: &Model, node: &Node, network: &Network, ip: &Spanned<IpAddr>) -> Diagnostic {
    let (name, cidr) = (&network.name.value, network.cidr.value.trunc());
    let elsewhere = model.networks.iter().find(|n| IpRange::from(n.cidr.value).contains(ip.value));
    let help = match elsewhere {
        Some(other) => {
            format!(
                "`{}` is in network `{}`: did you mean `network=\"{}\"`?",
                ip.value, other.name.value, other.name.value
            )
        }
        None => {
            format!("use an address {}, or point `network=` at the network the node is on", between(host_range(&cidr)))
        }
    };
    Diagnostic::new(
        Code::E0301,
        format!("address `{}` of node `{}` is outside network `{name}`", ip.value, node.name.value),
    )
    .primary(ip.span, format!("not in `{cidr}`"))
    .secondary(network.cidr.span, format!("network `{name}` declared here"))
    .help(help)
}

/// E0301 for an address without `network=` that no network contains,
/// naming the closest network.
fn on_no_network(model: &Model, node: &Node, ip: &Spanned<IpAddr>) -> Option<Diagnostic> {
    let mut closest: Option<(&Network, u32)> = None;
    for network in &model.networks {
        let shared = common_prefix(ip.value, network.cidr.value.network());
        if closest.is_none_or(|(_, best)| shared > best) {
            closest = Some((network, shared));
        }
    }
    let (network, _) = closest?;
    let what = if model.networks.len() == 1 { "the only network" } else { "the closest network" };
    let cidr = network.cidr.value.trunc();
    Some(
        Diagnostic::new(
            Code::E0301,
            format!("address `{}` of node `{}` is on no declared network", ip.value, node.name.value),
        )
        .primary(ip.span, "not in any network")
        .secondary(network.cidr.span, format!("{what}, `{}`, is `{cidr}`", network.name.value))
        .help(format!(
            "use an address {}, or declare the network the node is on and name it with `network=`",
            between(host_range(&cidr))
        )),
    )
}

/// Which reserved address of `network` `ip` is, where that is declared, and
/// a label for that place.
pub(super) fn reserved_role(network: &Network, ip: IpAddr) -> Option<(&'static str, Span, String)> {
    let cidr = network.cidr.value.trunc();
    let v4 = cidr.addr().is_ipv4();
    let has_own = if v4 { cidr.prefix_len() < 31 } else { cidr.prefix_len() < 127 };
    let name = &network.name.value;
    if has_own && ip == cidr.network() {
        return Some(("network address", network.cidr.span, format!("network `{name}` starts at `{ip}`")));
    }
    if v4 && cidr.prefix_len() < 31 && ip == cidr.broadcast() {
        return Some(("broadcast address", network.cidr.span, format!("network `{name}` ends at `{ip}`")));
    }
    match &network.gateway {
        Some(gateway) if gateway.value == ip => {
            Some(("gateway address", gateway.span, format!("the gateway of `{name}`")))
        }
        _ => None,
    }
}

/// E0302: two nodes with one address. Nodes come sorted by name, so the
/// first of each group carries the secondary label.
fn check_duplicate_addresses(model: &Model, diags: &mut Vec<Diagnostic>) {
    let mut by_ip: BTreeMap<IpAddr, Vec<(&Node, &Spanned<IpAddr>)>> = BTreeMap::new();
    for node in &model.nodes {
        if let Some(address) = &node.address {
            by_ip.entry(address.ip.value).or_default().push((node, &address.ip));
        }
    }
    for (ip, nodes) in by_ip {
        let Some(((first, first_ip), rest)) = nodes.split_first() else { continue };
        for (node, node_ip) in rest {
            diags.push(
                Diagnostic::new(
                    Code::E0302,
                    format!("nodes `{}` and `{}` have the same address `{ip}`", first.name.value, node.name.value),
                )
                .primary(node_ip.span, format!("address of `{}`", node.name.value))
                .secondary(first_ip.span, format!("already the address of `{}`", first.name.value))
                .help(format!("give `{}` an address no other machine uses", node.name.value)),
            );
        }
    }
}

/// E0303 to E0306 on one pool.
fn check_pool(model: &Model, pool: &Pool, diags: &mut Vec<Diagnostic>) {
    if let Some(network) = model.network(&pool.network.value) {
        let cidr = network.cidr.value.trunc();
        if !IpRange::from(cidr).covers(&pool.range.value) {
            diags.push(
                Diagnostic::new(
                    Code::E0303,
                    format!("pool `{}` is not inside network `{}`", pool.name.value, network.name.value),
                )
                .primary(pool.range.span, outside_label(&cidr, &pool.range.value))
                .secondary(network.cidr.span, format!("network `{}` declared here", network.name.value))
                .help(format!(
                    "MetalLB announces addresses on the nodes' own segment; choose a range {} \
                     that no host or DHCP lease uses",
                    between(host_range(&cidr))
                )),
            );
        }
        check_pool_addresses(model, pool, network, diags);
        for dhcp in network.dhcp.iter().filter(|d| d.value.overlaps(&pool.range.value)) {
            diags.push(
                Diagnostic::new(
                    Code::E0305,
                    format!("pool `{}` overlaps the DHCP range of network `{}`", pool.name.value, network.name.value),
                )
                .primary(
                    pool.range.span,
                    format!("shares `{}` with the DHCP range", show_range(shared(&pool.range.value, &dhcp.value))),
                )
                .secondary(dhcp.span, "DHCP range declared here")
                .help(format!(
                    "the DHCP server would lease these addresses to other devices; move the pool outside `{}`",
                    dhcp.value
                )),
            );
        }
    }
    check_pool_cluster(model, pool, diags);
}

/// The label on a range that is not inside `cidr`: wholly outside, or
/// sticking out at one end.
fn outside_label(cidr: &IpNet, range: &IpRange) -> String {
    let whole = IpRange::from(*cidr);
    if !whole.overlaps(range) {
        format!("not within `{cidr}`")
    } else if range.start < whole.start {
        format!("starts before `{cidr}`")
    } else {
        format!("runs past the end of `{cidr}`")
    }
}

/// E0304: a pool containing a node address, a cluster's VIP, the gateway or
/// a DNS server of its network. Each address is reported once.
fn check_pool_addresses(model: &Model, pool: &Pool, network: &Network, diags: &mut Vec<Diagnostic>) {
    let mut taken: BTreeMap<IpAddr, (Span, String)> = BTreeMap::new();
    let net = &network.name.value;
    for node in &model.nodes {
        if let Some(address) = &node.address {
            taken
                .entry(address.ip.value)
                .or_insert((address.ip.span, format!("address of node `{}`", node.name.value)));
        }
    }
    for cluster in &model.clusters {
        if let Some(vip) = &cluster.vip {
            taken.entry(vip.value).or_insert((vip.span, format!("VIP of cluster `{}`", cluster.name.value)));
        }
    }
    if let Some(gateway) = &network.gateway {
        taken.entry(gateway.value).or_insert((gateway.span, format!("gateway of network `{net}`")));
    }
    for dns in &network.dns {
        taken.entry(dns.value).or_insert((dns.span, format!("DNS server of network `{net}`")));
    }
    for (ip, (span, owner)) in taken.into_iter().filter(|(ip, _)| pool.range.value.contains(*ip)) {
        diags.push(
            Diagnostic::new(Code::E0304, format!("pool `{}` contains `{ip}`, the {owner}", pool.name.value))
                .primary(pool.range.span, format!("includes `{ip}`"))
                .secondary(span, owner)
                .help(format!(
                    "MetalLB would hand `{ip}` to a Service and take it over; keep the pool to addresses no host uses"
                )),
        );
    }
}

/// E0306: a pool overlapping the pod or service CIDR of its cluster.
fn check_pool_cluster(model: &Model, pool: &Pool, diags: &mut Vec<Diagnostic>) {
    let Some(cluster) = model.cluster_for(pool.cluster.as_ref()) else { return };
    for (cidr, what) in [(&cluster.pod_cidr, "pod"), (&cluster.service_cidr, "service")] {
        if !IpRange::from(cidr.value).overlaps(&pool.range.value) {
            continue;
        }
        diags.push(
            Diagnostic::new(
                Code::E0306,
                format!(
                    "pool `{}` overlaps the {what} CIDR `{}` of cluster `{}`",
                    pool.name.value, cidr.value, cluster.name.value
                ),
            )
            .primary(
                pool.range.span,
                format!(
                    "shares `{}` with the {what} CIDR",
                    show_range(shared(&pool.range.value, &IpRange::from(cidr.value)))
                ),
            )
            .secondary(cidr.span, cidr_label(cluster, cidr, what))
            .help(format!(
                "inside the cluster these addresses are routed to {}, not to the Service; \
                 move the {what} CIDR away from the network",
                if what == "pod" { "pods" } else { "kube-proxy" }
            )),
        );
    }
}

/// E0305 between two pools, once per pair.
fn check_pool_pairs(model: &Model, diags: &mut Vec<Diagnostic>) {
    for (i, first) in model.pools.iter().enumerate() {
        for second in model.pools[i + 1..].iter().filter(|p| p.range.value.overlaps(&first.range.value)) {
            diags.push(
                Diagnostic::new(
                    Code::E0305,
                    format!("pools `{}` and `{}` overlap", first.name.value, second.name.value),
                )
                .primary(
                    second.range.span,
                    format!(
                        "shares `{}` with pool `{}`",
                        show_range(shared(&first.range.value, &second.range.value)),
                        first.name.value
                    ),
                )
                .secondary(first.range.span, format!("pool `{}` declared here", first.name.value))
                .help("MetalLB refuses pools that share addresses; make the two ranges disjoint"),
            );
        }
    }
}

/// Whether a cluster CIDR is the default (defaults are spanned at the name).
fn is_default(cluster: &Cluster, cidr: &Spanned<IpNet>) -> bool {
    cidr.span == cluster.name.span
}

/// The label of a cluster CIDR, saying when it is the default.
fn cidr_label(cluster: &Cluster, cidr: &Spanned<IpNet>, what: &str) -> String {
    if is_default(cluster, cidr) {
        format!("cluster `{}` uses the default {what} CIDR `{}`", cluster.name.value, cidr.value)
    } else {
        format!("{what} CIDR of cluster `{}`", cluster.name.value)
    }
}

/// A free IPv4 CIDR of the same size as `taken` in 10.0.0.0/8, overlapping no
/// network and no other CIDR of the cluster, to suggest in a help line.
fn free_cidr(model: &Model, cluster: &Cluster, taken: &IpNet) -> Option<IpNet> {
    let len = taken.prefix_len();
    if !taken.addr().is_ipv4() || !(8..=24).contains(&len) {
        return None;
    }
    let others: Vec<IpNet> = model
        .networks
        .iter()
        .map(|n| n.cidr.value)
        .chain([cluster.pod_cidr.value, cluster.service_cidr.value].into_iter().filter(|c| c != taken))
        .collect();
    (42..=255u8)
        .chain(1..42)
        .filter_map(|x| IpNet::new(IpAddr::V4(Ipv4Addr::new(10, x, 0, 0)), len).ok().map(|n| n.trunc()))
        .find(|candidate| !others.iter().any(|o| nets_overlap(candidate, o)))
}

/// The addresses of a network that a host may use: all but the network and
/// broadcast addresses for IPv4 networks larger than a /31.
pub(super) fn host_range(net: &IpNet) -> IpRange {
    let (start, end) = (net.network(), net.broadcast());
    if start.is_ipv4() && net.prefix_len() < 31 {
        IpRange { start: from_bits(to_bits(start) + 1, true), end: from_bits(to_bits(end) - 1, true) }
    } else {
        IpRange { start, end }
    }
}

/// The addresses two overlapping ranges share.
fn shared(a: &IpRange, b: &IpRange) -> IpRange {
    IpRange { start: a.start.max(b.start), end: a.end.min(b.end) }
}

/// A range in words, for help lines: "between `A` and `B`".
pub(super) fn between(range: IpRange) -> String {
    format!("between `{}` and `{}`", range.start, range.end)
}

/// A range as written by people: `A-B`, or `A` alone for a single address.
fn show_range(range: IpRange) -> String {
    if range.start == range.end { range.start.to_string() } else { range.to_string() }
}

/// How many leading bits two addresses share (0 across families).
fn common_prefix(a: IpAddr, b: IpAddr) -> u32 {
    match (a, b) {
        (IpAddr::V4(x), IpAddr::V4(y)) => (u32::from(x) ^ u32::from(y)).leading_zeros(),
        (IpAddr::V6(x), IpAddr::V6(y)) => (u128::from(x) ^ u128::from(y)).leading_zeros(),
        _ => 0,
    }
}

/// An address as a number.
fn to_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// A number as an address of the given family (truncated to 32 bits for IPv4).
fn from_bits(bits: u128, v4: bool) -> IpAddr {
    if v4 { IpAddr::V4(Ipv4Addr::from(bits as u32)) } else { IpAddr::V6(Ipv6Addr::from(bits)) }
}

#[cfg(test)]
mod tests {
    use crate::host::MemHost;

    /// The codes a description produces.
    fn codes(body: &str) -> Vec<String> {
        let text = format!("homelab \"lab\"\n{body}");
        let checked = crate::driver::check(&MemHost::with([("homelab.kdl", text)]), "homelab.kdl");
        checked.diagnostics.iter().map(|d| d.code.to_string()).filter(|c| c.starts_with("E03")).collect()
    }

    /// A LAN with DHCP and a MetalLB cluster.
    const LAN: &str = r#"network "lan" cidr="192.168.1.0/24" gateway="192.168.1.1" {
        dhcp "192.168.1.100-192.168.1.199"
        dns "192.168.1.1"
    }
    cluster "home" distribution="k3s" { load-balancer "metallb" }
    "#;

    #[test]
    fn a_clean_network_passes() {
        let body = format!(
            "{LAN}node \"a\" role=\"server\" {{ address \"192.168.1.10\"; }}\n\
             pool \"lb\" network=\"lan\" range=\"192.168.1.200-192.168.1.210\""
        );
        assert!(codes(&body).is_empty(), "{:?}", codes(&body));
    }

    #[test]
    fn node_addresses() {
        let node = |ip: &str| format!("{LAN}node \"a\" role=\"server\" {{ address \"{ip}\" network=\"lan\"; }}");
        assert_eq!(codes(&node("192.168.2.10")), ["E0301"]);
        assert_eq!(codes(&node("192.168.1.0")), ["E0312"]);
        assert_eq!(codes(&node("192.168.1.255")), ["E0312"]);
        assert_eq!(codes(&node("192.168.1.1")), ["E0312"]);
        assert_eq!(codes(&node("192.168.1.150")), ["E0311"]);
        let unnamed = format!("{LAN}node \"a\" role=\"server\" {{ address \"10.9.9.9\"; }}");
        assert_eq!(codes(&unnamed), ["E0301"]);
    }

    #[test]
    fn pools() {
        let pool = |range: &str| format!("{LAN}pool \"lb\" network=\"lan\" range=\"{range}\"");
        assert_eq!(codes(&pool("192.168.1.250-192.168.2.10")), ["E0303"]);
        assert_eq!(codes(&pool("192.168.1.1-192.168.1.5")), ["E0304"]);
        assert_eq!(codes(&pool("192.168.1.190-192.168.1.210")), ["E0305"]);
        let two = format!(
            "{}\npool \"lb2\" network=\"lan\" range=\"192.168.1.205-192.168.1.220\"",
            pool("192.168.1.200-192.168.1.210")
        );
        assert_eq!(codes(&two), ["E0305"]);
    }

    #[test]
    fn cluster_cidrs() {
        let cluster = |pod: &str, service: &str| {
            format!("cluster \"home\" distribution=\"k3s\" {{ pod-cidr \"{pod}\"; service-cidr \"{service}\"; }}")
        };
        assert_eq!(codes(&cluster("10.42.0.0/16", "10.42.128.0/17")), ["E0307"]);
        assert_eq!(codes(&cluster("10.42.0.5/16", "10.43.0.0/16")), ["E0308"]);
        assert_eq!(codes(&cluster("10.42.0.0/16", "10.43.0.0/29")), ["E0309"]);
        assert!(codes(&cluster("10.42.0.0/16", "10.43.0.0/28")).is_empty());
    }

    #[test]
    fn helpers() {
        let net: ipnet::IpNet = "192.168.1.0/24".parse().unwrap();
        assert_eq!(super::show_range(super::host_range(&net)), "192.168.1.1-192.168.1.254");
        let a = "10.0.0.0".parse().unwrap();
        assert_eq!(super::common_prefix(a, "10.0.0.255".parse().unwrap()), 24);
    }
}
