//! Lowering of `app` declarations and all their children.

use super::infra::{flag_child, single_value, word_child};
use super::reader::{Cx, Label, PortNumber, Reader, ServiceLabel, Shape, report_duplicates};
use crate::diag::{Code, Diagnostic};
use crate::model::*;
use crate::source::Spanned;
use crate::syntax::tree;

/// The children of a container, the app's own or another: the same words
/// in `app`, `container` and `init`.
const CONTAINER_CHILDREN: &[&str] =
    &["image", "port", "probe", "resources", "env", "env-from", "command", "args", "mount"];

/// The children of an app: its own container's (but `mount`: it mounts
/// every volume) and its pod's and workload's.
const APP_CHILDREN: &[&str] = &[
    "image",
    "port",
    "probe",
    "resources",
    "env",
    "env-from",
    "command",
    "args",
    "container",
    "init",
    "replicas",
    "service",
    "ingress",
    "route",
    "volume",
    "config",
    "secret-file",
    "metrics",
    "spread",
    "autoscale",
    "depends-on",
    "concurrency",
    "backoff-limit",
    "node-selector",
    "tolerate",
    "gpu",
    "read-only-root",
    "run-as-user",
    "run-as-group",
    "capabilities",
    "egress",
    "privileged",
    "host-network",
    "allow-privileged",
];

pub(super) fn app(cx: &mut Cx<'_>, node: &tree::Node) -> Option<App> {
    let r = Reader::open(
        cx,
        node,
        Shape {
            what: "app",
            max_args: 1,
            props: &["namespace", "cluster", "kind", "schedule", "node"],
            children: APP_CHILDREN,
        },
    );
    let name = r.arg::<ServiceLabel>(cx, 0, "a name").map(|s| s.map(|l| l.0));
    let namespace = r.opt_ref(cx, "namespace");
    let cluster = r.opt_ref(cx, "cluster");
    let kind = r.word_prop::<WorkloadKind>(cx, "kind");
    let schedule = r.prop::<Cron>(cx, "schedule");
    if kind.as_ref().is_some_and(|k| k.value == WorkloadKind::Cronjob) && !r.has_prop("schedule") {
        cx.report(
            Diagnostic::new(Code::E0104, "a cronjob needs `schedule=`")
                .primary(r.name_span(cx), "never runs")
                .help("say when it runs, e.g. `schedule=\"0 3 * * *\"` (03:00 every day) or `schedule=\"@hourly\"`"),
        );
    }
    let node_name = r.opt_ref(cx, "node");
    let at = r.name_span(cx);
    let container_name = name.clone().unwrap_or_else(|| Spanned::new(String::new(), at));
    let container = container(cx, &r, container_name, r.span(cx), ContainerRole::Main);
    let sidecars = r.lower_each(cx, "container", |cx, c| other_container(cx, c, ContainerRole::Sidecar));
    let inits = r.lower_each(cx, "init", |cx, c| other_container(cx, c, ContainerRole::Init));
    // Not written: the default, at the app's name (see `App::replicas`).
    let default_at = name.as_ref().map_or(at, |n| n.span);
    let replicas = r
        .child_once(cx, "replicas")
        .and_then(|c| single_value::<u32>(cx, c, "replicas", "a replica count"))
        .unwrap_or(Spanned::new(1, default_at));
    let service = r.child_once(cx, "service").and_then(|c| service(cx, c));
    let ingresses = r.lower_each(cx, "ingress", ingress);
    let volumes: Vec<Volume> = r.lower_each(cx, "volume", volume);
    let configs: Vec<ConfigFile> = r.lower_each(cx, "config", config);
    let secret_files: Vec<SecretFile> = r.lower_each(cx, "secret-file", secret_file);
    let routes = r.lower_each(cx, "route", route);
    report_duplicates(
        cx,
        volumes
            .iter()
            .map(|v| (v.name.value.as_str(), v.name.span))
            .chain(configs.iter().map(|c| (c.name.value.as_str(), c.name.span))),
        "volume or config",
        Code::E0107,
    );
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
    let concurrency = r.child_once(cx, "concurrency").and_then(|c| word_child::<Concurrency>(cx, c, "concurrency"));
    let backoff_limit =
        r.child_once(cx, "backoff-limit").and_then(|c| single_value::<u32>(cx, c, "backoff-limit", "a retry count"));
    let node_selector: Vec<(Spanned<String>, Spanned<String>)> = r.lower_each(cx, "node-selector", |cx, c| {
        let l = Reader::open(cx, c, Shape { what: "node-selector", max_args: 2, props: &[], children: &[] });
        let (key, value) = (l.arg::<String>(cx, 0, "a label key"), l.arg::<String>(cx, 1, "a label value"));
        Some((key?, value?))
    });
    report_duplicates(
        cx,
        node_selector.iter().map(|(k, _)| (k.value.as_str(), k.span)),
        "node-selector key",
        Code::E0107,
    );
    let tolerations = r.lower_each(cx, "tolerate", toleration);
    let gpus: Vec<Gpu> = r.lower_each(cx, "gpu", gpu);
    report_duplicates(
        cx,
        gpus.iter().map(|g| (g.resource.value.as_str(), g.resource.span)),
        "gpu resource",
        Code::E0107,
    );
    let read_only_root = r
        .child_once(cx, "read-only-root")
        .and_then(|c| flag_child(cx, c, "read-only-root"))
        .unwrap_or(Spanned::new(true, at));
    let run_as_user =
        r.child_once(cx, "run-as-user").and_then(|c| single_value::<i64>(cx, c, "run-as-user", "a user id"));
    let run_as_group =
        r.child_once(cx, "run-as-group").and_then(|c| single_value::<i64>(cx, c, "run-as-group", "a group id"));
    let capabilities = r.child_once(cx, "capabilities").map(|c| strings(cx, c, "capabilities")).unwrap_or_default();
    let egress = r.lower_each(cx, "egress", egress);
    let privileged = r.child_once(cx, "privileged").and_then(|c| flag_child(cx, c, "privileged"));
    let host_network = r.child_once(cx, "host-network").and_then(|c| flag_child(cx, c, "host-network"));
    let allow_privileged = r.child_once(cx, "allow-privileged").and_then(|c| flag_child(cx, c, "allow-privileged"));
    let name = name?;
    let namespace = namespace.unwrap_or_else(|| name.clone());
    Some(App {
        name,
        namespace,
        kind,
        schedule,
        concurrency,
        backoff_limit,
        container,
        sidecars,
        inits,
        replicas,
        service,
        ingresses,
        routes,
        volumes,
        configs,
        secret_files,
        metrics,
        spread,
        autoscale,
        depends_on,
        node: node_name,
        node_selector,
        tolerations,
        gpus,
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

/// Which container of a pod is being read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ContainerRole {
    /// The app's own: its children are the app's.
    Main,
    /// `container "NAME" { ... }`.
    Sidecar,
    /// `init "NAME" { ... }`.
    Init,
}

/// `container "NAME" { ... }` or `init "NAME" { ... }`.
fn other_container(cx: &mut Cx<'_>, node: &tree::Node, role: ContainerRole) -> Option<Container> {
    let what = if role == ContainerRole::Init { "init" } else { "container" };
    let r = Reader::open(cx, node, Shape { what, max_args: 1, props: &[], children: CONTAINER_CHILDREN });
    let name = r.arg::<Label>(cx, 0, "a container name").map(|l| l.map(|l| l.0))?;
    Some(container(cx, &r, name, r.span(cx), role))
}

/// The container children of `r`: the app's own container, a sidecar or an init container.
fn container(cx: &mut Cx<'_>, r: &Reader<'_>, name: Name, span: crate::source::Span, role: ContainerRole) -> Container {
    let image = match r.child_once(cx, "image") {
        Some(c) => image(cx, c),
        None => {
            let at = r.name_span(cx);
            let (what, inside) = match role {
                ContainerRole::Main => ("app", "the app"),
                ContainerRole::Sidecar => ("container", "the container"),
                ContainerRole::Init => ("init container", "the init container"),
            };
            cx.report(
                Diagnostic::new(Code::E0104, format!("{what} needs an `image`"))
                    .primary(at, "no image given")
                    .help(format!("add `image \"repository/name\" tag=\"1.2.3\"` inside {inside}")),
            );
            None
        }
    };
    // A port whose number could not be read is reported once: its name stays
    // known, so that what refers to it is not reported again (E0403).
    let mut ports: Vec<Port> = Vec::with_capacity(r.children_named("port").count());
    let mut unread_ports: Vec<String> = Vec::new();
    for child in r.children_named("port") {
        match port(cx, child) {
            Ok(port) => ports.push(port),
            Err(Some(name)) => unread_ports.push(name),
            Err(None) => {}
        }
    }
    let probes: Vec<Probe> = r.lower_each(cx, "probe", probe);
    report_duplicates(cx, probes.iter().map(|p| (p.kind.value.as_str(), p.kind.span)), "probe", Code::E0107);
    let resources = r.child_once(cx, "resources").and_then(|c| resources(cx, c));
    let env: Vec<Env> = r.lower_each(cx, "env", env);
    report_duplicates(
        cx,
        env.iter().map(|e| (e.name.value.as_str(), e.name.span)),
        "environment variable",
        Code::E0107,
    );
    let env_from = r.lower_each(cx, "env-from", env_from);
    let command = r.child_once(cx, "command").map(|c| strings(cx, c, "command")).unwrap_or_default();
    let args = r.child_once(cx, "args").map(|c| strings(cx, c, "args")).unwrap_or_default();
    let mounts = if role == ContainerRole::Main { Vec::new() } else { r.lower_each(cx, "mount", mount) };
    Container { name, image, ports, unread_ports, probes, resources, env, env_from, command, args, mounts, span }
}

/// `env-from secret="NAME"` or `env-from config="NAME"`.
fn env_from(cx: &mut Cx<'_>, node: &tree::Node) -> Option<EnvFrom> {
    let r =
        Reader::open(cx, node, Shape { what: "env-from", max_args: 0, props: &["secret", "config"], children: &[] });
    match (r.opt_ref(cx, "secret"), r.opt_ref(cx, "config")) {
        (Some(secret), None) => Some(EnvFrom::Secret(secret)),
        (None, Some(config)) => Some(EnvFrom::Config(config)),
        (Some(secret), Some(config)) => {
            cx.report(
                Diagnostic::new(Code::E0105, "env-from names both a secret and a config")
                    .primary(secret.span, "a secret")
                    .secondary(config.span, "a config")
                    .help("write one `env-from` per source: `env-from secret=\"s\"` and `env-from config=\"c\"`"),
            );
            None
        }
        (None, None) => {
            cx.report(
                Diagnostic::new(Code::E0104, "env-from names no source")
                    .primary(r.name_span(cx), "nothing to read")
                    .help("write `env-from secret=\"NAME\"` (a declared secret) or `env-from config=\"NAME\"` (a config of the app)"),
            );
            None
        }
    }
}

/// `mount "VOLUME" path="/data" read-only=#true`.
fn mount(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Mount> {
    let r = Reader::open(cx, node, Shape { what: "mount", max_args: 1, props: &["path", "read-only"], children: &[] });
    let volume = r.arg::<Label>(cx, 0, "the name of a volume or config of the app").map(|l| l.map(|l| l.0));
    let path = r.req_prop::<String>(cx, "path");
    if let Some(p) = &path {
        absolute(cx, p);
    }
    let read_only = r.prop::<bool>(cx, "read-only");
    Some(Mount { volume: volume?, path: path?, read_only })
}

/// E0105 for a mount path that is not absolute.
fn absolute(cx: &mut Cx<'_>, path: &Spanned<String>) {
    if !path.value.starts_with('/') {
        cx.report(
            Diagnostic::new(Code::E0105, format!("mount path `{}` is not absolute", path.value))
                .primary(path.span, "relative path")
                .help(format!("write `/{}`", path.value)),
        );
    }
}

/// `config "NAME" file="..." mount="..."` or `config "NAME" env-file="..."`.
fn config(cx: &mut Cx<'_>, node: &tree::Node) -> Option<ConfigFile> {
    let r = Reader::open(
        cx,
        node,
        Shape { what: "config", max_args: 1, props: &["file", "env-file", "mount"], children: &[] },
    );
    let name = r.arg::<Label>(cx, 0, "a config name").map(|l| l.map(|l| l.0));
    let file = r.prop::<String>(cx, "file");
    let env_file = r.prop::<String>(cx, "env-file");
    let mount = r.prop::<String>(cx, "mount");
    if let Some(m) = &mount {
        absolute(cx, m);
    }
    let (file, is_env) = match (file, env_file) {
        (Some(file), None) => {
            if mount.is_none() {
                cx.report(
                    Diagnostic::new(Code::E0104, "a config file needs `mount=`")
                        .primary(r.name_span(cx), "not mounted anywhere")
                        .help("say where the app reads it: `mount=\"/etc/app/app.yaml\"` (a file) or `mount=\"/etc/app/\"` (a folder)"),
                );
            }
            (file, false)
        }
        (None, Some(env)) => (env, true),
        (Some(file), Some(env)) => {
            cx.report(
                Diagnostic::new(Code::E0105, "config has both `file=` and `env-file=`")
                    .primary(file.span, "a file mounted as is")
                    .secondary(env.span, "a file of `KEY=value` lines")
                    .help("declare two configs: one `file=` mounted, one `env-file=` read with `env-from config=`"),
            );
            return None;
        }
        (None, None) => {
            cx.report(
                Diagnostic::new(Code::E0104, "config names no file")
                    .primary(r.name_span(cx), "no `file=` or `env-file=`")
                    .help("write `config \"NAME\" file=\"config/app.yaml\" mount=\"/etc/app/app.yaml\"`"),
            );
            return None;
        }
    };
    Some(ConfigFile { name: name?, file, env_file: is_env, mount, span: r.span(cx) })
}

/// `secret-file "SECRET" mount="/path" key="k"`.
fn secret_file(cx: &mut Cx<'_>, node: &tree::Node) -> Option<SecretFile> {
    let r = Reader::open(cx, node, Shape { what: "secret-file", max_args: 1, props: &["mount", "key"], children: &[] });
    let secret = r.arg::<Label>(cx, 0, "a declared secret").map(|l| l.map(|l| l.0));
    let mount = r.req_prop::<String>(cx, "mount");
    if let Some(m) = &mount {
        absolute(cx, m);
    }
    let key = r.prop::<String>(cx, "key");
    Some(SecretFile { secret: secret?, mount: mount?, key, span: r.span(cx) })
}

/// `tolerate "KEY" "VALUE" effect="NoSchedule"`.
fn toleration(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Toleration> {
    let r = Reader::open(cx, node, Shape { what: "tolerate", max_args: 2, props: &["effect"], children: &[] });
    let key = r.arg::<String>(cx, 0, "a taint key");
    let value = r.opt_arg::<String>(cx, 1);
    let effect = r.word_prop::<TaintEffect>(cx, "effect");
    Some(Toleration { key: key?, value, effect, span: r.span(cx) })
}

/// `gpu "nvidia.com/gpu" 1`, on an app or a node.
pub(super) fn gpu(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Gpu> {
    let r = Reader::open(cx, node, Shape { what: "gpu", max_args: 2, props: &[], children: &[] });
    let resource = r.arg::<String>(cx, 0, "an extended resource name such as `nvidia.com/gpu`");
    let count = r.arg::<u32>(cx, 1, "a count");
    let resource = resource?;
    let valid = resource.value.split_once('/').is_some_and(|(domain, name)| {
        domain.contains('.')
            && !domain.starts_with("kubernetes.io")
            && !name.is_empty()
            && crate::model::check_rfc1123_label(&name.to_ascii_lowercase()).is_ok()
    });
    if !valid {
        cx.report(
            Diagnostic::new(Code::E0106, format!("`{}` is not an extended resource name", resource.value))
                .primary(resource.span, "expected `vendor.domain/resource`")
                .help("write the name the device plugin advertises, e.g. `nvidia.com/gpu`, `gpu.intel.com/i915` or `amd.com/gpu`"),
        );
    }
    let count = count?;
    if count.value == 0 {
        cx.report(
            Diagnostic::new(Code::E0105, "a gpu count of 0")
                .primary(count.span, "asks for nothing")
                .help("ask for at least one, or remove the `gpu` line"),
        );
    }
    Some(Gpu { resource, count })
}

/// `egress "internet"`, `egress "10.0.0.5/32" port=2049 protocol="UDP"`, `egress "lan"`.
fn egress(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Egress> {
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

fn strings(cx: &mut Cx<'_>, node: &tree::Node, what: &'static str) -> Vec<Spanned<String>> {
    let r = Reader::open(cx, node, Shape { what, max_args: usize::MAX, props: &[], children: &[] });
    let values = r.rest_args::<String>(cx, 0);
    if values.is_empty() {
        r.arg::<String>(cx, 0, "at least one string");
    }
    values
}

fn image(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Image> {
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

/// A port; when it cannot be read, its name if that could be.
fn port(cx: &mut Cx<'_>, node: &tree::Node) -> Result<Port, Option<String>> {
    let r = Reader::open(cx, node, Shape { what: "port", max_args: 2, props: &["protocol"], children: &[] });
    let name = r.arg::<Label>(cx, 0, "a port name").map(|l| l.map(|l| l.0));
    let number = r.arg::<PortNumber>(cx, 1, "a port number").map(|p| p.map(|p| p.0));
    let at = r.name_span(cx);
    let protocol = r.word_prop::<Protocol>(cx, "protocol").unwrap_or(Spanned::new(Protocol::Tcp, at));
    let name = name.ok_or(None)?;
    if name.value.len() > 15 || !name.value.chars().any(|c| c.is_ascii_lowercase()) {
        cx.report(
            Diagnostic::new(Code::E0106, format!("invalid port name `{}`", name.value))
                .primary(name.span, "Kubernetes port names have at most 15 characters and at least one letter")
                .help("use a short name such as `http`, `grpc` or `metrics`"),
        );
    }
    match number {
        Some(number) => Ok(Port { name, number, protocol }),
        None => Err(Some(name.value)),
    }
}

fn service(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Service> {
    let r = Reader::open(
        cx,
        node,
        Shape { what: "service", max_args: 0, props: &["type", "pool", "address"], children: &["expose"] },
    );
    let at = r.name_span(cx);
    let kind = r.word_prop::<ServiceType>(cx, "type").unwrap_or(Spanned::new(ServiceType::ClusterIp, at));
    let pool = r.opt_ref(cx, "pool");
    let address = r.prop::<std::net::IpAddr>(cx, "address");
    let exposes: Vec<Expose> = r.lower_each(cx, "expose", |cx, c| {
        let e = Reader::open(cx, c, Shape { what: "expose", max_args: 2, props: &["node-port"], children: &[] });
        let port = e.arg::<Label>(cx, 0, "a port name").map(|l| l.map(|l| l.0));
        let number = e.arg::<PortNumber>(cx, 1, "a service port number").map(|p| p.map(|p| p.0));
        let node_port = e.prop::<PortNumber>(cx, "node-port").map(|p| p.map(|p| p.0));
        Some(Expose { port: port?, number: number?, node_port, span: e.span(cx) })
    });
    if exposes.is_empty() {
        cx.report(
            Diagnostic::new(Code::E0104, "service exposes no port")
                .primary(at, "nothing exposed")
                .help("add `expose \"http\" 80` inside the service"),
        );
    }
    Some(Service { kind, pool, address, exposes, span: r.span(cx) })
}

fn ingress(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Ingress> {
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

/// `route host=... path=... port=... gateway=...`: an HTTPRoute.
fn route(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Route> {
    let r = Reader::open(
        cx,
        node,
        Shape { what: "route", max_args: 0, props: &["host", "path", "port", "gateway"], children: &[] },
    );
    let host = r.req_prop::<String>(cx, "host");
    let at = r.name_span(cx);
    let path = r.prop::<String>(cx, "path").unwrap_or(Spanned::new("/".into(), at));
    if !path.value.starts_with('/') {
        cx.report(
            Diagnostic::new(Code::E0105, format!("route path `{}` does not start with `/`", path.value))
                .primary(path.span, "not an absolute path")
                .help(format!("write `/{}`", path.value)),
        );
    }
    let port = r.req_ref(cx, "port");
    let gateway = r.opt_ref(cx, "gateway");
    let host = host?;
    if let Err(m) = check_dns_subdomain(&host.value) {
        cx.report(
            Diagnostic::new(Code::E0105, format!("invalid route host: {m}"))
                .primary(host.span, "not a DNS name")
                .help("write a host such as `demo` (completed with the homelab domain) or `demo.lab.example.com`"),
        );
    }
    Some(Route { host, path, port: port?, gateway, span: r.span(cx) })
}

fn probe(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Probe> {
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

fn resources(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Resources> {
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

fn env(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Env> {
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

fn volume(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Volume> {
    const SOURCES: &[&str] = &["size", "claim", "nfs", "host-path", "empty-dir"];
    let r = Reader::open(
        cx,
        node,
        Shape {
            what: "volume",
            max_args: 1,
            props: &[
                "mount",
                "size",
                "storage-class",
                "backup",
                "claim",
                "nfs",
                "host-path",
                "empty-dir",
                "size-limit",
                "read-only",
            ],
            children: &[],
        },
    );
    let name = r.name(cx);
    let mount = r.req_prop::<String>(cx, "mount");
    if let Some(m) = &mount {
        absolute(cx, m);
    }
    let read_only = r.prop::<bool>(cx, "read-only");
    let given: Vec<&str> = SOURCES.iter().copied().filter(|k| r.has_prop(k)).collect();
    let source = match given.as_slice() {
        [] => {
            cx.report(
                Diagnostic::new(Code::E0104, "volume says nothing of where its data lives")
                    .primary(r.name_span(cx), "no source")
                    .help("give one of `size=\"10Gi\"` (a claim of its own), `claim=` (a declared claim), `nfs=\"host:/path\"`, `host-path=\"/path\"` or `empty-dir=#true`"),
            );
            None
        }
        [one] => volume_source(cx, &r, one),
        [first, second, ..] => {
            cx.report(
                Diagnostic::new(Code::E0105, format!("volume has both `{first}=` and `{second}=`"))
                    .primary(r.name_span(cx), "two sources")
                    .help("a volume has one source; declare two volumes"),
            );
            None
        }
    };
    // Properties that belong to one source only.
    let belongs = [("storage-class", "size"), ("backup", "size"), ("size-limit", "empty-dir")];
    for (key, owner) in belongs {
        if r.has_prop(key) && !given.contains(&owner) {
            let at = r.name_span(cx);
            cx.report(
                Diagnostic::new(Code::E0105, format!("`{key}=` only applies to a `{owner}=` volume"))
                    .primary(at, format!("`{key}=` given here"))
                    .help(match key {
                        "size-limit" => {
                            "limit the size of scratch space: `empty-dir=#true size-limit=\"2Gi\"`".to_string()
                        }
                        _ => format!("a shared claim takes `{key}=` on its `claim` declaration"),
                    }),
            );
        }
    }
    Some(Volume { name: name?, mount: mount?, source: source?, read_only, span: r.span(cx) })
}

/// The source of a volume whose one source property is `key`.
fn volume_source(cx: &mut Cx<'_>, r: &Reader<'_>, key: &str) -> Option<VolumeSource> {
    Some(match key {
        "size" => VolumeSource::Own(OwnClaim {
            size: r.req_prop::<Quantity>(cx, "size")?,
            storage_class: r.opt_ref(cx, "storage-class"),
            backup: r.opt_ref(cx, "backup"),
        }),
        "claim" => VolumeSource::Claim(r.req_ref(cx, "claim")?),
        "nfs" => {
            let export = r.req_prop::<String>(cx, "nfs")?;
            match export.value.split_once(":/") {
                Some((server, path))
                    if !server.is_empty() && HostPort::parse(server).is_ok_and(|h| h.port.is_none()) =>
                {
                    VolumeSource::Nfs {
                        server: Spanned::new(server.to_string(), export.span),
                        path: Spanned::new(format!("/{path}"), export.span),
                    }
                }
                _ => {
                    cx.report(
                        Diagnostic::new(Code::E0105, format!("`{}` is not an NFS export", export.value))
                            .primary(export.span, "expected `server:/path`")
                            .help("write the server's address or name and the exported path: `nfs=\"192.168.1.10:/export/media\"`"),
                    );
                    return None;
                }
            }
        }
        "host-path" => {
            let path = r.req_prop::<String>(cx, "host-path")?;
            absolute(cx, &path);
            VolumeSource::HostPath(path)
        }
        "empty-dir" => {
            let flag = r.req_prop::<bool>(cx, "empty-dir")?;
            if !flag.value {
                cx.report(
                    Diagnostic::new(Code::E0105, "`empty-dir=#false` gives the volume no source")
                        .primary(flag.span, "no scratch space")
                        .help("write `empty-dir=#true`, or give the volume another source"),
                );
                return None;
            }
            VolumeSource::EmptyDir { size_limit: r.prop::<Quantity>(cx, "size-limit") }
        }
        other => unreachable!("`{other}` is not a volume source"),
    })
}

fn metrics(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Metrics> {
    let r = Reader::open(
        cx,
        node,
        Shape { what: "metrics", max_args: 0, props: &["path", "port", "interval", "dashboard"], children: &[] },
    );
    let at = r.name_span(cx);
    let path = r.prop::<String>(cx, "path").unwrap_or(Spanned::new("/metrics".into(), at));
    let port = r.req_ref(cx, "port");
    let interval =
        r.prop::<Duration>(cx, "interval").unwrap_or(Spanned::new(Duration::parse("30s").expect("valid"), at));
    let dashboard = r.prop::<bool>(cx, "dashboard").is_some_and(|d| d.value);
    Some(Metrics { path, port: port?, interval, dashboard, span: r.span(cx) })
}

fn autoscale(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Autoscale> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_takes_its_containers_children_but_mount() {
        for child in CONTAINER_CHILDREN.iter().filter(|c| **c != "mount") {
            assert!(APP_CHILDREN.contains(child), "{child}");
        }
        assert!(!APP_CHILDREN.contains(&"mount"));
    }

    /// An app's lists have room for what it declares and no more: the model
    /// lives for the whole build (four probes' room for two would be half an
    /// app's memory at 100,000 apps).
    #[test]
    fn an_apps_lists_hold_no_spare_room() {
        let text = r#"
            app "web" namespace="shop" {
                image "nginx" tag="1.27"
                port "http" 8080
                port "metrics" 9090
                service { expose "http" 80; expose "metrics" 9090 }
                ingress host="web.example.com" port="http"
                probe "liveness" http="/healthz" port="http"
                probe "readiness" http="/ready" port="http"
                env "MODE" "production"
                node-selector "disk" "ssd"
            }
        "#;
        let checked = crate::driver::check(&crate::host::MemHost::with([("homelab.kdl", text)]), "homelab.kdl");
        let app = &checked.model.apps[0];
        let container = &app.container;
        let exposes = &app.service.as_ref().expect("a service").exposes;
        let lists = [
            ("ports", container.ports.len(), container.ports.capacity()),
            ("probes", container.probes.len(), container.probes.capacity()),
            ("env", container.env.len(), container.env.capacity()),
            ("exposes", exposes.len(), exposes.capacity()),
            ("ingresses", app.ingresses.len(), app.ingresses.capacity()),
            ("node-selector", app.node_selector.len(), app.node_selector.capacity()),
        ];
        assert_eq!(lists.map(|(_, len, _)| len), [2, 2, 1, 2, 1, 1]);
        for (name, len, capacity) in lists {
            assert_eq!(capacity, len, "{name}");
        }
    }
}
