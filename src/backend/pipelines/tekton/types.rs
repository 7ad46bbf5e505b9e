//! The tekton.dev/v1 kinds the pipelines are made of (Task, Pipeline,
//! PipelineRun), with only the fields homelabc writes. Core parts (a step's
//! security context and environment, a run's pod security context and
//! volumes) are k8s-openapi types.

use k8s_openapi::api::core::v1::{
    EnvVar, PersistentVolumeClaimSpec, PodSecurityContext, SecretVolumeSource, SecurityContext,
};
use serde::Serialize;

use crate::backend::CustomKind;

/// The API version of Tasks, Pipelines and PipelineRuns.
const TEKTON_V1: &str = "tekton.dev/v1";

/// `Task`: steps run in one pod.
#[derive(Debug, Serialize)]
pub struct Task {
    /// What the task takes, gives and runs.
    pub spec: TaskSpec,
}

impl CustomKind for Task {
    const API_VERSION: &'static str = TEKTON_V1;
    const KIND: &'static str = "Task";
}

/// The spec of a [`Task`].
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskSpec {
    /// What the task does.
    pub description: String,
    /// Its parameters.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<ParamSpec>,
    /// What it publishes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<TaskResult>,
    /// The workspaces it mounts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub workspaces: Vec<WorkspaceDeclaration>,
    /// Its steps, in order.
    pub steps: Vec<Step>,
}

/// The type of a parameter or result; homelabc only passes strings.
#[derive(Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    /// `string`.
    String,
}

/// A parameter a Task or Pipeline declares.
#[derive(Debug, Serialize)]
pub struct ParamSpec {
    /// Its name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: ParamType,
    /// Its value when the caller gives none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// What it is.
    pub description: String,
}

impl ParamSpec {
    /// A string parameter, with a default or without.
    pub fn string(name: &str, default: Option<&str>, description: &str) -> ParamSpec {
        ParamSpec {
            name: name.to_string(),
            kind: ParamType::String,
            default: default.map(str::to_string),
            description: description.to_string(),
        }
    }
}

/// A result a Task publishes.
#[derive(Debug, Serialize)]
pub struct TaskResult {
    /// Its name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: ParamType,
    /// What it is.
    pub description: String,
}

impl TaskResult {
    /// A string result.
    pub fn string(name: &str, description: &str) -> TaskResult {
        TaskResult { name: name.to_string(), kind: ParamType::String, description: description.to_string() }
    }
}

/// A workspace a Task or Pipeline declares.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceDeclaration {
    /// Its name.
    pub name: String,
    /// What it holds.
    pub description: String,
    /// Whether the task only reads it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
}

impl WorkspaceDeclaration {
    /// A workspace the task may write.
    pub fn new(name: &str, description: &str) -> WorkspaceDeclaration {
        WorkspaceDeclaration { name: name.to_string(), description: description.to_string(), read_only: None }
    }

    /// A workspace the task only reads.
    pub fn read_only(name: &str, description: &str) -> WorkspaceDeclaration {
        WorkspaceDeclaration { read_only: Some(true), ..WorkspaceDeclaration::new(name, description) }
    }
}

/// A step of a Task: one container running a script or a command.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// Its name.
    pub name: String,
    /// Its image.
    pub image: String,
    /// The shell script it runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// Its entrypoint.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// The entrypoint's arguments.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Its environment.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    /// Its security context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_context: Option<SecurityContext>,
}

impl Step {
    /// A step of `image` that runs nothing yet.
    pub fn new(name: &str, image: &str) -> Step {
        Step {
            name: name.to_string(),
            image: image.to_string(),
            script: None,
            command: Vec::new(),
            args: Vec::new(),
            env: Vec::new(),
            security_context: None,
        }
    }
}

/// `Pipeline`: Tasks in order over shared workspaces.
#[derive(Debug, Serialize)]
pub struct Pipeline {
    /// Its parameters, workspaces and tasks.
    pub spec: PipelineSpec,
}

impl CustomKind for Pipeline {
    const API_VERSION: &'static str = TEKTON_V1;
    const KIND: &'static str = "Pipeline";
}

/// The spec of a [`Pipeline`].
#[derive(Debug, Serialize)]
pub struct PipelineSpec {
    /// What the pipeline is.
    pub description: String,
    /// Its parameters.
    pub params: Vec<ParamSpec>,
    /// The workspaces its tasks share.
    pub workspaces: Vec<WorkspaceDeclaration>,
    /// Its tasks.
    pub tasks: Vec<PipelineTask>,
}

/// A task of a Pipeline: a Task, its parameters and workspaces, and when it runs.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineTask {
    /// Its name in the pipeline.
    pub name: String,
    /// The Task it runs.
    pub task_ref: NameRef,
    /// The tasks it waits for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub run_after: Vec<String>,
    /// The values of the Task's parameters.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Param>,
    /// The pipeline's workspaces given to the Task.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub workspaces: Vec<WorkspaceMapping>,
    /// The conditions it runs under.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<WhenExpression>,
}

/// A reference to a Task or Pipeline by name.
#[derive(Debug, Serialize)]
pub struct NameRef {
    /// The name.
    pub name: String,
}

/// A parameter's value.
#[derive(Debug, Serialize)]
pub struct Param {
    /// The parameter.
    pub name: String,
    /// Its value.
    pub value: String,
}

impl Param {
    /// `name: value`.
    pub fn new(name: &str, value: impl Into<String>) -> Param {
        Param { name: name.to_string(), value: value.into() }
    }
}

/// A pipeline workspace bound to a Task's workspace.
#[derive(Debug, Serialize)]
pub struct WorkspaceMapping {
    /// The Task's workspace.
    pub name: String,
    /// The pipeline's workspace.
    pub workspace: String,
}

impl WorkspaceMapping {
    /// The pipeline's workspace `name` as the Task's workspace of the same name.
    pub fn same(name: &str) -> WorkspaceMapping {
        WorkspaceMapping { name: name.to_string(), workspace: name.to_string() }
    }
}

/// A condition on a pipeline task: `input` is (or is not) one of `values`.
#[derive(Debug, Serialize)]
pub struct WhenExpression {
    /// The value tested.
    pub input: String,
    /// `in` or `notin`.
    pub operator: String,
    /// The values it is compared with.
    pub values: Vec<String>,
}

/// `PipelineRun`: one run of a Pipeline.
#[derive(Debug, Serialize)]
pub struct PipelineRun {
    /// The pipeline, its parameters, accounts and workspaces.
    pub spec: PipelineRunSpec,
}

impl CustomKind for PipelineRun {
    const API_VERSION: &'static str = TEKTON_V1;
    const KIND: &'static str = "PipelineRun";
}

/// The spec of a [`PipelineRun`].
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineRunSpec {
    /// The Pipeline run.
    pub pipeline_ref: NameRef,
    /// The values of its parameters.
    pub params: Vec<Param>,
    /// How every task's pod runs.
    pub task_run_template: TaskRunTemplate,
    /// The volumes behind its workspaces.
    pub workspaces: Vec<WorkspaceBinding>,
    /// How particular tasks run, when not as the template says.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub task_run_specs: Vec<PipelineTaskRunSpec>,
}

/// The account and pod template of every task of a run.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRunTemplate {
    /// The ServiceAccount the tasks run as.
    pub service_account_name: String,
    /// Their pods.
    pub pod_template: PodTemplate,
}

/// What a run sets in its tasks' pods.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodTemplate {
    /// The pods' security context.
    pub security_context: PodSecurityContext,
}

/// The volume behind one workspace of a run.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceBinding {
    /// The workspace.
    pub name: String,
    /// A claim made for the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_claim_template: Option<VolumeClaimTemplate>,
    /// A Secret's keys as files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretVolumeSource>,
}

/// A PersistentVolumeClaim made per run (its spec only).
#[derive(Debug, Serialize)]
pub struct VolumeClaimTemplate {
    /// The claim's spec.
    pub spec: PersistentVolumeClaimSpec,
}

/// How one pipeline task of a run runs.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineTaskRunSpec {
    /// The pipeline task.
    pub pipeline_task_name: String,
    /// The ServiceAccount it runs as.
    pub service_account_name: String,
}
