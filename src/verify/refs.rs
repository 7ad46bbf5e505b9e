//! What one object of the output names and what it makes, read from its
//! JSON as the layout serializes it: the raw material of the closed-world
//! check ([`super::world`]).

use serde_json::Value;

use crate::backend::Object;

mod typed;

/// The kinds of things an object may name or make.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// A Secret (made by a Secret, an ExternalSecret or a SealedSecret).
    Secret,
    /// A ConfigMap.
    ConfigMap,
    /// A ServiceAccount.
    ServiceAccount,
    /// A Service.
    Service,
    /// A PersistentVolumeClaim.
    Claim,
    /// A StorageClass.
    StorageClass,
    /// An IngressClass (or the class of an ingress controller).
    IngressClass,
    /// A Gateway API GatewayClass.
    GatewayClass,
    /// A Gateway API Gateway.
    Gateway,
    /// A cert-manager ClusterIssuer.
    ClusterIssuer,
    /// An external-secrets ClusterSecretStore.
    ClusterSecretStore,
    /// An external-secrets SecretStore.
    SecretStore,
    /// A Role.
    Role,
    /// A ClusterRole.
    ClusterRole,
    /// A Deployment or StatefulSet (the target of an HPA).
    Workload,
    /// A VolSync ReplicationDestination (a claim's `dataSourceRef`).
    ReplicationDestination,
    /// The CRDs of an API group.
    Group,
}

impl Class {
    /// The class as people name it.
    pub fn noun(self) -> &'static str {
        match self {
            Class::Secret => "Secret",
            Class::ConfigMap => "ConfigMap",
            Class::ServiceAccount => "ServiceAccount",
            Class::Service => "Service",
            Class::Claim => "PersistentVolumeClaim",
            Class::StorageClass => "StorageClass",
            Class::IngressClass => "IngressClass",
            Class::GatewayClass => "GatewayClass",
            Class::Gateway => "Gateway",
            Class::ClusterIssuer => "ClusterIssuer",
            Class::ClusterSecretStore => "ClusterSecretStore",
            Class::SecretStore => "SecretStore",
            Class::Role => "Role",
            Class::ClusterRole => "ClusterRole",
            Class::Workload => "workload",
            Class::ReplicationDestination => "ReplicationDestination",
            Class::Group => "API group",
        }
    }
}

/// A thing an object names or makes: its class, namespace and name.
pub type Key = (Class, Option<String>, String);

/// One name an object uses.
#[derive(Clone, Debug, PartialEq)]
pub struct Need {
    /// What it names.
    pub key: Key,
    /// Where in the object, for the message (`env DB_PASSWORD`).
    pub at: String,
}

/// What the closed-world check keeps of an object.
#[derive(Debug)]
pub struct Seen {
    /// The cluster it is applied to (several clusters only).
    pub cluster: Option<String>,
    /// What it makes.
    pub provides: Vec<Key>,
    /// What it names; with its origin, only when it names anything.
    pub needs: Vec<Need>,
    /// `kind namespace/name`, when it names anything.
    pub describe: String,
    /// The declarations it was made for, when it names anything or holds a credential.
    pub origin: Option<crate::backend::Origin>,
    /// The first string of it that looks like a credential: its path and what it looks like.
    pub leak: Option<(String, crate::leaks::Leak)>,
}

impl Seen {
    /// What is worth keeping until the closed-world check: boxed, and
    /// nothing when the object makes, names and leaks nothing (a
    /// NetworkPolicy, a PodDisruptionBudget), which the check would skip.
    pub fn kept(self) -> Option<Box<Seen>> {
        let empty = self.provides.is_empty() && self.needs.is_empty() && self.leak.is_none();
        (!empty).then(|| Box::new(self))
    }
}

/// What [`seen_from`] reads an object's body from.
enum Read<'a> {
    /// Nothing: the object is known by its identity.
    Identity,
    /// Its JSON, with a [`reader`] for its kind.
    Json(&'a Value),
    /// What [`typed::read`] read of its typed body: what it makes beside
    /// its own kind's name, and what it names.
    Typed(Vec<Key>, Vec<Need>),
}

/// Reads what an object makes and names, from its JSON.
pub fn seen(object: &Object, value: &Value) -> Seen {
    seen_from(object, Read::Json(value))
}

/// What an object makes and names, read from its typed body where its kind
/// has a typed reader (workloads that run one pod template, Ingresses,
/// ExternalSecrets: the most of an app), so that it needs no JSON; `None` for other kinds. As
/// with [`seen_clean`], its strings were scanned for credentials as it was
/// written, and none was found. The same as [`seen`] would read (checked
/// on every object in debug builds, `Object::render`).
pub fn seen_typed(object: &Object, body: &dyn std::any::Any) -> Option<Seen> {
    let (mut provides, mut needs) = (Vec::new(), Vec::new());
    let read = typed::read(body, &object.id, &mut provides, &mut needs);
    read.then(|| seen_from(object, Read::Typed(provides, needs)))
}

/// What an object makes and names when [`reads_body`] says nothing of it
/// but its strings is read, and none of them looks like a credential (they
/// were scanned as it was written, [`crate::yaml::render_straight`]): all
/// of it comes from its identity, without its JSON.
pub fn seen_clean(object: &Object) -> Seen {
    debug_assert!(!reads_body(&object.id), "{} {} is read from its JSON", object.id.api_version, object.id.kind);
    seen_from(object, Read::Identity)
}

/// Whether what an object makes or names is read from its body (beyond
/// the credentials its strings may hold): the kinds its `reader` knows.
pub fn reads_body(id: &crate::backend::ObjectId) -> bool {
    reader(group_of(&id.api_version), &id.kind).is_some()
}

/// The API group of an `apiVersion` (the core group is `""`).
fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

/// An object's body as a [`Reader`] sees it, and what it found so far.
struct Reading<'a> {
    object: &'a Object,
    value: &'a Value,
    ns: &'a Option<String>,
    provides: &'a mut Vec<Key>,
    needs: &'a mut Vec<Need>,
}

impl Reading<'_> {
    /// The string at a JSON pointer.
    fn text(&self, pointer: &str) -> Option<String> {
        self.value.pointer(pointer).and_then(Value::as_str).map(str::to_string)
    }
}

/// Reads what an object of one kind makes and names in its body.
type Reader = fn(&mut Reading<'_>);

/// How an object of a group and kind is read, for the kinds whose body
/// makes or names something (the one list of them).
fn reader(group: &str, kind: &str) -> Option<Reader> {
    Some(match (group, kind) {
        ("external-secrets.io", "ExternalSecret") => |r| {
            let target = r.text("/spec/target/name").unwrap_or_else(|| r.object.id.name.clone());
            r.provides.push((Class::Secret, r.ns.clone(), target));
            let store_kind = r.text("/spec/secretStoreRef/kind").unwrap_or_else(|| "SecretStore".into());
            if let Some(store) = r.text("/spec/secretStoreRef/name") {
                r.needs.push(store_need(&store_kind, store, r.ns));
            }
        },
        ("bitnami.com", "SealedSecret") => |r| r.provides.push((Class::Secret, r.ns.clone(), r.object.id.name.clone())),
        // Tekton Triggers serves an EventListener through the Service `el-<name>` it makes.
        ("triggers.tekton.dev", "EventListener") => {
            |r| r.provides.push((Class::Service, r.ns.clone(), format!("el-{}", r.object.id.name)))
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => |r| {
            if let Some(g) = r.text("/spec/group") {
                r.provides.push((Class::Group, None, g));
            }
        },
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") | ("batch", "Job") => |r| {
            let value = r.value;
            pod(&value["spec"]["template"]["spec"], r.ns, r.needs);
            if r.object.id.kind == "Job" {
                r.provides.extend(applied_groups(&value["spec"]["template"]["spec"]));
            }
            // A StatefulSet makes a claim per template and replica: `<template>-<name>-<ordinal>`.
            let replicas = value["spec"]["replicas"].as_u64().unwrap_or(1);
            for claim in value["spec"]["volumeClaimTemplates"].as_array().into_iter().flatten() {
                storage_class(claim.pointer("/spec/storageClassName"), r.needs);
                restore(&claim["spec"], r.ns, r.needs);
                if let Some(template) = claim["metadata"]["name"].as_str() {
                    let made = (0..replicas).map(|i| format!("{template}-{}-{i}", r.object.id.name));
                    r.provides.extend(made.map(|name| (Class::Claim, r.ns.clone(), name)));
                }
            }
        },
        ("batch", "CronJob") => |r| pod(&r.value["spec"]["jobTemplate"]["spec"]["template"]["spec"], r.ns, r.needs),
        ("", "Pod") => |r| pod(&r.value["spec"], r.ns, r.needs),
        ("", "PersistentVolumeClaim") => |r| {
            storage_class(r.value.pointer("/spec/storageClassName"), r.needs);
            restore(&r.value["spec"], r.ns, r.needs);
        },
        ("volsync.backube", "ReplicationSource" | "ReplicationDestination") => |r| volsync(r.value, r.ns, r.needs),
        ("networking.k8s.io", "Ingress") => |r| ingress(r.value, r.ns, r.needs),
        ("gateway.networking.k8s.io", "Gateway") => |r| gateway(r.value, r.ns, r.needs),
        ("gateway.networking.k8s.io", "HTTPRoute") => |r| route(r.value, r.ns, r.needs),
        ("cert-manager.io", "Certificate") => |r| {
            if let Some(secret) = r.text("/spec/secretName") {
                r.provides.push((Class::Secret, r.ns.clone(), secret));
            }
            if r.text("/spec/issuerRef/kind").as_deref() == Some("ClusterIssuer")
                && let Some(issuer) = r.text("/spec/issuerRef/name")
            {
                r.needs.push(Need { key: (Class::ClusterIssuer, None, issuer), at: "issuerRef".into() });
            }
        },
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => |r| binding(r.value, r.ns, r.needs),
        ("autoscaling", "HorizontalPodAutoscaler") => |r| {
            if let Some(name) = r.text("/spec/scaleTargetRef/name") {
                r.needs.push(Need { key: (Class::Workload, r.ns.clone(), name), at: "scaleTargetRef".into() });
            }
        },
        ("helm.toolkit.fluxcd.io", "HelmRelease") => |r| {
            chart_values(&r.value["spec"]["values"], r.value["spec"]["targetNamespace"].as_str(), r.ns, r.needs);
        },
        ("helm.cattle.io", "HelmChart") => |r| {
            let text = r.value["spec"]["valuesContent"].as_str().unwrap_or_default();
            let parsed = crate::yaml::parse_documents(text).ok().and_then(|d| d.into_iter().next());
            let values = parsed.unwrap_or(Value::Null);
            chart_values(&values, r.value["spec"]["targetNamespace"].as_str(), r.ns, r.needs);
        },
        ("argoproj.io", "Application") => |r| {
            let values = &r.value["spec"]["source"]["helm"]["valuesObject"];
            chart_values(values, r.value["spec"]["destination"]["namespace"].as_str(), r.ns, r.needs);
        },
        _ => return None,
    })
}

/// What an ExternalSecret names: its store, of the `kind` written
/// (`ClusterSecretStore`, else a `SecretStore` of its namespace `ns`).
fn store_need(kind: &str, store: String, ns: &Option<String>) -> Need {
    let key = match kind {
        "ClusterSecretStore" => (Class::ClusterSecretStore, None, store),
        _ => (Class::SecretStore, ns.clone(), store),
    };
    Need { key, at: "secretStoreRef".into() }
}

/// What an object makes and names: from its identity, and from its body as
/// `read` gives it (its JSON, or its typed body; with neither, it is known
/// to name nothing), and the credential its JSON holds (read from its
/// typed body or its identity alone, it was scanned and holds none).
fn seen_from(object: &Object, read: Read<'_>) -> Seen {
    let ns = object.id.namespace.clone();
    let mut provides = Vec::new();
    let kind = &*object.id.kind;
    let group = group_of(&object.id.api_version);
    if let Some(class) = own_class(group, kind) {
        provides.push((class, if cluster_scoped(class) { None } else { ns.clone() }, object.id.name.clone()));
    }
    let (mut needs, value) = match read {
        Read::Json(value) => {
            let mut needs = Vec::new();
            if let Some(read) = reader(group, kind) {
                read(&mut Reading { object, value, ns: &ns, provides: &mut provides, needs: &mut needs });
            }
            (needs, Some(value))
        }
        Read::Typed(made, needs) => {
            provides.extend(made);
            (needs, None)
        }
        Read::Identity => (Vec::new(), None),
    };
    if !(group.is_empty() || BUILTIN_GROUPS.contains(&group)) {
        needs.push(Need { key: (Class::Group, None, group.to_string()), at: "apiVersion".into() });
    }
    // Copied SOPS and sealed files are E0602's: their values are ciphertext.
    let leak = match (&object.body, value) {
        (crate::backend::Body::Verbatim(_), _) | (_, None) => None,
        (_, Some(value)) => crate::leaks::in_json(value),
    };
    // Kept for every object of the tree: no room to grow.
    provides.shrink_to_fit();
    needs.shrink_to_fit();
    let named = !needs.is_empty() || leak.is_some();
    let describe = match &ns {
        Some(ns) if named => format!("{kind} `{ns}/{}`", object.id.name),
        None if named => format!("{kind} `{}`", object.id.name),
        _ => String::new(),
    };
    Seen {
        cluster: object.unit.cluster().map(str::to_string),
        provides,
        needs,
        describe,
        origin: named.then(|| object.origin.clone()),
        leak,
    }
}

/// The API groups a Job installs: those of the known release manifests its
/// containers apply (`kubectl apply --filename URL`, in any container, since
/// init containers run first and in order).
fn applied_groups(spec: &Value) -> Vec<Key> {
    let containers = spec["initContainers"].as_array().into_iter().flatten();
    let containers = containers.chain(spec["containers"].as_array().into_iter().flatten());
    let mut groups = Vec::new();
    for container in containers {
        let words: Vec<&str> = ["command", "args"]
            .iter()
            .flat_map(|key| container[key].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .collect();
        if !words.contains(&"apply") {
            continue;
        }
        let urls = words.windows(2).filter(|w| matches!(w[0], "-f" | "--filename")).map(|w| w[1]);
        let urls = urls.chain(words.iter().filter_map(|w| w.strip_prefix("--filename=")));
        for url in urls {
            let known = crate::model::crds::groups_of_release(url);
            groups.extend(known.iter().map(|g| (Class::Group, None, g.to_string())));
        }
    }
    groups
}

/// API groups every cluster serves (the core group is `""`).
pub const BUILTIN_GROUPS: &[&str] = &[
    "apps",
    "batch",
    "autoscaling",
    "policy",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "apiextensions.k8s.io",
    "admissionregistration.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "node.k8s.io",
    "certificates.k8s.io",
];

/// The class an object of this group and kind is, when others may name it.
fn own_class(group: &str, kind: &str) -> Option<Class> {
    Some(match (group, kind) {
        ("", "Secret") => Class::Secret,
        ("", "ConfigMap") => Class::ConfigMap,
        ("", "ServiceAccount") => Class::ServiceAccount,
        ("", "Service") => Class::Service,
        ("", "PersistentVolumeClaim") => Class::Claim,
        ("storage.k8s.io", "StorageClass") => Class::StorageClass,
        ("networking.k8s.io", "IngressClass") => Class::IngressClass,
        ("gateway.networking.k8s.io", "GatewayClass") => Class::GatewayClass,
        ("gateway.networking.k8s.io", "Gateway") => Class::Gateway,
        ("cert-manager.io", "ClusterIssuer") => Class::ClusterIssuer,
        ("external-secrets.io", "ClusterSecretStore") => Class::ClusterSecretStore,
        ("external-secrets.io", "SecretStore") => Class::SecretStore,
        ("rbac.authorization.k8s.io", "Role") => Class::Role,
        ("rbac.authorization.k8s.io", "ClusterRole") => Class::ClusterRole,
        ("apps", "Deployment" | "StatefulSet") => Class::Workload,
        ("volsync.backube", "ReplicationDestination") => Class::ReplicationDestination,
        _ => return None,
    })
}

/// Whether names of a class are cluster-wide.
fn cluster_scoped(class: Class) -> bool {
    matches!(
        class,
        Class::StorageClass
            | Class::IngressClass
            | Class::GatewayClass
            | Class::ClusterIssuer
            | Class::ClusterSecretStore
            | Class::ClusterRole
    )
}

/// What a pod spec names: its account, pull secrets, the secrets and config
/// maps of its environment and volumes, its claims.
fn pod(spec: &Value, ns: &Option<String>, needs: &mut Vec<Need>) {
    let mut need = |class: Class, name: Option<&str>, at: String| {
        if let Some(name) = name.filter(|n| !n.is_empty()) {
            needs.push(Need { key: (class, ns.clone(), name.to_string()), at });
        }
    };
    need(Class::ServiceAccount, spec["serviceAccountName"].as_str(), "serviceAccountName".into());
    for secret in spec["imagePullSecrets"].as_array().into_iter().flatten() {
        need(Class::Secret, secret["name"].as_str(), "imagePullSecrets".into());
    }
    let containers = spec["containers"].as_array().into_iter().chain(spec["initContainers"].as_array()).flatten();
    for container in containers {
        for env in container["env"].as_array().into_iter().flatten() {
            let from = &env["valueFrom"];
            let at = || format!("env {}", env["name"].as_str().unwrap_or_default());
            for (class, pointer) in [(Class::Secret, "secretKeyRef"), (Class::ConfigMap, "configMapKeyRef")] {
                let source = &from[pointer];
                if source["optional"] != Value::Bool(true) {
                    need(class, source["name"].as_str(), at());
                }
            }
        }
        for env in container["envFrom"].as_array().into_iter().flatten() {
            for (class, pointer) in [(Class::Secret, "secretRef"), (Class::ConfigMap, "configMapRef")] {
                if env[pointer]["optional"] != Value::Bool(true) {
                    need(class, env[pointer]["name"].as_str(), "envFrom".into());
                }
            }
        }
    }
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        let at = || format!("volume {}", volume["name"].as_str().unwrap_or_default());
        if volume["secret"]["optional"] != Value::Bool(true) {
            need(Class::Secret, volume["secret"]["secretName"].as_str(), at());
        }
        if volume["configMap"]["optional"] != Value::Bool(true) {
            need(Class::ConfigMap, volume["configMap"]["name"].as_str(), at());
        }
        need(Class::Claim, volume["persistentVolumeClaim"]["claimName"].as_str(), at());
        for source in volume["projected"]["sources"].as_array().into_iter().flatten() {
            need(Class::Secret, source["secret"]["name"].as_str(), at());
            need(Class::ConfigMap, source["configMap"]["name"].as_str(), at());
        }
    }
}

/// A claim's storage class, when it names one.
fn storage_class(class: Option<&Value>, needs: &mut Vec<Need>) {
    if let Some(name) = class.and_then(Value::as_str).filter(|n| !n.is_empty()) {
        needs.push(Need { key: (Class::StorageClass, None, name.to_string()), at: "storageClassName".into() });
    }
}

/// The ReplicationDestination a claim is filled from (VolSync's volume populator).
fn restore(spec: &Value, ns: &Option<String>, needs: &mut Vec<Need>) {
    let source = &spec["dataSourceRef"];
    if source["apiGroup"] == "volsync.backube"
        && source["kind"] == "ReplicationDestination"
        && let Some(name) = source["name"].as_str()
    {
        needs.push(Need {
            key: (Class::ReplicationDestination, ns.clone(), name.to_string()),
            at: "dataSourceRef".into(),
        });
    }
}

/// A VolSync ReplicationSource or ReplicationDestination: the Secret its
/// restic mover reads the repository from, and the claim a source backs up.
fn volsync(value: &Value, ns: &Option<String>, needs: &mut Vec<Need>) {
    if let Some(secret) = value["spec"]["restic"]["repository"].as_str() {
        needs.push(Need { key: (Class::Secret, ns.clone(), secret.to_string()), at: "restic.repository".into() });
    }
    if let Some(claim) = value["spec"]["sourcePVC"].as_str() {
        needs.push(Need { key: (Class::Claim, ns.clone(), claim.to_string()), at: "sourcePVC".into() });
    }
}

/// An Ingress: its class, backends, TLS secrets (or the issuer that makes them).
fn ingress(value: &Value, ns: &Option<String>, needs: &mut Vec<Need>) {
    let spec = &value["spec"];
    if let Some(class) = spec["ingressClassName"].as_str() {
        needs.push(Need { key: (Class::IngressClass, None, class.to_string()), at: "ingressClassName".into() });
    }
    for rule in spec["rules"].as_array().into_iter().flatten() {
        for path in rule["http"]["paths"].as_array().into_iter().flatten() {
            if let Some(service) = path["backend"]["service"]["name"].as_str() {
                needs.push(Need { key: (Class::Service, ns.clone(), service.to_string()), at: "backend".into() });
            }
        }
    }
    let annotations = &value["metadata"]["annotations"];
    let issuer = annotations["cert-manager.io/cluster-issuer"].as_str();
    if let Some(issuer) = issuer {
        needs.push(Need {
            key: (Class::ClusterIssuer, None, issuer.to_string()),
            at: "cert-manager.io/cluster-issuer".into(),
        });
    }
    // cert-manager makes the TLS secret of an annotated ingress.
    if issuer.is_none() && annotations["cert-manager.io/issuer"].is_null() {
        for tls in spec["tls"].as_array().into_iter().flatten() {
            if let Some(secret) = tls["secretName"].as_str() {
                needs.push(Need { key: (Class::Secret, ns.clone(), secret.to_string()), at: "tls".into() });
            }
        }
    }
}

/// A Gateway: its class and the TLS Secrets of its listeners.
fn gateway(value: &Value, ns: &Option<String>, needs: &mut Vec<Need>) {
    let spec = &value["spec"];
    if let Some(class) = spec["gatewayClassName"].as_str() {
        needs.push(Need { key: (Class::GatewayClass, None, class.to_string()), at: "gatewayClassName".into() });
    }
    for listener in spec["listeners"].as_array().into_iter().flatten() {
        for reference in listener["tls"]["certificateRefs"].as_array().into_iter().flatten() {
            let core = reference["group"].as_str().is_none_or(str::is_empty);
            if core
                && reference["kind"].as_str().is_none_or(|k| k == "Secret")
                && let Some(name) = reference["name"].as_str()
            {
                let at = format!("listener {}", listener["name"].as_str().unwrap_or_default());
                let secret_ns = reference["namespace"].as_str().map(str::to_string).or_else(|| ns.clone());
                needs.push(Need { key: (Class::Secret, secret_ns, name.to_string()), at });
            }
        }
    }
}

/// An HTTPRoute: the Gateways it attaches to and the Services it sends to.
fn route(value: &Value, ns: &Option<String>, needs: &mut Vec<Need>) {
    let spec = &value["spec"];
    for parent in spec["parentRefs"].as_array().into_iter().flatten() {
        if parent["kind"].as_str().is_none_or(|k| k == "Gateway")
            && let Some(name) = parent["name"].as_str()
        {
            let gateway_ns = parent["namespace"].as_str().map(str::to_string).or_else(|| ns.clone());
            needs.push(Need { key: (Class::Gateway, gateway_ns, name.to_string()), at: "parentRefs".into() });
        }
    }
    for rule in spec["rules"].as_array().into_iter().flatten() {
        for backend in rule["backendRefs"].as_array().into_iter().flatten() {
            if backend["kind"].as_str().is_none_or(|k| k == "Service")
                && let Some(name) = backend["name"].as_str()
            {
                needs.push(Need { key: (Class::Service, ns.clone(), name.to_string()), at: "backendRefs".into() });
            }
        }
    }
}

/// The ClusterRoles every cluster has.
const BUILTIN_CLUSTER_ROLES: &[&str] = &["admin", "edit", "view", "cluster-admin"];

/// A RoleBinding or ClusterRoleBinding: its role and ServiceAccount subjects.
fn binding(value: &Value, ns: &Option<String>, needs: &mut Vec<Need>) {
    let role = &value["roleRef"];
    if let Some(name) = role["name"].as_str() {
        let builtin = BUILTIN_CLUSTER_ROLES.contains(&name) || name.starts_with("system:");
        match role["kind"].as_str() {
            Some("ClusterRole") if !builtin => {
                needs.push(Need { key: (Class::ClusterRole, None, name.to_string()), at: "roleRef".into() })
            }
            Some("Role") => needs.push(Need { key: (Class::Role, ns.clone(), name.to_string()), at: "roleRef".into() }),
            _ => {}
        }
    }
    for subject in value["subjects"].as_array().into_iter().flatten() {
        if subject["kind"] == "ServiceAccount"
            && let Some(name) = subject["name"].as_str()
        {
            let sa_ns = subject["namespace"].as_str().map(str::to_string).or_else(|| ns.clone());
            needs.push(Need { key: (Class::ServiceAccount, sa_ns, name.to_string()), at: "subjects".into() });
        }
    }
}

/// Keys of Helm values that name a Secret of the release's namespace.
const SECRET_KEYS: &[&str] = &["existingSecret", "existingSecretName", "extraSecretNamesForEnvFrom"];

/// The Secrets a chart's values name (Flux HelmRelease, k3s HelmChart, Argo CD
/// Application), in the release's namespace (else the object's).
fn chart_values(values: &Value, release_ns: Option<&str>, ns: &Option<String>, needs: &mut Vec<Need>) {
    let ns = release_ns.map(str::to_string).or_else(|| ns.clone());
    let mut found = Vec::new();
    walk(values, &mut Vec::new(), &mut found);
    for (path, name) in found {
        needs.push(Need { key: (Class::Secret, ns.clone(), name), at: format!("values {path}") });
    }
}

/// Collects (dotted path, secret name) of every secret-naming key.
fn walk(value: &Value, path: &mut Vec<String>, found: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                path.push(key.clone());
                if key == "secretKeyRef" {
                    // An `env` entry of a chart's values reading a Secret's key.
                    if let Some(name) = child["name"].as_str().filter(|n| !n.is_empty() && !n.contains("{{")) {
                        found.push((path.join("."), name.to_string()));
                    }
                } else if SECRET_KEYS.contains(&key.as_str()) {
                    let names: Vec<&str> = match child {
                        Value::String(s) => vec![s.as_str()],
                        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                        _ => Vec::new(),
                    };
                    // `{{ ... }}` and `$VAR` are templates, not names.
                    for name in names.into_iter().filter(|n| !n.is_empty() && !n.contains("{{") && !n.contains('$')) {
                        found.push((path.join("."), name.to_string()));
                    }
                } else {
                    walk(child, path, found);
                }
                path.pop();
            }
        }
        Value::Array(items) => items.iter().for_each(|item| walk(item, path, found)),
        _ => {}
    }
}
