//! Lowering of the infrastructure declarations: homelab, network, cluster,
//! node, pool, registry, namespace.

use std::net::IpAddr;

use ipnet::IpNet;

use super::reader::{Cx, Label, PortNumber, Reader, Shape, Url};
use crate::diag::{Code, Diagnostic};
use crate::model::*;
use crate::source::Spanned;
use crate::syntax::tree;

pub(super) fn homelab(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Homelab> {
    let r = Reader::open(
        cx,
        node,
        Shape { what: "homelab", max_args: 1, props: &[], children: &["domain", "homelabc-image"] },
    );
    let name = r.name(cx);
    let homelabc_image = r
        .child_once(cx, "homelabc-image")
        .and_then(|c| single_value::<String>(cx, c, "homelabc-image", "an image reference"))
        .filter(|image| pinned_homelabc_image(cx, image));
    let domain = r.child_once(cx, "domain").and_then(|c| single_value::<String>(cx, c, "domain", "a domain name"));
    if let Some(d) = &domain
        && let Err(m) = check_dns_subdomain(&d.value)
    {
        cx.report(
            Diagnostic::new(Code::E0105, format!("invalid domain: {m}"))
                .primary(d.span, "not a DNS name")
                .help("write a domain such as `lab.example.com`"),
        );
    }
    Some(Homelab { name: name?, domain, homelabc_image, span: r.span(cx) })
}

/// Whether `homelabc-image` is a pinned image reference; E0105 when it is
/// not a reference, E0603 when it moves (`latest`, or no tag or digest).
fn pinned_homelabc_image(cx: &mut Cx<'_>, image: &Spanned<String>) -> bool {
    let example = DEFAULT_HOMELABC_IMAGE;
    let diagnostic = match check_pinned_image(&image.value) {
        Ok(()) => return true,
        Err(ImageRefProblem::Invalid(why)) => Diagnostic::new(Code::E0105, format!("invalid image reference: {why}"))
            .primary(image.span, "not `[host/]path:tag` or `[host/]path@sha256:...`")
            .help(format!("write the image of a homelabc release, such as `{example}`")),
        Err(ImageRefProblem::Unpinned(why)) => {
            Diagnostic::new(Code::E0603, format!("homelabc image `{}` {why}", image.value))
                .primary(image.span, "the deploy step's homelabc would change under the tree")
                .help(format!("pin the release that builds this tree, such as `{example}`"))
        }
    };
    cx.report(diagnostic);
    false
}

/// Reads a child node that holds exactly one value: `domain "x"`, `dhcp "..."`.
pub(super) fn single_value<T: super::reader::FromKdl>(
    cx: &mut Cx<'_>,
    node: &tree::Node,
    what: &'static str,
    expected: &str,
) -> Option<Spanned<T>> {
    let r = Reader::open(cx, node, Shape { what, max_args: 1, props: &[], children: &[] });
    r.arg::<T>(cx, 0, expected)
}

pub(super) fn network(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Network> {
    let r = Reader::open(
        cx,
        node,
        Shape { what: "network", max_args: 1, props: &["cidr", "gateway"], children: &["dhcp", "dns"] },
    );
    let name = r.name(cx);
    let cidr = r.req_prop::<IpNet>(cx, "cidr");
    let gateway = r.prop::<IpAddr>(cx, "gateway");
    let dhcp = r.lower_each(cx, "dhcp", |cx, c| single_value::<IpRange>(cx, c, "dhcp", "an address range"));
    let mut dns = Vec::new();
    for c in r.children_named("dns") {
        let d = Reader::open(cx, c, Shape { what: "dns", max_args: 8, props: &[], children: &[] });
        let servers = d.rest_args::<IpAddr>(cx, 0);
        if servers.is_empty() {
            d.arg::<IpAddr>(cx, 0, "a DNS server address");
        }
        dns.extend(servers);
    }
    Some(Network { name: name?, cidr: cidr?, gateway, dhcp, dns, span: r.span(cx) })
}

pub(super) fn cluster(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Cluster> {
    let r = Reader::open(
        cx,
        node,
        Shape {
            what: "cluster",
            max_args: 1,
            props: &["distribution", "version", "kubernetes", "endpoint"],
            children: &["pod-cidr", "service-cidr", "ingress", "load-balancer", "gitops", "tls-issuer", "vip"],
        },
    );
    let name = r.name(cx)?;
    let distribution = r.req_word_prop::<Distribution>(cx, "distribution");
    let version = r.prop::<String>(cx, "version");
    let kubernetes = r.prop::<String>(cx, "kubernetes");
    let endpoint = r.prop::<HostAddress>(cx, "endpoint");
    let vip = r.child_once(cx, "vip").and_then(|c| single_value::<IpAddr>(cx, c, "vip", "an IP address"));
    let at = name.span;
    let default_net = |text: &str| Spanned::new(text.parse::<IpNet>().expect("valid default CIDR"), at);
    let pod_cidr = r
        .child_once(cx, "pod-cidr")
        .and_then(|c| single_value::<IpNet>(cx, c, "pod-cidr", "a CIDR"))
        .unwrap_or_else(|| default_net("10.42.0.0/16"));
    let service_cidr = r
        .child_once(cx, "service-cidr")
        .and_then(|c| single_value::<IpNet>(cx, c, "service-cidr", "a CIDR"))
        .unwrap_or_else(|| default_net("10.43.0.0/16"));
    // Defaults are spanned at the cluster's name; without a distribution the
    // cluster is dropped below, so k3s' defaults are as good as any.
    let defaults = distribution.as_ref().map_or(Distribution::K3s, |d| d.value);
    let ingress = r
        .child_once(cx, "ingress")
        .and_then(|c| word_child::<IngressController>(cx, c, "ingress"))
        .unwrap_or(Spanned::new(defaults.default_ingress(), at));
    let load_balancer = r
        .child_once(cx, "load-balancer")
        .and_then(|c| word_child::<LoadBalancer>(cx, c, "load-balancer"))
        .unwrap_or(Spanned::new(defaults.default_load_balancer(), at));
    let gitops = r.child_once(cx, "gitops").and_then(|c| gitops(cx, c));
    let tls_issuer = r.child_once(cx, "tls-issuer").and_then(|c| {
        let t = Reader::open(cx, c, Shape { what: "tls-issuer", max_args: 1, props: &[], children: &[] });
        t.arg::<Label>(cx, 0, "an issuer name").map(|l| l.map(|l| l.0))
    });
    Some(Cluster {
        name,
        distribution: distribution?,
        version,
        kubernetes,
        endpoint,
        vip,
        pod_cidr,
        service_cidr,
        ingress,
        load_balancer,
        gitops,
        tls_issuer,
        span: r.span(cx),
    })
}

/// Reads a child holding one word: `ingress "nginx"`.
pub(super) fn word_child<W: Word>(cx: &mut Cx<'_>, node: &tree::Node, what: &'static str) -> Option<Spanned<W>> {
    let r = Reader::open(cx, node, Shape { what, max_args: 1, props: &[], children: &[] });
    r.word_arg::<W>(cx, 0, W::WHAT)
}

fn gitops(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Gitops> {
    let r = Reader::open(
        cx,
        node,
        Shape { what: "gitops", max_args: 1, props: &["repo", "branch", "path", "interval", "secret"], children: &[] },
    );
    let engine = r.word_arg::<GitopsEngine>(cx, 0, "an engine (`flux` or `argocd`)");
    let repo = r.req_prop::<Url>(cx, "repo").map(|u| u.map(|u| u.0));
    let at = r.name_span(cx);
    let branch = r.prop::<String>(cx, "branch").unwrap_or(Spanned::new("main".into(), at));
    let path = r.prop::<String>(cx, "path").unwrap_or(Spanned::new(crate::model::DEFAULT_TREE.into(), at));
    let path = match crate::host::normalize(&path.value) {
        Some(p) if !path.value.starts_with('/') => Spanned::new(p, path.span),
        _ => {
            cx.report(
                Diagnostic::new(Code::E0206, format!("gitops path `{}` leaves the repository", path.value))
                    .primary(path.span, "not a relative path inside the repository")
                    .help("write a folder relative to the repository root, such as `deploy`"),
            );
            path
        }
    };
    let interval =
        r.prop::<Duration>(cx, "interval").unwrap_or(Spanned::new(Duration::parse("1m").expect("valid"), at));
    let secret = r.opt_ref(cx, "secret");
    Some(Gitops { engine: engine?, repo: repo?, branch, path, interval, secret, span: r.span(cx) })
}

pub(super) fn node(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Node> {
    let r = Reader::open(
        cx,
        node,
        Shape {
            what: "node",
            max_args: 1,
            props: &["role", "cluster"],
            children: &[
                "address",
                "arch",
                "cpu",
                "memory",
                "disk",
                "label",
                "taint",
                "gpu",
                "install-disk",
                "interface",
            ],
        },
    );
    let name = r.name(cx);
    let role = r.req_word_prop::<NodeRole>(cx, "role");
    let cluster = r.opt_ref(cx, "cluster");
    let address = r.child_once(cx, "address").and_then(|c| {
        let a = Reader::open(cx, c, Shape { what: "address", max_args: 1, props: &["network"], children: &[] });
        let ip = a.arg::<IpAddr>(cx, 0, "an IP address")?;
        Some(NodeAddress { ip, network: a.opt_ref(cx, "network") })
    });
    let at = r.name_span(cx);
    let arch = r
        .child_once(cx, "arch")
        .and_then(|c| word_child::<Arch>(cx, c, "arch"))
        .unwrap_or(Spanned::new(Arch::Amd64, at));
    let cpu = r.child_once(cx, "cpu").and_then(|c| single_value::<Quantity>(cx, c, "cpu", "a CPU count"));
    let memory = r.child_once(cx, "memory").and_then(|c| single_value::<Quantity>(cx, c, "memory", "a memory size"));
    let disk = r.child_once(cx, "disk").and_then(|c| single_value::<Quantity>(cx, c, "disk", "a disk size"));
    let mut labels = Vec::new();
    for c in r.children_named("label") {
        let l = Reader::open(cx, c, Shape { what: "label", max_args: 2, props: &[], children: &[] });
        if let (Some(k), Some(v)) = (l.arg::<String>(cx, 0, "a key"), l.arg::<String>(cx, 1, "a value")) {
            labels.push((k, v));
        }
    }
    let mut taints = Vec::new();
    for c in r.children_named("taint") {
        let t = Reader::open(cx, c, Shape { what: "taint", max_args: 2, props: &["effect"], children: &[] });
        let key = t.arg::<String>(cx, 0, "a key");
        let value = t.opt_arg::<String>(cx, 1);
        let effect = t.req_word_prop::<TaintEffect>(cx, "effect");
        if let (Some(key), Some(effect)) = (key, effect) {
            taints.push(Taint { key, value, effect });
        }
    }
    let gpus = r.lower_each(cx, "gpu", super::app::gpu);
    let install_disk = r
        .child_once(cx, "install-disk")
        .and_then(|c| single_value::<String>(cx, c, "install-disk", "a disk such as `/dev/sda`"));
    if let Some(disk) = install_disk.as_ref().filter(|d| !d.value.starts_with("/dev/")) {
        cx.report(
            Diagnostic::new(Code::E0105, format!("install disk `{}` is not a device path", disk.value))
                .primary(disk.span, "not under `/dev/`")
                .help("name the disk as Talos lists it (`talosctl get disks`), such as `/dev/sda` or `/dev/nvme0n1`"),
        );
    }
    let interface = r
        .child_once(cx, "interface")
        .and_then(|c| single_value::<String>(cx, c, "interface", "a network interface such as `enp1s0`"));
    let bad_interface = |i: &str| i.is_empty() || i.len() > 15 || i.contains(|c: char| c == '/' || c.is_whitespace());
    if let Some(i) = interface.as_ref().filter(|i| bad_interface(&i.value)) {
        cx.report(
            Diagnostic::new(Code::E0105, format!("`{}` is not a network interface name", i.value))
                .primary(i.span, "at most 15 characters, without `/` or spaces")
                .help("name the interface as the machine lists it (`talosctl get links`), such as `enp1s0` or `eth0`"),
        );
    }
    Some(Node {
        name: name?,
        cluster,
        role: role?,
        address,
        arch,
        cpu,
        memory,
        disk,
        labels,
        taints,
        gpus,
        install_disk,
        interface,
        span: r.span(cx),
    })
}

pub(super) fn pool(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Pool> {
    let r = Reader::open(
        cx,
        node,
        Shape { what: "pool", max_args: 1, props: &["network", "range", "advertise", "cluster"], children: &["peer"] },
    );
    let name = r.name(cx);
    let network = r.req_ref(cx, "network");
    let range = r.req_prop::<IpRange>(cx, "range");
    let at = r.name_span(cx);
    let advertise = r.word_prop::<Advertise>(cx, "advertise").unwrap_or(Spanned::new(Advertise::L2, at));
    let cluster = r.opt_ref(cx, "cluster");
    let peers = r.lower_each(cx, "peer", peer);
    Some(Pool { name: name?, cluster, network: network?, range: range?, advertise, peers, span: r.span(cx) })
}

/// `peer "192.168.1.1" asn=64512 local-asn=64513 password-secret="bgp-password"`.
fn peer(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Peer> {
    let r = Reader::open(
        cx,
        node,
        Shape { what: "peer", max_args: 1, props: &["asn", "local-asn", "password-secret"], children: &[] },
    );
    let address = r.arg::<IpAddr>(cx, 0, "the router's address");
    let asn = r.req_prop::<u32>(cx, "asn");
    let local_asn = r.req_prop::<u32>(cx, "local-asn");
    let password_secret = r.opt_ref(cx, "password-secret");
    Some(Peer { address: address?, asn: asn?, local_asn: local_asn?, password_secret, span: r.span(cx) })
}

pub(super) fn registry(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Registry> {
    let r = Reader::open(
        cx,
        node,
        Shape {
            what: "registry",
            max_args: 1,
            props: &["address", "cluster"],
            children: &["insecure", "pull-secret", "deploy"],
        },
    );
    let name = r.name(cx);
    let raw = r.req_prop::<String>(cx, "address");
    let (scheme, address) = match raw {
        Some(raw) => {
            let (scheme, rest) = match raw.value.split_once("://") {
                Some((s, rest)) => (Some(Spanned::new(s.to_string(), raw.span)), rest),
                None => (None, raw.value.as_str()),
            };
            if let Some(s) = &scheme
                && s.value != "http"
                && s.value != "https"
            {
                cx.report(
                    Diagnostic::new(Code::E0105, format!("registry scheme `{}` is not http or https", s.value))
                        .primary(raw.span, "unsupported scheme")
                        .help("write the address as `host:port`; add `insecure #true` for plain HTTP"),
                );
            }
            // `user:password@host:port`: refused without quoting it, then read
            // without the credentials so that the rest of the registry is checked.
            let rest = match rest.rsplit_once('@') {
                Some((userinfo, address)) => {
                    let what = if userinfo.contains(':') { "a password" } else { "a user name" };
                    cx.report(
                        Diagnostic::new(
                            Code::E0611,
                            format!(
                                "the address of registry `{}` holds {what}",
                                name.as_ref().map_or("?", |n| n.value.as_str())
                            ),
                        )
                        .primary(raw.span, "credentials in the address")
                        .help(
                            "write the address alone (`host:port`); the credentials go in the registry's \
                             `pull-secret`, a `type=\"docker-config\"` secret",
                        )
                        .note("If the password was ever committed, rotate it: the Git history keeps it."),
                    );
                    address
                }
                None => rest,
            };
            match HostPort::parse(rest.trim_end_matches('/')) {
                Ok(hp) => (scheme, Some(Spanned::new(hp, raw.span))),
                Err(m) => {
                    cx.report(
                        Diagnostic::new(Code::E0105, format!("invalid registry address: {}", crate::diag::redact(&m)))
                            .primary(raw.span, "expected `host:port`")
                            .help("write the address as `192.168.1.171:5000`"),
                    );
                    (scheme, None)
                }
            }
        }
        None => (None, None),
    };
    let insecure = r.child_once(cx, "insecure").and_then(|c| flag_child(cx, c, "insecure"));
    let pull_secret = r
        .child_once(cx, "pull-secret")
        .and_then(|c| single_value::<Label>(cx, c, "pull-secret", "a secret name"))
        .map(|l| l.map(|l| l.0));
    let deploy = r.child_once(cx, "deploy").map(|c| {
        let d = Reader::open(
            cx,
            c,
            Shape {
                what: "registry deploy",
                max_args: 0,
                props: &["storage", "node-port", "namespace"],
                children: &[],
            },
        );
        let at = d.name_span(cx);
        let storage =
            d.prop::<Quantity>(cx, "storage").unwrap_or(Spanned::new(Quantity::parse("10Gi").expect("valid"), at));
        let node_port = d.prop::<PortNumber>(cx, "node-port").map(|p| p.map(|p| p.0));
        let namespace = d.opt_ref(cx, "namespace").unwrap_or(Spanned::new("registry".into(), at));
        RegistryDeploy { storage, node_port, namespace, span: d.span(cx) }
    });
    let cluster = r.opt_ref(cx, "cluster");
    Some(Registry { name: name?, address: address?, scheme, insecure, pull_secret, deploy, cluster, span: r.span(cx) })
}

/// Reads a flag child: `insecure` alone means `#true`; `insecure #false` is allowed.
pub(super) fn flag_child(cx: &mut Cx<'_>, node: &tree::Node, what: &'static str) -> Option<Spanned<bool>> {
    let r = Reader::open(cx, node, Shape { what, max_args: 1, props: &[], children: &[] });
    match r.opt_arg::<bool>(cx, 0) {
        Some(v) => Some(v),
        None if node.entries().is_empty() => Some(Spanned::new(true, r.name_span(cx))),
        None => None,
    }
}

pub(super) fn namespace(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Namespace> {
    let r = Reader::open(
        cx,
        node,
        Shape { what: "namespace", max_args: 1, props: &["pod-security"], children: &["label", "annotation"] },
    );
    let name = r.name(cx)?;
    let pod_security =
        r.word_prop::<PodSecurity>(cx, "pod-security").unwrap_or(Spanned::new(PodSecurity::Restricted, name.span));
    let pairs = |cx: &mut Cx<'_>, what: &'static str| -> Vec<(Spanned<String>, Spanned<String>)> {
        let children: Vec<&tree::Node> = r.children_named(what).collect();
        children
            .into_iter()
            .filter_map(|c| {
                let p = Reader::open(cx, c, Shape { what, max_args: 2, props: &[], children: &[] });
                Some((p.arg::<String>(cx, 0, "a key")?, p.arg::<String>(cx, 1, "a value")?))
            })
            .collect()
    };
    let labels = pairs(cx, "label");
    let annotations = pairs(cx, "annotation");
    Some(Namespace { name, pod_security, component: None, from_stdlib: false, labels, annotations, span: r.span(cx) })
}
