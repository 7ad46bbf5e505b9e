//! Backups (SPEC §2.5): for every claim that holds a backed-up volume, a
//! VolSync ReplicationSource (restic, on the backup's schedule, with its
//! retention) and, where the claim is restored on create, a
//! ReplicationDestination its `dataSourceRef` names.
//!
//! One claim, one restic repository (`<repository>/<namespace>/<claim>`, see
//! [`crate::model::BackedUp::repository`]). VolSync reads the repository
//! from the secret (`RESTIC_REPOSITORY`), so a backup whose secret comes from
//! a store gets, per claim, an ExternalSecret `<claim>-restic`: the same
//! store entry (the password and the storage credentials) with the claim's
//! repository merged in. Any other secret is mounted as it is: it must hold
//! its one volume's repository (the checks refuse one such secret for
//! several volumes, E1104).
//!
//! The objects sit in the unit of what holds the volume (the app, or the
//! claim's namespace), made for it alone: the graph orders that unit after
//! VolSync's (the volume's edge to the component). A backup is a setting of
//! the volumes that name it, not a unit of its own (it would tie the units of
//! all its volumes into one cycle); the inventory, which lists it with its
//! volumes, is its file. The movers VolSync
//! starts run as the app's user and group so that they read and write its
//! files, under the Pod Security level of the volume's namespace.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{PodSecurityContext, TypedObjectReference};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde::Serialize;

use super::{Artifacts, Custom, CustomKind, Origin, managed_labels, meta};
use crate::layout::Unit;
use crate::model::{BackedUp, CopyMethod, KeepPeriod, Model, Stored, Word};

/// The API group of VolSync's kinds.
pub const API_GROUP: &str = "volsync.backube";
const API_VERSION: &str = "volsync.backube/v1alpha1";

/// The manual trigger a restore runs once with.
const RESTORE_ONCE: &str = "restore-once";

/// How often restic prunes a repository (VolSync's default, written out).
const PRUNE_INTERVAL_DAYS: u32 = 7;

/// The name of the ReplicationDestination a claim is restored from.
pub fn restore_name(claim: &str) -> String {
    format!("{claim}-restore")
}

/// The name of the Secret a claim's mover reads when the backup's secret
/// comes from a store: the entry, with the claim's repository.
pub fn repository_secret_name(claim: &str) -> String {
    format!("{claim}-restic")
}

/// The `dataSourceRef` of a volume's claim, when it is restored on create:
/// its ReplicationDestination, which VolSync's volume populator fills it from.
/// `claim` is the claim's name (the first replica's for a claim template).
pub fn restore_ref(model: &Model, volume: &Stored<'_>) -> Option<TypedObjectReference> {
    let backup = model.backup(&volume.backup()?.value)?;
    let claim = volume.claim_names().into_iter().next()?;
    volume.restores_on_create(backup).then(|| TypedObjectReference {
        api_group: Some(API_GROUP.into()),
        kind: "ReplicationDestination".into(),
        name: restore_name(&claim),
        namespace: None,
    })
}

/// Emits every backed-up claim's objects.
pub fn emit(model: &Model, out: &mut Artifacts) {
    for backed in model.backed_up() {
        let (origin, unit) = home(model, &backed.volume);
        let security = mover_security(model, &backed.volume);
        let secret = model
            .secrets
            .iter()
            .find(|s| s.name.value == backed.backup.secret.value && s.namespace.value == backed.volume.namespace());
        for claim in backed.volume.claim_names() {
            let namespace = backed.volume.namespace();
            let repository = backed.repository(&claim);
            let data: BTreeMap<String, String> = [("RESTIC_REPOSITORY".to_string(), repository)].into();
            let name = repository_secret_name(&claim);
            let external = secret.and_then(|s| super::secrets::external_with(s, &name, data));
            let repository_secret = if external.is_some() { name } else { backed.backup.secret.value.clone() };
            if let Some(external) = external {
                out.object(&origin, &unit, external);
            }
            let restic = Restic::new(&backed, &repository_secret, security.clone());
            out.object(&origin, &unit, source(namespace, &claim, &backed, restic.clone()));
            if backed.volume.restores_on_create(backed.backup) {
                out.object(&origin, &unit, destination(namespace, &claim, &backed, restic));
            }
        }
    }
}

/// The declaration and unit a volume's objects belong to: its app's, or its
/// claim's namespace's.
fn home(model: &Model, volume: &Stored<'_>) -> (Origin, Unit) {
    match volume {
        Stored::Own { app, .. } => (Origin::of(app.id(model)), Unit::app(model, app)),
        Stored::Shared(claim) => {
            let scope = model.cluster_key(claim.cluster.as_ref());
            (Origin::of(claim.id(model)), Unit::namespace_home(model, scope, &claim.namespace.value))
        }
    }
}

/// The pod security context of the movers: the user and group of the app
/// that owns the volume, or of the first app mounting a shared claim
/// (65532 when none does), like the app's own pods
/// ([`super::k8s::restricted_pod`]; a root app's movers say so).
fn mover_security(model: &Model, volume: &Stored<'_>) -> PodSecurityContext {
    let app = match volume {
        Stored::Own { app, .. } => Some(*app),
        Stored::Shared(claim) => model.apps.iter().find(|a| {
            a.namespace.value == claim.namespace.value
                && a.volumes
                    .iter()
                    .any(|v| matches!(&v.source, crate::model::VolumeSource::Claim(c) if c.value == claim.name.value))
        }),
    };
    let user = app.and_then(|a| a.run_as_user.as_ref()).map_or(super::k8s::DEFAULT_USER, |u| u.value);
    let group = app.and_then(|a| a.run_as_group.as_ref()).map_or(user, |g| g.value);
    PodSecurityContext {
        run_as_non_root: Some(user != 0),
        run_as_group: Some(group),
        fs_group: Some(group),
        ..super::k8s::restricted_pod(user)
    }
}

/// The restic cache of a mover: a twentieth of the volume, from 1Gi to 10Gi
/// (restic's cache holds the repository's index and trees, not the data).
fn cache_capacity(size: &crate::model::Quantity) -> Quantity {
    const GI: u128 = 1000 << 30;
    let gibibytes = size.millis.div_ceil(20 * GI).clamp(1, 10);
    Quantity(format!("{gibibytes}Gi"))
}

/// `ReplicationSource`: backs a claim up on a schedule.
#[derive(Debug, Serialize)]
struct ReplicationSource {
    spec: SourceSpec,
}

impl CustomKind for ReplicationSource {
    const API_VERSION: &'static str = API_VERSION;
    const KIND: &'static str = "ReplicationSource";
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SourceSpec {
    #[serde(rename = "sourcePVC")]
    source_pvc: String,
    trigger: Trigger,
    restic: Restic,
}

/// When a copy runs: on a schedule, or once per value of `manual`.
#[derive(Debug, Serialize)]
struct Trigger {
    #[serde(skip_serializing_if = "Option::is_none")]
    schedule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    manual: Option<&'static str>,
}

/// The restic settings a source and a destination share, and those of each.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Restic {
    /// The Secret holding `RESTIC_REPOSITORY`, `RESTIC_PASSWORD` and the
    /// storage's credentials.
    repository: String,
    copy_method: &'static str,
    cache_capacity: Quantity,
    mover_security_context: PodSecurityContext,
    #[serde(skip_serializing_if = "Option::is_none")]
    prune_interval_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retain: Option<Retain>,
    #[serde(skip_serializing_if = "Option::is_none")]
    capacity: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_modes: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_class_name: Option<String>,
    #[serde(rename = "cleanupCachePVC", skip_serializing_if = "Option::is_none")]
    cleanup_cache_pvc: Option<bool>,
    #[serde(rename = "cleanupTempPVC", skip_serializing_if = "Option::is_none")]
    cleanup_temp_pvc: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enable_file_deletion: Option<bool>,
}

impl Restic {
    /// The settings both sides share.
    fn new(backed: &BackedUp<'_>, secret: &str, security: PodSecurityContext) -> Restic {
        let method = backed.backup.copy_method.as_ref().map_or(CopyMethod::Direct, |m| m.value);
        Restic {
            repository: secret.to_string(),
            copy_method: method.as_str(),
            cache_capacity: cache_capacity(backed.volume.size()),
            mover_security_context: security,
            prune_interval_days: None,
            retain: None,
            capacity: None,
            access_modes: None,
            storage_class_name: None,
            cleanup_cache_pvc: None,
            cleanup_temp_pvc: None,
            enable_file_deletion: None,
        }
    }
}

/// Snapshots restic keeps per period (`restic forget --keep-*`).
#[derive(Clone, Debug, Default, Serialize)]
struct Retain {
    #[serde(skip_serializing_if = "Option::is_none")]
    last: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hourly: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    daily: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    weekly: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    monthly: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    yearly: Option<u32>,
}

/// The ReplicationSource of one claim.
fn source(namespace: &str, claim: &str, backed: &BackedUp<'_>, restic: Restic) -> Custom<ReplicationSource> {
    let mut retain = Retain::default();
    for (period, count) in &backed.backup.keep {
        let slot = match period.value {
            KeepPeriod::Last => &mut retain.last,
            KeepPeriod::Hourly => &mut retain.hourly,
            KeepPeriod::Daily => &mut retain.daily,
            KeepPeriod::Weekly => &mut retain.weekly,
            KeepPeriod::Monthly => &mut retain.monthly,
            KeepPeriod::Yearly => &mut retain.yearly,
        };
        *slot = Some(count.value);
    }
    let restic = Restic { prune_interval_days: Some(PRUNE_INTERVAL_DAYS), retain: Some(retain), ..restic };
    let spec = SourceSpec {
        source_pvc: claim.to_string(),
        trigger: Trigger { schedule: Some(backed.backup.schedule.value.text.clone()), manual: None },
        restic,
    };
    Custom::new(meta(claim, Some(namespace), managed_labels()), ReplicationSource { spec })
}

/// `ReplicationDestination`: restores a claim's latest backup once, into a
/// snapshot the volume populator fills the claim from.
#[derive(Debug, Serialize)]
struct ReplicationDestination {
    spec: DestinationSpec,
}

impl CustomKind for ReplicationDestination {
    const API_VERSION: &'static str = API_VERSION;
    const KIND: &'static str = "ReplicationDestination";
}

#[derive(Debug, Serialize)]
struct DestinationSpec {
    trigger: Trigger,
    restic: Restic,
}

/// The ReplicationDestination of one claim: restic restores the latest
/// snapshot (none on a first install: the claim starts empty) into a
/// temporary claim of the same size, class and access, and keeps a
/// VolumeSnapshot of it (the populator only reads snapshots).
fn destination(namespace: &str, claim: &str, backed: &BackedUp<'_>, restic: Restic) -> Custom<ReplicationDestination> {
    let restic = Restic {
        copy_method: CopyMethod::Snapshot.as_str(),
        capacity: Some(Quantity(backed.volume.size().text.clone())),
        access_modes: Some(vec![backed.volume.access_mode()]),
        storage_class_name: backed.volume.storage_class().map(|c| c.value.clone()),
        cleanup_cache_pvc: Some(true),
        cleanup_temp_pvc: Some(true),
        enable_file_deletion: Some(true),
        ..restic
    };
    let spec = DestinationSpec { trigger: Trigger { schedule: None, manual: Some(RESTORE_ONCE) }, restic };
    Custom::new(meta(&restore_name(claim), Some(namespace), managed_labels()), ReplicationDestination { spec })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Quantity as Q;

    #[test]
    fn the_cache_grows_with_the_volume_within_bounds() {
        let q = |t: &str| cache_capacity(&Q::parse(t).expect("quantity")).0;
        assert_eq!(q("1Gi"), "1Gi");
        assert_eq!(q("50Gi"), "3Gi");
        assert_eq!(q("2Ti"), "10Gi");
    }

    /// The objects of one VolSync backup of a one-cluster description, by kind and name.
    fn emitted(body: &str) -> (crate::driver::Checked, Vec<(String, String, serde_json::Value)>) {
        let text = format!(
            "homelab \"lab\"\ncluster \"home\" distribution=\"k3s\"\n\
             backup \"nightly\" repository=\"s3:https://s3.lan/restic\" secret=\"restic\" schedule=\"0 3 * * *\" keep-daily=7 keep-last=3\n\
             secret \"restic\" namespace=\"apps\" from=\"external\" store=\"vault\" key=\"lab/restic\"\n\
             secret-store \"vault\" provider=\"vault\" server=\"https://vault.lan\" path=\"secret\" auth-secret=\"vault\"\n\
             secret \"vault\" namespace=\"external-secrets\" from=\"existing\"\n{body}"
        );
        let checked = crate::driver::check(&crate::host::MemHost::with([("homelab.kdl", text)]), "homelab.kdl");
        let mut out = crate::backend::Artifacts::default();
        super::emit(&checked.model, &mut out);
        let objects = out.objects.iter().map(|o| (o.id.kind.to_string(), o.id.name.clone(), o.value())).collect();
        (checked, objects)
    }

    #[test]
    fn a_deployments_own_claim_is_backed_up_under_the_name_k8s_gives_it() {
        let (checked, objects) = emitted(
            "app \"wiki\" namespace=\"apps\" kind=\"deployment\" {\n\
             image \"wiki\" tag=\"1\"\n    run-as-user 1000\n    volume \"data\" mount=\"/data\" size=\"5Gi\" backup=\"nightly\"\n}\n",
        );
        assert!(
            checked.diagnostics.iter().all(|d| d.code.severity() != crate::diag::Severity::Error),
            "{:?}",
            checked.diagnostics
        );
        let app = &checked.model.apps[0];
        let claim = crate::backend::k8s::own_claim_name(app, &app.volumes[0]);
        let source = objects.iter().find(|(k, ..)| k == "ReplicationSource").expect("a source");
        assert_eq!(source.1, claim);
        assert_eq!(source.2["spec"]["sourcePVC"], claim.as_str());
        let restic = &source.2["spec"]["restic"];
        assert_eq!(restic["retain"], serde_json::json!({"daily": 7, "last": 3}));
        assert_eq!(restic["copyMethod"], "Direct");
        assert_eq!(restic["repository"], format!("{claim}-restic").as_str());
        assert_eq!(restic["moverSecurityContext"]["runAsUser"], 1000);
        // Direct copies are not restored on create: no destination.
        assert!(!objects.iter().any(|(k, ..)| k == "ReplicationDestination"));
        let secret = objects.iter().find(|(k, ..)| k == "ExternalSecret").expect("its repository secret");
        let repository = &secret.2["spec"]["target"]["template"]["data"]["RESTIC_REPOSITORY"];
        assert_eq!(repository, "s3:https://s3.lan/restic/apps/wiki-data");
    }

    #[test]
    fn restores_are_named_after_their_claims() {
        assert_eq!(restore_name("data-db-0"), "data-db-0-restore");
        assert_eq!(repository_secret_name("media"), "media-restic");
    }
}
