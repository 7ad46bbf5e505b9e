//! The webhook side of a Tekton pipeline (triggers.tekton.dev/v1beta1): an
//! EventListener filtering events with CEL, a TriggerBinding per trigger kind,
//! the TriggerTemplate creating the PipelineRun, the listener's account with
//! exactly what it uses, the Ingress that lets the forge's webhooks reach the
//! listener's Service (`el-<pipeline>`, made by Tekton Triggers) from outside
//! the cluster at `<pipeline>-hooks.<domain>`, and a policy letting the
//! ingress controller in.

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule, IngressServiceBackend, IngressSpec,
    NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec, ServiceBackendPort,
};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use super::types::{Param, PipelineRun};
use super::{LISTENER_PORT, metadata, run_template};
use crate::backend::pipelines::{HooksPlan, Plan, labels};
use crate::backend::{Artifacts, Custom, CustomKind, meta, policy_rule};
use crate::model::Trigger;

/// The API version of the Tekton Triggers kinds.
const TRIGGERS_V1BETA1: &str = "triggers.tekton.dev/v1beta1";

/// `TriggerBinding`: the parameters an event gives the template.
#[derive(Debug, Serialize)]
struct TriggerBinding {
    /// The parameters.
    spec: TriggerBindingSpec,
}

impl CustomKind for TriggerBinding {
    const API_VERSION: &'static str = TRIGGERS_V1BETA1;
    const KIND: &'static str = "TriggerBinding";
}

/// The spec of a [`TriggerBinding`].
#[derive(Debug, Serialize)]
struct TriggerBindingSpec {
    /// Each parameter and where in the event it comes from.
    params: Vec<Param>,
}

/// `TriggerTemplate`: the objects an event creates.
#[derive(Debug, Serialize)]
struct TriggerTemplate {
    /// Its parameters and objects.
    spec: TriggerTemplateSpec,
}

impl CustomKind for TriggerTemplate {
    const API_VERSION: &'static str = TRIGGERS_V1BETA1;
    const KIND: &'static str = "TriggerTemplate";
}

/// The spec of a [`TriggerTemplate`].
#[derive(Debug, Serialize)]
struct TriggerTemplateSpec {
    /// The parameters the bindings fill.
    params: Vec<TemplateParam>,
    /// The objects created, here the one PipelineRun.
    resourcetemplates: Vec<Custom<PipelineRun>>,
}

/// A parameter a TriggerTemplate declares.
#[derive(Debug, Serialize)]
struct TemplateParam {
    /// Its name.
    name: &'static str,
    /// What it is.
    description: &'static str,
}

/// `EventListener`: the webhook receiver and its triggers.
#[derive(Debug, Serialize)]
struct EventListener {
    /// Its account and triggers.
    spec: EventListenerSpec,
}

impl CustomKind for EventListener {
    const API_VERSION: &'static str = TRIGGERS_V1BETA1;
    const KIND: &'static str = "EventListener";
}

/// The spec of an [`EventListener`].
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct EventListenerSpec {
    /// The ServiceAccount the listener runs as.
    service_account_name: String,
    /// One trigger per kind of event.
    triggers: Vec<EventListenerTrigger>,
}

/// A trigger of an EventListener: a filter, the bindings and the template.
#[derive(Debug, Serialize)]
struct EventListenerTrigger {
    /// The kind of event.
    name: &'static str,
    /// The filters an event goes through.
    interceptors: Vec<Interceptor>,
    /// The bindings giving the template its parameters.
    bindings: Vec<ByRef>,
    /// The template creating the run.
    template: ByRef,
}

/// An interceptor of a trigger: a ClusterInterceptor and its parameters.
#[derive(Debug, Serialize)]
struct Interceptor {
    /// The interceptor.
    #[serde(rename = "ref")]
    reference: InterceptorRef,
    /// Its parameters.
    params: Vec<Param>,
}

/// A reference to an interceptor by name and kind.
#[derive(Debug, Serialize)]
struct InterceptorRef {
    /// The interceptor's name.
    name: &'static str,
    /// `ClusterInterceptor`.
    kind: &'static str,
}

/// A reference to a binding or template by name (`ref:`).
#[derive(Debug, Serialize)]
struct ByRef {
    /// The name.
    #[serde(rename = "ref")]
    reference: String,
}

/// Emits the webhook objects of a pipeline triggered by `kinds`.
pub fn emit(plan: &Plan<'_>, ns: &str, kinds: &[Trigger], out: &mut Artifacts) {
    // A unit of their own: without Tekton Triggers installed only they fail
    // to apply, not the pipeline.
    let unit = plan.triggers_unit();
    let account = format!("{}-triggers", plan.name);
    let mut listener_triggers = Vec::new();
    for kind in kinds {
        let word = trigger_word(*kind);
        let binding = format!("{}-{word}", plan.name);
        let revision = match kind {
            Trigger::PullRequest => "$(body.pull_request.head.sha)",
            _ => "$(body.after)",
        };
        let spec = TriggerBindingSpec { params: vec![Param::new("revision", revision), Param::new("event", word)] };
        out.object(&plan.origin, &unit, Custom::new(metadata(plan, &binding, ns), TriggerBinding { spec }));
        listener_triggers.push(EventListenerTrigger {
            name: word,
            interceptors: vec![Interceptor {
                reference: InterceptorRef { name: "cel", kind: "ClusterInterceptor" },
                params: vec![Param::new("filter", cel_filter(*kind, plan.branch))],
            }],
            bindings: vec![ByRef { reference: binding }],
            template: ByRef { reference: plan.name.to_string() },
        });
    }
    let spec = TriggerTemplateSpec {
        params: vec![
            TemplateParam { name: "revision", description: "The commit to build." },
            TemplateParam { name: "event", description: "What started the run: push, tag or pull-request." },
        ],
        resourcetemplates: vec![run_template(plan, ns, "$(tt.params.revision)", "$(tt.params.event)")],
    };
    out.object(&plan.origin, &unit, Custom::new(metadata(plan, plan.name, ns), TriggerTemplate { spec }));
    let spec = EventListenerSpec { service_account_name: account.clone(), triggers: listener_triggers };
    out.object(&plan.origin, &unit, Custom::new(metadata(plan, plan.name, ns), EventListener { spec }));
    listener_access(plan, ns, &account, out);
    if let Some(hooks) = &plan.hooks {
        out.object(&plan.origin, &unit, ingress(plan, ns, hooks));
    }
}

/// The Service Tekton Triggers makes for an EventListener.
fn listener_service(plan: &Plan<'_>) -> String {
    format!("el-{}", plan.name)
}

/// Routes the hooks host to the listener's Service, with the cluster's
/// ingress class: the address to give the forge's webhook
/// (`http://<pipeline>-hooks.<domain>/`).
fn ingress(plan: &Plan<'_>, ns: &str, hooks: &HooksPlan) -> Ingress {
    let backend = IngressBackend {
        service: Some(IngressServiceBackend {
            name: listener_service(plan),
            port: Some(ServiceBackendPort { number: Some(LISTENER_PORT.into()), name: None }),
        }),
        resource: None,
    };
    let path = HTTPIngressPath { path: Some("/".into()), path_type: "Prefix".into(), backend };
    Ingress {
        metadata: metadata(plan, &format!("{}-hooks", plan.name), ns),
        spec: Some(IngressSpec {
            ingress_class_name: Some(hooks.class.into()),
            rules: Some(vec![IngressRule {
                host: Some(hooks.host.clone()),
                http: Some(HTTPIngressRuleValue { paths: vec![path] }),
            }]),
            ..IngressSpec::default()
        }),
        status: None,
    }
}

/// The listener's account, what it may read and create, and the policy
/// letting webhooks in and the listener out.
fn listener_access(plan: &Plan<'_>, ns: &str, account: &str, out: &mut Artifacts) {
    let unit = plan.triggers_unit();
    out.object(&plan.origin, &unit, super::super::service_account(plan, account, ns, true));
    let reads = ["get", "list", "watch"];
    let role = Role {
        metadata: metadata(plan, account, ns),
        rules: Some(vec![
            policy_rule(
                "triggers.tekton.dev",
                &["eventlisteners", "triggerbindings", "triggertemplates", "triggers", "interceptors"],
                &reads,
            ),
            policy_rule("", &["configmaps"], &reads),
            policy_rule("tekton.dev", &["pipelineruns"], &["create"]),
        ]),
    };
    out.object(&plan.origin, &unit, role);
    let binding = RoleBinding {
        metadata: metadata(plan, account, ns),
        role_ref: role_ref("Role", account),
        subjects: Some(vec![subject(plan, ns)]),
    };
    out.object(&plan.origin, &unit, binding);
    let cluster_name = format!("{ns}-{account}");
    let cluster_role = ClusterRole {
        metadata: meta(&cluster_name, None, labels(plan)),
        rules: Some(vec![policy_rule(
            "triggers.tekton.dev",
            &["clustertriggerbindings", "clusterinterceptors"],
            &reads,
        )]),
        aggregation_rule: None,
    };
    out.object(&plan.origin, &unit, cluster_role);
    let cluster_binding = ClusterRoleBinding {
        metadata: meta(&cluster_name, None, labels(plan)),
        role_ref: role_ref("ClusterRole", &cluster_name),
        subjects: Some(vec![subject(plan, ns)]),
    };
    out.object(&plan.origin, &unit, cluster_binding);
    out.object(&plan.origin, &unit, listener_policy(plan, ns));
}

/// A reference to the Role or ClusterRole `name`.
fn role_ref(kind: &str, name: &str) -> RoleRef {
    RoleRef { api_group: "rbac.authorization.k8s.io".into(), kind: kind.to_string(), name: name.to_string() }
}

/// The listener's ServiceAccount, in the pipeline's namespace.
fn subject(plan: &Plan<'_>, ns: &str) -> Subject {
    Subject {
        kind: "ServiceAccount".into(),
        name: format!("{}-triggers", plan.name),
        namespace: Some(ns.to_string()),
        ..Subject::default()
    }
}

/// Lets webhooks reach the listener's port, and the listener out. With an
/// Ingress in front of it, only the ingress controller's namespace comes in;
/// without one (no controller: E0807 says so), any pod may post to it.
fn listener_policy(plan: &Plan<'_>, ns: &str) -> NetworkPolicy {
    let port = NetworkPolicyPort {
        port: Some(IntOrString::Int(LISTENER_PORT.into())),
        protocol: Some("TCP".into()),
        end_port: None,
    };
    let from = plan.hooks.as_ref().map(|hooks| {
        let controller = [("kubernetes.io/metadata.name".to_string(), hooks.controller.to_string())].into();
        vec![NetworkPolicyPeer {
            namespace_selector: Some(LabelSelector { match_labels: Some(controller), match_expressions: None }),
            ..NetworkPolicyPeer::default()
        }]
    });
    NetworkPolicy {
        metadata: metadata(plan, &format!("{}-listener", plan.name), ns),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some([("eventlistener".to_string(), plan.name.to_string())].into()),
                match_expressions: None,
            }),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: Some(vec![NetworkPolicyIngressRule { ports: Some(vec![port]), from }]),
            egress: Some(vec![NetworkPolicyEgressRule::default()]),
        }),
    }
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
