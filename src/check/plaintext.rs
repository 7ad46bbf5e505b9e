//! Credentials written in plain text anywhere a string of the description
//! reaches the output: E0601 for a secret value (an env or `values` key named
//! like a credential with a literal, `{name, value}` pairs of values read as
//! env, a JWT, a private key or a well-known token anywhere in a string, a
//! password given to a flag of a command), E0611 for a URL with a password
//! (`postgres://admin:pw@…` in an env, a repository, a server, values), E0612
//! for a `manifest` file holding a plain Secret or a ConfigMap credential.
//!
//! What is found is named by where it is (`env DATABASE_URL of app web`,
//! `values key auth.password`), never quoted: diagnostics never echo a secret.
//! `crate::leaks` says what a credential looks like.

use super::container_of;
use crate::diag::{Code, Diagnostic};
use crate::leaks::{self, Leak};
use crate::model::{App, EnvValue, Model, Value, ValueKind};
use crate::source::{Span, Spanned};

/// Runs the checks.
pub fn check(model: &Model, diags: &mut Vec<Diagnostic>) {
    for app in &model.apps {
        plaintext_env(app, diags);
        command_line(app, diags);
    }
    for chart in model.charts.iter().filter(|c| c.component.is_none()) {
        let owner = format!("chart `{}`", chart.name.value);
        in_string(diags, &chart.repo, &format!("`repo=` of {owner}"), REPO_HELP);
        if let Some(values) = &chart.values {
            plaintext_values(&owner, values, diags);
        }
        // A values file is merged into the chart's values in the output: the
        // same rule holds for it, pointed at the `values-file` reference.
        if let (Some(file), Some(values)) = (&chart.values_file, &chart.file_values) {
            plaintext_values(&format!("values file `{}` of {owner}", file.value), values, diags);
        }
    }
    for u in &model.uses {
        let owner = format!("component `{}`", u.component.value);
        if let Some(values) = &u.values {
            plaintext_values(&owner, values, diags);
        }
        let params = u.params.iter().map(|(k, (span, v))| (k.clone(), (*span, v.clone()))).collect();
        plaintext_values(
            &format!("the parameters of {owner}"),
            &Value { kind: ValueKind::Map(params), span: u.span },
            diags,
        );
    }
    for cluster in &model.clusters {
        if let Some(gitops) = &cluster.gitops {
            let place = format!("`gitops repo=` of cluster `{}`", cluster.name.value);
            in_string(diags, &gitops.repo, &place, GITOPS_HELP);
        }
    }
    for pipeline in &model.pipelines {
        let owner = format!("pipeline `{}`", pipeline.name.value);
        if let Some(source) = &pipeline.source {
            in_string(diags, &source.repo, &format!("`source repo=` of {owner}"), SOURCE_HELP);
        }
        for step in &pipeline.steps {
            for run in &step.run {
                in_command(diags, run, &format!("a `run` of step `{}` of {owner}", step.name.value), STEP_HELP);
            }
        }
    }
    for store in &model.secret_stores {
        if let Some(server) = &store.server {
            in_string(diags, server, &format!("`server=` of secret store `{}`", store.name.value), SERVER_HELP);
        }
    }
    for issuer in &model.issuers {
        if let Some(server) = &issuer.server {
            in_string(diags, server, &format!("`server=` of issuer `{}`", issuer.name.value), SERVER_HELP);
        }
    }
    for namespace in model.namespaces.iter().filter(|n| !n.from_stdlib) {
        for (key, value) in namespace.labels.iter().chain(&namespace.annotations) {
            let place = format!("label or annotation `{}` of namespace `{}`", key.value, namespace.name.value);
            in_string(diags, value, &place, "labels and annotations are public: keep credentials in a `secret`");
        }
    }
    manifests(model, diags);
}

/// Help for a URL with a password in a chart's `repo=`.
const REPO_HELP: &str = "write the repository URL without `user:password@`: a private Helm repository's \
                         credentials belong in a Secret the GitOps agent reads, not in the tree";
/// Help for a URL with a password in `gitops repo=`.
const GITOPS_HELP: &str = "write the URL without `user:password@` and give the credentials as \
                           `gitops ... secret=\"NAME\"`, a secret made before the first sync";
/// Help for a URL with a password in a pipeline's `source repo=`.
const SOURCE_HELP: &str = "write the URL without `user:password@`: the CI engine clones with credentials it \
                           keeps in its own secrets";
/// Help for a credential in a step's command.
const STEP_HELP: &str = "read it from the CI engine's secrets through a variable (`--password \"$REGISTRY_PASSWORD\"`, \
                         or `--password-stdin`), never from the command's text";
/// Help for a URL with a password in a `server=`.
const SERVER_HELP: &str = "write the server's URL without `user:password@`: its credentials come from the \
                           declaration's secret";
/// The note on every finding.
const ROTATE: &str = "If the value was ever committed, rotate it: the Git history keeps it.";

/// The diagnostic for a credential found at `span`: E0611 for a URL with a
/// password, E0601 for anything else.
fn found(span: Span, place: &str, leak: Leak, help: &str) -> Diagnostic {
    let code = if leak == Leak::UrlPassword { Code::E0611 } else { Code::E0601 };
    Diagnostic::new(code, format!("{place} holds {} in plain text", leak.what()))
        .primary(span, leak.what())
        .help(help)
        .note(ROTATE)
}

/// E0601 or E0611 for a credential anywhere in a string.
fn in_string(diags: &mut Vec<Diagnostic>, text: &Spanned<String>, place: &str, help: &str) {
    if let Some(leak) = leaks::find(&text.value) {
        diags.push(found(text.span, place, leak, help));
    }
}

/// E0601 or E0611 for a credential in a command line.
fn in_command(diags: &mut Vec<Diagnostic>, text: &Spanned<String>, place: &str, help: &str) {
    if let Some(leak) = leaks::in_command(&text.value) {
        diags.push(found(text.span, place, leak, help));
    }
}

// ------------------------------------------------------------------ env --

/// Words that make an environment variable name a credential wherever they are in it.
const CREDENTIAL_ENV_WORDS: &[&str] =
    &["PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY", "CREDENTIAL", "ACCESS_KEY"];

/// Words that make an environment variable name a credential when they are a
/// whole word of it (`DB_PASS`, `MYSQL_PWD`, but not `BYPASS` or `PASSPORT`).
const CREDENTIAL_ENV_WHOLE_WORDS: &[&str] = &["PASS", "PWD", "PASSPHRASE", "PW"];

/// Last words of a variable name that make it point at a credential rather
/// than hold one (`DB_PASSWORD_FILE`, `TOKEN_URL`).
const REFERENCE_ENV_SUFFIXES: &[&str] = &["FILE", "PATH", "DIR", "URL", "URI", "ENDPOINT", "NAME", "REF", "TTL"];

/// E0601 or E0611 for `env "NAME" "literal"`.
fn plaintext_env(app: &App, diags: &mut Vec<Diagnostic>) {
    for (container, env) in app.containers().flat_map(|c| c.env.iter().map(move |e| (c, e))) {
        let EnvValue::Literal(literal) = &env.value else { continue };
        // Written only for a finding: every variable of every app comes here.
        let place = || format!("environment variable `{}` of {}", env.name.value, container_of(app, container));
        let help = || format!("declare a `secret` and use `env \"{}\" secret=\"...\" key=\"...\"`", env.name.value);
        if let Some(leak) = leaks::find(&literal.value) {
            diags.push(found(literal.span, &place(), leak, &help()));
        } else if env_name_is_credential(&env.name.value) && is_literal_secret(&literal.value) {
            diags.push(
                Diagnostic::new(Code::E0601, format!("{} holds a secret in plain text", place()))
                    .primary(literal.span, "a credential in plain text")
                    .help(help())
                    .note(ROTATE),
            );
        }
    }
}

/// Whether an environment variable name looks like it holds a credential.
fn env_name_is_credential(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper.split(['_', '-', '.']).filter(|w| !w.is_empty()).collect();
    let last = words.last().copied().unwrap_or_default();
    let named = CREDENTIAL_ENV_WORDS.iter().any(|w| upper.contains(w))
        || words.iter().any(|w| CREDENTIAL_ENV_WHOLE_WORDS.contains(w));
    named && !REFERENCE_ENV_SUFFIXES.contains(&last)
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

// --------------------------------------------------------- command lines --

/// E0601 or E0611 for a credential in an app's `command` or `args`: in one
/// item (`--db-password=…`), or in a flag and the item after it.
fn command_line(app: &App, diags: &mut Vec<Diagnostic>) {
    let lines = app.containers().flat_map(|c| [("command", c, &c.command), ("args", c, &c.args)]);
    for (what, container, items) in lines {
        // Written only for a finding: every container of every app comes here.
        let place = || format!("`{what}` of {}", container_of(app, container));
        let help = "pass it through an environment variable read from a `secret`: \
                    `env \"DB_PASSWORD\" secret=\"...\" key=\"...\"` and `--db-password=$(DB_PASSWORD)`";
        for (i, item) in items.iter().enumerate() {
            if let Some(leak) = leaks::in_command(&item.value) {
                diags.push(found(item.span, &place(), leak, help));
            } else if let Some(next) = items.get(i + 1)
                && leaks::in_command(&next.value).is_none()
                && leaks::in_command(&format!("{} {}", item.value, next.value)) == Some(Leak::PasswordFlag)
            {
                diags.push(found(next.span, &place(), Leak::PasswordFlag, help));
            }
        }
    }
}

// -------------------------------------------------------------- values --

/// E0601 or E0611 for credentials in a `values` tree.
fn plaintext_values(owner: &str, values: &Value, diags: &mut Vec<Diagnostic>) {
    let mut found_here = Vec::new();
    walk_values(values, "", false, &mut found_here);
    for (path, span, leak) in found_here {
        let place = format!("values key `{path}` of {owner}");
        diags.push(match leak {
            Some(leak) => {
                found(span, &place, leak, "declare a `secret` and point the chart at it, e.g. `existingSecret \"db\"`")
            }
            None => Diagnostic::new(Code::E0601, format!("{place} holds a secret in plain text"))
                .primary(span, "a credential in plain text")
                .help("declare a `secret` and point the chart at it, e.g. `existingSecret \"db\"`")
                .note(ROTATE),
        });
    }
}

/// One credential found in values: its dotted path, its span, and what it
/// looks like (`None` when its key names it a credential).
type Finding = (String, Span, Option<Leak>);

/// Collects every literal credential below `value`: scalars under keys named
/// like credentials, `value` of a `{name, value}` pair whose name is a
/// credential's (Helm's `extraEnv` lists), and strings that look like one.
/// `credential` says whether the key holding `value` is named like one.
fn walk_values(value: &Value, path: &str, credential: bool, out: &mut Vec<Finding>) {
    match &value.kind {
        ValueKind::Map(map) => {
            if let Some(finding) = env_pair(map, path) {
                out.push(finding);
                return;
            }
            for (key, (key_span, child)) in map {
                let child_path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                let kind = key_kind(key);
                let leak = string_leak(child);
                match kind {
                    KeyKind::Reference => {}
                    _ if leak.is_some() => out.push((child_path, *key_span, leak)),
                    KeyKind::Credential if is_literal_scalar(child) => out.push((child_path, *key_span, None)),
                    _ => walk_values(child, &child_path, kind == KeyKind::Credential, out),
                }
            }
        }
        ValueKind::List(items) => {
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                if let Some(leak) = string_leak(item) {
                    out.push((item_path, item.span, Some(leak)));
                } else if credential && is_literal_scalar(item) {
                    out.push((item_path, item.span, None));
                } else {
                    walk_values(item, &item_path, false, out);
                }
            }
        }
        _ => {}
    }
}

/// A `{name: DB_PASSWORD, value: hunter2}` mapping, read as an env.
fn env_pair(map: &std::collections::BTreeMap<String, (Span, Value)>, path: &str) -> Option<Finding> {
    let name = match &map.get("name")?.1.kind {
        ValueKind::String(name) => name,
        _ => return None,
    };
    let (span, value) = map.get("value")?;
    if !env_name_is_credential(name) || !is_literal_scalar(value) || string_leak(value).is_some() {
        return None;
    }
    Some((if path.is_empty() { "value".to_string() } else { format!("{path}.value") }, *span, None))
}

/// What a string value looks like, when it looks like a credential.
fn string_leak(value: &Value) -> Option<Leak> {
    match &value.kind {
        ValueKind::String(s) => leaks::find(s),
        _ => None,
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
    let credential_word = |x: &str| {
        matches!(
            x,
            "password" | "passwd" | "pass" | "pwd" | "token" | "secret" | "credential" | "credentials" | "apikey"
        )
    };
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

// ----------------------------------------------------------- manifests --

/// E0612 for a manifest that holds a plain Secret, a ConfigMap key holding a
/// credential, or a credential in any string of an object (SealedSecrets,
/// whose data is ciphertext, aside).
fn manifests(model: &Model, diags: &mut Vec<Diagnostic>) {
    for manifest in &model.manifests {
        let file = &manifest.path;
        for object in &manifest.objects {
            let named = match &object.namespace {
                Some(ns) => format!("{} `{ns}/{}`", object.kind, object.name),
                None => format!("{} `{}`", object.kind, object.name),
            };
            let refuse = |problem: String, help: &str| {
                Diagnostic::new(Code::E0612, format!("manifest `{}` holds {problem}", file.value))
                    .primary(file.span, format!("{named} is read from here"))
                    .help(help.to_string())
                    .note(ROTATE)
            };
            let value = &object.value;
            let has = |key: &str| value[key].as_object().is_some_and(|m| !m.is_empty());
            if object.api_version == "v1" && object.kind == "Secret" && (has("data") || has("stringData")) {
                diags.push(refuse(
                    format!("a plain Secret, {named}"),
                    "a Secret in Git is readable by everyone who can read the repository: declare a `secret` \
                     (`from=\"sops\"`, `\"sealed\"` or `\"external\"`) instead, and remove it from the manifest",
                ));
                continue;
            }
            if object.kind == "SealedSecret" {
                continue;
            }
            let credential_keys = (object.api_version == "v1" && object.kind == "ConfigMap")
                .then(|| value["data"].as_object())
                .flatten()
                .into_iter()
                .flatten()
                .filter(|(key, v)| key_kind(key) == KeyKind::Credential && v.as_str().is_some_and(is_literal_secret));
            if let Some((key, _)) = credential_keys.into_iter().next() {
                diags.push(refuse(
                    format!("a credential in key `data.{key}` of {named}"),
                    "a ConfigMap is not secret: move the value into a `secret` and mount or reference that",
                ));
                continue;
            }
            if let Some((path, leak)) = leaks::in_json(value) {
                diags.push(refuse(
                    format!("{} at `{path}` of {named}", leak.what()),
                    "keep credentials out of manifests: declare a `secret` and reference it from the object",
                ));
            }
        }
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

    /// Every message and label of a description's diagnostics, to prove no value is echoed.
    fn rendered(files: &[(&str, &str)]) -> String {
        let host = MemHost::with(files.iter().map(|(p, t)| (p.to_string(), t.to_string())));
        let checked = driver::check(&host, "homelab.kdl");
        crate::diag::render::render_all(&checked.diagnostics, &checked.sources, &Default::default())
            .lines()
            .filter(|l| !l.contains('│'))
            .collect::<Vec<_>>()
            .join("\n")
    }

    const APP: &str = r#"resources cpu="100m" memory="64Mi" cpu-limit="200m" memory-limit="128Mi"
        port "http" 8080"#;

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
    fn the_tester_s_leaks_are_all_found() {
        let app = |body: &str| {
            let text = format!(
                r#"homelab "lab"
                cluster "home" distribution="k3s"
                app "a" {{ {APP}
                    image "me/a" tag="1.0.0"
                    {body} }}"#
            );
            codes(&[("homelab.kdl", &text)])
        };
        assert_eq!(app(r#"env "DB_PASS" "hunter22""#), ["E0601"]);
        assert_eq!(app(r#"env "MYSQL_PWD" "hunter22""#), ["E0601"]);
        assert_eq!(app(r#"env "DATABASE_URL" "postgres://admin:hunter22@db:5432/app""#), ["E0611"]);
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(app(&format!(r#"env "AUTH_HEADER" "Bearer {jwt}""#)), ["E0601"]);
        assert_eq!(app(r#"args "--db-password=hunter22""#), ["E0601"]);
        assert_eq!(app(r#"args "--db-password" "hunter22""#), ["E0601"]);
        assert!(app(r#"args "--db-password=$(DB_PASSWORD)""#).is_empty());
        assert!(app(r#"env "BYPASS_CACHE" "yes-please""#).is_empty());
    }

    #[test]
    fn name_value_pairs_and_urls_in_values_are_credentials() {
        let chart = |values: &str| {
            let text = format!(
                r#"homelab "lab"
                chart "app" namespace="apps" repo="https://charts.example.com" chart="app" version="1.0.0" {{
                    values {{ {values} }}
                }}"#
            );
            codes(&[("homelab.kdl", &text)])
        };
        assert_eq!(chart(r#"extraEnv { - { name "DB_PASSWORD"; value "hunter22" } }"#), ["E0601"]);
        assert!(chart(r#"extraEnv { - { name "LOG_LEVEL"; value "debug" } }"#).is_empty());
        assert_eq!(chart(r#"database { url "postgres://admin:hunter22@db/app" }"#), ["E0611"]);
        let file = "extraEnv:\n  - name: API_TOKEN\n    value: hunter22\n";
        let text = r#"homelab "lab"
            chart "app" namespace="apps" repo="https://charts.example.com" chart="app" version="1.0.0" {
                values-file "values.yaml"
            }"#;
        assert_eq!(codes(&[("homelab.kdl", text), ("values.yaml", file)]), ["E0601"]);
    }

    #[test]
    fn repositories_steps_and_servers_keep_credentials_out() {
        let text = r#"homelab "lab"
            cluster "home" distribution="k3s" {
                gitops "flux" repo="https://me:hunter22@github.com/me/lab" branch="main" path="deploy"
            }
            chart "app" namespace="apps" repo="https://me:hunter22@charts.example.com" chart="app" version="1.0.0"
            pipeline "p" engine="drone" {
                source repo="https://me:hunter22@git.example.com/me/app" branch="main"
                step "push" image="docker:27.3.1" { run "docker login -u me -p hunter22 registry.example.com" }
            }"#;
        let found = codes(&[("homelab.kdl", text)]);
        assert_eq!(found.iter().filter(|c| *c == "E0611").count(), 3, "{found:?}");
        assert_eq!(found.iter().filter(|c| *c == "E0601").count(), 1, "{found:?}");
        assert!(!rendered(&[("homelab.kdl", text)]).contains("hunter22"));
    }

    #[test]
    fn manifests_hold_no_plain_secret_nor_credential() {
        let kdl = r#"homelab "lab"
            manifest "extra.yaml""#;
        let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: data\nstringData:\n  password: hunter22\n";
        assert_eq!(codes(&[("homelab.kdl", kdl), ("extra.yaml", secret)]), ["E0612"]);
        let config = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: data\ndata:\n  dbPassword: hunter22\n";
        assert_eq!(codes(&[("homelab.kdl", kdl), ("extra.yaml", config)]), ["E0612"]);
        let url = config.replace("dbPassword: hunter22", "dsn: postgres://a:hunter22@db/app");
        assert_eq!(codes(&[("homelab.kdl", kdl), ("extra.yaml", &url)]), ["E0612"]);
        let fine = config.replace("dbPassword: hunter22", "logLevel: debug");
        assert!(codes(&[("homelab.kdl", kdl), ("extra.yaml", &fine)]).is_empty());
        assert!(!rendered(&[("homelab.kdl", kdl), ("extra.yaml", secret)]).contains("hunter22"));
    }
}
