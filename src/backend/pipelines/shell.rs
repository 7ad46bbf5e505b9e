//! The steps Drone and Woodpecker share: both run shell `commands` in an
//! image, substitute `${VAR}` in their YAML (so every `$` the shell should see
//! is written `$$`), read secrets with `from_secret`, and take the same test
//! steps, kaniko build and GitOps bump. Only their trigger syntax, the
//! variable holding the commit and the kubectl step differ.

use serde_json::{Value as Json, json};

use super::{BUILD, DEPLOY, DeployPlan, GITOPS_IMAGE, KANIKO_SHELL_IMAGE, Plan, escape_dollars, gitops_commands};

/// One engine's words for what the shared steps need.
pub struct Dialect {
    /// The environment variable holding the commit checked out.
    pub commit_variable: &'static str,
    /// The `when` of the steps that push or deploy (not for pull requests).
    pub not_for_pull_requests: Json,
}

impl Dialect {
    /// `TAG=sha-<short commit>`, computed by the shell.
    pub fn tag_command(&self) -> String {
        format!("TAG=sha-$(printf '%s' \"${}\" | cut -c1-7)", self.commit_variable)
    }
}

/// The escaped form of shell lines.
pub fn escaped(lines: &[String]) -> Vec<String> {
    lines.iter().map(|line| escape_dollars(line)).collect()
}

/// The description's test steps, then the kaniko build and push.
pub fn build_steps(plan: &Plan<'_>, dialect: &Dialect) -> Vec<Json> {
    let mut steps: Vec<Json> = plan
        .pipeline
        .steps
        .iter()
        .map(|s| {
            let commands: Vec<String> = s.run.iter().map(|r| r.value.clone()).collect();
            json!({"name": s.name.value, "image": s.image.value, "commands": escaped(&commands)})
        })
        .collect();
    if let Some(build) = &plan.build {
        let mut commands = vec![dialect.tag_command()];
        let mut step = json!({"name": BUILD, "image": KANIKO_SHELL_IMAGE, "when": dialect.not_for_pull_requests});
        if build.registry.pull_secret.is_some() {
            commands.push("printf '%s' \"$DOCKER_CONFIG_JSON\" > /kaniko/.docker/config.json".into());
            step["environment"] = json!({"DOCKER_CONFIG_JSON": {"from_secret": "docker_config_json"}});
        }
        commands.push(super::kaniko_command(build, "$TAG"));
        step["commands"] = json!(escaped(&commands));
        steps.push(step);
    }
    steps
}

/// The GitOps bump, with the push token from the engine's `git_push_token`.
pub fn gitops_step(deploy: &DeployPlan<'_>, dialect: &Dialect) -> Json {
    let mut commands = vec![dialect.tag_command()];
    commands.extend(gitops_commands(deploy));
    json!({
        "name": DEPLOY,
        "image": GITOPS_IMAGE,
        "environment": {"GIT_PUSH_TOKEN": {"from_secret": "git_push_token"}},
        "commands": escaped(&commands),
        "when": dialect.not_for_pull_requests,
    })
}
