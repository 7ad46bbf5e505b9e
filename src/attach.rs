//! The files a description references (`file=` of secrets, `values-file`,
//! `manifest`, an app's `config`): resolved relative to the file that names them, confined to
//! the root folder, read through the host into `model.attachments`, and the
//! manifests' YAML read into their Kubernetes objects.

use crate::diag::{Code, Diagnostic};
use crate::host::{self, Host};
use crate::model::{ManifestObject, Model, SecretSource};
use crate::source::{SourceMap, Spanned};

/// Resolves every file path of the model relative to the file that declares it,
/// and reads those files into `model.attachments`.
pub fn attach(model: &mut Model, sources: &SourceMap, host: &dyn Host, diags: &mut Vec<Diagnostic>) {
    let mut paths: Vec<&mut Spanned<String>> = Vec::new();
    for secret in &mut model.secrets {
        match &mut secret.source {
            SecretSource::Sops { file } | SecretSource::Sealed { file } => paths.push(file),
            SecretSource::External { .. } | SecretSource::Existing => {}
        }
    }
    for chart in &mut model.charts {
        if let Some(file) = &mut chart.values_file {
            paths.push(file);
        }
    }
    for manifest in &mut model.manifests {
        paths.push(&mut manifest.path);
    }
    for app in &mut model.apps {
        paths.extend(app.configs.iter_mut().map(|c| &mut c.file));
    }
    let mut attachments = std::collections::BTreeMap::new();
    for path in paths {
        let base = &sources.get(path.span.file).path;
        let Some(resolved) = host::resolve(base, &path.value) else {
            diags.push(
                Diagnostic::new(Code::E0206, format!("`{}` leaves the description's folder", path.value))
                    .primary(path.span, "points outside the root folder")
                    .help("paths are relative to the file that holds them and must stay below the folder of `homelab.kdl`"),
            );
            continue;
        };
        match host.read(&resolved) {
            Ok(text) => {
                attachments.insert(resolved.clone(), text);
            }
            Err(error) => diags.push(
                Diagnostic::new(Code::E0203, format!("cannot read `{}`: {}", path.value, error_kind(&error)))
                    .primary(path.span, "referenced here")
                    .help("the path is relative to the file that holds it"),
            ),
        }
        path.value = resolved;
    }
    model.attachments = attachments;
    read_manifests(model, diags);
    check_values_files(model, diags);
}

/// Reads each chart's values file into `file_values`; E0210 for one that is
/// not YAML, or not one mapping: its values would be dropped or garbled in
/// the chart's release without a word.
fn check_values_files(model: &mut Model, diags: &mut Vec<Diagnostic>) {
    for chart in &mut model.charts {
        let Some(file) = &chart.values_file else { continue };
        let Some(text) = model.attachments.get(&file.value) else { continue };
        let problem = match crate::yaml::parse_documents(text) {
            Err(error) => {
                let at = match (error.line, error.column) {
                    (Some(line), Some(column)) => format!(" (line {line}, column {column} of the file)"),
                    _ => String::new(),
                };
                format!("is not valid YAML: {}{at}", error.message)
            }
            Ok(documents) if documents.len() > 1 => {
                format!("holds {} YAML documents; Helm reads one", documents.len())
            }
            Ok(documents) => match documents.first() {
                None => continue,
                Some(values @ serde_json::Value::Object(_)) => {
                    chart.file_values = Some(from_json(values, file.span));
                    continue;
                }
                Some(other) => format!("is {}, not a mapping of values", yaml_kind(other)),
            },
        };
        diags.push(
            Diagnostic::new(
                Code::E0210,
                format!("values file `{}` of chart `{}` {problem}", file.value, chart.name.value),
            )
            .primary(file.span, "read from here")
            .help("a values file is one YAML mapping of Helm values, such as `primary: {persistence: {size: 8Gi}}`"),
        );
    }
}

/// A parsed YAML document as a values tree, every node at `span`.
fn from_json(json: &serde_json::Value, span: crate::source::Span) -> crate::model::Value {
    use crate::model::ValueKind;
    let kind = match json {
        serde_json::Value::Null => ValueKind::Null,
        serde_json::Value::Bool(b) => ValueKind::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => ValueKind::Int(i128::from(i)),
            None => ValueKind::Float(n.as_f64().unwrap_or_default()),
        },
        serde_json::Value::String(s) => ValueKind::String(s.clone()),
        serde_json::Value::Array(items) => ValueKind::List(items.iter().map(|i| from_json(i, span)).collect()),
        serde_json::Value::Object(map) => {
            ValueKind::Map(map.iter().map(|(k, v)| (k.clone(), (span, from_json(v, span)))).collect())
        }
    };
    crate::model::Value { kind, span }
}

/// What a YAML value is, for messages.
fn yaml_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a mapping",
    }
}

fn error_kind(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        _ => error.to_string(),
    }
}

/// Reads every manifest's documents into its objects; a file that is not
/// YAML, or a document that is not a Kubernetes object, is E0208. A `List`
/// (`kind: List` or `…List` with `items`) gives its items.
fn read_manifests(model: &mut Model, diags: &mut Vec<Diagnostic>) {
    for manifest in &mut model.manifests {
        let Some(text) = model.attachments.get(&manifest.path.value) else { continue };
        let path = &manifest.path;
        let invalid = |message: String, help: &str| {
            Diagnostic::new(Code::E0208, message).primary(path.span, "read from here").help(help.to_string())
        };
        let documents = match crate::yaml::parse_documents(text) {
            Ok(documents) => documents,
            Err(error) => {
                let at = match (error.line, error.column) {
                    (Some(line), Some(column)) => format!(" (line {line}, column {column} of the file)"),
                    _ => String::new(),
                };
                diags.push(invalid(
                    format!("`{}` is not valid YAML: {}{at}", path.value, error.message),
                    "fix the file so that `kubectl apply --dry-run=client -f` reads it",
                ));
                continue;
            }
        };
        let mut items = Vec::new();
        for document in documents {
            match document.get("items").and_then(|i| i.as_array()) {
                Some(list) if document["kind"].as_str().is_some_and(|k| k.ends_with("List")) => {
                    items.extend(list.iter().cloned());
                }
                _ => items.push(document),
            }
        }
        for (index, value) in items.into_iter().enumerate() {
            match object(value) {
                Ok(object) => manifest.objects.push(object),
                Err(problem) => diags.push(invalid(
                    format!("object {} of `{}` {problem}", index + 1, path.value),
                    "every document of a manifest is one Kubernetes object with `apiVersion`, `kind` and `metadata.name`",
                )),
            }
        }
    }
}

/// A document as a Kubernetes object, or what it lacks.
fn object(value: serde_json::Value) -> Result<ManifestObject, &'static str> {
    let text = |pointer: &str| value.pointer(pointer).and_then(|v| v.as_str()).map(str::to_string);
    if !value.is_object() {
        return Err("is not a mapping");
    }
    let api_version = text("/apiVersion").filter(|v| !v.is_empty()).ok_or("has no `apiVersion`")?;
    let kind = text("/kind").filter(|v| !v.is_empty()).ok_or("has no `kind`")?;
    let name = text("/metadata/name").filter(|v| !v.is_empty()).ok_or("has no `metadata.name`")?;
    let namespace = text("/metadata/namespace").filter(|v| !v.is_empty());
    Ok(ManifestObject { api_version, kind, namespace, name, value })
}
