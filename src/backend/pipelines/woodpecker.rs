//! Woodpecker (`.woodpecker/<name>.yml`): the same stages as Drone, for
//! Woodpecker's Kubernetes backend (pods in its namespace, `woodpecker`
//! unless `namespace=`). The kubectl deploy runs the upstream kubectl image
//! as the `<name>-deploy` ServiceAccount, bound to `get` and `patch` of the
//! app's workload; Woodpecker substitutes the commit in its arguments.
//!
//! Secrets the user adds in Woodpecker: `docker_config_json` when the
//! registry takes credentials, `git_push_token` for a GitOps deploy.

use serde_json::{Value as Json, json};

use super::{
    BUILD, DEPLOY, DeployPlan, KANIKO_SHELL_IMAGE, Plan, ci_header, escape_dollars, gitops_commands, kubectl_args,
};
use crate::backend::{Artifacts, RawFile};
use crate::model::{DeployVia, Trigger};

/// Emits `.woodpecker/<name>.yml`.
pub fn emit(plan: &Plan<'_>, out: &mut Artifacts) {
    let mut steps: Vec<Json> = plan
        .pipeline
        .steps
        .iter()
        .map(|s| {
            json!({
                "name": s.name.value,
                "image": s.image.value,
                "commands": s.run.iter().map(|r| escape_dollars(&r.value)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let not_for_pull_requests = json!({"event": ["push", "tag", "manual"]});
    if let Some(build) = &plan.build {
        let mut commands = vec![tag_command()];
        let mut step = json!({"name": BUILD, "image": KANIKO_SHELL_IMAGE, "when": not_for_pull_requests});
        if build.registry.pull_secret.is_some() {
            commands.push("printf '%s' \"$DOCKER_CONFIG_JSON\" > /kaniko/.docker/config.json".into());
            step["environment"] = json!({"DOCKER_CONFIG_JSON": {"from_secret": "docker_config_json"}});
        }
        commands.push(super::kaniko_command(build, "$TAG"));
        step["commands"] = json!(commands.iter().map(|c| escape_dollars(c)).collect::<Vec<_>>());
        steps.push(step);
    }
    if let Some(deploy) = &plan.deploy {
        steps.push(deploy_step(plan, deploy, not_for_pull_requests));
    }
    let workflow = json!({"when": when(plan), "steps": steps});
    let path = format!(".woodpecker/{}.yml", plan.name);
    let text = ci_header(plan, &path) + &crate::yaml::render_json(&workflow);
    out.raw.push(RawFile { unit: None, path: format!("{}/{path}", plan.unit), text });
}

/// `TAG=sha-<short commit>`, from the commit Woodpecker checked out.
fn tag_command() -> String {
    "TAG=sha-$(printf '%s' \"$CI_COMMIT_SHA\" | cut -c1-7)".into()
}

fn deploy_step(plan: &Plan<'_>, deploy: &DeployPlan<'_>, when: Json) -> Json {
    match deploy.via {
        DeployVia::Kubectl => {
            let mut entrypoint = vec!["kubectl".to_string()];
            entrypoint.extend(kubectl_args(deploy, "sha-${CI_COMMIT_SHA:0:7}"));
            json!({
                "name": DEPLOY,
                "image": deploy.kubectl_image,
                "entrypoint": entrypoint,
                "when": when,
                "backend_options": {"kubernetes": {"serviceAccountName": plan.deployer()}},
            })
        }
        DeployVia::Gitops => {
            let mut commands = vec![escape_dollars(&tag_command())];
            commands.extend(gitops_commands(deploy).iter().map(|c| escape_dollars(c)));
            json!({
                "name": DEPLOY,
                "image": super::GITOPS_IMAGE,
                "environment": {"GIT_PUSH_TOKEN": {"from_secret": "git_push_token"}},
                "commands": commands,
                "when": when,
            })
        }
    }
}

/// The workflow's `when`: one condition per trigger.
fn when(plan: &Plan<'_>) -> Json {
    let triggers: Vec<Trigger> = plan.pipeline.triggers.iter().map(|t| t.value).collect();
    let triggers = if triggers.is_empty() { vec![Trigger::Push] } else { triggers };
    Json::Array(
        triggers
            .into_iter()
            .map(|t| match t {
                Trigger::Push => json!({"event": "push", "branch": plan.branch}),
                Trigger::Tag => json!({"event": "tag"}),
                Trigger::PullRequest => json!({"event": "pull_request", "branch": plan.branch}),
                Trigger::Manual => json!({"event": "manual"}),
            })
            .collect(),
    )
}
