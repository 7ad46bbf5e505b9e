//! Drone (`.drone.yml`, `type: kubernetes`): every step runs as a pod of the
//! `drone` component's Kubernetes runner, in its namespace. The test steps in
//! their images, the kaniko build and push (plain HTTP for an `insecure`
//! registry), then the deploy. Pull requests are tested, never pushed or
//! deployed; the `[skip ci]` of a GitOps bump is honoured by Drone itself.
//!
//! Secrets the user adds to the repository in Drone: `docker_config_json`
//! (a Docker `config.json`) when the registry takes credentials, and
//! `git_push_token` for a GitOps deploy. A kubectl deploy runs as the
//! `<name>-deploy` ServiceAccount, bound to `get` and `patch` of the app's
//! workload (written by the parent module).

use serde_json::{Value as Json, json};

use super::{
    BUILD, DEPLOY, DeployPlan, KANIKO_SHELL_IMAGE, Plan, ci_header, escape_dollars, gitops_commands, kubectl_args,
};
use crate::backend::{Artifacts, RawFile};
use crate::model::{DeployVia, Trigger};

/// Emits `.drone.yml`.
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
    let not_for_pull_requests = json!({"event": {"exclude": ["pull_request"]}});
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
        steps.push(deploy_step(deploy, not_for_pull_requests));
    }
    let mut pipeline = json!({
        "kind": "pipeline",
        "type": "kubernetes",
        "name": plan.name,
        "trigger": trigger(plan),
        "steps": steps,
    });
    if plan.deploy.as_ref().is_some_and(|d| d.via == DeployVia::Kubectl) {
        pipeline["service_account_name"] = json!(plan.deployer());
    }
    let text = ci_header(plan, ".drone.yml") + &crate::yaml::render_json(&pipeline);
    out.raw.push(RawFile { unit: None, path: format!("{}/.drone.yml", plan.unit), text });
}

/// `TAG=sha-<short commit>`, from the commit Drone checked out.
fn tag_command() -> String {
    "TAG=sha-$(printf '%s' \"$DRONE_COMMIT_SHA\" | cut -c1-7)".into()
}

fn deploy_step(deploy: &DeployPlan<'_>, when: Json) -> Json {
    match deploy.via {
        DeployVia::Kubectl => {
            let args = kubectl_args(deploy, "$TAG");
            let command =
                format!("kubectl {}", args.iter().map(|a| super::shell_quote(a)).collect::<Vec<_>>().join(" "));
            json!({
                "name": DEPLOY,
                "image": super::kubectl_shell_image(deploy),
                "commands": [escape_dollars(&tag_command()), escape_dollars(&command)],
                "when": when,
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

/// The events and refs that start the pipeline.
fn trigger(plan: &Plan<'_>) -> Json {
    let mut events = Vec::new();
    let mut refs = Vec::new();
    let triggers: Vec<Trigger> = plan.pipeline.triggers.iter().map(|t| t.value).collect();
    for t in if triggers.is_empty() { vec![Trigger::Push] } else { triggers } {
        let (event, reference) = match t {
            Trigger::Push => ("push", format!("refs/heads/{}", plan.branch)),
            Trigger::Tag => ("tag", "refs/tags/*".to_string()),
            Trigger::PullRequest => ("pull_request", "refs/pull/*/head".to_string()),
            // A build started from Drone's UI or CLI.
            Trigger::Manual => ("custom", format!("refs/heads/{}", plan.branch)),
        };
        events.push(event);
        refs.push(reference);
    }
    events.dedup();
    refs.sort();
    refs.dedup();
    json!({"event": events, "ref": refs})
}
