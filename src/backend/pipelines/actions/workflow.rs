//! The parts of a GitHub Actions workflow file homelabc writes. Keys are
//! GitHub's own spelling (`runs-on`, `pull_request`, `if`).

use std::collections::BTreeMap;

use serde::Serialize;

/// A workflow: what starts it, what its token may do, and its jobs.
#[derive(Debug, Serialize)]
pub struct Workflow {
    /// Its name, the pipeline's.
    pub name: String,
    /// The events that start it.
    pub on: On,
    /// What the workflow's `GITHUB_TOKEN` may do.
    pub permissions: Permissions,
    /// The runs that may not overlap.
    pub concurrency: Concurrency,
    /// The jobs by id.
    pub jobs: BTreeMap<String, Job>,
}

/// The events that start a workflow.
#[derive(Debug, Default, Serialize)]
pub struct On {
    /// Pushes of branches or tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push: Option<PushFilter>,
    /// Pull requests against branches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<BranchFilter>,
    /// A start by hand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_dispatch: Option<Empty>,
}

impl On {
    /// Whether no event starts the workflow.
    pub fn is_empty(&self) -> bool {
        self.push.is_none() && self.pull_request.is_none() && self.workflow_dispatch.is_none()
    }
}

/// The branches and tags whose pushes start a workflow.
#[derive(Debug, Default, Serialize)]
pub struct PushFilter {
    /// Branches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branches: Option<Vec<String>>,
    /// Tag patterns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

impl PushFilter {
    /// Whether it names neither branches nor tags.
    pub fn is_empty(&self) -> bool {
        self.branches.is_none() && self.tags.is_none()
    }
}

/// The branches an event applies to.
#[derive(Debug, Serialize)]
pub struct BranchFilter {
    /// Branches.
    pub branches: Vec<String>,
}

/// An event without settings (`{}`).
#[derive(Debug, Serialize)]
pub struct Empty {}

/// What a token may do with the repository's contents.
#[derive(Debug, Serialize)]
pub struct Permissions {
    /// `read` or `write`.
    pub contents: &'static str,
}

/// A concurrency group: runs of one group wait for each other.
#[derive(Debug, Serialize)]
pub struct Concurrency {
    /// The group.
    pub group: String,
    /// Whether a new run cancels the one in progress.
    #[serde(rename = "cancel-in-progress")]
    pub cancel_in_progress: bool,
}

/// Where a job runs: a hosted runner's label or a self-hosted runner's labels.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum RunsOn {
    /// One label (`ubuntu-24.04`).
    Hosted(&'static str),
    /// Labels every one of which the runner has (`[self-hosted, linux]`).
    SelfHosted(Vec<&'static str>),
}

/// A job: what it waits for, where and how it runs, and its steps.
#[derive(Debug, Serialize)]
pub struct Job {
    /// The jobs it waits for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<String>,
    /// Where it runs.
    #[serde(rename = "runs-on")]
    pub runs_on: RunsOn,
    /// The condition it runs under.
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    pub condition: Option<&'static str>,
    /// What its token may do, when more than the workflow's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Permissions>,
    /// The image its steps run in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Its environment.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<&'static str, String>,
    /// What it gives the jobs that need it.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<&'static str, String>,
    /// Its steps.
    pub steps: Vec<Step>,
}

impl Job {
    /// A job on `runs_on` after `needs`, with nothing else yet.
    pub fn new(needs: &[String], runs_on: &RunsOn) -> Job {
        Job {
            needs: needs.to_vec(),
            runs_on: runs_on.clone(),
            condition: None,
            permissions: None,
            container: None,
            env: BTreeMap::new(),
            outputs: BTreeMap::new(),
            steps: Vec::new(),
        }
    }
}

/// A step of a job: an action it uses or a script it runs.
#[derive(Debug, Default, Serialize)]
pub struct Step {
    /// Its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The id later steps read its outputs by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'static str>,
    /// The action it uses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uses: Option<&'static str>,
    /// The shell of `run`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell: Option<&'static str>,
    /// The action's inputs.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub with: BTreeMap<&'static str, String>,
    /// Its environment.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<&'static str, String>,
    /// The script it runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
}

impl Step {
    /// A step using an action, unnamed.
    pub fn uses(action: &'static str) -> Step {
        Step { uses: Some(action), ..Step::default() }
    }

    /// A named step using an action with inputs.
    pub fn action(name: &str, action: &'static str, with: BTreeMap<&'static str, String>) -> Step {
        Step { name: Some(name.to_string()), uses: Some(action), with, ..Step::default() }
    }

    /// A named step running a script.
    pub fn run(name: &str, run: String) -> Step {
        Step { name: Some(name.to_string()), run: Some(run), ..Step::default() }
    }
}
