//! Pod Security (E0610) and namespace metadata (E0105): what an app's pods
//! ask for — root, capabilities, privilege, the host network — must be
//! allowed by the Pod Security level of its namespace, which the namespace's
//! declaration states (the contract) or homelabc derives; a chart that states
//! the level its pods need must not land in a namespace declared lower; and
//! the labels and annotations of a declared namespace must be valid
//! Kubernetes metadata, without the Pod Security keys `pod-security=` owns.

use crate::diag::{Code, Diagnostic};
use crate::model::{App, Distribution, Model, Namespace, PodSecurity, VolumeSource};
use crate::source::Span;

/// The capabilities Pod Security `baseline` allows to add (the container
/// runtime's defaults); `restricted` allows only `NET_BIND_SERVICE`.
const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Runs the checks.
pub fn check(model: &Model, diags: &mut Vec<Diagnostic>) {
    for app in &model.apps {
        app_level(model, app, diags);
    }
    for chart in model.charts.iter().filter(|c| c.component.is_none()) {
        let Some(needed) = &chart.pod_security else { continue };
        let Some(declared) = model.namespaces.iter().find(|n| n.name.value == chart.namespace.value) else { continue };
        if needed.value.rank() > declared.pod_security.value.rank() {
            diags.push(
                Diagnostic::new(
                    Code::E0610,
                    format!(
                        "chart `{}` needs Pod Security `{}`, but namespace `{}` is declared `{}`",
                        chart.name.value, needed.value, declared.name.value, declared.pod_security.value
                    ),
                )
                .primary(needed.span, "what its pods need")
                .secondary(declared.pod_security.span, "the namespace's level")
                .help(format!(
                    "declare `namespace \"{}\" pod-security=\"{}\"`, or move the chart to a namespace of its own",
                    declared.name.value, needed.value
                )),
            );
        }
    }
    for namespace in model.namespaces.iter().filter(|n| !n.from_stdlib) {
        metadata(namespace, diags);
    }
}

/// What of an app its namespace's level refuses: (span, what, the lowest level allowing it).
fn refused(app: &App, level: PodSecurity) -> Vec<(Span, String, PodSecurity)> {
    let mut found = Vec::new();
    if let Some(user) = app.run_as_user.as_ref().filter(|u| u.value == 0) {
        found.push((user.span, "runs as root (user 0)".to_string(), PodSecurity::Baseline));
    }
    for cap in &app.capabilities {
        let name = cap.value.to_uppercase();
        let least = if name == "NET_BIND_SERVICE" {
            PodSecurity::Restricted
        } else if BASELINE_CAPABILITIES.contains(&name.as_str()) {
            PodSecurity::Baseline
        } else {
            PodSecurity::Privileged
        };
        found.push((cap.span, format!("adds the capability `{name}`"), least));
    }
    if let Some(flag) = app.privileged.as_ref().filter(|f| f.value) {
        found.push((flag.span, "runs privileged".to_string(), PodSecurity::Privileged));
    }
    if let Some(flag) = app.host_network.as_ref().filter(|f| f.value) {
        found.push((flag.span, "uses the host network".to_string(), PodSecurity::Privileged));
    }
    // `restricted` allows only claims, config maps, secrets and scratch
    // space as volumes; `baseline` refuses host paths.
    for volume in &app.volumes {
        match &volume.source {
            VolumeSource::Nfs { server, .. } => {
                found.push((
                    server.span,
                    format!("mounts the NFS volume `{}`", volume.name.value),
                    PodSecurity::Baseline,
                ));
            }
            VolumeSource::HostPath(path) => {
                found.push((path.span, format!("mounts the host path `{}`", path.value), PodSecurity::Privileged))
            }
            VolumeSource::Own(_) | VolumeSource::Claim(_) | VolumeSource::EmptyDir { .. } => {}
        }
    }
    found.retain(|(_, _, least)| least.rank() > level.rank());
    found
}

/// E0610 for an app asking for more than its namespace's level allows.
fn app_level(model: &Model, app: &App, diags: &mut Vec<Diagnostic>) {
    let namespace = &app.namespace.value;
    let declared_level = model.pod_security(namespace);
    // Talos' API server enforces `baseline` in every namespace without Pod
    // Security labels but kube-system, and homelabc writes no Namespace
    // object (no labels) for Kubernetes' own namespaces.
    let talos = model.cluster_for(app.cluster.as_ref()).is_some_and(|c| c.distribution.value == Distribution::Talos);
    let capped = talos
        && Model::is_system_namespace(namespace)
        && namespace != "kube-system"
        && declared_level.rank() > PodSecurity::Baseline.rank();
    let level = if capped { PodSecurity::Baseline } else { declared_level };
    let refused = refused(app, level);
    let Some(needed) = refused.iter().map(|(_, _, least)| *least).max_by_key(|l| l.rank()) else { return };
    let (span, what, least) = &refused[0];
    let declared = model.namespaces.iter().find(|n| &n.name.value == namespace);
    let help = if capped {
        format!(
            "Talos enforces Pod Security `baseline` in `{namespace}`, whose Namespace homelabc does not write: \
             move the app to a namespace of its own declared `pod-security=\"{needed}\"`"
        )
    } else {
        format!(
            "declare `namespace \"{namespace}\" pod-security=\"{needed}\"` if this is intended, or drop what the level refuses{}",
            if refused.iter().any(|(_, what, _)| what.contains("NFS")) {
                " (an NFS share can also be mounted through a `claim` of an NFS storage class, which `restricted` allows)"
            } else {
                ""
            }
        )
    };
    let mut diag = Diagnostic::new(
        Code::E0610,
        format!("app `{}` {what}, which Pod Security `{level}` of namespace `{namespace}` refuses", app.name.value),
    )
    .primary(*span, format!("needs `{least}`"))
    .help(help);
    for (span, what, least) in &refused[1..] {
        diag = diag.secondary(*span, format!("{what}: needs `{least}`"));
    }
    if let Some(declared) = declared.filter(|n| !n.from_stdlib) {
        let label = if capped {
            format!("declared `{declared_level}`, which no Namespace object of the tree carries")
        } else {
            format!("namespace `{namespace}` is `{level}` here")
        };
        diag = diag.secondary(declared.pod_security.span, label);
    }
    diags.push(diag);
}

/// E0105 for a label or annotation that is not valid Kubernetes metadata, or
/// that sets a Pod Security key.
fn metadata(namespace: &Namespace, diags: &mut Vec<Diagnostic>) {
    let pairs = (namespace.labels.iter().map(|p| (p, true))).chain(namespace.annotations.iter().map(|p| (p, false)));
    for ((key, value), is_label) in pairs {
        let what = if is_label { "label" } else { "annotation" };
        if key.value.starts_with("pod-security.kubernetes.io/") {
            diags.push(
                Diagnostic::new(Code::E0105, format!("namespace `{}` sets the {what} `{}`", namespace.name.value, key.value))
                    .primary(key.span, "a Pod Security key")
                    .help(format!(
                        "set the level with `namespace \"{}\" pod-security=\"restricted|baseline|privileged\"`: homelabc writes these keys from it",
                        namespace.name.value
                    )),
            );
            continue;
        }
        if let Err(problem) = qualified_name(&key.value) {
            diags.push(
                Diagnostic::new(Code::E0105, format!("`{}` is not a valid {what} key: {problem}", key.value))
                    .primary(key.span, "not a Kubernetes key")
                    .help("a key is an optional DNS prefix and `/`, then at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit"),
            );
        }
        if is_label && let Err(problem) = label_value(&value.value) {
            diags.push(
                Diagnostic::new(Code::E0105, format!("`{}` is not a valid label value: {problem}", value.value))
                    .primary(value.span, "not a label value")
                    .help("a label value is at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit (annotations take any text)"),
            );
        }
    }
}

/// Checks a qualified name (`[prefix/]name`), as label and annotation keys are.
fn qualified_name(key: &str) -> Result<(), String> {
    let name = match key.rsplit_once('/') {
        Some((prefix, name)) => {
            crate::model::check_dns_subdomain(prefix).map_err(|p| format!("its prefix {p}"))?;
            name
        }
        None => key,
    };
    if name.is_empty() {
        return Err("the name after the prefix is empty".into());
    }
    label_value(name)
}

/// Checks a label value (also the name part of a key): at most 63
/// characters of `[A-Za-z0-9_.-]`, alphanumeric at both ends.
fn label_value(value: &str) -> Result<(), String> {
    if value.len() > 63 {
        return Err(format!("it is {} characters long, at most 63 are allowed", value.len()));
    }
    if let Some(c) = value.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))) {
        return Err(format!("`{c}` is not allowed"));
    }
    let ends = [value.chars().next(), value.chars().last()];
    if !value.is_empty() && ends.iter().flatten().any(|c| !c.is_ascii_alphanumeric()) {
        return Err("it must start and end with a letter or digit".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values() {
        assert!(qualified_name("istio-injection").is_ok());
        assert!(qualified_name("example.com/team").is_ok());
        assert!(qualified_name("bad key").is_err());
        assert!(qualified_name("-x").is_err());
        assert!(label_value("").is_ok());
        assert!(label_value("enabled").is_ok());
        assert!(label_value("a/b").is_err());
    }
}
