//! Argo CD Applications (argoproj.io/v1alpha1): the one builder of the
//! Application that installs a Helm chart ([`super::charts`]) and of the
//! Applications that apply the tree's units ([`super::gitops`]).

use serde::Serialize;

use super::{Custom, CustomKind, managed_labels, meta};

/// The namespace Argo CD runs in (and holds its Applications).
pub const NAMESPACE: &str = "argocd";

/// The in-cluster API server, where every Application deploys to.
const IN_CLUSTER: &str = "https://kubernetes.default.svc";

/// An Argo CD Application.
#[derive(Debug, Serialize)]
pub struct Application {
    spec: ApplicationSpec,
}

impl CustomKind for Application {
    const API_VERSION: &'static str = "argoproj.io/v1alpha1";
    const KIND: &'static str = "Application";
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ApplicationSpec {
    project: &'static str,
    source: Source,
    destination: Destination,
    sync_policy: SyncPolicy,
}

/// Where an Application's manifests come from.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    #[serde(rename = "repoURL")]
    repo_url: String,
    target_revision: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chart: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    helm: Option<Helm>,
}

impl Source {
    /// A folder of a Git repository at a branch.
    pub fn git(repo: &str, branch: &str, path: String) -> Source {
        Source {
            repo_url: repo.to_string(),
            target_revision: branch.to_string(),
            path: Some(path),
            chart: None,
            helm: None,
        }
    }

    /// A chart of a Helm (or OCI, without the scheme) repository, with its
    /// release name and values.
    pub fn chart(repo: &str, chart: &str, version: &str, release: &str, values: serde_json::Value) -> Source {
        let values = values.as_object().is_some_and(|v| !v.is_empty()).then_some(values);
        Source {
            repo_url: repo.to_string(),
            target_revision: version.to_string(),
            path: None,
            chart: Some(chart.to_string()),
            helm: Some(Helm { release_name: release.to_string(), values_object: values }),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Helm {
    release_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    values_object: Option<serde_json::Value>,
}

#[derive(Debug, Serialize)]
struct Destination {
    server: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SyncPolicy {
    automated: Automated,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sync_options: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Automated {
    prune: bool,
    self_heal: bool,
}

/// An Application in Argo CD's namespace that keeps `source` applied
/// (pruning, healing), optionally into a namespace, with sync options and a
/// sync wave.
pub fn application(
    name: &str,
    source: Source,
    namespace: Option<&str>,
    sync_options: Vec<&'static str>,
    wave: Option<usize>,
) -> Custom<Application> {
    let mut metadata = meta(name, Some(NAMESPACE), managed_labels());
    if let Some(wave) = wave {
        metadata.annotations = Some([("argocd.argoproj.io/sync-wave".to_string(), wave.to_string())].into());
    }
    Custom::new(
        metadata,
        Application {
            spec: ApplicationSpec {
                project: "default",
                source,
                destination: Destination { server: IN_CLUSTER, namespace: namespace.map(str::to_string) },
                sync_policy: SyncPolicy { automated: Automated { prune: true, self_heal: true }, sync_options },
            },
        },
    )
}
