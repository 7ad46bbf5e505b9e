//! The closed world (SPEC §2.5): every name an object of the output uses —
//! Secrets, ConfigMaps, ServiceAccounts, Services, claims, storage and
//! ingress classes, issuers, secret stores, roles, the CRDs of its kind —
//! must be made by the same tree (in the same cluster), or be declared as
//! existing outside it, or be something the cluster itself provides.
//! A dangling name is an error at the declaration that produced the object.

use std::collections::{BTreeMap, BTreeSet};

use super::Spans;
use super::index::HashIndex;
use super::refs::{Class, Key, Need, Seen};
use crate::diag::{Code, Diagnostic};
use crate::model::{Distribution, GitopsEngine, IngressController, Model, SecretSource};

/// What each cluster has besides what its objects make, by cluster.
pub(super) struct Given(BTreeMap<Option<String>, Has>);

impl Given {
    /// `clusters`: the models the backends ran on.
    pub(super) fn of(clusters: &[&Model]) -> Given {
        Given(clusters.iter().map(|m| (m.scope.clone(), Has::new(m))).collect())
    }
}

/// What one cluster has, besides what its objects make.
struct Has {
    /// Made outside the tree but declared, or provided by the cluster.
    keys: BTreeSet<Key>,
    /// Namespaces charts are released into: their Services are not in the tree.
    chart_namespaces: BTreeSet<String>,
}

impl Has {
    fn new(model: &Model) -> Has {
        let mut keys = BTreeSet::new();
        for secret in model.secrets.iter().filter(|s| matches!(s.source, SecretSource::Existing)) {
            keys.insert((Class::Secret, Some(secret.namespace.value.clone()), secret.name.value.clone()));
        }
        let cluster = model.clusters.first();
        let distribution = cluster.map(|c| c.distribution.value);
        // The storage class each distribution ships (its default; Talos none).
        if let Some(class) = distribution.and_then(Distribution::storage_class) {
            keys.insert((Class::StorageClass, None, class.into()));
        }
        if let Some(cluster) = cluster {
            let traefik = cluster.ingress.value == IngressController::Traefik;
            if traefik && cluster.distribution.value == Distribution::K3s {
                keys.insert((Class::IngressClass, None, "traefik".into()));
                keys.insert((Class::Group, None, "traefik.io".into()));
            }
            if cluster.distribution.value == Distribution::K3s {
                keys.insert((Class::Group, None, "helm.cattle.io".into()));
            }
            if cluster.gitops.as_ref().is_some_and(|g| g.engine.value == GitopsEngine::Flux) {
                for group in FLUX_GROUPS {
                    keys.insert((Class::Group, None, group.to_string()));
                }
            }
        }
        for chart in &model.charts {
            for group in crate::model::crds::groups_of(&chart.chart.value) {
                keys.insert((Class::Group, None, group.to_string()));
            }
            for class in ingress_classes(&chart.chart.value) {
                keys.insert((Class::IngressClass, None, class.to_string()));
            }
            for class in crate::model::storage::classes_of(&chart.chart.value) {
                keys.insert((Class::StorageClass, None, class.to_string()));
            }
        }
        let chart_namespaces = model.charts.iter().map(|c| c.namespace.value.clone()).collect();
        Has { keys, chart_namespaces }
    }

    /// Whether a name resolves without an object of the tree.
    fn has(&self, key: &Key) -> bool {
        let (class, ns, name) = key;
        self.keys.contains(key)
            || (*class == Class::ServiceAccount && name == "default")
            || (*class == Class::Service && ns.as_ref().is_some_and(|ns| self.chart_namespaces.contains(ns)))
    }
}

/// The API groups of Flux's controllers, which `flux install` serves.
const FLUX_GROUPS: &[&str] = &[
    "source.toolkit.fluxcd.io",
    "kustomize.toolkit.fluxcd.io",
    "helm.toolkit.fluxcd.io",
    "notification.toolkit.fluxcd.io",
    "image.toolkit.fluxcd.io",
];

/// The ingress classes an upstream chart's controller serves.
fn ingress_classes(chart: &str) -> &'static [&'static str] {
    match chart {
        "ingress-nginx" => &["nginx"],
        "traefik" => &["traefik"],
        "apisix" => &["apisix"],
        _ => &[],
    }
}

/// E100x for every name an object uses that nothing makes. The names are
/// looked up on every core; what is reported, in the objects' order.
pub(super) fn check(given: &Given, seen: &[Box<Seen>], spans: &Spans, diags: &mut Vec<Diagnostic>) {
    let made = HashIndex::new(seen.iter().flat_map(|o| o.provides.iter().map(|key| ((o.cluster.as_deref(), key), ()))));
    let needing: Vec<&Seen> = seen.iter().filter(|o| !o.needs.is_empty()).map(Box::as_ref).collect();
    let unresolved = crate::par::map(&needing, |object| {
        let cluster = object.cluster.as_deref();
        let given = given.0.get(&object.cluster);
        let resolved = |need: &Need| made.contains(&(cluster, &need.key)) || given.is_some_and(|g| g.has(&need.key));
        object.needs.iter().filter(|need| !resolved(need)).collect::<Vec<_>>()
    });
    let mut reported = BTreeSet::new();
    for (object, needs) in needing.iter().zip(unresolved) {
        for need in needs {
            if reported.insert((object.cluster.as_deref(), &need.key, &object.describe)) {
                diags.push(dangling(object, need, spans));
            }
        }
    }
}

/// The diagnostic for one dangling name.
fn dangling(object: &Seen, need: &Need, spans: &Spans) -> Diagnostic {
    let (class, ns, name) = &need.key;
    let what = match ns {
        Some(ns) => format!("{} `{ns}/{name}`", class.noun()),
        None => format!("{} `{name}`", class.noun()),
    };
    let code = match class {
        Class::Group => Code::E1004,
        Class::StorageClass | Class::IngressClass | Class::GatewayClass => Code::E1002,
        Class::ClusterIssuer | Class::ClusterSecretStore | Class::SecretStore => Code::E1003,
        _ => Code::E1001,
    };
    let message = match class {
        Class::Group => {
            format!("{} uses the API group `{name}`, whose CRDs nothing in the tree installs", object.describe)
        }
        _ => format!("{} names {what} ({}), which nothing in the tree makes", object.describe, need.at),
    };
    let help = match class {
        Class::Secret => format!(
            "declare it: `secret \"{name}\" namespace=\"{}\" from=\"sops\" file=\"...\"` (or `from=\"external\"`, `from=\"sealed\"`; `from=\"existing\"` when it is made by hand on the cluster)",
            ns.as_deref().unwrap_or_default()
        ),
        Class::Group => format!(
            "add the chart that installs the `{name}` CRDs (a `chart` or `use` of the description), or a `manifest` holding the CRDs"
        ),
        Class::StorageClass => {
            format!("install the provisioner that makes `{name}`, or use the cluster's default class by giving none")
        }
        Class::IngressClass => {
            format!("set the cluster's `ingress` to a controller that serves `{name}`, or install its chart")
        }
        Class::GatewayClass | Class::Gateway => {
            "set the cluster's `ingress \"envoy-gateway\"`, or declare the `gateway` the route names".to_string()
        }
        Class::ClusterIssuer => "declare the `issuer` and set it as the cluster's `tls-issuer`".to_string(),
        Class::ClusterSecretStore | Class::SecretStore => format!("declare `secret-store \"{name}\" provider=...`"),
        _ => format!("make {what} in the description (or in the `manifest` that uses it)"),
    };
    let mut diag = Diagnostic::new(code, message).help(help);
    if let Some(origin) = &object.origin {
        match origin.decls.iter().find_map(|d| spans.0.get(d).map(|span| (*span, d))) {
            Some((span, decl)) => diag = diag.primary(span, format!("{} makes {}", decl.describe(), object.describe)),
            None => diag = diag.note(format!("{} is made for {}", object.describe, origin.primary().describe())),
        }
    }
    diag
}
