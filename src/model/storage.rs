//! Storage facts the checks, the backends and the inventory share: the
//! classes a cluster has without declaring them, which volumes are backed up
//! (and the PersistentVolumeClaims that hold them), and each one's restic
//! repository.
//!
//! A volume with `backup=` is either an app's own claim (`volume ... size=`)
//! or a declared `claim`. A StatefulSet's own claim is one claim per replica
//! (`<volume>-<app>-<ordinal>`, the names Kubernetes gives the claims of a
//! claim template); any other workload's is one claim `<app>-<volume>`.

use super::{AccessMode, App, Backup, Claim, CopyMethod, Model, Name, OwnClaim, Quantity, Volume, Word, WorkloadKind};
use crate::source::Span;

/// The stdlib component that runs VolSync (and the snapshot controller it needs).
pub const VOLSYNC_COMPONENT: &str = "volsync";

/// The namespace VolSync's controller runs in.
pub const VOLSYNC_NAMESPACE: &str = "volsync-system";

/// Upstream charts and the storage classes they make by default.
const CHART_CLASSES: &[(&str, &[&str])] = &[("longhorn", &["longhorn"])];

/// The storage classes an upstream chart makes with its default values.
pub fn classes_of(chart: &str) -> &'static [&'static str] {
    CHART_CLASSES.iter().find(|(name, _)| *name == chart).map_or(&[], |(_, classes)| classes)
}

/// CSI drivers (a storage class's provisioner) and the upstream chart that
/// installs each: a description that declares a class of one declares the
/// chart too (SPEC §2.5: drivers are not pulled in by need).
const DRIVER_CHARTS: &[(&str, &str)] = &[
    ("driver.longhorn.io", "longhorn"),
    ("nfs.csi.k8s.io", "csi-driver-nfs"),
    ("openebs.io/local", "openebs"),
    ("smb.csi.k8s.io", "csi-driver-smb"),
];

/// The upstream chart that installs a provisioner, when it is a known one.
pub fn driver_chart(provisioner: &str) -> Option<&'static str> {
    DRIVER_CHARTS.iter().find(|(p, _)| *p == provisioner).map(|(_, chart)| *chart)
}

/// Where a storage class a claim names comes from.
#[derive(Clone, Copy, Debug)]
pub enum ClassSource<'m> {
    /// A `storage-class` declaration.
    Declared(&'m super::StorageClass),
    /// The distribution's own class (k3s' `local-path`, kind's `standard`).
    Distribution,
    /// A class a declared chart makes.
    Chart(&'m str),
}

/// A persistent volume an app mounts: its own claim or a declared one.
#[derive(Clone, Copy, Debug)]
pub enum Stored<'m> {
    /// An app's own claim (`volume ... size=`).
    Own {
        /// The app.
        app: &'m App,
        /// Its volume.
        volume: &'m Volume,
        /// The claim it makes.
        claim: &'m OwnClaim,
    },
    /// A `claim` declaration.
    Shared(&'m Claim),
}

impl<'m> Stored<'m> {
    /// The namespace of its claims.
    pub fn namespace(&self) -> &'m str {
        match self {
            Stored::Own { app, .. } => &app.namespace.value,
            Stored::Shared(claim) => &claim.namespace.value,
        }
    }

    /// The `backup=` it names.
    pub fn backup(&self) -> Option<&'m Name> {
        match self {
            Stored::Own { claim, .. } => claim.backup.as_ref(),
            Stored::Shared(claim) => claim.backup.as_ref(),
        }
    }

    /// The `storage-class=` it names (the cluster's default when absent).
    pub fn storage_class(&self) -> Option<&'m Name> {
        match self {
            Stored::Own { claim, .. } => claim.storage_class.as_ref(),
            Stored::Shared(claim) => claim.storage_class.as_ref(),
        }
    }

    /// Its size.
    pub fn size(&self) -> &'m Quantity {
        match self {
            Stored::Own { claim, .. } => &claim.size.value,
            Stored::Shared(claim) => &claim.size.value,
        }
    }

    /// Its access mode, as Kubernetes writes it (own claims are ReadWriteOnce).
    pub fn access_mode(&self) -> &'static str {
        match self {
            Stored::Own { .. } => AccessMode::ReadWriteOnce.as_str(),
            Stored::Shared(claim) => claim.access.value.as_str(),
        }
    }

    /// How people name it: `volume `data` of app `db`` or `claim `media``.
    pub fn describe(&self) -> String {
        match self {
            Stored::Own { app, volume, .. } => format!("volume `{}` of app `{}`", volume.name.value, app.name.value),
            Stored::Shared(claim) => format!("claim `{}`", claim.name.value),
        }
    }

    /// Where it is declared: the volume child, or the claim's name.
    pub fn span(&self) -> Span {
        match self {
            Stored::Own { volume, .. } => volume.name.span,
            Stored::Shared(claim) => claim.name.span,
        }
    }

    /// The PersistentVolumeClaims that hold it: a StatefulSet's one per
    /// replica, `<volume>-<app>-<ordinal>`; another workload's `<app>-<volume>`
    /// (as [`crate::backend::k8s::own_claim_name`] names it); a declared
    /// claim's own name.
    pub fn claim_names(&self) -> Vec<String> {
        match self {
            Stored::Own { app, volume, .. } if app.workload() == WorkloadKind::Statefulset => (0..replicas(app))
                .map(|ordinal| format!("{}-{}-{ordinal}", volume.name.value, app.name.value))
                .collect(),
            Stored::Own { app, volume, .. } => vec![format!("{}-{}", app.name.value, volume.name.value)],
            Stored::Shared(claim) => vec![claim.name.value.clone()],
        }
    }

    /// Whether a new claim is filled from the latest backup: VolSync's volume
    /// populator restores only from a VolumeSnapshot, so only with
    /// `copy-method="Snapshot"`; and a StatefulSet's claim template names one
    /// ReplicationDestination for every replica, so only with one replica.
    pub fn restores_on_create(&self, backup: &Backup) -> bool {
        let snapshot = backup.copy_method.as_ref().is_some_and(|m| m.value == CopyMethod::Snapshot);
        match self {
            Stored::Own { app, .. } if app.workload() == WorkloadKind::Statefulset => {
                snapshot && replicas(app) == 1 && app.autoscale.is_none()
            }
            Stored::Own { .. } | Stored::Shared(_) => snapshot,
        }
    }
}

/// The replicas a StatefulSet starts with (its `spec.replicas`).
fn replicas(app: &App) -> u32 {
    app.autoscale.as_ref().map_or(app.replicas.value, |a| a.min.value)
}

/// A volume and the backup it names.
#[derive(Clone, Copy, Debug)]
pub struct BackedUp<'m> {
    /// The volume.
    pub volume: Stored<'m>,
    /// Its backup.
    pub backup: &'m Backup,
}

impl BackedUp<'_> {
    /// The restic repository of one of its claims: the backup's repository,
    /// then `<namespace>/<claim>`. Each claim needs its own: restic forgets
    /// snapshots by host and path, which VolSync's mover writes the same for
    /// every volume, so two claims in one repository would prune each other's.
    pub fn repository(&self, claim: &str) -> String {
        repository_for(&self.backup.repository.value, self.volume.namespace(), claim)
    }
}

impl Backup {
    /// The keys of its secret that restic (VolSync's mover) reads: the
    /// repository and its password, then the credentials its backend takes
    /// (restic's environment variables, by the repository's scheme).
    pub fn secret_keys(&self) -> Vec<&'static str> {
        let repository = self.repository.value.as_str();
        let scheme = repository.split_once(':').map_or("", |(scheme, _)| scheme);
        let credentials: &[&'static str] = match scheme {
            "s3" => &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
            "b2" => &["B2_ACCOUNT_ID", "B2_ACCOUNT_KEY"],
            "azure" => &["AZURE_ACCOUNT_NAME", "AZURE_ACCOUNT_KEY"],
            "gs" => &["GOOGLE_PROJECT_ID", "GOOGLE_APPLICATION_CREDENTIALS"],
            "swift" => &["OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD"],
            _ => &[],
        };
        ["RESTIC_REPOSITORY", "RESTIC_PASSWORD"].into_iter().chain(credentials.iter().copied()).collect()
    }
}

/// `<base>/<namespace>/<claim>`; a bucket-only `b2:`, `gs:`, `azure:`,
/// `swift:` or `rclone:` repository (`b2:bucket`) takes the path after a `:`.
pub fn repository_for(base: &str, namespace: &str, claim: &str) -> String {
    let bucket_only = ["b2:", "gs:", "azure:", "swift:", "rclone:"]
        .iter()
        .any(|scheme| base.strip_prefix(scheme).is_some_and(|rest| !rest.contains(':')));
    if bucket_only { format!("{base}:/{namespace}/{claim}") } else { format!("{base}/{namespace}/{claim}") }
}

impl Model {
    /// Every persistent volume of the model: the apps' own claims, then the
    /// declared claims.
    pub fn stored_volumes(&self) -> Vec<Stored<'_>> {
        let own = self.apps.iter().flat_map(|app| app.own_claims().map(move |(volume, claim)| (app, volume, claim)));
        own.map(|(app, volume, claim)| Stored::Own { app, volume, claim })
            .chain(self.claims.iter().map(Stored::Shared))
            .collect()
    }

    /// Every volume whose `backup=` names a declared backup.
    pub fn backed_up(&self) -> Vec<BackedUp<'_>> {
        self.stored_volumes()
            .into_iter()
            .filter_map(|volume| Some(BackedUp { volume, backup: self.backup(&volume.backup()?.value)? }))
            .collect()
    }

    /// Looks up a backup by name.
    pub fn backup(&self, name: &str) -> Option<&Backup> {
        self.backups.iter().find(|b| b.name.value == name)
    }

    /// Looks up a claim by namespace and name.
    pub fn claim(&self, namespace: &str, name: &str) -> Option<&Claim> {
        self.claims.iter().find(|c| c.namespace.value == namespace && c.name.value == name)
    }

    /// Where the storage class `name` of the (only) cluster comes from, if it
    /// has one of that name.
    pub fn storage_class_source(&self, name: &str) -> Option<ClassSource<'_>> {
        if let Some(declared) = self.storage_classes.iter().find(|c| c.name.value == name) {
            return Some(ClassSource::Declared(declared));
        }
        let cluster = self.cluster_for(None)?;
        if cluster.distribution.value.storage_class() == Some(name) {
            return Some(ClassSource::Distribution);
        }
        let chart = self.charts.iter().find(|c| classes_of(&c.chart.value).contains(&name))?;
        Some(ClassSource::Chart(&chart.name.value))
    }

    /// Every storage class name the (only) cluster has: declared, its
    /// distribution's, its charts'. Sorted.
    pub fn storage_class_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.storage_classes.iter().map(|c| c.name.value.as_str()).collect();
        names.extend(self.cluster_for(None).and_then(|c| c.distribution.value.storage_class()));
        names.extend(self.charts.iter().flat_map(|c| classes_of(&c.chart.value).iter().copied()));
        names.sort_unstable();
        names.dedup();
        names
    }

    /// The class a claim without `storage-class=` gets: the declared default,
    /// else the distribution's.
    pub fn default_storage_class(&self) -> Option<&str> {
        let declared = self.storage_classes.iter().find(|c| c.default.as_ref().is_some_and(|d| d.value));
        declared.map(|c| c.name.value.as_str()).or_else(|| self.cluster_for(None)?.distribution.value.storage_class())
    }

    /// The storage class a volume lands on: its own, else the default.
    pub fn class_of<'m>(&'m self, volume: &Stored<'m>) -> Option<&'m str> {
        volume.storage_class().map(|c| c.value.as_str()).or_else(|| self.default_storage_class())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_claim_gets_a_repository_below_the_backups() {
        assert_eq!(
            repository_for("s3:https://s3.lan/restic", "media", "config"),
            "s3:https://s3.lan/restic/media/config"
        );
        assert_eq!(repository_for("b2:bucket", "media", "config"), "b2:bucket:/media/config");
        assert_eq!(repository_for("b2:bucket:homelab", "media", "config"), "b2:bucket:homelab/media/config");
        assert_eq!(repository_for("/srv/restic", "db", "data-db-0"), "/srv/restic/db/data-db-0");
    }

    #[test]
    fn distributions_ship_local_path() {
        use crate::model::Distribution;
        assert_eq!(Distribution::K3s.storage_class(), Some("local-path"));
        assert_eq!(Distribution::Kind.storage_class(), Some("standard"));
        assert_eq!(Distribution::Talos.storage_class(), None);
        assert_eq!(classes_of("longhorn"), ["longhorn"]);
        assert!(classes_of("csi-driver-nfs").is_empty());
        assert_eq!(driver_chart("nfs.csi.k8s.io"), Some("csi-driver-nfs"));
        assert_eq!(driver_chart("rancher.io/local-path"), None);
    }
}
