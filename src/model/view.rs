//! Several clusters in one description: each cluster's view of the model.
//!
//! With more than one cluster, every declaration that lives in a cluster
//! names it (`cluster=`), and the later phases — stdlib components, the
//! checks that hold per cluster, the backends — run on one [`Model::view`]
//! per cluster, which looks like a description of that cluster alone: its
//! own declarations, and those all clusters share (the homelab, networks,
//! namespaces' Pod Security levels, registries without `cluster=`). A view
//! knows its cluster ([`Model::scope`]), so the identities and output paths
//! it makes name the cluster.

use super::{Model, Name};

impl Model {
    /// The view of one cluster (see the module documentation). Declarations
    /// without `cluster=`, or naming an unknown cluster, are in no view: the
    /// checks report them (E0112, E0201).
    pub fn view(&self, cluster: &str) -> Model {
        let here = |c: &Option<Name>| c.as_ref().is_some_and(|c| c.value == cluster);
        let shared = |c: &Option<Name>| c.as_ref().is_none_or(|c| c.value == cluster);
        Model {
            homelab: self.homelab.clone(),
            networks: self.networks.clone(),
            clusters: self.clusters.iter().filter(|c| c.name.value == cluster).cloned().collect(),
            nodes: self.nodes.iter().filter(|d| here(&d.cluster)).cloned().collect(),
            pools: self.pools.iter().filter(|d| here(&d.cluster)).cloned().collect(),
            registries: self.registries.iter().filter(|d| shared(&d.cluster)).cloned().collect(),
            namespaces: self.namespaces.clone(),
            apps: self.apps.iter().filter(|d| here(&d.cluster)).cloned().collect(),
            charts: self.charts.iter().filter(|d| here(&d.cluster)).cloned().collect(),
            secrets: self.secrets.iter().filter(|d| here(&d.cluster)).cloned().collect(),
            secret_stores: self.secret_stores.iter().filter(|d| here(&d.cluster)).cloned().collect(),
            issuers: self.issuers.iter().filter(|d| here(&d.cluster)).cloned().collect(),
            gateways: self.gateways.iter().filter(|d| here(&d.cluster)).cloned().collect(),
            dns: self.dns.iter().filter(|d| here(&d.cluster)).cloned().collect(),
            tunnels: self.tunnels.iter().filter(|d| here(&d.cluster)).cloned().collect(),
            pipelines: self.pipelines.iter().filter(|d| here(&d.cluster)).cloned().collect(),
            dashboards: self.dashboards.iter().filter(|d| here(&d.cluster)).cloned().collect(),
            alerts: self.alerts.iter().filter(|d| here(&d.cluster)).cloned().collect(),
            claims: self.claims.iter().filter(|d| here(&d.cluster)).cloned().collect(),
            storage_classes: self.storage_classes.iter().filter(|d| here(&d.cluster)).cloned().collect(),
            backups: self.backups.iter().filter(|d| here(&d.cluster)).cloned().collect(),
            manifests: self.manifests.iter().filter(|d| here(&d.cluster)).cloned().collect(),
            uses: self.uses.iter().filter(|d| here(&d.cluster)).cloned().collect(),
            components: Vec::new(),
            attachments: self.attachments.clone(),
            scope: Some(cluster.to_string()),
        }
    }
}
