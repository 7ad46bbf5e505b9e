//! The layout of the output tree (SPEC §4): the one module that names files.
//!
//! Objects become `<unit>/<kind>-<name>.yaml`, one object per file, and every
//! unit folder gets a `kustomization.yaml` listing its files, so
//! `kubectl kustomize` builds each unit on its own. Plain files keep the path
//! their backend gave them. Everything is rendered through [`crate::yaml`].

use std::collections::BTreeMap;

use serde::Serialize;

use crate::backend::{Artifacts, Object};
use crate::output::OutputTree;
use crate::par;
use crate::yaml;

/// The name of the kustomization file of a unit folder.
pub const KUSTOMIZATION: &str = "kustomization.yaml";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Kustomization {
    api_version: &'static str,
    kind: &'static str,
    resources: Vec<String>,
}

/// The file name of an object in its unit folder: `<kind>-<name>.yaml`, lowercase.
pub fn object_file_name(object: &Object) -> String {
    let kind = object.value.get("kind").and_then(|k| k.as_str()).unwrap_or("object");
    let name = object.value.pointer("/metadata/name").and_then(|n| n.as_str()).unwrap_or("unnamed");
    format!("{}-{}.yaml", kind.to_lowercase(), name.to_lowercase())
}

/// Lays the artifacts out as a tree. Two artifacts at one path are a bug in a
/// backend (user-level clashes are caught by the checks), reported as `Err`.
pub fn assemble(artifacts: Artifacts) -> Result<OutputTree, String> {
    let mut tree = OutputTree::new();
    let mut units: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // Each object is rendered and freed by the worker that renders it.
    let rendered = par::map_owned(artifacts.objects, |object| {
        let file = object_file_name(&object);
        let text = yaml::render_json(&object.value);
        (object.unit, file, text)
    });
    for (unit, file, text) in rendered {
        let path = format!("{unit}/{file}");
        tree.insert(&path, text).map_err(|e| format!("{path}: {e}"))?;
        units.entry(unit).or_default().push(file);
    }
    for raw in artifacts.raw {
        let path = match raw.unit {
            Some(unit) => {
                let path = format!("{unit}/{}", raw.path);
                units.entry(unit).or_default().push(raw.path);
                path
            }
            None => raw.path,
        };
        tree.insert(&path, raw.text).map_err(|e| format!("{path}: {e}"))?;
    }
    for (unit, folder) in &artifacts.nested {
        units.entry(unit.clone()).or_default().push(folder.clone());
    }
    for (unit, mut files) in units {
        files.sort();
        files.dedup();
        let kustomization =
            Kustomization { api_version: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources: files };
        let path = format!("{unit}/{KUSTOMIZATION}");
        tree.insert(&path, yaml::render(&kustomization)).map_err(|e| format!("{path}: {e}"))?;
    }
    for file in &artifacts.files {
        tree.insert(&file.path, yaml::render_json(&file.value)).map_err(|e| format!("{}: {e}", file.path))?;
    }
    Ok(tree)
}

/// The unit folder of a namespace's own objects (Namespace, NetworkPolicies).
pub fn namespace_unit(namespace: &str) -> String {
    format!("apps/{namespace}")
}

/// The unit folder of an app.
pub fn app_unit(namespace: &str, app: &str) -> String {
    format!("apps/{namespace}/{app}")
}

/// The unit folder of a stdlib component's objects.
pub fn component_unit(component: &str) -> String {
    format!("infrastructure/{component}")
}

/// The unit folder of a chart: its component's, or `apps/<namespace>/<chart>`.
pub fn chart_unit(chart: &crate::model::Chart) -> String {
    match &chart.component {
        Some(component) => component_unit(component),
        None => app_unit(&chart.namespace.value, &chart.name.value),
    }
}

/// The unit folder holding a namespace's Namespace object and secrets: the
/// owning component's, or `apps/<namespace>`.
pub fn namespace_home(model: &crate::model::Model, namespace: &str) -> String {
    match model.namespace_owner(namespace) {
        Some(component) => component_unit(component),
        None => namespace_unit(namespace),
    }
}

/// The folder of a pipeline's objects and CI files.
pub fn pipeline_unit(pipeline: &str) -> String {
    format!("pipelines/{pipeline}")
}

/// The folder of a Grafana folder's dashboards.
pub fn dashboard_unit(folder: &str) -> String {
    format!("dashboards/{folder}")
}

/// The folder of a namespace's PrometheusRule.
pub fn alert_unit(namespace: &str) -> String {
    format!("alerts/{namespace}")
}

/// The folder of a cluster's GitOps entry objects.
pub fn cluster_unit(cluster: &str) -> String {
    format!("clusters/{cluster}")
}

/// A unit as an object name: `apps/demo/web` → `apps-demo-web`.
pub fn unit_slug(unit: &str) -> String {
    unit.replace('/', "-")
}
