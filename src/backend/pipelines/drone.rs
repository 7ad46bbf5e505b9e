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

use serde::Serialize;

use super::shell::{Dialect, EventFilter, ShellStep, When, build_steps, escaped, gitops_step};
use super::{DEPLOY, DeployPlan, Plan, kubectl_args};
use crate::backend::Artifacts;
use crate::model::{DeployVia, Trigger};

/// `.drone.yml`: one pipeline of the Kubernetes runner.
#[derive(Debug, Serialize)]
struct DronePipeline {
    /// `pipeline`.
    kind: &'static str,
    /// The runner: `kubernetes`.
    #[serde(rename = "type")]
    runner: &'static str,
    /// The pipeline's name.
    name: String,
    /// The events and refs that start it.
    trigger: DroneTrigger,
    /// Its steps, in order.
    steps: Vec<ShellStep>,
    /// The ServiceAccount its pods run as, when it rolls a workload.
    #[serde(skip_serializing_if = "Option::is_none")]
    service_account_name: Option<String>,
}

/// The events and refs that start a Drone pipeline.
#[derive(Debug, Serialize)]
struct DroneTrigger {
    /// Events.
    event: Vec<&'static str>,
    /// Ref patterns.
    #[serde(rename = "ref")]
    refs: Vec<String>,
}

fn dialect() -> Dialect {
    Dialect {
        commit_variable: "DRONE_COMMIT_SHA",
        not_for_pull_requests: When { event: EventFilter::Exclude { exclude: vec!["pull_request"] } },
    }
}

/// Emits `.drone.yml`.
pub fn emit(plan: &Plan<'_>, out: &mut Artifacts) {
    let dialect = dialect();
    let mut steps = build_steps(plan, &dialect);
    if let Some(deploy) = &plan.deploy {
        steps.push(match deploy.via {
            DeployVia::Kubectl => kubectl_step(deploy, &dialect),
            DeployVia::Gitops => gitops_step(deploy, &dialect),
        });
    }
    let kubectl = plan.deploy.as_ref().is_some_and(|d| d.via == DeployVia::Kubectl);
    let pipeline = DronePipeline {
        kind: "pipeline",
        runner: "kubernetes",
        name: plan.name.to_string(),
        trigger: trigger(plan),
        steps,
        service_account_name: kubectl.then(|| plan.deployer()),
    };
    plan.ci_file(out, pipeline);
}

/// kubectl in an image with a shell (Drone steps have no entrypoint).
fn kubectl_step(deploy: &DeployPlan<'_>, dialect: &Dialect) -> ShellStep {
    let args = kubectl_args(deploy, "$TAG");
    let command = format!("kubectl {}", args.iter().map(|a| super::shell_quote(a)).collect::<Vec<_>>().join(" "));
    ShellStep {
        commands: Some(escaped(&[dialect.tag_command(), command])),
        when: Some(dialect.not_for_pull_requests.clone()),
        ..ShellStep::new(DEPLOY, &super::kubectl_shell_image(deploy))
    }
}

/// The events and refs that start the pipeline.
fn trigger(plan: &Plan<'_>) -> DroneTrigger {
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
    DroneTrigger { event: events, refs }
}
