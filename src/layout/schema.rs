//! The first line of a generated object file, `# yaml-language-server:
//! $schema=URL`, for editors (the YAML language server, as home-ops
//! repositories write it): where a public JSON Schema of the object's kind
//! exists. Kubernetes' own kinds come from yannh/kubernetes-json-schema (what
//! kubeconform reads), custom resources from datreeio/CRDs-catalog, each
//! group listed here only with the kinds homelabc writes checked in it, and
//! kustomize's `kustomization.yaml` from SchemaStore (as home-ops repositories
//! point at it; the catalog's copy has an address twice as long, written in
//! every folder of the tree). Tekton's groups have no public schema, and get
//! no line.

/// Kubernetes' own kinds, strict (unknown fields are errors).
const KUBERNETES: &str =
    "https://raw.githubusercontent.com/yannh/kubernetes-json-schema/master/master-standalone-strict";

/// Custom resources, `<group>/<kind>_<version>.json`.
const CATALOG: &str = "https://raw.githubusercontent.com/datreeio/CRDs-catalog/main";

/// kustomize's own file, `kustomize.config.k8s.io` `Kustomization`, in SchemaStore.
const KUSTOMIZATION: &str = "https://json.schemastore.org/kustomization.json";

/// The API groups of Kubernetes itself (`""` is the core group).
const BUILT_IN: &[&str] = &[
    "",
    "apps",
    "autoscaling",
    "batch",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
];

/// The custom resource groups the catalog holds every kind homelabc writes of.
const CATALOGUED: &[&str] = &[
    "argoproj.io",
    "bitnami.com",
    "cert-manager.io",
    "external-secrets.io",
    "externaldns.k8s.io",
    "gateway.networking.k8s.io",
    "helm.cattle.io",
    "helm.toolkit.fluxcd.io",
    "kustomize.toolkit.fluxcd.io",
    "metallb.io",
    "monitoring.coreos.com",
    "security.istio.io",
    "snapshot.storage.k8s.io",
    "source.toolkit.fluxcd.io",
    "volsync.backube",
];

/// The schema of objects of `api_version` and `kind`, if a public one exists.
pub fn url(api_version: &str, kind: &str) -> Option<String> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let kind = kind.to_ascii_lowercase();
    if BUILT_IN.contains(&group) {
        let group = group.split('.').next().unwrap_or_default();
        return Some(match group {
            "" => format!("{KUBERNETES}/{kind}-{version}.json"),
            group => format!("{KUBERNETES}/{kind}-{group}-{version}.json"),
        });
    }
    if (group, kind.as_str()) == ("kustomize.config.k8s.io", "kustomization") {
        return Some(KUSTOMIZATION.to_string());
    }
    CATALOGUED.contains(&group).then(|| format!("{CATALOG}/{group}/{kind}_{version}.json"))
}

/// The line for an object file, ending in a line break, or nothing.
pub fn comment(api_version: &str, kind: &str) -> String {
    url(api_version, kind).map(|url| format!("# yaml-language-server: $schema={url}\n")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_kinds_and_custom_resources() {
        assert_eq!(url("v1", "ConfigMap").as_deref(), Some(&*format!("{KUBERNETES}/configmap-v1.json")));
        assert_eq!(
            url("networking.k8s.io/v1", "NetworkPolicy").as_deref(),
            Some(&*format!("{KUBERNETES}/networkpolicy-networking-v1.json"))
        );
        assert_eq!(
            url("autoscaling/v2", "HorizontalPodAutoscaler").as_deref(),
            Some(&*format!("{KUBERNETES}/horizontalpodautoscaler-autoscaling-v2.json"))
        );
        assert_eq!(
            url("helm.toolkit.fluxcd.io/v2", "HelmRelease").as_deref(),
            Some(&*format!("{CATALOG}/helm.toolkit.fluxcd.io/helmrelease_v2.json"))
        );
        assert_eq!(url("kustomize.config.k8s.io/v1beta1", "Kustomization").as_deref(), Some(KUSTOMIZATION));
        assert_eq!(url("tekton.dev/v1", "Pipeline"), None);
        assert_eq!(comment("tekton.dev/v1", "Task"), "");
    }
}
