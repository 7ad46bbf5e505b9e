//! Workload checks (E12xx): what each workload shape takes (E1201), that a
//! (a CronJob's missing schedule is E0104 at lowering), that `mount` and `env-from config=`
//! name what the pod has (E1202), that no container mounts two things at one
//! path (E1203), that config files can become ConfigMaps (E1204), and that a
//! claim of an app's own is not shared by pods on several nodes (E1205).

use std::collections::BTreeMap;

use crate::diag::{Code, Diagnostic};
use crate::model::{App, Container, EnvFrom, Model, VolumeSource, WorkloadKind};
use crate::source::Span;
use crate::suggest;

/// The largest ConfigMap the API server stores (its `data`, 1 MiB).
const CONFIG_MAP_LIMIT: usize = 1 << 20;

/// Runs the workload checks.
pub fn check(model: &Model, diags: &mut Vec<Diagnostic>) {
    for app in &model.apps {
        shape(app, diags);
        mounts(app, diags);
        configs(model, app, diags);
        shared_own_claims(app, diags);
    }
}

/// E1201 for what the app's workload kind does not take, and E0104 for a
/// CronJob without a schedule.
fn shape(app: &App, diags: &mut Vec<Diagnostic>) {
    let kind = app.workload();
    let name = &app.name.value;
    let mut refuse = |span: Span, what: &str, help: String| {
        diags.push(
            Diagnostic::new(Code::E1201, format!("a {kind} takes no {what}"))
                .primary(span, format!("app `{name}` is a {kind}"))
                .help(help),
        );
    };
    if kind != WorkloadKind::Cronjob {
        if let Some(schedule) = &app.schedule {
            refuse(
                schedule.span,
                "`schedule=`",
                "only a `kind=\"cronjob\"` runs on a schedule: add `kind=\"cronjob\"`, or remove `schedule=`".into(),
            );
        }
        if let Some(concurrency) = &app.concurrency {
            refuse(
                concurrency.span,
                "`concurrency`",
                "`concurrency` says what a CronJob does when runs overlap".into(),
            );
        }
    }
    if !kind.runs_to_completion()
        && let Some(limit) = &app.backoff_limit
    {
        refuse(limit.span, "`backoff-limit`", "`backoff-limit` counts the retries of a Job or CronJob run".into());
    }
    if !kind.scales() {
        if app.replicas.span != app.name.span {
            let why = match kind {
                WorkloadKind::Daemonset => {
                    "a DaemonSet runs one pod on each node it selects: choose the nodes with `node-selector`"
                }
                _ => "a Job runs one pod to completion",
            };
            refuse(app.replicas.span, "`replicas`", why.into());
        }
        if let Some(autoscale) = &app.autoscale {
            refuse(autoscale.span, "`autoscale`", "only Deployments and StatefulSets scale".into());
        }
        if let Some(spread) = &app.spread {
            refuse(spread.span, "`spread`", "`spread` places the replicas of a Deployment or StatefulSet".into());
        }
    }
    if kind.runs_to_completion() {
        let served = "a Job's pods run to completion and serve nothing: make it a `deployment` to serve, or remove it";
        if let Some(service) = &app.service {
            refuse(service.span, "`service`", served.into());
        }
        for ingress in &app.ingresses {
            refuse(ingress.span, "`ingress`", served.into());
        }
        for route in &app.routes {
            refuse(route.span, "`route`", served.into());
        }
        if let Some(metrics) = &app.metrics {
            refuse(
                metrics.span,
                "`metrics`",
                "Prometheus cannot scrape a pod that exits; the default alerts already watch the runs (a Pushgateway is the way to publish a Job's own metrics)".into(),
            );
        }
        for probe in app.containers().flat_map(|c| &c.probes) {
            refuse(
                probe.span,
                "probe",
                "a probe checks a pod that keeps running; a Job is done when its container exits with 0".into(),
            );
        }
    }
}

/// The names a `mount` may take: the pod's volumes, configs and mounted secrets.
fn mountable(app: &App) -> Vec<&str> {
    let mut names: Vec<&str> = app.volumes.iter().map(|v| v.name.value.as_str()).collect();
    names.extend(app.configs.iter().map(|c| c.name.value.as_str()));
    names.extend(app.secret_files.iter().map(|f| f.secret.value.as_str()));
    names
}

/// E1202 for a `mount` or `env-from config=` naming nothing of the pod;
/// E1203 for two mounts at one path in one container.
fn mounts(app: &App, diags: &mut Vec<Diagnostic>) {
    let names = mountable(app);
    for container in app.containers() {
        for mount in &container.mounts {
            if names.contains(&mount.volume.value.as_str()) {
                continue;
            }
            let help = suggest::help_for(&mount.volume.value, &names, "volumes, configs and secret files of the app")
                .unwrap_or_else(|| {
                    format!(
                        "declare it on the app (`volume \"{}\" mount=... ...`, `config`, `secret-file`): volumes belong to the pod and a sidecar mounts them by name",
                        mount.volume.value
                    )
                });
            diags.push(
                Diagnostic::new(
                    Code::E1202,
                    format!("app `{}` has no volume, config or secret file `{}`", app.name.value, mount.volume.value),
                )
                .primary(mount.volume.span, "mounted here")
                .help(help),
            );
        }
        for from in &container.env_from {
            let EnvFrom::Config(config) = from else { continue };
            match app.configs.iter().find(|c| c.name.value == config.value) {
                Some(c) if c.env_file => {}
                Some(c) => diags.push(
                    Diagnostic::new(Code::E1204, format!("config `{}` is a file, not variables", config.value))
                        .primary(config.span, "read as environment variables here")
                        .secondary(c.file.span, "a file mounted as is")
                        .help(format!(
                            "declare it with `env-file=` for `KEY=value` lines: `config \"{}\" env-file=\"...\"`",
                            config.value
                        )),
                ),
                None => {
                    let configs: Vec<&str> = app.configs.iter().map(|c| c.name.value.as_str()).collect();
                    let help = suggest::help_for(&config.value, &configs, "configs of the app").unwrap_or_else(|| {
                        format!("declare it on the app: `config \"{}\" env-file=\"config/app.env\"`", config.value)
                    });
                    diags.push(
                        Diagnostic::new(
                            Code::E1202,
                            format!("app `{}` has no config `{}`", app.name.value, config.value),
                        )
                        .primary(config.span, "read here")
                        .help(help),
                    );
                }
            }
        }
    }
    for container in app.containers() {
        let mut seen: BTreeMap<String, Span> = BTreeMap::new();
        for (path, span) in mount_paths(app, container) {
            let path = path.trim_end_matches('/').to_string();
            if let Some(first) = seen.get(&path) {
                diags.push(
                    Diagnostic::new(
                        Code::E1203,
                        format!(
                            "two mounts at `{path}` in container `{}` of app `{}`",
                            container.name.value, app.name.value
                        ),
                    )
                    .primary(span, "mounted again here")
                    .secondary(*first, "first mounted here")
                    .help("Kubernetes refuses two mounts at one path: give each its own path"),
                );
                continue;
            }
            seen.insert(path, span);
        }
    }
}

/// The paths a container mounts, with where each is written: every volume,
/// config and secret file for the app's own container, its `mount`s for the
/// others. (The `/tmp` homelabc adds for a read-only root gives way to a
/// mount of the app's own there.)
fn mount_paths<'a>(app: &'a App, container: &'a Container) -> Vec<(&'a str, Span)> {
    let mut paths: Vec<(&'a str, Span)> = if std::ptr::eq(container, &app.container) {
        let volumes = app.volumes.iter().map(|v| (v.mount.value.as_str(), v.mount.span));
        let configs = app.configs.iter().filter_map(|c| c.mount.as_ref()).map(|m| (m.value.as_str(), m.span));
        let files = app.secret_files.iter().map(|f| (f.mount.value.as_str(), f.mount.span));
        volumes.chain(configs).chain(files).collect()
    } else {
        container.mounts.iter().map(|m| (m.path.value.as_str(), m.path.span)).collect()
    };
    paths.sort_by_key(|(_, span)| *span);
    paths
}

/// E1204 for a config file that cannot become a ConfigMap: an env file
/// that is not `KEY=value` lines, or a file over the 1 MiB limit.
fn configs(model: &Model, app: &App, diags: &mut Vec<Diagnostic>) {
    for config in &app.configs {
        let Some(content) = model.attachments.get(&config.file.value) else { continue };
        if content.len() > CONFIG_MAP_LIMIT {
            diags.push(
                Diagnostic::new(
                    Code::E1204,
                    format!(
                        "config `{}` is {} KiB, more than a ConfigMap holds",
                        config.name.value,
                        content.len() / 1024
                    ),
                )
                .primary(config.file.span, "read from here")
                .help("a ConfigMap holds at most 1 MiB: put large files in a volume (a `claim`) or in the image"),
            );
        }
        if config.env_file
            && let Err(error) = crate::model::files::parse_env_file(content)
        {
            diags.push(
                Diagnostic::new(
                    Code::E1204,
                    format!("line {} of env file `{}`: {}", error.line, config.file.value, error.message),
                )
                .primary(config.file.span, "read from here")
                .help("an env file has one `KEY=value` per line; blank lines and lines starting with `#` are skipped"),
            );
        }
        if config.env_file
            && let Some(mount) = &config.mount
        {
            diags.push(
                Diagnostic::new(
                    Code::E1204,
                    format!("config `{}` is read as variables, not mounted", config.name.value),
                )
                .primary(mount.span, "`mount=` on an `env-file=` config")
                .help(format!(
                    "read it with `env-from config=\"{}\"`, or declare it with `file=` to mount the file as is",
                    config.name.value
                )),
            );
        }
    }
}

/// E1205: a claim of the app's own (`volume ... size=`) is ReadWriteOnce,
/// so the pods sharing it must run on one node — a Deployment with several
/// replicas or a DaemonSet cannot promise that.
fn shared_own_claims(app: &App, diags: &mut Vec<Diagnostic>) {
    let kind = app.workload();
    let several = match kind {
        WorkloadKind::Deployment => app.replicas.value > 1 || app.autoscale.is_some(),
        WorkloadKind::Daemonset => true,
        // Each StatefulSet replica gets a claim of its own; a Job runs one pod.
        WorkloadKind::Statefulset | WorkloadKind::Cronjob | WorkloadKind::Job => false,
    };
    if !several {
        return;
    }
    for volume in &app.volumes {
        let VolumeSource::Own(claim) = &volume.source else { continue };
        let help = match kind {
            WorkloadKind::Daemonset => format!(
                "a DaemonSet runs a pod on every node and one ReadWriteOnce volume attaches to one node: use `empty-dir=#true` or `host-path=` for per-node data, or a `claim` with `access=\"ReadWriteMany\"` for shared data (volume `{}`)",
                volume.name.value
            ),
            _ => format!(
                "drop `kind=\"deployment\"` to get a StatefulSet (one claim per replica), run one replica, or mount a `claim` with `access=\"ReadWriteMany\"` (volume `{}`)",
                volume.name.value
            ),
        };
        diags.push(
            Diagnostic::new(
                Code::E1205,
                format!(
                    "the pods of {kind} `{}` would share the ReadWriteOnce volume `{}`",
                    app.name.value, volume.name.value
                ),
            )
            .primary(claim.size.span, "one claim, attached to one node")
            .help(help),
        );
    }
}
