//! Storage checks, per cluster: every `storage-class=`, `claim=` and
//! `backup=` names something of the cluster (E0201, with a did-you-mean); at
//! most one default class (E1101, W1101 beside the distribution's); claims
//! mounted as their access mode allows (E1102, E1103, W1102); NFS servers on
//! a declared network (W1103); claims something mounts (W0501); the CSI
//! drivers of declared classes installed by a declared chart (W1106). The backups'
//! own checks are in [`super::backups`].
//!
//! NFS volumes are mounted by the kubelet, in the node's network namespace:
//! the traffic leaves from the node's address, so no NetworkPolicy of the pod
//! applies to it (the pod needs no `egress` to its server, and a default-deny
//! policy does not block it), but the nodes must reach the server.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::diag::{Code, Diagnostic};
use crate::model::{AccessMode, App, Claim, Distribution, Model, Name, Stored, VolumeSource, WorkloadKind};
use crate::source::Span;
use crate::suggest;

/// Runs the storage checks on one cluster's model.
pub fn check(model: &Model, diags: &mut Vec<Diagnostic>) {
    let Some(cluster) = model.cluster_for(None) else { return };
    let distribution = cluster.distribution.value;
    for volume in model.stored_volumes() {
        if let Some(class) = volume.storage_class() {
            diags.extend(unknown_class(model, distribution, class));
        }
    }
    defaults(model, distribution, diags);
    for class in &model.storage_classes {
        diags.extend(driver(model, class));
    }
    for app in &model.apps {
        for volume in &app.volumes {
            match &volume.source {
                VolumeSource::Claim(name) => diags.extend(claim_ref(model, app, name)),
                VolumeSource::Nfs { server, .. } => diags.extend(nfs_server(model, &server.value, server.span)),
                VolumeSource::Own(_) | VolumeSource::HostPath(_) | VolumeSource::EmptyDir { .. } => {}
            }
        }
    }
    let nodes = model.nodes_of(cluster).count();
    for claim in &model.claims {
        access(model, claim, nodes, distribution, diags);
    }
}

/// The apps of a claim's namespace that mount it, with the volume that does.
fn mounts<'m>(model: &'m Model, claim: &Claim) -> Vec<(&'m App, &'m crate::model::Volume)> {
    let mut found = Vec::new();
    for app in model.apps_in(&claim.namespace.value) {
        for volume in &app.volumes {
            if matches!(&volume.source, VolumeSource::Claim(c) if c.value == claim.name.value) {
                found.push((app, volume));
            }
        }
    }
    found
}

/// E0201 for a `storage-class=` that is none of the cluster's classes.
fn unknown_class(model: &Model, distribution: Distribution, class: &Name) -> Option<Diagnostic> {
    if model.storage_class_source(&class.value).is_some() {
        return None;
    }
    let known = model.storage_class_names();
    let default = match distribution.storage_class() {
        Some(builtin) => format!("the cluster's default `{builtin}`"),
        None => "the cluster's declared default class".to_string(),
    };
    let help = suggest::help_for(&class.value, &known, "storage classes").map_or_else(
        || {
            format!(
                "declare it with the CSI driver's name: `storage-class \"{}\" provisioner=\"...\"` (and the driver's chart), \
                 or leave `storage-class=` out for {default}",
                class.value
            )
        },
        |h| format!("{h} (without `storage-class=`, a claim gets {default})"),
    );
    Some(
        Diagnostic::new(Code::E0201, format!("unknown storage class `{}`", class.value))
            .primary(class.span, format!("no storage class named `{}` in this cluster", class.value))
            .help(help),
    )
}

/// E1101 for a second declared default class; W1101 for a declared default
/// beside the one the distribution ships.
fn defaults(model: &Model, distribution: Distribution, diags: &mut Vec<Diagnostic>) {
    let declared: Vec<(&crate::model::StorageClass, Span)> = model
        .storage_classes
        .iter()
        .filter_map(|c| c.default.as_ref().filter(|d| d.value).map(|d| (c, d.span)))
        .collect();
    let Some(((first, first_span), rest)) = declared.split_first() else { return };
    for (class, span) in rest {
        diags.push(
            Diagnostic::new(
                Code::E1101,
                format!("storage classes `{}` and `{}` are both the default", first.name.value, class.name.value),
            )
            .primary(*span, "a second default class")
            .secondary(*first_span, format!("`{}` is the default already", first.name.value))
            .help(format!(
                "a cluster has one default class, which claims without `storage-class=` get: keep \
                 `default=#true` on one of them and name the other where it is wanted (`storage-class=\"{}\"`)",
                class.name.value
            )),
        );
    }
    let Some(builtin) = distribution.storage_class() else { return };
    let how = match distribution {
        // Talos ships no class: a declared default is the only one.
        Distribution::Talos => return,
        Distribution::K3s => {
            "start the k3s servers with `--disable local-storage` (claims of `local-path` are then no longer provisioned), or annotate it `storageclass.kubernetes.io/is-default-class: \"false\"`"
        }
        Distribution::Kind => {
            "annotate it `storageclass.kubernetes.io/is-default-class: \"false\"` (`kubectl annotate storageclass standard ... --overwrite`)"
        }
    };
    diags.push(
        Diagnostic::new(
            Code::W1101,
            format!("`{}` is a second default storage class beside {distribution}'s `{builtin}`", first.name.value),
        )
        .primary(*first_span, format!("default beside `{builtin}`"))
        .help(format!(
            "claims that name no class (a chart's too) get the newest default, which is `{}` once it is created; \
             to make it the only default, {how}; or set `default=#false` and name the class where it is wanted",
            first.name.value
        )),
    );
}

/// W1106 for a class whose CSI driver is a known chart the description does
/// not install.
fn driver(model: &Model, class: &crate::model::StorageClass) -> Option<Diagnostic> {
    let provisioner = &class.provisioner;
    let chart = crate::model::storage::driver_chart(&provisioner.value)?;
    if model.charts.iter().any(|c| c.chart.value == chart) {
        return None;
    }
    Some(
        Diagnostic::new(
            Code::W1106,
            format!("the CSI driver `{}` of storage class `{}` is installed by nothing in the description", provisioner.value, class.name.value),
        )
        .primary(provisioner.span, format!("installed by the `{chart}` chart"))
        .help(format!(
            "claims of this class stay Pending until the driver runs: declare its chart (`chart \"{chart}\" namespace=\"...\" \
             repo=\"...\" chart=\"{chart}\" version=\"...\"`; drivers are not pulled in by need), unless it is installed outside \
             the description"
        )),
    )
}

/// E0201 for a `claim=` naming no claim of the app's namespace.
fn claim_ref(model: &Model, app: &App, name: &Name) -> Option<Diagnostic> {
    let ns = &app.namespace.value;
    if model.claim(ns, &name.value).is_some() {
        return None;
    }
    let elsewhere: Vec<&Claim> = model.claims.iter().filter(|c| c.name.value == name.value).collect();
    if elsewhere.is_empty() {
        let here: Vec<&str> =
            model.claims.iter().filter(|c| &c.namespace.value == ns).map(|c| c.name.value.as_str()).collect();
        let help = suggest::help_for(&name.value, &here, &format!("claims of namespace `{ns}`")).unwrap_or_else(|| {
            format!("declare it: `claim \"{}\" namespace=\"{ns}\" size=\"...\" access=\"ReadWriteMany\"`", name.value)
        });
        return Some(
            Diagnostic::new(Code::E0201, format!("unknown claim `{}`", name.value))
                .primary(name.span, format!("no claim named `{}` in namespace `{ns}`", name.value))
                .help(help),
        );
    }
    let mut diag = Diagnostic::new(Code::E0201, format!("claim `{}` is not declared in namespace `{ns}`", name.value))
        .primary(name.span, format!("app `{}` runs in namespace `{ns}`", app.name.value))
        .help(format!(
            "a pod can only mount claims of its own namespace: declare the claim in `{ns}`, or move the app to the claim's namespace"
        ));
    for claim in elsewhere {
        diag = diag.secondary(claim.name.span, format!("declared in namespace `{}`", claim.namespace.value));
    }
    Some(diag)
}

/// Whether a `claim=` that does not resolve probably means this claim: it
/// names it from another namespace, or misspells it in its own (the
/// reference already has an E0201).
fn misnamed(model: &Model, claim: &Claim) -> bool {
    let names: Vec<&str> = model
        .claims
        .iter()
        .filter(|c| c.namespace.value == claim.namespace.value)
        .map(|c| c.name.value.as_str())
        .collect();
    model.apps.iter().flat_map(|a| a.volumes.iter().map(move |v| (a, v))).any(|(app, volume)| {
        let VolumeSource::Claim(name) = &volume.source else { return false };
        if model.claim(&app.namespace.value, &name.value).is_some() {
            return false;
        }
        let elsewhere = name.value == claim.name.value && app.namespace.value != claim.namespace.value;
        let close = app.namespace.value == claim.namespace.value
            && suggest::did_you_mean(&name.value, names.iter().copied()) == Some(claim.name.value.as_str());
        elsewhere || close
    })
}

/// How many pods of an app may mount a volume at once: `None` for "one per
/// node" (a DaemonSet).
fn pods(app: &App) -> Option<u32> {
    match app.workload() {
        WorkloadKind::Daemonset => None,
        WorkloadKind::Deployment | WorkloadKind::Statefulset => {
            Some(app.autoscale.as_ref().map_or(app.replicas.value, |a| a.max.value.max(a.min.value)))
        }
        WorkloadKind::Cronjob | WorkloadKind::Job => Some(1),
    }
}

/// The one node an app's pods run on, when it pins them.
fn pinned(app: &App) -> Option<&str> {
    app.node.as_ref().map(|n| n.value.as_str()).or_else(|| {
        (app.node_selector.iter().find(|(k, _)| k.value == crate::model::HOSTNAME_LABEL)).map(|(_, v)| v.value.as_str())
    })
}

/// The access-mode checks of one claim, and W0501 when nothing mounts it.
fn access(model: &Model, claim: &Claim, nodes: usize, distribution: Distribution, diags: &mut Vec<Diagnostic>) {
    let mounts = mounts(model, claim);
    let name = &claim.name.value;
    if mounts.is_empty() && !misnamed(model, claim) {
        diags.push(
            Diagnostic::new(Code::W0501, format!("claim `{name}` in namespace `{}` is never used", claim.namespace.value))
                .primary(claim.name.span, "declared here but no app mounts it")
                .help(format!(
                    "mount it from an app of namespace `{}` with `volume \"NAME\" mount=\"/path\" claim=\"{name}\"`, or remove it \
                     (removing it deletes its volume: `build` then asks for `--allow-destroy {name}`)",
                    claim.namespace.value
                )),
        );
        return;
    }
    if mounts.is_empty() {
        return;
    }
    let total: Option<u32> = mounts.iter().try_fold(0u32, |sum, (app, _)| Some(sum.saturating_add(pods(app)?)));
    let several = total.is_none_or(|t| t > 1);
    let mode = claim.access.value;
    let with = |diag: Diagnostic| {
        mounts.iter().fold(diag, |d, (app, volume)| {
            let what = match pods(app) {
                None => format!("mounted by every pod of DaemonSet `{}`", app.name.value),
                Some(1) => format!("mounted by app `{}`", app.name.value),
                Some(n) => format!("mounted by up to {n} pods of app `{}`", app.name.value),
            };
            d.secondary(volume.name.span, what)
        })
    };
    match mode {
        AccessMode::ReadWriteOncePod if several => diags.push(with(
            Diagnostic::new(Code::E1102, format!("claim `{name}` is ReadWriteOncePod but more than one pod mounts it"))
                .primary(claim.access.span, "one pod at a time")
                .help(format!(
                    "only the first pod gets the volume, the others never start: mount `{name}` from one app with one \
                     replica, or make it `access=\"ReadWriteMany\"` on storage that shares it (NFS)"
                )),
        )),
        AccessMode::ReadOnlyMany => {
            for (app, volume) in mounts.iter().filter(|(_, v)| !v.is_read_only()) {
                diags.push(
                    Diagnostic::new(
                        Code::E1103,
                        format!("claim `{name}` is ReadOnlyMany but app `{}` mounts it writable", app.name.value),
                    )
                    .primary(volume.name.span, "mounted read-write")
                    .secondary(claim.access.span, "read-only for every pod")
                    .help(
                        "add `read-only=#true` to the volume, or make the claim `access=\"ReadWriteMany\"` if the app writes to it",
                    ),
                );
            }
        }
        AccessMode::ReadWriteOnce if several && nodes > 1 => {
            // A node-local class (the distribution's local-path) pins every
            // pod to the volume's node, so they share it there.
            let class = model.class_of(&Stored::Shared(claim));
            let node_local = class.is_some() && class == distribution.storage_class();
            let mut pinned_to: Vec<Option<&str>> = mounts.iter().map(|(a, _)| pinned(a)).collect();
            pinned_to.dedup();
            let one_node = matches!(pinned_to.as_slice(), [Some(_)]);
            if !node_local && !one_node {
                diags.push(with(
                    Diagnostic::new(
                        Code::W1102,
                        format!("claim `{name}` is ReadWriteOnce but its pods may run on different nodes"),
                    )
                    .primary(claim.name.span, "ReadWriteOnce: one node at a time")
                    .help(
                        "a ReadWriteOnce volume attaches to one node: a pod scheduled on another waits forever \
                         (Multi-Attach error). Pin the apps to one node (`node=\"...\"`), or make the claim \
                         `access=\"ReadWriteMany\"` on storage that shares it (NFS)",
                    ),
                ));
            }
        }
        AccessMode::ReadWriteOnce | AccessMode::ReadWriteOncePod | AccessMode::ReadWriteMany => {}
    }
}

/// W1103 for an NFS server given as an address outside every declared network.
fn nfs_server(model: &Model, server: &str, span: Span) -> Option<Diagnostic> {
    let ip: IpAddr = server.parse().ok()?;
    if model.networks.is_empty() || model.networks.iter().any(|n| n.cidr.value.contains(&ip)) {
        return None;
    }
    let networks: BTreeMap<&str, String> =
        model.networks.iter().map(|n| (n.name.value.as_str(), n.cidr.value.to_string())).collect();
    let list = networks.iter().map(|(n, c)| format!("`{n}` ({c})")).collect::<Vec<_>>().join(", ");
    Some(
        Diagnostic::new(Code::W1103, format!("NFS server {ip} is on none of the declared networks"))
            .primary(span, "mounted from here")
            .help(format!(
                "the nodes mount the export themselves (no NetworkPolicy applies to it): they must route to {ip}. \
                 Declare its network (`network \"nas\" cidr=\"...\"`) if they do, or fix the address; the declared \
                 networks are {list}"
            )),
    )
}
