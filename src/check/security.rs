//! Checks on security: credentials written in plain text (E0601), secret files
//! that are not encrypted (E0602), mutable image tags (E0603), privileged pods
//! without an explicit allowance (E0604) and registries over HTTP (E0605).

use crate::diag::{Code, Diagnostic};
use crate::model::{App, EnvValue, Model, Registry, SecretSource, Value, ValueKind};
use crate::source::{Span, Spanned};

/// Runs the security checks.
pub fn check(model: &Model, diags: &mut Vec<Diagnostic>) {
    for app in &model.apps {
        plaintext_env(app, diags);
        app_image(app, diags);
        privileged(app, diags);
    }
    for chart in model.charts.iter().filter(|c| c.component.is_none()) {
        if let Some(values) = &chart.values {
            plaintext_values(&format!("chart `{}`", chart.name.value), values, diags);
        }
        // A values file is merged into the chart's values in the output: the
        // same rule holds for it, pointed at the `values-file` reference.
        if let Some(file) = &chart.values_file
            && let Some(text) = model.attachments.get(&file.value)
            && let Ok(docs) = crate::yaml::parse_documents(text)
        {
            for doc in &docs {
                let owner = format!("values file `{}` of chart `{}`", file.value, chart.name.value);
                plaintext_values(&owner, &from_json(doc, file.span), diags);
            }
        }
    }
    for u in &model.uses {
        if let Some(values) = &u.values {
            plaintext_values(&format!("component `{}`", u.component.value), values, diags);
        }
    }
    for secret in &model.secrets {
        secret_file(model, &secret.source, diags);
    }
    for pipeline in &model.pipelines {
        for step in &pipeline.steps {
            if let Some(problem) = step_image_problem(&step.image.value) {
                diags.push(
                    Diagnostic::new(Code::E0603, format!("step image `{}` {problem}", step.image.value))
                        .primary(step.image.span, "not pinned")
                        .help(format!(
                            "pin a version tag or a digest, e.g. `{0}:1.2.3` or `{0}@sha256:...`",
                            image_name(&step.image.value)
                        )),
                );
            }
        }
    }
    for registry in &model.registries {
        registry_scheme(registry, diags);
    }
}

// ---------------------------------------------------------------- E0601 --

/// Words that make an environment variable name a credential.
const CREDENTIAL_ENV_WORDS: &[&str] =
    &["PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY", "CREDENTIAL", "ACCESS_KEY"];

/// Last words of a variable name that make it point at a credential rather
/// than hold one (`DB_PASSWORD_FILE`, `TOKEN_URL`).
const REFERENCE_ENV_SUFFIXES: &[&str] = &["FILE", "PATH", "DIR", "URL", "URI", "ENDPOINT", "NAME", "REF", "TTL"];

/// Prefixes of well-known credential formats, with what they are.
const CREDENTIAL_PREFIXES: &[(&str, &str)] = &[
    ("ghp_", "a GitHub token"),
    ("gho_", "a GitHub token"),
    ("ghs_", "a GitHub token"),
    ("github_pat_", "a GitHub token"),
    ("glpat-", "a GitLab token"),
    ("AKIA", "an AWS access key"),
    ("xoxb-", "a Slack token"),
    ("xoxp-", "a Slack token"),
    ("xoxa-", "a Slack token"),
    ("sk_live_", "a Stripe key"),
    ("-----BEGIN", "a PEM key or certificate"),
];

/// E0601 for `env "NAME" "literal"`.
fn plaintext_env(app: &App, diags: &mut Vec<Diagnostic>) {
    for env in app.containers().flat_map(|c| &c.env) {
        let EnvValue::Literal(literal) = &env.value else { continue };
        let by_value = credential_format(&literal.value);
        if by_value.is_none() && !(env_name_is_credential(&env.name.value) && is_literal_secret(&literal.value)) {
            continue;
        }
        let label = by_value.map_or("a credential in plain text".to_string(), |what| format!("{what} in plain text"));
        diags.push(
            Diagnostic::new(
                Code::E0601,
                format!("environment variable `{}` holds a secret in plain text", env.name.value),
            )
            .primary(literal.span, label)
            .help(format!("declare a `secret` and use `env \"{}\" secret=\"...\" key=\"...\"`", env.name.value))
            .note("If the value was ever committed, rotate it: the Git history keeps it."),
        );
    }
}

/// Whether an environment variable name looks like it holds a credential.
fn env_name_is_credential(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let last = upper.rsplit(['_', '-', '.']).next().unwrap_or_default();
    CREDENTIAL_ENV_WORDS.iter().any(|w| upper.contains(w)) && !REFERENCE_ENV_SUFFIXES.contains(&last)
}

/// Whether a literal can be a credential: not empty, not a flag, not a
/// reference to a variable (`$(DB_PASSWORD)`, `${DB_PASSWORD}`, `$DB_PASSWORD`,
/// Grafana's `$__env{...}` and `$__file{...}`), not a Helm template
/// (`{{ .Values.x }}`), not SOPS-encrypted.
fn is_literal_secret(text: &str) -> bool {
    let t = text.trim();
    let flag = ["true", "false", "yes", "no", "on", "off"].iter().any(|f| t.eq_ignore_ascii_case(f));
    let rest = t.strip_prefix('$').unwrap_or_default();
    let variable = t.starts_with('$')
        && (rest.starts_with(['(', '{'])
            || rest.starts_with("__")
            || (rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')));
    let template = t.starts_with("{{") && t.ends_with("}}");
    !(t.is_empty() || flag || variable || template || t.starts_with("ENC["))
}

/// What a value is, when it has the shape of a well-known credential.
fn credential_format(text: &str) -> Option<&'static str> {
    CREDENTIAL_PREFIXES
        .iter()
        .find(|(prefix, _)| text.starts_with(prefix) && text.len() >= prefix.len() + 12)
        .map(|(_, what)| *what)
}

/// A parsed YAML document as a values tree, every node at `span`.
fn from_json(json: &serde_json::Value, span: Span) -> Value {
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
    Value { kind, span }
}

/// E0601 for credentials in a `values` tree.
fn plaintext_values(owner: &str, values: &Value, diags: &mut Vec<Diagnostic>) {
    let mut found = Vec::new();
    walk_values(values, "", false, &mut found);
    for (path, span) in found {
        diags.push(
            Diagnostic::new(Code::E0601, format!("values key `{path}` of {owner} holds a secret in plain text"))
                .primary(span, "a credential in plain text")
                .help("declare a `secret` and point the chart at it, e.g. `existingSecret \"db\"`")
                .note("If the value was ever committed, rotate it: the Git history keeps it."),
        );
    }
}

/// Collects (dotted path, span) of every literal credential below `value`:
/// scalars under keys named like credentials, and strings shaped like one.
/// `credential` says whether the key holding `value` is named like one.
fn walk_values(value: &Value, path: &str, credential: bool, out: &mut Vec<(String, Span)>) {
    match &value.kind {
        ValueKind::Map(map) => {
            for (key, (key_span, child)) in map {
                let child_path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                let kind = key_kind(key);
                let literal = (kind == KeyKind::Credential && is_literal_scalar(child)) || has_credential_format(child);
                match kind {
                    KeyKind::Reference => {}
                    _ if literal => out.push((child_path, *key_span)),
                    _ => walk_values(child, &child_path, kind == KeyKind::Credential, out),
                }
            }
        }
        ValueKind::List(items) => {
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                if (credential && is_literal_scalar(item)) || has_credential_format(item) {
                    out.push((item_path, item.span));
                } else {
                    walk_values(item, &item_path, false, out);
                }
            }
        }
        _ => {}
    }
}

/// What a values key names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyKind {
    /// A credential itself (`password`, `apiKey`).
    Credential,
    /// A pointer to one (`existingSecret`, `passwordKey`, `secretRef`): not
    /// checked, nor anything below it.
    Reference,
    /// Anything else.
    Other,
}

/// Classifies a values key by its words (`adminPassword` → admin, password).
fn key_kind(key: &str) -> KeyKind {
    let words = key_words(key);
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    let (Some(first), Some(last)) = (w.first(), w.last()) else { return KeyKind::Other };
    let credential_word =
        |x: &str| matches!(x, "password" | "passwd" | "token" | "secret" | "credential" | "credentials" | "apikey");
    let mentions = w.iter().any(|x| credential_word(x)) || w.windows(2).any(|p| p[1] == "key");
    if !mentions {
        return KeyKind::Other;
    }
    let pointer_last = matches!(*last, "ref" | "name" | "names" | "file" | "path" | "selector" | "namespace");
    // `envFromSecret`, `fromSecret`, `useExistingSecret`: the name of a Secret to read.
    let names_a_secret = w.contains(&"from") || w.contains(&"existing");
    if names_a_secret || pointer_last || matches!(*first, "tls" | "cert" | "certificate" | "ca") {
        return KeyKind::Reference;
    }
    if matches!(*last, "key" | "keys") && w.len() >= 2 {
        let before = w[w.len() - 2];
        return match before {
            "api" | "private" | "access" => KeyKind::Credential,
            "secret" if w == ["secret", "key"] => KeyKind::Credential,
            "password" | "passwd" | "token" | "secret" => KeyKind::Reference,
            _ => KeyKind::Other,
        };
    }
    if credential_word(last) { KeyKind::Credential } else { KeyKind::Other }
}

/// The lowercase words of a key: split at `-`, `_`, `.` and camelCase humps.
fn key_words(key: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if matches!(c, '-' | '_' | '.') {
            words.push(String::new());
            prev_lower = false;
            continue;
        }
        if words.is_empty() || (c.is_ascii_uppercase() && prev_lower) {
            words.push(String::new());
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        words.last_mut().expect("pushed above").push(c.to_ascii_lowercase());
    }
    words.retain(|w| !w.is_empty());
    words
}

/// Whether a value is a non-empty string or a number written in the clear.
fn is_literal_scalar(value: &Value) -> bool {
    match &value.kind {
        ValueKind::String(s) => is_literal_secret(s),
        ValueKind::Int(_) | ValueKind::Float(_) => true,
        _ => false,
    }
}

/// Whether a value is a string shaped like a well-known credential.
fn has_credential_format(value: &Value) -> bool {
    matches!(&value.kind, ValueKind::String(s) if credential_format(s).is_some())
}

// ---------------------------------------------------------------- E0602 --

/// E0602 for a `sops` or `sealed` secret file that is not encrypted.
fn secret_file(model: &Model, source: &SecretSource, diags: &mut Vec<Diagnostic>) {
    let diag = match source {
        SecretSource::Sops { file } => model.attachments.get(&file.value).and_then(|text| sops_file(file, text)),
        SecretSource::Sealed { file } => model.attachments.get(&file.value).and_then(|text| sealed_file(file, text)),
        SecretSource::External { .. } | SecretSource::Existing => None,
    };
    if let Some(d) = diag {
        diags.push(d.note("If the plain file was ever committed, rotate the secret: the Git history keeps it."));
    }
}

/// The E0602 for a `from="sops"` file, when it is not fully encrypted.
fn sops_file(file: &Spanned<String>, text: &str) -> Option<Diagnostic> {
    let path = &file.value;
    let (message, label, help, plain) = match sops_problem(path, text)? {
        SopsProblem::NoMetadata(plain) => (
            format!("`{path}` is not encrypted with SOPS"),
            "this file has no `sops:` metadata",
            format!("run `sops --encrypt --in-place {path}` before committing it"),
            plain,
        ),
        SopsProblem::Plaintext(plain) => (
            format!("`{path}` is only partly encrypted with SOPS"),
            "this file holds plain values next to encrypted ones",
            format!(
                "re-encrypt it: `sops --decrypt --ignore-mac --in-place {path}`, then `sops --encrypt --in-place {path}`"
            ),
            plain,
        ),
    };
    let mut d = Diagnostic::new(Code::E0602, message).primary(file.span, label).help(help);
    if !plain.is_empty() {
        d = d.note(format!("In plain text: {}.", key_list(&plain)));
    }
    Some(d)
}

/// The E0602 for a `from="sealed"` file that holds no `SealedSecret` (YAML,
/// or the JSON `kubeseal` writes by default).
fn sealed_file(file: &Spanned<String>, text: &str) -> Option<Diagnostic> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let kinds: Vec<String> =
        top_level(text).into_iter().filter(|(k, _)| k == "kind").map(|(_, v)| unquote(&v).to_string()).collect();
    if kinds.iter().any(|k| k == "SealedSecret") || compact.contains("\"kind\":\"SealedSecret\"") {
        return None;
    }
    let label = match kinds.first() {
        Some(kind) => format!("this file holds a `{kind}`, not a `SealedSecret`"),
        None => "this file has no `kind: SealedSecret`".to_string(),
    };
    Some(
        Diagnostic::new(Code::E0602, format!("`{}` is not a sealed secret", file.value))
            .primary(file.span, label)
            .help(format!("seal it with `kubeseal --format yaml < secret.yaml > {}`", file.value)),
    )
}

/// `` key `a` `` or `` keys `a`, `b` ``.
fn key_list(keys: &[String]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    match quoted.as_slice() {
        [one] => format!("key {one}"),
        _ => format!("keys {}", quoted.join(", ")),
    }
}

/// Why a SOPS file is not safely encrypted.
#[derive(Debug, PartialEq, Eq)]
enum SopsProblem {
    /// No `sops:` section with a `mac`; the plaintext keys found, if any.
    NoMetadata(Vec<String>),
    /// Encrypted, but these keys hold plain values.
    Plaintext(Vec<String>),
}

/// Checks a SOPS file's text. YAML is read line by line (homelabc has no YAML
/// parser here): top-level keys, the `sops:` block with its `mac:`, and the
/// direct children of `data:` / `stringData:`, whose values must be `ENC[...]`.
fn sops_problem(path: &str, text: &str) -> Option<SopsProblem> {
    if path.ends_with(".json") {
        let encrypted = text.contains("\"sops\"") && text.contains("\"mac\"");
        return (!encrypted).then(|| SopsProblem::NoMetadata(Vec::new()));
    }
    if path.ends_with(".env") {
        return (!text.lines().any(|l| l.starts_with("sops_mac="))).then(|| SopsProblem::NoMetadata(Vec::new()));
    }
    let mut encrypted = true;
    let mut plain = Vec::new();
    for doc in text.split("\n---").filter(|d| !d.trim().trim_start_matches("---").trim().is_empty()) {
        let keys = top_level(doc);
        let has_mac = block(doc, "sops").iter().any(|l| l.trim_start().starts_with("mac:"));
        encrypted &= keys.iter().any(|(k, _)| k == "sops") && has_mac;
        let is_object = keys.iter().any(|(k, _)| k == "kind");
        if is_object {
            for section in ["data", "stringData"] {
                plain.extend(plaintext_children(&block(doc, section)));
            }
        } else {
            let scalars =
                keys.into_iter().filter(|(k, v)| k != "sops" && !v.is_empty() && !k.ends_with("_unencrypted"));
            plain.extend(scalars.filter(|(_, v)| !is_encrypted_value(v)).map(|(k, _)| k));
        }
    }
    match (encrypted, plain.is_empty()) {
        (true, true) => None,
        (true, false) => Some(SopsProblem::Plaintext(plain)),
        (false, _) => Some(SopsProblem::NoMetadata(plain)),
    }
}

/// The top-level `key: value` pairs of a YAML document (value empty for a block).
fn top_level(doc: &str) -> Vec<(String, String)> {
    doc.lines()
        .filter(|l| !l.starts_with([' ', '\t', '#', '-']) && !l.trim().is_empty())
        .filter_map(split_key)
        .collect()
}

/// The lines of the block under top-level key `key`.
fn block<'a>(doc: &'a str, key: &str) -> Vec<&'a str> {
    let mut lines = doc.lines().skip_while(|l| split_key(l).is_none_or(|(k, _)| k != key || l.starts_with(' ')));
    if lines.next().is_none() {
        return Vec::new();
    }
    lines.take_while(|l| l.trim().is_empty() || l.starts_with([' ', '\t', '#'])).collect()
}

/// The keys among a block's direct children whose value is not `ENC[...]`.
fn plaintext_children(lines: &[&str]) -> Vec<String> {
    let content = lines.iter().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let indent = |l: &str| l.len() - l.trim_start().len();
    let Some(depth) = content.clone().map(|l| indent(l)).min() else { return Vec::new() };
    content
        .filter(|l| indent(l) == depth)
        .filter_map(|l| split_key(l.trim_start()))
        .filter(|(_, v)| !is_encrypted_value(v))
        .map(|(k, _)| k)
        .collect()
}

/// Splits `key: value` (or `key:`), unquoting the key and dropping a comment.
fn split_key(line: &str) -> Option<(String, String)> {
    let (key, value) = match line.split_once(": ") {
        Some(kv) => kv,
        None => (line.trim_end().strip_suffix(':')?, ""),
    };
    let value = value.split(" #").next().unwrap_or_default().trim();
    Some((unquote(key.trim()).to_string(), value.to_string()))
}

/// A YAML scalar without its quotes.
fn unquote(text: &str) -> &str {
    let t = text.trim();
    t.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| t.strip_prefix('\'')?.strip_suffix('\''))
        .unwrap_or(t)
}

/// Whether a YAML value is a SOPS-encrypted string.
fn is_encrypted_value(value: &str) -> bool {
    unquote(value).starts_with("ENC[")
}

// ---------------------------------------------------------------- E0603 --

/// E0603 for an image of an app's containers with the tag `latest`, or with
/// no tag and no digest.
fn app_image(app: &App, diags: &mut Vec<Diagnostic>) {
    for image in app.containers().filter_map(|c| c.image.as_ref()) {
        pinned(image, diags);
    }
}

/// E0603 for one image.
fn pinned(image: &crate::model::Image, diags: &mut Vec<Diagnostic>) {
    if image.digest.is_some() || image.repository.value.contains('@') {
        return;
    }
    let repo = &image.repository.value;
    let (message, span, label) = match &image.tag {
        Some(tag) if tag.value == "latest" => {
            (format!("image `{repo}` has the mutable tag `latest`"), tag.span, "moves with every push")
        }
        Some(_) => return,
        None => (format!("image `{repo}` has no tag or digest"), image.repository.span, "pulls whatever `latest` is"),
    };
    diags.push(
        Diagnostic::new(Code::E0603, message)
            .primary(span, label)
            .help("pin a version tag such as `tag=\"1.2.3\"`, or a digest with `digest=\"sha256:...\"`"),
    );
}

/// Why a `repo[:tag][@digest]` reference is not pinned, if it is not.
fn step_image_problem(reference: &str) -> Option<&'static str> {
    if reference.contains('@') {
        return None;
    }
    let last = reference.rsplit('/').next().unwrap_or(reference);
    match last.split_once(':') {
        Some((_, "latest")) => Some("has the mutable tag `latest`"),
        Some((_, tag)) if !tag.is_empty() => None,
        _ => Some("has no tag or digest"),
    }
}

/// The repository part of a `repo[:tag]` reference (keeping a registry port).
fn image_name(reference: &str) -> &str {
    let slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[slash..].find(':') {
        Some(colon) => &reference[..slash + colon],
        None => reference,
    }
}

// ---------------------------------------------------------------- E0604 --

/// E0604 for `privileged #true` or `host-network #true` without `allow-privileged #true`.
fn privileged(app: &App, diags: &mut Vec<Diagnostic>) {
    if app.allow_privileged.as_ref().is_some_and(|a| a.value) {
        return;
    }
    let flags = [
        (&app.privileged, "runs privileged", "privileged mode"),
        (&app.host_network, "uses the host network", "host network"),
    ];
    let mut set = flags
        .iter()
        .filter_map(|(flag, what, short)| flag.as_ref().filter(|f| f.value).map(|f| (f.span, *what, *short)));
    let Some((span, what, short)) = set.next() else { return };
    let mut d =
        Diagnostic::new(Code::E0604, format!("app `{}` {what} without `allow-privileged #true`", app.name.value))
            .primary(span, format!("{short} requested here"))
            .help("add `allow-privileged #true` to the app if this is intended");
    if let Some((other, _, also)) = set.next() {
        d = d.secondary(other, format!("{also} requested too"));
    }
    // Whether the namespace's Pod Security level allows it is E0607's.
    diags.push(d);
}

// ---------------------------------------------------------------- E0605 --

/// E0605 for `http://` without `insecure #true`, or `insecure #true` with `https://`.
fn registry_scheme(registry: &Registry, diags: &mut Vec<Diagnostic>) {
    let Some(scheme) = &registry.scheme else { return };
    let name = &registry.name.value;
    match (scheme.value.as_str(), &registry.insecure) {
        ("http", insecure) if !insecure.as_ref().is_some_and(|i| i.value) => diags.push(
            Diagnostic::new(Code::E0605, format!("registry `{name}` is reached over HTTP without `insecure #true`"))
                .primary(scheme.span, "a plain HTTP address")
                .help("add `insecure #true` inside the registry if plain HTTP is intended, or serve it over HTTPS"),
        ),
        ("https", Some(insecure)) if insecure.value => diags.push(
            Diagnostic::new(Code::E0605, format!("registry `{name}` is marked insecure but has an `https://` address"))
                .primary(insecure.span, "plain HTTP requested here")
                .secondary(scheme.span, "but this address is HTTPS")
                .help("remove `insecure #true`, or write the address without `https://` if the registry speaks plain HTTP"),
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver;
    use crate::host::MemHost;

    /// The E06xx codes emitted for a description and its files.
    fn codes(files: &[(&str, &str)]) -> Vec<String> {
        let host = MemHost::with(files.iter().map(|(p, t)| (p.to_string(), t.to_string())));
        let checked = driver::check(&host, "homelab.kdl");
        checked.diagnostics.iter().map(|d| d.code.to_string()).filter(|c| c.starts_with("E06")).collect()
    }

    #[test]
    fn splits_key_words() {
        assert_eq!(key_words("existingSecretKey"), ["existing", "secret", "key"]);
        assert_eq!(key_words("api-key"), ["api", "key"]);
        assert_eq!(key_words("DB_PASSWORD"), ["db", "password"]);
    }

    #[test]
    fn classifies_values_keys() {
        for key in ["password", "adminPassword", "apiKey", "api-key", "privateKey", "credentials", "token", "secretKey"]
        {
            assert_eq!(key_kind(key), KeyKind::Credential, "{key}");
        }
        for key in [
            "existingSecret",
            "secretName",
            "secretRef",
            "existingSecretKey",
            "adminSecretKey",
            "passwordKey",
            "secretKeyRef",
            "secretKeys",
            "tlsSecret",
        ] {
            assert_eq!(key_kind(key), KeyKind::Reference, "{key}");
        }
        for key in ["enabled", "passwordLength", "keyName", "size"] {
            assert_ne!(key_kind(key), KeyKind::Credential, "{key}");
        }
    }

    #[test]
    fn classifies_env_names() {
        assert!(env_name_is_credential("DB_PASSWORD"));
        assert!(env_name_is_credential("GITHUB_TOKEN"));
        assert!(!env_name_is_credential("POSTGRES_PASSWORD_FILE"));
        assert!(!env_name_is_credential("LOG_LEVEL"));
        assert!(!is_literal_secret("$(DB_PASSWORD)"));
        assert!(!is_literal_secret("true"));
    }

    #[test]
    fn references_and_flags_in_values_are_fine() {
        let text = r#"homelab "lab"
            chart "pg" namespace="data" repo="https://charts.bitnami.com/bitnami" chart="postgresql" version="16.2.1" {
                values {
                    auth { existingSecret "db"; secretKeys { adminPasswordKey "postgres-password" } }
                    secret { enabled #true }
                    metrics { serviceMonitor { enabled #true } }
                }
            }"#;
        assert!(codes(&[("homelab.kdl", text)]).is_empty());
    }

    #[test]
    fn literal_password_in_values_fires() {
        let text = r#"homelab "lab"
            use "gitea" { values { gitea { admin { password "hunter22" } } } }"#;
        assert_eq!(codes(&[("homelab.kdl", text)]), ["E0601"]);
    }

    #[test]
    fn token_shaped_env_fires_whatever_its_name() {
        let text = r#"homelab "lab"
            app "bot" {
                image "me/bot" tag="1.0.0"
                env "GH" "ghp_0123456789abcdefghijklmnopqrstuvwxyz"
            }"#;
        assert_eq!(codes(&[("homelab.kdl", text)]), ["E0601"]);
    }

    const SOPS_OK: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\nstringData:\n  password: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]\nsops:\n  age:\n    - recipient: age1xyz\n  lastmodified: \"2025-01-01T00:00:00Z\"\n  mac: ENC[AES256_GCM,data:mac,type:str]\n  version: 3.9.0\n";

    #[test]
    fn reads_sops_files() {
        assert_eq!(sops_problem("db.sops.yaml", SOPS_OK), None);
        let partly = SOPS_OK.replace("password: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]", "password: hunter2");
        assert_eq!(sops_problem("db.sops.yaml", &partly), Some(SopsProblem::Plaintext(vec!["password".into()])));
        assert_eq!(
            sops_problem("db.sops.yaml", "password: hunter2\n"),
            Some(SopsProblem::NoMetadata(vec!["password".into()]))
        );
        let flat = "password: ENC[AES256_GCM,data:x]\nsops:\n    mac: ENC[AES256_GCM,data:y]\n";
        assert_eq!(sops_problem("db.sops.yaml", flat), None);
    }

    #[test]
    fn sealed_files_need_their_kind() {
        let kdl = r#"homelab "lab"
            secret "db" namespace="data" from="sealed" file="db.yaml""#;
        let sealed = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\n";
        assert!(codes(&[("homelab.kdl", kdl), ("db.yaml", sealed)]).is_empty());
        let json = r#"{ "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret" }"#;
        assert!(codes(&[("homelab.kdl", kdl), ("db.yaml", json)]).is_empty());
        let plain = "apiVersion: v1\nkind: Secret\nstringData:\n  password: hunter2\n";
        assert_eq!(codes(&[("homelab.kdl", kdl), ("db.yaml", plain)]), ["E0602"]);
    }

    const APP: &str = r#"resources cpu="100m" memory="64Mi" cpu-limit="200m" memory-limit="128Mi"
        port "http" 8080"#;

    #[test]
    fn pinned_images_and_allowed_privileges_are_fine() {
        let text = format!(
            r#"homelab "lab"
            cluster "home" distribution="k3s"
            namespace "home" pod-security="privileged"
            app "a" namespace="home" {{ {APP}
                image "me/a" tag="latest" digest="sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                privileged #true
                host-network #true
                allow-privileged #true }}
            app "b" {{ {APP}
                image "me/b:1.2.3"
                privileged #false }}"#
        );
        assert!(codes(&[("homelab.kdl", &text)]).is_empty());
    }

    #[test]
    fn privileged_and_host_network_make_one_diagnostic() {
        // In a privileged namespace, so that Pod Security (E0607) has nothing to say.
        let text = format!(
            r#"homelab "lab"
            cluster "home" distribution="k3s"
            namespace "a" pod-security="privileged"
            app "a" {{ {APP}
                image "me/a" tag="1.0.0"
                privileged #true
                host-network #true }}"#
        );
        assert_eq!(codes(&[("homelab.kdl", &text)]), ["E0604"]);
    }

    #[test]
    fn insecure_registries_must_say_so() {
        let registry = |address: &str, body: &str| {
            let text = format!(
                r#"homelab "lab"
                cluster "home" distribution="k3s"
                registry "r" address="{address}" {{ {body} }}
                app "a" {{ {APP}
                    image "me/a" registry="r" tag="1.0.0" }}"#
            );
            codes(&[("homelab.kdl", &text)])
        };
        assert_eq!(registry("http://10.0.0.5:5000", ""), ["E0605"]);
        assert!(registry("http://10.0.0.5:5000", "insecure #true").is_empty());
        assert!(registry("10.0.0.5:5000", "insecure #true").is_empty());
        assert_eq!(registry("https://ghcr.io", "insecure #true"), ["E0605"]);
    }

    #[test]
    fn references_in_env_are_fine() {
        let text = format!(
            r#"homelab "lab"
            cluster "home" distribution="k3s"
            app "a" {{ {APP}
                image "me/a" tag="1.0.0"
                env "POSTGRES_PASSWORD_FILE" "/run/secrets/db"
                env "AUTH_TOKEN" "$(UPSTREAM_TOKEN)"
                env "API_KEY" ""
                env "LOG_LEVEL" "debug" }}"#
        );
        assert!(codes(&[("homelab.kdl", &text)]).is_empty());
    }

    #[test]
    fn parses_step_images() {
        assert_eq!(step_image_problem("python:3.12-slim"), None);
        assert_eq!(step_image_problem("registry.local:5000/ci/tool"), Some("has no tag or digest"));
        assert_eq!(step_image_problem("registry.local:5000/ci/tool:latest"), Some("has the mutable tag `latest`"));
        assert_eq!(step_image_problem("alpine@sha256:0123"), None);
        assert_eq!(image_name("registry.local:5000/ci/tool:latest"), "registry.local:5000/ci/tool");
    }
}
