//! Helm charts (user `chart` declarations and stdlib components) and the
//! namespaces components own, for the installer the cluster has (SPEC §5):
//! Flux HelmRepository (OCIRepository for `oci://`) + HelmRelease, an Argo CD
//! Application with a helm source, or, on k3s without GitOps, k3s's own
//! HelmChart. A cluster with none of these gets no chart objects: the checks
//! warn about it (W0502).

use serde_json::{Map, Value as Json, json};

use super::{Artifacts, Object, managed_labels};
use crate::layout::{chart_unit, component_unit};
use crate::model::{Chart, ChartInstaller, Model, Value, ValueKind};

/// The namespace Flux runs in (and holds its sources).
pub const FLUX_NAMESPACE: &str = "flux-system";

/// The namespace Argo CD runs in (and holds its Applications).
pub const ARGOCD_NAMESPACE: &str = "argocd";

/// Emits the component namespaces and every chart.
pub fn emit(model: &Model, out: &mut Artifacts) {
    let Some(installer) = model.chart_installer() else { return };
    let with_charts: std::collections::BTreeSet<&str> =
        model.charts.iter().filter_map(|c| c.component.as_deref()).collect();
    for ns in &model.namespaces {
        let Some(component) = ns.component.as_deref().filter(|c| with_charts.contains(c)) else { continue };
        if Model::is_system_namespace(&ns.name.value) {
            continue;
        }
        out.objects.push(Object::new(
            component_unit(component),
            &super::k8s::namespace(&ns.name.value, ns.pod_security.value),
        ));
    }
    for chart in &model.charts {
        let values = chart_values(model, chart);
        let unit = chart_unit(chart);
        match installer {
            ChartInstaller::Flux => {
                for object in flux(model, chart, values) {
                    out.objects.push(Object { unit: unit.clone(), value: object });
                }
            }
            ChartInstaller::Argocd => out.objects.push(Object { unit, value: argocd(chart, values) }),
            ChartInstaller::K3s => out.objects.push(Object { unit, value: k3s(chart, &values) }),
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

/// HelmRepository or OCIRepository, and the HelmRelease.
fn flux(model: &Model, chart: &Chart, values: Json) -> Vec<Json> {
    let interval = model
        .cluster_for(None)
        .and_then(|c| c.gitops.as_ref())
        .map_or_else(|| "10m".to_string(), |g| g.interval.value.to_string());
    let name = &chart.name.value;
    let ns = &chart.namespace.value;
    let crds = if chart.provides_crds { "CreateReplace" } else { "Skip" };
    let mut release = json!({
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": name, "namespace": ns, "labels": managed_labels()},
        "spec": {
            "interval": interval,
            "releaseName": name,
            "install": {"crds": crds, "remediation": {"retries": 3}},
            "upgrade": {"crds": crds, "remediation": {"retries": 3}},
        },
    });
    let source = match chart.repo.value.strip_prefix("oci://") {
        Some(registry) => {
            release["spec"]["chartRef"] = json!({"kind": "OCIRepository", "name": name});
            json!({
                "apiVersion": "source.toolkit.fluxcd.io/v1beta2",
                "kind": "OCIRepository",
                "metadata": {"name": name, "namespace": ns, "labels": managed_labels()},
                "spec": {
                    "interval": interval,
                    "url": format!("oci://{}/{}", registry.trim_end_matches('/'), chart.chart.value),
                    "ref": {"tag": chart.version.value},
                    "layerSelector": {"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "operation": "copy"},
                },
            })
        }
        None => {
            release["spec"]["chart"] = json!({"spec": {
                "chart": chart.chart.value,
                "version": chart.version.value,
                "sourceRef": {"kind": "HelmRepository", "name": name},
                "interval": interval,
            }});
            json!({
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "HelmRepository",
                "metadata": {"name": name, "namespace": ns, "labels": managed_labels()},
                "spec": {"interval": interval, "url": chart.repo.value},
            })
        }
    };
    if values.as_object().is_some_and(|v| !v.is_empty()) {
        release["spec"]["values"] = values;
    }
    vec![source, release]
}

/// An Argo CD Application with a helm source, in Argo CD's namespace.
fn argocd(chart: &Chart, values: Json) -> Json {
    let ns = &chart.namespace.value;
    let repo = chart.repo.value.strip_prefix("oci://").unwrap_or(&chart.repo.value).trim_end_matches('/');
    let mut helm = json!({"releaseName": chart.name.value});
    if values.as_object().is_some_and(|v| !v.is_empty()) {
        helm["valuesObject"] = values;
    }
    let mut sync_options = vec!["CreateNamespace=true"];
    if chart.provides_crds {
        // CRDs are often too large for the last-applied annotation of client-side apply.
        sync_options.push("ServerSideApply=true");
    }
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": application_name(chart), "namespace": ARGOCD_NAMESPACE, "labels": managed_labels()},
        "spec": {
            "project": "default",
            "source": {"repoURL": repo, "chart": chart.chart.value, "targetRevision": chart.version.value, "helm": helm},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": ns},
            "syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "syncOptions": sync_options},
        },
    })
}

/// The Application of a chart: named after the release, prefixed with the
/// namespace when the release name alone could clash (user charts).
fn application_name(chart: &Chart) -> String {
    match &chart.component {
        Some(_) => chart.name.value.clone(),
        None => format!("{}-{}", chart.namespace.value, chart.name.value),
    }
}

/// k3s's HelmChart (helm.cattle.io/v1), applied by k3s's helm-controller.
fn k3s(chart: &Chart, values: &Json) -> Json {
    let mut spec = json!({
        "chart": chart.chart.value,
        "version": chart.version.value,
        "targetNamespace": chart.namespace.value,
        "createNamespace": true,
    });
    match chart.repo.value.strip_prefix("oci://") {
        Some(_) => spec["chart"] = Json::String(format!("{}/{}", chart.repo.value, chart.chart.value)),
        None => spec["repo"] = Json::String(chart.repo.value.clone()),
    }
    if values.as_object().is_some_and(|v| !v.is_empty()) {
        spec["valuesContent"] = Json::String(crate::yaml::render_json(values));
    }
    json!({
        "apiVersion": "helm.cattle.io/v1",
        "kind": "HelmChart",
        "metadata": {"name": application_name(chart), "namespace": "kube-system", "labels": managed_labels()},
        "spec": spec,
    })
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
    fn an_oci_chart_gets_an_oci_repository_and_a_chart_ref() {
        let source = file(FLUX, OCI, "apps/shop/cache/ocirepository-cache.yaml");
        assert!(source.contains("url: oci://registry-1.docker.io/bitnamicharts/redis\n"), "{source}");
        assert!(source.contains("tag: 20.13.3\n"), "{source}");
        let release = file(FLUX, OCI, "apps/shop/cache/helmrelease-cache.yaml");
        assert!(release.contains("chartRef:\n    name: cache\n    kind: OCIRepository\n"), "{release}");
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
