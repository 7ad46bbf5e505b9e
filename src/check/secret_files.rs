//! E0602: the files of `from="sops"` and `from="sealed"` secrets must be
//! encrypted through and through, since they are copied into the tree as
//! they are.
//!
//! A SOPS file needs its `sops:` metadata with a `mac`, and every value
//! outside `sops:` that SOPS encrypts must be `ENC[…]`: all of them by
//! default, only those below a key matching `encrypted_regex` (or ending in
//! `encrypted_suffix`) when the file records one, never those below a key
//! matching `unencrypted_regex` or ending in `unencrypted_suffix` (by default
//! `_unencrypted`). A sealed file holds SealedSecrets only, every document of
//! it. Messages name the keys that hold plain values, never the values.

use regex::Regex;
use serde_json::Value as Json;

use crate::diag::{Code, Diagnostic};
use crate::model::{Model, SecretSource};
use crate::source::Spanned;

/// E0602 for every `sops` or `sealed` secret whose file is not safely encrypted.
pub fn check(model: &Model, diags: &mut Vec<Diagnostic>) {
    for secret in &model.secrets {
        let diag = match &secret.source {
            SecretSource::Sops { file } => model.attachments.get(&file.value).and_then(|text| sops_file(file, text)),
            SecretSource::Sealed { file } => {
                model.attachments.get(&file.value).and_then(|text| sealed_file(file, text))
            }
            SecretSource::External { .. } | SecretSource::Existing => None,
        };
        if let Some(d) = diag {
            diags.push(d.note("If the plain file was ever committed, rotate the secret: the Git history keeps it."));
        }
    }
}

/// Why a SOPS file is not safely encrypted.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SopsProblem {
    /// Not YAML (nor JSON) at all.
    NotYaml,
    /// A document without `sops:` metadata and its `mac`; the plain keys found.
    NoMetadata(Vec<String>),
    /// Encrypted, but these paths hold plain values.
    Plaintext(Vec<String>),
    /// An `encrypted_regex` or `unencrypted_regex` that is no regular expression.
    BadRegex(String),
}

/// The E0602 for a `from="sops"` file, when it is not fully encrypted.
fn sops_file(file: &Spanned<String>, text: &str) -> Option<Diagnostic> {
    let path = &file.value;
    let (message, label, help, plain) = match sops_problem(text)? {
        SopsProblem::NotYaml => (
            format!("`{path}` is not a SOPS-encrypted YAML file"),
            "this file is not YAML".to_string(),
            format!("write the Secret as YAML, then run `sops --encrypt --in-place {path}`"),
            Vec::new(),
        ),
        SopsProblem::NoMetadata(plain) => (
            format!("`{path}` is not encrypted with SOPS"),
            "this file has no `sops:` metadata with a `mac`".to_string(),
            format!("run `sops --encrypt --in-place {path}` before committing it"),
            plain,
        ),
        SopsProblem::Plaintext(plain) => (
            format!("`{path}` is only partly encrypted with SOPS"),
            "this file holds plain values next to encrypted ones".to_string(),
            format!(
                "re-encrypt it: `sops --decrypt --ignore-mac --in-place {path}`, then `sops --encrypt --in-place {path}`"
            ),
            plain,
        ),
        SopsProblem::BadRegex(key) => (
            format!("`{path}` records a `{key}` that is not a regular expression"),
            "its `sops:` metadata cannot be read".to_string(),
            "fix the creation rule in `.sops.yaml`, then encrypt the file again".to_string(),
            Vec::new(),
        ),
    };
    let mut d = Diagnostic::new(Code::E0602, message).primary(file.span, label).help(help);
    if !plain.is_empty() {
        d = d.note(format!("In plain text: {}.", key_list(&plain)));
    }
    Some(d)
}

/// Checks a SOPS file's text: every document needs `sops.mac`, and every value
/// SOPS encrypts must be `ENC[…]`.
pub(crate) fn sops_problem(text: &str) -> Option<SopsProblem> {
    let Ok(documents) = crate::yaml::parse_documents(text) else { return Some(SopsProblem::NotYaml) };
    if documents.is_empty() {
        return Some(SopsProblem::NoMetadata(Vec::new()));
    }
    let mut missing_metadata = false;
    let mut plain = Vec::new();
    for document in &documents {
        let Json::Object(map) = document else { return Some(SopsProblem::NotYaml) };
        let sops = map.get("sops");
        let has_mac = sops.and_then(|s| s.get("mac")).and_then(Json::as_str).is_some_and(|m| !m.is_empty());
        missing_metadata |= !has_mac;
        let rules = match Rules::of(sops) {
            Ok(rules) => rules,
            Err(key) => return Some(SopsProblem::BadRegex(key)),
        };
        let mut here = Vec::new();
        for (key, value) in map.iter().filter(|(k, _)| *k != "sops") {
            rules.walk(key, key, value, rules.starts_encrypted(), &mut here);
        }
        // A Kubernetes object never encrypted: its data is what matters, not its kind and name.
        if !has_mac && map.contains_key("kind") {
            here.retain(|p| p.starts_with("data.") || p.starts_with("stringData."));
        }
        plain.extend(here);
    }
    match (missing_metadata, plain.is_empty()) {
        (true, _) => Some(SopsProblem::NoMetadata(plain)),
        (false, false) => Some(SopsProblem::Plaintext(plain)),
        (false, true) => None,
    }
}

/// Which keys SOPS encrypts, as its metadata records it.
struct Rules {
    encrypted_regex: Option<Regex>,
    unencrypted_regex: Option<Regex>,
    encrypted_suffix: Option<String>,
    unencrypted_suffix: Option<String>,
}

impl Rules {
    /// The rules of a document's `sops:` section; `Err(key)` for a regex that does not compile.
    fn of(sops: Option<&Json>) -> Result<Rules, String> {
        let text = |key: &str| sops.and_then(|s| s.get(key)).and_then(Json::as_str).filter(|s| !s.is_empty());
        let regex = |key: &str| text(key).map(|r| Regex::new(r).map_err(|_| key.to_string())).transpose();
        let encrypted_regex = regex("encrypted_regex")?;
        let unencrypted_regex = regex("unencrypted_regex")?;
        let encrypted_suffix = text("encrypted_suffix").map(str::to_string);
        let chosen = encrypted_regex.is_some() || unencrypted_regex.is_some() || encrypted_suffix.is_some();
        // SOPS leaves `*_unencrypted` keys in the clear unless another rule was chosen.
        let unencrypted_suffix =
            text("unencrypted_suffix").map(str::to_string).or_else(|| (!chosen).then(|| "_unencrypted".to_string()));
        Ok(Rules { encrypted_regex, unencrypted_regex, encrypted_suffix, unencrypted_suffix })
    }

    /// Whether values are encrypted before any key says so: unless only some keys are.
    fn starts_encrypted(&self) -> bool {
        self.encrypted_regex.is_none() && self.encrypted_suffix.is_none()
    }

    /// Collects the paths of plain values below `key` (at `path`); `encrypted`
    /// says whether a key above already put them under encryption.
    fn walk(&self, key: &str, path: &str, value: &Json, encrypted: bool, plain: &mut Vec<String>) {
        let excluded = self.unencrypted_suffix.as_deref().is_some_and(|s| key.ends_with(s))
            || self.unencrypted_regex.as_ref().is_some_and(|r| r.is_match(key));
        if excluded {
            return;
        }
        let encrypted = encrypted
            || self.encrypted_suffix.as_deref().is_some_and(|s| key.ends_with(s))
            || self.encrypted_regex.as_ref().is_some_and(|r| r.is_match(key));
        self.walk_item(path, value, encrypted, plain);
    }

    /// A value below a key whose rules are applied, or a list item (which
    /// has no key, so no rule of its own).
    fn walk_item(&self, path: &str, value: &Json, encrypted: bool, plain: &mut Vec<String>) {
        match value {
            Json::Object(map) => {
                for (child, v) in map {
                    self.walk(child, &format!("{path}.{child}"), v, encrypted, plain);
                }
            }
            Json::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.walk_item(&format!("{path}[{i}]"), item, encrypted, plain);
                }
            }
            Json::Null => {}
            Json::String(s) if s.starts_with("ENC[") => {}
            _ if encrypted => plain.push(path.to_string()),
            _ => {}
        }
    }
}

/// The E0602 for a `from="sealed"` file: every document must be a
/// `SealedSecret` (YAML, or the JSON `kubeseal` writes by default).
fn sealed_file(file: &Spanned<String>, text: &str) -> Option<Diagnostic> {
    let problem = match crate::yaml::parse_documents(text) {
        Err(_) => "this file is not YAML".to_string(),
        Ok(documents) if documents.is_empty() => "this file has no `kind: SealedSecret`".to_string(),
        Ok(documents) => {
            let other = documents.iter().enumerate().find(|(_, d)| d["kind"] != "SealedSecret")?;
            let what = match other.1["kind"].as_str() {
                Some(kind) => format!("a `{kind}`"),
                None => "no Kubernetes object".to_string(),
            };
            if documents.len() == 1 {
                format!("this file holds {what}, not a `SealedSecret`")
            } else {
                format!("document {} of this file holds {what}, not a `SealedSecret`", other.0 + 1)
            }
        }
    };
    Some(
        Diagnostic::new(Code::E0602, format!("`{}` is not a sealed secret through and through", file.value))
            .primary(file.span, problem)
            .help(format!(
                "a sealed file holds SealedSecrets only: seal each Secret with `kubeseal --format yaml < secret.yaml`, \
                 and keep plain ones out of `{}`",
                file.value
            )),
    )
}

/// `` key `a` `` or `` keys `a`, `b` ``.
fn key_list(keys: &[String]) -> String {
    let quoted: Vec<String> = keys.iter().take(10).map(|k| format!("`{k}`")).collect();
    let more = if keys.len() > 10 { format!(" and {} more", keys.len() - 10) } else { String::new() };
    match quoted.as_slice() {
        [one] => format!("key {one}"),
        _ => format!("keys {}{more}", quoted.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOPS_OK: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\nstringData:\n  password: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]\nsops:\n  age:\n    - recipient: age1xyz\n  lastmodified: \"2025-01-01T00:00:00Z\"\n  mac: ENC[AES256_GCM,data:mac,type:str]\n  encrypted_regex: ^(data|stringData)$\n  version: 3.9.0\n";

    #[test]
    fn reads_sops_files() {
        assert_eq!(sops_problem(SOPS_OK), None);
        let partly = SOPS_OK.replace("password: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]", "password: hunter2");
        assert_eq!(sops_problem(&partly), Some(SopsProblem::Plaintext(vec!["stringData.password".into()])));
        assert_eq!(sops_problem("password: hunter2\n"), Some(SopsProblem::NoMetadata(vec!["password".into()])));
        let flat = "password: ENC[AES256_GCM,data:x]\nsops:\n    mac: ENC[AES256_GCM,data:y]\n";
        assert_eq!(sops_problem(flat), None);
    }

    #[test]
    fn a_plain_value_beside_an_encrypted_one_is_found_at_any_depth() {
        // The tester's file: a mac and one ENC value, another value in the clear.
        let text = "db:\n  user: ENC[AES256_GCM,data:u]\n  nested:\n    - password: hunter2\nsops:\n  mac: ENC[AES256_GCM,data:m]\n";
        assert_eq!(sops_problem(text), Some(SopsProblem::Plaintext(vec!["db.nested[0].password".into()])));
    }

    #[test]
    fn the_recorded_rules_decide_what_must_be_encrypted() {
        // Without a rule, everything but `*_unencrypted` keys.
        let text = "a_unencrypted: plain\nb: ENC[x]\nsops:\n  mac: ENC[m]\n";
        assert_eq!(sops_problem(text), None);
        let text = "kind: Secret\nb: ENC[x]\nsops:\n  mac: ENC[m]\n";
        assert_eq!(sops_problem(text), Some(SopsProblem::Plaintext(vec!["kind".into()])));
        // An unencrypted_regex keeps its keys' subtrees in the clear.
        let text = "metadata:\n  name: x\ndata:\n  k: ENC[x]\nsops:\n  mac: ENC[m]\n  unencrypted_regex: ^metadata$\n";
        assert_eq!(sops_problem(text), None);
        // An encrypted_suffix: only those keys.
        let text = "user: app\npassword_enc: ENC[x]\nsops:\n  mac: ENC[m]\n  encrypted_suffix: _enc\n";
        assert_eq!(sops_problem(text), None);
        let text = "token_enc: plain\nsops:\n  mac: ENC[m]\n  encrypted_suffix: _enc\n";
        assert_eq!(sops_problem(text), Some(SopsProblem::Plaintext(vec!["token_enc".into()])));
        assert_eq!(
            sops_problem("a: ENC[x]\nsops:\n  mac: ENC[m]\n  encrypted_regex: \"(\"\n"),
            Some(SopsProblem::BadRegex("encrypted_regex".into()))
        );
        assert_eq!(sops_problem("{not yaml"), Some(SopsProblem::NotYaml));
    }

    #[test]
    fn every_document_of_a_sealed_file_is_a_sealed_secret() {
        let file = Spanned::new("db.yaml".to_string(), crate::source::Span::default());
        let sealed = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\n";
        assert!(sealed_file(&file, sealed).is_none());
        let json = r#"{ "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret" }"#;
        assert!(sealed_file(&file, json).is_none());
        let mixed = format!("{sealed}---\napiVersion: v1\nkind: Secret\nstringData:\n  password: hunter2\n");
        let d = sealed_file(&file, &mixed).expect("a plain Secret beside the sealed one");
        assert!(d.labels[0].message.contains("document 2") && !format!("{d:?}").contains("hunter2"), "{d:?}");
    }
}
