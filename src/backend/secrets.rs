//! Secrets (SPEC §5): nothing here ever holds a secret value. SOPS files and
//! SealedSecrets are copied as they are, only with LF line endings and a
//! final newline like every file of the tree (the checks have made sure they
//! are encrypted, E0602), `from="external"` becomes an ExternalSecret of the
//! declared `type=` against the named store (a ClusterSecretStore of
//! [`super::stores`]), `from="existing"` writes nothing (it is made by hand),
//! and `.sops.yaml` gets creation rules for the recipients the description's
//! SOPS files are already encrypted to.
//!
//! Each secret sits in the unit of its namespace ([`namespace_home`]), so it
//! is applied with the Namespace and before the workloads that read it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Artifacts, Body, Content, Custom, CustomKind, Object, ObjectId, Origin, managed_labels, meta};
use crate::layout::{FilePlace, Unit};
use crate::model::{Model, Secret, SecretSource, SecretType};

/// The ExternalSecret API version written (external-secrets 0.17 and later).
pub const EXTERNAL_SECRETS_API: &str = "external-secrets.io/v1";

/// The API version of SealedSecrets (sealed-secrets' controller).
pub const SEALED_SECRETS_API: &str = "bitnami.com/v1alpha1";

/// Adds `.sops.yaml` when the description has SOPS files: creation rules for
/// the recipients they are encrypted to.
pub fn rules(model: &Model, out: &mut Artifacts) {
    let mut recipients: BTreeSet<(&'static str, String)> = BTreeSet::new();
    let mut sops = Vec::new();
    for secret in &model.secrets {
        if let SecretSource::Sops { file } = &secret.source
            && let Some(text) = model.attachments.get(&file.value)
        {
            recipients.extend(sops_recipients(text));
            sops.push(secret.id(model));
        }
    }
    if let Some((first, rest)) = sops.split_first() {
        let origin = rest.iter().cloned().fold(Origin::of(first.clone()), Origin::and);
        out.file(&origin, FilePlace::SopsRules, Content::Text(sops_config(&recipients)));
    }
}

/// Emits every secret.
pub fn emit(model: &Model, out: &mut Artifacts) {
    for secret in &model.secrets {
        let origin = Origin::of(secret.id(model));
        let scope = model.cluster_key(secret.cluster.as_ref());
        let unit = Unit::namespace_home(model, scope, &secret.namespace.value);
        let verbatim = |api_version: &'static str, kind: &'static str, text: &str| Object {
            origin: origin.clone(),
            unit: unit.clone().into(),
            id: ObjectId {
                api_version: api_version.into(),
                kind: kind.into(),
                namespace: Some(secret.namespace.value.clone()),
                name: secret.name.value.clone(),
            },
            body: Body::Verbatim(with_final_newline(text)),
        };
        match &secret.source {
            // Made by hand on the cluster: nothing is written.
            SecretSource::Existing => {}
            SecretSource::Sops { file } => {
                let Some(text) = model.attachments.get(&file.value) else { continue };
                out.objects.push(verbatim("v1", "Secret", text));
            }
            SecretSource::Sealed { file } => {
                let Some(text) = model.attachments.get(&file.value) else { continue };
                out.objects.push(verbatim(SEALED_SECRETS_API, "SealedSecret", text));
            }
            SecretSource::External { store, key } => {
                out.object(&origin, &unit, external(secret, &store.value, &key.value));
            }
        }
    }
}

fn with_final_newline(text: &str) -> String {
    let mut text = text.replace("\r\n", "\n");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// `ExternalSecret`: a Secret of the declared name filled from a store.
#[derive(Debug, Serialize)]
pub struct ExternalSecret {
    spec: ExternalSecretSpec,
}

impl ExternalSecret {
    /// The name of the Secret it makes.
    pub fn target(&self) -> &str {
        &self.spec.target.name
    }

    /// The kind and name of the store it reads from.
    pub fn store(&self) -> (&str, &str) {
        (self.spec.secret_store_ref.kind, &self.spec.secret_store_ref.name)
    }
}

impl CustomKind for ExternalSecret {
    const API_VERSION: &'static str = EXTERNAL_SECRETS_API;
    const KIND: &'static str = "ExternalSecret";
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalSecretSpec {
    refresh_interval: &'static str,
    secret_store_ref: StoreRef,
    target: Target,
    data_from: Vec<DataFrom>,
}

#[derive(Debug, Serialize)]
struct StoreRef {
    kind: &'static str,
    name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    name: String,
    creation_policy: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<Template>,
}

/// The blueprint of the Secret: its type, and keys added to the properties
/// fetched (`mergePolicy: Merge`). Without template data, external-secrets
/// fills the Secret with the properties fetched as they are.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Template {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    secret_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    merge_policy: Option<&'static str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    data: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
struct DataFrom {
    extract: Extract,
}

#[derive(Debug, Serialize)]
struct Extract {
    key: String,
}

/// An ExternalSecret that pulls every property of `key` from a
/// ClusterSecretStore into a Secret of the declared name and type. A typed
/// Secret takes the properties as they are, so the store's entry holds the
/// keys the type needs (`.dockerconfigjson`; `tls.crt` and `tls.key`;
/// `username` and `password`).
fn external(secret: &Secret, store: &str, key: &str) -> Custom<ExternalSecret> {
    external_secret(secret, &secret.name.value, store, key, BTreeMap::new())
}

/// A copy of an external `secret` (the same store and key, in its namespace)
/// that makes the Secret `name` with `data` added to the properties fetched:
/// a restic repository's credentials with the repository of one volume
/// ([`super::volsync`]). `None` when the secret is not read from a store.
pub fn external_with(secret: &Secret, name: &str, data: BTreeMap<String, String>) -> Option<Custom<ExternalSecret>> {
    match &secret.source {
        SecretSource::External { store, key } => Some(external_secret(secret, name, &store.value, &key.value, data)),
        SecretSource::Sops { .. } | SecretSource::Sealed { .. } | SecretSource::Existing => None,
    }
}

/// The ExternalSecret making the Secret `name` of `secret`'s namespace and
/// type from `key` of `store`, with `data` merged over the properties fetched.
fn external_secret(
    secret: &Secret,
    name: &str,
    store: &str,
    key: &str,
    data: BTreeMap<String, String>,
) -> Custom<ExternalSecret> {
    let metadata = meta(name, Some(&secret.namespace.value), managed_labels());
    let secret_type =
        (secret.secret_type.value != SecretType::Opaque).then(|| secret.secret_type.value.kubernetes_type());
    let merge_policy = (!data.is_empty()).then_some("Merge");
    let template =
        (secret_type.is_some() || merge_policy.is_some()).then_some(Template { secret_type, merge_policy, data });
    Custom::new(
        metadata,
        ExternalSecret {
            spec: ExternalSecretSpec {
                refresh_interval: "1h",
                secret_store_ref: StoreRef { kind: "ClusterSecretStore", name: store.to_string() },
                target: Target { name: name.to_string(), creation_policy: "Owner", template },
                data_from: vec![DataFrom { extract: Extract { key: key.to_string() } }],
            },
        },
    )
}

/// The age recipients and PGP fingerprints a SOPS file is encrypted to.
fn sops_recipients(text: &str) -> Vec<(&'static str, String)> {
    let Ok(docs) = crate::yaml::parse_documents(text) else { return Vec::new() };
    let mut found = Vec::new();
    for doc in &docs {
        let sops = &doc["sops"];
        for (kind, list, field) in [("age", "age", "recipient"), ("pgp", "pgp", "fp")] {
            for entry in sops[list].as_array().into_iter().flatten() {
                if let Some(value) = entry[field].as_str() {
                    found.push((kind, value.to_string()));
                }
            }
        }
    }
    found
}

/// `.sops.yaml`.
#[derive(Debug, Serialize)]
struct SopsConfig {
    creation_rules: Vec<CreationRule>,
}

/// A creation rule: which files, which keys of them, for whom.
#[derive(Debug, Serialize)]
struct CreationRule {
    path_regex: &'static str,
    encrypted_regex: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    age: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pgp: Option<String>,
}

/// `.sops.yaml`: encrypt the data of any secret added to the tree's folders
/// for the recipients already in use.
fn sops_config(recipients: &BTreeSet<(&'static str, String)>) -> String {
    let keys = |kind: &str| {
        let keys: Vec<&str> = recipients.iter().filter(|(k, _)| *k == kind).map(|(_, v)| v.as_str()).collect();
        (!keys.is_empty()).then(|| keys.join(","))
    };
    let rule = CreationRule {
        path_regex: r".*\.ya?ml$",
        encrypted_regex: "^(data|stringData)$",
        age: keys("age"),
        pgp: keys("pgp"),
    };
    let header = "# .sops.yaml — written by homelabc from the recipients of the description's SOPS files.\n";
    format!("{header}{}", crate::yaml::render(&SopsConfig { creation_rules: vec![rule] }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_come_from_the_sops_metadata() {
        let text = "apiVersion: v1\nkind: Secret\ndata:\n  a: ENC[AES256_GCM,data:x,type:str]\nsops:\n  age:\n    - recipient: age1abc\n      enc: x\n  mac: ENC[AES256_GCM,data:y,type:str]\n";
        assert_eq!(sops_recipients(text), vec![("age", "age1abc".to_string())]);
        let config = sops_config(&sops_recipients(text).into_iter().collect());
        assert!(config.contains("age: age1abc"), "{config}");
        assert!(config.contains("encrypted_regex: ^(data|stringData)$"), "{config}");
    }
}
