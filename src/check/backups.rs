//! Backup checks, per cluster: every `backup=` names a backup (E0201, with a
//! did-you-mean), whose secret exists in each backed-up volume's namespace
//! (E0201: VolSync's movers read it there); one repository per volume
//! (E1104); copy methods the volume's storage can do (E1105); schedules
//! VolSync accepts (E1106); what is not backed up (W1104, W1105, W0501).

use std::collections::BTreeMap;

use crate::diag::{Code, Diagnostic};
use crate::model::{BackedUp, Backup, CopyMethod, Model, SecretSource, Stored, Word, WorkloadKind};
use crate::suggest;

/// Runs the backup checks on one cluster's model.
pub fn check(model: &Model, diags: &mut Vec<Diagnostic>) {
    let Some(cluster) = model.cluster_for(None) else { return };
    let names: Vec<&str> = model.backups.iter().map(|b| b.name.value.as_str()).collect();
    let volumes = model.stored_volumes();
    for volume in &volumes {
        let Some(name) = volume.backup() else { continue };
        if model.backup(&name.value).is_none() {
            let help = suggest::help_for(&name.value, &names, "backups").unwrap_or_else(|| {
                format!(
                    "declare it: `backup \"{}\" repository=\"s3:https://...\" secret=\"...\" schedule=\"0 3 * * *\" keep-daily=7`",
                    name.value
                )
            });
            diags.push(
                Diagnostic::new(Code::E0201, format!("unknown backup `{}`", name.value))
                    .primary(name.span, format!("no backup named `{}`", name.value))
                    .help(help),
            );
        }
    }
    let backed = model.backed_up();
    for backup in &model.backups {
        let mine: Vec<&BackedUp<'_>> = backed.iter().filter(|b| b.backup.name.value == backup.name.value).collect();
        if mine.is_empty() {
            // A misspelt `backup=` probably means this one: it has its E0201.
            let meant = volumes.iter().filter_map(|v| v.backup()).any(|n| {
                model.backup(&n.value).is_none()
                    && suggest::did_you_mean(&n.value, names.iter().copied()) == Some(backup.name.value.as_str())
            });
            if !meant {
                diags.push(unused(backup));
            }
            continue;
        }
        diags.extend(secret_namespaces(model, backup, &mine));
        diags.extend(copy_method(model, cluster.distribution.value.storage_class(), backup, &mine));
        diags.extend(schedule(backup));
    }
    shared_repositories(model, &backed, diags);
    for b in &backed {
        diags.extend(partial(b));
    }
    if let Some(first) = model.backups.first() {
        for volume in volumes.iter().filter(|v| v.backup().is_none()) {
            diags.push(not_backed_up(volume, &first.name.value));
        }
    }
}

/// W0501 for a backup no volume names.
fn unused(backup: &Backup) -> Diagnostic {
    let name = &backup.name.value;
    Diagnostic::new(Code::W0501, format!("backup `{name}` is never used"))
        .primary(backup.name.span, "declared here but no volume names it")
        .help(format!(
            "back a volume up with `backup=\"{name}\"` on an own claim (`volume ... size=`) or on a `claim`, or remove it"
        ))
}

/// E0201 when the backup's secret is missing from namespaces of volumes it
/// backs up: VolSync's movers run in the volume's namespace.
fn secret_namespaces(model: &Model, backup: &Backup, mine: &[&BackedUp<'_>]) -> Option<Diagnostic> {
    let secret = &backup.secret.value;
    let mut missing: BTreeMap<&str, Vec<&Stored<'_>>> = BTreeMap::new();
    for b in mine {
        let ns = b.volume.namespace();
        if !model.secrets.iter().any(|s| &s.name.value == secret && s.namespace.value == ns) {
            missing.entry(ns).or_default().push(&b.volume);
        }
    }
    if missing.is_empty() {
        return None;
    }
    let list = missing.keys().map(|ns| format!("`{ns}`")).collect::<Vec<_>>().join(", ");
    let first = missing.keys().next().copied().unwrap_or_default();
    let plural = if missing.len() > 1 { "namespaces" } else { "namespace" };
    let mut diag = Diagnostic::new(Code::E0201, format!("secret `{secret}` of backup `{}` is not declared in {plural} {list}", backup.name.value))
        .primary(backup.secret.span, format!("no secret named `{secret}` in {plural} {list}"))
        .help(format!(
            "VolSync backs a volume up from its own namespace and reads the repository's credentials there: declare \
             the secret in each, e.g. `secret \"{secret}\" namespace=\"{first}\" from=\"external\" store=\"...\" key=\"...\"`"
        ));
    for volume in missing.values().flatten() {
        let at = volume.backup().map_or(volume.span(), |b| b.span);
        diag = diag.secondary(at, format!("backs up {} of namespace `{}`", volume.describe(), volume.namespace()));
    }
    Some(diag)
}

/// E1105 when the copy method needs CSI snapshots or clones and a volume is
/// on the distribution's local-path class, which has neither.
fn copy_method(model: &Model, builtin: Option<&str>, backup: &Backup, mine: &[&BackedUp<'_>]) -> Option<Diagnostic> {
    let builtin = builtin?;
    let method = backup.copy_method.as_ref().filter(|m| m.value != CopyMethod::Direct)?;
    let local: Vec<&&BackedUp<'_>> = mine.iter().filter(|b| model.class_of(&b.volume) == Some(builtin)).collect();
    if local.is_empty() {
        return None;
    }
    let what = match method.value {
        CopyMethod::Snapshot => "snapshots",
        CopyMethod::Clone | CopyMethod::Direct => "clones",
    };
    let mut diag = Diagnostic::new(
        Code::E1105,
        format!(
            "backup `{}` copies with {} but `{builtin}` volumes have no CSI {what}",
            backup.name.value,
            method.value.as_str()
        ),
    )
    .primary(method.span, format!("needs CSI {what}"))
    .help(format!(
        "`{builtin}` makes plain folders on a node: use `copy-method=\"Direct\"` (the default; the backup then reads \
         the live volume, and new claims are not restored on create), or put the volumes on a class whose CSI \
         driver takes {what}"
    ));
    for b in local {
        diag = diag.secondary(b.volume.span(), format!("{} is on `{builtin}`", b.volume.describe()));
    }
    Some(diag)
}

/// E1106 when VolSync's trigger would refuse the schedule: its CRD accepts
/// five fields of numbers, `*`, `*/n`, `n-m`, `n/m` and lists of numbers, or
/// `@hourly` to `@yearly`.
fn schedule(backup: &Backup) -> Option<Diagnostic> {
    let text = backup.schedule.value.text.trim();
    if volsync_accepts(text) {
        return None;
    }
    let rewritten = rewrite(text).filter(|r| volsync_accepts(r));
    let help = match rewritten {
        Some(r) => format!("write it `schedule=\"{r}\"`"),
        None => {
            "write five fields of numbers, `*`, `*/n`, `n-m` or `a,b,c` (no names, no `n-m/s`), or `@daily`".to_string()
        }
    };
    Some(
        Diagnostic::new(Code::E1106, format!("VolSync does not accept the schedule `{text}`"))
            .primary(backup.schedule.span, "refused by the ReplicationSource's schema")
            .help(help),
    )
}

/// Whether VolSync's trigger schema accepts a schedule.
pub fn volsync_accepts(text: &str) -> bool {
    const DESCRIPTORS: &[&str] = &["@annually", "@yearly", "@monthly", "@weekly", "@daily", "@hourly"];
    if text.starts_with('@') {
        return DESCRIPTORS.contains(&text);
    }
    let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let field = |f: &str| {
        f == "*"
            || f.strip_prefix("*/").is_some_and(number)
            || f.split(',').all(number)
            || f.split_once(['-', '/']).is_some_and(|(a, b)| number(a) && number(b))
    };
    let fields: Vec<&str> = text.split_whitespace().collect();
    fields.len() == 5 && fields.iter().all(|f| field(f))
}

/// The schedule with month and day names as numbers, `@midnight` as `@daily`.
fn rewrite(text: &str) -> Option<String> {
    const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    if text.eq_ignore_ascii_case("@midnight") {
        return Some("@daily".to_string());
    }
    let mut fields: Vec<String> = text.split_whitespace().map(str::to_ascii_lowercase).collect();
    if fields.len() != 5 {
        return None;
    }
    for (i, name) in MONTHS.iter().enumerate() {
        fields[3] = fields[3].replace(name, &(i + 1).to_string());
    }
    for (i, name) in DAYS.iter().enumerate() {
        fields[4] = fields[4].replace(name, &i.to_string());
    }
    Some(fields.join(" "))
}

/// E1104 when one Secret that is not read from a store backs up more than
/// one claim: it holds one `RESTIC_REPOSITORY`, and claims sharing a
/// repository forget each other's snapshots.
fn shared_repositories(model: &Model, backed: &[BackedUp<'_>], diags: &mut Vec<Diagnostic>) {
    let mut by_secret: BTreeMap<(&str, &str), Vec<&BackedUp<'_>>> = BTreeMap::new();
    for b in backed {
        by_secret.entry((b.volume.namespace(), b.backup.secret.value.as_str())).or_default().push(b);
    }
    for ((ns, name), users) in by_secret {
        let Some(secret) = model.secrets.iter().find(|s| s.name.value == name && s.namespace.value == ns) else {
            continue;
        };
        if matches!(secret.source, SecretSource::External { .. }) {
            continue;
        }
        let claims: usize = users.iter().map(|b| b.volume.claim_names().len()).sum();
        if claims < 2 {
            continue;
        }
        let mut diag = Diagnostic::new(
            Code::E1104,
            format!("secret `{name}` of namespace `{ns}` would hold the restic repository of {claims} claims"),
        )
        .primary(secret.name.span, "one Secret, one RESTIC_REPOSITORY")
        .help(
            "restic forgets old snapshots by host and path, which VolSync writes the same for every volume: claims \
             sharing a repository prune each other's backups. Read the secret from a store (`from=\"external\"`: each \
             claim then gets its own Secret with its own repository), or give each volume its own backup and secret",
        );
        for b in users {
            let at = b.volume.backup().map_or(b.volume.span(), |n| n.span);
            let claims = b.volume.claim_names();
            let what = if claims.len() > 1 {
                format!("{} ({} claims, one per replica)", b.volume.describe(), claims.len())
            } else {
                b.volume.describe()
            };
            diag = diag.secondary(at, format!("backs up {what}"));
        }
        diags.push(diag);
    }
}

/// W1105 for a StatefulSet whose backups cannot cover what it may hold: one
/// claim template names one ReplicationDestination, so with several
/// replicas none is restored on create; with an autoscaler, the claims of
/// the replicas it adds are not backed up.
fn partial(b: &BackedUp<'_>) -> Option<Diagnostic> {
    let Stored::Own { app, volume, .. } = b.volume else { return None };
    if app.workload() != WorkloadKind::Statefulset {
        return None;
    }
    let snapshot = b.backup.copy_method.as_ref().is_some_and(|m| m.value == CopyMethod::Snapshot);
    let at = volume.name.span;
    let name = &app.name.value;
    if let Some(auto) = &app.autoscale {
        return Some(
            Diagnostic::new(Code::W1105, format!("only the first {} replicas of `{name}` are backed up", auto.min.value))
                .primary(at, "one claim per replica")
                .secondary(auto.span, format!("the autoscaler adds up to {} replicas", auto.max.value))
                .help("each claim gets its ReplicationSource when the tree is built: set `replicas` instead of `autoscale` for a StatefulSet whose data matters"),
        );
    }
    (snapshot && app.replicas.value > 1).then(|| {
        Diagnostic::new(Code::W1105, format!("the {} replicas of `{name}` are backed up but not restored on create", app.replicas.value))
            .primary(at, "one claim template for every replica")
            .secondary(app.replicas.span, "several replicas")
            .help("a claim template's `dataSourceRef` names one ReplicationDestination, which would fill every replica with the first's data: run one replica, or restore replicas by hand from their repositories (the inventory lists them)")
    })
}

/// W1104 for a persistent volume without backup in a cluster that backs
/// others up.
fn not_backed_up(volume: &Stored<'_>, backup: &str) -> Diagnostic {
    Diagnostic::new(Code::W1104, format!("{} has no backup", volume.describe()))
        .primary(volume.span(), "not backed up")
        .help(format!(
            "this cluster backs volumes up: add `backup=\"{backup}\"` to keep this one too, or use `empty-dir=#true` \
             for data that can be lost"
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volsync_schedules_are_numbers() {
        for ok in ["0 3 * * *", "*/15 * * * *", "0 2 * * 1-5", "0 2 1,15 * *", "@daily", "0 */6 * * *"] {
            assert!(volsync_accepts(ok), "{ok}");
        }
        for bad in ["0 3 * * sun", "@midnight", "0 2 * * 1-5/2", "0 3 * *", "0 2 1-3,5 * *"] {
            assert!(!volsync_accepts(bad), "{bad}");
        }
        assert_eq!(rewrite("0 3 * * SUN").as_deref(), Some("0 3 * * 0"));
        assert_eq!(rewrite("@midnight").as_deref(), Some("@daily"));
    }
}
