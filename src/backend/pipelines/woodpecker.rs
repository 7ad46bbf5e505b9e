//! Woodpecker (`.woodpecker/<name>.yml`): the same stages as Drone, for
//! Woodpecker's Kubernetes backend (pods in its namespace, `woodpecker`
//! unless `namespace=`). The kubectl deploy runs the upstream kubectl image
//! as the `<name>-deploy` ServiceAccount, bound to `get` and `patch` of the
//! app's workload; Woodpecker substitutes the commit in its arguments.
//!
//! Secrets the user adds in Woodpecker: `docker_config_json` when the
//! registry takes credentials, `git_push_token` for a GitOps deploy.

use serde_json::{Value as Json, json};

use super::shell::{Dialect, build_steps, gitops_step};
use super::{DEPLOY, DeployPlan, Plan, kubectl_args};
use crate::backend::Artifacts;
use crate::model::{DeployVia, Trigger};

fn dialect() -> Dialect {
    Dialect { commit_variable: "CI_COMMIT_SHA", not_for_pull_requests: json!({"event": ["push", "tag", "manual"]}) }
}

/// Emits `.woodpecker/<name>.yml`.
pub fn emit(plan: &Plan<'_>, out: &mut Artifacts) {
    let dialect = dialect();
    let mut steps = build_steps(plan, &dialect);
    if let Some(deploy) = &plan.deploy {
        steps.push(match deploy.via {
            DeployVia::Kubectl => kubectl_step(plan, deploy, &dialect),
            DeployVia::Gitops => gitops_step(deploy, &dialect),
        });
    }
    let workflow = json!({"when": when(plan), "steps": steps});
    plan.ci_file(out, workflow);
}

/// The upstream kubectl image as its entrypoint, as the deploy account;
/// Woodpecker substitutes the commit in the arguments.
fn kubectl_step(plan: &Plan<'_>, deploy: &DeployPlan<'_>, dialect: &Dialect) -> Json {
    let mut entrypoint = vec!["kubectl".to_string()];
    entrypoint.extend(kubectl_args(deploy, &format!("sha-${{{}:0:7}}", dialect.commit_variable)));
    json!({
        "name": DEPLOY,
        "image": deploy.kubectl_image,
        "entrypoint": entrypoint,
        "when": dialect.not_for_pull_requests,
        "backend_options": {"kubernetes": {"serviceAccountName": plan.deployer()}},
    })
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
