//! Secrets (SPEC §5): nothing here ever holds a secret value. SOPS files and
//! SealedSecrets are copied as they are, only with LF line endings and a
//! final newline like every file of the tree (the checks have made sure they
//! are encrypted, E0602), `from="external"` becomes an ExternalSecret against the
//! named store, and `.sops.yaml` gets creation rules for the recipients the
//! description's SOPS files are already encrypted to.
//!
//! Each secret sits in the unit of its namespace ([`namespace_home`]), so it
//! is applied with the Namespace and before the workloads that read it.

use std::collections::BTreeSet;

use serde_json::json;

use super::{Artifacts, Object, RawFile, managed_labels};
use crate::layout::namespace_home;
use crate::model::{Model, Secret, SecretSource};

/// The ExternalSecret API version written (external-secrets 0.17 and later).
pub const EXTERNAL_SECRETS_API: &str = "external-secrets.io/v1";

/// Emits every secret, and `.sops.yaml` when SOPS files exist.
pub fn emit(model: &Model, out: &mut Artifacts) {
    let mut recipients: BTreeSet<(&'static str, String)> = BTreeSet::new();
    for secret in &model.secrets {
        let unit = namespace_home(model, &secret.namespace.value);
        match &secret.source {
            SecretSource::Sops { file } => {
                let Some(text) = model.attachments.get(&file.value) else { continue };
                recipients.extend(sops_recipients(text));
                out.raw.push(RawFile {
                    unit: Some(unit),
                    path: format!("secret-{}.yaml", secret.name.value),
                    text: with_final_newline(text),
                });
            }
            SecretSource::Sealed { file } => {
                let Some(text) = model.attachments.get(&file.value) else { continue };
                out.raw.push(RawFile {
                    unit: Some(unit),
                    path: format!("sealedsecret-{}.yaml", secret.name.value),
                    text: with_final_newline(text),
                });
            }
            SecretSource::External { store, key } => {
                out.objects.push(Object { unit, value: external(secret, &store.value, &key.value) });
            }
        }
    }
    if !recipients.is_empty() {
        out.raw.push(RawFile { unit: None, path: ".sops.yaml".into(), text: sops_config(&recipients) });
    }
}

fn with_final_newline(text: &str) -> String {
    let mut text = text.replace("\r\n", "\n");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// An ExternalSecret that pulls every property of `key` from a
/// ClusterSecretStore into a Secret of the declared name.
fn external(secret: &Secret, store: &str, key: &str) -> serde_json::Value {
    json!({
        "apiVersion": EXTERNAL_SECRETS_API,
        "kind": "ExternalSecret",
        "metadata": {
            "name": secret.name.value,
            "namespace": secret.namespace.value,
            "labels": managed_labels(),
        },
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": {"kind": "ClusterSecretStore", "name": store},
            "target": {"name": secret.name.value, "creationPolicy": "Owner"},
            "dataFrom": [{"extract": {"key": key}}],
        },
    })
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

/// `.sops.yaml`: encrypt the data of any secret added to the tree's folders
/// for the recipients already in use.
fn sops_config(recipients: &BTreeSet<(&'static str, String)>) -> String {
    let mut rule = json!({
        "path_regex": r".*\.ya?ml$",
        "encrypted_regex": "^(data|stringData)$",
    });
    for kind in ["age", "pgp"] {
        let keys: Vec<&str> = recipients.iter().filter(|(k, _)| *k == kind).map(|(_, v)| v.as_str()).collect();
        if !keys.is_empty() {
            rule[kind] = json!(keys.join(","));
        }
    }
    let header = "# .sops.yaml — written by homelabc from the recipients of the description's SOPS files.\n";
    format!("{header}{}", crate::yaml::render_json(&json!({"creation_rules": [rule]})))
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
