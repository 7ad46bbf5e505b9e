//! Tekton (tekton.dev/v1, triggers.tekton.dev/v1beta1): the pipeline of seed
//! 004 — fetch-source → the test steps → build-image → deploy-app over one
//! workspace — with every account and permission it needs, so that its first
//! run succeeds.
//!
//! In the pipeline's namespace (`ci` unless `namespace=`, `baseline` because
//! kaniko runs as root): a Task per stage, the Pipeline, a token-less
//! ServiceAccount the tasks run as, a `<name>-deploy` account bound to exactly
//! `get` and `patch` of the app's workload for `via="kubectl"`, a
//! NetworkPolicy letting the pipeline's pods out (clone, push, API), and for
//! webhook triggers an EventListener, its TriggerBindings and TriggerTemplate
//! with their own least-privilege account (in `triggers/`, a unit of its own,
//! since Tekton Triggers is installed by hand). `run.yaml` beside them, listed by
//! no kustomization, is the PipelineRun to start a run by hand
//! (`kubectl create -f`).

mod triggers;
mod types;

use k8s_openapi::api::core::v1::{
    Capabilities, EnvVar, EnvVarSource, KeyToPath, PersistentVolumeClaimSpec, PodSecurityContext, SeccompProfile,
    SecretKeySelector, SecretVolumeSource, SecurityContext, VolumeResourceRequirements,
};
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicySpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use self::types::{
    NameRef, Param, ParamSpec, Pipeline, PipelineRun, PipelineRunSpec, PipelineSpec, PipelineTask, PipelineTaskRunSpec,
    PodTemplate, Step, Task, TaskResult, TaskRunTemplate, TaskSpec, VolumeClaimTemplate, WhenExpression,
    WorkspaceBinding, WorkspaceDeclaration, WorkspaceMapping,
};
use super::{
    BUILD, BuildPlan, DEPLOY, DeployPlan, FETCH, GIT_IMAGE, KANIKO_IMAGE, Plan, gitops_commands, kubectl_args, labels,
};
use crate::backend::k8s::DEFAULT_USER;
use crate::backend::{Artifacts, Content, Custom, meta};
use crate::layout::FilePlace;
use crate::model::{DeployVia, Trigger};

/// The workspace the tasks share.
const SOURCE: &str = "source";
/// The optional workspace holding the registry's Docker credentials.
const REGISTRY_AUTH: &str = "registry-credentials";
/// The port an EventListener's Service listens on.
pub const LISTENER_PORT: u16 = 8080;

/// Emits the Tekton objects of one pipeline.
pub fn emit(plan: &Plan<'_>, out: &mut Artifacts) {
    let Some(ns) = plan.namespace else { return };
    let (origin, unit) = (&plan.origin, &plan.unit);
    out.object(origin, unit, super::service_account(plan, plan.name, ns, false));
    if plan.deploy.as_ref().is_some_and(|d| d.via == DeployVia::Kubectl) {
        out.object(origin, unit, super::service_account(plan, &plan.deployer(), ns, true));
    }
    out.object(origin, unit, fetch_task(plan, ns));
    for step in &plan.pipeline.steps {
        let run: Vec<&str> = step.run.iter().map(|r| r.value.as_str()).collect();
        out.object(origin, unit, step_task(plan, ns, &step.name.value, &step.image.value, &run));
    }
    if let Some(build) = &plan.build {
        out.object(origin, unit, build_task(plan, build, ns));
    }
    if let Some(deploy) = &plan.deploy {
        out.object(origin, unit, deploy_task(plan, deploy, ns));
    }
    out.object(origin, unit, pipeline(plan, ns));
    out.object(origin, unit, egress_policy(plan, ns));
    let webhooks: Vec<Trigger> =
        plan.pipeline.triggers.iter().map(|t| t.value).filter(|t| *t != Trigger::Manual).collect();
    if !webhooks.is_empty() {
        triggers::emit(plan, ns, &webhooks, out);
    }
    let run = run_template(plan, ns, plan.branch, "manual");
    let header = format!(
        "# Starts pipeline \"{}\" by hand: kubectl create -f run.yaml\n# (a PipelineRun has a generated name, so it is created, not applied).\n",
        plan.name
    );
    let place = FilePlace::PipelineRun { scope: plan.scope.clone(), pipeline: plan.name.to_string() };
    out.file(&plan.origin, place, Content::Yaml { header, body: Box::new(run) });
}

/// The metadata of a pipeline's object: its name, namespace and labels.
fn metadata(plan: &Plan<'_>, name: &str, ns: &str) -> ObjectMeta {
    meta(name, Some(ns), labels(plan))
}

fn task_name(plan: &Plan<'_>, stage: &str) -> String {
    format!("{}-{stage}", plan.name)
}

/// The Task of a stage of the pipeline.
fn task(plan: &Plan<'_>, ns: &str, stage: &str, spec: TaskSpec) -> Custom<Task> {
    Custom::new(metadata(plan, &task_name(plan, stage), ns), Task { spec })
}

/// Where the repository is checked out in a task.
const CHECKOUT: &str = "$(workspaces.source.path)";

/// The security context of steps that need no root: non-root, no privilege
/// escalation, no capabilities (what `restricted` asks for).
fn non_root() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities { drop: Some(vec!["ALL".into()]), add: None }),
        run_as_non_root: Some(true),
        run_as_user: Some(DEFAULT_USER),
        run_as_group: Some(DEFAULT_USER),
        ..SecurityContext::default()
    }
}

fn script(lines: &[&str]) -> String {
    let mut text = String::from("#!/bin/sh\nset -eu\n");
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// Clones `url` at `revision` into the workspace (emptied first, a reused
/// claim may hold an older checkout) and publishes the commit and the tag.
fn fetch_task(plan: &Plan<'_>, ns: &str) -> Custom<Task> {
    let url = plan.pipeline.source.as_ref().map_or("", |s| s.repo.value.as_str());
    let body = script(&[
        "cd \"$(workspaces.source.path)\"",
        "find . -mindepth 1 -maxdepth 1 -exec rm -rf {} +",
        "git config --global --add safe.directory \"$(workspaces.source.path)\"",
        "git init --quiet .",
        "git remote add origin \"$(params.url)\"",
        "git fetch --quiet --depth 1 origin \"$(params.revision)\"",
        "git checkout --quiet FETCH_HEAD",
        "commit=$(git rev-parse HEAD)",
        "printf '%s' \"$commit\" > \"$(results.commit.path)\"",
        "printf 'sha-%s' \"$(printf '%s' \"$commit\" | cut -c1-7)\" > \"$(results.tag.path)\"",
    ]);
    let spec = TaskSpec {
        description: "Clones the source into the workspace.".into(),
        params: vec![
            ParamSpec::string("url", Some(url), "Repository to clone."),
            ParamSpec::string("revision", Some(plan.branch), "Branch, tag or commit."),
        ],
        results: vec![
            TaskResult::string("commit", "The commit checked out."),
            TaskResult::string("tag", "The image tag: sha- and the short commit."),
        ],
        workspaces: vec![WorkspaceDeclaration::new(SOURCE, "Where the source is checked out.")],
        steps: vec![Step { script: Some(body), security_context: Some(non_root()), ..Step::new("clone", GIT_IMAGE) }],
    };
    task(plan, ns, FETCH, spec)
}

/// A `step` of the description: its commands in its image, in the checkout.
fn step_task(plan: &Plan<'_>, ns: &str, step: &str, image: &str, run: &[&str]) -> Custom<Task> {
    let mut lines = vec!["cd \"$(workspaces.source.path)\""];
    lines.extend_from_slice(run);
    let spec = TaskSpec {
        description: format!("The `{step}` step."),
        params: Vec::new(),
        results: Vec::new(),
        workspaces: vec![WorkspaceDeclaration::new(SOURCE, "The checked-out source.")],
        steps: vec![Step { script: Some(script(&lines)), ..Step::new(step, image) }],
    };
    task(plan, ns, step, spec)
}

/// The kaniko build and push. kaniko runs as root (it unpacks the base image's
/// file system), the one step that needs the `baseline` level.
fn build_task(plan: &Plan<'_>, build: &BuildPlan<'_>, ns: &str) -> Custom<Task> {
    let mut args = super::kaniko_flags(build, CHECKOUT, "$(params.tag)");
    // Right after the destination, where the Task has always had it.
    args.insert(3, "--digest-file=$(results.digest.path)".to_string());
    let root = SecurityContext { run_as_user: Some(0), run_as_non_root: Some(false), ..SecurityContext::default() };
    let mut step = Step { args, security_context: Some(root), ..Step::new("build-and-push", KANIKO_IMAGE) };
    let mut workspaces = vec![WorkspaceDeclaration::read_only(SOURCE, "The checked-out source.")];
    if build.registry.pull_secret.is_some() {
        workspaces
            .push(WorkspaceDeclaration::read_only(REGISTRY_AUTH, "The registry's Docker credentials (config.json)."));
        step.env = vec![EnvVar {
            name: "DOCKER_CONFIG".into(),
            value: Some(format!("$(workspaces.{REGISTRY_AUTH}.path)")),
            value_from: None,
        }];
    }
    let spec = TaskSpec {
        description: format!("Builds the image of app `{}` with kaniko and pushes it.", build.app.name.value),
        params: vec![ParamSpec::string("tag", None, "The image tag.")],
        results: vec![TaskResult::string("digest", "The digest of the pushed image.")],
        workspaces,
        steps: vec![step],
    };
    task(plan, ns, BUILD, spec)
}

/// The deploy: a kubectl rollout of the built image, or the GitOps bump.
fn deploy_task(plan: &Plan<'_>, deploy: &DeployPlan<'_>, ns: &str) -> Custom<Task> {
    let (step, what) = match deploy.via {
        DeployVia::Kubectl => (
            Step {
                command: vec!["kubectl".into()],
                args: kubectl_args(deploy, "$(params.tag)"),
                security_context: Some(non_root()),
                ..Step::new("rollout", &deploy.kubectl_image)
            },
            format!("Rolls {} `{}` to the new image.", deploy.workload, deploy.app.name.value),
        ),
        DeployVia::Gitops => (
            bump_step(plan, deploy),
            format!(
                "Sets the image tag of app `{}` in the description, rebuilds the tree and pushes it.",
                deploy.app.name.value
            ),
        ),
    };
    let spec = TaskSpec {
        description: what,
        params: vec![ParamSpec::string("tag", None, "The image tag to deploy.")],
        results: Vec::new(),
        workspaces: Vec::new(),
        steps: vec![step],
    };
    task(plan, ns, DEPLOY, spec)
}

/// The GitOps bump, pushing with the `token` of the deploy's Secret.
fn bump_step(plan: &Plan<'_>, deploy: &DeployPlan<'_>) -> Step {
    let commands = gitops_commands(deploy);
    let lines: Vec<&str> = commands.iter().map(String::as_str).collect();
    let secret = plan.pipeline.deploy.as_ref().and_then(|d| d.secret.as_ref()).map_or("", |s| s.value.as_str());
    let token = EnvVarSource {
        secret_key_ref: Some(SecretKeySelector {
            name: secret.to_string(),
            key: super::PUSH_TOKEN_KEY.into(),
            optional: None,
        }),
        ..EnvVarSource::default()
    };
    Step {
        script: Some(script(&lines)),
        env: vec![
            EnvVar { name: "TAG".into(), value: Some("$(params.tag)".into()), value_from: None },
            EnvVar { name: "GIT_PUSH_TOKEN".into(), value: None, value_from: Some(token) },
        ],
        ..Step::new("bump-tag", deploy.homelabc_image)
    }
}

/// The Pipeline: the tasks in order, each after the one before.
fn pipeline(plan: &Plan<'_>, ns: &str) -> Custom<Pipeline> {
    let url = plan.pipeline.source.as_ref().map_or("", |s| s.repo.value.as_str());
    let mut workspaces = vec![WorkspaceDeclaration::new(SOURCE, "The source, shared by the tasks.")];
    if plan.build.as_ref().is_some_and(|b| b.registry.pull_secret.is_some()) {
        workspaces.push(WorkspaceDeclaration::new(REGISTRY_AUTH, "The registry's Docker credentials."));
    }
    let spec = PipelineSpec {
        description: format!("Pipeline `{}`, compiled by homelabc.", plan.name),
        params: vec![
            ParamSpec::string("url", Some(url), "Repository to build."),
            ParamSpec::string("revision", Some(plan.branch), "Branch, tag or commit."),
            ParamSpec::string("event", Some("manual"), "What started the run."),
        ],
        workspaces,
        tasks: pipeline_tasks(plan),
    };
    Custom::new(metadata(plan, plan.name, ns), Pipeline { spec })
}

/// A task of the Pipeline running the stage's Task after `after`.
fn pipeline_task(plan: &Plan<'_>, stage: &str, after: Option<&str>) -> PipelineTask {
    PipelineTask {
        name: stage.to_string(),
        task_ref: NameRef { name: task_name(plan, stage) },
        run_after: after.map(str::to_string).into_iter().collect(),
        params: Vec::new(),
        workspaces: Vec::new(),
        when: Vec::new(),
    }
}

/// The Pipeline's tasks: fetch, the steps, the build and the deploy.
fn pipeline_tasks(plan: &Plan<'_>) -> Vec<PipelineTask> {
    let tag = || vec![Param::new("tag", format!("$(tasks.{FETCH}.results.tag)"))];
    let mut fetch = pipeline_task(plan, FETCH, None);
    fetch.params = vec![Param::new("url", "$(params.url)"), Param::new("revision", "$(params.revision)")];
    fetch.workspaces = vec![WorkspaceMapping::same(SOURCE)];
    let mut tasks = vec![fetch];
    let mut previous = FETCH.to_string();
    for step in &plan.pipeline.steps {
        let mut task = pipeline_task(plan, &step.name.value, Some(&previous));
        task.workspaces = vec![WorkspaceMapping::same(SOURCE)];
        tasks.push(task);
        previous = step.name.value.clone();
    }
    if let Some(build) = &plan.build {
        let mut task = pipeline_task(plan, BUILD, Some(&previous));
        task.params = tag();
        task.workspaces = vec![WorkspaceMapping::same(SOURCE)];
        if build.registry.pull_secret.is_some() {
            task.workspaces.push(WorkspaceMapping::same(REGISTRY_AUTH));
        }
        task.when = not_for_pull_requests();
        tasks.push(task);
        previous = BUILD.to_string();
    }
    if plan.deploy.is_some() {
        let mut task = pipeline_task(plan, DEPLOY, Some(&previous));
        task.params = tag();
        task.when = not_for_pull_requests();
        tasks.push(task);
    }
    tasks
}

/// Pull requests are tested, never pushed or deployed.
fn not_for_pull_requests() -> Vec<WhenExpression> {
    vec![WhenExpression {
        input: "$(params.event)".into(),
        operator: "notin".into(),
        values: vec!["pull-request".into()],
    }]
}

/// A PipelineRun of the pipeline at `revision`: the workspace is a fresh
/// claim per run, the tasks run as the token-less account and the deploy as
/// its own.
fn run_template(plan: &Plan<'_>, ns: &str, revision: &str, event: &str) -> Custom<PipelineRun> {
    let mut task_run_specs = Vec::new();
    if plan.deploy.as_ref().is_some_and(|d| d.via == DeployVia::Kubectl) {
        task_run_specs
            .push(PipelineTaskRunSpec { pipeline_task_name: DEPLOY.into(), service_account_name: plan.deployer() });
    }
    let security = PodSecurityContext {
        fs_group: Some(DEFAULT_USER),
        seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), localhost_profile: None }),
        ..PodSecurityContext::default()
    };
    let spec = PipelineRunSpec {
        pipeline_ref: NameRef { name: plan.name.to_string() },
        params: vec![Param::new("revision", revision), Param::new("event", event)],
        task_run_template: TaskRunTemplate {
            service_account_name: plan.name.to_string(),
            pod_template: PodTemplate { security_context: security },
        },
        workspaces: run_workspaces(plan),
        task_run_specs,
    };
    let metadata = ObjectMeta {
        generate_name: Some(format!("{}-", plan.name)),
        namespace: Some(ns.to_string()),
        labels: Some(labels(plan)),
        ..ObjectMeta::default()
    };
    Custom::new(metadata, PipelineRun { spec })
}

/// The volumes of a run: a claim of the workspace's size for the source, and
/// the registry's credentials as `config.json` when it takes any.
fn run_workspaces(plan: &Plan<'_>) -> Vec<WorkspaceBinding> {
    let size = plan.pipeline.workspace.as_ref().map_or("1Gi".to_string(), |w| w.size.value.text.clone());
    let claim = PersistentVolumeClaimSpec {
        access_modes: Some(vec!["ReadWriteOnce".into()]),
        resources: Some(VolumeResourceRequirements {
            requests: Some([("storage".to_string(), Quantity(size))].into()),
            limits: None,
        }),
        ..PersistentVolumeClaimSpec::default()
    };
    let mut workspaces = vec![WorkspaceBinding {
        name: SOURCE.into(),
        volume_claim_template: Some(VolumeClaimTemplate { spec: claim }),
        secret: None,
    }];
    if let Some(secret) = plan.build.as_ref().and_then(|b| b.registry.pull_secret.as_ref()) {
        let items = vec![KeyToPath { key: ".dockerconfigjson".into(), path: "config.json".into(), mode: None }];
        workspaces.push(WorkspaceBinding {
            name: REGISTRY_AUTH.into(),
            volume_claim_template: None,
            secret: Some(SecretVolumeSource {
                secret_name: Some(secret.value.clone()),
                items: Some(items),
                ..SecretVolumeSource::default()
            }),
        });
    }
    workspaces
}

/// Lets the pipeline's pods (labelled by Tekton with the pipeline's name)
/// reach the outside: the source forge, the registry and the API server. The
/// namespace's default deny still holds for everything else in it.
fn egress_policy(plan: &Plan<'_>, ns: &str) -> NetworkPolicy {
    NetworkPolicy {
        metadata: metadata(plan, &format!("{}-egress", plan.name), ns),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some([("tekton.dev/pipeline".to_string(), plan.name.to_string())].into()),
                match_expressions: None,
            }),
            policy_types: Some(vec!["Egress".into()]),
            egress: Some(vec![NetworkPolicyEgressRule::default()]),
            ingress: None,
        }),
    }
}
