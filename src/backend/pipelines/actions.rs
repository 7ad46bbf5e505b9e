//! GitHub Actions (SPEC §5): one workflow, `pipelines/<name>/.github/workflows/<name>.yml`,
//! to be committed to the source repository. A job per `step` (in the step's image), a `build`
//! job that pushes the image tagged `sha-<7 hex digits of the commit>`, and a `deploy` job: the
//! GitOps loop of seed 003 (set the tag in the description, rebuild the tree, commit with
//! `[skip ci]`) or a kubectl rollout. Jobs run on a self-hosted runner (`[self-hosted, linux]`)
//! when they need the LAN (a private registry, the cluster's API, a GitOps repository on a LAN
//! forge), on `ubuntu-24.04` otherwise.
//! The workflow's token may only read the repository; the deploy job alone gets
//! `contents: write`, when it pushes its GitOps commit to that repository with `GITHUB_TOKEN`.
//!
//! Repository secrets the user sets:
//! - `REGISTRY_USERNAME`, `REGISTRY_PASSWORD`: the registry's credentials, when it has a
//!   `pull-secret`. An insecure (plain HTTP) registry must also be listed in the runner's Docker
//!   daemon `insecure-registries`, which `docker login` goes through.
//! - `GITOPS_TOKEN`: a token that may push to the GitOps repository, when that is another
//!   repository than the one the workflow runs in.
//! - `KUBECONFIG`: for `via="kubectl"`, a kubeconfig made from the token Secret
//!   `<name>-deploy-token` in the app's namespace (the Role lets it `get` and `patch` the one
//!   workload, nothing else).

mod workflow;

use std::collections::BTreeMap;
use std::net::IpAddr;

use self::workflow::{BranchFilter, Concurrency, Empty, Job, On, Permissions, PushFilter, RunsOn, Step, Workflow};
use super::{BuildPlan, DeployPlan, Plan};
use crate::backend::Artifacts;
use crate::check::pipelines::github_repo;
use crate::model::{DeployVia, Registry, Trigger};

/// The checkout action.
const CHECKOUT: &str = "actions/checkout@v4";

/// The shell line that writes `sha-<7 hex digits>` to a file of GitHub's (`$GITHUB_OUTPUT`,
/// `$GITHUB_ENV`) under `key`; bash, for the substring.
fn tag_line(key: &str, file: &str) -> String {
    format!("echo \"{key}=sha-${{GITHUB_SHA::7}}\" >> \"${file}\"")
}

/// Emits the workflow.
pub fn emit(plan: &Plan<'_>, out: &mut Artifacts) {
    plan.ci_file(out, workflow(plan));
}

/// Whether a registry is out of reach of GitHub's hosted runners: deployed in the cluster,
/// plain HTTP, or at an address only the LAN resolves or routes.
pub(super) fn private_registry(registry: &Registry) -> bool {
    registry.deploy.is_some() || registry.is_insecure() || private_host(&registry.address.value.host)
}

/// A private, loopback, link-local or shared (CGNAT, Tailscale) address, `localhost`, a name
/// without a dot, or a name under a suffix reserved for local networks.
fn private_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            let shared = ip.octets()[0] == 100 && (ip.octets()[1] & 0xc0) == 64;
            ip.is_private() || ip.is_loopback() || ip.is_link_local() || shared
        }
        Ok(IpAddr::V6(ip)) => ip.is_loopback() || ip.is_unique_local() || ip.is_unicast_link_local(),
        Err(_) => {
            let host = host.trim_end_matches('.');
            host == "localhost"
                || !host.contains('.')
                || [".localhost", ".local", ".lan", ".home.arpa", ".internal"].iter().any(|s| host.ends_with(s))
        }
    }
}

/// Whether the registry is the runner's own loopback, which the BuildKit container reaches
/// only on the host's network.
fn loopback_registry(registry: &Registry) -> bool {
    let host = registry.address.value.host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether a GitOps deploy pushes to the repository the workflow runs in (with `GITHUB_TOKEN`).
fn pushes_to_own_repository(plan: &Plan<'_>) -> bool {
    let Some(deploy) = plan.deploy.as_ref().filter(|d| d.via == DeployVia::Gitops) else { return false };
    let own = plan.pipeline.source.as_ref().and_then(|s| github_repo(&s.repo.value));
    let target = deploy.gitops.and_then(|g| github_repo(&g.repo.value));
    matches!((own, target), (Some(own), Some(target)) if own.eq_ignore_ascii_case(&target))
}

/// The whole workflow.
fn workflow(plan: &Plan<'_>) -> Workflow {
    let runs_on = runs_on(plan);
    let mut jobs = BTreeMap::new();
    let step_jobs: Vec<String> = plan.pipeline.steps.iter().map(|s| job_id(&s.name.value)).collect();
    for (step, id) in plan.pipeline.steps.iter().zip(&step_jobs) {
        let run = step.run.iter().map(|r| r.value.as_str()).collect::<Vec<_>>().join("\n");
        let mut job = Job::new(&[], &runs_on);
        job.container = Some(step.image.value.clone());
        job.steps = vec![Step::uses(CHECKOUT), Step::run(&step.name.value, run)];
        jobs.insert(id.clone(), job);
    }
    let mut deploy_needs = step_jobs.clone();
    if let Some(build) = &plan.build {
        jobs.insert("build".into(), build_job(build, &step_jobs, &runs_on));
        deploy_needs = vec!["build".into()];
    }
    if let Some(deploy) = &plan.deploy {
        jobs.insert("deploy".into(), deploy_job(plan, deploy, &deploy_needs, &runs_on));
    }
    Workflow {
        name: plan.name.to_string(),
        on: triggers(plan),
        permissions: Permissions { contents: "read" },
        concurrency: Concurrency { group: format!("{}-${{{{ github.ref }}}}", plan.name), cancel_in_progress: false },
        jobs,
    }
}

/// The events that start the workflow; by hand only when the pipeline names none.
fn triggers(plan: &Plan<'_>) -> On {
    let mut on = On::default();
    let mut push = PushFilter::default();
    for trigger in &plan.pipeline.triggers {
        match trigger.value {
            Trigger::Push => push.branches = Some(vec![plan.branch.to_string()]),
            Trigger::Tag => push.tags = Some(vec!["*".into()]),
            Trigger::PullRequest => on.pull_request = Some(BranchFilter { branches: vec![plan.branch.to_string()] }),
            Trigger::Manual => on.workflow_dispatch = Some(Empty {}),
        }
    }
    if !push.is_empty() {
        on.push = Some(push);
    }
    if on.is_empty() {
        on.workflow_dispatch = Some(Empty {});
    }
    on
}

/// The host of `scheme://[user@]host[:port]/path`.
fn url_host(url: &str) -> Option<&str> {
    let authority = url.split_once("://")?.1.split('/').next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) && !host.ends_with(':') => host,
        _ => host_port,
    };
    (!host.is_empty()).then_some(host)
}

/// `[self-hosted, linux]` when a job needs the LAN (the registry, the cluster's API, or a
/// GitOps repository on a LAN forge), GitHub's hosted runner otherwise.
fn runs_on(plan: &Plan<'_>) -> RunsOn {
    let private = plan.build.as_ref().is_some_and(|b| private_registry(b.registry));
    let lan_deploy = plan.deploy.as_ref().is_some_and(|d| match d.via {
        DeployVia::Kubectl => true,
        DeployVia::Gitops => d.gitops.and_then(|g| url_host(&g.repo.value)).is_some_and(private_host),
    });
    if private || lan_deploy {
        RunsOn::SelfHosted(vec!["self-hosted", "linux"])
    } else {
        RunsOn::Hosted("ubuntu-24.04")
    }
}

/// A step's job id: its name, unless that would not be a job id or is taken by `build`/`deploy`.
fn job_id(step: &str) -> String {
    let taken = matches!(step, "build" | "deploy") || step.starts_with(|c: char| c.is_ascii_digit());
    if taken { format!("step-{step}") } else { step.to_string() }
}

/// Check out, compute the tag, build and push (not for pull requests).
fn build_job(build: &BuildPlan<'_>, needs: &[String], runs_on: &RunsOn) -> Job {
    let registry = build.registry;
    let mut buildx = BTreeMap::new();
    if registry.is_insecure() {
        let config = format!("[registry.\"{}\"]\n  http = true\n  insecure = true\n", build.push_host);
        buildx.insert("buildkitd-config-inline", config);
    }
    if loopback_registry(registry) {
        buildx.insert("driver-opts", "network=host".to_string());
    }
    let tag = Step {
        id: Some("tag"),
        shell: Some("bash"),
        ..Step::run("Compute the image tag", tag_line("tag", "GITHUB_OUTPUT"))
    };
    let mut steps =
        vec![Step::uses(CHECKOUT), tag, Step::action("Set up Buildx", "docker/setup-buildx-action@v3", buildx)];
    if registry.pull_secret.is_some() {
        let with = BTreeMap::from([
            ("registry", build.push_host.clone()),
            ("username", "${{ secrets.REGISTRY_USERNAME }}".to_string()),
            ("password", "${{ secrets.REGISTRY_PASSWORD }}".to_string()),
        ]);
        steps.push(Step::action("Log in to the registry", "docker/login-action@v3", with));
    }
    let with = BTreeMap::from([
        ("context", build.context.to_string()),
        ("file", build.dockerfile.to_string()),
        ("push", "${{ github.event_name != 'pull_request' }}".to_string()),
        ("tags", format!("{}:${{{{ steps.tag.outputs.tag }}}}", build.push)),
    ]);
    steps.push(Step::action("Build and push", "docker/build-push-action@v6", with));
    let mut job = Job::new(needs, runs_on);
    job.outputs.insert("tag", "${{ steps.tag.outputs.tag }}".to_string());
    job.steps = steps;
    job
}

/// The deploy, never for pull requests.
fn deploy_job(plan: &Plan<'_>, deploy: &DeployPlan<'_>, needs: &[String], runs_on: &RunsOn) -> Job {
    let built = plan.build.is_some();
    let mut job = Job::new(needs, runs_on);
    job.condition = Some("github.event_name != 'pull_request'");
    let mut env = BTreeMap::new();
    if built {
        env.insert("TAG", "${{ needs.build.outputs.tag }}".to_string());
    }
    job.steps = match deploy.via {
        DeployVia::Gitops => {
            let own = pushes_to_own_repository(plan);
            if own {
                // Only this job may push, not the steps running the repository's own code.
                job.permissions = Some(Permissions { contents: "write" });
            }
            let token = if own { "GITHUB_TOKEN" } else { "GITOPS_TOKEN" };
            env.insert("GIT_PUSH_TOKEN", format!("${{{{ secrets.{token} }}}}"));
            // homelabc, git and a shell: the job runs in the homelabc release's image.
            job.container = Some(deploy.homelabc_image.to_string());
            let mut steps = Vec::new();
            if !built {
                steps.push(Step {
                    shell: Some("bash"),
                    ..Step::run("Compute the image tag", tag_line("TAG", "GITHUB_ENV"))
                });
            }
            let run = super::gitops_commands(deploy).join("\n");
            steps.push(Step::run("Set the tag in the GitOps repository", run));
            steps
        }
        DeployVia::Kubectl => {
            if deploy.image.is_none() {
                env.remove("TAG");
            }
            env.insert("KUBECONFIG_DATA", "${{ secrets.KUBECONFIG }}".to_string());
            kubectl_steps(deploy, std::mem::take(&mut env))
        }
    };
    job.env = env;
    job
}

/// Install the cluster's kubectl, write the kubeconfig from its secret without echoing it, and
/// roll the workload.
fn kubectl_steps(deploy: &DeployPlan<'_>, env: BTreeMap<&'static str, String>) -> Vec<Step> {
    let version = deploy.kubectl_image.rsplit_once(':').map_or(super::DEFAULT_KUBECTL, |(_, tag)| tag);
    let args: Vec<String> = super::kubectl_args(deploy, "$TAG")
        .into_iter()
        .map(|a| if a.contains('$') { format!("\"{a}\"") } else { a })
        .collect();
    let run = [
        "umask 077".to_string(),
        "trap 'rm -f \"$RUNNER_TEMP/kubeconfig\"' EXIT".into(),
        "printf '%s' \"$KUBECONFIG_DATA\" > \"$RUNNER_TEMP/kubeconfig\"".into(),
        format!("KUBECONFIG=\"$RUNNER_TEMP/kubeconfig\" kubectl {}", args.join(" ")),
    ]
    .join("\n");
    let with = BTreeMap::from([("version", version.to_string())]);
    vec![
        Step::action("Install kubectl", "azure/setup-kubectl@v4", with),
        Step { env, ..Step::run(&format!("Roll out {}", deploy.app.name.value), run) },
    ]
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::driver;
    use crate::host::MemHost;
    use crate::model::{HostPort, Quantity, RegistryDeploy};
    use crate::source::{Span, Spanned};

    const BASE: &str = r#"homelab "lab"
cluster "lab" distribution="k3s" version="v1.33.6+k3s1" {
    gitops "flux" repo="https://github.com/me/web" path="deploy"
}
node "n1" role="server" { address "10.0.0.2"; arch "amd64"; cpu 4; memory "8Gi"; disk "50Gi" }
registry "local" address="192.168.1.171:5000" { insecure #true; pull-secret "auth"; }
registry "ghcr" address="ghcr.io"
secret "auth" namespace="web" from="external" store="vault" key="lab/auth" type="docker-config"
secret-store "vault" provider="vault" server="https://vault.lab" path="secret" auth-secret="vault-token"
secret "vault-token" namespace="external-secrets" from="existing"
app "web" namespace="web" {
    image "me/web" registry="local" tag="1.0.0"
    port "http" 8080
    resources cpu="10m" memory="16Mi" cpu-limit="100m" memory-limit="32Mi"
}
app "api" namespace="web" {
    image "me/api" registry="ghcr" tag="1.0.0"
    port "http" 8080
    resources cpu="10m" memory="16Mi" cpu-limit="100m" memory-limit="32Mi"
}
"#;

    /// Compiles BASE plus `pipeline`, emits its workflow and reads it back: (path, text, value).
    fn workflow(pipeline: &str) -> (String, String, Value) {
        let host = MemHost::with([("homelab.kdl", format!("{BASE}{pipeline}"))]);
        let checked = driver::check(&host, "homelab.kdl");
        assert!(!checked.has_errors(), "{:#?}", checked.diagnostics);
        let plan = super::super::plan(&checked.model, &checked.model.pipelines[0], false);
        let mut out = Artifacts::default();
        emit(&plan, &mut out);
        assert_eq!((out.files.len(), out.objects.len()), (1, 0));
        let file = out.files.remove(0);
        assert_eq!(file.place.listed_by(), None);
        let (path, text) = crate::layout::render_file(&file);
        let value = crate::yaml::parse_documents(&text).expect("the workflow parses").remove(0);
        (path, text, value)
    }

    fn run_of(job: &Value, name: &str) -> String {
        let steps = job["steps"].as_array().expect("steps");
        let step = steps.iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("no step {name}"));
        step["run"].as_str().expect("run").to_string()
    }

    #[test]
    fn the_seed_003_loop_builds_on_the_self_hosted_runner_and_commits_the_tag() {
        let (path, text, wf) = workflow(
            "pipeline \"web\" engine=\"github-actions\" {\n    source repo=\"https://github.com/me/web\" branch=\"main\"\n    trigger \"push\"\n    build app=\"web\"\n    deploy app=\"web\" via=\"gitops\"\n}\n",
        );
        assert_eq!(path, "pipelines/web/.github/workflows/web.yml");
        assert!(text.starts_with("# Generated by homelabc from pipeline \"web\""));
        assert_eq!(wf["on"], json!({ "push": { "branches": ["main"] } }));
        assert_eq!(wf["permissions"], json!({ "contents": "read" }));
        assert_eq!(wf["jobs"]["deploy"]["permissions"], json!({ "contents": "write" }));
        assert_eq!(wf["concurrency"]["group"], "web-${{ github.ref }}");
        let build = &wf["jobs"]["build"];
        assert_eq!(build["runs-on"], json!(["self-hosted", "linux"]));
        assert_eq!(run_of(build, "Compute the image tag"), "echo \"tag=sha-${GITHUB_SHA::7}\" >> \"$GITHUB_OUTPUT\"");
        assert_eq!(build["outputs"]["tag"], "${{ steps.tag.outputs.tag }}");
        let steps = build["steps"].as_array().expect("steps");
        let config = steps[2]["with"]["buildkitd-config-inline"].as_str().expect("buildkit config");
        assert!(config.contains("[registry.\"192.168.1.171:5000\"]") && config.contains("http = true"));
        assert_eq!(steps[3]["with"]["registry"], "192.168.1.171:5000");
        assert_eq!(steps[3]["with"]["password"], "${{ secrets.REGISTRY_PASSWORD }}");
        assert_eq!(steps[4]["with"]["tags"], "192.168.1.171:5000/me/web:${{ steps.tag.outputs.tag }}");
        assert_eq!(steps[4]["with"]["push"], "${{ github.event_name != 'pull_request' }}");
        let deploy = &wf["jobs"]["deploy"];
        assert_eq!(deploy["needs"], json!(["build"]));
        assert_eq!(deploy["if"], "github.event_name != 'pull_request'");
        assert_eq!(deploy["container"], crate::model::DEFAULT_HOMELABC_IMAGE);
        assert_eq!(deploy["env"]["TAG"], "${{ needs.build.outputs.tag }}");
        assert_eq!(deploy["env"]["GIT_PUSH_TOKEN"], "${{ secrets.GITHUB_TOKEN }}");
        let run = run_of(deploy, "Set the tag in the GitOps repository");
        assert!(run.contains("homelabc set app.web.image.tag \"$TAG\""), "{run}");
        assert!(run.contains("homelabc build") && run.contains("[skip ci]"), "{run}");
    }

    #[test]
    fn a_public_registry_builds_on_github_and_pushes_gitops_with_a_token() {
        let (_, _, wf) = workflow(
            "pipeline \"api\" engine=\"github-actions\" {\n    source repo=\"https://github.com/me/api\"\n    trigger \"push\" \"tag\" \"pull-request\" \"manual\"\n    step \"test\" image=\"python:3.12-slim\" { run \"pip install -r requirements.txt\"; run \"pytest\"; }\n    build app=\"api\" dockerfile=\"docker/Dockerfile\"\n    deploy app=\"api\" via=\"gitops\"\n}\n",
        );
        assert_eq!(
            wf["on"],
            json!({
                "push": { "branches": ["main"], "tags": ["*"] },
                "pull_request": { "branches": ["main"] },
                "workflow_dispatch": {},
            })
        );
        assert_eq!(wf["permissions"], json!({ "contents": "read" }));
        let test = &wf["jobs"]["test"];
        assert_eq!(test["container"], "python:3.12-slim");
        assert_eq!(test["runs-on"], "ubuntu-24.04");
        assert_eq!(run_of(test, "test"), "pip install -r requirements.txt\npytest");
        let build = &wf["jobs"]["build"];
        assert_eq!(build["needs"], json!(["test"]));
        let steps = build["steps"].as_array().expect("steps");
        assert!(steps.iter().all(|s| s["uses"] != "docker/login-action@v3"));
        assert_eq!(steps[2].get("with"), None);
        assert_eq!(steps[3]["with"]["file"], "docker/Dockerfile");
        assert_eq!(steps[3]["with"]["tags"], "ghcr.io/me/api:${{ steps.tag.outputs.tag }}");
        assert_eq!(wf["jobs"]["deploy"]["env"]["GIT_PUSH_TOKEN"], "${{ secrets.GITOPS_TOKEN }}");
        assert_eq!(wf["jobs"]["deploy"].get("permissions"), None);
    }

    #[test]
    fn a_kubectl_deploy_rolls_the_deployment_from_the_lan() {
        let (_, text, wf) = workflow(
            "pipeline \"api\" engine=\"github-actions\" {\n    source repo=\"https://github.com/me/api\"\n    build app=\"api\"\n    deploy app=\"api\" via=\"kubectl\"\n}\n",
        );
        assert_eq!(wf["on"], json!({ "workflow_dispatch": {} }));
        assert_eq!(wf["permissions"], json!({ "contents": "read" }));
        let deploy = &wf["jobs"]["deploy"];
        assert_eq!(deploy["runs-on"], json!(["self-hosted", "linux"]));
        assert_eq!(deploy.get("container"), None);
        assert_eq!(deploy["steps"][0]["with"]["version"], "v1.33.6");
        let roll = &deploy["steps"][1];
        assert_eq!(roll["env"]["KUBECONFIG_DATA"], "${{ secrets.KUBECONFIG }}");
        assert_eq!(roll["env"]["TAG"], "${{ needs.build.outputs.tag }}");
        let run = run_of(deploy, "Roll out api");
        assert!(run.contains("printf '%s' \"$KUBECONFIG_DATA\" > \"$RUNNER_TEMP/kubeconfig\""), "{run}");
        assert!(run.contains("kubectl --namespace web set image deployment/api \"api=ghcr.io/me/api:$TAG\""), "{run}");
        assert!(!text.contains("echo \"$KUBECONFIG_DATA"));
    }

    #[test]
    fn a_gitops_deploy_without_build_computes_its_tag() {
        let (_, _, wf) = workflow(
            "pipeline \"web\" engine=\"github-actions\" {\n    source repo=\"https://github.com/me/web\"\n    step \"build\" image=\"alpine:3.20\" { run \"true\"; }\n    deploy app=\"web\"\n}\n",
        );
        let deploy = &wf["jobs"]["deploy"];
        assert_eq!(deploy["needs"], json!(["step-build"]));
        assert_eq!(deploy["runs-on"], "ubuntu-24.04");
        assert_eq!(deploy["env"].get("TAG"), None);
        assert_eq!(run_of(deploy, "Compute the image tag"), "echo \"TAG=sha-${GITHUB_SHA::7}\" >> \"$GITHUB_ENV\"");
        assert!(wf["jobs"]["step-build"].is_object());
    }

    fn registry(address: &str) -> Registry {
        let at = Span::default();
        Registry {
            name: Spanned::new("r".into(), at),
            address: Spanned::new(HostPort::parse(address).expect("an address"), at),
            scheme: None,
            insecure: None,
            pull_secret: None,
            deploy: None,
            cluster: None,
            span: at,
        }
    }

    #[test]
    fn registries_out_of_reach_of_hosted_runners_are_private() {
        for private in [
            "192.168.1.171:5000",
            "10.0.0.2:30500",
            "172.16.4.1",
            "127.0.0.1:5000",
            "169.254.0.5",
            "100.100.1.2:5000",
            "[fd00::1]:5000",
            "[fe80::1]:5000",
            "[::1]:5000",
            "localhost:5000",
            "registry:5000",
            "nas.local:5000",
            "registry.lan",
            "registry.home.arpa:5000",
            "registry.corp.internal",
        ] {
            assert!(private_registry(&registry(private)), "{private}");
        }
        for public in ["ghcr.io", "registry.example.com:5000", "203.0.113.7:5000", "[2001:db8::1]:443", "8.8.8.8"] {
            assert!(!private_registry(&registry(public)), "{public}");
        }
        let mut insecure = registry("registry.example.com:5000");
        insecure.insecure = Some(Spanned::new(true, Span::default()));
        assert!(private_registry(&insecure));
        let mut deployed = registry("registry.example.com:5000");
        deployed.deploy = Some(RegistryDeploy {
            storage: Spanned::new(Quantity::parse("10Gi").expect("a quantity"), Span::default()),
            node_port: None,
            namespace: Spanned::new("registry".into(), Span::default()),
            span: Span::default(),
        });
        assert!(private_registry(&deployed));
    }

    #[test]
    fn a_gitops_repository_on_the_lan_needs_the_self_hosted_runner() {
        assert_eq!(url_host("https://gitea.lan/me/lab.git"), Some("gitea.lan"));
        assert_eq!(url_host("http://git@10.0.0.5:3000/me/lab"), Some("10.0.0.5"));
        assert_eq!(url_host("https://[fd00::5]:3000/me/lab"), Some("[fd00::5]"));
        assert_eq!(url_host("https://github.com/me/lab"), Some("github.com"));
        assert_eq!(url_host("gitea.lan/me/lab"), None);
        let source = BASE.replace("https://github.com/me/web\" path", "https://gitea.lan/me/lab\" path");
        let host = MemHost::with([(
            "homelab.kdl",
            source + "pipeline \"api\" engine=\"github-actions\" {\n    build app=\"api\"\n    deploy app=\"api\"\n}\n",
        )]);
        let checked = driver::check(&host, "homelab.kdl");
        assert!(!checked.has_errors(), "{:#?}", checked.diagnostics);
        let plan = super::super::plan(&checked.model, &checked.model.pipelines[0], false);
        assert_eq!(json!(runs_on(&plan)), json!(["self-hosted", "linux"]));
    }

    #[test]
    fn step_names_that_are_not_job_ids_are_prefixed() {
        assert_eq!(job_id("test"), "test");
        assert_eq!(job_id("deploy"), "step-deploy");
        assert_eq!(job_id("1-lint"), "step-1-lint");
    }
}
