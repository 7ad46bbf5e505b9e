//! `## Storage`: the storage classes of a cluster (its default marked), every
//! persistent claim with its size, class, access and backup, and the backups:
//! schedule, retention, and per claim its restic repository, where the mover
//! reads it from and whether a new claim is restored from it.

use super::heading;
use super::table::{Table, code};
use crate::model::{BackedUp, CopyMethod, Model, SecretSource, Stored, Word};

/// Appends the section; nothing when the cluster has no claim, class or backup.
pub fn section(model: &Model, out: &mut String) {
    let mut text = String::new();
    classes(model, &mut text);
    claims(model, &mut text);
    backups(model, &mut text);
    if !text.is_empty() {
        heading(out, "Storage");
        out.push_str(&text);
    }
}

/// The classes: the declared ones and the distribution's, when anything is
/// stored or a class is declared.
fn classes(model: &Model, out: &mut String) {
    if model.storage_classes.is_empty() && model.stored_volumes().is_empty() {
        return;
    }
    let default = model.default_storage_class();
    let mark = |name: &str| if Some(name) == default { "yes".to_string() } else { String::new() };
    let mut table = Table::new(&["Class", "Provisioner", "Default", "Reclaim", "Binding", "Parameters"])
        .optional(&["Default", "Parameters"]);
    for class in &model.storage_classes {
        let parameters: Vec<String> =
            class.parameters.iter().map(|(k, v)| code(&format!("{}={}", k.value, v.value))).collect();
        table.row(vec![
            code(&class.name.value),
            code(&class.provisioner.value),
            mark(&class.name.value),
            class.reclaim.as_ref().map_or("Delete", |r| r.value.as_str()).to_string(),
            class.binding.as_ref().map_or("WaitForFirstConsumer", |b| b.value.as_str()).to_string(),
            parameters.join(", "),
        ]);
    }
    if let Some(cluster) = model.cluster_for(None)
        && let Some(builtin) = cluster.distribution.value.storage_class()
        && !model.storage_classes.iter().any(|c| c.name.value == builtin)
    {
        let ships = format!("{}, shipped by {}", code("rancher.io/local-path"), cluster.distribution.value);
        let default = if default == Some(builtin) { "yes" } else { "also (the distribution's)" };
        table.row(vec![
            code(builtin),
            ships,
            default.to_string(),
            "Delete".into(),
            "WaitForFirstConsumer".into(),
            String::new(),
        ]);
    }
    out.push_str("Storage classes:\n\n");
    table.render(out);
}

/// Every persistent claim: the apps' own and the declared ones.
fn claims(model: &Model, out: &mut String) {
    let mut table =
        Table::new(&["Claim", "Namespace", "Of", "Size", "Class", "Access", "Backup"]).optional(&["Backup"]);
    for volume in model.stored_volumes() {
        let of = match volume {
            Stored::Own { app, volume, .. } => {
                format!("volume {} of app {}", code(&volume.name.value), code(&app.name.value))
            }
            Stored::Shared(claim) => mounted_by(model, claim),
        };
        let class = model.class_of(&volume).map(code).unwrap_or_default();
        let backup = volume.backup().map(|b| code(&b.value)).unwrap_or_default();
        for name in volume.claim_names() {
            table.row(vec![
                code(&name),
                code(volume.namespace()),
                of.clone(),
                volume.size().text.clone(),
                class.clone(),
                volume.access_mode().to_string(),
                backup.clone(),
            ]);
        }
    }
    if !table.is_empty() {
        out.push_str("Claims (deleting one deletes its data: `build` asks for `--allow-destroy`):\n\n");
        table.render(out);
    }
}

/// Who mounts a declared claim.
fn mounted_by(model: &Model, claim: &crate::model::Claim) -> String {
    let apps: Vec<String> = model
        .apps
        .iter()
        .filter(|a| a.namespace.value == claim.namespace.value)
        .filter(|a| {
            a.volumes
                .iter()
                .any(|v| matches!(&v.source, crate::model::VolumeSource::Claim(c) if c.value == claim.name.value))
        })
        .map(|a| code(&a.name.value))
        .collect();
    if apps.is_empty() {
        "claim, mounted by nothing".to_string()
    } else {
        format!("claim, mounted by {}", apps.join(", "))
    }
}

/// The backups, one row per backed-up claim.
fn backups(model: &Model, out: &mut String) {
    let mut table =
        Table::new(&["Backup", "Schedule", "Keeps", "Claim", "Repository", "Credentials", "Restore on create"]);
    for backed in model.backed_up() {
        let backup = backed.backup;
        let keeps: Vec<String> = backup.keep.iter().map(|(p, n)| format!("{} {}", n.value, p.value.as_str())).collect();
        for claim in backed.volume.claim_names() {
            table.row(vec![
                code(&backup.name.value),
                code(&backup.schedule.value.text),
                keeps.join(", "),
                code(&format!("{}/{claim}", backed.volume.namespace())),
                code(&backed.repository(&claim)),
                credentials(model, &backed, &claim),
                restore(&backed),
            ]);
        }
    }
    if !table.is_empty() {
        out.push_str("Backups (VolSync restic, one repository per claim):\n\n");
        table.render(out);
    }
}

/// Where a claim's mover reads the repository and its credentials.
fn credentials(model: &Model, backed: &BackedUp<'_>, claim: &str) -> String {
    let name = &backed.backup.secret.value;
    let secret = model.secrets.iter().find(|s| &s.name.value == name && s.namespace.value == backed.volume.namespace());
    match secret.map(|s| &s.source) {
        Some(SecretSource::External { store, key }) => format!(
            "{} from store {} key {}, with its `RESTIC_REPOSITORY`",
            code(&super::super::volsync::repository_secret_name(claim)),
            code(&store.value),
            code(&key.value)
        ),
        Some(SecretSource::Existing) => {
            format!("{} (made by hand): must hold this `RESTIC_REPOSITORY`", code(name))
        }
        Some(SecretSource::Sops { .. } | SecretSource::Sealed { .. }) => {
            format!("{}: must hold this `RESTIC_REPOSITORY`", code(name))
        }
        None => code(name),
    }
}

/// Whether a new claim is filled from the backup, and why not.
fn restore(backed: &BackedUp<'_>) -> String {
    if backed.volume.restores_on_create(backed.backup) {
        return "yes".to_string();
    }
    let method = backed.backup.copy_method.as_ref().map_or(CopyMethod::Direct, |m| m.value);
    if method == CopyMethod::Snapshot {
        "no: several replicas share one claim template".to_string()
    } else {
        format!("no ({} copy): restore by hand", method.as_str())
    }
}
