//! Lowering of `app` declarations and all their children.

use kdl::KdlNode;

use super::infra::{flag_child, single_value, word_child};
use super::reader::{Cx, Label, PortNumber, Reader, ServiceLabel, Shape, report_duplicates};
use crate::diag::{Code, Diagnostic};
use crate::model::*;
use crate::source::Spanned;

const APP_CHILDREN: &[&str] = &[
    "image",
    "replicas",
    "port",
    "service",
    "ingress",
    "probe",
    "resources",
    "env",
    "volume",
    "metrics",
    "spread",
    "autoscale",
    "depends-on",
    "command",
    "args",
    "read-only-root",
    "run-as-user",
    "run-as-group",
    "capabilities",
    "egress",
    "privileged",
    "host-network",
    "allow-privileged",
];

pub(super) fn app(cx: &mut Cx<'_>, node: &KdlNode) -> Option<App> {
    let r = Reader::open(
        cx,
        node,
        Shape { what: "app", max_args: 1, props: &["namespace", "cluster"], children: APP_CHILDREN },
    );
    let name = r.arg::<ServiceLabel>(cx, 0, "a name").map(|s| s.map(|l| l.0));
    let namespace = r.opt_ref(cx, "namespace");
    let cluster = r.opt_ref(cx, "cluster");
    let image = match r.child_once(cx, "image") {
        Some(c) => image(cx, c),
        None => {
            let span = r.name_span(cx);
            cx.report(
                Diagnostic::new(Code::E0104, "app needs an `image`")
                    .primary(span, "no image given")
                    .help("add `image \"repository/name\" tag=\"1.2.3\"` inside the app"),
            );
            None
        }
    };
    let at = r.name_span(cx);
    let replicas = r
        .child_once(cx, "replicas")
        .and_then(|c| single_value::<u32>(cx, c, "replicas", "a replica count"))
        .unwrap_or(Spanned::new(1, at));
    let ports: Vec<Port> = r.children_named("port").filter_map(|c| port(cx, c)).collect();
    let service = r.child_once(cx, "service").and_then(|c| service(cx, c));
    let ingresses = r.children_named("ingress").filter_map(|c| ingress(cx, c)).collect();
    let probes: Vec<Probe> = r.children_named("probe").filter_map(|c| probe(cx, c)).collect();
    report_duplicates(cx, probes.iter().map(|p| (p.kind.value.as_str(), p.kind.span)), "probe", Code::E0107);
    let resources = r.child_once(cx, "resources").and_then(|c| resources(cx, c));
    let env: Vec<Env> = r.children_named("env").filter_map(|c| env(cx, c)).collect();
    report_duplicates(
        cx,
        env.iter().map(|e| (e.name.value.as_str(), e.name.span)),
        "environment variable",
        Code::E0107,
    );
    let volumes: Vec<Volume> = r.children_named("volume").filter_map(|c| volume(cx, c)).collect();
    report_duplicates(cx, volumes.iter().map(|v| (v.name.value.as_str(), v.name.span)), "volume", Code::E0107);
    let metrics = r.child_once(cx, "metrics").and_then(|c| metrics(cx, c));
    let spread = r.child_once(cx, "spread").and_then(|c| word_child::<SpreadKey>(cx, c, "spread"));
    let autoscale = r.child_once(cx, "autoscale").and_then(|c| autoscale(cx, c));
    let mut depends_on = Vec::new();
    for c in r.children_named("depends-on") {
        let d = Reader::open(cx, c, Shape { what: "depends-on", max_args: 16, props: &[], children: &[] });
        let names = d.rest_args::<Label>(cx, 0);
        if names.is_empty() {
            d.arg::<Label>(cx, 0, "a name");
        }
        depends_on.extend(names.into_iter().map(|l| l.map(|l| l.0)));
    }
    let command = r.child_once(cx, "command").map(|c| strings(cx, c, "command")).unwrap_or_default();
    let args = r.child_once(cx, "args").map(|c| strings(cx, c, "args")).unwrap_or_default();
    let read_only_root = r
        .child_once(cx, "read-only-root")
        .and_then(|c| flag_child(cx, c, "read-only-root"))
        .unwrap_or(Spanned::new(true, at));
    let run_as_user =
        r.child_once(cx, "run-as-user").and_then(|c| single_value::<i64>(cx, c, "run-as-user", "a user id"));
    let run_as_group =
        r.child_once(cx, "run-as-group").and_then(|c| single_value::<i64>(cx, c, "run-as-group", "a group id"));
    let capabilities = r.child_once(cx, "capabilities").map(|c| strings(cx, c, "capabilities")).unwrap_or_default();
    let egress = r.children_named("egress").filter_map(|c| egress(cx, c)).collect();
    let privileged = r.child_once(cx, "privileged").and_then(|c| flag_child(cx, c, "privileged"));
    let host_network = r.child_once(cx, "host-network").and_then(|c| flag_child(cx, c, "host-network"));
    let allow_privileged = r.child_once(cx, "allow-privileged").and_then(|c| flag_child(cx, c, "allow-privileged"));
    let name = name?;
    let namespace = namespace.unwrap_or_else(|| name.clone());
    Some(App {
        name,
        namespace,
        image,
        replicas,
        ports,
        service,
        ingresses,
        probes,
        resources,
        env,
        volumes,
        metrics,
        spread,
        autoscale,
        depends_on,
        command,
        args,
        read_only_root,
        run_as_user,
        run_as_group,
        capabilities,
        egress,
        privileged,
        host_network,
        allow_privileged,
        cluster,
        span: r.span(cx),
    })
}

/// `egress "internet"`, `egress "10.0.0.5/32" port=2049 protocol="UDP"`, `egress "lan"`.
fn egress(cx: &mut Cx<'_>, node: &KdlNode) -> Option<Egress> {
    let r = Reader::open(cx, node, Shape { what: "egress", max_args: 1, props: &["port", "protocol"], children: &[] });
    let target = r.arg::<String>(cx, 0, "`internet`, a CIDR or a network name")?;
    let to = if target.value == "internet" {
        EgressTarget::Internet
    } else if target.value.contains('/') || target.value.parse::<std::net::IpAddr>().is_ok() {
        let text = if target.value.contains('/') { target.value.clone() } else { format!("{}/32", target.value) };
        match parse_cidr(&text) {
            Ok(net) => EgressTarget::Cidr(net),
            Err(problem) => {
                cx.report(
                    Diagnostic::new(Code::E0105, format!("`{}` is not a CIDR: {problem}", target.value))
                        .primary(target.span, "not a CIDR")
                        .help("write `internet`, a CIDR such as `192.168.1.10/32`, or the name of a declared network"),
                );
                return None;
            }
        }
    } else {
        EgressTarget::Network(target.clone())
    };
    let port = r.prop::<PortNumber>(cx, "port").map(|p| p.map(|p| p.0));
    let at = r.name_span(cx);
    let protocol = r.word_prop::<Protocol>(cx, "protocol").unwrap_or(Spanned::new(Protocol::Tcp, at));
    Some(Egress { to: Spanned::new(to, target.span), port, protocol, span: r.span(cx) })
}

fn strings(cx: &mut Cx<'_>, node: &KdlNode, what: &'static str) -> Vec<Spanned<String>> {
    let r = Reader::open(cx, node, Shape { what, max_args: usize::MAX, props: &[], children: &[] });
    let values = r.rest_args::<String>(cx, 0);
    if values.is_empty() {
        r.arg::<String>(cx, 0, "at least one string");
    }
    values
}

fn image(cx: &mut Cx<'_>, node: &KdlNode) -> Option<Image> {
    let r = Reader::open(
        cx,
        node,
        Shape { what: "image", max_args: 1, props: &["registry", "tag", "digest", "arch"], children: &[] },
    );
    let repository = r.arg::<String>(cx, 0, "a repository")?;
    let registry = r.opt_ref(cx, "registry");
    let mut tag = r.prop::<String>(cx, "tag");
    let digest = r.prop::<String>(cx, "digest");
    let arch = r.word_prop::<Arch>(cx, "arch");
    let mut repository = repository;
    // `image "nginx:1.27"` carries its tag in the reference: split it off,
    // unless the colon belongs to a registry host's port.
    if let Some((repo, t)) = repository.value.rsplit_once(':')
        && !t.contains('/')
    {
        if tag.is_some() {
            cx.report(
                Diagnostic::new(Code::E0107, "the image tag is given twice")
                    .primary(repository.span, format!("the reference already has the tag `{t}`"))
                    .help("give the tag either in the reference or as `tag=`, not both"),
            );
        } else {
            tag = Some(Spanned::new(t.to_string(), repository.span));
        }
        repository = Spanned::new(repo.to_string(), repository.span);
    }
    if let Some(d) = &digest
        && !(d.value.starts_with("sha256:")
            && d.value.len() == 71
            && d.value[7..].chars().all(|c| c.is_ascii_hexdigit()))
    {
        cx.report(
            Diagnostic::new(Code::E0105, "invalid image digest")
                .primary(d.span, "expected `sha256:` and 64 hex digits")
                .help("copy the digest from `docker buildx imagetools inspect IMAGE`"),
        );
    }
    Some(Image { repository, registry, tag, digest, arch, span: r.span(cx) })
}

fn port(cx: &mut Cx<'_>, node: &KdlNode) -> Option<Port> {
    let r = Reader::open(cx, node, Shape { what: "port", max_args: 2, props: &["protocol"], children: &[] });
    let name = r.arg::<Label>(cx, 0, "a port name").map(|l| l.map(|l| l.0));
    let number = r.arg::<PortNumber>(cx, 1, "a port number").map(|p| p.map(|p| p.0));
    let at = r.name_span(cx);
    let protocol = r.word_prop::<Protocol>(cx, "protocol").unwrap_or(Spanned::new(Protocol::Tcp, at));
    let name = name?;
    if name.value.len() > 15 || !name.value.chars().any(|c| c.is_ascii_lowercase()) {
        cx.report(
            Diagnostic::new(Code::E0106, format!("invalid port name `{}`", name.value))
                .primary(name.span, "Kubernetes port names have at most 15 characters and at least one letter")
                .help("use a short name such as `http`, `grpc` or `metrics`"),
        );
    }
    Some(Port { name, number: number?, protocol })
}

fn service(cx: &mut Cx<'_>, node: &KdlNode) -> Option<Service> {
    let r =
        Reader::open(cx, node, Shape { what: "service", max_args: 0, props: &["type", "pool"], children: &["expose"] });
    let at = r.name_span(cx);
    let kind = r.word_prop::<ServiceType>(cx, "type").unwrap_or(Spanned::new(ServiceType::ClusterIp, at));
    let pool = r.opt_ref(cx, "pool");
    let mut exposes = Vec::new();
    for c in r.children_named("expose") {
        let e = Reader::open(cx, c, Shape { what: "expose", max_args: 2, props: &["node-port"], children: &[] });
        let port = e.arg::<Label>(cx, 0, "a port name").map(|l| l.map(|l| l.0));
        let number = e.arg::<PortNumber>(cx, 1, "a service port number").map(|p| p.map(|p| p.0));
        let node_port = e.prop::<PortNumber>(cx, "node-port").map(|p| p.map(|p| p.0));
        if let (Some(port), Some(number)) = (port, number) {
            exposes.push(Expose { port, number, node_port, span: e.span(cx) });
        }
    }
    if exposes.is_empty() {
        cx.report(
            Diagnostic::new(Code::E0104, "service exposes no port")
                .primary(at, "nothing exposed")
                .help("add `expose \"http\" 80` inside the service"),
        );
    }
    Some(Service { kind, pool, exposes, span: r.span(cx) })
}

fn ingress(cx: &mut Cx<'_>, node: &KdlNode) -> Option<Ingress> {
    let r = Reader::open(
        cx,
        node,
        Shape { what: "ingress", max_args: 0, props: &["host", "path", "port", "tls", "class"], children: &[] },
    );
    let host = r.req_prop::<String>(cx, "host");
    let at = r.name_span(cx);
    let path = r.prop::<String>(cx, "path").unwrap_or(Spanned::new("/".into(), at));
    if !path.value.starts_with('/') {
        cx.report(
            Diagnostic::new(Code::E0105, format!("ingress path `{}` does not start with `/`", path.value))
                .primary(path.span, "not an absolute path")
                .help(format!("write `/{}`", path.value)),
        );
    }
    let port = r.req_ref(cx, "port");
    let tls = r.prop::<bool>(cx, "tls").unwrap_or(Spanned::new(false, at));
    let class = r.prop::<String>(cx, "class");
    let host = host?;
    if let Err(m) = check_dns_subdomain(&host.value) {
        cx.report(
            Diagnostic::new(Code::E0105, format!("invalid ingress host: {m}"))
                .primary(host.span, "not a DNS name")
                .help("write a host such as `demo` (completed with the homelab domain) or `demo.lab.example.com`"),
        );
    }
    Some(Ingress { host, path, port: port?, tls, class, span: r.span(cx) })
}

fn probe(cx: &mut Cx<'_>, node: &KdlNode) -> Option<Probe> {
    let r = Reader::open(
        cx,
        node,
        Shape { what: "probe", max_args: 1, props: &["http", "port", "delay", "period"], children: &[] },
    );
    let kind = r.word_arg::<ProbeKind>(cx, 0, "a probe kind (`liveness`, `readiness` or `startup`)");
    let http = r.prop::<String>(cx, "http");
    let port = r.req_ref(cx, "port");
    let delay = r.prop::<Duration>(cx, "delay");
    let period = r.prop::<Duration>(cx, "period");
    Some(Probe { kind: kind?, http, port: port?, delay, period, span: r.span(cx) })
}

fn resources(cx: &mut Cx<'_>, node: &KdlNode) -> Option<Resources> {
    let r = Reader::open(
        cx,
        node,
        Shape { what: "resources", max_args: 0, props: &["cpu", "memory", "cpu-limit", "memory-limit"], children: &[] },
    );
    let res = Resources {
        cpu: r.prop::<Quantity>(cx, "cpu"),
        memory: r.prop::<Quantity>(cx, "memory"),
        cpu_limit: r.prop::<Quantity>(cx, "cpu-limit"),
        memory_limit: r.prop::<Quantity>(cx, "memory-limit"),
        span: r.span(cx),
    };
    for (request, limit, what) in [(&res.cpu, &res.cpu_limit, "cpu"), (&res.memory, &res.memory_limit, "memory")] {
        if let (Some(req), Some(lim)) = (request, limit)
            && req.value.millis > lim.value.millis
        {
            cx.report(
                Diagnostic::new(Code::E0105, format!("{what} request {} exceeds its limit {}", req.value, lim.value))
                    .primary(req.span, "request")
                    .secondary(lim.span, "limit")
                    .help("Kubernetes rejects a request above its limit; raise the limit or lower the request"),
            );
        }
    }
    Some(res)
}

fn env(cx: &mut Cx<'_>, node: &KdlNode) -> Option<Env> {
    let r = Reader::open(cx, node, Shape { what: "env", max_args: 2, props: &["secret", "key"], children: &[] });
    let name = r.arg::<String>(cx, 0, "a variable name")?;
    let valid = name.value.chars().next().is_some_and(|c| !c.is_ascii_digit())
        && name.value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !valid {
        cx.report(
            Diagnostic::new(Code::E0106, format!("invalid environment variable name `{}`", name.value))
                .primary(name.span, "not a C identifier")
                .help("use letters, digits and `_`, not starting with a digit, e.g. `LOG_LEVEL`"),
        );
    }
    let secret = r.opt_ref(cx, "secret");
    let value = match (r.opt_arg::<String>(cx, 1), secret) {
        (Some(literal), None) => EnvValue::Literal(literal),
        (None, Some(secret)) => {
            let key = r.req_prop::<String>(cx, "key")?;
            EnvValue::Secret { secret, key }
        }
        (Some(literal), Some(secret)) => {
            cx.report(
                Diagnostic::new(Code::E0105, "env has both a literal value and a secret")
                    .primary(literal.span, "literal value")
                    .secondary(secret.span, "secret reference")
                    .help("keep one: `env \"NAME\" \"value\"` or `env \"NAME\" secret=\"s\" key=\"k\"`"),
            );
            return None;
        }
        (None, None) => {
            let at = r.name_span(cx);
            cx.report(
                Diagnostic::new(Code::E0104, format!("env `{}` has no value", name.value))
                    .primary(at, "value missing")
                    .help("write `env \"NAME\" \"value\"` or `env \"NAME\" secret=\"s\" key=\"k\"`"),
            );
            return None;
        }
    };
    Some(Env { name, value, span: r.span(cx) })
}

fn volume(cx: &mut Cx<'_>, node: &KdlNode) -> Option<Volume> {
    let r = Reader::open(
        cx,
        node,
        Shape { what: "volume", max_args: 1, props: &["mount", "size", "storage-class"], children: &[] },
    );
    let name = r.name(cx);
    let mount = r.req_prop::<String>(cx, "mount");
    if let Some(m) = &mount
        && !m.value.starts_with('/')
    {
        cx.report(
            Diagnostic::new(Code::E0105, format!("mount path `{}` is not absolute", m.value))
                .primary(m.span, "relative path")
                .help(format!("write `/{}`", m.value)),
        );
    }
    let size = r.req_prop::<Quantity>(cx, "size");
    let storage_class = r.prop::<String>(cx, "storage-class");
    Some(Volume { name: name?, mount: mount?, size: size?, storage_class, span: r.span(cx) })
}

fn metrics(cx: &mut Cx<'_>, node: &KdlNode) -> Option<Metrics> {
    let r = Reader::open(
        cx,
        node,
        Shape { what: "metrics", max_args: 0, props: &["path", "port", "interval"], children: &[] },
    );
    let at = r.name_span(cx);
    let path = r.prop::<String>(cx, "path").unwrap_or(Spanned::new("/metrics".into(), at));
    let port = r.req_ref(cx, "port");
    let interval =
        r.prop::<Duration>(cx, "interval").unwrap_or(Spanned::new(Duration::parse("30s").expect("valid"), at));
    Some(Metrics { path, port: port?, interval, span: r.span(cx) })
}

fn autoscale(cx: &mut Cx<'_>, node: &KdlNode) -> Option<Autoscale> {
    let r = Reader::open(
        cx,
        node,
        Shape { what: "autoscale", max_args: 0, props: &["min", "max", "cpu", "memory"], children: &[] },
    );
    let min = r.req_prop::<u32>(cx, "min");
    let max = r.req_prop::<u32>(cx, "max");
    let cpu = r.prop::<u32>(cx, "cpu");
    let memory = r.prop::<u32>(cx, "memory");
    let (min, max) = (min?, max?);
    if min.value == 0 || min.value > max.value {
        cx.report(
            Diagnostic::new(
                Code::E0105,
                format!("autoscale min {} must be at least 1 and at most max {}", min.value, max.value),
            )
            .primary(min.span, "min")
            .secondary(max.span, "max")
            .help("write `autoscale min=2 max=10 cpu=80`"),
        );
    }
    for target in [&cpu, &memory].into_iter().flatten() {
        if !(1..=100).contains(&target.value) {
            cx.report(
                Diagnostic::new(Code::E0105, format!("utilisation target {}% is not between 1 and 100", target.value))
                    .primary(target.span, "a percentage")
                    .help("write a target such as `cpu=80`"),
            );
        }
    }
    if cpu.is_none() && memory.is_none() {
        let at = r.name_span(cx);
        cx.report(
            Diagnostic::new(Code::E0104, "autoscale needs a target")
                .primary(at, "no `cpu=` or `memory=` target")
                .help("add `cpu=80` (percent of the CPU request)"),
        );
    }
    Some(Autoscale { min, max, cpu, memory, span: r.span(cx) })
}
