//! The names an object uses, read from its typed body for the kinds most of
//! a homelab's objects are (Deployments, DaemonSets, CronJobs, Ingresses,
//! ExternalSecrets): what [`super::pod`], [`super::ingress`] and the
//! ExternalSecret's [`super::reader`] read from their JSON, in the same
//! order, so that these objects are written straight to YAML and never
//! built as JSON. `Object::render` holds the two to the same answers in
//! debug builds, on every object the tests build.

use std::any::Any;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::api::networking::v1::Ingress;

use super::{Class, Key, Need};
use crate::backend::secrets::ExternalSecret;
use crate::backend::{Custom, ObjectId};

/// What `body` (of the object `id`) makes beside its own kind's name, onto
/// `provides`, and the names it uses, onto `needs`; `false` (and nothing
/// read) for a kind this module does not know, whose JSON is read instead.
/// The one list of the kinds read typed.
pub(super) fn read(body: &dyn Any, id: &ObjectId, provides: &mut Vec<Key>, needs: &mut Vec<Need>) -> bool {
    let ns = &id.namespace;
    if let Some(external) = body.downcast_ref::<Custom<ExternalSecret>>() {
        external_secret(&external.body, id, provides, needs);
    } else if let Some(deployment) = body.downcast_ref::<Deployment>() {
        pod(deployment.spec.as_ref().and_then(|s| s.template.spec.as_ref()), ns, needs);
    } else if let Some(daemon_set) = body.downcast_ref::<DaemonSet>() {
        pod(daemon_set.spec.as_ref().and_then(|s| s.template.spec.as_ref()), ns, needs);
    } else if let Some(cron_job) = body.downcast_ref::<CronJob>() {
        let job = cron_job.spec.as_ref().and_then(|s| s.job_template.spec.as_ref());
        pod(job.and_then(|j| j.template.spec.as_ref()), ns, needs);
    } else if let Some(ingress) = body.downcast_ref::<Ingress>() {
        self::ingress(ingress, ns, needs);
    } else {
        return false;
    }
    true
}

/// An ExternalSecret: the Secret it makes, and its store (a cluster's, or
/// one of its namespace).
fn external_secret(external: &ExternalSecret, id: &ObjectId, provides: &mut Vec<Key>, needs: &mut Vec<Need>) {
    provides.push((Class::Secret, id.namespace.clone(), external.target().to_string()));
    let (kind, store) = external.store();
    needs.push(super::store_need(kind, store.to_string(), &id.namespace));
}

/// A pod's service account, pull secrets, and the Secrets, ConfigMaps and
/// claims its containers and volumes name ([`super::pod`]).
fn pod(spec: Option<&PodSpec>, ns: &Option<String>, needs: &mut Vec<Need>) {
    let Some(spec) = spec else { return };
    let mut need = |class: Class, name: Option<&str>, at: String| {
        if let Some(name) = name.filter(|n| !n.is_empty()) {
            needs.push(Need { key: (class, ns.clone(), name.to_string()), at });
        }
    };
    let required = |optional: Option<bool>| optional != Some(true);
    need(Class::ServiceAccount, spec.service_account_name.as_deref(), "serviceAccountName".into());
    for secret in spec.image_pull_secrets.iter().flatten() {
        need(Class::Secret, Some(&secret.name), "imagePullSecrets".into());
    }
    for container in spec.containers.iter().chain(spec.init_containers.iter().flatten()) {
        for env in container.env.iter().flatten() {
            let from = env.value_from.as_ref();
            let at = || format!("env {}", env.name);
            if let Some(secret) = from.and_then(|f| f.secret_key_ref.as_ref())
                && required(secret.optional)
            {
                need(Class::Secret, Some(&secret.name), at());
            }
            if let Some(config) = from.and_then(|f| f.config_map_key_ref.as_ref())
                && required(config.optional)
            {
                need(Class::ConfigMap, Some(&config.name), at());
            }
        }
        for env in container.env_from.iter().flatten() {
            if let Some(secret) = env.secret_ref.as_ref().filter(|s| required(s.optional)) {
                need(Class::Secret, Some(&secret.name), "envFrom".into());
            }
            if let Some(config) = env.config_map_ref.as_ref().filter(|c| required(c.optional)) {
                need(Class::ConfigMap, Some(&config.name), "envFrom".into());
            }
        }
    }
    for volume in spec.volumes.iter().flatten() {
        let at = || format!("volume {}", volume.name);
        if let Some(secret) = volume.secret.as_ref().filter(|s| required(s.optional)) {
            need(Class::Secret, secret.secret_name.as_deref(), at());
        }
        if let Some(config) = volume.config_map.as_ref().filter(|c| required(c.optional)) {
            need(Class::ConfigMap, Some(&config.name), at());
        }
        if let Some(claim) = &volume.persistent_volume_claim {
            need(Class::Claim, Some(&claim.claim_name), at());
        }
        let projected = volume.projected.as_ref().and_then(|p| p.sources.as_ref());
        for source in projected.into_iter().flatten() {
            need(Class::Secret, source.secret.as_ref().map(|s| s.name.as_str()), at());
            need(Class::ConfigMap, source.config_map.as_ref().map(|c| c.name.as_str()), at());
        }
    }
}

/// An Ingress: its class, backends, TLS secrets (or the issuer that makes
/// them) ([`super::ingress`]).
fn ingress(ingress: &Ingress, ns: &Option<String>, needs: &mut Vec<Need>) {
    let spec = ingress.spec.as_ref();
    if let Some(class) = spec.and_then(|s| s.ingress_class_name.as_ref()) {
        needs.push(Need { key: (Class::IngressClass, None, class.clone()), at: "ingressClassName".into() });
    }
    for rule in spec.and_then(|s| s.rules.as_ref()).into_iter().flatten() {
        let paths = rule.http.as_ref().map(|h| h.paths.as_slice()).unwrap_or_default();
        for service in paths.iter().filter_map(|p| p.backend.service.as_ref()) {
            needs.push(Need { key: (Class::Service, ns.clone(), service.name.clone()), at: "backend".into() });
        }
    }
    let annotations = ingress.metadata.annotations.as_ref();
    let annotation = |key: &str| annotations.and_then(|a| a.get(key));
    let issuer = annotation(crate::backend::k8s::CLUSTER_ISSUER);
    if let Some(issuer) = issuer {
        needs.push(Need {
            key: (Class::ClusterIssuer, None, issuer.clone()),
            at: crate::backend::k8s::CLUSTER_ISSUER.into(),
        });
    }
    // cert-manager makes the TLS secret of an annotated ingress.
    if issuer.is_none() && annotation("cert-manager.io/issuer").is_none() {
        for tls in spec.and_then(|s| s.tls.as_ref()).into_iter().flatten() {
            if let Some(secret) = &tls.secret_name {
                needs.push(Need { key: (Class::Secret, ns.clone(), secret.clone()), at: "tls".into() });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// The pod spec of every case: each kind of name, required and optional.
    fn pod_spec() -> Value {
        let env = |name: &str, from: Value| json!({ "name": name, "valueFrom": from });
        json!({
            "serviceAccountName": "runner",
            "imagePullSecrets": [{ "name": "pull" }, { "name": "" }],
            "containers": [{
                "name": "app",
                "env": [
                    { "name": "PLAIN", "value": "x" },
                    env("PASSWORD", json!({ "secretKeyRef": { "name": "db", "key": "password" } })),
                    env("MAYBE", json!({ "secretKeyRef": { "name": "maybe", "key": "k", "optional": true } })),
                    env("FALSE", json!({ "secretKeyRef": { "name": "required", "key": "k", "optional": false } })),
                    env("MODE", json!({ "configMapKeyRef": { "name": "settings", "key": "mode" } })),
                    env("FIELD", json!({ "fieldRef": { "fieldPath": "metadata.name" } })),
                ],
                "envFrom": [
                    { "secretRef": { "name": "all-secrets" } },
                    { "configMapRef": { "name": "all-settings" } },
                    { "configMapRef": { "name": "optional-settings", "optional": true } },
                ],
            }],
            "initContainers": [{
                "name": "init",
                "env": [env("TOKEN", json!({ "secretKeyRef": { "name": "init-token", "key": "t" } }))],
            }],
            "volumes": [
                { "name": "tls", "secret": { "secretName": "certs" } },
                { "name": "maybe", "secret": { "secretName": "maybe-certs", "optional": true } },
                { "name": "nameless", "secret": {} },
                { "name": "config", "configMap": { "name": "files" } },
                { "name": "data", "persistentVolumeClaim": { "claimName": "data" } },
                { "name": "scratch", "emptyDir": {} },
                { "name": "mixed", "projected": { "sources": [
                    { "secret": { "name": "projected-secret" } },
                    { "configMap": { "name": "projected-config" } },
                    { "serviceAccountToken": { "path": "token" } },
                ] } },
            ],
        })
    }

    /// What the JSON reader reads of `value`, a pod spec or an Ingress, as
    /// the backends would serialize it, and what this module reads of it as `T`.
    fn both<T: serde::de::DeserializeOwned + serde::Serialize + Any>(
        value: Value,
        json_reader: fn(&Value, &Option<String>, &mut Vec<Need>),
    ) -> (Vec<Need>, Vec<Need>) {
        let ns = Some("apps".to_string());
        let id = ObjectId { api_version: "v1".into(), kind: "Kind".into(), namespace: ns.clone(), name: "x".into() };
        let typed: T = serde_json::from_value(value).expect("a valid object");
        let written = serde_json::to_value(&typed).expect("serializes");
        let (mut from_json, mut from_type, mut provides) = (Vec::new(), Vec::new(), Vec::new());
        json_reader(&written, &ns, &mut from_json);
        assert!(read(&typed, &id, &mut provides, &mut from_type), "a kind read typed");
        assert_eq!(provides, [], "these kinds make nothing beside their own name");
        (from_json, from_type)
    }

    fn names(needs: &[Need]) -> Vec<&str> {
        needs.iter().map(|n| n.key.2.as_str()).collect()
    }

    #[test]
    fn workloads_read_typed_as_from_json() {
        let template = json!({ "metadata": {}, "spec": pod_spec() });
        let selector = json!({ "matchLabels": { "app": "web" } });
        let deployment =
            json!({ "metadata": { "name": "web" }, "spec": { "selector": selector, "template": template } });
        let pod = |value: &Value, ns: &Option<String>, needs: &mut Vec<Need>| {
            super::super::pod(&value["spec"]["template"]["spec"], ns, needs);
        };
        let (from_json, from_type) = both::<Deployment>(deployment.clone(), pod);
        assert_eq!(from_type, from_json);
        assert_eq!(
            names(&from_type),
            [
                "runner",
                "pull",
                "db",
                "required",
                "settings",
                "all-secrets",
                "all-settings",
                "init-token",
                "certs",
                "files",
                "data",
                "projected-secret",
                "projected-config"
            ]
        );
        let (from_json, from_type) = both::<DaemonSet>(deployment, pod);
        assert_eq!((from_type.len(), &from_type), (13, &from_json));
        let cron_job = json!({ "metadata": { "name": "nightly" }, "spec": {
            "schedule": "0 3 * * *", "jobTemplate": { "spec": { "template": template } } } });
        let cron = |value: &Value, ns: &Option<String>, needs: &mut Vec<Need>| {
            super::super::pod(&value["spec"]["jobTemplate"]["spec"]["template"]["spec"], ns, needs);
        };
        let (from_json, from_type) = both::<CronJob>(cron_job, cron);
        assert_eq!((from_type.len(), &from_type), (13, &from_json));
        // No template spec: nothing, as from the JSON.
        let bare = json!({ "metadata": { "name": "web" }, "spec": { "selector": selector, "template": {} } });
        assert_eq!(both::<Deployment>(bare, pod), (Vec::new(), Vec::new()));
    }

    #[test]
    fn ingresses_read_typed_as_from_json() {
        let backend = |service: &str| {
            json!({ "path": "/", "pathType": "Prefix",
            "backend": { "service": { "name": service, "port": { "number": 80 } } } })
        };
        let spec = json!({
            "ingressClassName": "traefik",
            "rules": [
                { "host": "a.example.com", "http": { "paths": [backend("web"), backend("api")] } },
                { "host": "b.example.com" },
            ],
            "tls": [{ "hosts": ["a.example.com"], "secretName": "a-tls" }, { "hosts": ["b.example.com"] }],
        });
        let cases = [
            (json!({ "name": "plain" }), vec!["traefik", "web", "api", "a-tls"]),
            (
                json!({ "name": "cluster", "annotations": { "cert-manager.io/cluster-issuer": "letsencrypt" } }),
                vec!["traefik", "web", "api", "letsencrypt"],
            ),
            (
                json!({ "name": "namespaced", "annotations": { "cert-manager.io/issuer": "local" } }),
                vec!["traefik", "web", "api"],
            ),
        ];
        for (metadata, expected) in cases {
            let ingress = json!({ "metadata": metadata, "spec": spec });
            let (from_json, from_type) = both::<Ingress>(ingress, super::super::ingress);
            assert_eq!(from_type, from_json);
            assert_eq!(names(&from_type), expected);
        }
        assert_eq!(both::<Ingress>(json!({ "metadata": { "name": "empty" } }), super::super::ingress).1, []);
    }

    #[test]
    fn external_secrets_read_typed_as_from_json() {
        let lab = "homelab \"lab\" {\n    domain \"lab.example.com\"\n}\n\
                   secret-store \"vault\" provider=\"vault\" server=\"https://vault.example.com\" path=\"secret\" auth-secret=\"vault-token\"\n\
                   secret \"pull\" namespace=\"demo\" from=\"external\" store=\"vault\" key=\"lab/pull\" type=\"docker-config\"\n\
                   secret \"db\" namespace=\"demo\" from=\"external\" store=\"vault\" key=\"lab/db\"\n";
        let checked = crate::driver::check(&crate::host::MemHost::with([("homelab.kdl", lab)]), "homelab.kdl");
        assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
        let mut artifacts = crate::backend::Artifacts::default();
        crate::backend::secrets::emit(&checked.model, &mut artifacts);
        let mut read = 0;
        for object in artifacts.objects.iter().filter(|o| o.id.kind == "ExternalSecret") {
            let crate::backend::Body::Typed(resource) = &object.body else { panic!("{:?} is typed", object.id) };
            let typed = super::super::seen_typed(object, resource.as_any()).expect("read typed");
            let json = super::super::seen(object, &resource.to_json());
            assert_eq!((&typed.provides, &typed.needs), (&json.provides, &json.needs));
            let vault = (Class::ClusterSecretStore, None, "vault".to_string());
            let crd = (Class::Group, None, "external-secrets.io".to_string());
            assert_eq!(typed.needs.iter().map(|n| &n.key).collect::<Vec<_>>(), [&vault, &crd]);
            assert_eq!(typed.provides, [(Class::Secret, Some("demo".to_string()), object.id.name.clone())]);
            read += 1;
        }
        assert_eq!(read, 2);
    }

    #[test]
    fn only_the_kinds_it_reads() {
        let (mut provides, mut needs) = (Vec::new(), Vec::new());
        let id = ObjectId { api_version: "v1".into(), kind: "Service".into(), namespace: None, name: "x".into() };
        assert!(!read(&k8s_openapi::api::core::v1::Service::default(), &id, &mut provides, &mut needs));
        assert!(needs.is_empty() && provides.is_empty());
        assert!(read(&Deployment::default(), &id, &mut provides, &mut needs));
        assert!(read(&Ingress::default(), &id, &mut provides, &mut needs));
    }
}
