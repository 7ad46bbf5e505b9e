//! Pipeline checks (E08xx): what would make a generated pipeline fail on its
//! first run — nowhere to push, a deploy of the wrong app, a GitOps deploy
//! with no GitOps, an engine asked for what it cannot do, credentials the
//! build cannot mount. Step image tags are checked with the other images
//! (E0603, in `security`); unknown apps with the other references (E0201).

use crate::diag::{Code, Diagnostic};
use crate::model::{DeployVia, Engine, Model, Pipeline, PodSecurity, Word, WorkloadKind};

/// Runs the pipeline checks.
pub fn check(model: &Model, diags: &mut Vec<Diagnostic>) {
    for pipeline in &model.pipelines {
        build_registry(model, pipeline, diags);
        deploy_matches_build(pipeline, diags);
        gitops_deploy(model, pipeline, diags);
        kubectl_under_gitops(model, pipeline, diags);
        kubectl_rollable(model, pipeline, diags);
        engine_limits(model, pipeline, diags);
        push_credentials(model, pipeline, diags);
        gitops_credentials(model, pipeline, diags);
        ci_server(model, pipeline, diags);
        webhooks_reachable(model, pipeline, diags);
    }
}

/// What the checks know of a CI server component's chart values: where its
/// environment is, the variables that configure a forge, the one holding its
/// address, and where its Ingress switch and Service type are.
struct CiServer {
    /// The component (and its chart's release name).
    component: &'static str,
    /// The engine as people name it.
    noun: &'static str,
    /// The path of the server's environment in the values.
    env: &'static [&'static str],
    /// Variables any of which configures a forge.
    forges: &'static [&'static str],
    /// The variable holding the server's public address.
    host: &'static str,
    /// The path of the server's Ingress `enabled` switch.
    ingress: &'static [&'static str],
    /// The path of the server's Service `type`.
    service: &'static [&'static str],
}

/// The Drone server (chart `drone`).
const DRONE: CiServer = CiServer {
    component: "drone",
    noun: "Drone",
    env: &["env"],
    forges: &[
        "DRONE_GITEA_SERVER",
        "DRONE_GITHUB_CLIENT_ID",
        "DRONE_GITLAB_CLIENT_ID",
        "DRONE_GOGS_SERVER",
        "DRONE_BITBUCKET_CLIENT_ID",
        "DRONE_STASH_CONSUMER_KEY",
        "DRONE_GITEE_CLIENT_ID",
    ],
    host: "DRONE_SERVER_HOST",
    ingress: &["ingress", "enabled"],
    service: &["service", "type"],
};

/// The Woodpecker server (chart `woodpecker`, subchart `server`).
const WOODPECKER: CiServer = CiServer {
    component: "woodpecker",
    noun: "Woodpecker",
    env: &["server", "env"],
    forges: &[
        "WOODPECKER_GITEA",
        "WOODPECKER_GITHUB",
        "WOODPECKER_GITLAB",
        "WOODPECKER_FORGEJO",
        "WOODPECKER_BITBUCKET",
        "WOODPECKER_BITBUCKET_DC",
    ],
    host: "WOODPECKER_HOST",
    ingress: &["server", "ingress", "enabled"],
    service: &["server", "service", "type"],
};

/// E0806 and E0807: the Drone or Woodpecker server a pipeline runs on knows
/// its forge (else it does not start), has a public address, and something
/// exposes it (the forge's webhooks and the users' OAuth redirects come from
/// outside the cluster).
fn ci_server(model: &Model, pipeline: &Pipeline, diags: &mut Vec<Diagnostic>) {
    let server = match pipeline.engine.value {
        Engine::Drone => &DRONE,
        Engine::Woodpecker => &WOODPECKER,
        Engine::Tekton | Engine::GithubActions => return,
    };
    let Some(chart) = model.charts.iter().find(|c| c.component.as_deref() == Some(server.component)) else { return };
    let found = Found { model, pipeline, server, values: chart.values.as_ref() };
    let (name, noun, component) = (&pipeline.name.value, server.noun, server.component);
    if !server.forges.iter().any(|f| found.env(f).is_some()) {
        diags.push(found.diagnostic(
            Code::E0806,
            format!("pipeline `{name}` runs on a {noun} server that has no forge to log in with and read repositories from"),
            format!("{noun} refuses to start without a forge"),
            format!(
                "name the forge: `use \"{component}\" {{ gitea-server \"http://git.example.com\" }}`, and declare its OAuth client as `secret \"{component}-oauth\" namespace=\"{component}\" ...`"
            ),
        ));
    }
    if found.env(server.host).is_none() {
        diags.push(found.diagnostic(
            Code::E0807,
            format!(
                "pipeline `{name}` runs on a {noun} server without an address: webhooks and logins cannot reach it"
            ),
            format!("the {noun} server needs `server-host`"),
            format!(
                "give the host it is reached at: `use \"{component}\" {{ server-host \"{component}.{}\" }}`",
                domain(model)
            ),
        ));
        return;
    }
    diags.extend(exposure(&found));
}

/// What [`ci_server`] found of a pipeline's CI server.
struct Found<'m> {
    model: &'m Model,
    pipeline: &'m Pipeline,
    server: &'static CiServer,
    /// The merged values of the server's chart.
    values: Option<&'m crate::model::Value>,
}

impl Found<'_> {
    /// A variable of the server's environment, when set (and not `false`).
    fn env(&self, name: &str) -> Option<String> {
        let value = self.values.and_then(|v| v.at(self.server.env)).and_then(|e| e.at(&[name]))?;
        value.kind.scalar_text().filter(|t| !t.is_empty() && t != "false")
    }

    /// A scalar of the values, as text.
    fn flag(&self, path: &[&str]) -> Option<String> {
        self.values.and_then(|v| v.at(path)).and_then(|v| v.kind.scalar_text())
    }

    /// A diagnostic at the pipeline's engine, with the component's `use` as context.
    fn diagnostic(&self, code: Code, message: String, label: String, help: String) -> Diagnostic {
        let diag = Diagnostic::new(code, message).primary(self.pipeline.engine.span, label).help(help);
        match self.model.uses.iter().find(|u| u.component.value == self.server.component) {
            Some(u) => diag.secondary(u.component.span, "configured here"),
            None => diag,
        }
    }
}

/// E0807: the server's address is served: by its Ingress (a host name, no
/// port) or a NodePort or LoadBalancer Service set in its values.
fn exposure(found: &Found<'_>) -> Vec<Diagnostic> {
    let (name, noun, component) = (&found.pipeline.name.value, found.server.noun, found.server.component);
    let ingress = found.flag(found.server.ingress).as_deref() == Some("true");
    let service = found.flag(found.server.service);
    let mut diags = Vec::new();
    let host = found.model.component(component).and_then(|c| c.param_text("server-host")).unwrap_or_default();
    if ingress && host.contains(':') {
        diags.push(found.diagnostic(
            Code::E0807,
            format!("the {noun} server of pipeline `{name}` is served by an Ingress, which cannot serve `{host}`"),
            "an Ingress routes a host name on ports 80 and 443".into(),
            format!(
                "give `server-host` without a port: `use \"{component}\" {{ server-host \"{}\" }}`",
                host.split(':').next().unwrap_or_default()
            ),
        ));
    }
    if !ingress && !matches!(service.as_deref(), Some("NodePort" | "LoadBalancer")) {
        diags.push(found.diagnostic(
            Code::E0807,
            format!(
                "nothing exposes the {noun} server of pipeline `{name}` at `{}`: its cluster has no ingress controller",
                found.env(found.server.host).unwrap_or_default()
            ),
            "the forge's webhooks and the users' logins come from outside the cluster".into(),
            format!(
                "give the cluster an ingress controller (`ingress \"traefik\"` or `\"nginx\"`), or name one with `use \"{component}\" {{ ingress-class \"...\" }}`"
            ),
        ));
    }
    diags
}

/// The homelab's domain, or a placeholder for help texts.
fn domain(model: &Model) -> String {
    model.homelab.as_ref().and_then(|h| h.domain.as_ref()).map_or_else(|| "example.com".into(), |d| d.value.clone())
}

/// E0807: a Tekton pipeline's webhooks reach its EventListener through the
/// cluster's ingress controller (`<pipeline>-hooks`); without one, nothing
/// outside the cluster can deliver them.
fn webhooks_reachable(model: &Model, pipeline: &Pipeline, diags: &mut Vec<Diagnostic>) {
    if pipeline.engine.value != Engine::Tekton {
        return;
    }
    let Some(trigger) = pipeline.webhooks().next() else { return };
    let Some(cluster) = model.cluster_for(pipeline.cluster.as_ref()) else { return };
    if Model::controller_class(cluster).is_some() {
        return;
    }
    diags.push(
        Diagnostic::new(
            Code::E0807,
            format!(
                "the webhooks of pipeline `{}` cannot reach its EventListener: cluster `{}` has no ingress controller",
                pipeline.name.value, cluster.name.value
            ),
        )
        .primary(trigger.span, "delivered by the forge from outside the cluster")
        .secondary(cluster.ingress.span, "no ingress controller")
        .help(format!(
            "give cluster `{}` an ingress controller (`ingress \"traefik\"` or `\"nginx\"`), which serves `{}`, or start the pipeline by hand with `trigger \"manual\"`",
            cluster.name.value,
            model.hooks_host(pipeline)
        )),
    );
}

/// E0801: the built app's image must name a declared registry.
fn build_registry(model: &Model, pipeline: &Pipeline, diags: &mut Vec<Diagnostic>) {
    let Some(build) = &pipeline.build else { return };
    let Some(app) = model.app(&build.app.value) else { return };
    let Some(image) = &app.container.image else { return };
    if image.registry.is_some() {
        return;
    }
    let mut diag = Diagnostic::new(
        Code::E0801,
        format!("pipeline `{}` builds app `{}`, whose image names no registry", pipeline.name.value, app.name.value),
    )
    .primary(build.app.span, "the image is pushed to this app's registry")
    .secondary(image.repository.span, "no `registry=` here");
    diag = match model.registries.first() {
        Some(r) => diag.help(format!("add `registry=\"{}\"` to the app's `image`", r.name.value)),
        None => diag.help("declare the registry the pipeline pushes to (`registry \"local\" address=...`) and name it with `registry=` on the app's `image`"),
    };
    diags.push(diag);
}

/// E0802: a pipeline with both a build and a deploy deploys what it built.
fn deploy_matches_build(pipeline: &Pipeline, diags: &mut Vec<Diagnostic>) {
    let (Some(build), Some(deploy)) = (&pipeline.build, &pipeline.deploy) else { return };
    if build.app.value == deploy.app.value {
        return;
    }
    diags.push(
        Diagnostic::new(
            Code::E0802,
            format!(
                "pipeline `{}` builds `{}` but deploys `{}`",
                pipeline.name.value, build.app.value, deploy.app.value
            ),
        )
        .primary(deploy.app.span, "this app would get the other app's image")
        .secondary(build.app.span, "the image built")
        .help(format!(
            "deploy the app that is built (`deploy app=\"{}\"`), or give each app its own pipeline",
            build.app.value
        )),
    );
}

/// E0803: `via="gitops"` needs a GitOps agent on the deployed app's cluster.
fn gitops_deploy(model: &Model, pipeline: &Pipeline, diags: &mut Vec<Diagnostic>) {
    let Some(deploy) = &pipeline.deploy else { return };
    if deploy.via.value != DeployVia::Gitops {
        return;
    }
    let Some(app) = model.app(&deploy.app.value) else { return };
    let Some(cluster) = model.cluster_for(app.cluster.as_ref()) else { return };
    if cluster.gitops.is_some() {
        return;
    }
    diags.push(
        Diagnostic::new(
            Code::E0803,
            format!("pipeline `{}` deploys through GitOps, but cluster `{}` has no `gitops`", pipeline.name.value, cluster.name.value),
        )
        .primary(deploy.via.span, "commits the new tag to the GitOps repository")
        .secondary(cluster.name.span, "no `gitops` child here")
        .help("add `gitops \"flux\" repo=... path=...` to the cluster, or roll the app directly with `deploy via=\"kubectl\"`"),
    );
}

/// E0808: kubectl cannot change a Job's pods (its template is immutable), and
/// has no restart for a CronJob: only a new image can be set on one.
fn kubectl_rollable(model: &Model, pipeline: &Pipeline, diags: &mut Vec<Diagnostic>) {
    let Some(deploy) = &pipeline.deploy else { return };
    if deploy.via.value != DeployVia::Kubectl {
        return;
    }
    let Some(app) = model.app(&deploy.app.value) else { return };
    let why = match app.workload() {
        WorkloadKind::Job => "a Job's pod template cannot change once created",
        WorkloadKind::Cronjob if pipeline.build.is_none() => {
            "a CronJob has no rollout to restart: its next run starts fresh"
        }
        _ => return,
    };
    diags.push(
        Diagnostic::new(
            Code::E0808,
            format!(
                "pipeline `{}` cannot roll {} `{}` with kubectl",
                pipeline.name.value,
                app.workload(),
                app.name.value
            ),
        )
        .primary(deploy.via.span, why)
        .help("deploy it with `via=\"gitops\"`: the new tag is committed and the GitOps agent replaces the object"),
    );
}

/// W0801: a kubectl rollout of an app Flux or Argo CD applies from Git is
/// undone at the agent's next reconciliation, back to the committed tag.
fn kubectl_under_gitops(model: &Model, pipeline: &Pipeline, diags: &mut Vec<Diagnostic>) {
    let Some(deploy) = &pipeline.deploy else { return };
    if deploy.via.value != DeployVia::Kubectl {
        return;
    }
    let Some(app) = model.app(&deploy.app.value) else { return };
    let Some(cluster) = model.cluster_for(app.cluster.as_ref()) else { return };
    let Some(gitops) = &cluster.gitops else { return };
    diags.push(
        Diagnostic::new(
            Code::W0801,
            format!(
                "pipeline `{}` rolls app `{}` with kubectl, but {} applies it from Git",
                pipeline.name.value,
                app.name.value,
                gitops.engine.value.as_str()
            ),
        )
        .primary(deploy.via.span, "changes the live Deployment only")
        .secondary(gitops.engine.span, "reconciles the app back to the committed tag")
        .help("use `via=\"gitops\"` so that the new tag is committed, and the description stays the source of truth"),
    );
}

/// E0804: what each engine cannot do.
fn engine_limits(model: &Model, pipeline: &Pipeline, diags: &mut Vec<Diagnostic>) {
    let engine = pipeline.engine.value;
    let name = &pipeline.name.value;
    let limit = |message: String| Diagnostic::new(Code::E0804, message);
    match engine {
        Engine::GithubActions => {
            if let Some(source) = &pipeline.source
                && github_repo(&source.repo.value).is_none()
            {
                diags.push(
                    limit(format!("pipeline `{name}` runs on GitHub Actions, but its source is not a GitHub repository"))
                        .primary(source.repo.span, "GitHub runs workflows only from the repository they are in")
                        .help("use `https://github.com/OWNER/REPO`, or pick an engine that serves this forge (`drone`, `woodpecker`, `tekton`)"),
                );
            }
            if let Some(ns) = &pipeline.namespace {
                diags.push(
                    limit(format!(
                        "pipeline `{name}` runs on GitHub Actions, outside the cluster: it has no namespace"
                    ))
                    .primary(ns.span, "no pod of this pipeline runs in the cluster")
                    .help("remove `namespace=`"),
                );
            }
        }
        Engine::Tekton => {
            if pipeline.source.is_none() {
                diags.push(
                    limit(format!("Tekton pipeline `{name}` has no `source` to clone"))
                        .primary(pipeline.name.span, "the first task clones the source")
                        .help("add `source repo=\"https://...\" branch=\"main\"` inside the pipeline"),
                );
            }
            let ns = pipeline.namespace().unwrap_or_default();
            if pipeline.build.is_some() && model.pod_security(ns) == PodSecurity::Restricted {
                let at = pipeline.namespace.as_ref().map_or(pipeline.name.span, |n| n.span);
                let mut diag = limit(format!(
                    "Tekton pipeline `{name}` builds an image in namespace `{ns}`, whose Pod Security level is `restricted`"
                ))
                .primary(at, "the image build (kaniko) runs as root");
                if let Some(declared) = model.namespaces.iter().find(|n| n.name.value == ns) {
                    diag = diag.secondary(declared.pod_security.span, "restricted here");
                }
                diags.push(diag.help(format!(
                    "run the pipeline in its own namespace (`namespace=\"ci\"`), or declare `namespace \"{ns}\" pod-security=\"baseline\"`"
                )));
            }
        }
        Engine::Drone => {
            if let Some(ns) = &pipeline.namespace
                && ns.value != crate::model::DRONE_NAMESPACE
            {
                diags.push(
                    limit(format!("Drone runs pipeline `{name}` in the runner's namespace, not in `{}`", ns.value))
                        .primary(ns.span, "the `drone` component's runner only builds in `drone`")
                        .help("remove `namespace=`"),
                );
            }
        }
        Engine::Woodpecker => {}
    }
    if engine != Engine::Tekton
        && let Some(secret) = pipeline.deploy.as_ref().and_then(|d| d.secret.as_ref())
    {
        diags.push(
            limit(format!("pipeline `{name}` names a Kubernetes Secret to push with, which only Tekton reads"))
                .primary(secret.span, format!("{} keeps its own secrets", engine.as_str()))
                .help(format!("remove `secret=`; {}", engine_push_secret(engine))),
        );
    }
    if engine != Engine::Tekton
        && let Some(workspace) = &pipeline.workspace
    {
        diags.push(
            limit(format!("pipeline `{name}` declares a `workspace`, which only Tekton uses"))
                .primary(workspace.span, format!("{} shares the checkout between steps itself", engine.as_str()))
                .help("remove the `workspace`"),
        );
    }
}

/// Where an engine other than Tekton takes the token a GitOps deploy pushes with.
fn engine_push_secret(engine: Engine) -> &'static str {
    match engine {
        Engine::GithubActions => {
            "GitHub Actions pushes with `GITHUB_TOKEN` to its own repository and with the repository secret `GITOPS_TOKEN` to another one"
        }
        _ => "the pipeline pushes with the token in the engine's secret `git_push_token`",
    }
}

/// E0805: a Tekton GitOps deploy pushes with the `token` of a Secret
/// declared in the pipeline's namespace.
fn gitops_credentials(model: &Model, pipeline: &Pipeline, diags: &mut Vec<Diagnostic>) {
    let Some(deploy) = &pipeline.deploy else { return };
    if pipeline.engine.value != Engine::Tekton || deploy.via.value != DeployVia::Gitops {
        return;
    }
    let ns = pipeline.namespace().unwrap_or_default();
    let Some(secret) = &deploy.secret else {
        diags.push(
            Diagnostic::new(
                Code::E0805,
                format!("Tekton pipeline `{}` pushes to the GitOps repository but names no credentials", pipeline.name.value),
            )
            .primary(deploy.via.span, "commits and pushes the new tag")
            .help(format!(
                "add `secret=\"git-push\"` to the deploy and declare `secret \"git-push\" namespace=\"{ns}\" ...` holding a `token` that may push"
            )),
        );
        return;
    };
    if model.secrets.iter().any(|s| s.name.value == secret.value && s.namespace.value == ns) {
        return;
    }
    diags.push(
        Diagnostic::new(
            Code::E0805,
            format!(
                "the push credentials `{}` of pipeline `{}` are not declared in namespace `{ns}`",
                secret.value, pipeline.name.value
            ),
        )
        .primary(secret.span, format!("the deploy task runs in `{ns}` and reads this Secret's `token`"))
        .help(format!("declare `secret \"{}\" namespace=\"{ns}\" ...` holding a `token` that may push", secret.value)),
    );
}

/// `https://github.com/OWNER/REPO(.git)` → `OWNER/REPO`; credentials in the
/// URL (`https://me:…@github.com/…`, E0611 of their own) do not change whose
/// repository it is.
pub fn github_repo(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://")?;
    let rest = match rest.split_once('/') {
        Some((authority, _)) if authority.contains('@') => rest.split_once('@').map_or(rest, |(_, r)| r),
        _ => rest,
    };
    let rest = rest.strip_prefix("github.com/")?;
    let rest = rest.trim_end_matches('/').trim_end_matches(".git");
    let (owner, repo) = rest.split_once('/')?;
    (!owner.is_empty() && !repo.is_empty() && !repo.contains('/')).then(|| format!("{owner}/{repo}"))
}

/// E0805: Tekton's build mounts the registry's credentials, which must be
/// declared in the namespace the build runs in. (Drone and Woodpecker read
/// them from their own secret store, GitHub Actions from repository secrets.)
fn push_credentials(model: &Model, pipeline: &Pipeline, diags: &mut Vec<Diagnostic>) {
    let Some(build) = &pipeline.build else { return };
    if pipeline.engine.value != Engine::Tekton {
        return;
    }
    let Some(ns) = pipeline.namespace() else { return };
    let Some(app) = model.app(&build.app.value) else { return };
    let Some(registry) =
        app.container.image.as_ref().and_then(|i| i.registry.as_ref()).and_then(|r| model.registry(&r.value))
    else {
        return;
    };
    let Some(secret) = &registry.pull_secret else { return };
    if model.secrets.iter().any(|s| s.name.value == secret.value && s.namespace.value == ns) {
        return;
    }
    let mut diag = Diagnostic::new(
        Code::E0805,
        format!(
            "pipeline `{}` pushes to registry `{}`, whose credentials `{}` are not declared in namespace `{ns}`",
            pipeline.name.value, registry.name.value, secret.value
        ),
    )
    .primary(build.app.span, format!("the image build runs in `{ns}` and mounts the registry's credentials"))
    .secondary(secret.span, "the registry's credentials");
    if let Some(other) = model.secrets.iter().find(|s| s.name.value == secret.value) {
        diag = diag.secondary(other.name.span, format!("declared in `{}` only", other.namespace.value));
    }
    diags.push(diag.help(format!(
        "declare `secret \"{}\" namespace=\"{ns}\" ...` with the same credentials (a Secret can only be mounted in its own namespace)",
        secret.value
    )));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver;
    use crate::host::MemHost;

    fn codes(source: &str) -> Vec<String> {
        let host = MemHost::with([("homelab.kdl", source)]);
        let checked = driver::check(&host, "homelab.kdl");
        checked.diagnostics.iter().map(|d| d.code.to_string()).filter(|c| c.starts_with("E08")).collect()
    }

    const BASE: &str = r#"homelab "lab"
cluster "lab" distribution="k3s" version="v1.33.6+k3s1" {
    gitops "flux" repo="https://github.com/me/lab" path="deploy"
}
node "n1" role="server" { address "10.0.0.2"; arch "amd64"; cpu 4; memory "8Gi"; disk "50Gi" }
registry "local" address="10.0.0.2:30500" { insecure #true; }
app "web" namespace="web" {
    image "web" registry="local" tag="1.0.0"
    port "http" 8080
    resources cpu="10m" memory="16Mi" cpu-limit="100m" memory-limit="32Mi"
}
app "api" namespace="web" {
    image "api" tag="1.0.0"
    port "http" 8080
    resources cpu="10m" memory="16Mi" cpu-limit="100m" memory-limit="32Mi"
}
use "drone" { server-host "drone.lab"; gitea-server "http://gitea.lan"; }
use "woodpecker" { server-host "ci.lab"; gitea-server "http://gitea.lan"; }
"#;

    #[test]
    fn a_valid_pipeline_passes() {
        let source = format!(
            "{BASE}pipeline \"web\" engine=\"tekton\" {{\n    source repo=\"https://github.com/me/web\"\n    build app=\"web\"\n    deploy app=\"web\" via=\"kubectl\"\n}}\n"
        );
        assert_eq!(codes(&source), Vec::<String>::new());
    }

    #[test]
    fn building_an_app_without_registry_is_e0801() {
        let source = format!(
            "{BASE}pipeline \"api\" engine=\"drone\" {{\n    build app=\"api\"\n    deploy app=\"api\" via=\"kubectl\"\n}}\n"
        );
        assert_eq!(codes(&source), ["E0801"]);
    }

    #[test]
    fn deploying_another_app_is_e0802() {
        let source =
            format!("{BASE}pipeline \"web\" engine=\"drone\" {{\n    build app=\"web\"\n    deploy app=\"api\"\n}}\n");
        assert_eq!(codes(&source), ["E0802"]);
    }

    #[test]
    fn gitops_deploy_without_gitops_is_e0803() {
        let source = BASE.replace("{\n    gitops \"flux\" repo=\"https://github.com/me/lab\" path=\"deploy\"\n}", "")
            + "pipeline \"web\" engine=\"drone\" {\n    build app=\"web\"\n    deploy app=\"web\" via=\"gitops\"\n}\n";
        assert_eq!(codes(&source), ["E0803"]);
    }

    #[test]
    fn engine_limits_are_e0804() {
        let actions = format!(
            "{BASE}pipeline \"web\" engine=\"github-actions\" {{\n    source repo=\"http://gitea.lan/me/web.git\"\n    build app=\"web\"\n}}\n"
        );
        assert_eq!(codes(&actions), ["E0804"]);
        let no_source = format!("{BASE}pipeline \"web\" engine=\"tekton\" {{\n    build app=\"web\"\n}}\n");
        assert_eq!(codes(&no_source), ["E0804"]);
        let restricted = format!(
            "{BASE}pipeline \"web\" engine=\"tekton\" namespace=\"web\" {{\n    source repo=\"https://github.com/me/web\"\n    build app=\"web\"\n}}\n"
        );
        assert_eq!(codes(&restricted), ["E0804"]);
        let workspace = format!(
            "{BASE}pipeline \"web\" engine=\"woodpecker\" {{\n    workspace size=\"1Gi\"\n    build app=\"web\"\n}}\n"
        );
        assert_eq!(codes(&workspace), ["E0804"]);
    }

    #[test]
    fn credentials_outside_the_build_namespace_are_e0805() {
        let source = BASE.replace("{ insecure #true; }", "{ insecure #true; pull-secret \"auth\"; }")
            + "secret \"auth\" namespace=\"web\" from=\"external\" store=\"vault\" key=\"lab/auth\"\n"
            + "pipeline \"web\" engine=\"tekton\" {\n    source repo=\"https://github.com/me/web\"\n    build app=\"web\"\n}\n";
        assert_eq!(codes(&source), ["E0805"]);
        let fixed =
            source.clone() + "secret \"auth\" namespace=\"ci\" from=\"external\" store=\"vault\" key=\"lab/auth\"\n";
        assert_eq!(codes(&fixed), Vec::<String>::new());
    }

    #[test]
    fn a_tekton_gitops_deploy_needs_push_credentials() {
        let pipeline = |deploy: &str| {
            format!(
                "{BASE}pipeline \"web\" engine=\"tekton\" {{\n    source repo=\"https://github.com/me/web\"\n    build app=\"web\"\n    {deploy}\n}}\n"
            )
        };
        assert_eq!(codes(&pipeline("deploy app=\"web\"")), ["E0805"]);
        assert_eq!(codes(&pipeline("deploy app=\"web\" secret=\"push\"")), ["E0805"]);
        let declared = pipeline("deploy app=\"web\" secret=\"push\"")
            + "secret \"push\" namespace=\"ci\" from=\"external\" store=\"vault\" key=\"lab/push\"\n";
        assert_eq!(codes(&declared), Vec::<String>::new());
        let drone = format!(
            "{BASE}pipeline \"web\" engine=\"drone\" {{\n    build app=\"web\"\n    deploy app=\"web\" secret=\"push\"\n}}\n"
        );
        assert_eq!(codes(&drone), ["E0804"]);
    }

    #[test]
    fn a_ci_server_without_forge_or_address_is_e0806_or_e0807() {
        let drone = |use_: &str| {
            BASE.replace("use \"drone\" { server-host \"drone.lab\"; gitea-server \"http://gitea.lan\"; }", use_)
                + "pipeline \"web\" engine=\"drone\" {\n    build app=\"web\"\n    deploy app=\"web\" via=\"gitops\"\n}\n"
        };
        assert_eq!(codes(&drone("use \"drone\" { server-host \"drone.lab\"; }")), ["E0806"]);
        assert_eq!(codes(&drone("use \"drone\" { gitea-server \"http://gitea.lan\"; }")), ["E0807"]);
        assert_eq!(codes(&drone("")), ["E0806", "E0807"]);
        let forge =
            "use \"drone\" { server-host \"drone.lab\"; values { env { DRONE_GITHUB_CLIENT_ID \"0a1b\"; }; }; }";
        assert_eq!(codes(&drone(forge)), Vec::<String>::new(), "a forge set in values counts");
        let port = drone("use \"drone\" { server-host \"drone.lab:8080\"; gitea-server \"http://gitea.lan\"; }");
        assert_eq!(codes(&port), ["E0807"], "an Ingress host has no port");
        let no_ingress = drone("use \"drone\" { server-host \"drone.lab\"; gitea-server \"http://gitea.lan\"; }")
            .replace(
                "distribution=\"k3s\" version=\"v1.33.6+k3s1\" {",
                "distribution=\"k3s\" version=\"v1.33.6+k3s1\" {\n    ingress \"none\"",
            );
        assert_eq!(codes(&no_ingress), ["E0807"]);
        let node_port = no_ingress.replace(
            "gitea-server \"http://gitea.lan\"; }",
            "gitea-server \"http://gitea.lan\"; values { service { type \"NodePort\"; }; }; }",
        );
        assert_eq!(codes(&node_port), Vec::<String>::new(), "a NodePort exposes it");
    }

    #[test]
    fn tekton_webhooks_without_ingress_controller_are_e0807() {
        let pipeline = |trigger: &str| {
            BASE.replace(
                "distribution=\"k3s\" version=\"v1.33.6+k3s1\" {",
                "distribution=\"k3s\" version=\"v1.33.6+k3s1\" {\n    ingress \"none\"",
            ) + &format!(
                "pipeline \"web\" engine=\"tekton\" {{\n    source repo=\"https://github.com/me/web\"\n    trigger \"{trigger}\"\n    build app=\"web\"\n    deploy app=\"web\" via=\"kubectl\"\n}}\n"
            )
        };
        assert_eq!(codes(&pipeline("push")), ["E0807"]);
        assert_eq!(codes(&pipeline("manual")), Vec::<String>::new());
    }

    #[test]
    fn a_kubectl_rollout_under_gitops_is_w0801() {
        let source = format!(
            "{BASE}pipeline \"web\" engine=\"drone\" {{\n    build app=\"web\"\n    deploy app=\"web\" via=\"kubectl\"\n}}\n"
        );
        let checked = driver::check(&MemHost::with([("homelab.kdl", source.as_str())]), "homelab.kdl");
        let codes: Vec<String> = checked.diagnostics.iter().map(|d| d.code.to_string()).collect();
        assert!(codes.contains(&"W0801".to_string()), "{codes:?}");
        let without = source.replace("gitops \"flux\" repo=\"https://github.com/me/lab\" path=\"deploy\"", "");
        let checked = driver::check(&MemHost::with([("homelab.kdl", without.as_str())]), "homelab.kdl");
        assert!(checked.diagnostics.iter().all(|d| d.code.to_string() != "W0801"));
    }

    #[test]
    fn github_repositories_are_recognised() {
        assert_eq!(github_repo("https://github.com/me/web"), Some("me/web".into()));
        assert_eq!(github_repo("https://github.com/me/web.git"), Some("me/web".into()));
        assert_eq!(github_repo("https://gitea.lan/me/web"), None);
        assert_eq!(github_repo("https://github.com/me"), None);
    }
}
