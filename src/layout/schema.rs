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
    let mut out = String::new();
    push_url(&mut out, api_version, kind).then_some(out)
}

/// Writes the schema's address of objects of `api_version` and `kind` to
/// `out`, if a public one exists; whether it did. Every object file's first
/// line comes from here: pieces pushed, not formatted.
fn push_url(out: &mut String, api_version: &str, kind: &str) -> bool {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let push_kind = |out: &mut String| {
        let at = out.len();
        out.push_str(kind);
        out[at..].make_ascii_lowercase();
    };
    if BUILT_IN.contains(&group) {
        // `<kind>-<version>.json`, `<kind>-<group's first word>-<version>.json`.
        out.push_str(KUBERNETES);
        out.push('/');
        push_kind(out);
        out.push('-');
        if let Some(group) = group.split('.').next().filter(|group| !group.is_empty()) {
            out.push_str(group);
            out.push('-');
        }
        out.push_str(version);
        out.push_str(".json");
        return true;
    }
    if group == "kustomize.config.k8s.io" && kind.eq_ignore_ascii_case("kustomization") {
        out.push_str(KUSTOMIZATION);
        return true;
    }
    if CATALOGUED.contains(&group) {
        // `<group>/<kind>_<version>.json`.
        for piece in [CATALOG, "/", group, "/"] {
            out.push_str(piece);
        }
        push_kind(out);
        out.push('_');
        out.push_str(version);
        out.push_str(".json");
        return true;
    }
    false
}

/// Writes the first line of a file holding one object of `api_version` and
/// `kind` to `out`, ending in a line break, or nothing.
pub fn push_comment(out: &mut String, api_version: &str, kind: &str) {
    const START: &str = "# yaml-language-server: $schema=";
    let at = out.len();
    out.push_str(START);
    if push_url(out, api_version, kind) {
        out.push('\n');
    } else {
        out.truncate(at);
    }
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
        let mut out = "kept\n".to_string();
        push_comment(&mut out, "tekton.dev/v1", "Task");
        push_comment(&mut out, "policy/v1", "PodDisruptionBudget");
        push_comment(&mut out, "v1", "ConfigMap");
        assert_eq!(
            out,
            format!(
                "kept\n# yaml-language-server: $schema={KUBERNETES}/poddisruptionbudget-policy-v1.json\n\
                 # yaml-language-server: $schema={KUBERNETES}/configmap-v1.json\n"
            )
        );
    }
}
