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

use serde_json::{Value as Json, json};

use super::{BUILD, DEPLOY, FETCH, GIT_IMAGE, GITOPS_IMAGE, KANIKO_IMAGE, Plan, gitops_commands, kubectl_args, labels};
use crate::backend::k8s::DEFAULT_USER;
use crate::backend::{Artifacts, Content, Untyped};
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
    let push = |out: &mut Artifacts, value: Json| out.object(&plan.origin, &plan.unit, Untyped(value));
    out.object(&plan.origin, &plan.unit, super::service_account(plan, plan.name, ns, false));
    if plan.deploy.as_ref().is_some_and(|d| d.via == DeployVia::Kubectl) {
        out.object(&plan.origin, &plan.unit, super::service_account(plan, &plan.deployer(), ns, true));
    }
    push(out, fetch_task(plan, ns));
    for step in &plan.pipeline.steps {
        push(
            out,
            step_task(
                plan,
                ns,
                &step.name.value,
                &step.image.value,
                &step.run.iter().map(|r| r.value.as_str()).collect::<Vec<_>>(),
            ),
        );
    }
    if plan.build.is_some() {
        push(out, build_task(plan, ns));
    }
    if plan.deploy.is_some() {
        push(out, deploy_task(plan, ns));
    }
    push(out, pipeline(plan, ns));
    push(out, egress_policy(plan, ns));
    let webhooks: Vec<Trigger> =
        plan.pipeline.triggers.iter().map(|t| t.value).filter(|t| *t != Trigger::Manual).collect();
    if !webhooks.is_empty() {
        triggers(plan, ns, &webhooks, out);
    }
    let run = run_template(plan, ns, &json!(plan.branch), "manual");
    let header = format!(
        "# Starts pipeline \"{}\" by hand: kubectl create -f run.yaml\n# (a PipelineRun has a generated name, so it is created, not applied).\n",
        plan.name
    );
    let place = FilePlace::PipelineRun { scope: plan.scope.clone(), pipeline: plan.name.to_string() };
    out.file(&plan.origin, place, Content::Yaml { header, body: Box::new(run) });
}

fn metadata(plan: &Plan<'_>, name: &str, ns: &str) -> Json {
    json!({"name": name, "namespace": ns, "labels": labels(plan)})
}

fn task_name(plan: &Plan<'_>, stage: &str) -> String {
    format!("{}-{stage}", plan.name)
}

/// Where the repository is checked out in a task.
const CHECKOUT: &str = "$(workspaces.source.path)";

/// The security context of steps that need no root: non-root, no privilege
/// escalation, no capabilities (what `restricted` asks for).
fn non_root() -> Json {
    json!({
        "allowPrivilegeEscalation": false,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": true,
        "runAsUser": DEFAULT_USER,
        "runAsGroup": DEFAULT_USER,
    })
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
fn fetch_task(plan: &Plan<'_>, ns: &str) -> Json {
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
    json!({
        "apiVersion": "tekton.dev/v1",
        "kind": "Task",
        "metadata": metadata(plan, &task_name(plan, FETCH), ns),
        "spec": {
            "description": "Clones the source into the workspace.",
            "params": [
                {"name": "url", "type": "string", "default": url, "description": "Repository to clone."},
                {"name": "revision", "type": "string", "default": plan.branch, "description": "Branch, tag or commit."},
            ],
            "results": [
                {"name": "commit", "type": "string", "description": "The commit checked out."},
                {"name": "tag", "type": "string", "description": "The image tag: sha- and the short commit."},
            ],
            "workspaces": [{"name": SOURCE, "description": "Where the source is checked out."}],
            "steps": [{
                "name": "clone",
                "image": GIT_IMAGE,
                "script": body,
                "securityContext": non_root(),
            }],
        },
    })
}

/// A `step` of the description: its commands in its image, in the checkout.
fn step_task(plan: &Plan<'_>, ns: &str, step: &str, image: &str, run: &[&str]) -> Json {
    let mut lines = vec!["cd \"$(workspaces.source.path)\""];
    lines.extend_from_slice(run);
    json!({
        "apiVersion": "tekton.dev/v1",
        "kind": "Task",
        "metadata": metadata(plan, &task_name(plan, step), ns),
        "spec": {
            "description": format!("The `{step}` step."),
            "workspaces": [{"name": SOURCE, "description": "The checked-out source."}],
            "steps": [{"name": step, "image": image, "script": script(&lines)}],
        },
    })
}

/// The kaniko build and push. kaniko runs as root (it unpacks the base image's
/// file system), the one step that needs the `baseline` level.
fn build_task(plan: &Plan<'_>, ns: &str) -> Json {
    let Some(build) = &plan.build else { return Json::Null };
    let mut args = super::kaniko_flags(build, CHECKOUT, "$(params.tag)");
    // Right after the destination, where the Task has always had it.
    args.insert(3, "--digest-file=$(results.digest.path)".to_string());
    let mut step = json!({
        "name": "build-and-push",
        "image": KANIKO_IMAGE,
        "args": args,
        "securityContext": {"runAsUser": 0, "runAsNonRoot": false},
    });
    let mut workspaces = vec![json!({"name": SOURCE, "description": "The checked-out source.", "readOnly": true})];
    if build.registry.pull_secret.is_some() {
        workspaces.push(json!({
            "name": REGISTRY_AUTH,
            "description": "The registry's Docker credentials (config.json).",
            "readOnly": true,
        }));
        step["env"] = json!([{"name": "DOCKER_CONFIG", "value": format!("$(workspaces.{REGISTRY_AUTH}.path)")}]);
    }
    json!({
        "apiVersion": "tekton.dev/v1",
        "kind": "Task",
        "metadata": metadata(plan, &task_name(plan, BUILD), ns),
        "spec": {
            "description": format!("Builds the image of app `{}` with kaniko and pushes it.", build.app.name.value),
            "params": [{"name": "tag", "type": "string", "description": "The image tag."}],
            "results": [{"name": "digest", "type": "string", "description": "The digest of the pushed image."}],
            "workspaces": workspaces,
            "steps": [step],
        },
    })
}

/// The deploy: a kubectl rollout of the built image, or the GitOps bump.
fn deploy_task(plan: &Plan<'_>, ns: &str) -> Json {
    let Some(deploy) = &plan.deploy else { return Json::Null };
    let step = match deploy.via {
        DeployVia::Kubectl => json!({
            "name": "rollout",
            "image": deploy.kubectl_image,
            "command": ["kubectl"],
            "args": kubectl_args(deploy, "$(params.tag)"),
            "securityContext": non_root(),
        }),
        DeployVia::Gitops => {
            let commands = gitops_commands(deploy);
            let lines: Vec<&str> = commands.iter().map(String::as_str).collect();
            let secret = plan.pipeline.deploy.as_ref().and_then(|d| d.secret.as_ref()).map_or("", |s| s.value.as_str());
            json!({
                "name": "bump-tag",
                "image": GITOPS_IMAGE,
                "script": script(&lines),
                "env": [
                    {"name": "TAG", "value": "$(params.tag)"},
                    {"name": "GIT_PUSH_TOKEN", "valueFrom": {"secretKeyRef": {"name": secret, "key": "token"}}},
                ],
            })
        }
    };
    let what = match deploy.via {
        DeployVia::Kubectl => format!("Rolls {} `{}` to the new image.", deploy.workload, deploy.app.name.value),
        DeployVia::Gitops => {
            format!(
                "Sets the image tag of app `{}` in the description, rebuilds the tree and pushes it.",
                deploy.app.name.value
            )
        }
    };
    json!({
        "apiVersion": "tekton.dev/v1",
        "kind": "Task",
        "metadata": metadata(plan, &task_name(plan, DEPLOY), ns),
        "spec": {
            "description": what,
            "params": [{"name": "tag", "type": "string", "description": "The image tag to deploy."}],
            "steps": [step],
        },
    })
}

/// The Pipeline: the tasks in order, each after the one before.
fn pipeline(plan: &Plan<'_>, ns: &str) -> Json {
    let url = plan.pipeline.source.as_ref().map_or("", |s| s.repo.value.as_str());
    let source = json!([{"name": SOURCE, "workspace": SOURCE}]);
    let tag = json!([{"name": "tag", "value": format!("$(tasks.{FETCH}.results.tag)")}]);
    let mut tasks = vec![json!({
        "name": FETCH,
        "taskRef": {"name": task_name(plan, FETCH)},
        "params": [
            {"name": "url", "value": "$(params.url)"},
            {"name": "revision", "value": "$(params.revision)"},
        ],
        "workspaces": source,
    })];
    let mut previous = FETCH.to_string();
    for step in &plan.pipeline.steps {
        let name = step.name.value.clone();
        tasks.push(json!({
            "name": name,
            "taskRef": {"name": task_name(plan, &name)},
            "runAfter": [previous],
            "workspaces": source,
        }));
        previous = name;
    }
    let mut workspaces = vec![json!({"name": SOURCE, "description": "The source, shared by the tasks."})];
    if let Some(build) = &plan.build {
        let mut bound = vec![json!({"name": SOURCE, "workspace": SOURCE})];
        if build.registry.pull_secret.is_some() {
            workspaces.push(json!({"name": REGISTRY_AUTH, "description": "The registry's Docker credentials."}));
            bound.push(json!({"name": REGISTRY_AUTH, "workspace": REGISTRY_AUTH}));
        }
        tasks.push(json!({
            "name": BUILD,
            "taskRef": {"name": task_name(plan, BUILD)},
            "runAfter": [previous],
            "params": tag,
            "workspaces": bound,
            "when": not_for_pull_requests(),
        }));
        previous = BUILD.to_string();
    }
    if plan.deploy.is_some() {
        tasks.push(json!({
            "name": DEPLOY,
            "taskRef": {"name": task_name(plan, DEPLOY)},
            "runAfter": [previous],
            "params": tag,
            "when": not_for_pull_requests(),
        }));
    }
    json!({
        "apiVersion": "tekton.dev/v1",
        "kind": "Pipeline",
        "metadata": metadata(plan, plan.name, ns),
        "spec": {
            "description": format!("Pipeline `{}`, compiled by homelabc.", plan.name),
            "params": [
                {"name": "url", "type": "string", "default": url, "description": "Repository to build."},
                {"name": "revision", "type": "string", "default": plan.branch, "description": "Branch, tag or commit."},
                {"name": "event", "type": "string", "default": "manual", "description": "What started the run."},
            ],
            "workspaces": workspaces,
            "tasks": tasks,
        },
    })
}

/// Pull requests are tested, never pushed or deployed.
fn not_for_pull_requests() -> Json {
    json!([{"input": "$(params.event)", "operator": "notin", "values": ["pull-request"]}])
}

/// A PipelineRun of the pipeline at `revision`: the workspace is a fresh
/// claim per run, the tasks run as the token-less account and the deploy as
/// its own.
fn run_template(plan: &Plan<'_>, ns: &str, revision: &Json, event: &str) -> Json {
    let size = plan.pipeline.workspace.as_ref().map_or("1Gi".to_string(), |w| w.size.value.text.clone());
    let mut workspaces = vec![json!({
        "name": SOURCE,
        "volumeClaimTemplate": {
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}},
        },
    })];
    if let Some(secret) = plan.build.as_ref().and_then(|b| b.registry.pull_secret.as_ref()) {
        workspaces.push(json!({
            "name": REGISTRY_AUTH,
            "secret": {"secretName": secret.value, "items": [{"key": ".dockerconfigjson", "path": "config.json"}]},
        }));
    }
    let mut spec = json!({
        "pipelineRef": {"name": plan.name},
        "params": [{"name": "revision", "value": revision}, {"name": "event", "value": event}],
        "taskRunTemplate": {
            "serviceAccountName": plan.name,
            "podTemplate": {"securityContext": {"fsGroup": DEFAULT_USER, "seccompProfile": {"type": "RuntimeDefault"}}},
        },
        "workspaces": workspaces,
    });
    if plan.deploy.as_ref().is_some_and(|d| d.via == DeployVia::Kubectl) {
        spec["taskRunSpecs"] = json!([{"pipelineTaskName": DEPLOY, "serviceAccountName": plan.deployer()}]);
    }
    json!({
        "apiVersion": "tekton.dev/v1",
        "kind": "PipelineRun",
        "metadata": {"generateName": format!("{}-", plan.name), "namespace": ns, "labels": labels(plan)},
        "spec": spec,
    })
}

/// Lets the pipeline's pods (labelled by Tekton with the pipeline's name)
/// reach the outside: the source forge, the registry and the API server. The
/// namespace's default deny still holds for everything else in it.
fn egress_policy(plan: &Plan<'_>, ns: &str) -> Json {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(plan, &format!("{}-egress", plan.name), ns),
        "spec": {
            "podSelector": {"matchLabels": {"tekton.dev/pipeline": plan.name}},
            "policyTypes": ["Egress"],
            "egress": [{}],
        },
    })
}

/// The webhook side: an EventListener filtering events with CEL, a binding per
/// trigger kind, the TriggerTemplate creating the PipelineRun, the listener's
/// account with exactly what it uses, and a policy letting webhooks in.
fn triggers(plan: &Plan<'_>, ns: &str, kinds: &[Trigger], out: &mut Artifacts) {
    // A unit of their own: without Tekton Triggers installed only they fail
    // to apply, not the pipeline.
    let unit = plan.triggers_unit();
    let push = |out: &mut Artifacts, value: Json| out.object(&plan.origin, &unit, Untyped(value));
    let account = format!("{}-triggers", plan.name);
    let mut listener_triggers = Vec::new();
    for kind in kinds {
        let word = trigger_word(*kind);
        let binding = format!("{}-{word}", plan.name);
        let revision = match kind {
            Trigger::PullRequest => "$(body.pull_request.head.sha)",
            _ => "$(body.after)",
        };
        push(
            out,
            json!({
                "apiVersion": "triggers.tekton.dev/v1beta1",
                "kind": "TriggerBinding",
                "metadata": metadata(plan, &binding, ns),
                "spec": {"params": [{"name": "revision", "value": revision}, {"name": "event", "value": word}]},
            }),
        );
        listener_triggers.push(json!({
            "name": word,
            "interceptors": [{
                "ref": {"name": "cel", "kind": "ClusterInterceptor"},
                "params": [{"name": "filter", "value": cel_filter(*kind, plan.branch)}],
            }],
            "bindings": [{"ref": binding}],
            "template": {"ref": plan.name},
        }));
    }
    push(
        out,
        json!({
            "apiVersion": "triggers.tekton.dev/v1beta1",
            "kind": "TriggerTemplate",
            "metadata": metadata(plan, plan.name, ns),
            "spec": {
                "params": [
                    {"name": "revision", "description": "The commit to build."},
                    {"name": "event", "description": "What started the run: push, tag or pull-request."},
                ],
                "resourcetemplates": [run_template(plan, ns, &json!("$(tt.params.revision)"), "$(tt.params.event)")],
            },
        }),
    );
    push(
        out,
        json!({
            "apiVersion": "triggers.tekton.dev/v1beta1",
            "kind": "EventListener",
            "metadata": metadata(plan, plan.name, ns),
            "spec": {"serviceAccountName": account, "triggers": listener_triggers},
        }),
    );
    out.object(&plan.origin, &unit, super::service_account(plan, &account, ns, true));
    push(
        out,
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": metadata(plan, &account, ns),
            "rules": [
                {
                    "apiGroups": ["triggers.tekton.dev"],
                    "resources": ["eventlisteners", "triggerbindings", "triggertemplates", "triggers", "interceptors"],
                    "verbs": ["get", "list", "watch"],
                },
                {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": ["tekton.dev"], "resources": ["pipelineruns"], "verbs": ["create"]},
            ],
        }),
    );
    push(out, binding_json(plan, "RoleBinding", &account, Some(ns), "Role", &account, ns));
    let cluster_name = format!("{ns}-{account}");
    push(
        out,
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": cluster_name, "labels": labels(plan)},
            "rules": [{
                "apiGroups": ["triggers.tekton.dev"],
                "resources": ["clustertriggerbindings", "clusterinterceptors"],
                "verbs": ["get", "list", "watch"],
            }],
        }),
    );
    push(out, binding_json(plan, "ClusterRoleBinding", &cluster_name, None, "ClusterRole", &cluster_name, ns));
    push(
        out,
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": metadata(plan, &format!("{}-listener", plan.name), ns),
            "spec": {
                "podSelector": {"matchLabels": {"eventlistener": plan.name}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"ports": [{"port": LISTENER_PORT, "protocol": "TCP"}]}],
                "egress": [{}],
            },
        }),
    );
}

fn binding_json(
    plan: &Plan<'_>,
    kind: &str,
    name: &str,
    ns: Option<&str>,
    role_kind: &str,
    role: &str,
    account_ns: &str,
) -> Json {
    let mut metadata = json!({"name": name, "labels": labels(plan)});
    if let Some(ns) = ns {
        metadata["namespace"] = json!(ns);
    }
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": metadata,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": format!("{}-triggers", plan.name), "namespace": account_ns}],
    })
}

fn trigger_word(trigger: Trigger) -> &'static str {
    match trigger {
        Trigger::Push => "push",
        Trigger::Tag => "tag",
        Trigger::PullRequest => "pull-request",
        Trigger::Manual => "manual",
    }
}

/// The CEL filter of a trigger, for GitHub and Gitea payloads (Gitea's push
/// and pull_request events have GitHub's shape). Pushes whose head commit
/// says `[skip ci]` (the GitOps bump) start nothing.
pub fn cel_filter(trigger: Trigger, branch: &str) -> String {
    match trigger {
        Trigger::Push => format!(
            "body.ref == 'refs/heads/{branch}' && !(has(body.head_commit) && body.head_commit != null && body.head_commit.message.contains('[skip ci]'))"
        ),
        Trigger::Tag => "body.ref.startsWith('refs/tags/') && body.deleted != true".to_string(),
        Trigger::PullRequest => format!(
            "has(body.pull_request) && body.pull_request.base.ref == '{branch}' && body.action in ['opened', 'synchronize', 'reopened']"
        ),
        Trigger::Manual => "false".to_string(),
    }
}
