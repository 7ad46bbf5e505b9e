//! Helm charts (user `chart` declarations and stdlib components) and the
//! namespaces components own, for the installer the cluster has (SPEC §5):
//! Flux HelmRepository (of type `oci` for `oci://`) + HelmRelease, an Argo CD
//! Application with a helm source, or, on k3s without GitOps, k3s's own
//! HelmChart. A cluster with none of these gets no chart objects: the checks
//! warn about it (W0502).

use serde::Serialize;
use serde_json::{Map, Value as Json};

use super::argocd::{self, Source};
use super::{Artifacts, Custom, CustomKind, Origin, managed_labels, meta};
use crate::layout::Unit;
use crate::model::{Chart, ChartInstaller, Model, Value, ValueKind};

/// The namespace Flux runs in (and holds its sources).
pub const FLUX_NAMESPACE: &str = "flux-system";

/// Emits the component namespaces and every chart.
pub fn emit(model: &Model, out: &mut Artifacts) {
    let Some(installer) = model.chart_installer() else { return };
    let scope = model.cluster_key(None);
    let with_charts: std::collections::BTreeSet<&str> =
        model.charts.iter().filter_map(|c| c.component.as_deref()).collect();
    for ns in &model.namespaces {
        let Some(component) = ns.component.as_deref().filter(|c| with_charts.contains(c)) else { continue };
        if Model::is_system_namespace(&ns.name.value) {
            continue;
        }
        let origin = Origin::of(model.namespace_id(scope, &ns.name.value)).and(model.component_id(scope, component));
        let unit = Unit::namespace_home(model, scope, &ns.name.value);
        out.object(&origin, &unit, super::k8s::namespace(model, &ns.name.value, ns.pod_security.value));
    }
    for chart in &model.charts {
        let values = chart_values(model, chart);
        let unit = Unit::chart(model, chart);
        let origin = Origin::of(chart.id(model));
        let origin = match &chart.component {
            Some(component) => origin.and(model.component_id(scope, component)),
            None => origin,
        };
        let origin = chart.implied_by.iter().fold(origin, |o, d| o.and(d.clone()));
        match installer {
            ChartInstaller::Flux => flux(model, chart, values, &origin, &unit, out),
            ChartInstaller::Argocd => out.object(&origin, &unit, application(chart, values)),
            ChartInstaller::K3s => out.object(&origin, &unit, k3s(chart, &values)),
        }
    }
}

/// The chart's values: its values file, then its inline values over it.
fn chart_values(model: &Model, chart: &Chart) -> Json {
    let mut merged = Json::Object(Map::new());
    if let Some(file) = &chart.values_file
        && let Some(text) = model.attachments.get(&file.value)
        && let Ok(docs) = crate::yaml::parse_documents(text)
        && let Some(doc) = docs.into_iter().next()
    {
        merge_json(&mut merged, doc);
    }
    if let Some(values) = &chart.values {
        merge_json(&mut merged, to_json(values));
    }
    merged
}

/// A values tree as JSON.
pub fn to_json(value: &Value) -> Json {
    match &value.kind {
        ValueKind::Null => Json::Null,
        ValueKind::Bool(b) => Json::Bool(*b),
        ValueKind::Int(i) => i64::try_from(*i).map_or_else(|_| Json::String(i.to_string()), Json::from),
        ValueKind::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        ValueKind::String(s) => Json::String(s.clone()),
        ValueKind::List(items) => Json::Array(items.iter().map(to_json).collect()),
        ValueKind::Map(map) => Json::Object(map.iter().map(|(k, (_, v))| (k.clone(), to_json(v))).collect()),
    }
}

/// Deep-merges `over` into `base` (objects key by key, `over` wins elsewhere).
fn merge_json(base: &mut Json, over: Json) {
    match (base, over) {
        (Json::Object(into), Json::Object(from)) => {
            for (key, value) in from {
                match into.get_mut(&key) {
                    Some(existing) => merge_json(existing, value),
                    None => {
                        into.insert(key, value);
                    }
                }
            }
        }
        (base, over) => *base = over,
    }
}

/// Flux's `HelmRepository`: an HTTP Helm repository.
#[derive(Debug, Serialize)]
struct HelmRepository {
    spec: RepositorySpec,
}

impl CustomKind for HelmRepository {
    const API_VERSION: &'static str = "source.toolkit.fluxcd.io/v1";
    const KIND: &'static str = "HelmRepository";
}

#[derive(Debug, Serialize)]
struct RepositorySpec {
    interval: String,
    /// `oci` for an OCI registry (an HTTP/S repository has none).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    url: String,
}

/// Flux's `HelmRelease` (helm.toolkit.fluxcd.io/v2).
#[derive(Debug, Serialize)]
struct HelmRelease {
    spec: ReleaseSpec,
}

impl CustomKind for HelmRelease {
    const API_VERSION: &'static str = "helm.toolkit.fluxcd.io/v2";
    const KIND: &'static str = "HelmRelease";
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ReleaseSpec {
    interval: String,
    release_name: String,
    install: Lifecycle,
    upgrade: Lifecycle,
    chart: ReleaseChart,
    #[serde(skip_serializing_if = "Option::is_none")]
    values: Option<Json>,
}

/// How an install or upgrade treats CRDs and failures.
#[derive(Debug, Serialize)]
struct Lifecycle {
    crds: &'static str,
    remediation: Remediation,
}

#[derive(Debug, Serialize)]
struct Remediation {
    retries: u32,
}

#[derive(Debug, Serialize)]
struct ReleaseChart {
    spec: ReleaseChartSpec,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ReleaseChartSpec {
    chart: String,
    version: String,
    source_ref: SourceRef,
    interval: String,
}

#[derive(Debug, Serialize)]
struct SourceRef {
    kind: &'static str,
    name: String,
}

/// The values, unless there are none.
fn non_empty(values: Json) -> Option<Json> {
    values.as_object().is_some_and(|v| !v.is_empty()).then_some(values)
}

/// The HelmRepository (HTTP/S, or OCI) and the HelmRelease.
fn flux(model: &Model, chart: &Chart, values: Json, origin: &Origin, unit: &Unit, out: &mut Artifacts) {
    let interval = model
        .cluster_for(None)
        .and_then(|c| c.gitops.as_ref())
        .map_or_else(|| "10m".to_string(), |g| g.interval.value.to_string());
    let name = &chart.name.value;
    let metadata = || meta(name, Some(&chart.namespace.value), managed_labels());
    let crds = if chart.provides_crds { "CreateReplace" } else { "Skip" };
    let lifecycle = || Lifecycle { crds, remediation: Remediation { retries: 3 } };
    // An OCI registry is a HelmRepository of type `oci` (its URL without the
    // chart's name, as for an HTTP/S one), so every HelmRelease names its
    // chart and version the same way: the shape Renovate's flux manager and
    // the tree's checkers (../shared/validate/semantics.py) link a release to
    // its source by. Flux also reads OCI charts through an OCIRepository and
    // `chartRef`, which neither follows.
    let oci = chart.repo.value.starts_with("oci://");
    let url = if oci { chart.repo.value.trim_end_matches('/').to_string() } else { chart.repo.value.clone() };
    let spec = RepositorySpec { interval: interval.clone(), kind: oci.then_some("oci"), url };
    out.object(origin, unit, Custom::new(metadata(), HelmRepository { spec }));
    let release = ReleaseSpec {
        interval: interval.clone(),
        release_name: name.clone(),
        install: lifecycle(),
        upgrade: lifecycle(),
        chart: ReleaseChart {
            spec: ReleaseChartSpec {
                chart: chart.chart.value.clone(),
                version: chart.version.value.clone(),
                source_ref: SourceRef { kind: "HelmRepository", name: name.clone() },
                interval,
            },
        },
        values: non_empty(values),
    };
    out.object(origin, unit, Custom::new(metadata(), HelmRelease { spec: release }));
}

/// An Argo CD Application with a helm source, in Argo CD's namespace.
fn application(chart: &Chart, values: Json) -> Custom<argocd::Application> {
    let repo = chart.repo.value.strip_prefix("oci://").unwrap_or(&chart.repo.value).trim_end_matches('/');
    let source = Source::chart(repo, &chart.chart.value, &chart.version.value, &chart.name.value, values);
    let mut sync_options = vec!["CreateNamespace=true"];
    if chart.provides_crds {
        // CRDs are often too large for the last-applied annotation of client-side apply.
        sync_options.push("ServerSideApply=true");
    }
    argocd::application(&application_name(chart), source, Some(&chart.namespace.value), sync_options, None)
}

/// The Application of a chart: named after the release, prefixed with the
/// namespace when the release name alone could clash (user charts).
fn application_name(chart: &Chart) -> String {
    match &chart.component {
        Some(_) => chart.name.value.clone(),
        None => format!("{}-{}", chart.namespace.value, chart.name.value),
    }
}

/// k3s's `HelmChart` (helm.cattle.io/v1), applied by k3s's helm-controller.
#[derive(Debug, Serialize)]
struct HelmChart {
    spec: HelmChartSpec,
}

impl CustomKind for HelmChart {
    const API_VERSION: &'static str = "helm.cattle.io/v1";
    const KIND: &'static str = "HelmChart";
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct HelmChartSpec {
    chart: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    repo: Option<String>,
    version: String,
    target_namespace: String,
    create_namespace: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    values_content: Option<String>,
}

/// k3s's HelmChart in kube-system.
fn k3s(chart: &Chart, values: &Json) -> Custom<HelmChart> {
    let (name, repo) = match chart.repo.value.strip_prefix("oci://") {
        Some(_) => (format!("{}/{}", chart.repo.value, chart.chart.value), None),
        None => (chart.chart.value.clone(), Some(chart.repo.value.clone())),
    };
    let spec = HelmChartSpec {
        chart: name,
        repo,
        version: chart.version.value.clone(),
        target_namespace: chart.namespace.value.clone(),
        create_namespace: true,
        values_content: non_empty(values.clone()).map(|v| crate::yaml::render_json(&v)),
    };
    Custom::new(meta(&application_name(chart), Some("kube-system"), managed_labels()), HelmChart { spec })
}

#[cfg(test)]
mod tests {
    use crate::driver;
    use crate::host::MemHost;

    fn file(gitops: &str, chart: &str, path: &str) -> String {
        let text = format!("homelab \"lab\"\ncluster \"lab\" distribution=\"k3s\" {{\n    {gitops}\n}}\n{chart}\n");
        let built = driver::build(&MemHost::with([("homelab.kdl", text)]), "homelab.kdl");
        let errors: Vec<_> = built.checked.diagnostics.iter().filter(|d| d.is_error()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        let tree = built.tree.expect("no errors").expect("layout");
        let bytes =
            tree.get(path).unwrap_or_else(|| panic!("no {path}: {:?}", tree.files().map(|f| f.0).collect::<Vec<_>>()));
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    const OCI: &str = "chart \"cache\" namespace=\"shop\" repo=\"oci://registry-1.docker.io/bitnamicharts\" chart=\"redis\" version=\"20.13.3\" {\n    values { architecture \"standalone\" }\n}";
    const FLUX: &str = "gitops \"flux\" repo=\"https://github.com/me/lab\"";

    #[test]
    fn an_oci_chart_gets_an_oci_helm_repository() {
        let source = file(FLUX, OCI, "apps/shop/cache/helmrepository-cache.yaml");
        assert!(source.contains("type: oci\n"), "{source}");
        assert!(source.contains("url: oci://registry-1.docker.io/bitnamicharts\n"), "{source}");
        let release = file(FLUX, OCI, "apps/shop/cache/helmrelease-cache.yaml");
        assert!(release.contains("chart: redis\n"), "{release}");
        assert!(release.contains("version: 20.13.3\n"), "{release}");
        assert!(release.contains("kind: HelmRepository\n"), "{release}");
        assert!(release.contains("values:\n    architecture: standalone\n"), "{release}");
    }

    #[test]
    fn argo_cd_gets_a_helm_source_and_k3s_alone_a_helm_chart() {
        let app = file(
            "gitops \"argocd\" repo=\"https://github.com/me/lab\"",
            OCI,
            "apps/shop/cache/application-shop-cache.yaml",
        );
        assert!(app.contains("repoURL: registry-1.docker.io/bitnamicharts\n"), "{app}");
        assert!(app.contains("- CreateNamespace=true\n"), "{app}");
        let chart = file("", OCI, "apps/shop/cache/helmchart-shop-cache.yaml");
        assert!(chart.contains("chart: oci://registry-1.docker.io/bitnamicharts/redis\n"), "{chart}");
        assert!(chart.contains("valuesContent: |\n"), "{chart}");
    }
}
