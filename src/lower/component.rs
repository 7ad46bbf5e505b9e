//! stdlib components (SPEC §2.4): which components a description includes,
//! their parameters bound from `use`, and their namespaces and charts lowered
//! into the model like the user's own declarations.
//!
//! A component is a `component "name" { description; param ...; body }` file
//! of the [`crate::stdlib::Library`]. Binding one is textual on the KDL
//! document, before lowering: nodes with `when="param"` are dropped when the
//! parameter is unset, and `{param}` in strings is replaced by its value (a
//! string that is exactly `{param}` takes the parameter's type). The body is
//! then lowered by the ordinary readers, so a component's mistakes are
//! reported against its own file, and its charts carry `component = name`.

use std::collections::BTreeMap;

use super::chart::{chart, scalar_kind, values_block};
use super::infra::namespace;
use super::reader::{Cx, Reader, Shape};
use crate::diag::{Code, Diagnostic};
use crate::model::{
    Chart, Component, Distribution, Duration, Engine, GitopsEngine, IngressController, LoadBalancer, Model, Quantity,
    SecretSource, Value, ValueKind, Word, merge_values,
};
use crate::source::{Origin, SourceMap, Span};
use crate::stdlib::Library;
use crate::suggest;
use crate::syntax::tree;

/// The type of a component parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ParamType {
    String,
    Int,
    Bool,
    Port,
    Duration,
    Quantity,
}

impl ParamType {
    fn parse(text: &str) -> Option<ParamType> {
        Some(match text {
            "string" => ParamType::String,
            "int" => ParamType::Int,
            "bool" => ParamType::Bool,
            "port" => ParamType::Port,
            "duration" => ParamType::Duration,
            "quantity" => ParamType::Quantity,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Int => "int",
            ParamType::Bool => "bool",
            ParamType::Port => "port",
            ParamType::Duration => "duration",
            ParamType::Quantity => "quantity",
        }
    }

    fn what(self) -> &'static str {
        match self {
            ParamType::String => "a string",
            ParamType::Int => "an integer",
            ParamType::Bool => "`#true` or `#false`",
            ParamType::Port => "a port number (1-65535)",
            ParamType::Duration => "a duration such as \"7d\"",
            ParamType::Quantity => "a quantity such as \"10Gi\"",
        }
    }

    /// Checks a value against the type; the error says what was expected.
    fn check(self, value: &ValueKind) -> Result<(), String> {
        let ok = match (self, value) {
            (ParamType::String, ValueKind::String(_)) => true,
            (ParamType::Int, ValueKind::Int(_)) => true,
            (ParamType::Bool, ValueKind::Bool(_)) => true,
            (ParamType::Port, ValueKind::Int(i)) => (1..=65535).contains(i),
            (ParamType::Duration, ValueKind::String(s)) => return Duration::parse(s).map(|_| ()),
            (ParamType::Quantity, ValueKind::String(s)) => return Quantity::parse(s).map(|_| ()),
            _ => false,
        };
        if ok { Ok(()) } else { Err(format!("expected {}", self.what())) }
    }
}

/// One `param` of a component definition.
#[derive(Clone, Debug)]
struct Param {
    ty: ParamType,
    default: Option<ValueKind>,
}

/// A parsed component definition.
struct Definition {
    description: String,
    params: BTreeMap<String, Param>,
    /// The body: every child but `description` and `param`, taken out of the
    /// parsed file (each instantiated where it is, not copied).
    body: Vec<tree::Node>,
}

/// Includes every component the description uses or needs, binds its
/// parameters, and lowers its namespaces and charts into `model`.
pub fn bind(model: &mut Model, library: &Library, sources: &mut SourceMap, diags: &mut Vec<Diagnostic>) {
    let mut wanted: BTreeMap<String, (String, BTreeMap<String, ValueKind>)> = BTreeMap::new();
    for (name, reason, implied) in needed(model) {
        let entry = wanted.entry(name).or_insert_with(|| (reason, BTreeMap::new()));
        entry.1.extend(implied);
    }
    for u in &model.uses {
        if library.get(&u.component.value).is_some() {
            wanted.entry(u.component.value.clone()).or_insert_with(|| ("used".to_string(), BTreeMap::new())).0 =
                "used".to_string();
        } else {
            let names: Vec<&str> = library.names().collect();
            let help = suggest::did_you_mean(&u.component.value, names.iter().copied())
                .map(|n| format!("did you mean `{n}`?"))
                .unwrap_or_else(|| format!("the stdlib components are {}", names.join(", ")));
            diags.push(
                Diagnostic::new(Code::E0201, format!("unknown component `{}`", u.component.value))
                    .primary(u.component.span, "no stdlib component of this name")
                    .help(help),
            );
        }
    }
    for (name, params) in implied(model) {
        if let Some(entry) = wanted.get_mut(name) {
            entry.1.extend(params);
        }
    }
    for (name, (reason, implied)) in wanted {
        let Some(text) = library.get(&name) else { continue };
        let file = sources.add(format!("stdlib/{name}.kdl"), text.to_string(), Origin::Stdlib);
        let text = sources.get(file).text.clone();
        let Some(doc) = crate::syntax::parse(file, &text, diags) else { continue };
        let mut cx = Cx { file, text: &text, diags, trace: None };
        let Some(definition) = definition(&mut cx, &name, doc) else { continue };
        let used = model.uses.iter().find(|u| u.component.value == name).cloned();
        let params = bind_params(&mut cx, &definition, &implied, used.as_ref());
        let mut charts: Vec<Chart> = Vec::new();
        for node in definition.body {
            let Some(node) = instantiate(&mut cx, node, &params) else { continue };
            match node.name().value() {
                "namespace" => {
                    if let Some(mut ns) = namespace(&mut cx, &node) {
                        ns.component = Some(name.clone());
                        ns.from_stdlib = true;
                        match model.namespaces.iter_mut().find(|n| n.name.value == ns.name.value) {
                            // The user's declaration (its Pod Security level) wins; the component owns it.
                            // The first component to declare a shared namespace keeps it.
                            Some(existing) => {
                                existing.component.get_or_insert_with(|| name.clone());
                            }
                            None => model.namespaces.push(ns),
                        }
                    }
                }
                "chart" => charts.extend(component_chart(&mut cx, node, &name)),
                other => cx.report(
                    Diagnostic::new(Code::E0103, format!("unknown node `{other}` in component `{name}`"))
                        .primary(cx.span(node.name().span()), "not a component node")
                        .help("a component holds `description`, `param`, `namespace` and `chart` nodes"),
                ),
            }
        }
        // What the description implies (external-dns from the `dns`
        // declarations), under the user's own values.
        let primary = charts.iter().position(|c| c.name.value == name).unwrap_or(0);
        if let Some((values, by)) = super::edge::implied_values(model, &name)
            && let Some(chart) = charts.get_mut(primary)
        {
            match &mut chart.values {
                Some(base) => merge_values(base, values),
                None => chart.values = Some(values),
            }
            chart.implied_by = by;
        }
        if let Some(u) = &used
            && let Some(values) = &u.values
        {
            let primary = charts.iter().position(|c| c.name.value == name).unwrap_or(0);
            match charts.get_mut(primary) {
                Some(chart) => match &mut chart.values {
                    Some(base) => merge_values(base, values.clone()),
                    None => chart.values = Some(values.clone()),
                },
                None => cx.report(
                    Diagnostic::new(Code::E0103, format!("component `{name}` installs no chart to give values to"))
                        .primary(values.span, "values given here")
                        .help("remove the `values` block: this component is configured by its parameters only"),
                ),
            }
        }
        model.charts.extend(charts);
        let by_default = used.is_none() && reason.ends_with(" ingress");
        model.components.push(Component { name, description: definition.description, params, reason, by_default });
    }
    model.sort();
}

/// The components the declarations need, with why, and the parameters the
/// description implies (ingress-nginx on kind).
fn needed(model: &Model) -> Vec<(String, String, BTreeMap<String, ValueKind>)> {
    let mut out: Vec<(String, String, BTreeMap<String, ValueKind>)> = Vec::new();
    let mut need = |name: &str, reason: String| out.push((name.to_string(), reason, BTreeMap::new()));
    if let Some(pool) = model.pools.first() {
        need("metallb", format!("pool `{}`", pool.name.value));
    }
    for cluster in &model.clusters {
        let c = &cluster.name.value;
        if cluster.load_balancer.value == LoadBalancer::Metallb {
            need("metallb", format!("cluster `{c}` load-balancer"));
        }
        if let Some(g) = &cluster.gitops {
            match g.engine.value {
                GitopsEngine::Flux => need("flux", format!("cluster `{c}` gitops")),
                GitopsEngine::Argocd => need("argocd", format!("cluster `{c}` gitops")),
            }
        }
    }
    for (engine, component) in
        [(Engine::Tekton, "tekton"), (Engine::Drone, "drone"), (Engine::Woodpecker, "woodpecker")]
    {
        if let Some(p) = model.pipelines.iter().find(|p| p.engine.value == engine) {
            need(component, format!("pipeline `{}`", p.name.value));
        }
    }
    if let Some(a) = model.apps.iter().find(|a| a.metrics.is_some()) {
        need("kube-prometheus-stack", format!("metrics of app `{}`", a.name.value));
    }
    if let Some(d) = model.dashboards.first() {
        need("kube-prometheus-stack", format!("dashboard `{}`", d.name.value));
    }
    if let Some(a) = model.alerts.first() {
        need("kube-prometheus-stack", format!("alert `{}`", a.name.value));
    }
    for s in &model.secrets {
        match s.source {
            SecretSource::Sealed { .. } => need("sealed-secrets", format!("secret `{}`", s.name.value)),
            SecretSource::External { .. } => need("external-secrets", format!("secret `{}`", s.name.value)),
            SecretSource::Sops { .. } | SecretSource::Existing => {}
        }
    }
    if let Some(store) = model.secret_stores.first() {
        need("external-secrets", format!("secret-store `{}`", store.name.value));
    }
    if let Some(issuer) = model.issuers.first() {
        need("cert-manager", format!("issuer `{}`", issuer.name.value));
    }
    for cluster in model.clusters.iter().filter(|c| c.ingress.value == IngressController::EnvoyGateway) {
        need("envoy-gateway", format!("cluster `{}` ingress", cluster.name.value));
    }
    if let Some(gateway) = model.gateways.iter().find(|g| !g.implicit) {
        need("envoy-gateway", format!("gateway `{}`", gateway.name.value));
    }
    if let Some(dns) = model.dns.first() {
        need("external-dns", format!("dns `{}`", dns.name.value));
    }
    if let Some(tunnel) = model.tunnels.first() {
        need("cloudflared", format!("tunnel `{}`", tunnel.name.value));
    }
    let tls = model.apps.iter().find(|a| a.ingresses.iter().any(|i| i.tls.value));
    if let Some(app) = tls.filter(|_| !model.issuers.is_empty()) {
        need("cert-manager", format!("the TLS ingress of app `{}`", app.name.value));
    }
    if let Some(r) = model.registries.iter().find(|r| r.deploy.is_some()) {
        need("registry", format!("registry `{}`", r.name.value));
    }
    if let Some(volume) = model.stored_volumes().into_iter().find(|v| v.backup().is_some()) {
        need(crate::model::storage::VOLSYNC_COMPONENT, format!("the backup of {}", volume.describe()));
    }
    let depends = model.apps.iter().flat_map(|a| &a.depends_on).chain(model.charts.iter().flat_map(|c| &c.depends_on));
    for d in depends {
        if crate::model::COMPONENTS.contains(&d.value.as_str()) {
            need(&d.value, format!("depends-on `{}`", d.value));
        }
    }
    for cluster in model.clusters.iter().filter(|c| c.ingress.value == IngressController::Nginx) {
        let kind = cluster.distribution.value == Distribution::Kind;
        let implied = [("kind".to_string(), ValueKind::Bool(kind))].into_iter().collect();
        out.push(("ingress-nginx".into(), format!("cluster `{}` ingress", cluster.name.value), implied));
    }
    out
}

/// Parameters the description implies for components that are included for
/// any reason (needed or `use`d; the user's `use` still wins): the cluster's
/// ingress class for the CI servers' Ingresses, the distribution for
/// kube-prometheus-stack (which control-plane parts it can scrape), and the
/// CI engines' hosts for Gitea's webhook allow-list.
fn implied(model: &Model) -> Vec<(&'static str, BTreeMap<String, ValueKind>)> {
    let mut out = Vec::new();
    let Some(cluster) = model.clusters.first() else { return out };
    let one = |name: &str, value: ValueKind| [(name.to_string(), value)].into_iter().collect();
    if let Some(class) = Model::controller_class(cluster) {
        for component in ["drone", "woodpecker"] {
            out.push((component, one("ingress-class", ValueKind::String(class.into()))));
        }
    }
    // The component's parameter is named after the distribution.
    out.push(("kube-prometheus-stack", one(cluster.distribution.value.as_str(), ValueKind::Bool(true))));
    let hosts = webhook_targets(model, cluster);
    if !hosts.is_empty() {
        let list = format!("external,{}", hosts.join(","));
        out.push(("gitea", one("webhook-allowed-hosts", ValueKind::String(list))));
    }
    out
}

/// The hosts a forge's webhooks are delivered to in this cluster, without
/// port: the Drone and Woodpecker servers' `server-host`, and the
/// EventListener host of every Tekton pipeline with webhook triggers (when
/// the cluster has an ingress controller to route it).
fn webhook_targets(model: &Model, cluster: &crate::model::Cluster) -> Vec<String> {
    let mut hosts = std::collections::BTreeSet::new();
    for u in model.uses.iter().filter(|u| matches!(u.component.value.as_str(), "drone" | "woodpecker")) {
        if let Some((_, value)) = u.params.get("server-host")
            && let ValueKind::String(host) = &value.kind
        {
            hosts.insert(host.split(':').next().unwrap_or(host).to_string());
        }
    }
    if Model::controller_class(cluster).is_some() {
        let tekton = model.pipelines.iter().filter(|p| p.engine.value == Engine::Tekton);
        hosts.extend(tekton.filter(|p| p.webhooks().next().is_some()).map(|p| model.hooks_host(p)));
    }
    hosts.into_iter().collect()
}

/// Reads the `component` node of a library file.
fn definition(cx: &mut Cx<'_>, name: &str, mut doc: tree::Document) -> Option<Definition> {
    let Some(index) = doc.nodes().iter().position(|n| n.name().value() == "component") else {
        cx.report(
            Diagnostic::new(Code::E0104, format!("stdlib file of `{name}` holds no `component` node"))
                .primary(Span::new(cx.file, 0, 0), "in this file")
                .help(format!("write `component \"{name}\" {{ ... }}`")),
        );
        return None;
    };
    let node = &doc.nodes()[index];
    let r = Reader::open(cx, node, Shape { what: "component", max_args: 1, props: &[], children: &["*"] });
    let mut description = String::new();
    let mut params = BTreeMap::new();
    for child in r.children() {
        match child.name().value() {
            "description" => {
                let d = Reader::open(cx, child, Shape { what: "description", max_args: 1, props: &[], children: &[] });
                description = d.arg::<String>(cx, 0, "a description").map(|s| s.value).unwrap_or_default();
            }
            "param" => {
                let p = Reader::open(
                    cx,
                    child,
                    Shape { what: "param", max_args: 1, props: &["type", "default", "description"], children: &[] },
                );
                let Some(pname) = p.arg::<String>(cx, 0, "a parameter name") else { continue };
                let ty_text = p.req_prop::<String>(cx, "type");
                let Some(ty) = ty_text.as_ref().and_then(|t| ParamType::parse(&t.value)) else {
                    if let Some(t) = ty_text {
                        cx.report(
                            Diagnostic::new(Code::E0108, format!("unknown parameter type `{}`", t.value))
                                .primary(t.span, "not a parameter type")
                                .help("the types are string, int, bool, port, duration, quantity"),
                        );
                    }
                    continue;
                };
                let default = child.property("default").map(|e| scalar_kind(e.value()));
                if let (Some(d), Some(entry)) = (&default, child.property("default"))
                    && let Err(e) = ty.check(d)
                {
                    cx.report(
                        Diagnostic::new(Code::E0105, format!("default of parameter `{}`: {e}", pname.value))
                            .primary(cx.span(entry.span()), "wrong type")
                            .help(format!("parameter `{}` is declared `type=` {}", pname.value, ty.what())),
                    );
                    continue;
                }
                params.insert(pname.value, Param { ty, default });
            }
            _ => {}
        }
    }
    let children = doc.nodes_mut()[index].children_mut().take().map(|mut c| std::mem::take(c.nodes_mut()));
    let body =
        children.into_iter().flatten().filter(|c| !matches!(c.name().value(), "description" | "param")).collect();
    Some(Definition { description, params, body })
}

/// The component's parameters: defaults, then what the description implies,
/// then the user's `use` (which wins), each checked against its type.
fn bind_params(
    cx: &mut Cx<'_>,
    definition: &Definition,
    implied: &BTreeMap<String, ValueKind>,
    used: Option<&crate::model::Use>,
) -> BTreeMap<String, Option<ValueKind>> {
    let mut bound: BTreeMap<String, Option<ValueKind>> =
        definition.params.iter().map(|(n, p)| (n.clone(), p.default.clone())).collect();
    for (name, value) in implied {
        if bound.contains_key(name) {
            bound.insert(name.clone(), Some(value.clone()));
        }
    }
    let Some(used) = used else { return bound };
    for (name, (span, value)) in &used.params {
        let Some(param) = definition.params.get(name) else {
            let names: Vec<&str> = definition.params.keys().map(String::as_str).collect();
            let help = suggest::did_you_mean(name, names.iter().copied())
                .map(|n| format!("did you mean `{n}`?"))
                .unwrap_or_else(|| match names.as_slice() {
                    [] => format!("component `{}` takes no parameters", used.component.value),
                    _ => format!("the parameters of `{}` are {}", used.component.value, names.join(", ")),
                });
            cx.report(
                Diagnostic::new(
                    Code::E0103,
                    format!("unknown parameter `{name}` of component `{}`", used.component.value),
                )
                .primary(*span, "not a parameter of this component")
                .help(help),
            );
            continue;
        };
        if let Err(e) = param.ty.check(&value.kind) {
            let help = match &value.kind {
                ValueKind::String(s)
                    if matches!(param.ty, ParamType::Int | ParamType::Port) && s.parse::<i64>().is_ok() =>
                {
                    format!("numbers are written without quotes: `{name} {s}`")
                }
                _ => format!("give `{name}` {}", param.ty.what()),
            };
            cx.report(
                Diagnostic::new(Code::E0105, format!("parameter `{name}` of `{}`: {e}", used.component.value))
                    .primary(value.span, "wrong type")
                    .help(help),
            );
            continue;
        }
        bound.insert(name.clone(), Some(value.kind.clone()));
    }
    bound
}

/// A body node with `when=` resolved and `{param}` replaced; `None` when the
/// node's `when` parameter is unset (or false).
fn instantiate(
    cx: &mut Cx<'_>,
    mut node: tree::Node,
    params: &BTreeMap<String, Option<ValueKind>>,
) -> Option<tree::Node> {
    instantiate_in_place(cx, &mut node, params).then_some(node)
}

/// [`instantiate`] on a node of its own: whether the node stays.
fn instantiate_in_place(cx: &mut Cx<'_>, node: &mut tree::Node, params: &BTreeMap<String, Option<ValueKind>>) -> bool {
    if let Some(pos) = node.entries().iter().position(|e| e.name().is_some_and(|n| n.value() == "when")) {
        let entry = node.entries_mut().remove(pos);
        let param = entry.value().as_string().unwrap_or_default().to_string();
        match params.get(&param) {
            Some(Some(ValueKind::Bool(false)) | None) => return false,
            Some(Some(_)) => {}
            None => {
                cx.report(
                    Diagnostic::new(Code::E0201, format!("`when` names unknown parameter `{param}`"))
                        .primary(cx.span(entry.span()), "no such parameter")
                        .help("declare it with `param` at the top of the component"),
                );
                return false;
            }
        }
    }
    for entry in node.entries_mut() {
        let span = entry.span();
        if let tree::Value::String(text) = entry.value()
            && let Some(value) = interpolate(cx, text, params, span)
        {
            entry.set_value(value);
        }
    }
    if let Some(children) = node.children_mut() {
        children.nodes_mut().retain_mut(|child| instantiate_in_place(cx, child, params));
    }
    true
}

/// `{param}` replaced in a string; `None` when there is nothing to replace.
fn interpolate(
    cx: &mut Cx<'_>,
    text: &str,
    params: &BTreeMap<String, Option<ValueKind>>,
    span: miette::SourceSpan,
) -> Option<tree::Value> {
    if !text.contains('{') {
        return None;
    }
    let lookup = |cx: &mut Cx<'_>, name: &str| -> Option<ValueKind> {
        match params.get(name) {
            Some(value) => value.clone(),
            None => {
                cx.report(
                    Diagnostic::new(Code::E0201, format!("`{{{name}}}` names unknown parameter `{name}`"))
                        .primary(cx.span(span), "interpolated here")
                        .help("declare it with `param` at the top of the component"),
                );
                None
            }
        }
    };
    if let Some(name) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}'))
        && !name.contains(['{', '}'])
    {
        return Some(match lookup(cx, name)? {
            ValueKind::Int(i) => tree::Value::Integer(i),
            ValueKind::Bool(b) => tree::Value::Bool(b),
            ValueKind::Float(f) => tree::Value::Float(f),
            ValueKind::String(s) => tree::Value::String(s),
            ValueKind::Null | ValueKind::List(_) | ValueKind::Map(_) => tree::Value::Null,
        });
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else { break };
        let name = &rest[start + 1..start + end];
        out.push_str(&lookup(cx, name)?.scalar_text().unwrap_or_default());
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    Some(tree::Value::String(out))
}

/// A component's chart: its `values` blocks deep-merged in order.
fn component_chart(cx: &mut Cx<'_>, mut node: tree::Node, component: &str) -> Option<Chart> {
    let mut blocks = Vec::new();
    if let Some(children) = node.children_mut() {
        let (values, rest): (Vec<tree::Node>, Vec<tree::Node>) =
            std::mem::take(children.nodes_mut()).into_iter().partition(|c| c.name().value() == "values");
        blocks = values;
        *children.nodes_mut() = rest;
    }
    let mut lowered = chart(cx, &node)?;
    let mut values: Option<Value> = None;
    for block in &blocks {
        let Some(v) = values_block(cx, block) else { continue };
        match &mut values {
            Some(base) => merge_values(base, v),
            None => values = Some(v),
        }
    }
    lowered.values = values;
    lowered.component = Some(component.to_string());
    Some(lowered)
}

/// What `homelabc explain stdlib` shows of a component.
#[derive(Clone, Debug)]
pub struct Summary {
    /// Name.
    pub name: String,
    /// One line.
    pub description: String,
    /// Parameters: name, type, default as written (empty when optional).
    pub params: Vec<(String, String, String)>,
    /// Charts with their defaults bound: release, `repo/chart`, version.
    pub charts: Vec<(String, String, String)>,
    /// The parameters that are a chart's `version=` (`version="{version}"`):
    /// parameter, the chart's repository, the chart.
    pub version_params: Vec<(String, String, String)>,
}

/// Summarises every component of a library (its problems, if any, are left
/// to the builds that include it).
pub fn summarize(library: &Library) -> Vec<Summary> {
    let mut out = Vec::new();
    for name in library.names() {
        let Some(text) = library.get(name) else { continue };
        let mut diags = Vec::new();
        let file = crate::source::FileId(u32::MAX);
        let Some(doc) = crate::syntax::parse(file, text, &mut diags) else { continue };
        let mut cx = Cx { file, text, diags: &mut diags, trace: None };
        let Some(definition) = definition(&mut cx, name, doc) else { continue };
        let defaults: BTreeMap<String, Option<ValueKind>> =
            definition.params.iter().map(|(n, p)| (n.clone(), p.default.clone())).collect();
        let params = definition
            .params
            .iter()
            .map(|(n, p)| {
                let default = match &p.default {
                    Some(ValueKind::String(s)) => format!("\"{s}\""),
                    Some(ValueKind::Int(i)) => i.to_string(),
                    Some(ValueKind::Bool(b)) => format!("#{b}"),
                    _ => String::new(),
                };
                (n.clone(), p.ty.name().to_string(), default)
            })
            .collect();
        let mut charts = Vec::new();
        let mut version_params = Vec::new();
        for node in definition.body.into_iter().filter(|n| n.name().value() == "chart") {
            let raw = |key: &str| node.property(key).and_then(|e| e.value().as_string()).map(str::to_string);
            if let (Some(version), Some(repo), Some(chart)) = (raw("version"), raw("repo"), raw("chart"))
                && let Some(param) = version.strip_prefix('{').and_then(|v| v.strip_suffix('}'))
                && definition.params.contains_key(param)
            {
                version_params.push((param.to_string(), repo, chart));
            }
            let Some(node) = instantiate(&mut cx, node, &defaults) else { continue };
            let prop = |key: &str| node.property(key).and_then(|e| e.value().as_string()).unwrap_or("").to_string();
            let release = node.entries().first().and_then(|e| e.value().as_string()).unwrap_or("").to_string();
            charts.push((
                release,
                format!("{}/{}", prop("repo").trim_end_matches('/'), prop("chart")),
                prop("version"),
            ));
        }
        out.push(Summary {
            name: name.to_string(),
            description: definition.description,
            params,
            charts,
            version_params,
        });
    }
    out
}
