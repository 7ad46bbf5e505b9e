//! Checks on where secrets come from and who reads them: SOPS files only
//! where the GitOps agent decrypts them (E0606), a secret's type agreeing with
//! its file and its readers (E0607), the GitOps agent's own repository
//! credentials (E0608, E0201 in the agent's namespace), the credentials of
//! secret stores (E0201 in external-secrets' namespace), and store providers
//! homelabc cannot write (E0609).

use crate::diag::{Code, Diagnostic};
use crate::model::{
    Cluster, EXTERNAL_SECRETS_NAMESPACE, Gitops, GitopsEngine, Model, Name, Secret, SecretSource, SecretStore,
    SecretType, StoreProvider, Word,
};
use crate::source::{Span, Spanned};
use crate::suggest;

/// The checks of the whole description: the types of secret files and of
/// pull secrets, and the providers of stores.
pub fn whole(model: &Model, diags: &mut Vec<Diagnostic>) {
    for secret in &model.secrets {
        diags.extend(file_type(model, secret));
    }
    pull_secret_types(model, diags);
    for store in model.secret_stores.iter().filter(|s| s.provider.value == StoreProvider::Bitwarden) {
        diags.push(bitwarden(store));
    }
}

/// The checks of one cluster: its SOPS secrets, its GitOps agent's
/// credentials and its stores' credentials.
pub fn cluster(model: &Model, diags: &mut Vec<Diagnostic>) {
    let Some(cluster) = model.cluster_for(None) else { return };
    for secret in &model.secrets {
        if let SecretSource::Sops { file } = &secret.source {
            diags.extend(sops_decryption(cluster, secret, file));
        }
    }
    if let Some(gitops) = &cluster.gitops {
        diags.extend(gitops_credentials(model, cluster, gitops));
    }
    for store in &model.secret_stores {
        if let Some(auth) = &store.auth_secret {
            let ns = EXTERNAL_SECRETS_NAMESPACE;
            diags.extend(resolve_in(model, ns, auth, "external-secrets", || {
                format!(
                    "declare it where external-secrets reads it, usually made by hand: \
                     `secret \"{}\" namespace=\"{ns}\" from=\"existing\"`",
                    auth.value
                )
            }));
        }
    }
}

/// E0201 when `name` is not a secret of `namespace`, the only namespace
/// `reader` reads its credentials from; `declare` is the help line when no
/// secret of that namespace has a close name.
pub(super) fn resolve_in(
    model: &Model,
    namespace: &str,
    name: &Name,
    reader: &str,
    declare: impl FnOnce() -> String,
) -> Option<Diagnostic> {
    let decls: Vec<&Secret> = model.secrets.iter().filter(|s| s.name.value == name.value).collect();
    if decls.iter().any(|s| s.namespace.value == namespace) {
        return None;
    }
    let secret = &name.value;
    let label = format!("no secret named `{secret}` in namespace `{namespace}`");
    if decls.is_empty() {
        let here = model.secrets_in(namespace).iter().map(|s| s.name.value.as_str());
        let here: Vec<&str> = here.collect();
        let help =
            suggest::help_for(secret, &here, &format!("secrets of namespace `{namespace}`")).unwrap_or_else(declare);
        return Some(
            Diagnostic::new(Code::E0201, format!("unknown secret `{secret}`")).primary(name.span, label).help(help),
        );
    }
    let mut diag = Diagnostic::new(Code::E0201, format!("secret `{secret}` is not declared in namespace `{namespace}`"))
        .primary(name.span, label)
        .help(format!(
            "{reader} reads its credentials from namespace `{namespace}` only: declare `{secret}` with `namespace=\"{namespace}\"`"
        ));
    for other in decls {
        diag =
            diag.secondary(other.name.span, format!("`{secret}` is declared in namespace `{}`", other.namespace.value));
    }
    Some(diag)
}

// ---------------------------------------------------------------- E0606 --

/// E0606 for a SOPS secret in a cluster whose agent does not decrypt SOPS:
/// Argo CD, or no GitOps agent at all.
fn sops_decryption(cluster: &Cluster, secret: &Secret, file: &Spanned<String>) -> Option<Diagnostic> {
    let name = &secret.name.value;
    let diag = match &cluster.gitops {
        Some(gitops) if gitops.engine.value == GitopsEngine::Flux => return None,
        Some(gitops) => Diagnostic::new(
            Code::E0606,
            format!("secret `{name}` is a SOPS file, which Argo CD cannot decrypt"),
        )
        .primary(file.span, "SOPS-encrypted")
        .secondary(gitops.engine.span, "Argo CD applies this cluster's tree")
        .help("use `from=\"external\"` with a `secret-store`, or `from=\"sealed\"`: Argo CD cannot decrypt SOPS files"),
        None => Diagnostic::new(
            Code::E0606,
            format!("secret `{name}` is a SOPS file, but nothing in cluster `{}` decrypts it", cluster.name.value),
        )
        .primary(file.span, "SOPS-encrypted")
        .secondary(cluster.name.span, "no `gitops`: the tree is applied as it is")
        .help(
            "apply the tree with `gitops \"flux\"` (Flux decrypts SOPS files), or use `from=\"sealed\"`, or \
             `from=\"external\"` with a `secret-store`",
        ),
    };
    Some(diag.note(
        "Applied without decryption, the Secret would hold the ENC[...] text, or be refused for its `sops` field.",
    ))
}

// ---------------------------------------------------------------- E0607 --

/// The Kubernetes type of the Secret a SOPS or sealed file holds; `None` when
/// it cannot be read (E0602 reports unreadable files) or SOPS encrypted it.
fn file_secret_type(source: &SecretSource, text: &str) -> Option<String> {
    let docs = crate::yaml::parse_documents(text).ok()?;
    let found = match source {
        SecretSource::Sops { .. } => {
            let doc = docs.iter().find(|d| d["kind"] == "Secret")?;
            doc["type"].as_str().unwrap_or("Opaque")
        }
        SecretSource::Sealed { .. } => {
            let doc = docs.iter().find(|d| d["kind"] == "SealedSecret")?;
            doc["spec"]["template"]["type"].as_str().unwrap_or("Opaque")
        }
        SecretSource::External { .. } | SecretSource::Existing => return None,
    };
    (!found.starts_with("ENC[")).then(|| found.to_string())
}

/// E0607 for a SOPS or sealed file whose Secret type is not the declared one.
fn file_type(model: &Model, secret: &Secret) -> Option<Diagnostic> {
    let (SecretSource::Sops { file } | SecretSource::Sealed { file }) = &secret.source else { return None };
    let found = file_secret_type(&secret.source, model.attachments.get(&file.value)?)?;
    let declared = secret.secret_type.value;
    if found == declared.kubernetes_type() {
        return None;
    }
    let (where_, change) = match secret.source {
        SecretSource::Sealed { .. } => ("`spec.template.type`", "edit `spec.template.type` of the sealed file"),
        _ => ("`type`", "change the file's `type` with `sops edit`"),
    };
    let label = declared_label(secret);
    let help = match SecretType::from_kubernetes_type(&found) {
        Some(t) => format!(
            "declare the type the file holds with `type=\"{t}\"`, or {change} to `{}`",
            declared.kubernetes_type()
        ),
        None => format!(
            "`{found}` is none of the types a secret declares ({}): {change} to `{}`",
            type_words(),
            declared.kubernetes_type()
        ),
    };
    Some(
        Diagnostic::new(
            Code::E0607,
            format!(
                "secret `{}` is declared `{declared}` but its file holds a Secret of type `{found}`",
                secret.name.value
            ),
        )
        .primary(file.span, format!("its {where_} is `{found}`"))
        .secondary(label.0, label.1)
        .help(help),
    )
}

/// The label at a secret's `type=`, or at its name when it has none (the
/// default type is spanned at the declaration's keyword).
fn declared_label(secret: &Secret) -> (Span, String) {
    let declared = &secret.secret_type;
    if declared.span.start == secret.span.start {
        (secret.name.span, format!("declared without `type=`, so `{}`", declared.value))
    } else {
        (declared.span, format!("declared `{}` here", declared.value))
    }
}

/// `` `opaque`, `docker-config`, ... ``.
fn type_words() -> String {
    SecretType::all().iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
}

/// E0607 for a registry's `pull-secret` that is not `type="docker-config"`:
/// the kubelet only reads `kubernetes.io/dockerconfigjson` pull secrets.
fn pull_secret_types(model: &Model, diags: &mut Vec<Diagnostic>) {
    for registry in &model.registries {
        let Some(pull) = &registry.pull_secret else { continue };
        let wrong = model.secrets.iter().filter(|s| s.name.value == pull.value);
        for secret in wrong.filter(|s| s.secret_type.value != SecretType::DockerConfig) {
            let name = &secret.name.value;
            let (span, label) = declared_label(secret);
            diags.push(
                Diagnostic::new(Code::E0607, format!("pull secret `{name}` is not a `docker-config` secret"))
                    .primary(pull.span, format!("registry `{}` pulls with it", registry.name.value))
                    .secondary(span, label)
                    .help(format!(
                        "add `type=\"docker-config\"` to `secret \"{name}\"`: the kubelet only reads pull secrets of type \
                         `kubernetes.io/dockerconfigjson`"
                    )),
            );
        }
    }
}

// ---------------------------------------------------------------- E0608 --

/// The GitOps agent's name, for messages.
fn agent(engine: GitopsEngine) -> &'static str {
    match engine {
        GitopsEngine::Flux => "Flux",
        GitopsEngine::Argocd => "Argo CD",
    }
}

/// How the agent's repository secret is made, for help lines.
fn credentials_help(gitops: &Gitops, secret: &str) -> String {
    let ns = gitops.engine.value.namespace();
    match gitops.engine.value {
        GitopsEngine::Flux => format!(
            "create `{secret}` by hand before bootstrap (`flux create secret git {secret} --url=...`: keys `identity` and \
             `known_hosts` for SSH, `username` and `password` for HTTPS) and declare \
             `secret \"{secret}\" namespace=\"{ns}\" from=\"existing\"`"
        ),
        GitopsEngine::Argocd => format!(
            "create `{secret}` by hand before bootstrap as a repository secret (label \
             `argocd.argoproj.io/secret-type: repository`, keys `url` and `sshPrivateKey`, or `username` and `password`) \
             and declare `secret \"{secret}\" namespace=\"{ns}\" from=\"existing\"`"
        ),
    }
}

/// The checks of a cluster's `gitops secret=`: declared in the agent's
/// namespace (E0201), made by hand (E0608); and an SSH repository has one (E0608).
fn gitops_credentials(model: &Model, cluster: &Cluster, gitops: &Gitops) -> Option<Diagnostic> {
    let ns = gitops.engine.value.namespace();
    let who = agent(gitops.engine.value);
    let Some(name) = &gitops.secret else {
        return gitops.is_ssh().then(|| {
            Diagnostic::new(
                Code::E0608,
                format!("cluster `{}` reads its repository over SSH without credentials", cluster.name.value),
            )
            .primary(gitops.repo.span, "an SSH repository")
            .help(format!(
                "{who} needs a deploy key: name its secret with `secret=\"deploy-key\"`, made by hand before bootstrap \
                 and declared `secret \"deploy-key\" namespace=\"{ns}\" from=\"existing\"`"
            ))
        });
    };
    if let Some(unknown) = resolve_in(model, ns, name, who, || credentials_help(gitops, &name.value)) {
        return Some(unknown);
    }
    let secret = model.secrets.iter().find(|s| s.name.value == name.value && s.namespace.value == ns)?;
    if matches!(secret.source, SecretSource::Existing) {
        return None;
    }
    Some(
        Diagnostic::new(
            Code::E0608,
            format!("the repository credentials `{}` cannot come from the repository they unlock", name.value),
        )
        .primary(name.span, format!("{who} needs this secret to fetch the tree"))
        .secondary(secret.name.span, format!("declared `from=\"{}\"`", source_word(&secret.source)))
        .help(credentials_help(gitops, &name.value)),
    )
}

/// The `from=` word of a source.
fn source_word(source: &SecretSource) -> &'static str {
    match source {
        SecretSource::Sops { .. } => "sops",
        SecretSource::Sealed { .. } => "sealed",
        SecretSource::External { .. } => "external",
        SecretSource::Existing => "existing",
    }
}

// ---------------------------------------------------------------- E0609 --

/// E0609 for a Bitwarden store: external-secrets' Bitwarden Secrets Manager
/// provider needs an organization id, the bitwarden-sdk-server (a deployment
/// of the chart with its own TLS certificate) and that server's CA, which the
/// language does not describe yet.
fn bitwarden(store: &SecretStore) -> Diagnostic {
    Diagnostic::new(
        Code::E0609,
        format!("secret store `{}` uses Bitwarden, which homelabc cannot set up yet", store.name.value),
    )
    .primary(store.provider.span, "needs settings the language does not have yet")
    .help(
        "use a `vault`, `onepassword` or `kubernetes` store, or write the ClusterSecretStore and the \
             ExternalSecrets reading it in a `manifest`",
    )
    .note(
        "external-secrets' Bitwarden Secrets Manager provider needs an organization id, the bitwarden-sdk-server \
             enabled in the external-secrets chart with a TLS certificate of its own, and that certificate's CA.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_type_of_sops_and_sealed_files() {
        let file = Spanned::new(String::new(), Span::default());
        let sops = SecretSource::Sops { file: file.clone() };
        let sealed = SecretSource::Sealed { file };
        let secret =
            "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\ndata:\n  tls.crt: ENC[x]\nsops:\n  mac: ENC[y]\n";
        assert_eq!(file_secret_type(&sops, secret).as_deref(), Some("kubernetes.io/tls"));
        assert_eq!(
            file_secret_type(&sops, &secret.replace("type: kubernetes.io/tls\n", "")).as_deref(),
            Some("Opaque")
        );
        // A `type` SOPS encrypted says nothing.
        assert_eq!(file_secret_type(&sops, &secret.replace("kubernetes.io/tls", "ENC[AES256_GCM,data:x]")), None);
        let json = r#"{"apiVersion":"bitnami.com/v1alpha1","kind":"SealedSecret","spec":{"encryptedData":{},"template":{"type":"kubernetes.io/basic-auth"}}}"#;
        assert_eq!(file_secret_type(&sealed, json).as_deref(), Some("kubernetes.io/basic-auth"));
    }

    #[test]
    fn kubernetes_types_round_trip() {
        for t in SecretType::all() {
            assert_eq!(SecretType::from_kubernetes_type(t.kubernetes_type()), Some(*t));
        }
        assert_eq!(SecretType::from_kubernetes_type("kubernetes.io/ssh-auth"), None);
    }
}
