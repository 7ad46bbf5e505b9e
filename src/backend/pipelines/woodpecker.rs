//! Woodpecker (`.woodpecker/<name>.yml`): the same stages as Drone, for
//! Woodpecker's Kubernetes backend (pods in its namespace, `woodpecker`
//! unless `namespace=`). The kubectl deploy runs the upstream kubectl image
//! as the `<name>-deploy` ServiceAccount, bound to `get` and `patch` of the
//! app's workload; Woodpecker substitutes the commit in its arguments.
//!
//! Secrets the user adds in Woodpecker: `docker_config_json` when the
//! registry takes credentials, `git_push_token` for a GitOps deploy.

use serde::Serialize;

use super::shell::{
    BackendOptions, Dialect, EventFilter, KubernetesOptions, ShellStep, When, build_steps, gitops_step,
};
use super::{DEPLOY, DeployPlan, Plan, kubectl_args};
use crate::backend::Artifacts;
use crate::model::{DeployVia, Trigger};

/// `.woodpecker/<name>.yml`: when the workflow runs, and its steps.
#[derive(Debug, Serialize)]
struct Workflow {
    /// One condition per trigger; any of them starts the workflow.
    when: Vec<Condition>,
    /// Its steps, in order.
    steps: Vec<ShellStep>,
}

/// A condition of the workflow: an event, on a branch for some.
#[derive(Debug, Serialize)]
struct Condition {
    /// The event.
    event: &'static str,
    /// The branch it applies to.
    #[serde(skip_serializing_if = "Option::is_none")]
    branch: Option<String>,
}

fn dialect() -> Dialect {
    Dialect {
        commit_variable: "CI_COMMIT_SHA",
        not_for_pull_requests: When { event: EventFilter::Only(vec!["push", "tag", "manual"]) },
    }
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
    plan.ci_file(out, Workflow { when: when(plan), steps });
}

/// The upstream kubectl image as its entrypoint, as the deploy account;
/// Woodpecker substitutes the commit in the arguments.
fn kubectl_step(plan: &Plan<'_>, deploy: &DeployPlan<'_>, dialect: &Dialect) -> ShellStep {
    let mut entrypoint = vec!["kubectl".to_string()];
    entrypoint.extend(kubectl_args(deploy, &format!("sha-${{{}:0:7}}", dialect.commit_variable)));
    let kubernetes = KubernetesOptions { service_account_name: plan.deployer() };
    ShellStep {
        entrypoint,
        when: Some(dialect.not_for_pull_requests.clone()),
        backend_options: Some(BackendOptions { kubernetes }),
        ..ShellStep::new(DEPLOY, &deploy.kubectl_image)
    }
}

/// The workflow's `when`: one condition per trigger.
fn when(plan: &Plan<'_>) -> Vec<Condition> {
    let triggers: Vec<Trigger> = plan.pipeline.triggers.iter().map(|t| t.value).collect();
    let triggers = if triggers.is_empty() { vec![Trigger::Push] } else { triggers };
    let branch = || Some(plan.branch.to_string());
    triggers
        .into_iter()
        .map(|t| match t {
            Trigger::Push => Condition { event: "push", branch: branch() },
            Trigger::Tag => Condition { event: "tag", branch: None },
            Trigger::PullRequest => Condition { event: "pull_request", branch: branch() },
            Trigger::Manual => Condition { event: "manual", branch: None },
        })
        .collect()
}
