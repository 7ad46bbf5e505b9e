//! Which charts install the CRDs of which API groups: the one table the
//! dependency graph (a `manifest` object after the chart that installs its
//! kind) and the checks of the output use.
//!
//! Keyed by the upstream chart's name (`chart=`), so it holds for the stdlib
//! components' charts and for the same charts declared by hand.

use super::{Chart, Model};

/// Upstream charts and the API groups of the CRDs they install.
const CHART_GROUPS: &[(&str, &[&str])] = &[
    ("argo-cd", &["argoproj.io"]),
    ("apisix", &["apisix.apache.org"]),
    ("base", &["networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io"]),
    ("cert-manager", &["cert-manager.io", "acme.cert-manager.io"]),
    ("external-secrets", &["external-secrets.io", "generators.external-secrets.io"]),
    ("kube-prometheus-stack", &["monitoring.coreos.com"]),
    ("metallb", &["metallb.io"]),
    ("sealed-secrets", &["bitnami.com"]),
    ("tekton-pipeline", &["tekton.dev"]),
];

/// The API groups whose CRDs an upstream chart installs (empty when unknown).
pub fn groups_of(chart: &str) -> &'static [&'static str] {
    CHART_GROUPS.iter().find(|(name, _)| *name == chart).map_or(&[], |(_, groups)| groups)
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
    }
}
