//! Which charts install the CRDs of which API groups: the one table the
//! dependency graph (a `manifest` object after the chart that installs its
//! kind) and the checks of the output use.
//!
//! Keyed by the upstream chart's name (`chart=`), so it holds for the stdlib
//! components' charts and for the same charts declared by hand. Projects
//! without a chart ship release manifests instead: [`groups_of_release`]
//! knows which API groups those install, by URL, for a Job that applies them
//! (the tekton component's installer Job).

use super::{Chart, Model};

/// Upstream charts and the API groups of the CRDs they install.
const CHART_GROUPS: &[(&str, &[&str])] = &[
    ("argo-cd", &["argoproj.io"]),
    ("apisix", &["apisix.apache.org"]),
    ("base", &["networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io"]),
    ("cert-manager", &["cert-manager.io", "acme.cert-manager.io"]),
    ("external-dns", &["externaldns.k8s.io"]),
    ("external-secrets", &["external-secrets.io", "generators.external-secrets.io"]),
    ("gateway-helm", &["gateway.networking.k8s.io", "gateway.envoyproxy.io"]),
    ("kube-prometheus-stack", &["monitoring.coreos.com"]),
    ("metallb", &["metallb.io"]),
    ("sealed-secrets", &["bitnami.com"]),
    ("snapshot-controller", &["snapshot.storage.k8s.io", "groupsnapshot.storage.k8s.io"]),
    ("tekton-pipeline", &["tekton.dev"]),
    ("volsync", &["volsync.backube"]),
];

/// The API groups whose CRDs an upstream chart installs (empty when unknown).
pub fn groups_of(chart: &str) -> &'static [&'static str] {
    CHART_GROUPS.iter().find(|(name, _)| *name == chart).map_or(&[], |(_, groups)| groups)
}

/// Where Tekton Triggers' releases are served (`previous/<version>/release.yaml`
/// and `interceptors.yaml`).
pub const TEKTON_TRIGGERS_RELEASES: &str = "https://infra.tekton.dev/tekton-releases/triggers/";

/// Where the Tekton Dashboard's releases are served (`previous/<version>/release.yaml`).
pub const TEKTON_DASHBOARD_RELEASES: &str = "https://infra.tekton.dev/tekton-releases/dashboard/";

/// Release manifests, by the URL prefix of their releases, and the API groups
/// of the CRDs they install.
const RELEASE_GROUPS: &[(&str, &[&str])] =
    &[(TEKTON_TRIGGERS_RELEASES, &["triggers.tekton.dev"]), (TEKTON_DASHBOARD_RELEASES, &["dashboard.tekton.dev"])];

/// The API groups whose CRDs a known release manifest installs (empty when unknown).
pub fn groups_of_release(url: &str) -> &'static [&'static str] {
    RELEASE_GROUPS.iter().find(|(prefix, _)| url.starts_with(prefix)).map_or(&[], |(_, groups)| groups)
}

impl Model {
    /// The chart of the description (declared or a component's) that
    /// installs the CRDs of an API group, when one is known to.
    pub fn crd_chart(&self, group: &str) -> Option<&Chart> {
        self.charts.iter().find(|c| groups_of(&c.chart.value).contains(&group))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_has_one_chart() {
        let mut groups: Vec<&str> = CHART_GROUPS.iter().flat_map(|(_, g)| g.iter().copied()).collect();
        let all = groups.len();
        groups.sort_unstable();
        groups.dedup();
        assert_eq!(groups.len(), all);
        assert_eq!(groups_of("metallb"), ["metallb.io"]);
        assert!(groups_of("nginx").is_empty());
        let triggers = format!("{TEKTON_TRIGGERS_RELEASES}previous/v0.34.0/interceptors.yaml");
        assert_eq!(groups_of_release(&triggers), ["triggers.tekton.dev"]);
        assert!(groups_of_release("https://example.com/release.yaml").is_empty());
    }
}
