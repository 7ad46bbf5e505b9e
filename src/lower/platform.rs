//! Lowering of the platform services declarations: `secret-store` (an
//! external-secrets ClusterSecretStore) and `issuer` (a cert-manager
//! ClusterIssuer). What each provider or kind needs is checked here, where
//! the properties are at hand.

use super::reader::{Cx, Reader, Shape, Url};
use crate::diag::{Code, Diagnostic};
use crate::model::*;
use crate::syntax::tree;

pub(super) fn secret_store(cx: &mut Cx<'_>, node: &tree::Node) -> Option<SecretStore> {
    let r = Reader::open(
        cx,
        node,
        Shape {
            what: "secret-store",
            max_args: 1,
            props: &["provider", "server", "path", "auth-secret", "cluster"],
            children: &[],
        },
    );
    let name = r.name(cx);
    let provider = r.req_word_prop::<StoreProvider>(cx, "provider");
    let server = r.prop::<Url>(cx, "server").map(|u| u.map(|u| u.0));
    let path = r.prop::<String>(cx, "path");
    let auth_secret = r.opt_ref(cx, "auth-secret");
    let cluster = r.opt_ref(cx, "cluster");
    if let Some(provider) = &provider {
        // What each provider cannot work without.
        let (needs_server, needs_path, needs_auth) = match provider.value {
            StoreProvider::Vault => (true, false, true),
            StoreProvider::Onepassword => (true, true, true),
            StoreProvider::Bitwarden => (false, true, true),
            // Another cluster's API server needs a token; this cluster's is
            // read with a ServiceAccount the store's objects create.
            StoreProvider::Kubernetes => (false, true, server.is_some()),
        };
        let missing = [("server", needs_server && server.is_none()), ("path", needs_path && path.is_none())]
            .into_iter()
            .chain([("auth-secret", needs_auth && auth_secret.is_none())])
            .filter(|(_, missing)| *missing);
        for (key, _) in missing {
            cx.report(
                Diagnostic::new(Code::E0104, format!("a `{}` secret store needs `{key}=`", provider.value))
                    .primary(r.name_span(cx), format!("no `{key}=`"))
                    .help(store_help(provider.value, key)),
            );
        }
    }
    if let (Some(provider), Some(path)) = (&provider, &path)
        && provider.value == StoreProvider::Kubernetes
        && let Err(why) = check_rfc1123_label(&path.value)
    {
        cx.report(
            Diagnostic::new(Code::E0106, format!("invalid namespace `{}`: {why}", path.value))
                .primary(path.span, "not a namespace name")
                .help("a `kubernetes` store's `path=` is the namespace its secrets are read from"),
        );
    }
    Some(SecretStore { name: name?, provider: provider?, server, path, auth_secret, cluster, span: r.span(cx) })
}

/// What a missing property of a store means.
fn store_help(provider: StoreProvider, key: &str) -> String {
    match (provider, key) {
        (StoreProvider::Vault, "server") => {
            "give Vault's address, e.g. `server=\"https://vault.lab.example.com\"`".into()
        }
        (StoreProvider::Onepassword, "server") => {
            "give the 1Password Connect server's address, e.g. `server=\"http://onepassword-connect:8080\"`".into()
        }
        (StoreProvider::Onepassword, "path") => "name the 1Password vault to read, e.g. `path=\"homelab\"`".into(),
        (StoreProvider::Bitwarden, "path") => "give the Bitwarden Secrets Manager project id with `path=`".into(),
        (StoreProvider::Kubernetes, "path") => "name the namespace the secrets are read from with `path=`".into(),
        (StoreProvider::Kubernetes, "auth-secret") => format!(
            "a store reading another cluster's API server authenticates with a token: name a secret with keys \
             `token` and `ca.crt` (a service account token of that cluster), declared in namespace `{}`",
            crate::model::EXTERNAL_SECRETS_NAMESPACE
        ),
        (_, "auth-secret") => format!(
            "name the secret holding the store's credentials, declared in namespace `{}` (often with `from=\"existing\"`)",
            crate::model::EXTERNAL_SECRETS_NAMESPACE
        ),
        _ => format!("add `{key}=`"),
    }
}

pub(super) fn issuer(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Issuer> {
    let r = Reader::open(
        cx,
        node,
        Shape {
            what: "issuer",
            max_args: 1,
            props: &["kind", "email", "server", "solver", "provider", "token-secret", "secret", "cluster"],
            children: &[],
        },
    );
    let name = r.name(cx);
    let kind = r.req_word_prop::<IssuerKind>(cx, "kind");
    let email = r.prop::<String>(cx, "email");
    let server = r.prop::<Url>(cx, "server").map(|u| u.map(|u| u.0));
    let solver = r.word_prop::<AcmeSolver>(cx, "solver");
    let provider = r.word_prop::<DnsProvider>(cx, "provider");
    let token_secret = r.opt_ref(cx, "token-secret");
    let secret = r.opt_ref(cx, "secret");
    let cluster = r.opt_ref(cx, "cluster");
    let mut need = |key: &str, present: bool, help: String| {
        if !present {
            cx.report(
                Diagnostic::new(Code::E0104, format!("this issuer needs `{key}=`"))
                    .primary(r.name_span(cx), format!("no `{key}=`"))
                    .help(help),
            );
        }
    };
    match kind.as_ref().map(|k| k.value) {
        Some(IssuerKind::Acme) => {
            need(
                "email",
                email.is_some(),
                "ACME accounts have an email for expiry notices: `email=\"me@example.com\"`".into(),
            );
            need(
                "solver",
                solver.is_some(),
                "choose how names are proven: `solver=\"http01\"` or `solver=\"dns01\"`".into(),
            );
            if solver.as_ref().is_some_and(|s| s.value == AcmeSolver::Dns01) {
                need("provider", provider.is_some(), "name the DNS provider: `provider=\"cloudflare\"`".into());
                need(
                    "token-secret",
                    token_secret.is_some(),
                    format!(
                        "name the secret holding the provider's API token, declared in namespace `{}`",
                        crate::model::CERT_MANAGER_NAMESPACE
                    ),
                );
            }
        }
        Some(IssuerKind::Ca) => need(
            "secret",
            secret.is_some(),
            format!(
                "name the `type=\"tls\"` secret holding the CA's certificate and key, declared in namespace `{}`",
                crate::model::CERT_MANAGER_NAMESPACE
            ),
        ),
        Some(IssuerKind::SelfSigned) | None => {}
    }
    Some(Issuer {
        name: name?,
        kind: kind?,
        email,
        server,
        solver,
        provider,
        token_secret,
        secret,
        cluster,
        span: r.span(cx),
    })
}
