//! Secret stores: one external-secrets `ClusterSecretStore` per `secret-store`,
//! the store every ExternalSecret of the tree reads from.
//!
//! The stores sit in `configs/external-secrets`, not in the component's own
//! unit: they are custom resources of the CRDs the component's chart installs,
//! and an agent refuses a unit holding objects of kinds its API server does
//! not know yet (Flux's dry-run, Argo CD's sync), as MetalLB's pools do. The
//! graph's edge from each store to the component orders the units.
//!
//! Providers: Vault (KV v2, token auth), 1Password (a Connect server and its
//! token), and Kubernetes (secrets of another namespace: of this cluster with a
//! ServiceAccount the store gets here, with a Role reading secrets in that
//! namespace and nothing else; of another cluster with a token). The
//! credentials are the store's `auth-secret`, read under the key `token`
//! (and `ca.crt` for another cluster's API server). Bitwarden is refused by the
//! checks (E0609) and never reaches this backend.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding, RoleRef, Subject};
use serde::Serialize;

use super::secrets::EXTERNAL_SECRETS_API;
use super::{Artifacts, Custom, CustomKind, Origin, managed_labels, meta};
use crate::layout::{Folder, Unit};
use crate::model::{EXTERNAL_SECRETS_NAMESPACE, Model, SecretStore, StoreProvider};

/// The component whose CRDs the stores need.
pub const COMPONENT: &str = "external-secrets";

/// The key of the store's `auth-secret` that holds its token.
pub const TOKEN_KEY: &str = "token";

/// Emits every store, with the ServiceAccount and RBAC of a `kubernetes`
/// store reading this cluster.
pub fn emit(model: &Model, out: &mut Artifacts) {
    for store in &model.secret_stores {
        let Some(provider) = provider(store) else { continue };
        let origin = Origin::of(store.id(model));
        let unit = Unit::new(model.cluster_key(store.cluster.as_ref()), Folder::Configs(COMPONENT.into()));
        let metadata = meta(&store.name.value, None, managed_labels());
        out.object(&origin, &unit, Custom::new(metadata, ClusterSecretStore { spec: StoreSpec { provider } }));
        if let (Some(namespace), None) = (store.local_namespace(), &store.auth_secret) {
            reader(store, namespace, &origin, &unit, out);
        }
    }
}

/// The name of the ServiceAccount (and its Role) a `kubernetes` store reads
/// this cluster with.
pub fn account_name(store: &SecretStore) -> String {
    format!("secret-store-{}", store.name.value)
}

/// `ClusterSecretStore`: where ExternalSecrets of every namespace read from.
#[derive(Debug, Serialize)]
struct ClusterSecretStore {
    spec: StoreSpec,
}

impl CustomKind for ClusterSecretStore {
    const API_VERSION: &'static str = EXTERNAL_SECRETS_API;
    const KIND: &'static str = "ClusterSecretStore";
}

#[derive(Debug, Serialize)]
struct StoreSpec {
    provider: Provider,
}

/// The one provider of a store (the schema's `spec.provider.<name>`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "lowercase")]
enum Provider {
    Vault(Vault),
    Onepassword(OnePassword),
    Kubernetes(Kubernetes),
}

/// A key of a Secret of the external-secrets namespace.
#[derive(Debug, Serialize)]
struct SecretKeyRef {
    name: String,
    namespace: &'static str,
    key: &'static str,
}

impl SecretKeyRef {
    /// The key `key` of the secret `name`, in the external-secrets namespace.
    fn new(name: &str, key: &'static str) -> SecretKeyRef {
        SecretKeyRef { name: name.to_string(), namespace: EXTERNAL_SECRETS_NAMESPACE, key }
    }
}

/// HashiCorp Vault's KV engine, version 2.
#[derive(Debug, Serialize)]
struct Vault {
    server: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    version: &'static str,
    auth: VaultAuth,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct VaultAuth {
    token_secret_ref: SecretKeyRef,
}

/// 1Password through a Connect server.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OnePassword {
    connect_host: String,
    /// Vault name → search order.
    vaults: BTreeMap<String, u32>,
    auth: OnePasswordAuth,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OnePasswordAuth {
    secret_ref: ConnectToken,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ConnectToken {
    connect_token_secret_ref: SecretKeyRef,
}

/// Secrets of one namespace of a Kubernetes cluster.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Kubernetes {
    remote_namespace: String,
    server: KubernetesServer,
    auth: KubernetesAuth,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct KubernetesServer {
    /// Absent for this cluster (`kubernetes.default`).
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    ca_provider: CaProvider,
}

/// Where the API server's CA certificate is read from.
#[derive(Debug, Serialize)]
struct CaProvider {
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
    namespace: &'static str,
    key: &'static str,
}

/// Exactly one way to authenticate (the schema allows one property).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
enum KubernetesAuth {
    ServiceAccount(AccountRef),
    Token(BearerToken),
}

#[derive(Debug, Serialize)]
struct AccountRef {
    name: String,
    namespace: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct BearerToken {
    bearer_token: SecretKeyRef,
}

/// The provider section of a store; `None` for Bitwarden (refused by the
/// checks) or when lowering already reported a missing property.
fn provider(store: &SecretStore) -> Option<Provider> {
    let server = store.server.as_ref().map(|s| s.value.clone());
    let path = store.path.as_ref().map(|p| p.value.clone());
    let token = || store.auth_secret.as_ref().map(|a| SecretKeyRef::new(&a.value, TOKEN_KEY));
    match store.provider.value {
        StoreProvider::Vault => Some(Provider::Vault(Vault {
            server: server?,
            path,
            version: "v2",
            auth: VaultAuth { token_secret_ref: token()? },
        })),
        StoreProvider::Onepassword => Some(Provider::Onepassword(OnePassword {
            connect_host: server?,
            vaults: [(path?, 1)].into_iter().collect(),
            auth: OnePasswordAuth { secret_ref: ConnectToken { connect_token_secret_ref: token()? } },
        })),
        StoreProvider::Kubernetes => Some(Provider::Kubernetes(kubernetes(store, server, path?))),
        StoreProvider::Bitwarden => None,
    }
}

/// A `kubernetes` provider: this cluster (its CA from the `kube-root-ca.crt`
/// ConfigMap every namespace has, the store's own ServiceAccount unless an
/// `auth-secret` is named), or another cluster's API server (CA and token from
/// the `auth-secret`).
fn kubernetes(store: &SecretStore, url: Option<String>, remote_namespace: String) -> Kubernetes {
    let ca_provider = match (&url, &store.auth_secret) {
        (Some(_), Some(auth)) => CaProvider {
            kind: "Secret",
            name: auth.value.clone(),
            namespace: EXTERNAL_SECRETS_NAMESPACE,
            key: "ca.crt",
        },
        _ => CaProvider {
            kind: "ConfigMap",
            name: "kube-root-ca.crt".into(),
            namespace: EXTERNAL_SECRETS_NAMESPACE,
            key: "ca.crt",
        },
    };
    let auth = match &store.auth_secret {
        Some(auth) => KubernetesAuth::Token(BearerToken { bearer_token: SecretKeyRef::new(&auth.value, TOKEN_KEY) }),
        None => KubernetesAuth::ServiceAccount(AccountRef {
            name: account_name(store),
            namespace: EXTERNAL_SECRETS_NAMESPACE,
        }),
    };
    Kubernetes { remote_namespace, server: KubernetesServer { url, ca_provider }, auth }
}

/// The ServiceAccount a `kubernetes` store reads this cluster with, and a
/// Role (with its binding) that lets it read the secrets of `namespace` only.
fn reader(store: &SecretStore, namespace: &str, origin: &Origin, unit: &Unit, out: &mut Artifacts) {
    let name = account_name(store);
    // external-secrets asks the API server for the account's tokens itself
    // (TokenRequest): no pod mounts one.
    let account = ServiceAccount {
        metadata: meta(&name, Some(EXTERNAL_SECRETS_NAMESPACE), managed_labels()),
        automount_service_account_token: Some(false),
        ..ServiceAccount::default()
    };
    out.object(origin, unit, account);
    let role = Role {
        metadata: meta(&name, Some(namespace), managed_labels()),
        rules: Some(vec![super::policy_rule("", &["secrets"], &["get", "list", "watch"])]),
    };
    out.object(origin, unit, role);
    let binding = RoleBinding {
        metadata: meta(&name, Some(namespace), managed_labels()),
        role_ref: RoleRef { api_group: "rbac.authorization.k8s.io".into(), kind: "Role".into(), name: name.clone() },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name,
            namespace: Some(EXTERNAL_SECRETS_NAMESPACE.into()),
            ..Subject::default()
        }]),
    };
    out.object(origin, unit, binding);
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::driver;
    use crate::host::MemHost;

    /// The built tree of a one-cluster description with these declarations.
    fn tree(body: &str) -> crate::output::OutputTree {
        let text = format!(
            "homelab \"lab\"\ncluster \"home\" distribution=\"k3s\" {{ gitops \"flux\" repo=\"https://github.com/me/lab\" }}\n\
             secret \"store-token\" namespace=\"external-secrets\" from=\"existing\"\n{body}"
        );
        let built = driver::build(&MemHost::with([("homelab.kdl", text)]), "homelab.kdl");
        let errors: Vec<_> = built.checked.diagnostics.iter().filter(|d| d.is_error()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        built.tree.expect("no errors").expect("layout")
    }

    /// The one object of a file of the tree.
    fn object(tree: &crate::output::OutputTree, path: &str) -> Value {
        let bytes = tree.get(path).unwrap_or_else(|| panic!("{path} is missing"));
        let docs = crate::yaml::parse_documents(std::str::from_utf8(bytes).expect("utf-8")).expect("yaml");
        docs.into_iter().next().expect("one object")
    }

    #[test]
    fn a_vault_store_reads_kv_v2_with_its_token() {
        let tree = tree(
            "secret-store \"vault\" provider=\"vault\" server=\"https://vault.lab\" path=\"secret\" auth-secret=\"store-token\"\n",
        );
        let store = object(&tree, "configs/external-secrets/clustersecretstore-vault.yaml");
        assert_eq!(
            (&store["apiVersion"], &store["kind"]),
            (&json!("external-secrets.io/v1"), &json!("ClusterSecretStore"))
        );
        let vault = &store["spec"]["provider"]["vault"];
        assert_eq!(vault["server"], "https://vault.lab");
        assert_eq!((&vault["path"], &vault["version"]), (&json!("secret"), &json!("v2")));
        let token = json!({ "name": "store-token", "namespace": "external-secrets", "key": "token" });
        assert_eq!(vault["auth"]["tokenSecretRef"], token);
    }

    #[test]
    fn a_onepassword_store_searches_its_vault() {
        let tree = tree(
            "secret-store \"op\" provider=\"onepassword\" server=\"http://connect:8080\" path=\"homelab\" auth-secret=\"store-token\"\n",
        );
        let op =
            &object(&tree, "configs/external-secrets/clustersecretstore-op.yaml")["spec"]["provider"]["onepassword"];
        assert_eq!(op["connectHost"], "http://connect:8080");
        assert_eq!(op["vaults"], json!({ "homelab": 1 }));
        assert_eq!(op["auth"]["secretRef"]["connectTokenSecretRef"]["name"], "store-token");
    }

    #[test]
    fn a_kubernetes_store_of_this_cluster_reads_one_namespace_with_its_own_account() {
        let tree = tree("secret-store \"mirror\" provider=\"kubernetes\" path=\"vault-copies\"\n");
        let store = object(&tree, "configs/external-secrets/clustersecretstore-mirror.yaml");
        let kube = &store["spec"]["provider"]["kubernetes"];
        assert_eq!(kube["remoteNamespace"], "vault-copies");
        assert_eq!(
            kube["auth"],
            json!({ "serviceAccount": { "name": "secret-store-mirror", "namespace": "external-secrets" } })
        );
        let ca = json!({ "type": "ConfigMap", "name": "kube-root-ca.crt", "namespace": "external-secrets", "key": "ca.crt" });
        assert_eq!(kube["server"], json!({ "caProvider": ca }));
        let role = object(&tree, "configs/external-secrets/role-secret-store-mirror.yaml");
        assert_eq!(role["metadata"]["namespace"], "vault-copies");
        let rule = json!({ "apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"] });
        assert_eq!(role["rules"], json!([rule]));
        let binding = object(&tree, "configs/external-secrets/rolebinding-secret-store-mirror.yaml");
        let subject =
            json!({ "kind": "ServiceAccount", "name": "secret-store-mirror", "namespace": "external-secrets" });
        assert_eq!(binding["subjects"], json!([subject]));
        let account = object(&tree, "configs/external-secrets/serviceaccount-secret-store-mirror.yaml");
        assert_eq!(account["metadata"]["namespace"], "external-secrets");
        // The namespace it reads exists.
        assert!(tree.get("apps/vault-copies/namespace-vault-copies.yaml").is_some());
    }

    #[test]
    fn a_kubernetes_store_of_another_cluster_uses_the_token_and_its_ca() {
        let tree = tree(
            "secret-store \"far\" provider=\"kubernetes\" server=\"https://10.0.0.9:6443\" path=\"shared\" auth-secret=\"store-token\"\n",
        );
        let kube =
            &object(&tree, "configs/external-secrets/clustersecretstore-far.yaml")["spec"]["provider"]["kubernetes"];
        assert_eq!(kube["auth"]["token"]["bearerToken"]["name"], "store-token");
        assert_eq!(kube["server"]["url"], "https://10.0.0.9:6443");
        let ca = json!({ "type": "Secret", "name": "store-token", "namespace": "external-secrets", "key": "ca.crt" });
        assert_eq!(kube["server"]["caProvider"], ca);
        assert!(tree.get("configs/external-secrets/role-secret-store-far.yaml").is_none());
        assert!(tree.get("apps/shared/namespace-shared.yaml").is_none());
    }
}
