//! The steps Drone and Woodpecker share: both run shell `commands` in an
//! image, substitute `${VAR}` in their YAML (so every `$` the shell should see
//! is written `$$`), read secrets with `from_secret`, and take the same test
//! steps, kaniko build and GitOps bump. Only their trigger syntax, the
//! variable holding the commit and the kubectl step differ.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{BUILD, DEPLOY, DeployPlan, KANIKO_SHELL_IMAGE, Plan, escape_dollars, gitops_commands};

/// One engine's words for what the shared steps need.
pub struct Dialect {
    /// The environment variable holding the commit checked out.
    pub commit_variable: &'static str,
    /// The `when` of the steps that push or deploy (not for pull requests).
    pub not_for_pull_requests: When,
}

impl Dialect {
    /// `TAG=sha-<short commit>`, computed by the shell.
    pub fn tag_command(&self) -> String {
        format!("TAG=sha-$(printf '%s' \"${}\" | cut -c1-7)", self.commit_variable)
    }
}

/// A step of a Drone or Woodpecker pipeline: an image and the shell commands
/// (or the entrypoint) it runs, its secrets, and when it runs.
#[derive(Debug, Serialize)]
pub struct ShellStep {
    /// Its name.
    pub name: String,
    /// Its image.
    pub image: String,
    /// The shell commands it runs, `$` escaped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commands: Option<Vec<String>>,
    /// The command it runs instead of a shell.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entrypoint: Vec<String>,
    /// Environment variables read from the engine's secrets.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<&'static str, FromSecret>,
    /// When it runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<When>,
    /// Settings of the engine's Kubernetes backend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_options: Option<BackendOptions>,
}

impl ShellStep {
    /// A step of `image` that runs nothing yet, always.
    pub fn new(name: &str, image: &str) -> ShellStep {
        ShellStep {
            name: name.to_string(),
            image: image.to_string(),
            commands: None,
            entrypoint: Vec::new(),
            environment: BTreeMap::new(),
            when: None,
            backend_options: None,
        }
    }
}

/// A value read from one of the engine's secrets.
#[derive(Debug, Serialize)]
pub struct FromSecret {
    /// The secret's name.
    pub from_secret: &'static str,
}

/// The condition of a step: the events it runs for.
#[derive(Clone, Debug, Serialize)]
pub struct When {
    /// The events.
    pub event: EventFilter,
}

/// Which events: a list of them, or all but some.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum EventFilter {
    /// Only these events (Woodpecker).
    Only(Vec<&'static str>),
    /// Every event but these (Drone).
    Exclude {
        /// The events excluded.
        exclude: Vec<&'static str>,
    },
}

/// Settings of Woodpecker's Kubernetes backend for one step.
#[derive(Debug, Serialize)]
pub struct BackendOptions {
    /// The pod's settings.
    pub kubernetes: KubernetesOptions,
}

/// The pod a step runs in.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KubernetesOptions {
    /// The ServiceAccount it runs as.
    pub service_account_name: String,
}

/// The escaped form of shell lines.
pub fn escaped(lines: &[String]) -> Vec<String> {
    lines.iter().map(|line| escape_dollars(line)).collect()
}

/// The description's test steps, then the kaniko build and push.
pub fn build_steps(plan: &Plan<'_>, dialect: &Dialect) -> Vec<ShellStep> {
    let mut steps: Vec<ShellStep> = plan
        .pipeline
        .steps
        .iter()
        .map(|s| {
            let commands: Vec<String> = s.run.iter().map(|r| r.value.clone()).collect();
            ShellStep { commands: Some(escaped(&commands)), ..ShellStep::new(&s.name.value, &s.image.value) }
        })
        .collect();
    if let Some(build) = &plan.build {
        let mut commands = vec![dialect.tag_command()];
        let mut step = ShellStep {
            when: Some(dialect.not_for_pull_requests.clone()),
            ..ShellStep::new(BUILD, KANIKO_SHELL_IMAGE)
        };
        if build.registry.pull_secret.is_some() {
            commands.push("printf '%s' \"$DOCKER_CONFIG_JSON\" > /kaniko/.docker/config.json".into());
            step.environment.insert("DOCKER_CONFIG_JSON", FromSecret { from_secret: "docker_config_json" });
        }
        commands.push(super::kaniko_command(build, "$TAG"));
        step.commands = Some(escaped(&commands));
        steps.push(step);
    }
    steps
}

/// The GitOps bump, with the push token from the engine's `git_push_token`.
pub fn gitops_step(deploy: &DeployPlan<'_>, dialect: &Dialect) -> ShellStep {
    let mut commands = vec![dialect.tag_command()];
    commands.extend(gitops_commands(deploy));
    ShellStep {
        environment: BTreeMap::from([("GIT_PUSH_TOKEN", FromSecret { from_secret: "git_push_token" })]),
        commands: Some(escaped(&commands)),
        when: Some(dialect.not_for_pull_requests.clone()),
        ..ShellStep::new(DEPLOY, deploy.homelabc_image)
    }
}
