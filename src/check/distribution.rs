//! What each distribution takes (E13xx, W13xx): node roles in the
//! distribution's words, settings that belong to another distribution, the
//! releases a k3s or kind `version=` names, and
//! what a Talos cluster needs — pinned Talos and Kubernetes versions, an API
//! endpoint (a VIP the control planes share, or `endpoint=`) where it can
//! work, control planes for etcd's quorum, an address and an install disk on
//! every node, and a storage class for the claims it writes (Talos ships none).

use std::net::IpAddr;

use crate::diag::{Code, Diagnostic};
#[cfg(test)]
use crate::model::NodeRole;
use crate::model::{Cluster, Distribution, HostAddress, IpRange, LoadBalancer, Model, Node, is_semver};
use crate::source::{Span, Spanned};

use super::addressing::{between, host_range, reserved_role};

/// The checks of the whole description: roles, settings, versions, endpoints
/// and control planes of every cluster, and what its nodes declare.
pub fn whole(model: &Model, diags: &mut Vec<Diagnostic>) {
    for cluster in &model.clusters {
        settings(cluster, diags);
        if cluster.distribution.value != Distribution::Talos {
            diags.extend(release(cluster));
        } else {
            versions(cluster, diags);
            endpoint(model, cluster, diags);
            control_planes(model, cluster, diags);
        }
    }
    for node in &model.nodes {
        let Some(cluster) = model.cluster_for(node.cluster.as_ref()) else { continue };
        diags.extend(role(cluster, node));
        node_settings(cluster, node, diags);
    }
}

/// The checks of one cluster's view: claims that rely on a default storage
/// class the distribution does not ship (E1309).
pub fn cluster(model: &Model, diags: &mut Vec<Diagnostic>) {
    let Some(cluster) = model.clusters.first() else { return };
    let distribution = cluster.distribution.value;
    if distribution.storage_class().is_some()
        || model.storage_classes.iter().any(|s| s.default.as_ref().is_some_and(|d| d.value))
    {
        return;
    }
    let mut claims: Vec<(Span, String)> = Vec::new();
    for app in &model.apps {
        for (volume, own) in app.own_claims().filter(|(_, own)| own.storage_class.is_none()) {
            claims.push((own.size.span, format!("volume `{}` of app `{}`", volume.name.value, app.name.value)));
        }
    }
    for claim in model.claims.iter().filter(|c| c.storage_class.is_none()) {
        claims.push((claim.size.span, format!("claim `{}`", claim.name.value)));
    }
    for registry in &model.registries {
        if let Some(deploy) = &registry.deploy {
            claims.push((deploy.storage.span, format!("the storage of registry `{}`", registry.name.value)));
        }
    }
    let named: Vec<&str> = model.storage_classes.iter().map(|s| s.name.value.as_str()).collect();
    let alternative = match named.as_slice() {
        [] => "declare one with `default=#true` (`storage-class \"NAME\" provisioner=\"...\" default=#true`, and the chart \
               of its CSI driver)"
            .to_string(),
        _ => format!(
            "name one of the declared classes ({}) with `storage-class=`, or make one `default=#true`",
            named.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        ),
    };
    for (span, what) in claims {
        diags.push(
            Diagnostic::new(
                Code::E1309,
                format!("{what} takes the default storage class, but cluster `{}` has none", cluster.name.value),
            )
            .primary(span, "a claim without `storage-class=`")
            .secondary(cluster.distribution.span, format!("{} ships no storage class", distribution.title()))
            .help(format!("the claim would stay Pending: {alternative}")),
        );
    }
}

/// E1301: a role the node's distribution does not name.
fn role(cluster: &Cluster, node: &Node) -> Option<Diagnostic> {
    let distribution = cluster.distribution.value;
    let title = distribution.title();
    let role = node.role.value;
    if role.fits(distribution) {
        return None;
    }
    let words = distribution.roles().map(|r| format!("`{r}`")).join(" or ");
    let fixed = role.in_words_of(distribution);
    let owner = if distribution == Distribution::Talos { "k3s'" } else { "Talos'" };
    Some(
        Diagnostic::new(
            Code::E1301,
            format!("node `{}` has role `{role}`, which {title} does not name", node.name.value),
        )
        .primary(node.role.span, format!("{owner} word"))
        .secondary(cluster.distribution.span, format!("cluster `{}` is {title}", cluster.name.value))
        .help(format!("{title} nodes are {words}: write `role=\"{fixed}\"`")),
    )
}

/// E1308 on a cluster's settings of another distribution: Talos' `kubernetes=`,
/// `endpoint=` and `vip` elsewhere; k3s' traefik and ServiceLB on kind and Talos.
fn settings(cluster: &Cluster, diags: &mut Vec<Diagnostic>) {
    let distribution = cluster.distribution.value;
    let title = distribution.title();
    let name = &cluster.name.value;
    let other = |span: Span, setting: &str, label: &str, help: String| {
        Diagnostic::new(Code::E1308, format!("{setting} does not apply to {title} cluster `{name}`"))
            .primary(span, label.to_string())
            .secondary(cluster.distribution.span, format!("cluster `{name}` is {title}"))
            .help(help)
    };
    if distribution != Distribution::Talos {
        let own_version = match distribution {
            Distribution::Kind => "the kind node image's tag in `version=` is the Kubernetes version",
            Distribution::K3s | Distribution::Talos => {
                "the k3s `version=` names its Kubernetes version (`v1.33.6+k3s1`)"
            }
        };
        if let Some(k) = &cluster.kubernetes {
            diags.push(other(k.span, "`kubernetes=`", "a Talos setting", format!("{own_version}: drop `kubernetes=`")));
        }
        let api = "the API is served by the control-plane nodes' own addresses: drop it, or put a load balancer \
                   (kube-vip, a `chart`) in front of them";
        if let Some(e) = &cluster.endpoint {
            diags.push(other(e.span, "`endpoint=`", "a Talos setting", api.to_string()));
        }
        if let Some(v) = &cluster.vip {
            diags.push(other(v.span, "`vip`", "a Talos setting", api.to_string()));
        }
    }
    if !distribution.runs_ingress(cluster.ingress.value) {
        diags.push(other(
            cluster.ingress.span,
            &format!("ingress `{}`", cluster.ingress.value),
            "k3s' packaged ingress controller",
            format!(
                "{title} ships no ingress controller: write `ingress \"nginx\"` (homelabc installs ingress-nginx), or \
                 `ingress \"none\"` and install one with a `chart`, naming its class with `class=` on the ingresses"
            ),
        ));
    }
    if !distribution.runs_load_balancer(cluster.load_balancer.value) {
        diags.push(other(
            cluster.load_balancer.span,
            &format!("load balancer `{}`", cluster.load_balancer.value),
            "k3s' packaged load balancer",
            format!(
                "{title} ships no load balancer: write `load-balancer \"{}\"` with a `pool` of free addresses, or \
                 `load-balancer \"none\"`",
                LoadBalancer::Metallb
            ),
        ));
    }
}

/// E1307 and E1308 on what a node declares: Talos nodes need an address and
/// an install disk; the others take neither `install-disk` nor `interface`.
fn node_settings(cluster: &Cluster, node: &Node, diags: &mut Vec<Diagnostic>) {
    let distribution = cluster.distribution.value;
    let title = distribution.title();
    let name = &node.name.value;
    if distribution == Distribution::Talos {
        if node.address.is_none() {
            diags.push(
                Diagnostic::new(Code::E1307, format!("Talos node `{name}` has no `address`"))
                    .primary(node.name.span, "no address")
                    .help(
                        "add `address \"IP\" network=\"NAME\"`: talhelper applies the machine configuration to that \
                         address, and Talos configures it on the node",
                    ),
            );
        }
        for (i, taint) in node.taints.iter().enumerate() {
            let Some(first) = node.taints[..i].iter().find(|t| t.key.value == taint.key.value) else { continue };
            diags.push(
                Diagnostic::new(
                    Code::W1303,
                    format!("Talos node `{name}` has two taints with the key `{}`", taint.key.value),
                )
                .primary(taint.key.span, "not written")
                .secondary(first.key.span, "the one talconfig.yaml holds")
                .help(
                    "talhelper's `nodeTaints` holds one taint per key: give the taints different keys, or keep                      one (a `NoExecute` taint also keeps new pods off)",
                ),
            );
        }
        if node.install_disk.is_none() {
            diags.push(
                Diagnostic::new(Code::E1307, format!("Talos node `{name}` has no `install-disk`"))
                    .primary(node.name.span, "no install disk")
                    .help(
                        "add `install-disk \"/dev/sda\"`: the disk Talos installs itself on, erased \
                         (`talosctl get disks --insecure --nodes ADDRESS` lists them while the machine is in \
                         maintenance mode)",
                    ),
            );
        }
        return;
    }
    let talos_only = [(&node.install_disk, "`install-disk`"), (&node.interface, "`interface`")];
    for (setting, what) in talos_only {
        let Some(setting) = setting else { continue };
        diags.push(
            Diagnostic::new(Code::E1308, format!("{what} of node `{name}` does not apply to {title}"))
                .primary(setting.span, "a Talos setting")
                .secondary(cluster.distribution.span, format!("cluster `{}` is {title}", cluster.name.value))
                .help(format!(
                    "{title} runs on an installed operating system that owns its disks and interfaces: drop {what}"
                )),
        );
    }
}

/// E1302 for a k3s or kind `version=` its distribution does not release: k3s
/// takes its release tags (`v1.33.6+k3s1`), kind the tags of `kindest/node`
/// (`v1.33.1`, optionally with an `@sha256:` digest).
fn release(cluster: &Cluster) -> Option<Diagnostic> {
    let version = cluster.version.as_ref()?;
    let v = version.value.as_str();
    let (core, suffix) = v.split_once('+').map_or((v, None), |(c, s)| (c, Some(s)));
    let kubernetes = core.starts_with('v') && is_semver(core) && !core.contains('-')
        || core
            .strip_prefix('v')
            .and_then(|c| c.split_once("-rc"))
            .is_some_and(|(c, rc)| is_semver(c) && !rc.is_empty() && rc.bytes().all(|b| b.is_ascii_digit()));
    let k3s_build = suffix
        .and_then(|s| s.strip_prefix("k3s"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let (problem, help) = match cluster.distribution.value {
        Distribution::K3s if kubernetes && k3s_build => return None,
        Distribution::K3s => (
            format!("`{v}` is not a k3s release"),
            "write a k3s release tag: the Kubernetes version and its k3s build, such as `version=\"v1.33.6+k3s1\"`"
                .to_string(),
        ),
        Distribution::Kind => {
            let (image, digest) = v.split_once('@').map_or((v, None), |(i, d)| (i, Some(d)));
            let digest_ok = digest.is_none_or(|d| {
                d.strip_prefix("sha256:").is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            });
            let plain = image.starts_with('v') && is_semver(image) && !image.contains(['-', '+']);
            if plain && digest_ok {
                return None;
            }
            if suffix.is_some_and(|s| s.starts_with("k3s")) {
                (
                    format!("`{v}` is a k3s release, and cluster `{}` is kind", cluster.name.value),
                    format!(
                        "kind runs `kindest/node` images, tagged with the Kubernetes version alone: write \
                         `version=\"{core}\"` (the image `kindest/node:{v}` does not exist)"
                    ),
                )
            } else {
                (
                    format!("`{v}` is not a `kindest/node` version"),
                    "write the Kubernetes version of a kind node image, such as `version=\"v1.33.1\"`".to_string(),
                )
            }
        }
        Distribution::Talos => return None,
    };
    Some(Diagnostic::new(Code::E1302, problem).primary(version.span, "not a release of this distribution").help(help))
}

/// E1302: a Talos cluster must pin its Talos and Kubernetes versions, each
/// written `vMAJOR.MINOR.PATCH`.
fn versions(cluster: &Cluster, diags: &mut Vec<Diagnostic>) {
    let name = &cluster.name.value;
    let wanted = [
        (&cluster.version, "version", "Talos", "v1.11.3"),
        (&cluster.kubernetes, "kubernetes", "Kubernetes", "v1.34.1"),
    ];
    for (value, key, what, example) in wanted {
        match value {
            None => diags.push(
                Diagnostic::new(Code::E1302, format!("Talos cluster `{name}` does not pin its {what} version"))
                    .primary(cluster.name.span, format!("no `{key}=`"))
                    .help(format!(
                        "add `{key}=\"{example}\"`: talhelper generates the machine configuration (and the installer \
                         image) for that version, and the build stays reproducible"
                    )),
            ),
            Some(v) if !is_version(&v.value) => {
                let fix = match v.value.split_once('+') {
                    Some((base, _)) if is_version(base) && key == "version" => format!(
                        "`{}` is a k3s release: write the Talos release, such as `version=\"{example}\"`, and the \
                         Kubernetes version apart, `kubernetes=\"{base}\"`",
                        v.value
                    ),
                    Some((base, _)) if is_version(base) => format!("write `{key}=\"{base}\"`: `+k3s` is k3s' build"),
                    _ if is_version(&format!("v{}", v.value)) => format!("write `{key}=\"v{}\"`", v.value),
                    _ => format!("write a release such as `{key}=\"{example}\"`"),
                };
                diags.push(
                    Diagnostic::new(Code::E1302, format!("`{}` is not a {what} release", v.value))
                        .primary(v.span, format!("not `vMAJOR.MINOR.PATCH`, such as `{example}`"))
                        .help(fix),
                );
            }
            Some(_) => {}
        }
    }
}

/// Whether a version is written `v1.11.3` (a pre-release suffix such as
/// `-beta.0` allowed).
fn is_version(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('v') else { return false };
    let core = rest.split_once('-').map_or(rest, |(core, pre)| if pre.is_empty() { "" } else { core });
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// E1303, E1304, E1305 and W1302 on a Talos cluster's API endpoint and VIP.
fn endpoint(model: &Model, cluster: &Cluster, diags: &mut Vec<Diagnostic>) {
    let name = &cluster.name.value;
    if cluster.api_endpoint().is_none() {
        diags.push(
            Diagnostic::new(Code::E1303, format!("Talos cluster `{name}` has no API endpoint"))
                .primary(cluster.name.span, "neither `endpoint=` nor `vip`")
                .help(
                    "add `vip \"ADDRESS\"` with a free address of the control planes' network (they share it, and \
                     the endpoint defaults to it), or `endpoint=\"HOST\"` for a load balancer or DNS name in front of \
                     them",
                ),
        );
        return;
    }
    let control_planes: Vec<&Node> = model.nodes_of(cluster).filter(|n| n.role.value.runs_control_plane()).collect();
    if let Some(vip) = &cluster.vip {
        diags.extend(address_checks(model, cluster, vip, "VIP", &[]));
        diags.extend(vip_off_control_planes(model, cluster, vip, &control_planes));
    }
    let Some(endpoint) = &cluster.endpoint else { return };
    let HostAddress::Ip(ip) = endpoint.value else { return };
    if cluster.vip.as_ref().is_some_and(|v| v.value == ip) {
        return;
    }
    let ip = Spanned::new(ip, endpoint.span);
    diags.extend(address_checks(model, cluster, &ip, "endpoint", &control_planes));
    let on_one = control_planes.iter().find(|n| n.address.as_ref().is_some_and(|a| a.ip.value == ip.value));
    if let Some(node) = on_one.filter(|_| control_planes.len() > 1) {
        diags.push(
            Diagnostic::new(
                Code::W1302,
                format!("the endpoint of cluster `{name}` is the address of one control plane, `{}`", node.name.value),
            )
            .primary(endpoint.span, format!("only `{}`", node.name.value))
            .help(format!(
                "when `{}` is down the API is unreachable although {} control planes run: add `vip \"ADDRESS\"` with a \
                 free address and drop `endpoint=`",
                node.name.value,
                control_planes.len()
            )),
        );
    }
}

/// E1304 and E1305 on an address the cluster's API answers at: on a declared
/// network, not a node's (but one of `allowed`), not the network's own,
/// broadcast or gateway address, not leased by DHCP.
fn address_checks(
    model: &Model,
    cluster: &Cluster,
    ip: &Spanned<IpAddr>,
    what: &str,
    allowed: &[&Node],
) -> Vec<Diagnostic> {
    let name = &cluster.name.value;
    let mut diags = Vec::new();
    let Some(network) = model.networks.iter().find(|n| IpRange::from(n.cidr.value).contains(ip.value)) else {
        let help = match model.networks.first() {
            Some(n) => format!(
                "use a free address of the control planes' network, such as one {}",
                between(host_range(&n.cidr.value.trunc()))
            ),
            None => "declare the network the control planes are on (`network \"lan\" cidr=...`)".to_string(),
        };
        diags.push(
            Diagnostic::new(
                Code::E1304,
                format!("the {what} `{}` of cluster `{name}` is on no declared network", ip.value),
            )
            .primary(ip.span, "not in any network")
            .help(help),
        );
        return diags;
    };
    let taken = |message: String, label: String, span: Span, owner: String| {
        Diagnostic::new(Code::E1305, message).primary(ip.span, label).secondary(span, owner).help(format!(
            "the {what} must be an address of `{}` that nothing else uses, {}",
            network.name.value,
            between(host_range(&network.cidr.value.trunc()))
        ))
    };
    let node = model.nodes.iter().find(|n| n.address.as_ref().is_some_and(|a| a.ip.value == ip.value));
    if let Some(node) = node.filter(|n| !allowed.iter().any(|a| a.name.value == n.name.value))
        && let Some(address) = &node.address
    {
        diags.push(taken(
            format!("the {what} `{}` of cluster `{name}` is the address of node `{}`", ip.value, node.name.value),
            format!("already `{}`'s", node.name.value),
            address.ip.span,
            format!("address of `{}`", node.name.value),
        ));
    }
    if let Some((role, span, label)) = reserved_role(network, ip.value) {
        diags.push(taken(
            format!("the {what} `{}` of cluster `{name}` is the {role} of network `{}`", ip.value, network.name.value),
            format!("the {role}"),
            span,
            label,
        ));
    }
    for dhcp in network.dhcp.iter().filter(|d| d.value.contains(ip.value)) {
        diags.push(taken(
            format!("the {what} `{}` of cluster `{name}` is inside the DHCP range", ip.value),
            "inside the DHCP range".to_string(),
            dhcp.span,
            format!("DHCP of `{}` hands out `{}`", network.name.value, dhcp.value),
        ));
    }
    diags
}

/// E1304: a VIP moves between the control planes by ARP, so it must be on
/// the network of every one of them.
fn vip_off_control_planes(
    model: &Model,
    cluster: &Cluster,
    vip: &Spanned<IpAddr>,
    control_planes: &[&Node],
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for node in control_planes {
        let Some(address) = &node.address else { continue };
        let Some(network) = model.node_network(address) else { continue };
        if IpRange::from(network.cidr.value).contains(vip.value) {
            continue;
        }
        diags.push(
            Diagnostic::new(
                Code::E1304,
                format!(
                    "the VIP `{}` of cluster `{}` is not on network `{}` of control plane `{}`",
                    vip.value, cluster.name.value, network.name.value, node.name.value
                ),
            )
            .primary(vip.span, format!("not in `{}`", network.cidr.value.trunc()))
            .secondary(address.ip.span, format!("`{}` is on `{}`", node.name.value, network.name.value))
            .help(
                "Talos moves the VIP between the control planes by announcing it on their shared segment: put the \
                 control planes on one network and the VIP in it, or use `endpoint=` with a load balancer",
            ),
        );
    }
    diags
}

/// E1306 and W1301 on a Talos cluster's control planes: at least one, and an
/// odd number for etcd's quorum.
fn control_planes(model: &Model, cluster: &Cluster, diags: &mut Vec<Diagnostic>) {
    let name = &cluster.name.value;
    let nodes: Vec<&Node> = model.nodes_of(cluster).collect();
    let control_planes: Vec<&Node> = nodes.iter().copied().filter(|n| n.role.value.runs_control_plane()).collect();
    let count = control_planes.len();
    if count == 0 {
        // A role of another distribution is E1301 already.
        if nodes.iter().any(|n| !n.role.value.fits(Distribution::Talos)) {
            return;
        }
        let mut diag = Diagnostic::new(Code::E1306, format!("Talos cluster `{name}` has no control-plane node"))
            .primary(cluster.name.span, "no node with `role=\"controlplane\"`")
            .help(
                "declare a node with `role=\"controlplane\"` (three for a highly available etcd): Talos runs the API \
                 server and etcd there, and workers join it",
            );
        for node in &nodes {
            diag = diag.secondary(node.role.span, format!("`{}` is a worker", node.name.value));
        }
        diags.push(diag);
        return;
    }
    if count % 2 == 1 {
        return;
    }
    let mut diag = Diagnostic::new(
        Code::W1301,
        format!("Talos cluster `{name}` has {count} control planes, an even number for etcd"),
    )
    .primary(control_planes[count - 1].role.span, format!("control plane {count} of {count}"));
    for node in &control_planes[..count - 1] {
        diag = diag.secondary(node.role.span, format!("`{}`", node.name.value));
    }
    let failures = match count / 2 - 1 {
        0 => "no failure".to_string(),
        1 => "one failure".to_string(),
        n => format!("{n} failures"),
    };
    diags.push(diag.help(format!(
        "etcd needs a majority of its members up: {count} control planes survive {failures}, as {} do, with one \
         machine more that can fail; use {} or {} control planes",
        count - 1,
        count - 1,
        count + 1
    )));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_vmajor_minor_patch() {
        assert!(is_version("v1.11.3"));
        assert!(is_version("v1.12.0-beta.0"));
        assert!(!is_version("1.11.3"));
        assert!(!is_version("v1.11"));
        assert!(!is_version("v1.33.6+k3s1"));
        assert!(!is_version("v1.11.3-"));
    }

    #[test]
    fn roles_map_between_distributions() {
        assert_eq!(NodeRole::Server.in_words_of(Distribution::Talos), NodeRole::Controlplane);
        assert_eq!(NodeRole::Worker.in_words_of(Distribution::K3s), NodeRole::Agent);
        assert_eq!(NodeRole::Agent.in_words_of(Distribution::Kind), NodeRole::Agent);
        assert!(NodeRole::Controlplane.fits(Distribution::Talos) && !NodeRole::Controlplane.fits(Distribution::K3s));
    }
}
